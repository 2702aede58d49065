// Shared helpers of the integration benchmarks: the peer cache (same as the tests), generated
// trees, processes in their own groups, and what /proc says about a process.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Installs exact `dependencies` once into the peer cache (`WATCHFILES_PEER_CACHE`). */
export function peers(dependencies) {
  const cache = process.env.WATCHFILES_PEER_CACHE ?? path.join(os.homedir(), '.cache', 'watchfiles-node', 'peers')
  const key = Object.entries(dependencies).map(([n, v]) => `${n.replace('/', '+')}@${v}`).sort().join('_')
  const dir = path.join(cache, key)
  if (fs.existsSync(path.join(dir, '.complete'))) return dir
  const scratch = `${dir}.tmp-${process.pid}`
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.mkdirSync(scratch, { recursive: true })
  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'peers', private: true, dependencies }))
  const r = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: scratch, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`npm install failed for ${key}`)
  fs.writeFileSync(path.join(scratch, '.complete'), '')
  try {
    fs.renameSync(scratch, dir)
  } catch {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
  return dir
}

export function link(project, name, target) {
  const at = path.join(project, 'node_modules', name)
  fs.mkdirSync(path.dirname(at), { recursive: true })
  fs.rmSync(at, { recursive: true, force: true })
  fs.symlinkSync(target, at, 'dir')
}

/** `node_modules` of `packages` fake packages, each `files` files in a root and a `lib/` folder. */
export function fakeNodeModules(project, packages, files) {
  for (let p = 0; p < packages; p++) {
    const dir = path.join(project, 'node_modules', `pkg-${p}`)
    fs.mkdirSync(path.join(dir, 'lib'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `pkg-${p}`, version: '1.0.0', main: 'index.js' }))
    for (let f = 0; f < files; f++) {
      fs.writeFileSync(path.join(dir, `file${f}.js`), `module.exports = ${f}\n`)
      fs.writeFileSync(path.join(dir, 'lib', `file${f}.js`), `module.exports = ${f}\n`)
    }
  }
}

/** A preload that records when the first file watcher (anything with getWatched()) emits
 *  `ready`, on `globalThis.__watcherReadyMs` (ms since the process started). */
export function readyProbe(dir) {
  const file = path.join(dir, 'ready-probe.mjs')
  fs.writeFileSync(
    file,
    `import { EventEmitter } from 'node:events'
const emit = EventEmitter.prototype.emit
EventEmitter.prototype.emit = function (event, ...args) {
  if (event === 'ready' && globalThis.__watcherReadyMs === undefined && typeof this.getWatched === 'function') {
    globalThis.__watcherReadyMs = performance.now()
  }
  return emit.call(this, event, ...args)
}
`,
  )
  return pathToFileURL(file).href
}

/** inotify watches held by `pid`. */
export function inotifyWatches(pid) {
  let count = 0
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = ''
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    if (target !== 'anon_inode:inotify') continue
    try {
      count += fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length
    } catch {}
  }
  return count
}

/** Runs a node process in its own group; `lines()` gives the parsed `BENCH {...}` lines. */
export function runNode(args, { cwd, env = {} }) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let exited = false
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  child.on('exit', () => (exited = true))
  return {
    pid: child.pid,
    output: () => out,
    lines: () => [...out.matchAll(/^BENCH (.*)$/gm)].map((m) => JSON.parse(m[1])),
    async until(predicate, what, deadlineMs = 120_000) {
      const end = Date.now() + deadlineMs
      while (!predicate()) {
        if (exited || Date.now() > end) throw new Error(`no ${what}:\n${out}`)
        await new Promise((r) => setTimeout(r, 5))
      }
    },
    async kill() {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
      const end = Date.now() + 5000
      while (!exited && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    },
  }
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function table(rows) {
  const keys = Object.keys(rows[0])
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)))
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(keys.map((k) => r[k])))].join('\n')
}
