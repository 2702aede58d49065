// The parent's side of a worker process: spawn, JSON-line commands, replies, and a guaranteed end
// (every worker is closed, then killed if it lingers, before the next one starts).
import { spawn } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { alive } from './procfs.mjs'
import { BENCH_DIR, PEERS_DIR, withTimeout } from './util.mjs'

const live = new Set()

/** Kills every worker still running (on exit, Ctrl+C, or a crash of the runner). */
export function killAll() {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

export const PYTHON = path.join(PEERS_DIR, 'venv', 'bin', 'python')

export class Worker {
  /** `kind`: 'python' or the name of a Node adapter. */
  constructor(kind) {
    this.kind = kind
    const [cmd, args] =
      kind === 'python'
        ? [PYTHON, ['-u', path.join(BENCH_DIR, 'workers', 'py-worker.py')]]
        : [process.execPath, [path.join(BENCH_DIR, 'workers', 'node-worker.mjs'), kind]]
    this.spawnNs = process.hrtime.bigint()
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WATCHFILES_FORCE_POLLING: '' } })
    this.pid = this.child.pid
    live.add(this.child)
    this.stderr = ''
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < 20_000) this.stderr += d
    })
    this.pending = new Map()
    this.nextId = 1
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child)
        const err = new Error(`${kind} worker exited (${code ?? signal}): ${this.stderr.slice(-2000)}`)
        for (const { reject } of this.pending.values()) reject(err)
        this.pending.clear()
        resolve({ code, signal })
      })
    })
    this.loaded = new Promise((resolve, reject) => {
      this.onLoaded = resolve
      this.exited.then(() => reject(new Error(`${kind} worker exited before loading: ${this.stderr.slice(-2000)}`)))
    })
    this.loaded.catch(() => {})
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (!line.startsWith('@@')) return
      const msg = JSON.parse(line.slice(2))
      if (msg.type === 'loaded') {
        this.version = msg.version
        this.onLoaded(msg)
      } else if (msg.type === 'reply') {
        const p = this.pending.get(msg.id)
        if (!p) return
        this.pending.delete(msg.id)
        if (msg.error) p.reject(new Error(`${this.kind}: ${msg.error}`))
        else p.resolve(msg)
      }
    })
  }

  request(cmd, args = {}, timeoutMs = 120_000) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.kind}: '${cmd}' timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    })
  }

  /** Closes the watcher and waits for the process to end; kills it if it does not. */
  async end() {
    let closeMs
    if (alive(this.pid)) {
      try {
        closeMs = (await this.request('close', {}, 15_000)).closeMs
      } catch {
        // killed below
      }
    }
    const gone = await withTimeout(this.exited, 10_000, 'exit').then(
      () => true,
      () => false,
    )
    if (!gone) {
      try {
        process.kill(this.pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
      await this.exited
    }
    return closeMs
  }
}
