import { unpackChanges, type FileChange } from './changes.js'
import { toWatchError, type WatchError } from './errors.js'
import { native, type NativeEvent, type NativeWatcher } from './native.js'
import { resolveWatchArgs, type ResolvedWatch, type WatchOptions } from './options.js'

/** How changes are detected: the OS mechanism in use, or polling. */
export type Backend = 'inotify' | 'fsevents' | 'windows' | 'kqueue' | 'polling'

/** Returned by `watch()`: iterate it for batches of changes. */
export interface Watcher extends AsyncIterableIterator<FileChange[]> {
  /** Resolves once every OS watch is in place; rejects when watching could not start. */
  readonly ready: Promise<void>
  /** Known once `ready` has resolved. */
  readonly backend: Backend | undefined
  /** The absolute paths being watched. */
  readonly paths: readonly string[]
  /** Stops watching; iteration ends. Once it resolves nothing more is delivered. */
  close(): Promise<void>
}

/** About one batch, beside its changes. */
export interface BatchInfo {
  /** When the batch's first change was seen (ms since the epoch, like `Date.now()`). */
  firstChangeAt: number
}

/** Returned by `subscribe()`. */
export interface Subscription {
  readonly backend: Backend
  readonly paths: readonly string[]
  close(): Promise<void>
}

/** Longest a timer can wait; it keeps the event loop alive without ever waking it. */
const KEEP_ALIVE_MS = 2 ** 31 - 1

/**
 * One native watcher and what surrounds it: readiness, the keep-alive, the abort signal and the
 * acknowledgement that lets the core send the next batch (until then it merges changes in Rust,
 * so a slow consumer never makes a queue grow).
 */
class Session {
  readonly ready: Promise<Backend>
  backend: Backend | undefined
  closed = false
  readonly paths: readonly string[]
  #native: NativeWatcher
  #keepAlive: NodeJS.Timeout | undefined
  #signal: AbortSignal | undefined
  #onAbort = (): void => void this.close()
  #settle!: { resolve: (b: Backend) => void; reject: (e: Error) => void }
  #closing: Promise<void> | undefined
  #closed: (() => void) | undefined

  constructor(
    private readonly opts: ResolvedWatch,
    private readonly onBatch: (changes: FileChange[], info: BatchInfo, done: () => void) => void,
    private readonly onFailure: (error: Error) => void,
    private readonly onClose: () => void = () => {},
  ) {
    this.ready = new Promise<Backend>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    this.ready.catch(() => {}) // a rejection nobody awaits must not crash the process
    const started = native.startWatcher(opts.paths, opts.native, (event) => this.#onEvent(event))
    if (!('ack' in started)) throw toWatchError(started)
    this.#native = started
    this.paths = started.roots
    // Starting is pending work like any I/O: hold the process until ready, and after that only
    // when persistent.
    this.#keepAlive = setInterval(() => {}, KEEP_ALIVE_MS)
    if (!opts.persistent) {
      this.ready.then(
        () => this.#keepAlive?.unref(),
        () => {},
      )
    }
    if (opts.signal) {
      this.#signal = opts.signal
      if (opts.signal.aborted) void this.close()
      else opts.signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  /** Reports an error that does not stop watching. */
  reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    if (this.opts.onError) {
      try {
        this.opts.onError(err)
        return
      } catch (inner) {
        process.emitWarning(`watchfiles-node: onError threw: ${String(inner)}`)
      }
    }
    process.emitWarning(err.message, { type: 'WatchfilesWarning', code: (err as WatchError).code })
  }

  /** Stops delivery at once; resolves once every OS watch is gone (the core releases them on a
   *  thread of its own, so the event loop is not blocked meanwhile). */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    this.closed = true
    this.#closing = new Promise<void>((resolve) => (this.#closed = resolve))
    this.#keepAlive?.ref() // until the core confirms, even when not persistent
    this.#native.close()
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#settle.reject(toWatchError({ code: 'ERR_WATCH_CLOSED', message: 'the watcher was closed before it was ready' }))
    this.onClose()
    return this.#closing
  }

  #onEvent(event: NativeEvent): void {
    if (event.kind === 'closed') {
      this.#native.release()
      clearInterval(this.#keepAlive)
      this.#closed?.()
      return
    }
    if (this.closed) return
    switch (event.kind) {
      case 'ready':
        this.backend = event.backend as Backend
        this.#settle.resolve(this.backend)
        return
      case 'changes':
        return this.#onChanges(unpackChanges(event.changes ?? '', event.rawPaths), {
          firstChangeAt: event.firstChangeAt ?? Date.now(),
        })
      case 'warning':
        process.emitWarning(event.message ?? '', { type: 'WatchfilesWarning', code: event.code })
        return
      case 'error':
        return this.reportError(toWatchError(event))
      case 'failed': {
        const err = toWatchError(event)
        this.#settle.reject(err)
        void this.close()
        this.onFailure(err)
        return
      }
    }
  }

  #onChanges(changes: FileChange[], info: BatchInfo): void {
    let done = false
    const ack = (): void => {
      if (done || this.closed) return
      done = true
      this.#native.ack()
    }
    let kept = changes
    const filter = this.opts.filter
    if (filter) {
      try {
        kept = changes.filter((change) => filter(change))
      } catch (error) {
        ack()
        this.onFailure(error instanceof Error ? error : new Error(String(error)))
        return
      }
    }
    if (kept.length === 0) return ack()
    this.onBatch(kept, info, ack)
  }
}

