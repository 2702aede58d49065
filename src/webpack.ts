// A webpack 5 plugin that replaces the compiler's `watchFileSystem` (watchpack) with
// watchfiles-node. The interfaces below are the minimal local shapes of webpack's
// `WatchFileSystem` (lib/util/fs.js) and `NodeWatchFileSystem`: webpack is not a dependency.
import fs from 'node:fs'
import path from 'node:path'
import type { FileChange } from './changes.js'
import { globToRegExp, nativeIgnoreFor } from './glob.js'
import { subscribe, type Subscription } from './watch.js'

/** `{ safeTime, timestamp }` as webpack's FileSystemInfo keeps it; `null` for a missing path. */
export interface TimeInfoEntry {
  safeTime: number
  timestamp?: number
  accuracy?: number
}
export type TimeInfoEntries = Map<string, TimeInfoEntry | 'ignore' | null>

export type WebpackIgnored = string | RegExp | readonly string[] | ((item: string) => boolean)

/** webpack's `watchOptions` as it passes them to `watchFileSystem.watch`. */
export interface WebpackWatchOptions {
  aggregateTimeout?: number
  ignored?: WebpackIgnored
  poll?: number | boolean
  followSymlinks?: boolean
  stdin?: boolean
}

export type WatchCallback = (
  error: Error | null,
  fileTimeInfoEntries?: TimeInfoEntries,
  contextTimeInfoEntries?: TimeInfoEntries,
  changedFiles?: Set<string>,
  removedFiles?: Set<string>,
) => void

export interface WatchInfo {
  changes: Set<string>
  removals: Set<string>
  fileTimeInfoEntries: TimeInfoEntries
  contextTimeInfoEntries: TimeInfoEntries
}

/** What `watchFileSystem.watch` returns to webpack's `Watching`. */
export interface WebpackWatcher {
  close(): void
  pause(): void
  getInfo(): WatchInfo
  getAggregatedChanges(): Set<string>
  getAggregatedRemovals(): Set<string>
  getFileTimeInfoEntries(): TimeInfoEntries
  getContextTimeInfoEntries(): TimeInfoEntries
}

export interface WatchFileSystem {
  watch(
    files: Iterable<string>,
    directories: Iterable<string>,
    missing: Iterable<string>,
    startTime: number,
    options: WebpackWatchOptions,
    callback: WatchCallback,
    callbackUndelayed?: (file: string, time: number) => void,
  ): WebpackWatcher
}

/** The parts of webpack's cached input file system used here. */
export interface InputFileSystemLike {
  purge?: (what?: string | string[] | Set<string>) => void
}

/** The parts of webpack's `Compiler` used here. */
export interface CompilerLike {
  inputFileSystem?: InputFileSystemLike | null
  watchFileSystem?: WatchFileSystem | null
  hooks: { watchClose: { tap(name: string, fn: () => void): void } }
}

export interface WatchfilesWebpackPluginOptions {
  /** Quiet period (ms) of the core before a batch is handed over; webpack's `aggregateTimeout`
   *  is applied on top. Default 20. */
  step?: number
}

const PLUGIN = 'WatchfilesWebpackPlugin'

const toUnix = (p: string): string => (path.sep === '\\' ? p.replace(/\\/g, '/') : p)

interface Ignore {
  test: (item: string) => boolean
  native: string[]
}

/** watchpack's `ignored`: globs match a path and everything below it; RegExps and functions get
 *  the path. Simple globs are also pruned natively. */
function compileIgnored(ignored: WebpackIgnored | undefined): Ignore {
  if (ignored === undefined || ignored === null) return { test: () => false, native: [] }
  if (typeof ignored === 'function') return { test: ignored, native: [] }
  if (ignored instanceof RegExp) {
    return {
      test: (item) => {
        ignored.lastIndex = 0
        return ignored.test(toUnix(item))
      },
      native: [],
    }
  }
  const globs = (typeof ignored === 'string' ? [ignored] : [...ignored]).filter((g) => g.length > 0)
  const patterns = globs.map((g) => `${toUnix(g).replace(/\/+$/, '')}/**`)
  const regexps = patterns.map(globToRegExp)
  const native = patterns.map(nativeIgnoreFor).filter((n): n is string => n !== undefined)
  return { test: (item) => regexps.some((re) => re.test(toUnix(item))), native }
}

async function stat(p: string, follow: boolean): Promise<fs.Stats | undefined> {
  try {
    return await (follow ? fs.promises.stat(p) : fs.promises.lstat(p))
  } catch {
    return undefined
  }
}

