import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import { ProcessWorker, type ProcessWorkerOptions } from './process-worker.js'
import type { StartContext } from './worker.js'

export interface NodeWorkerOptions extends Omit<ProcessWorkerOptions, 'command' | 'shell'> {
  /** The script to run with this Node.js. */
  script: string
  args?: string[]
  /** Node options (`--inspect`, `--import tsx`, ...). */
  execArgv?: string[]
}

/**
 * A Node.js child process with an IPC channel. It is ready when it sends `{ type: 'ready' }`
 * (the `listen()` helper of this package does so once the server listens), when its output
 * matches `readyPattern`, or when `readyPort` accepts a connection.
 */
export class NodeWorker extends ProcessWorker {
  readonly script: string

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
    const script = path.resolve(options.script)
    super({
      name: path.basename(options.script),
      ...options,
      command: [process.execPath, ...(options.execArgv ?? []), script, ...(options.args ?? [])],
      shell: false,
    })
    this.script = script
  }

  protected override extraStdio(): Array<'ipc'> {
    return ['ipc']
  }

  protected override readyOnSpawn(): boolean {
    return false
  }

  protected override attached(child: ChildProcess, context: StartContext): void {
    child.on('message', (message: unknown) => {
      if (message !== null && typeof message === 'object' && (message as { type?: unknown }).type === 'ready') context.ready()
    })
  }
}
