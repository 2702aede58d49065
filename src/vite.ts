// A Vite plugin that makes the dev server watch files with watchfiles-node instead of chokidar.
//
// Vite bundles chokidar into its own dist (it is not a dependency of the `vite` package), so a
// package-manager override cannot replace it. This plugin uses Vite's own hooks instead:
// - `config`: adds an ignore-everything function to `server.watch.ignored`, so the chokidar watcher
//   Vite creates lists nothing and holds no OS watch (Vite keeps `server.watch` non-null, so its
//   resolver cache stays on);
// - `configureServer`: starts a watchfiles-node `FSWatcher` on what Vite watches (the root, config
//   file dependencies, `.env` files, the public folder) with Vite's resolved chokidar options, and
//   re-emits its events on `server.watcher`, whose `add`/`unwatch`/`getWatched`/`close` it serves.
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { FSWatcher, type ChokidarOptions, type Matcher } from './chokidar.js'

/** The parts of Vite's `server.watcher` (a chokidar 3 `FSWatcher`) this plugin uses. */
export interface ViteWatcherLike extends EventEmitter {
  options?: Record<string, unknown>
  add(paths: string | readonly string[]): unknown
  unwatch(paths: string | readonly string[]): unknown
  getWatched(): Record<string, string[]>
  close(): Promise<void>
}

/** The parts of Vite's dev server this plugin uses. */
export interface ViteDevServerLike {
  config: {
    root: string
    mode: string
    envDir?: string | false
    publicDir?: string | false
    configFileDependencies?: string[]
    experimental?: { bundledDev?: boolean }
  }
  watcher: ViteWatcherLike
}

/** A Vite plugin object (only the hooks used here). */
export interface WatchfilesVitePlugin {
  name: string
  apply: 'serve'
  config(config: { server?: { watch?: Record<string, unknown> | null } }): void
  configureServer(server: ViteDevServerLike): void
}

export interface WatchfilesViteOptions {
  /** Called with the watchfiles-node watcher once it is created (it emits `ready` when watching). */
  onWatcher?: (watcher: FSWatcher) => void
}

const IGNORE_EVERYTHING = Object.defineProperty((): boolean => true, 'name', { value: 'watchfilesNodeTakesOver' })

/** chokidar options carried over from Vite's resolved `server.watch`. */
const CARRIED = [
  'persistent',
  'followSymlinks',
  'cwd',
  'usePolling',
  'interval',
  'binaryInterval',
  'alwaysStat',
  'depth',
  'awaitWriteFinish',
  'ignorePermissionErrors',
  'atomic',
] as const

const toArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/**
 * Watches the Vite dev server's files with watchfiles-node:
 *
 * ```ts
 * // vite.config.ts
 * import { watchfiles } from 'watchfiles-node/vite'
 * export default { plugins: [watchfiles()] }
 * ```
 */
export function watchfiles(options: WatchfilesViteOptions = {}): WatchfilesVitePlugin {
  let takesOver = false
  return {
    name: 'watchfiles-node',
    apply: 'serve',
    config(config) {
      const server = (config.server ??= {})
      if (server.watch === null) return // the user turned watching off
      takesOver = true
      const watch = server.watch ?? {}
      server.watch = { ...watch, ignored: [...toArray(watch.ignored as Matcher | Matcher[] | undefined), IGNORE_EVERYTHING] }
    },
    configureServer(server) {
      if (!takesOver) return
      const viteWatcher = server.watcher
      const resolved = viteWatcher.options ?? {}
      const watchOptions: ChokidarOptions = { ignoreInitial: true }
      for (const key of CARRIED) {
        if (resolved[key] !== undefined) (watchOptions as Record<string, unknown>)[key] = resolved[key]
      }
      watchOptions.ignored = toArray(resolved.ignored as Matcher | Matcher[] | undefined).filter((m) => m !== IGNORE_EVERYTHING)
      const ours = new FSWatcher(watchOptions)
      options.onWatcher?.(ours)

      // Vite's chokidar watcher lists nothing; its own `ready` is not the one that counts.
      const emit = EventEmitter.prototype.emit
      viteWatcher.emit = function (this: ViteWatcherLike, event: string | symbol, ...args: unknown[]): boolean {
        return event === 'ready' ? false : emit.call(this, event, ...args)
      }
      ours.on('all', (event, file, stats) => {
        if (stats) {
          emit.call(viteWatcher, event, file, stats)
          emit.call(viteWatcher, 'all', event, file, stats)
        } else {
          emit.call(viteWatcher, event, file)
          emit.call(viteWatcher, 'all', event, file)
        }
      })
      ours.on('raw', (...args) => emit.call(viteWatcher, 'raw', ...args))
      ours.on('error', (error) => emit.call(viteWatcher, 'error', error))
      ours.on('ready', () => emit.call(viteWatcher, 'ready'))

      let closed = false
      const closeVite = viteWatcher.close.bind(viteWatcher)
      viteWatcher.add = (paths) => {
        if (!closed) ours.add(paths)
        return viteWatcher
      }
      viteWatcher.unwatch = (paths) => {
        ours.unwatch(paths)
        return viteWatcher
      }
      viteWatcher.getWatched = () => ours.getWatched()
      viteWatcher.close = async () => {
        closed = true
        await Promise.all([ours.close(), closeVite()])
      }

      const { config } = server
      const paths = config.experimental?.bundledDev ? [] : [config.root]
      paths.push(...(config.configFileDependencies ?? []))
      if (config.envDir !== false) {
        const envDir = config.envDir ?? config.root
        for (const name of ['.env', '.env.local', `.env.${config.mode}`, `.env.${config.mode}.local`]) {
          paths.push(path.join(envDir, name))
        }
      }
      if (config.publicDir) paths.push(config.publicDir)
      ours.add(paths)
    },
  }
}

export default watchfiles
