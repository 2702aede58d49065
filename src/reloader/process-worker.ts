import type { ChildProcess, StdioOptions } from 'node:child_process'
import path from 'node:path'
import type { FileChange } from '../changes.js'
import { splitCommand } from './command.js'
import { spawnInGroup, stopGroup } from './process-group.js'
import { forwardAndMatch, waitForPort } from './readiness.js'
import { checkMs, Worker, type StartContext, type WorkerOptions } from './worker.js'

export interface ProcessWorkerOptions extends WorkerOptions {
  /** An argument array (run without a shell), or a command line: split as a POSIX shell would
   *  unless `shell` is set. */
  command: string | string[]
  cwd?: string
  /** Added to the environment. */
  env?: Record<string, string | undefined>
  /** Sent to the whole process group to stop it. Default `'SIGTERM'`. */
  stopSignal?: NodeJS.Signals
  /** Time (ms) the group has to exit before it is SIGKILLed. Default 5000. */
  stopTimeout?: number
  /** Time (ms) to wait after SIGKILL before reporting the group as unkillable. Default 5000. */
  killTimeout?: number
  /** Run `command` through `/bin/sh -c` (`cmd.exe` on Windows). Default `false`. */
  shell?: boolean
  /** Ready when a line of output matches (output is then piped through the reloader). */
  readyPattern?: RegExp | string
  /** Ready when this port accepts a connection. */
  readyPort?: number
  /** Host for `readyPort`. Default `'127.0.0.1'`. */
  readyHost?: string
}

/** Largest `WATCHFILES_CHANGES` passed: one environment string is capped at 128 KiB on Linux. */
const MAX_CHANGES_JSON = 64 * 1024

/** `WATCHFILES_CHANGES` as watchfiles writes it: `[["modified","/abs/a.js"], ...]`. A batch too
 *  large for the environment is cut at whole entries and `WATCHFILES_CHANGES_TRUNCATED` is set. */
export function changesEnv(changes: FileChange[]): Record<string, string> {
  const entries = changes.map((c) => JSON.stringify([c.type, c.path]))
  let size = 2
  let count = 0
  while (count < entries.length && size + entries[count]!.length + 1 <= MAX_CHANGES_JSON) size += entries[count++]!.length + 1
  const env: Record<string, string> = { WATCHFILES_CHANGES: `[${entries.slice(0, count).join(',')}]` }
  if (count < entries.length) env.WATCHFILES_CHANGES_TRUNCATED = String(entries.length)
  return env
}

/** A child process (and everything it starts), run in a process group of its own. */
export class ProcessWorker extends Worker {
  readonly command: string | string[]
  readonly options: ProcessWorkerOptions
  readonly stopSignal: NodeJS.Signals
  readonly stopTimeout: number
  readonly killTimeout: number
  #child: ChildProcess | undefined
  #pgid: number | undefined
  #stopping = false
  readonly #pattern: RegExp | undefined

  constructor(options: ProcessWorkerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('ProcessWorker needs an options object with `command`')
    const { command } = options
    const isArgv = Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string')
    if (!isArgv && (typeof command !== 'string' || command.trim() === '')) {
      throw new TypeError('option `command` must be a non-empty string or array of strings')
    }
    super(options, Array.isArray(command) ? command.join(' ') : command)
    this.command = command
    this.options = options
    this.stopSignal = options.stopSignal ?? 'SIGTERM'
    this.stopTimeout = checkMs('stopTimeout', options.stopTimeout, 5000)
    this.killTimeout = checkMs('killTimeout', options.killTimeout, 5000)
    if (options.readyPort !== undefined && (!Number.isInteger(options.readyPort) || options.readyPort < 1 || options.readyPort > 65535)) {
      throw new RangeError(`option \`readyPort\` must be a port number, got ${options.readyPort}`)
    }
    if (options.shell !== true && typeof command === 'string') splitCommand(command) // fail early on bad quoting
    this.#pattern = typeof options.readyPattern === 'string' ? new RegExp(options.readyPattern) : options.readyPattern
  }

  override get pid(): number | undefined {
    return this.#child?.pid
  }

