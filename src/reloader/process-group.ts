// Process groups: each worker process leads a group of its own, so stopping it reaches every
// process it started, and "stopped" means the whole group is gone, not just the direct child.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

const POLL_MS = 10

/** Spawns `file` with `args` as the leader of a new process group (a new session on POSIX). */
export function spawnInGroup(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return spawn(file, args, { ...options, detached: process.platform !== 'win32', windowsHide: true })
}

/**
 * Pids of the live processes of group `pgid`. Zombies do not count: an orphaned grandchild that
 * has exited is dead even when no reaper has collected it (PID 1 in many containers never does).
 */
export function groupMembers(pgid: number): number[] {
  if (process.platform === 'linux') {
    const members: number[] = []
    for (const entry of readdirSync('/proc')) {
      const c = entry.charCodeAt(0)
      if (c < 48 || c > 57) continue
      let stat: string
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      } catch {
        continue // exited meanwhile
      }
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(entry))
    }
    return members
  }
  try {
    process.kill(-pgid, 0)
    return [pgid]
  } catch {
    return []
  }
}

/** Sends `signal` to every process of the group; false when none was left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    if (process.platform === 'win32') {
      // No process groups: end the process tree.
      spawn('taskkill', ['/pid', String(pgid), '/T', '/F'], { stdio: 'ignore', windowsHide: true })
    } else {
      process.kill(-pgid, signal)
    }
    return true
  } catch {
    return false
  }
}

/** Resolves true once the group has no live process, false if `timeoutMs` passes first. */
export async function waitGroupGone(pgid: number, timeoutMs: number, child?: ChildProcess): Promise<boolean> {
  const end = Date.now() + timeoutMs
  const childGone = (): boolean => !child || child.exitCode !== null || child.signalCode !== null
  for (;;) {
    if (childGone() && groupMembers(pgid).length === 0) return true
    if (Date.now() >= end) return false
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

export class StopTimeoutError extends Error {
  readonly code = 'ERR_WORKER_STOP_TIMEOUT'
  constructor(readonly pgid: number, readonly pids: number[]) {
    super(`processes ${pids.join(', ')} of group ${pgid} survived SIGKILL`)
    this.name = 'StopTimeoutError'
  }
}

/**
 * Stops a whole group: `signal` first, SIGKILL after `stopTimeoutMs`, and an error if anything is
 * still alive `killTimeoutMs` after that. Resolves only once every process of it is gone.
 */
export async function stopGroup(
  pgid: number,
  options: { signal: NodeJS.Signals; stopTimeoutMs: number; killTimeoutMs: number; child?: ChildProcess },
): Promise<void> {
  if (!signalGroup(pgid, options.signal) && (!options.child || options.child.exitCode !== null)) return
  if (await waitGroupGone(pgid, options.stopTimeoutMs, options.child)) return
  signalGroup(pgid, 'SIGKILL')
  if (await waitGroupGone(pgid, options.killTimeoutMs, options.child)) return
  throw new StopTimeoutError(pgid, groupMembers(pgid))
}

/** Kills every given group at once, synchronously: the last resort when the host exits. */
export function killGroupsNow(pgids: Iterable<number>): void {
  for (const pgid of pgids) signalGroup(pgid, 'SIGKILL')
}
