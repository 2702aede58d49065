import type { FileChange } from '../changes.js'
import { checkMs, Worker, type StartContext, type WorkerOptions } from './worker.js'

export interface FunctionWorkerOptions extends WorkerOptions {
  /** How long (ms) a call may go on after its signal aborts before the next call starts anyway.
   *  Default 5000. */
  stopTimeout?: number
}

export type WorkerFunction = (changes: FileChange[], signal: AbortSignal) => unknown

/**
 * A function called with each batch (and with `[]` at start). When the next batch arrives before
 * a call has finished, its `signal` aborts and the next call waits for it to settle. Ready when a
 * call resolves; a call that rejects (other than by the abort) is a crash.
 */
export class FunctionWorker extends Worker {
  readonly fn: WorkerFunction
  readonly stopTimeout: number
  #call: { controller: AbortController; settled: Promise<void> } | undefined

  constructor(fn: WorkerFunction, options: FunctionWorkerOptions = {}) {
    if (typeof fn !== 'function') throw new TypeError('FunctionWorker needs a function')
    super(options, fn.name || 'function')
    this.fn = fn
    this.stopTimeout = checkMs('stopTimeout', options.stopTimeout, 5000)
  }

  override async start(context: StartContext): Promise<void> {
    const controller = new AbortController()
    const settled = (async () => {
      try {
        await this.fn(context.changes, controller.signal)
        if (!controller.signal.aborted) context.ready()
      } catch (error) {
        if (controller.signal.aborted) return
        context.exited({ code: 1, signal: null, error: error instanceof Error ? error : new Error(String(error)) })
      } finally {
        if (this.#call?.controller === controller) this.#call = undefined
      }
    })()
    this.#call = { controller, settled }
  }

  override async stop(): Promise<void> {
    const call = this.#call
    if (!call) return
    this.#call = undefined
    call.controller.abort(new DOMException('a newer batch of changes arrived', 'AbortError'))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([call.settled, new Promise<void>((r) => (timer = setTimeout(r, this.stopTimeout)))])
    clearTimeout(timer)
  }
}
