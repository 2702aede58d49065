// The watcher scenarios: ready time, RSS, OS watches, idle CPU, latency, bursts and polling, for
// watchfiles-node and its peers, each in fresh processes on the same generated tree, and the
// physical limit beside them.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { cpuMs, inotifyBudget, inotifyWatches, peakRssBytes, rssBytes, schedNs, threadCount } from '../lib/procfs.mjs'
import { cleanBurst } from '../lib/trees.mjs'
import { Worker } from '../lib/worker-client.mjs'
import { nowNs, shuffle, sleep, withTimeout } from '../lib/util.mjs'

/** The watchers compared. `adapter` is a Node adapter name or 'python'. */
export const WATCHERS = {
  ours: { label: 'watchfiles-node', adapter: 'ours', options: {} },
  parcel: { label: '@parcel/watcher', adapter: 'parcel', options: {} },
  chokidar: { label: 'chokidar', adapter: 'chokidar', options: {} },
  watchpack: { label: 'watchpack', adapter: 'watchpack', options: {} },
  fswatch: { label: 'fs.watch recursive', adapter: 'fswatch', options: {} },
  python: { label: 'watchfiles (Python)', adapter: 'python', options: {} },
}

/** Variants measured for one scenario only. */
export const VARIANTS = {
  'ours-step0': { label: 'watchfiles-node `step: 0`', adapter: 'ours', options: { step: 0 } },
  'ours-poll': { label: 'watchfiles-node `forcePolling`', adapter: 'ours', options: { forcePolling: true } },
  'chokidar-poll': { label: 'chokidar `usePolling`', adapter: 'chokidar', options: { usePolling: true } },
  'chokidar-poll300': {
    label: 'chokidar `usePolling, interval: 300`',
    adapter: 'chokidar',
    options: { usePolling: true, interval: 300, binaryInterval: 300 },
  },
  'python-poll': { label: 'watchfiles (Python) `force_polling`', adapter: 'python', options: { force_polling: true } },
}

/** inotify watches a watcher will need on a tree, to skip one that cannot fit in the user's limit. */
function watchesNeeded(adapter, tree) {
  if (adapter === 'fswatch') return tree.files + tree.dirs // one per file and per folder, node_modules included
  if (adapter === 'python') return tree.dirs
  return tree.watchedDirs
}

/** Runs the physical limit `runs` times on `tree`; returns the samples (ms) and the last output. */
export function runLimit(bin, tree, runs, flags = []) {
  const out = []
  for (let i = 0; i < runs; i++) {
    const line = execFileSync(bin, [...flags, tree.root], { encoding: 'utf8' }).trim()
    out.push(JSON.parse(line))
  }
  return out
}

/**
 * One fresh process of one watcher: start, ready, settle, RSS and watches, then the optional
 * phases in `plan` (idle CPU, latency, burst). Always ends the process.
 */
export async function session(def, tree, plan, log) {
  const r = { ok: false }
  const w = new Worker(def.adapter)
  try {
    const loaded = await withTimeout(w.loaded, 60_000, 'loading')
    r.version = loaded.version
    await sleep(300)
    const rss0 = rssBytes(w.pid)
    const cpuStart = cpuMs(w.pid)
    const reply = await w.request('start', { root: tree.root, options: def.options }, plan.startTimeoutMs ?? 180_000)
    r.readyMs = reply.readyMs
    r.spawnToReadyMs = Number(BigInt(reply.readyNs) - w.spawnNs) / 1e6
    r.backend = reply.backend
    r.startCpuMs = cpuMs(w.pid) - cpuStart
    await sleep(plan.settleMs ?? 1000)
    r.rssBeforeMB = rss0 / 2 ** 20
    r.rssIncreaseMB = (rssBytes(w.pid) - rss0) / 2 ** 20
    r.peakIncreaseMB = (peakRssBytes(w.pid) - rss0) / 2 ** 20
    const iw = inotifyWatches(w.pid)
    r.watches = iw?.watches
    r.inotifyInstances = iw?.instances
    r.threads = threadCount(w.pid)
    if (plan.idleMs) {
      const c0 = cpuMs(w.pid)
      const s0 = schedNs(w.pid)
      await sleep(plan.idleMs)
      r.idleCpuMs = cpuMs(w.pid) - c0
      r.idleSchedMs = (schedNs(w.pid) - s0) / 1e6
      r.idleWindowMs = plan.idleMs
    }
    if (plan.latency) {
      const { samples, missed } = await w.request(
        'latency',
        { files: tree.samples, n: plan.latency.n, gapMs: plan.latency.gapMs, timeoutMs: 5000 },
        plan.latency.n * 6000 + 10_000,
      )
      r.latency = samples
      r.latencyMissed = missed
    }
    if (plan.burst) {
      r.burst = await burst(w, tree, plan.burst, log)
    }
    r.ok = true
  } catch (error) {
    r.error = String(error?.message ?? error).split('\n')[0]
    log(`    ${def.label}: ${r.error}`)
  } finally {
    r.closeMs = await w.end()
    cleanBurst(tree)
  }
  return r
}

