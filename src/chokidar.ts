// A drop-in for chokidar (v4/v5 API): `watch(paths, options)` returns an `FSWatcher`, an
// EventEmitter with `add`, `unwatch`, `close`, `getWatched` and chokidar's events, backed by the
// Rust core through `subscribe`. See "Integrations" in the README for what differs from chokidar.
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import type { FileChange } from './changes.js'
import type { WatchError } from './errors.js'
import { globToRegExp, isGlob, nativeIgnoreFor } from './glob.js'
import { subscribe, type Subscription } from './watch.js'

export type EventName = 'add' | 'addDir' | 'change' | 'unlink' | 'unlinkDir' | 'ready' | 'raw' | 'error' | 'all'
export type PathEventName = 'add' | 'addDir' | 'change' | 'unlink' | 'unlinkDir'
export type MatchFunction = (path: string, stats?: fs.Stats) => boolean
export interface MatcherObject {
  path: string
  recursive?: boolean
}
export type Matcher = string | RegExp | MatchFunction | MatcherObject

export interface AWF {
  stabilityThreshold: number
  pollInterval: number
}

export interface ChokidarOptions {
  /** Keep the process alive while watching. Default `true`. */
  persistent?: boolean
  /** Paths, globs, RegExps, functions `(path, stats?) => boolean` or `{path, recursive}` to ignore. */
  ignored?: Matcher | Matcher[]
  /** Do not emit `add`/`addDir` for what exists when watching starts. Default `false`. */
  ignoreInitial?: boolean
  /** Follow symlinked folders. Default `true`. */
  followSymlinks?: boolean
  /** Base of relative paths; event paths are relative to it. */
  cwd?: string
  /** Poll instead of OS events (also `CHOKIDAR_USEPOLLING`). Default `false`. */
  usePolling?: boolean
  /** Poll interval in ms (also `CHOKIDAR_INTERVAL`). Default 100. */
  interval?: number
  /** Accepted for compatibility; binary files are polled at `interval` like the others. */
  binaryInterval?: number
  /** Always pass an `fs.Stats` with `add`, `addDir` and `change`. Default `false`. */
  alwaysStat?: boolean
  /** How many folder levels below each watched path are reported. Default: all. */
  depth?: number
  /** Hold `add`/`change` until the file's size stops changing. */
  awaitWriteFinish?: boolean | Partial<AWF>
  /** Skip unreadable folders instead of emitting an error. Default `false`. */
  ignorePermissionErrors?: boolean
  /** Ignore editor swap/backup files (`.x.swp`, `x~`). Default `!usePolling`. Atomic saves are
   *  always reported as one `change`: the core merges them. */
  atomic?: boolean | number
  /** chokidar 3 options, accepted and without effect. */
  disableGlobbing?: boolean
  useFsEvents?: boolean
}

export interface FSWInstanceOptions {
  persistent: boolean
  ignoreInitial: boolean
  followSymlinks: boolean
  cwd?: string
  usePolling: boolean
  interval: number
  binaryInterval: number
  alwaysStat?: boolean
  depth?: number
  ignorePermissionErrors: boolean
  atomic: boolean | number
  ignored: Matcher[]
  awaitWriteFinish: false | AWF
}

export type EmitArgs = [path: string, stats?: fs.Stats]
export interface FSWatcherEventMap {
  ready: []
  raw: [event: string, path: string, details: { watchedPath: string }]
  error: [error: Error]
  all: [event: PathEventName, path: string, stats?: fs.Stats]
  add: EmitArgs
  change: EmitArgs
  addDir: EmitArgs
  unlink: EmitArgs
  unlinkDir: EmitArgs
}

/** Editor swap and backup files, ignored with `atomic` as chokidar does. */
const ATOMIC_NOISE = /(?:\..*\.sw[px]|~)$|\.subl.*\.tmp/
const KEEP_ALIVE_MS = 2 ** 31 - 1

type RootKind = 'dir' | 'file' | 'missing'

interface Root {
  abs: string
  /** The path as chokidar keeps it internally: as given (normalized), or absolute with `cwd`. */
  given: string
  kind: RootKind
  /** Its events are taken (set once its subscription is ready, or when it is covered). */
  active: boolean
  group?: Group
  waiting?: Subscription
}

