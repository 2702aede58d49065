import path from 'node:path'
import { Worker as Thread } from 'node:worker_threads'
import { changesEnv } from './process-worker.js'
import { Worker, type StartContext, type WorkerOptions } from './worker.js'

export interface ThreadWorkerOptions extends WorkerOptions {
  /** The module run in a `worker_threads` Worker. It receives `workerData.changes`. */
  script: string
  /** Passed as `workerData` beside `changes`. */
  workerData?: Record<string, unknown>
}

/** A `worker_threads` Worker, terminated and created again on each restart. Ready once online. */
export class ThreadWorker extends Worker {
  readonly script: string
  readonly #workerData: Record<string, unknown>
  #thread: Thread | undefined

  constructor(options: ThreadWorkerOptions) {
    if (options === null || typeof options !== 'object' || typeof options.script !== 'string' || options.script === '') {
      throw new TypeError('ThreadWorker needs an options object with a `script` path')
    }
    super(options, path.basename(options.script))
    this.script = path.resolve(options.script)
    this.#workerData = options.workerData ?? {}
  }

  override async start(context: StartContext): Promise<void> {
    const thread = new Thread(this.script, {
      workerData: { ...this.#workerData, changes: context.changes },
      env: { ...process.env, ...changesEnv(context.changes) },
    })
    this.#thread = thread
    let failure: Error | undefined
    thread.once('online', () => context.ready())
    thread.once('error', (error) => (failure = error))
    thread.once('exit', (code) => {
      if (this.#thread !== thread) return // stopped by the reloader
      this.#thread = undefined
      context.exited({ code: failure ? 1 : code, signal: null, ...(failure ? { error: failure } : {}) })
    })
  }

  override async stop(): Promise<void> {
    const thread = this.#thread
    this.#thread = undefined
    if (thread) await thread.terminate()
  }
}
