// One adapter per Node.js watcher: `start(root, options, onPaths)` resolves once the watcher is
// ready (its own notion of ready, or the closest thing it has) with `{ close }`. `onPaths` is
// called with absolute paths as soon as the library hands them to JavaScript.
//
// Each peer is configured as a user who wants node_modules ignored would configure it: the
// best equivalent of watchfiles-node's `defaultIgnore` that the peer offers. RESULTS.md says which.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { BENCH_DIR, REPO_DIR } from '../lib/util.mjs'

const requirePeer = createRequire(path.join(BENCH_DIR, 'package.json'))
/** A peer's installed version, read from its package.json (not every package exports it). */
const peerVersion = (name) =>
  JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version
const NODE_MODULES = /(^|[/\\])node_modules([/\\]|$)/

/** What each adapter uses to ignore node_modules, for RESULTS.md. */
export const IGNORE_CONFIG = {
  ours: '`defaultIgnore: true` (the default): node_modules is never walked or watched',
  parcel: "`ignore: ['**/node_modules']` (a glob, matched by the native crawler)",
  chokidar: '`ignored: (p) => /(^|\\/)node_modules(\\/|$)/.test(p)` and `ignoreInitial: true`',
  watchpack: "`ignored: '**/node_modules'`",
  fswatch: 'none: `fs.watch` has no ignore option on Node 20',
  python: 'none that prunes: `DefaultFilter` (what `watchfiles.watch()` uses) filters events after notify has watched every folder',
}

export const adapters = {
  async ours() {
    const mod = await import(pathToFileURL(path.join(REPO_DIR, 'dist', 'index.js')).href)
    return {
      version: JSON.parse(fs.readFileSync(path.join(REPO_DIR, 'package.json'), 'utf8')).version,
      async start(root, options, onPaths) {
        const sub = await mod.subscribe(root, (changes) => onPaths(changes.map((c) => c.path)), options)
        return { close: () => sub.close(), backend: sub.backend }
      },
    }
  },

  async parcel() {
    const watcher = requirePeer('@parcel/watcher')
    return {
      version: peerVersion('@parcel/watcher'),
      async start(root, options, onPaths) {
        const sub = await watcher.subscribe(
          root,
          (err, events) => {
            if (!err) onPaths(events.map((e) => e.path))
          },
          { ignore: ['**/node_modules'], ...options },
        )
        return { close: () => sub.unsubscribe() }
      },
    }
  },

  async chokidar() {
    const { watch } = await import(pathToFileURL(requirePeer.resolve('chokidar')).href)
    return {
      version: peerVersion('chokidar'),
      async start(root, options, onPaths) {
        const w = watch(root, { ignored: (p) => NODE_MODULES.test(p), ignoreInitial: true, ...options })
        w.on('all', (_event, p) => onPaths([p]))
        await new Promise((resolve, reject) => {
          w.once('ready', resolve)
          w.once('error', reject)
        })
        return { close: () => w.close() }
      },
    }
  },

  async watchpack() {
    const Watchpack = requirePeer('watchpack')
    return {
      version: peerVersion('watchpack'),
      async start(root, options, onPaths) {
        const wp = new Watchpack({ ignored: '**/node_modules', ...options })
        wp.on('change', (file) => onPaths([file]))
        wp.on('remove', (file) => onPaths([file]))
        wp.watch({ files: [], directories: [root], missing: [], startTime: Date.now() })
        // Watchpack has no ready event: it is ready once every folder's watcher has finished
        // its initial scan (nested watchers are created by their parent's scan, so when all
        // are done no more appear). Checked every millisecond.
        const manager = wp.watcherManager
        await new Promise((resolve) => {
          const check = () => {
            let done = manager.directoryWatchers.size > 0
            for (const dw of manager.directoryWatchers.values()) {
              if (dw.initialScan || dw.scanning) {
                done = false
                break
              }
            }
            if (done) resolve()
            else setTimeout(check, 1)
          }
          check()
        })
        return { close: () => wp.close() }
      },
    }
  },

  async fswatch() {
    return {
      version: process.version,
      async start(root, options, onPaths) {
        // On Linux, Node 20 implements `recursive` in JavaScript: it walks the tree synchronously
        // inside this call, so it is ready when it returns.
        const w = fs.watch(root, { recursive: true, ...options }, (_type, filename) => {
          if (filename) onPaths([path.join(root, filename.toString())])
        })
        w.on('error', () => {})
        return { close: () => w.close() }
      },
    }
  },
}