interface Group {
  subscription?: Subscription
  roots: Set<Root>
  closed: boolean
  /** Covered by a newer subscription: its events are still taken for a short while, since it may
   *  hold changes from before the newer one was in place. */
  retiring?: boolean
}

/** How long a covered subscription keeps reporting after the one covering it started. */
const HANDOVER_MS = 300

interface DirNode {
  children: Set<string>
  /** Its entries are tracked (within `depth`); false for a root's parent and the deepest level. */
  expanded: boolean
}

interface PendingWrite {
  event: 'add' | 'change'
  lastChange: number
  timer?: NodeJS.Timeout
  lastSize?: number
}

/** Gets the absolute path, the path as chokidar has it (computed on demand) and the stats. */
type JsMatcher = (abs: string, internal: () => string, stats?: fs.Stats) => boolean

const toUnix = (p: string): string => (path.sep === '\\' ? p.replace(/\\/g, '/') : p)

function flatten(paths: unknown): string[] {
  const list = (Array.isArray(paths) ? paths : [paths]).flat(Infinity as 1)
  for (const p of list) {
    if (typeof p !== 'string') throw new TypeError(`Non-string provided as watch path: ${String(p)}`)
  }
  return list as string[]
}

function envPolling(value: boolean | undefined): boolean | undefined {
  const env = process.env.CHOKIDAR_USEPOLLING
  if (env === undefined) return value
  const lower = env.toLowerCase()
  if (lower === 'false' || lower === '0') return false
  if (lower === 'true' || lower === '1') return true
  return lower !== ''
}

/**
 * chokidar's `FSWatcher` on the watchfiles core. Events carry the paths as chokidar would: as
 * given (relative stays relative), or relative to `cwd`.
 */
export class FSWatcher extends EventEmitter<FSWatcherEventMap> {
  closed = false
  readonly options: FSWInstanceOptions

  #base: string
  #jsMatchers: JsMatcher[] = []
  /** An ignore function is given: entries are stat'ed to pass it their `fs.Stats`. */
  #matcherWantsStats = false
  #nativeNames: string[] = []
  #nativePaths: string[] = []
  #usePolling: boolean
  #roots = new Map<string, Root>()
  #groups = new Set<Group>()
  #dirs = new Map<string, DirNode>()
  #unwatched = new Set<string>()
  #pendingWrites = new Map<string, PendingWrite>()
  #queue: Promise<void> = Promise.resolve()
  #pendingReady = 0
  #starting = 0
  #readyEmitted = false
  #keepAlive: NodeJS.Timeout | undefined
  #refed = true
  #closePromise: Promise<void> | undefined
  #generation = 0
  /** The last `change` per path during a handover, so both subscriptions do not report it. */
  #recentChanges = new Map<string, { group: Group; time: number }>()