class IteratingWatcher implements Watcher {
  readonly ready: Promise<void>
  #session: Session
  /** At most one batch waits here: the core is not acknowledged until it is taken. */
  #pending: { changes: FileChange[]; ack: () => void } | undefined
  #waiting: { resolve: (r: IteratorResult<FileChange[]>) => void; reject: (e: Error) => void } | undefined
  #error: Error | undefined

  constructor(opts: ResolvedWatch) {
    this.#session = new Session(
      opts,
      (changes, _info, ack) => this.#deliver(changes, ack),
      (error) => this.#fail(error),
      () => this.#ended(),
    )
    this.ready = this.#session.ready.then(() => undefined)
    this.ready.catch(() => {})
  }

  get backend(): Backend | undefined {
    return this.#session.backend
  }

  get paths(): readonly string[] {
    return this.#session.paths
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<FileChange[]>> {
    if (this.#error) {
      const error = this.#error
      this.#error = undefined
      return Promise.reject(error)
    }
    const pending = this.#pending
    if (pending) {
      this.#pending = undefined
      pending.ack()
      return Promise.resolve({ value: pending.changes, done: false })
    }
    if (this.#session.closed) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }

  async return(): Promise<IteratorResult<FileChange[]>> {
    await this.close()
    return { value: undefined, done: true }
  }

  close(): Promise<void> {
    return this.#session.close()
  }

  #ended(): void {
    this.#pending = undefined
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.resolve({ value: undefined, done: true })
  }

  #deliver(changes: FileChange[], ack: () => void): void {
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      ack()
      waiting.resolve({ value: changes, done: false })
    } else {
      this.#pending = { changes, ack }
    }
  }

  #fail(error: Error): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting) waiting.reject(error)
    else this.#error = error
    void this.#session.close()
  }
}

/**
 * Watches `paths` (folders or files) and yields batches of net changes:
 *
 * ```ts
 * for await (const changes of watch('src')) console.log(changes)
 * ```
 *
 * Throws a `TypeError`/`RangeError` for bad arguments and a `WatchError` (`ERR_WATCH_NOT_FOUND`)
 * for a path that does not exist. Iteration ends when `close()` is called or the signal aborts.
 */
export function watch(paths: string | string[], options?: WatchOptions): Watcher {
  return new IteratingWatcher(resolveWatchArgs(paths, options))
}

/**
 * Calls `onChanges` with each batch of net changes. Resolves once every OS watch is in place.
 * If `onChanges` returns a promise, the next batch waits for it (changes meanwhile are merged).
 */
export async function subscribe(
  paths: string | string[],
  onChanges: (changes: FileChange[], info: BatchInfo) => void | Promise<void>,
  options?: WatchOptions,
): Promise<Subscription> {
  if (typeof onChanges !== 'function') {
    throw new TypeError(`onChanges must be a function, got ${onChanges === null ? 'null' : typeof onChanges}`)
  }
  const resolved = resolveWatchArgs(paths, options)
  const session: Session = new Session(
    resolved,
    (changes, info, ack) => {
      let result: void | Promise<void>
      try {
        result = onChanges(changes, info)
      } catch (error) {
        session.reportError(error)
        return ack()
      }
      if (result && typeof (result as Promise<void>).then === 'function') {
        ;(result as Promise<void>).then(ack, (error) => {
          session.reportError(error)
          ack()
        })
      } else {
        ack()
      }
    },
    (error) => session.reportError(error),
  )
  const backend = await session.ready
  return {
    backend,
    paths: session.paths,
    close: () => session.close(),
  }
}
