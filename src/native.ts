// Loads the native binding through the loader napi-rs generates (it picks the binary for this
// platform: a local build in native/, or the matching `watchfiles-node-<platform>` package that npm
// installed from `optionalDependencies`). When none loads, the error names the package to install.
import { createRequire } from 'node:module'
import type * as Binding from '../native/index.cjs'
import { isMusl, missingBindingMessage, platformSuffix } from './platform.js'

export type { NativeEvent, NativeOptions, NativeWatcher, NativeError } from '../native/index.cjs'

const require = createRequire(import.meta.url)

function load(): typeof Binding {
  try {
    return require('../native/index.cjs') as typeof Binding
  } catch (cause) {
    const pkg = require('../package.json') as { name: string; optionalDependencies?: Record<string, string> }
    const packageName = `${pkg.name}-${platformSuffix(process.platform, process.arch, isMusl())}`
    let installed = true
    try {
      require.resolve(`${packageName}/package.json`)
    } catch {
      installed = false
    }
    // The loader chains one error per candidate it tried; the telling one is a load failure
    // (e.g. a too old glibc), not one of the "Cannot find module" of the candidates absent here.
    let reason: string | undefined
    for (let e = (cause as Error).cause as Error | undefined; e && !reason; e = e.cause as Error | undefined) {
      if (!e.message.startsWith('Cannot find module')) reason = e.message
    }
    const supported = Object.hasOwn(pkg.optionalDependencies ?? {}, packageName)
    throw new Error(missingBindingMessage({ packageName, supported, installed, reason }), { cause })
  }
}

export const native: typeof Binding = load()