  constructor(options: ChokidarOptions = {}) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
    const awf = options.awaitWriteFinish
    const defaultAwf: AWF = { stabilityThreshold: 2000, pollInterval: 100 }
    const usePolling = envPolling(options.usePolling) ?? false
    const envInterval = process.env.CHOKIDAR_INTERVAL ? Number.parseInt(process.env.CHOKIDAR_INTERVAL, 10) : undefined
    if (options.depth !== undefined && (typeof options.depth !== 'number' || !(options.depth >= 0))) {
      throw new TypeError(`option \`depth\` must be a number >= 0, got ${String(options.depth)}`)
    }
    if (options.cwd !== undefined && typeof options.cwd !== 'string') {
      throw new TypeError('option `cwd` must be a string')
    }
    const resolved: FSWInstanceOptions = {
      persistent: options.persistent ?? true,
      ignoreInitial: options.ignoreInitial ?? false,
      ignorePermissionErrors: options.ignorePermissionErrors ?? false,
      interval: envInterval ?? options.interval ?? 100,
      binaryInterval: options.binaryInterval ?? 300,
      followSymlinks: options.followSymlinks ?? true,
      usePolling,
      atomic: options.atomic ?? !usePolling,
      ignored: options.ignored === undefined ? [] : Array.isArray(options.ignored) ? [...options.ignored] : [options.ignored],
      awaitWriteFinish:
        awf === true ? defaultAwf : awf && typeof awf === 'object' ? { ...defaultAwf, ...awf } : false,
    }
    if (options.cwd !== undefined) resolved.cwd = options.cwd
    if (options.alwaysStat !== undefined) resolved.alwaysStat = options.alwaysStat
    if (options.depth !== undefined) resolved.depth = options.depth
    this.options = Object.freeze(resolved)
    this.#usePolling = usePolling
    this.#base = path.resolve(resolved.cwd ?? '.')
    for (const matcher of resolved.ignored) this.#compileMatcher(matcher)
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /** Watches more paths (files or folders; missing ones are watched for). Returns `this`. */
  add(paths: string | readonly string[]): this {
    const list = flatten(paths)
    if (this.closed) {
      this.closed = false
      this.#closePromise = undefined
    }
    this.#starting++
    this.#holdProcess()
    const roots: Array<{ abs: string; given: string }> = []
    for (const p of list) {
      const normalized = toUnix(path.normalize(toUnix(p)))
      const abs = path.resolve(this.#base, p)
      this.#unwatched.delete(abs)
      roots.push({ abs, given: this.options.cwd !== undefined ? abs : normalized })
    }
    const counted = !this.#readyEmitted
    if (counted) this.#pendingReady++
    const generation = this.#generation
    this.#start(roots, true, generation)
      .catch((error: unknown) => this.#reportError(error))
      .finally(() => {
        if (generation !== this.#generation) return
        if (--this.#starting === 0) this.#releaseProcess()
        if (counted) this.#readyDone()
      })
    return this
  }

  /** Stops watching these paths, or ignores them from now on when they lie inside a watched one. */
  unwatch(paths: string | readonly string[]): this {
    if (this.closed) return this
    for (const p of flatten(paths)) {
      const abs = path.resolve(this.#base, p)
      this.#unwatched.add(abs)
      for (const root of [...this.#roots.values()]) {
        if (root.abs === abs || root.abs.startsWith(abs + path.sep)) this.#dropRoot(root)
      }
      for (const [file, pending] of this.#pendingWrites) {
        if (file === abs || file.startsWith(abs + path.sep)) {
          clearTimeout(pending.timer)
          this.#pendingWrites.delete(file)
        }
      }
      this.#forget(abs)
    }
    return this
  }

  /** Stops watching and removes every listener. Resolves once no OS watch is left. */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise
    this.closed = true
    this.#generation++
    this.removeAllListeners()
    for (const pending of this.#pendingWrites.values()) clearTimeout(pending.timer)
    this.#pendingWrites.clear()
    const closing: Array<Promise<void>> = []
    for (const group of this.#groups) {
      group.closed = true
      if (group.subscription) closing.push(group.subscription.close())
    }
    for (const root of this.#roots.values()) if (root.waiting) closing.push(root.waiting.close())
    this.#groups.clear()
    this.#roots.clear()
    this.#dirs.clear()
    this.#pendingReady = 0
    this.#starting = 0
    if (this.#keepAlive) clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
    this.#closePromise = Promise.all(closing).then(() => undefined)
    return this.#closePromise
  }

  /** Every watched folder (absolute, or relative to `cwd`) with the sorted names inside it. */
  getWatched(): Record<string, string[]> {
    const watched: Record<string, string[]> = {}
    for (const [dir, node] of this.#dirs) {
      const key = this.options.cwd !== undefined ? path.relative(this.options.cwd, dir) || '.' : dir
      watched[key] = [...node.children].sort()
    }
    return watched
  }

  /** Keeps the process alive while watching (when `persistent`). */
  ref(): this {
    this.#refed = true
    if (this.options.persistent || this.#starting > 0) this.#keepAlive?.ref()
    return this
  }

  /** Lets the process exit even though it is watching. */
  unref(): this {
    this.#refed = false
    if (this.#starting === 0) this.#keepAlive?.unref()
    return this
  }

  // ---------------------------------------------------------------------------------------------
  // Ignore rules

  #compileMatcher(matcher: Matcher): void {
    if (typeof matcher === 'function') {
      this.#matcherWantsStats = true
      this.#jsMatchers.push((_abs, internal, stats) => Boolean(matcher(internal(), stats)))
    } else if (matcher instanceof RegExp) {
      this.#jsMatchers.push((_abs, internal) => {
        matcher.lastIndex = 0
        return matcher.test(internal())
      })
    } else if (typeof matcher === 'string') {
      if (isGlob(matcher)) {
        const unix = toUnix(matcher)
        const glob = path.isAbsolute(matcher) || unix.startsWith('**') ? unix : toUnix(path.join(this.#base, matcher))
        const re = globToRegExp(glob)
        this.#jsMatchers.push((abs) => re.test(toUnix(abs)))
        const native = nativeIgnoreFor(glob)
        if (native !== undefined) {
          if (native.startsWith('/')) this.#nativePaths.push(native)
          else this.#nativeNames.push(native)
        }
      } else {
        const abs = path.resolve(this.#base, matcher)
        this.#jsMatchers.push((candidate) => candidate === abs)
        this.#nativePaths.push(abs)
      }
    } else if (matcher && typeof matcher === 'object' && typeof matcher.path === 'string') {
      const abs = path.resolve(this.#base, matcher.path)
      const recursive = Boolean(matcher.recursive)
      this.#jsMatchers.push((candidate) => candidate === abs || (recursive && candidate.startsWith(abs + path.sep)))
      this.#nativePaths.push(abs)
    } else {
      throw new TypeError(`option \`ignored\` must hold strings, RegExps, functions or {path} objects, got ${String(matcher)}`)
    }
  }

  #isIgnored(abs: string, root: Root, stats?: fs.Stats): boolean {
    if (this.options.atomic && ATOMIC_NOISE.test(abs)) return true
    if (this.#unwatched.size > 0) {
      for (let p = abs; ; p = path.dirname(p)) {
        if (this.#unwatched.has(p)) return true
        if (path.dirname(p) === p) break
      }
    }
    if (this.#jsMatchers.length === 0) return false
    let internal: string | undefined
    const getInternal = (): string => (internal ??= this.#internalPath(abs, root))
    return this.#jsMatchers.some((m) => m(abs, getInternal, stats))
  }

  /** The native `ignore` rules for a subscription of these roots: an ignored path that contains a
   *  root would hide everything below it from the core, where chokidar would still watch it. */
  #nativeIgnore(roots: Iterable<Root>): string[] {
    const list = [...roots]
    const paths = this.#nativePaths.filter((p) => !list.some((r) => r.abs === p || r.abs.startsWith(p + path.sep)))
    return [...this.#nativeNames, ...paths]
  }

  // ---------------------------------------------------------------------------------------------
  // Paths

  #internalPath(abs: string, root: Root): string {
    if (this.options.cwd !== undefined) return abs
    return toUnix(path.join(root.given, path.relative(root.abs, abs)))
  }

  #eventPath(abs: string, root: Root | undefined): string {
    if (this.options.cwd !== undefined) return path.relative(this.options.cwd, abs)
    return root ? this.#internalPath(abs, root) : abs
  }

  /** Folder levels of `abs` below `root` (0 for the root itself). */
  #level(abs: string, root: Root): number {
    if (abs === root.abs) return 0
    return path.relative(root.abs, abs).split(path.sep).length
  }

  #withinDepth(abs: string, root: Root): boolean {
    const depth = this.options.depth
    return depth === undefined || this.#level(abs, root) <= depth + 1
  }

  /** The root whose events report `abs`: the outermost active one that covers it. */
  #ownerOf(abs: string): Root | undefined {
    let owner: Root | undefined
    for (let p = abs; ; p = path.dirname(p)) {
      const root = this.#roots.get(p)
      if (root && root.active && (p === abs || (root.kind === 'dir' && this.#withinDepth(abs, root)))) owner = root
      const parent = path.dirname(p)
      if (parent === p) break
    }
    return owner
  }

  /** The root of `group` whose subscription reports `abs`, if any. */
  #coveredBy(group: Group, abs: string): Root | undefined {
    for (const root of group.roots) {
      if (abs === root.abs) return root
      if (root.kind === 'dir' && abs.startsWith(root.abs + path.sep) && this.#withinDepth(abs, root)) return root
    }
    return undefined
  }

  /** Whether another subscription just reported a change of `abs` (while handing over). */
  #reportedByOther(group: Group, abs: string): boolean {
    const handingOver = [...this.#groups].some((g) => g.retiring)
    if (!handingOver) {
      this.#recentChanges.clear()
      return false
    }
    const now = Date.now()
    const recent = this.#recentChanges.get(abs)
    this.#recentChanges.set(abs, { group, time: now })
    return recent !== undefined && recent.group !== group && now - recent.time < HANDOVER_MS
  }

  /** The active folder root covering `abs` (other than `abs` itself), if any. With `depth`, a
   *  folder (or a missing path, which may become one) counts its own levels, so only a file is
   *  covered. */
  #coveringRoot(abs: string, kind: RootKind, among: Iterable<Root> = []): Root | undefined {
    if (kind !== 'file' && this.options.depth !== undefined) return undefined
    const extra = new Map<string, Root>()
    for (const r of among) extra.set(r.abs, r)
    for (let p = path.dirname(abs); ; p = path.dirname(p)) {
      const root = this.#roots.get(p) ?? extra.get(p)
      if (root && root.kind === 'dir' && (root.active || extra.has(p)) && this.#withinDepth(abs, root) && !this.#isIgnored(abs, root)) {
        return root
      }
      if (path.dirname(p) === p) return undefined
    }
  }

  // ---------------------------------------------------------------------------------------------
  // What is known: folders with their entries

  #isKnown(abs: string): boolean {
    return this.#dirs.get(path.dirname(abs))?.children.has(path.basename(abs)) ?? false
  }

  #node(dir: string): DirNode {
    let node = this.#dirs.get(dir)
    if (!node) {
      node = { children: new Set(), expanded: false }
      this.#dirs.set(dir, node)
    }
    return node
  }

  #recordDir(abs: string, expanded: boolean): void {
    const node = this.#node(abs)
    node.expanded ||= expanded
    if (path.dirname(abs) !== abs) this.#node(path.dirname(abs)).children.add(path.basename(abs))
  }

  #recordFile(abs: string): void {
    this.#node(path.dirname(abs)).children.add(path.basename(abs))
  }

  #forget(abs: string): void {
    const node = this.#dirs.get(abs)
    if (node) {
      for (const child of node.children) this.#forget(path.join(abs, child))
      this.#dirs.delete(abs)
    }
    this.#dirs.get(path.dirname(abs))?.children.delete(path.basename(abs))
  }

  // ---------------------------------------------------------------------------------------------
  // Starting to watch

  async #stat(abs: string): Promise<fs.Stats | undefined> {
    try {
      return await (this.options.followSymlinks ? fs.promises.stat(abs) : fs.promises.lstat(abs))
    } catch {
      return undefined
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    // The caller reports a failure; the queue goes on.
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  /** Adds roots: folders and files get a subscription unless a watched folder covers them,
   *  missing paths are waited for. `initial` marks paths given to `watch`/`add`. */
  async #start(requested: Array<{ abs: string; given: string }>, initial: boolean, generation: number): Promise<void> {
    const fresh: Root[] = []
    for (const { abs, given } of requested) {
      if (this.#roots.has(abs) || fresh.some((r) => r.abs === abs)) continue
      const stats = await this.#stat(abs)
      if (generation !== this.#generation) return
      const root: Root = { abs, given, kind: stats ? (stats.isDirectory() ? 'dir' : 'file') : 'missing', active: false }
      if (this.#isIgnored(abs, root, stats)) continue
      fresh.push(root)
    }
    if (fresh.length === 0) return
    const present = fresh.filter((r) => r.kind !== 'missing')
    const own = present.filter((r) => !this.#coveringRoot(r.abs, r.kind, present.filter((o) => o !== r)))
    for (const root of fresh) this.#roots.set(root.abs, root)

    if (own.length > 0) {
      const group: Group = { roots: new Set(own), closed: false }
      for (const root of own) root.group = group
      this.#groups.add(group)
      let started: boolean
      try {
        started = await this.#subscribe(group, generation)
      } catch (error) {
        for (const root of fresh) if (this.#roots.get(root.abs) === root) this.#roots.delete(root.abs)
        throw error
      }
      if (!started) {
        // Some vanished meanwhile: start over with what is there now.
        for (const root of fresh) this.#roots.delete(root.abs)
        return this.#start(requested, initial, generation)
      }
    }
    if (generation !== this.#generation) return
    for (const root of present) root.active = true
    this.#retireCoveredGroups()
    await this.#enqueue(async () => {
      for (const root of present) {
        if (generation !== this.#generation || this.#roots.get(root.abs) !== root) continue
        await this.#scan(root, initial)
      }
    })
    for (const root of fresh) if (root.kind === 'missing') await this.#waitFor(root, generation)
  }

  /** Starts the subscription of `group`; false when a root vanished before it could start. */
  async #subscribe(group: Group, generation: number): Promise<boolean> {
    const roots = [...group.roots]
    const depth = this.options.depth
    try {
      const subscription = await subscribe(
        roots.map((r) => r.abs),
        (changes) => this.#enqueue(() => this.#onChanges(group, changes)),
        {
          recursive: depth !== 0,
          defaultIgnore: false,
          ignore: this.#nativeIgnore(roots),
          followSymlinks: this.options.followSymlinks,
          ignorePermissionDenied: this.options.ignorePermissionErrors,
          persistent: false,
          // chokidar's `atomic: <ms>` is how long an unlink waits for a re-add: the core's quiet period.
          ...(typeof this.options.atomic === 'number' ? { step: this.options.atomic } : {}),
          ...(this.#usePolling ? { forcePolling: true, pollInterval: Math.max(1, this.options.interval) } : {}),
          onError: (error) => this.#reportError(error),
        },
      )
      if (generation !== this.#generation || group.closed) {
        await subscription.close()
        return true
      }
      group.subscription = subscription
      return true
    } catch (error) {
      this.#groups.delete(group)
      if ((error as WatchError).code === 'ERR_WATCH_NOT_FOUND') return false
      throw error
    }
  }

  /** Closes subscriptions whose roots are all covered by another root now (or dropped). */
  #retireCoveredGroups(): void {
    for (const group of this.#groups) {
      if (!group.subscription || group.retiring) continue // still starting, or already handing over
      const needed = [...group.roots].some((root) => this.#roots.get(root.abs) === root && this.#ownerOf(root.abs) === root)
      if (!needed) {
        group.retiring = true
        setTimeout(() => this.#closeGroup(group), HANDOVER_MS).unref()
      }
    }
  }

  #closeGroup(group: Group): void {
    if (group.closed) return
    group.closed = true
    this.#groups.delete(group)
    group.subscription?.close().catch((error: unknown) => this.#reportError(error))
  }

  #dropRoot(root: Root): void {
    this.#roots.delete(root.abs)
    root.active = false
    root.waiting?.close().catch((error: unknown) => this.#reportError(error))
    root.waiting = undefined
    const group = root.group
    if (group) {
      group.roots.delete(root)
      if (group.roots.size === 0) this.#closeGroup(group)
    }
  }

  /** Lists what exists below a new root, recording it and emitting `add`/`addDir` unless these
   *  are the initial paths with `ignoreInitial`. */
  async #scan(root: Root, initial: boolean): Promise<void> {
    const emit = !(initial && this.options.ignoreInitial)
    const stats = await this.#stat(root.abs)
    if (!stats) return
    const needStats = this.options.alwaysStat === true || this.#matcherWantsStats
    if (!stats.isDirectory()) {
      if (this.#isKnown(root.abs)) return
      this.#recordFile(root.abs)
      if (emit) this.#emit('add', root.abs, root, stats)
      return
    }
    const depth = this.options.depth
    if (!this.#isKnown(root.abs)) {
      this.#recordDir(root.abs, true)
      if (emit) this.#emit('addDir', root.abs, root, stats)
    } else {
      this.#recordDir(root.abs, true)
    }
    const seen = new Set<string>()
    if (this.options.followSymlinks) seen.add(await fs.promises.realpath(root.abs).catch(() => root.abs))
    const walk = async (dir: string, level: number): Promise<void> => {
      let entries: fs.Dirent[]
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true })
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && !((code === 'EACCES' || code === 'EPERM') && this.options.ignorePermissionErrors)) {
          this.#reportError(error)
        }
        return
      }
      const subdirs: Array<Promise<void>> = []
      const follow = this.options.followSymlinks
      const stats = await Promise.all(
        entries.map((entry) =>
          needStats || (follow && entry.isSymbolicLink()) ? this.#stat(path.join(dir, entry.name)) : undefined,
        ),
      )
      for (const [i, entry] of entries.entries()) {
        const abs = path.join(dir, entry.name)
        const entryStats = stats[i]
        let isDir = entry.isDirectory()
        if (needStats || (follow && entry.isSymbolicLink())) {
          if (!entryStats) continue // gone meanwhile
          isDir = entryStats.isDirectory()
        }
        if (this.#isIgnored(abs, root, entryStats)) continue
        const expand = depth === undefined || level + 1 <= depth
        if (isDir) {
          const known = this.#isKnown(abs)
          this.#recordDir(abs, expand)
          if (!known && emit) this.#emit('addDir', abs, root, entryStats)
          if (expand) {
            if (this.options.followSymlinks && entry.isSymbolicLink()) {
              const real = await fs.promises.realpath(abs).catch(() => abs)
              if (seen.has(real)) continue
              seen.add(real)
            }
            subdirs.push(walk(abs, level + 1))
          }
        } else {
          const known = this.#isKnown(abs)
          this.#recordFile(abs)
          if (!known && emit) this.#emit('add', abs, root, entryStats)
        }
      }
      await Promise.all(subdirs)
    }
    await walk(root.abs, 0)
  }

  /** Waits for a missing root to appear: watches its nearest existing ancestor (only its direct
   *  entries) and steps down as the path's folders appear. A missing path inside a watched folder
   *  needs nothing: that folder's events report it. */
  async #waitFor(root: Root, generation: number): Promise<void> {
    if (generation !== this.#generation || this.#roots.get(root.abs) !== root) return
    if (this.#coveringRoot(root.abs, root.kind)) return
    let ancestor = path.dirname(root.abs)
    while (!(await this.#stat(ancestor))?.isDirectory()) {
      const up = path.dirname(ancestor)
      if (up === ancestor) return
      ancestor = up
    }
    if (generation !== this.#generation || this.#roots.get(root.abs) !== root) return
    const recheck = (): Promise<void> =>
      this.#enqueue(async () => {
        if (root.waiting === undefined || generation !== this.#generation) return
        const waiting = root.waiting
        root.waiting = undefined
        await waiting.close()
        if (this.#roots.get(root.abs) !== root) return
        if (await this.#stat(root.abs)) {
          this.#roots.delete(root.abs)
          void this.#start([{ abs: root.abs, given: root.given }], false, generation).catch((error: unknown) => this.#reportError(error))
        } else {
          void this.#waitFor(root, generation).catch((error: unknown) => this.#reportError(error))
        }
      }).catch((error: unknown) => this.#reportError(error))
    try {
      root.waiting = await subscribe(
        ancestor,
        (changes) => {
          if (changes.some((c) => c.path === root.abs || root.abs.startsWith(c.path + path.sep))) void recheck()
        },
        { recursive: false, defaultIgnore: false, persistent: false, onError: (error) => this.#reportError(error) },
      )
    } catch (error) {
      if ((error as WatchError).code === 'ERR_WATCH_NOT_FOUND') return this.#waitFor(root, generation)
      throw error
    }
    if (generation !== this.#generation || this.#roots.get(root.abs) !== root) {
      await root.waiting.close()
      root.waiting = undefined
      return
    }
    // It may have appeared while the watch was starting.
    if (await this.#stat(root.abs)) await recheck()
  }

  // ---------------------------------------------------------------------------------------------
  // Changes

  async #onChanges(group: Group, changes: FileChange[]): Promise<void> {
    if (this.closed || group.closed) return
    const owned: Array<{ change: FileChange; root: Root }> = []
    for (const change of changes) {
      let root = this.#ownerOf(change.path)
      if (root && root.group !== group && group.retiring) root = this.#coveredBy(group, change.path) ?? undefined
      else if (root?.group !== group) root = undefined
      if (!root) continue
      if (this.listenerCount('raw') > 0) this.emit('raw', change.type, change.path, { watchedPath: root.abs })
      owned.push({ change, root })
    }
    const segments = (p: string): number => p.split(path.sep).length
    const deletions = owned.filter((o) => o.change.type === 'deleted').sort((a, b) => segments(b.change.path) - segments(a.change.path))
    const others = owned.filter((o) => o.change.type !== 'deleted').sort((a, b) => segments(a.change.path) - segments(b.change.path))
    const stats = await Promise.all(others.map((o) => this.#stat(o.change.path)))
    if (this.closed || group.closed) return

    for (const { change, root } of deletions) {
      const abs = change.path
      if (!this.#isKnown(abs)) continue
      const wasDir = this.#dirs.has(abs)
      this.#forget(abs)
      this.#emit(wasDir ? 'unlinkDir' : 'unlink', abs, root)
    }
    others.forEach(({ change, root }, i) => {
      const abs = change.path
      const st = stats[i]
      if (!st) return // gone again: its deletion follows
      if (abs !== root.abs) {
        const parent = this.#dirs.get(path.dirname(abs))
        if (!parent?.expanded || !this.#withinDepth(abs, root)) return
      }
      if (this.#isIgnored(abs, root, st)) return
      const known = this.#isKnown(abs)
      const knownDir = this.#dirs.has(abs) && known
      if (st.isDirectory()) {
        if (knownDir) return
        if (known) {
          this.#forget(abs)
          this.#emit('unlink', abs, root)
        }
        const depth = this.options.depth
        this.#recordDir(abs, depth === undefined || this.#level(abs, root) <= depth)
        this.#emit('addDir', abs, root, st)
      } else if (knownDir) {
        this.#forget(abs)
        this.#emit('unlinkDir', abs, root)
        this.#recordFile(abs)
        this.#emit('add', abs, root, st)
      } else if (known) {
        // `added` for a known file: it was listed by the scan that raced this change.
        if (change.type === 'modified' && !this.#reportedByOther(group, abs)) this.#emit('change', abs, root, st)
      } else {
        this.#recordFile(abs)
        this.#emit('add', abs, root, st)
      }
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Emitting

  #emit(event: PathEventName, abs: string, root: Root | undefined, stats?: fs.Stats): void {
    if (this.closed) return
    const awf = this.options.awaitWriteFinish
    if (awf) {
      const pending = this.#pendingWrites.get(abs)
      if (event === 'unlink' || event === 'unlinkDir') {
        if (pending) {
          clearTimeout(pending.timer)
          this.#pendingWrites.delete(abs)
          if (pending.event === 'add') return
        }
      } else if ((event === 'add' || event === 'change') && this.#readyEmitted) {
        if (pending) {
          pending.lastChange = Date.now()
          return
        }
        this.#awaitWriteFinish(abs, root, event, awf)
        return
      }
    }
    const out = this.#eventPath(abs, root)
    if (stats) {
      this.emit(event, out, stats)
      this.emit('all', event, out, stats)
    } else {
      this.emit(event, out)
      this.emit('all', event, out)
    }
  }

  #awaitWriteFinish(abs: string, root: Root | undefined, event: 'add' | 'change', awf: AWF): void {
    const pending: PendingWrite = { event, lastChange: Date.now() }
    this.#pendingWrites.set(abs, pending)
    const poll = (): void => {
      fs.stat(abs, (error, st) => {
        if (this.#pendingWrites.get(abs) !== pending || this.closed) return
        if (error) {
          this.#pendingWrites.delete(abs)
          if (error.code !== 'ENOENT') this.#reportError(error)
          return
        }
        const now = Date.now()
        if (pending.lastSize !== undefined && st.size !== pending.lastSize) pending.lastChange = now
        pending.lastSize = st.size
        if (now - pending.lastChange >= awf.stabilityThreshold) {
          this.#pendingWrites.delete(abs)
          const out = this.#eventPath(abs, root)
          this.emit(event, out, st)
          this.emit('all', event, out, st)
        } else {
          pending.timer = setTimeout(poll, awf.pollInterval)
        }
      })
    }
    pending.timer = setTimeout(poll, awf.pollInterval)
  }

  #reportError(error: unknown): void {
    if (this.closed) return
    const err = error instanceof Error ? error : new Error(String(error))
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.emitWarning(err.message, { type: 'WatchfilesWarning', code: (err as WatchError).code })
  }

  #readyDone(): void {
    this.#pendingReady--
    if (this.#pendingReady > 0 || this.#readyEmitted || this.closed) return
    this.#readyEmitted = true
    process.nextTick(() => {
      if (!this.closed) this.emit('ready')
    })
  }

  /** Holds the process while starting, and afterwards while persistent and referenced. */
  #holdProcess(): void {
    if (!this.#keepAlive) this.#keepAlive = setInterval(() => {}, KEEP_ALIVE_MS)
    this.#keepAlive.ref()
  }

  #releaseProcess(): void {
    if (!this.options.persistent || !this.#refed) this.#keepAlive?.unref()
  }
}

/**
 * Watches `paths` (files or folders) as chokidar does:
 *
 * ```ts
 * import { watch } from 'watchfiles-node/chokidar'
 * watch('src', { ignoreInitial: true }).on('all', (event, path) => console.log(event, path))
 * ```
 */
export function watch(paths: string | readonly string[], options: ChokidarOptions = {}): FSWatcher {
  const watcher = new FSWatcher(options)
  watcher.add(paths)
  return watcher
}

export default { watch, FSWatcher }