async function nearestDirectory(p: string): Promise<string> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    if ((await stat(dir, true))?.isDirectory()) return dir
    if (path.dirname(dir) === dir) return dir
  }
}

/** Whether anything at or below `dir` was modified at or after `since`. */
async function changedSince(dir: string, since: number): Promise<boolean> {
  const st = await stat(dir, false)
  if (!st) return false
  if (st.mtimeMs >= since) return true
  if (!st.isDirectory()) return false
  let entries: fs.Dirent[]
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true })
  } catch {
    return false
  }
  const results = await Promise.all(entries.map((e) => changedSince(path.join(dir, e.name), since)))
  return results.some(Boolean)
}

/** The file-time accuracy (ms) seen so far, lowered as mtimes show finer steps (as watchpack and
 *  webpack do). */
let fsAccuracy = 2000
function noteAccuracy(mtime: number): void {
  if (fsAccuracy > 1 && mtime % 1 !== 0) fsAccuracy = 1
  else if (fsAccuracy > 10 && mtime % 10 !== 0) fsAccuracy = 10
  else if (fsAccuracy > 100 && mtime % 100 !== 0) fsAccuracy = 100
  else if (fsAccuracy > 1000 && mtime % 1000 !== 0) fsAccuracy = 1000
}

/** webpack's entry for a file: `timestamp` is the mtime in whole ms as webpack reads it; for a file
 *  found at start `safeTime` allows for the file system's accuracy, after a change it is now. */
function timeEntry(st: fs.Stats, initial: boolean): TimeInfoEntry | undefined {
  if (st.isDirectory()) return undefined // existence only: webpack reads folders itself
  const mtime = Number(st.mtime)
  noteAccuracy(mtime)
  const now = Date.now()
  return initial ? { safeTime: Math.min(now, mtime) + fsAccuracy, timestamp: mtime, accuracy: fsAccuracy } : { safeTime: now, timestamp: mtime, accuracy: 0 }
}

interface Items {
  files: Set<string>
  directories: Set<string>
  missing: Set<string>
}

interface Logged {
  change: FileChange
  time: number
}

/** What one `watch()` call handed back to webpack: collects changes to its items. */
class Handle implements WebpackWatcher {
  changes = new Set<string>()
  removals = new Set<string>()
  /** Every changed path below the items, for purging webpack's input file system. */
  touched = new Set<string>()
  listingsChanged = new Set<string>()
  paused = false
  retired = false
  #timer: NodeJS.Timeout | undefined
  #undelayedCalled = false

  constructor(
    private readonly owner: WatchfilesWatchFileSystem,
    readonly items: Items,
    private readonly aggregateTimeout: number,
    private readonly callback: WatchCallback,
    private readonly callbackUndelayed: ((file: string, time: number) => void) | undefined,
  ) {}

  /** Records `change` if it concerns an item; true when it did. */
  record(change: FileChange, time: number): boolean {
    const { files, directories, missing } = this.items
    const p = change.path
    const removed = change.type === 'deleted'
    let hit = false
    const mark = (item: string, asRemoval: boolean): void => {
      hit = true
      if (asRemoval) {
        this.changes.delete(item)
        this.removals.add(item)
      } else {
        this.removals.delete(item)
        this.changes.add(item)
      }
    }
    if (files.has(p) || missing.has(p) || directories.has(p)) mark(p, removed)
    // A change below a context dependency changes that folder (as watchpack reports it).
    for (let dir = path.dirname(p); dir !== p; dir = path.dirname(dir)) {
      if (directories.has(dir)) mark(dir, false)
      if (path.dirname(dir) === dir) break
    }
    if (!hit) return false
    this.touched.add(p)
    if (change.type !== 'modified') this.listingsChanged.add(path.dirname(p))
    if (!this.paused && !this.retired) {
      if (!this.#undelayedCalled) {
        this.#undelayedCalled = true
        this.callbackUndelayed?.(p, time)
      }
      if (this.#timer) clearTimeout(this.#timer)
      this.#timer = setTimeout(() => this.#fire(), this.aggregateTimeout)
    }
    return true
  }

  #fire(): void {
    this.#timer = undefined
    if (this.paused || this.retired) return
    // webpack pauses the watcher as soon as it is called back; later changes go to the next one.
    this.paused = true
    const { changes, removals } = this.#take()
    this.callback(null, this.owner.timeEntries(this.items), new Map(), changes, removals)
  }

