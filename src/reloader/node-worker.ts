import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { killGroupsNow, stopGroup } from './process-group.js'
import { changesEnv, ProcessWorker, type ProcessWorkerOptions } from './process-worker.js'
import type { StartContext } from './worker.js'

export interface NodeWorkerOptions extends Omit<ProcessWorkerOptions, 'command' | 'shell'> {
  /** The script to run with this Node.js. */
  script: string
  args?: string[]
  /** Node options (`--inspect`, `--import tsx`, ...). */
  execArgv?: string[]
  /** Keep the next process started ahead of time, idle until a restart needs it: a restart then
   *  skips Node.js's own start-up (about 40 ms on a fast machine, over 100 ms on a slow one). It
   *  costs one idle Node.js process. Default `true` when `execArgv` is empty (what `execArgv`
   *  preloads would be loaded before the change that restarts it). */
  prewarm?: boolean
  /** Ready only when the script sends `{ type: 'ready' }` (or by `readyPattern`/`readyPort`).
   *  Default `true`; `false` counts it ready once started. */
  waitForReadyMessage?: boolean
}

/** The bootstrap a prewarmed process runs, built beside this module (or, from the sources, in
 *  dist/). */
function prewarmScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [path.join(here, 'prewarm.cjs'), path.join(here, '..', '..', 'dist', 'prewarm.cjs')]
  return candidates.find((file) => fs.existsSync(file)) ?? candidates[0]!
}

/** How long after a start the next process is started ahead: not while the current one is still
 *  starting, which would slow it down. */
const PREWARM_DELAY_MS = 500

/**
 * A Node.js child process with an IPC channel. It is ready when it sends `{ type: 'ready' }`
 * (the `listen()` helper of this package does so once the server listens), when its output
 * matches `readyPattern`, or when `readyPort` accepts a connection.
 */
export class NodeWorker extends ProcessWorker {
  readonly script: string
  readonly prewarm: boolean
  override readonly options: NodeWorkerOptions & ProcessWorkerOptions
  readonly #args: string[]
  readonly #execArgv: string[]
  #spare: ChildProcess | undefined
  #spareTimer: NodeJS.Timeout | undefined
  #disposed = false

  constructor(options: NodeWorkerOptions) {
    if (options === null || typeof options !== 'object' || typeof options.script !== 'string' || options.script === '') {
      throw new TypeError('NodeWorker needs an options object with a `script` path')
    }
    for (const key of ['args', 'execArgv'] as const) {
      const list = options[key]
      if (list !== undefined && (!Array.isArray(list) || list.some((a) => typeof a !== 'string'))) {
        throw new TypeError(`option \`${key}\` must be an array of strings`)
      }
    }
    if (options.prewarm !== undefined && typeof options.prewarm !== 'boolean') {
      throw new TypeError('option `prewarm` must be a boolean')
    }
    const script = path.resolve(options.script)
    super({
      name: path.basename(options.script),
      ...options,
      command: [process.execPath, ...(options.execArgv ?? []), script, ...(options.args ?? [])],
      shell: false,
    })
    this.script = script
    this.options = { ...options, command: this.command }
    this.#args = options.args ?? []
    this.#execArgv = options.execArgv ?? []
    this.prewarm = options.prewarm ?? this.#execArgv.length === 0
  }

  /** Hands over the process started ahead, if there is a live one; else starts one now. Either way
   *  the script runs under the bootstrap, which also stops it if the reloader goes away. */
  protected override launch(context: StartContext): ChildProcess {
    clearTimeout(this.#spareTimer)
    const spare = this.#spare
    this.#spare = undefined
    let child: ChildProcess
    const go = { type: 'go', env: changesEnv(context.changes), stopSignal: this.stopSignal }
    if (spare && spare.connected && spare.exitCode === null && spare.signalCode === null) {
      child = spare
    } else {
      if (spare?.pid !== undefined) killGroupsNow([spare.pid])
      child = this.#spawnBootstrap(context.listenFd)
    }
    child.send(go)
    if (this.prewarm && !this.#disposed) {
      this.#spareTimer = setTimeout(() => {
        if (this.#disposed) return
        this.#spare = this.#spawnBootstrap(context.listenFd)
        this.#spare.on('error', () => {}) // a spare that fails is simply not used
      }, PREWARM_DELAY_MS)
      this.#spareTimer.unref()
    }
    return child
  }

  #spawnBootstrap(listenFd: number | undefined): ChildProcess {
    return this.spawnProcess(listenFd, [process.execPath, [...this.#execArgv, prewarmScript(), this.script, ...this.#args]], {})
  }

  override get processGroups(): number[] {
    const spare = this.#spare?.pid
    return spare === undefined ? super.processGroups : [...super.processGroups, spare]
  }

  override async dispose(): Promise<void> {
    this.#disposed = true
    clearTimeout(this.#spareTimer)
    const spare = this.#spare
    this.#spare = undefined
    if (spare?.pid !== undefined) {
      await stopGroup(spare.pid, { signal: 'SIGKILL', stopTimeoutMs: 0, killTimeoutMs: 5000, child: spare })
    }
  }

  protected override extraStdio(): Array<'ipc'> {
    return ['ipc']
  }

  protected override readyOnSpawn(): boolean {
    return this.options.waitForReadyMessage === false
  }

  protected override attached(child: ChildProcess, context: StartContext): void {
    child.on('message', (message: unknown) => {
      if (message !== null && typeof message === 'object' && (message as { type?: unknown }).type === 'ready') context.ready()
    })
  }
}
