// Everything `npm run bench` needs besides the package itself, installed on first use:
// the Node peers (benchmark/package.json, pinned, into benchmark/node_modules), Python watchfiles
// (a venv in benchmark/.peers), and the native limit program (gcc, into benchmark/build).
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { BENCH_DIR, BUILD_DIR, PEERS_DIR, REPO_DIR } from './util.mjs'

export const PYTHON_WATCHFILES_VERSION = '1.3.0'

function hashFile(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

export function ensureOurs() {
  const dist = path.join(REPO_DIR, 'dist', 'index.js')
  const addon = fs.readdirSync(path.join(REPO_DIR, 'native')).find((f) => f.endsWith('.node'))
  if (!fs.existsSync(dist) || !addon) {
    throw new Error('watchfiles-node is not built: run `npm install` at the repository root first')
  }
  return { addon: path.join(REPO_DIR, 'native', addon) }
}

export function ensureNodePeers(log) {
  const lock = path.join(BENCH_DIR, 'package-lock.json')
  const stamp = path.join(BENCH_DIR, 'node_modules', '.bench-lock-sha256')
  const want = hashFile(lock)
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return
  log('installing the peers (benchmark/package.json) into benchmark/node_modules')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: BENCH_DIR, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('npm ci in benchmark/ failed')
  fs.writeFileSync(stamp, want)
}

/** Returns the Python watchfiles version, or undefined (with the reason logged) when pip cannot install it. */
export function ensurePython(log) {
  const venv = path.join(PEERS_DIR, 'venv')
  const python = path.join(venv, 'bin', 'python')
  const probe = () => {
    const r = spawnSync(python, ['-c', 'import watchfiles; print(watchfiles.__version__)'], { encoding: 'utf8' })
    return r.status === 0 ? r.stdout.trim() : undefined
  }
  if (fs.existsSync(python)) {
    const v = probe()
    if (v === PYTHON_WATCHFILES_VERSION) return v
  }
  log(`installing Python watchfiles ${PYTHON_WATCHFILES_VERSION} into benchmark/.peers/venv`)
  fs.mkdirSync(PEERS_DIR, { recursive: true })
  for (const py of ['python3', 'python']) {
    const r = spawnSync(py, ['-m', 'venv', venv], { stdio: 'inherit' })
    if (r.status === 0) break
  }
  if (!fs.existsSync(python)) {
    log('  no Python venv could be made: the Python watchfiles rows are skipped')
    return undefined
  }
  const r = spawnSync(python, ['-m', 'pip', 'install', '-q', `watchfiles==${PYTHON_WATCHFILES_VERSION}`], {
    stdio: 'inherit',
  })
  if (r.status !== 0) {
    log('  pip install watchfiles failed: the Python watchfiles rows are skipped')
    return undefined
  }
  return probe()
}

/** Compiles benchmark/native/limit.c (when changed) and returns the program's path. */
export function ensureLimit(log) {
  const src = path.join(BENCH_DIR, 'native', 'limit.c')
  const bin = path.join(BUILD_DIR, 'limit')
  const stamp = `${bin}.sha256`
  const want = hashFile(src)
  if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return bin
  log('compiling benchmark/native/limit.c with gcc -O2')
  fs.mkdirSync(BUILD_DIR, { recursive: true })
  execFileSync('gcc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' })
  fs.writeFileSync(stamp, want)
  return bin
}

export function versions() {
  const v = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]
    } catch {
      return undefined
    }
  }
  return { gcc: v('gcc', ['--version']), kernel: v('uname', ['-r']), python: v(path.join(PEERS_DIR, 'venv', 'bin', 'python'), ['--version']) }
}
