import type { FileChange } from './changes.js'
import { DefaultFilter } from './filters.js'
import type { NativeOptions } from './native.js'

export interface WatchOptions {
  /** Watch folders below the given ones too. Default `true`. */
  recursive?: boolean
  /** Longest time in ms a batch may keep growing. Default 1600. */
  debounce?: number
  /** Quiet period in ms that ends a batch. Default 50; 0 delivers as soon as the OS reports. */
  step?: number
  /** More paths or globs to ignore, pruned in Rust (never walked or watched). A glob without `/`
   *  matches names at any depth (`dist`, `*.log`); one with `/` matches the path relative to the
   *  watched root (`build/**`); an absolute path ignores everything below it. */
  ignore?: string[]
  /** Ignore the usual noise (`.git`, `node_modules`, caches, editor temp files). Default `true`. */
  defaultIgnore?: boolean
  /** Honour `.gitignore` files at every level (inside a git repository), `.ignore` files,
   *  `.git/info/exclude` and the global `core.excludesFile`, pruned in Rust. Editing an ignore
   *  file takes effect at once. Default `false` (a build tool may watch its own output on
   *  purpose); the CLI turns it on. */
  gitignore?: boolean
  /** Report only files with these extensions (`['ts', 'js']`); folders are still walked. */
  extensions?: string[]
  /** Report only paths matching these globs or paths (same syntax as `ignore`); folders are
   *  still walked. */
  include?: string[]
  /** A function called for each change of a batch, or a `DefaultFilter`/`SourceFilter` (whose
   *  rules run in Rust). */
  filter?: ((change: FileChange) => boolean) | DefaultFilter
  /** Poll instead of using OS events. Default: `WATCHFILES_FORCE_POLLING`, else automatic (WSL's
   *  Windows drives). */
  forcePolling?: boolean
  /** Time between polls in ms. Default 300 (or `WATCHFILES_POLL_DELAY_MS`). */
  pollInterval?: number
  /** Skip unreadable folders with a warning instead of failing. Default `false`. */
  ignorePermissionDenied?: boolean
  /** Walk into symlinked folders. Default `false`. */
  followSymlinks?: boolean
  /** When the OS watch limit is reached: `'poll'` what could not be watched (default, with one
   *  warning) or fail with `ERR_WATCH_LIMIT`. */
  onWatchLimit?: 'poll' | 'error'
  /** Keep the process alive while watching. Default `true`. */
  persistent?: boolean
  /** Closes the watcher when aborted. */
  signal?: AbortSignal
  /** Receives errors met while watching and errors thrown by your callback or filter. Default:
   *  a process warning. */
  onError?: (error: Error) => void
}

const BOOLEANS = ['recursive', 'defaultIgnore', 'gitignore', 'forcePolling', 'ignorePermissionDenied', 'followSymlinks', 'persistent'] as const
const DURATIONS = ['debounce', 'step', 'pollInterval'] as const
const STRING_LISTS = ['ignore', 'extensions', 'include'] as const
const KNOWN = new Set<string>([...BOOLEANS, ...DURATIONS, ...STRING_LISTS, 'filter', 'onWatchLimit', 'signal', 'onError'])

/** Names of every watch option, for callers that pass some of their own options along. */
export const WATCH_OPTION_NAMES: ReadonlySet<string> = KNOWN

export interface ResolvedWatch {
  paths: string[]
  native: NativeOptions
  filter?: (change: FileChange) => boolean
  persistent: boolean
  signal?: AbortSignal
  onError?: (error: Error) => void
}

/** Checks every argument and option, throwing a `TypeError` or `RangeError` that names it. */
export function resolveWatchArgs(paths: unknown, options: unknown): ResolvedWatch {
  const list = typeof paths === 'string' ? [paths] : paths
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('paths must be a path or a non-empty array of paths')
  }
  list.forEach((p, i) => {
    if (typeof p !== 'string' || p === '') {
      throw new TypeError(`paths[${i}] must be a non-empty string, got ${describe(p)}`)
    }
  })
  if (options === undefined) options = {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describe(options)}`)
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new TypeError(`unknown option \`${key}\``)
  }
  for (const key of BOOLEANS) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') {
      throw new TypeError(`option \`${key}\` must be a boolean, got ${describe(o[key])}`)
    }
  }
  for (const key of DURATIONS) {
    const value = o[key]
    if (value === undefined) continue
    if (typeof value !== 'number') throw new TypeError(`option \`${key}\` must be a number of milliseconds, got ${describe(value)}`)
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`option \`${key}\` must be a finite number >= 0, got ${value}`)
    if (key === 'pollInterval' && value === 0) throw new RangeError('option `pollInterval` must be greater than 0')
  }
  for (const key of STRING_LISTS) {
    const value = o[key]
    if (value === undefined) continue
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
      throw new TypeError(`option \`${key}\` must be an array of non-empty strings, got ${describe(value)}`)
    }
  }
  if (o.onWatchLimit !== undefined && o.onWatchLimit !== 'poll' && o.onWatchLimit !== 'error') {
    throw new TypeError(`option \`onWatchLimit\` must be 'poll' or 'error', got ${describe(o.onWatchLimit)}`)
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`option \`signal\` must be an AbortSignal, got ${describe(o.signal)}`)
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw new TypeError(`option \`onError\` must be a function, got ${describe(o.onError)}`)
  }
  const filter = o.filter
  if (filter !== undefined && typeof filter !== 'function' && !(filter instanceof DefaultFilter)) {
    throw new TypeError(`option \`filter\` must be a function, a DefaultFilter or a SourceFilter, got ${describe(filter)}`)
  }

  const opts = o as WatchOptions
  const nativeOptions: NativeOptions = {
    recursive: opts.recursive,
    step: opts.step,
    debounce: opts.debounce,
    defaultIgnore: opts.defaultIgnore,
    gitignore: opts.gitignore,
    ignore: opts.ignore ? [...opts.ignore] : undefined,
    extensions: opts.extensions ? [...opts.extensions] : undefined,
    include: opts.include ? [...opts.include] : undefined,
    forcePolling: opts.forcePolling,
    pollInterval: opts.pollInterval,
    ignorePermissionDenied: opts.ignorePermissionDenied,
    followSymlinks: opts.followSymlinks,
    onWatchLimit: opts.onWatchLimit,
  }
  if (filter instanceof DefaultFilter) {
    const rules = filter.toNative()
    nativeOptions.defaultIgnore = rules.defaultIgnore
    nativeOptions.ignore = [...rules.ignore, ...(nativeOptions.ignore ?? [])]
    if (rules.extensions) nativeOptions.extensions = [...rules.extensions, ...(nativeOptions.extensions ?? [])]
  }
  const resolved: ResolvedWatch = {
    paths: list as string[],
    native: nativeOptions,
    persistent: opts.persistent ?? true,
  }
  if (typeof filter === 'function') resolved.filter = filter as (change: FileChange) => boolean
  if (opts.signal) resolved.signal = opts.signal
  if (opts.onError) resolved.onError = opts.onError
  return resolved
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