  /** The program and arguments to spawn. */
  protected argv(): [string, string[]] {
    const { command } = this
    if (this.options.shell) {
      const line = Array.isArray(command) ? command.join(' ') : command
      return process.platform === 'win32' ? ['cmd.exe', ['/d', '/s', '/c', line]] : ['/bin/sh', ['-c', line]]
    }
    const words = Array.isArray(command) ? command : splitCommand(command)
    return [words[0]!, words.slice(1)]
  }

  /** Extra stdio entries after fd 3 (the IPC channel of a Node worker). */
  protected extraStdio(): Array<'ipc'> {
    return []
  }

  /** Hook for subclasses: the process is spawned. */
  protected attached(_child: ChildProcess, _context: StartContext): void {}

  override async start(context: StartContext): Promise<void> {
    this.#stopping = false
    this.#run(this.launch(context), context)
  }

  /** Starts the process for `context`. A subclass may hand over one it started earlier. */
  protected launch(context: StartContext): ChildProcess {
    return this.spawnProcess(context.listenFd, this.argv(), changesEnv(context.changes))
  }

  /** Spawns `argv` in a process group of its own, with the worker's stdio and environment. */
  protected spawnProcess(listenFd: number | undefined, argv: [string, string[]], extraEnv: Record<string, string>): ChildProcess {
    let [file, args] = argv
    const env: Record<string, string | undefined> = { ...process.env, ...this.options.env, ...extraEnv }
    const stdio: unknown[] = ['ignore', this.#pattern ? 'pipe' : 'inherit', this.#pattern ? 'pipe' : 'inherit']
    if (listenFd !== undefined) {
      stdio.push(listenFd)
      env.LISTEN_FDS = '1'
      env.LISTEN_FDNAMES = 'watchfiles'
      if (process.platform !== 'win32') {
        // systemd's convention also names the receiving pid: let a shell set it and exec.
        args = ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', file, ...args]
        file = '/bin/sh'
      }
    } else if (this.extraStdio().length > 0) {
      stdio.push('ignore')
    }
    stdio.push(...this.extraStdio())
    return spawnInGroup(file, args, {
      cwd: this.options.cwd ? path.resolve(this.options.cwd) : undefined,
      env,
      stdio: stdio as StdioOptions,
    })
  }

  /** Follows a started process: its end, its output, its readiness. */
  #run(child: ChildProcess, context: StartContext): void {
    this.#child = child
    this.#pgid = child.pid
    let ended = false
    const end = (info: { code: number | null; signal: NodeJS.Signals | null; error?: Error }): void => {
      if (ended) return
      ended = true
      if (!this.#stopping && this.#child === child) context.exited(info)
    }
    child.once('error', (error) => end({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => end({ code, signal }))
    if (child.exitCode !== null || child.signalCode !== null) end({ code: child.exitCode, signal: child.signalCode })
    if (child.stdout && child.stderr) {
      forwardAndMatch(child.stdout, process.stdout, this.#pattern, context.ready)
      forwardAndMatch(child.stderr, process.stderr, this.#pattern, context.ready)
    }
    this.attached(child, context)
    if (child.pid === undefined) return // the 'error' event reports why it did not start
    const { readyPort } = this.options
    if (readyPort !== undefined) {
      void waitForPort(readyPort, this.options.readyHost ?? '127.0.0.1', () => ended || this.#child !== child).then(
        (up) => up && context.ready(),
      )
    } else if (!this.#pattern && this.readyOnSpawn()) {
      context.ready()
    }
  }

  /** Whether a process with no readiness signal configured is ready once spawned. */
  protected readyOnSpawn(): boolean {
    return true
  }

  override async stop(): Promise<void> {
    const child = this.#child
    const pgid = this.#pgid
    if (pgid === undefined) return
    this.#stopping = true
    // Even when the leader has exited, its descendants may hold the group (and a port).
    await stopGroup(pgid, {
      signal: this.stopSignal,
      stopTimeoutMs: this.stopTimeout,
      killTimeoutMs: this.killTimeout,
      ...(child ? { child } : {}),
    })
    if (this.#child === child) {
      this.#child = undefined
      this.#pgid = undefined
    }
  }

  /** Process groups still to kill if the host exits abruptly. */
  get processGroups(): number[] {
    return this.#pgid === undefined ? [] : [this.#pgid]
  }
}