  #take(): { changes: Set<string>; removals: Set<string> } {
    const changes = this.changes
    const removals = this.removals
    this.owner.restat(changes, removals)
    this.owner.purge(this.touched, this.listingsChanged)
    this.changes = new Set()
    this.removals = new Set()
    this.touched = new Set()
    this.listingsChanged = new Set()
    return { changes, removals }
  }

  close(): void {
    this.pause()
    this.retired = true
    this.owner.closeFrom(this)
  }

  pause(): void {
    this.paused = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  getInfo(): WatchInfo {
    const { changes, removals } = this.#take()
    return { changes, removals, fileTimeInfoEntries: this.owner.timeEntries(this.items), contextTimeInfoEntries: new Map() }
  }

  getAggregatedChanges(): Set<string> {
    const changes = this.changes
    this.owner.purge(this.touched, this.listingsChanged)
    this.changes = new Set()
    return changes
  }

  getAggregatedRemovals(): Set<string> {
    const removals = this.removals
    this.removals = new Set()
    return removals
  }

  getFileTimeInfoEntries(): TimeInfoEntries {
    return this.owner.timeEntries(this.items)
  }

  getContextTimeInfoEntries(): TimeInfoEntries {
    return new Map()
  }

  /** After the subscriptions are in place: what changed between `startTime` and now among items
   *  that were not watched before. */
  async checkSince(fresh: Items, startTime: number, follow: boolean): Promise<void> {
    const time = Date.now()
    const checks: Array<Promise<void>> = []
    for (const file of fresh.files) {
      checks.push(
        stat(file, follow).then((st) => {
          this.owner.setTime(file, st ? timeEntry(st, true) : null)
          if (!st) {
            if (!this.items.missing.has(file)) this.record({ type: 'deleted', path: file }, time)
          } else if (startTime && !st.isDirectory() && st.mtimeMs >= startTime) {
            // (A folder among the files, as webpack lists the folders it resolved through, counts
            // by its existence only, as in watchpack.)
            this.record({ type: 'modified', path: file }, time)
          }
        }),
      )
    }
    for (const item of fresh.missing) {
      checks.push(
        stat(item, follow).then((st) => {
          this.owner.setTime(item, st ? timeEntry(st, true) : null)
          if (st) this.record({ type: 'added', path: item }, time)
        }),
      )
    }
    for (const dir of fresh.directories) {
      checks.push(
        stat(dir, follow).then(async (st) => {
          if (!st) {
            if (!this.items.missing.has(dir)) this.record({ type: 'deleted', path: dir }, time)
          } else if (startTime && (await changedSince(dir, startTime))) {
            this.record({ type: 'modified', path: dir }, time)
          }
        }),
      )
    }
    await Promise.all(checks)
  }
}

interface Plan {
  key: string
  recursive: string[]
  flat: string[]
  /** Wanted folders that did not exist: when one of their ancestors changes, plan again. */
  waitingFor: string[]
}

/** The `watchFileSystem` webpack calls. One set of subscriptions lives across `watch()` calls and
 *  is re-planned only when the watched folders change. */
export class WatchfilesWatchFileSystem implements WatchFileSystem {
  #current: Handle | undefined
  #items: Items | undefined
  #between: Logged[] = []
  #plan: Plan | undefined
  #subscriptions: Subscription[] = []
  #planning: Promise<void> = Promise.resolve()
  #options: WebpackWatchOptions = {}
  #ignore: Ignore = compileIgnored(undefined)
  #generation = 0
  /** webpack's time entries of the watched files and missing paths (`null`: does not exist). */
  #times = new Map<string, TimeInfoEntry | null>()

  constructor(
    private readonly inputFileSystem: InputFileSystemLike | null | undefined,
    private readonly pluginOptions: WatchfilesWebpackPluginOptions = {},
  ) {}

