import path from 'node:path'
import type { FileChange } from '../changes.js'

/** How a worker ended by itself (not because the reloader stopped it). */
export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when it could not start or threw. */
  error?: Error
}

/** What the reloader gives a worker each time it starts. */
export interface StartContext {
  /** The changes that caused this start (`[]` on the first). */
  changes: FileChange[]
  /** Listening socket descriptor to hand to the process as fd 3 (`listen` option). */
  listenFd?: number
  /** Call when the worker is ready (see each worker's readiness rule). */
  ready(): void
  /** Call when the worker ends by itself. */
  exited(info: ExitInfo): void
}

/** Options every worker kind takes. */
export interface WorkerOptions {
  /** A name for messages and events. Default: derived from the command or script. */
  name?: string
  /** Restart only for changes below these paths (relative ones from the current directory).
   *  Default: every change the reloader sees. */
  paths?: string[]
  /** Restart only for changes this accepts. */
  filter?: (change: FileChange) => boolean
  /** Restart with backoff when it crashes. Default: the reloader's `restartOnCrash`. */
  restartOnCrash?: boolean
}

/** Something the reloader starts, and restarts when files change. */
export abstract class Worker {
  readonly name: string
  readonly paths: readonly string[] | undefined
  readonly filter: ((change: FileChange) => boolean) | undefined
  readonly restartOnCrash: boolean | undefined

  constructor(options: WorkerOptions, defaultName: string) {
    if (options.paths !== undefined && (!Array.isArray(options.paths) || options.paths.some((p) => typeof p !== 'string' || p === ''))) {
      throw new TypeError('worker option `paths` must be an array of non-empty strings')
    }
    if (options.filter !== undefined && typeof options.filter !== 'function') {
      throw new TypeError('worker option `filter` must be a function')
    }
    this.name = options.name ?? defaultName
    this.paths = options.paths?.map((p) => path.resolve(p))
    this.filter = options.filter
    this.restartOnCrash = options.restartOnCrash
  }

  /** Whether `change` concerns this worker. */
  accepts(change: FileChange): boolean {
    if (this.paths && !this.paths.some((p) => change.path === p || change.path.startsWith(p + path.sep))) return false
    return this.filter ? this.filter(change) : true
  }

  /** The pid of its process, when it runs as one. */
  get pid(): number | undefined {
    return undefined
  }

  /** Starts it; resolves once it is started (spawned, created or called). */
  abstract start(context: StartContext): Promise<void>

  /** Stops it; resolves once nothing of it is left running. Fine to call when not running. */
  abstract stop(): Promise<void>

  /** Releases what it keeps between runs (a prewarmed process); called once, after the last
   *  `stop()`. */
  async dispose(): Promise<void> {}
}

/** Validates a duration option in milliseconds. */
export function checkMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`option \`${name}\` must be a number of milliseconds, got ${typeof value}`)
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`option \`${name}\` must be a finite number >= 0, got ${value}`)
  return value
}
