// What a process costs, read from /proc by the parent so that every watcher, whatever its
// language, is measured the same way.
import fs from 'node:fs'
import { execFileSync } from 'node:child_process'

let clkTck
/** Clock ticks per second of utime/stime in /proc/<pid>/stat. */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clkTck = 100
    }
  }
  return clkTck
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status)
  return m ? Number(m[1]) * 1024 : undefined
}

/** Peak resident set size in bytes (VmHWM). */
export function peakRssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status)
  return m ? Number(m[1]) * 1024 : undefined
}

/**
 * CPU time used so far by the whole process (every thread, including those that ended):
 * utime + stime of /proc/<pid>/stat, in milliseconds (10 ms resolution at CLK_TCK=100).
 */
export function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return ((utime + stime) * 1000) / clockTicks()
}

/**
 * CPU time of the live threads from the scheduler, in nanoseconds (first field of
 * /proc/<pid>/task/<tid>/schedstat): nanosecond resolution where utime+stime has 10 ms. Threads
 * that end between two readings drop out of it; watchers start no threads while idle.
 */
export function schedNs(pid) {
  let total = 0
  let tasks
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return undefined
  }
  for (const tid of tasks) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread ended meanwhile
    }
  }
  return total
}

export function threadCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length
  } catch {
    return undefined
  }
}

/**
 * OS watches held: the `inotify wd:` lines of every inotify descriptor of the process
 * (descriptors whose link reads `anon_inode:inotify`).
 */
export function inotifyWatches(pid) {
  let watches = 0
  let instances = 0
  let fds
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`)
  } catch {
    return undefined
  }
  for (const fd of fds) {
    let link
    try {
      link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    if (link !== 'anon_inode:inotify') continue
    instances++
    try {
      const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      for (const line of info.split('\n')) if (line.startsWith('inotify wd:')) watches++
    } catch {
      // closed meanwhile
    }
  }
  return { watches, instances }
}

/** inotify watches held by every process of this user, and the limit (fs.inotify.max_user_watches). */
export function inotifyBudget() {
  const limit = Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim())
  const uid = process.getuid?.()
  let used = 0
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (uid !== undefined && fs.statSync(`/proc/${pid}`).uid !== uid) continue
      used += inotifyWatches(pid)?.watches ?? 0
    } catch {
      // gone
    }
  }
  return { limit, used }
}

/** Whether a process exists (a zombie counts as gone). */
export function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The load average and the busiest other processes, to say under what load a run was taken. */
export function machineLoad() {
  const [l1, l5, l15] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number)
  return { l1, l5, l15 }
}
