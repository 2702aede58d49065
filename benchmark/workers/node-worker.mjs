// A fresh process that runs one Node.js watcher for the parent (benchmark/run.mjs).
//
//   node node-worker.mjs <adapter>
//
// Commands arrive as JSON lines on stdin; replies are JSON lines on stdout prefixed with `@@`
// (anything else a library prints is ignored by the parent). Times are CLOCK_MONOTONIC
// nanoseconds (process.hrtime), the same clock in every process, so the parent can time a
// burst it writes itself.
import fs from 'node:fs'
import readline from 'node:readline'
import { adapters } from './adapters.mjs'

const name = process.argv[2]
const send = (msg) => process.stdout.write(`@@${JSON.stringify(msg)}\n`)
const now = () => process.hrtime.bigint()

let handle
let waiting // { path, resolve } for the latency scenario
let tracking // { prefix, suffix, seen: Set, lastNs, firstNs }
let events = 0

function onPaths(paths) {
  const t = now()
  events += paths.length
  if (waiting) {
    for (const p of paths) {
      if (p === waiting.path) {
        const w = waiting
        waiting = undefined
        w.resolve(t)
        break
      }
    }
  }
  if (tracking) {
    for (const p of paths) {
      if (p.startsWith(tracking.prefix) && p.endsWith(tracking.suffix) && !tracking.seen.has(p)) {
        tracking.seen.add(p)
        tracking.lastNs = t
        tracking.firstNs ??= t
      }
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function latency({ files, n, gapMs, timeoutMs }) {
  const samples = []
  let missed = 0
  for (let i = 0; i < n; i++) {
    await sleep(gapMs)
    const file = files[i % files.length]
    const arrived = new Promise((resolve) => {
      waiting = { path: file, resolve }
    })
    const timer = new Promise((resolve) => setTimeout(() => resolve(null), timeoutMs))
    const t0 = now()
    fs.writeFileSync(file, `export const sample = ${i}\n`)
    const t1 = await Promise.race([arrived, timer])
    waiting = undefined
    if (t1 === null) missed++
    else samples.push(Number(t1 - t0) / 1e6)
  }
  return { samples, missed }
}

const commands = {
  async start({ root, options }) {
    const t0 = now()
    handle = await lib.start(root, options ?? {}, onPaths)
    const t1 = now()
    return { readyMs: Number(t1 - t0) / 1e6, startNs: String(t0), readyNs: String(t1), backend: handle.backend }
  },
  latency,
  track({ prefix, suffix }) {
    tracking = { prefix, suffix: suffix ?? '', seen: new Set(), lastNs: undefined, firstNs: undefined }
    return {}
  },
  stats() {
    return {
      events,
      count: tracking?.seen.size ?? 0,
      firstNs: tracking?.firstNs === undefined ? null : String(tracking.firstNs),
      lastNs: tracking?.lastNs === undefined ? null : String(tracking.lastNs),
    }
  },
  async close() {
    const t0 = now()
    await handle?.close()
    return { closeMs: Number(now() - t0) / 1e6 }
  },
}

const lib = await adapters[name]()
send({ type: 'loaded', version: lib.version, pid: process.pid })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const msg = JSON.parse(line)
  try {
    const result = await commands[msg.cmd](msg)
    send({ type: 'reply', id: msg.id, ...result })
    if (msg.cmd === 'close') {
      rl.close()
      process.stdout.write('', () => process.exit(0))
    }
  } catch (error) {
    send({ type: 'reply', id: msg.id, error: String(error?.stack ?? error) })
  }
})
rl.on('close', () => {
  // The parent went away: do not linger.
  setTimeout(() => process.exit(0), 100).unref()
})
