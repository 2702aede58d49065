// The reloader scenario: save a file of a small HTTP server and time until the restarted server
// accepts connections again (save-to-ready), and tell whether the old process was gone before the
// new one started. A separate module so that watchfiles-node's own Reloader (issue 3, being built
// on another branch) only has to fill its slot below.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { alive } from '../lib/procfs.mjs'
import { BENCH_DIR, nowNs, shuffle, sleep, withTimeout } from '../lib/util.mjs'

const APP = path.join(BENCH_DIR, 'fixtures', 'reload-app')
const NODEMON = path.join(BENCH_DIR, 'node_modules', 'nodemon', 'bin', 'nodemon.js')

/**
 * Each reloader as a user would start it on the app, at its defaults. `command(appDir)` returns
 * [executable, args], or null when the reloader is not available yet.
 */
export const RELOADERS = {
  nodemon: {
    label: 'nodemon',
    version: () => JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'node_modules', 'nodemon', 'package.json'), 'utf8')).version,
    shown: 'nodemon --ext mjs,js,json server.mjs',
    command: () => [process.execPath, [NODEMON, '--ext', 'mjs,js,json', 'server.mjs']],
  },
  nodewatch: {
    label: 'node --watch',
    version: () => process.version,
    shown: 'node --watch server.mjs',
    command: () => [process.execPath, ['--watch', 'server.mjs']],
  },
  ours: {
    label: 'watchfiles-node Reloader',
    version: () => JSON.parse(fs.readFileSync(path.join(BENCH_DIR, '..', 'package.json'), 'utf8')).version,
    // The same file filter as nodemon's line above (the app writes a .pid file beside its code).
    shown: 'watchfiles-node --ext mjs,js,json "node server.mjs" .',
    command: () => [process.execPath, [path.join(BENCH_DIR, '..', 'dist', 'cli.js'), '--ext', 'mjs,js,json', 'node server.mjs', '.']],
  },
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve(body.trim()))
    })
    req.on('error', () => resolve(null))
    req.on('timeout', () => req.destroy())
  })
}

/** One reloader process: start it, then `saves` saves, each timed to the new server's listen. */
async function reloaderSession(def, saves, log) {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'wfn-bench-reload-'))
  for (const f of fs.readdirSync(APP)) fs.copyFileSync(path.join(APP, f), path.join(app, f))
  const port = await freePort()
  const [cmd, args] = def.command(app)
  // Its own process group, so the reloader and the server it runs are ended together.
  const child = spawn(cmd, args, {
    cwd: app,
    env: { ...process.env, PORT: String(port), BENCH_STATE: path.join(app, '.pid'), NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  const readies = []
  let notify
  const onReady = (msg) => {
    readies.push(msg)
    notify?.()
  }
  const scan = (line) => {
    const at = line.indexOf('@@ready ')
    if (at >= 0) onReady(JSON.parse(line.slice(at + 8)))
  }
  readline.createInterface({ input: child.stdout }).on('line', scan)
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const next = (count, ms) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          if (readies.length >= count) {
            notify = undefined
            resolve(readies[count - 1])
          }
        }
        notify = check
        check()
      }),
      ms,
      `${def.label}: ready #${count}`,
    )
  const r = { ok: false, samples: [], oldAlive: [], retries: [] }
  try {
    await next(1, 30_000)
    await sleep(1500) // let the reloader's own watcher finish starting
    for (let i = 1; i <= saves; i++) {
      const t0 = nowNs()
      fs.writeFileSync(path.join(app, 'lib.mjs'), `export const message = 'v${i}'\n`)
      const ready = await next(i + 1, 15_000)
      r.samples.push(Number(BigInt(ready.listenNs) - t0) / 1e6)
      r.oldAlive.push(ready.oldAlive)
      r.retries.push(ready.retries)
      const body = await get(port)
      if (!body || !body.endsWith(`v${i}`)) throw new Error(`served "${body}" after save ${i}`)
      await sleep(700)
    }
    r.ok = true
  } catch (error) {
    r.error = String(error?.message ?? error)
    log(`    ${def.label}: ${r.error} ${stderr.slice(-500)}`)
  } finally {
    for (const sig of ['SIGTERM', 'SIGKILL']) {
      try {
        process.kill(-child.pid, sig)
      } catch {
        break // the group is gone
      }
      const until = Date.now() + 3000
      while (Date.now() < until && readies.some((m) => alive(m.pid))) await sleep(50)
      if (sig === 'SIGTERM') await sleep(100)
    }
    fs.rmSync(app, { recursive: true, force: true })
  }
  return r
}

export async function runReloaders(ids, runs, saves, log) {
  const results = Object.fromEntries(ids.map((id) => [id, []]))
  for (let run = 0; run < runs; run++) {
    for (const id of shuffle(ids, 7 + run)) {
      const def = RELOADERS[id]
      if (!def.command('')) {
        if (run === 0) log(`    ${def.label}: ${def.pending}`)
        results[id].push({ ok: false, skipped: def.pending })
        continue
      }
      const r = await reloaderSession(def, saves, log)
      results[id].push(r)
      const s = r.samples.slice().sort((a, b) => a - b)
      log(
        `    reloader run ${run + 1}/${runs} ${def.label.padEnd(26)} save-to-ready p50 ${s[Math.floor(s.length / 2)]?.toFixed(0) ?? '—'} ms, ` +
          `old process alive at new start: ${r.oldAlive.filter(Boolean).length}/${r.oldAlive.length}`,
      )
    }
  }
  return results
}
