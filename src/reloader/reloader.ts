import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { FileChange } from '../changes.js'
import { native } from '../native.js'
import { WATCH_OPTION_NAMES, type WatchOptions } from '../options.js'
import { subscribe, type Backend, type BatchInfo, type Subscription } from '../watch.js'
import { killGroupsNow } from './process-group.js'
import { ProcessWorker } from './process-worker.js'
import { checkMs, Worker, type ExitInfo } from './worker.js'

export interface ReloaderOptions extends Omit<WatchOptions, 'signal' | 'persistent'> {
  /** Folders or files to watch. Default: the current directory. */
  paths?: string | string[]
  /** Restart a worker that crashes, with backoff: 1 s doubling to 30 s, reset once it has stayed
   *  up 10 s. Default `false`: a crashed worker starts again on the next change. */
  restartOnCrash?: boolean
  /** Open this listening socket once and hand it to every process worker as fd 3 with
   *  `LISTEN_FDS=1`: connections made while a worker restarts wait and are served by the next. */
  listen?: number | { port: number; host?: string }
  /** Ignore changes for this long (ms) after `start()`. Default 0. */
  gracePeriod?: number
  /** Stop the workers and exit on SIGINT, SIGTERM and SIGHUP (then re-raise the signal).
   *  Default `true`. */
  handleSignals?: boolean
}

export interface StartEvent { worker: Worker; pid: number | undefined; changes: FileChange[] }
export interface ReadyEvent {
  worker: Worker
  /** Time from the first change that caused this start (or from `start()`) to ready. */
  ms: number
  changes: FileChange[]
}
export interface RestartEvent { worker: Worker; changes: FileChange[]; reason: 'change' | 'manual' | 'crash' }
export interface ExitEvent extends ExitInfo { worker: Worker }

export interface ReloaderEvents {
  start: [StartEvent]
  ready: [ReadyEvent]
  restart: [RestartEvent]
  exit: [ExitEvent]
  crash: [ExitEvent]
  error: [Error]
}

const BACKOFF_FIRST_MS = 1000
const BACKOFF_MAX_MS = 30_000
const BACKOFF_RESET_AFTER_MS = 10_000
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** One worker and its restart state. Restarts of a worker run one after the other. */
class Slot {
  queue: Promise<void> = Promise.resolve()
  startedAt = 0
  crashes = 0
  backoff: NodeJS.Timeout | undefined
  /** Increments on each start, so late signals of an earlier run are dropped. */
  run = 0

  constructor(readonly worker: Worker) {}

  serialize(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job, job)
    this.queue = next.catch(() => {})
    return next
  }
}

/**
 * Restarts registered workers when files change: the counterpart of watchfiles' `run_process`.
 *
 * ```ts
 * const reloader = new Reloader({ paths: ['src'] })
 * reloader.add(new NodeWorker({ script: 'src/server.js' }))
 * await reloader.start()
 * ```
 */
