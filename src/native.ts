// Loads the native binding through the loader napi-rs generates (it picks the binary for this
// platform: a local build, or the matching `watchfiles-node-<platform>` package).
import { createRequire } from 'node:module'
import type * as Binding from '../native/index.cjs'

export type { NativeEvent, NativeOptions, NativeWatcher, NativeError } from '../native/index.cjs'

const require = createRequire(import.meta.url)

export const native: typeof Binding = require('../native/index.cjs')