/** Polls the worker's tracked set until `expected` paths are seen or nothing new came for `quietMs`. */
async function collect(w, t0, expected, quietMs, maxMs) {
  let last = { count: -1 }
  let lastChangeAt = Date.now()
  const start = Date.now()
  for (;;) {
    await sleep(50)
    const s = await w.request('stats')
    if (s.count !== last.count) lastChangeAt = Date.now()
    last = s
    if (s.count >= expected) break
    if (Date.now() - lastChangeAt > quietMs || Date.now() - start > maxMs) break
  }
  return {
    seen: last.count,
    completeness: last.count / expected,
    lastMs: last.lastNs ? Number(BigInt(last.lastNs) - t0) / 1e6 : null,
  }
}

/**
 * 10,000 files in 100 new folders, written by this process as fast as it can, then the 100
 * folders deleted. Completeness counts distinct file paths reported (any event kind); the time
 * is from the first mkdir (or the first rm) to the last new path reported.
 */
async function burst(w, tree, { folders, filesPerFolder, quietMs }, log) {
  const expected = folders * filesPerFolder
  const prefix = tree.burstDir + path.sep
  await w.request('track', { prefix, suffix: '.txt' })
  const t0 = nowNs()
  for (let d = 0; d < folders; d++) {
    const dir = path.join(tree.burstDir, `b${String(d).padStart(3, '0')}`)
    fs.mkdirSync(dir)
    for (let f = 0; f < filesPerFolder; f++) fs.writeFileSync(path.join(dir, `f${String(f).padStart(3, '0')}.txt`), 'x')
  }
  const writeMs = Number(nowNs() - t0) / 1e6
  const create = { writeMs, ...(await collect(w, t0, expected, quietMs, 60_000)) }
  await sleep(500)
  await w.request('track', { prefix, suffix: '.txt' })
  const t1 = nowNs()
  for (let d = 0; d < folders; d++) {
    fs.rmSync(path.join(tree.burstDir, `b${String(d).padStart(3, '0')}`), { recursive: true, force: true })
  }
  const rmMs = Number(nowNs() - t1) / 1e6
  const remove = { writeMs: rmMs, ...(await collect(w, t1, expected, quietMs, 60_000)) }
  return { expected, create, remove }
}

/**
 * Runs `ids` × `runs` fresh processes on `tree`, interleaved (each run visits the watchers in a
 * different order, so a drift of the machine's load is spread over all of them).
 */
export async function runSessions(ids, tree, runs, planFor, log, seed = 1) {
  const results = Object.fromEntries(ids.map((id) => [id, []]))
  for (let run = 0; run < runs; run++) {
    for (const id of shuffle(ids, seed * 100 + run)) {
      const def = WATCHERS[id] ?? VARIANTS[id]
      const polled = Boolean(def.options.forcePolling || def.options.usePolling || def.options.force_polling)
      const need = polled ? 0 : watchesNeeded(def.adapter, tree)
      const budget = inotifyBudget()
      if (budget.used + need > budget.limit * 0.95) {
        const reason = `skipped: needs ~${need} inotify watches, ${budget.limit - budget.used} of fs.inotify.max_user_watches=${budget.limit} free`
        if (run === 0) log(`    ${def.label} @ ${tree.name}: ${reason}`)
        results[id].push({ ok: false, skipped: reason })
        continue
      }
      const plan = planFor(id, run)
      const t = Date.now()
      const r = await session(def, tree, plan, log)
      results[id].push(r)
      log(
        `    ${tree.name} run ${run + 1}/${runs} ${def.label.padEnd(38)} ready ${fmt(r.readyMs)} ms, +${fmt(r.rssIncreaseMB)} MB, ` +
          `${r.watches ?? '?'} watches${r.idleCpuMs !== undefined ? `, idle ${fmt(r.idleSchedMs)} ms CPU` : ''}` +
          `${r.latency ? `, latency p50 ${fmt(median(r.latency))} ms` : ''}` +
          `${r.burst ? `, burst ${r.burst.create.seen}/${r.burst.expected} in ${fmt(r.burst.create.lastMs)} ms, rm ${r.burst.remove.seen} in ${fmt(r.burst.remove.lastMs)} ms` : ''}` +
          ` (${((Date.now() - t) / 1000).toFixed(1)} s)`,
      )
    }
  }
  return results
}

function median(v) {
  const s = v.slice().sort((a, b) => a - b)
  return s.length ? s[Math.floor(s.length / 2)] : undefined
}

const fmt = (x) => (typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)) : '—')