export class Reloader extends EventEmitter<ReloaderEvents> {
  readonly options: ReloaderOptions
  #slots: Slot[] = []
  #subscription: Subscription | undefined
  #listenFd: number | undefined
  #listenPort: number | undefined
  #state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new'
  #closing: Promise<void> | undefined
  #acceptChangesAt = 0
  #onSignal = (signal: NodeJS.Signals): void => {
    this.#removeProcessHooks()
    void this.close().finally(() => process.kill(process.pid, signal))
  }
  #onExit = (): void => {
    killGroupsNow(this.#slots.flatMap((s) => (s.worker instanceof ProcessWorker ? s.worker.processGroups : [])))
  }

  constructor(options: ReloaderOptions = {}) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('Reloader options must be an object')
    for (const key of Object.keys(options)) {
      if (!WATCH_OPTION_NAMES.has(key) && !['paths', 'restartOnCrash', 'listen', 'gracePeriod', 'handleSignals'].includes(key)) {
        throw new TypeError(`unknown option \`${key}\``)
      }
    }
    const { listen } = options
    const port = typeof listen === 'object' && listen !== null ? listen.port : listen
    if (listen !== undefined && (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)) {
      throw new RangeError(`option \`listen\` must be a port number or { port, host }, got ${JSON.stringify(listen)}`)
    }
    checkMs('gracePeriod', options.gracePeriod, 0)
    this.options = options
  }

  /** Registers a worker (before or after `start()`). */
  add(worker: Worker): this {
    if (!(worker instanceof Worker)) throw new TypeError('add() takes a ProcessWorker, NodeWorker, ThreadWorker or FunctionWorker')
    if (this.#state === 'closing' || this.#state === 'closed') throw new Error('the reloader is closed')
    const slot = new Slot(worker)
    this.#slots.push(slot)
    if (this.#state === 'running') void slot.serialize(() => this.#start(slot, [], Date.now()))
    return this
  }

  get workers(): Worker[] {
    return this.#slots.map((s) => s.worker)
  }

  /** The watching backend, once started. */
  get backend(): Backend | undefined {
    return this.#subscription?.backend
  }

  /** The paths watched, once started. */
  get paths(): readonly string[] {
    return this.#subscription?.paths ?? []
  }

  /** The port of the `listen` socket, once started (useful with `listen: 0`). */
  get listenPort(): number | undefined {
    return this.#listenPort
  }

  /** Opens the `listen` socket, starts watching, then starts every worker. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`start() was already called (the reloader is ${this.#state})`)
    this.#state = 'starting'
    const { listen } = this.options
    try {
      if (listen !== undefined) {
        const { port, host } = typeof listen === 'object' ? listen : { port: listen, host: undefined }
        this.#listenFd = openListener(port, host)
        this.#listenPort = native.listenerPort(this.#listenFd)
      }
      this.#acceptChangesAt = Date.now() + (this.options.gracePeriod ?? 0)
      this.#subscription = await subscribe(this.#watchedPaths(), (changes, info) => this.#onChanges(changes, info), {
        ...this.#watchOptions(),
        onError: (error) => this.#emitError(error),
      })
    } catch (error) {
      this.#state = 'closed'
      if (this.#listenFd !== undefined) native.closeListener(this.#listenFd)
      throw error
    }
    if (this.options.handleSignals !== false) for (const signal of SIGNALS) process.on(signal, this.#onSignal)
    process.on('exit', this.#onExit)
    this.#state = 'running'
    const startedAt = Date.now()
    await Promise.all(this.#slots.map((slot) => slot.serialize(() => this.#start(slot, [], startedAt))))
  }

  /** Restarts every worker now (or only `worker`). */
  async restart(worker?: Worker): Promise<void> {
    if (this.#state !== 'running') throw new Error(`restart() needs a started reloader (it is ${this.#state})`)
    const at = Date.now()
    const slots = this.#slots.filter((s) => worker === undefined || s.worker === worker)
    await Promise.all(slots.map((slot) => slot.serialize(() => this.#restart(slot, [], 'manual', at))))
  }

  /** Stops watching and stops every worker (the whole process group, escalating to SIGKILL). */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#state = 'closing'
    this.#removeProcessHooks()
    await this.#subscription?.close()
    await Promise.all(
      this.#slots.map((slot) => {
        clearTimeout(slot.backoff)
        slot.run++
        return slot
          .serialize(async () => {
            await slot.worker.stop()
            await slot.worker.dispose()
          })
          .catch((error) => this.#emitError(error))
      }),
    )
    if (this.#listenFd !== undefined) native.closeListener(this.#listenFd)
    this.#listenFd = undefined
    this.#state = 'closed'
  }

  #removeProcessHooks(): void {
    for (const signal of SIGNALS) process.off(signal, this.#onSignal)
    process.off('exit', this.#onExit)
  }

  /** Every path to watch: the reloader's, and those of workers that have their own. */
  #watchedPaths(): string[] {
    const own = this.options.paths ?? '.'
    const paths = (typeof own === 'string' ? [own] : own).map((p) => path.resolve(p))
    for (const slot of this.#slots) for (const p of slot.worker.paths ?? []) if (!paths.includes(p)) paths.push(p)
    return paths
  }

  #watchOptions(): WatchOptions {
    const picked: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(this.options)) if (WATCH_OPTION_NAMES.has(key) && key !== 'onError') picked[key] = value
    return picked as WatchOptions
  }

  /** Restarts the workers a batch concerns. The core merges changes that arrive meanwhile into
   *  the next batch, which comes once this resolves: exactly one follow-up restart. */
  async #onChanges(changes: FileChange[], info: BatchInfo): Promise<void> {
    if (this.#state !== 'running' || Date.now() < this.#acceptChangesAt) return
    await Promise.all(
      this.#slots.map((slot) => {
        const relevant = changes.filter((change) => slot.worker.accepts(change))
        if (relevant.length === 0) return undefined
        return slot.serialize(() => this.#restart(slot, relevant, 'change', info.firstChangeAt))
      }),
    )
  }

  async #restart(slot: Slot, changes: FileChange[], reason: RestartEvent['reason'], triggeredAt: number): Promise<void> {
    if (this.#state !== 'running') return
    clearTimeout(slot.backoff)
    this.emit('restart', { worker: slot.worker, changes, reason })
    slot.run++ // what the stopped run reports from now on is ours, not news
    try {
      await slot.worker.stop()
    } catch (error) {
      this.#emitError(error)
    }
    await this.#start(slot, changes, triggeredAt)
  }

  async #start(slot: Slot, changes: FileChange[], triggeredAt: number): Promise<void> {
    if (this.#state !== 'running') return
    const run = ++slot.run
    const { worker } = slot
    // 'ready' is emitted once per start, and never before 'start'.
    const state: { ready: 'no' | 'early' | 'emitted'; started: boolean } = { ready: 'no', started: false }
    const emitReady = (): void => {
      state.ready = 'emitted'
      this.emit('ready', { worker, ms: Date.now() - triggeredAt, changes })
    }
    slot.startedAt = Date.now()
    try {
      await worker.start({
        changes,
        ...(this.#listenFd !== undefined ? { listenFd: this.#listenFd } : {}),
        ready: () => {
          if (state.ready !== 'no' || slot.run !== run) return
          if (state.started) emitReady()
          else state.ready = 'early'
        },
        exited: (info) => {
          if (slot.run === run) this.#exited(slot, info)
        },
      })
    } catch (error) {
      this.#exited(slot, { code: null, signal: null, error: error instanceof Error ? error : new Error(String(error)) })
      return
    }
    if (slot.run !== run) return
    state.started = true
    this.emit('start', { worker, pid: worker.pid, changes })
    if (state.ready === 'early') emitReady()
  }

  /** A worker ended by itself: report it, and restart it with backoff if it crashed and asks to. */
  #exited(slot: Slot, info: ExitInfo): void {
    slot.run++
    const { worker } = slot
    const crashed = info.error !== undefined || info.code !== 0
    this.emit('exit', { worker, ...info })
    if (!crashed) {
      slot.crashes = 0
      return
    }
    this.emit('crash', { worker, ...info })
    const restartOnCrash = worker.restartOnCrash ?? this.options.restartOnCrash ?? false
    if (!restartOnCrash || this.#state !== 'running') return
    if (Date.now() - slot.startedAt >= BACKOFF_RESET_AFTER_MS) slot.crashes = 0
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** slot.crashes, BACKOFF_MAX_MS)
    slot.crashes++
    slot.backoff = setTimeout(() => {
      void slot.serialize(() => this.#restart(slot, [], 'crash', Date.now()))
    }, delay)
  }

  #emitError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.emitWarning(err.message, { type: 'WatchfilesReloaderWarning' })
  }
}

/** A listening socket on `host` (default: every address, IPv6 and IPv4, else IPv4 only). */
function openListener(port: number, host: string | undefined): number {
  if (host !== undefined) return native.listenTcp(host, port)
  try {
    return native.listenTcp('::', port)
  } catch {
    return native.listenTcp('0.0.0.0', port)
  }
}
