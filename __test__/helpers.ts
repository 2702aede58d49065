// Shared test helpers: real temp folders, deadline-based waiting, exact change assertions.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, expect } from 'vitest'
import type { FileChange } from '../src/index.js'

const created: string[] = []
const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh temp folder (its real path), removed after the test. */
export function tempDir(prefix = 'wfn-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)))
  created.push(dir)
  return dir
}

/** Runs `fn` after the current test (closing watchers, killing children). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn)
}

export function write(file: string, content = 'x'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

export const DEADLINE_MS = 15_000

/** Polls `predicate` until it holds or the deadline passes. */
export async function waitFor(predicate: () => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

type Expected = Array<[FileChange['type'], string]>

const key = (type: string, p: string): string => `${type} ${p}`

/**
 * The net effect of successive batches, by the rules each batch follows (a path's net change is
 * fixed by whether it existed before the first change and after the last): a file reported added
 * and then written again before the next batch folds to added. An independent oracle for tests.
 */
export function fold(batches: FileChange[][]): FileChange[] {
  const state = new Map<string, { before: boolean; now: boolean }>()
  for (const { type, path: p } of batches.flat()) {
    const known = state.get(p)
    if (known) known.now = type !== 'deleted'
    else state.set(p, { before: type !== 'added', now: type !== 'deleted' })
  }
  const net: FileChange[] = []
  for (const [p, { before, now }] of state) {
    if (before && now) net.push({ type: 'modified', path: p })
    else if (before) net.push({ type: 'deleted', path: p })
    else if (now) net.push({ type: 'added', path: p })
  }
  return net
}

/** Collects every change a subscription delivers, and asserts on them exactly. */
export class Recorder {
  batches: FileChange[][] = []
  #consumed = 0

  readonly onChanges = (changes: FileChange[]): void => {
    this.batches.push(changes)
  }

  /** The net changes received since the last `expect`, folded across batches. */
  fresh(): FileChange[] {
    return fold(this.batches.slice(this.#consumed))
  }

  /**
   * Waits until every expected change has arrived, lets `settleMs` pass for anything extra, then
   * asserts that exactly the expected changes arrived, net across batches, and that no batch
   * names a path twice.
   */
  async expect(expected: Expected, settleMs = 150): Promise<void> {
    const want = new Set(expected.map(([t, p]) => key(t, p)))
    const seen = () => new Set(this.fresh().map((c) => key(c.type, c.path)))
    await waitFor(() => {
      const now = seen()
      return [...want].every((k) => now.has(k))
    }, `changes ${[...want].slice(0, 5).join(', ')}`).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nreceived: ${[...seen()].join('\n')}`)
      },
    )
    await new Promise((r) => setTimeout(r, settleMs))
    expect([...seen()].sort()).toEqual([...want].sort())
    for (const batch of this.batches.slice(this.#consumed)) {
      expect(new Set(batch.map((c) => c.path)).size, 'a path twice in one batch').toBe(batch.length)
    }
    this.#consumed = this.batches.length
  }

  /** Asserts that nothing arrives within `quietMs`. */
  async expectNothing(quietMs = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, quietMs))
    expect(this.fresh()).toEqual([])
  }
}

/** Inotify watches held by a process: the `inotify wd:` lines of its inotify descriptors. */
export function inotifyWatchCount(pid: number | 'self' = 'self'): number {
  let count = 0
  const fdDir = `/proc/${pid}/fd`
  for (const fd of fs.readdirSync(fdDir)) {
    let target = ''
    try {
      target = fs.readlinkSync(path.join(fdDir, fd))
    } catch {
      continue
    }
    if (target !== 'anon_inode:inotify') continue
    try {
      const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      count += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length
    } catch {
      // closed meanwhile
    }
  }
  return count
}

/** Pids of live (not zombie) processes whose command line contains `marker`. Processes a
 *  NodeWorker keeps started ahead (`prewarm.cjs`) are left out unless `spares` is set. */
export function liveProcesses(marker: string, { spares = false } = {}): number[] {
  const pids: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (!cmdline.includes(marker)) continue
      if (!spares && cmdline.includes('prewarm.cjs')) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry))
    } catch {
      // exited meanwhile
    }
  }
  return pids.sort((a, b) => a - b)
}

/** Whether `pid` is a live process (not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

const markers: string[] = []

/** A unique string to put in the command lines of the processes a test starts. Once the file's
 *  tests are done, no process carrying one may be left. */
export function marker(): string {
  const tag = `wfn-marker-${process.pid}-${Math.random().toString(36).slice(2)}`
  markers.push(tag)
  return tag
}

afterAll(async () => {
  const leftover = (): number[] => markers.flatMap((tag) => liveProcesses(tag, { spares: true }))
  await waitFor(() => leftover().length === 0, 'processes started by the tests to end', 5000).catch(() => {
    const pids = leftover()
    for (const pid of pids) process.kill(pid, 'SIGKILL')
    throw new Error(`processes left running by the tests: ${pids.join(', ')}`)
  })
})
