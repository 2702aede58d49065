#!/usr/bin/env node
// Sustained churn against a watcher whose consumer is slow: a writer process rewrites a set of
// files as fast as asked while the watcher's callback takes `--slow-ms` per batch. Prints the
// watcher process's RSS over time as JSON. The Rust core merges changes while JavaScript is busy,
// so memory stays flat however many events there are.
//
//   node scripts/stress.mjs [--events 1000000] [--seconds 60] [--files 1000] [--slow-ms 250]
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { subscribe } from 'watchfiles-node'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '60' },
    files: { type: 'string', default: '1000' },
    'slow-ms': { type: 'string', default: '250' },
  },
})
const events = Number(values.events)
const seconds = Number(values.seconds)
const files = Number(values.files)
const slowMs = Number(values['slow-ms'])

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wfn-stress-'))
for (let i = 0; i < files; i++) fs.writeFileSync(path.join(root, `f${i}`), '')

const rssMb = () => Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10
let batches = 0
let changes = 0
const sub = await subscribe(
  root,
  async (batch) => {
    batches++
    changes += batch.length
    await new Promise((r) => setTimeout(r, slowMs))
  },
  { step: 0 },
)
global.gc?.()
const baseline = rssMb()

// Each append is one write(2): one IN_MODIFY event. The writer paces itself to the rate asked.
const writer = spawn(process.execPath, ['-e', `
  const fs = require('fs'); const path = require('path')
  const fds = []; for (let i = 0; i < ${files}; i++) fds.push(fs.openSync(path.join(${JSON.stringify(root)}, 'f' + i), 'a'))
  const total = ${events}, perMs = total / (${seconds} * 1000), start = Date.now()
  let n = 0
  while (n < total) {
    const due = Math.min(total, Math.ceil((Date.now() - start + 1) * perMs))
    for (; n < due; n++) { fs.writeSync(fds[n % fds.length], 'x'); if (n % ${files} === ${files} - 1) fs.ftruncateSync(fds[n % fds.length], 0) }
  }
  console.log(n)
`], { stdio: ['ignore', 'pipe', 'inherit'] })
let written = 0
writer.stdout.on('data', (d) => (written = Number(String(d).trim())))

const samples = []
const sampler = setInterval(() => samples.push(rssMb()), 500)
await new Promise((resolve) => writer.on('exit', resolve))
await new Promise((r) => setTimeout(r, slowMs * 2 + 200)) // let the last batch through
clearInterval(sampler)
await sub.close()
fs.rmSync(root, { recursive: true, force: true })

const peak = Math.max(...samples)
console.log(JSON.stringify({ events: written, seconds, files, slowMs, batches, changes, baselineRssMb: baseline, peakRssMb: peak, growthMb: Math.round((peak - baseline) * 10) / 10 }))