  watch(
    files: Iterable<string>,
    directories: Iterable<string>,
    missing: Iterable<string>,
    startTime: number,
    options: WebpackWatchOptions,
    callback: WatchCallback,
    callbackUndelayed?: (file: string, time: number) => void,
  ): WebpackWatcher {
    for (const [name, value] of [['files', files], ['directories', directories], ['missing', missing]] as const) {
      if (!value || typeof (value as Iterable<string>)[Symbol.iterator] !== 'function') throw new Error(`Invalid arguments: '${name}'`)
    }
    if (typeof callback !== 'function') throw new Error("Invalid arguments: 'callback'")
    if (startTime && typeof startTime !== 'number') throw new Error("Invalid arguments: 'startTime'")
    if (typeof options !== 'object' || options === null) throw new Error("Invalid arguments: 'options'")

    if (options !== this.#options) {
      this.#options = options
      this.#ignore = compileIgnored(options.ignored)
    }
    const keep = (item: string): boolean => !this.#ignore.test(item)
    const items: Items = {
      files: new Set([...files].filter(keep)),
      directories: new Set([...directories].filter(keep)),
      missing: new Set([...missing].filter(keep)),
    }
    const previous = this.#items
    const fresh: Items = {
      files: new Set([...items.files].filter((f) => !previous?.files.has(f))),
      directories: new Set([...items.directories].filter((d) => !previous?.directories.has(d))),
      missing: new Set([...items.missing].filter((m) => !previous?.missing.has(m) && !previous?.files.has(m))),
    }
    this.#current?.pause()
    if (this.#current) this.#current.retired = true
    const aggregateTimeout = typeof options.aggregateTimeout === 'number' ? options.aggregateTimeout : 200
    const handle = new Handle(this, items, aggregateTimeout, callback, callbackUndelayed)
    this.#current = handle
    this.#items = items
    // Changes since the build started, seen while webpack's watcher was paused (handed over once
    // webpack holds the returned watcher).
    const between = this.#between
    this.#between = []
    process.nextTick(() => {
      for (const { change, time } of between) if (!startTime || time >= startTime) handle.record(change, time)
    })
    const generation = ++this.#generation
    const follow = Boolean(options.followSymlinks)
    this.#planning = this.#planning
      .then(() => this.#applyPlan(items, generation))
      .then(() => (generation === this.#generation ? handle.checkSince(fresh, startTime, follow) : undefined))
      .catch((error: unknown) => {
        if (generation === this.#generation && !handle.paused) {
          handle.pause()
          callback(error instanceof Error ? error : new Error(String(error)))
        }
      })
    return handle
  }

  setTime(item: string, entry: TimeInfoEntry | null | undefined): void {
    if (entry === undefined) this.#times.delete(item)
    else this.#times.set(item, entry)
  }

  /** Reads the entries of changed items again, as they are handed to webpack. */
  restat(changes: Set<string>, removals: Set<string>): void {
    const follow = Boolean(this.#options.followSymlinks)
    for (const item of [...changes, ...removals]) {
      let st: fs.Stats | undefined
      try {
        st = follow ? fs.statSync(item) : fs.lstatSync(item)
      } catch {
        st = undefined
      }
      this.setTime(item, st ? timeEntry(st, false) : null)
    }
  }

  /** The time entries webpack gets with a batch: those known for the items (it reads the rest). */
  timeEntries(items: Items): TimeInfoEntries {
    const entries: TimeInfoEntries = new Map()
    for (const list of [items.files, items.missing]) {
      for (const item of list) {
        const entry = this.#times.get(item)
        if (entry !== undefined) entries.set(item, entry)
      }
    }
    return entries
  }

  /** Purges webpack's cached input file system for changed paths (and the listings of folders
   *  whose entries changed). */
  purge(touched: Set<string>, listings: Set<string>): void {
    const purge = this.inputFileSystem?.purge
    if (!purge || (touched.size === 0 && listings.size === 0)) return
    purge.call(this.inputFileSystem, [...touched, ...listings])
  }

  /** A handle was closed: when it is the current one, webpack stopped watching. */
  closeFrom(handle: Handle): void {
    if (handle !== this.#current) return
    this.close()
  }

  /** Stops every subscription. */
  close(): void {
    this.#generation++
    this.#current = undefined
    this.#items = undefined
    this.#plan = undefined
    this.#between = []
    this.#times.clear()
    const subscriptions = this.#subscriptions
    this.#subscriptions = []
    for (const s of subscriptions) void s.close()
  }

  async #computePlan(items: Items): Promise<Plan> {
    const follow = Boolean(this.#options.followSymlinks)
    const recursive = new Set<string>()
    const flat = new Set<string>()
    const waitingFor = new Set<string>()
    const wanted = async (dir: string, deep: boolean): Promise<void> => {
      const st = await stat(dir, follow)
      if (st?.isDirectory()) {
        ;(deep ? recursive : flat).add(dir)
        return
      }
      waitingFor.add(dir)
      flat.add(await nearestDirectory(path.dirname(dir)))
    }
    const parents = new Set<string>()
    for (const file of items.files) parents.add(path.dirname(file))
    for (const item of items.missing) parents.add(path.dirname(item))
    await Promise.all([
      ...[...items.directories].map((d) => wanted(d, true)),
      ...[...parents].map((d) => wanted(d, false)),
    ])
    const covered = (dir: string): boolean => {
      for (let p = dir; ; p = path.dirname(p)) {
        if (recursive.has(p) && (p !== dir || flat.has(dir))) return true
        if (path.dirname(p) === p) return false
      }
    }
    const flatList = [...flat].filter((d) => !covered(d)).sort()
    const recursiveList = [...recursive].sort()
    return {
      key: `${JSON.stringify(recursiveList)}|${JSON.stringify(flatList)}|${this.#ignore.native.join('\0')}`,
      recursive: recursiveList,
      flat: flatList,
      waitingFor: [...waitingFor],
    }
  }

  /** Puts the subscriptions for `items` in place; returns the folders that were waited for and
   *  exist now. */
  async #applyPlan(items: Items, generation: number): Promise<string[]> {
    const plan = await this.#computePlan(items)
    if (generation !== this.#generation) return []
    const appeared = (this.#plan?.waitingFor ?? []).filter((w) => !plan.waitingFor.includes(w))
    if (this.#plan?.key === plan.key) {
      this.#plan = plan
      return appeared
    }
    const options = this.#options
    const common = {
      defaultIgnore: false,
      ignore: this.#ignore.native,
      followSymlinks: Boolean(options.followSymlinks),
      step: this.pluginOptions.step ?? 20,
      ...(options.poll ? { forcePolling: true, ...(typeof options.poll === 'number' ? { pollInterval: options.poll } : {}) } : {}),
      onError: (error: Error) => process.emitWarning(error.message, { type: 'WatchfilesWarning' }),
    }
    const onChanges = (changes: FileChange[]): void => this.#onChanges(changes)
    const started: Subscription[] = []
    try {
      if (plan.recursive.length > 0) started.push(await subscribe(plan.recursive, onChanges, { ...common, recursive: true }))
      if (plan.flat.length > 0) started.push(await subscribe(plan.flat, onChanges, { ...common, recursive: false }))
    } catch (error) {
      for (const s of started) void s.close()
      if ((error as { code?: string }).code === 'ERR_WATCH_NOT_FOUND' && generation === this.#generation) {
        return this.#applyPlan(items, generation) // a folder vanished meanwhile
      }
      throw error
    }
    if (generation !== this.#generation) {
      for (const s of started) void s.close()
      return []
    }
    const old = this.#subscriptions
    this.#subscriptions = started
    this.#plan = plan
    for (const s of old) void s.close()
    return appeared
  }

  #onChanges(changes: FileChange[]): void {
    const time = Date.now()
    const handle = this.#current
    let replan = false
    for (const change of changes) {
      if (this.#ignore.test(change.path)) continue
      if (handle) {
        const hit = handle.record(change, time)
        if (hit && handle.paused) this.#between.push({ change, time })
      }
      const waiting = this.#plan?.waitingFor
      if (waiting?.some((w) => w === change.path || w.startsWith(change.path + path.sep))) replan = true
    }
    if (replan && this.#items) {
      const items = this.#items
      const generation = this.#generation
      this.#planning = this.#planning
        .then(() => this.#applyPlan(items, generation))
        .then(async (appeared) => {
          // Items inside folders that appeared: they may have been written before the folders'
          // own watch was in place.
          const current = this.#current
          if (!current || generation !== this.#generation || appeared.length === 0) return
          const inside = (item: string): boolean => appeared.some((dir) => item === dir || item.startsWith(dir + path.sep))
          const now = Date.now()
          for (const item of [...items.missing, ...items.directories, ...items.files]) {
            if (!inside(item) || current.changes.has(item)) continue
            if (await stat(item, Boolean(this.#options.followSymlinks))) current.record({ type: 'added', path: item }, now)
          }
        })
        .catch((error: unknown) => process.emitWarning(String(error), { type: 'WatchfilesWarning' }))
    }
  }
}

/**
 * Makes `webpack --watch` (and webpack-dev-server) watch with watchfiles-node instead of
 * watchpack:
 *
 * ```js
 * // webpack.config.js
 * const { WatchfilesWebpackPlugin } = require('watchfiles-node/webpack')
 * module.exports = { plugins: [new WatchfilesWebpackPlugin()] }
 * ```
 */
export class WatchfilesWebpackPlugin {
  constructor(private readonly options: WatchfilesWebpackPluginOptions = {}) {}

  apply(compiler: CompilerLike): void {
    const watchFileSystem = new WatchfilesWatchFileSystem(compiler.inputFileSystem, this.options)
    compiler.watchFileSystem = watchFileSystem
    compiler.hooks.watchClose.tap(PLUGIN, () => watchFileSystem.close())
  }
}

export default WatchfilesWebpackPlugin
