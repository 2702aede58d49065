// Real tools for the integration tests: installed from the registry into a cache outside the
// repository (keyed by what is installed, so reruns are fast), run in their own process groups
// that are always killed after the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { onCleanup, waitFor } from './helpers.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Where installed tools are kept between runs (`WATCHFILES_PEER_CACHE` to choose). */
export function peerCache(): string {
  return process.env.WATCHFILES_PEER_CACHE ?? path.join(os.homedir(), '.cache', 'watchfiles-node', 'peers')
}

/**
 * A folder with `node_modules` holding exactly `dependencies` (exact versions), installed once with
 * npm (install scripts off). Concurrent callers each install into a scratch folder and the first
 * rename wins.
 */
export function installPeers(dependencies: Record<string, string>, extra: Record<string, unknown> = {}): string {
  const key = Object.entries(dependencies)
    .map(([name, version]) => `${name.replace('/', '+')}@${version}`)
    .sort()
    .join('_')
  const dir = path.join(peerCache(), key)
  if (fs.existsSync(path.join(dir, '.complete'))) return dir
  fs.mkdirSync(peerCache(), { recursive: true })
  const scratch = `${dir}.tmp-${process.pid}`
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.mkdirSync(scratch)
  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'peers', private: true, dependencies, ...extra }, null, 2))
  const result = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 600_000,
  })
  if (result.status !== 0) {
    fs.rmSync(scratch, { recursive: true, force: true })
    throw new Error(`npm install ${key} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  }
  fs.writeFileSync(path.join(scratch, '.complete'), new Date().toISOString())
  try {
    fs.renameSync(scratch, dir)
  } catch {
    fs.rmSync(scratch, { recursive: true, force: true }) // another run finished first
  }
  return dir
}

/** Links `node_modules/<name>` of `project` to `target`. */
export function link(project: string, name: string, target: string): void {
  const at = path.join(project, 'node_modules', name)
  fs.mkdirSync(path.dirname(at), { recursive: true })
  fs.symlinkSync(target, at, 'dir')
}

export interface Child {
  process: ChildProcess
  output(): string
  exited(): boolean
  /** Waits until the output (stdout and stderr) matches. */
  waitForOutput(pattern: RegExp, what: string, deadlineMs?: number): Promise<RegExpMatchArray>
}

/** Starts a command in a process group of its own, killed (the whole group) after the test. */
export function start(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let exited = false
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  child.on('exit', () => (exited = true))
  onCleanup(async () => {
    if (exited || child.pid === undefined) return
    killGroup(child.pid, 'SIGTERM')
    await waitFor(() => exited, 'the process group to end', 5_000).catch(() => {
      killGroup(child.pid!, 'SIGKILL')
      return waitFor(() => exited, 'the process group to be killed', 5_000)
    })
    killGroup(child.pid, 'SIGKILL') // anything it left behind in its group
  })
  return {
    process: child,
    output: () => out,
    exited: () => exited,
    async waitForOutput(pattern, what, deadlineMs = 60_000) {
      await waitFor(() => pattern.test(out) || exited, what, deadlineMs).catch((error: Error) => {
        throw new Error(`${error.message}\noutput:\n${out}`)
      })
      const match = out.match(pattern)
      if (!match) throw new Error(`the process exited before ${what}:\n${out}`)
      return match
    },
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * A preload (`node --import <file>`) that records, into `report`, every `fs.watch`/`fs.watchFile`
 * call and every load of a module named `chokidar` (or `modules`, a RegExp alternation) in the
 * process, with the file it resolved to.
 */
export interface SpyReport {
  watchCalls: string[]
  /** `specifier -> resolved file or URL` for each load of a spied module. */
  loads: string[]
}

export function watchSpy(dir: string, modules = 'chokidar'): { preload: string; report: string; read(): SpyReport } {
  const pattern = `^(?:${modules})(?:/|$)`
  const report = path.join(dir, 'spy-report.jsonl')
  const hooks = path.join(dir, 'spy-hooks.mjs')
  const preload = path.join(dir, 'spy-preload.mjs')
  fs.writeFileSync(
    hooks,
    `import fs from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (new RegExp(${JSON.stringify(pattern)}).test(specifier)) {
    fs.appendFileSync(${JSON.stringify(report)}, JSON.stringify({ chokidar: specifier, resolved: result.url }) + '\\n')
  }
  return result
}
`,
  )
  fs.writeFileSync(
    preload,
    `import fs from 'node:fs'
import Module, { register } from 'node:module'
import { pathToFileURL } from 'node:url'
const report = ${JSON.stringify(report)}
const log = (entry) => fs.appendFileSync(report, JSON.stringify(entry) + '\\n')
register(${JSON.stringify(pathToFileURL(hooks).href)})
for (const name of ['watch', 'watchFile']) {
  const original = fs[name]
  fs[name] = function (file, ...rest) { log({ watch: name + ' ' + String(file) }); return original.call(this, file, ...rest) }
}
const load = Module._load
Module._load = function (request, parent, ...rest) {
  if (new RegExp(${JSON.stringify(pattern)}).test(request)) {
    let resolved
    try { resolved = Module._resolveFilename(request, parent) } catch { resolved = null }
    log({ chokidar: request, resolved })
  }
  return load.call(this, request, parent, ...rest)
}
`,
  )
  fs.writeFileSync(report, '')
  return {
    preload,
    report,
    read() {
      const entries = fs
        .readFileSync(report, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { watch?: string; chokidar?: string; resolved?: string | null })
      return {
        watchCalls: entries.flatMap((e) => (e.watch ? [e.watch] : [])),
        loads: entries.flatMap((e) => (e.chokidar ? [`${e.chokidar} -> ${String(e.resolved)}`] : [])),
      }
    },
  }
}
