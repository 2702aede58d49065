#!/usr/bin/env node
// `npm run bench` — watchfiles-node against the watchers users would pick instead, on the same
// generated trees, each in fresh processes, in one run; then benchmark/RESULTS.md.
//
//   npm run bench                  full run (10k, 100k and 1M trees; ~45 min on 2 cores)
//   npm run bench -- --quick       10k tree, fewer samples (under 3 minutes once set up)
//
// Options: --runs N (fresh processes per watcher and scenario, default 3), --sizes 10k,100k,1M,
// --only ours,parcel,... (watchers), --skip reloader,polling,probe,latency,burst,
// --idle-ms N, --out FILE (default: RESULTS.md for a full run, build/RESULTS.quick.md for --quick),
// --report build/results-*.json (only rewrite the report from a saved run's raw results).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { machineLoad } from './lib/procfs.mjs'
import { writeReport } from './lib/report.mjs'
import { ensureLimit, ensureNodePeers, ensureOurs, ensurePython, versions } from './lib/setup.mjs'
import { ensureTree } from './lib/trees.mjs'
import { BENCH_DIR, BUILD_DIR, REPO_DIR } from './lib/util.mjs'
import { killAll } from './lib/worker-client.mjs'
import { RELOADERS, runReloaders } from './scenarios/reloader.mjs'
import { runCoreOnly, runProbe } from './scenarios/probe.mjs'
import { runLimit, runSessions, WATCHERS } from './scenarios/watchers.mjs'

function parseArgs(argv) {
  const args = { quick: false, skip: new Set() }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--quick') args.quick = true
    else if (a.startsWith('--runs')) args.runs = Number(value())
    else if (a.startsWith('--sizes')) args.sizes = value().split(',')
    else if (a.startsWith('--only')) args.only = value().split(',')
    else if (a.startsWith('--skip')) for (const s of value().split(',')) args.skip.add(s)
    else if (a.startsWith('--idle-ms')) args.idleMs = Number(value())
    else if (a.startsWith('--out')) args.out = path.resolve(value())
    else if (a.startsWith('--report')) args.report = path.resolve(value())
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 12).join('\n'))
      process.exit(0)
    } else throw new Error(`unknown option ${a}`)
  }
  return args
}

const args = parseArgs(process.argv.slice(2))
if (args.report) {
  const saved = JSON.parse(fs.readFileSync(args.report, 'utf8'))
  const target = args.out ?? (saved.meta.config.mode === 'quick' ? path.join(BUILD_DIR, 'RESULTS.quick.md') : path.join(BENCH_DIR, 'RESULTS.md'))
  writeReport(saved, target)
  console.log(`rewrote ${path.relative(process.cwd(), target)} from ${path.relative(process.cwd(), args.report)}`)
  process.exit(0)
}
const quick = args.quick
const config = {
  mode: quick ? 'quick' : 'full',
  runs: args.runs ?? 3,
  sizes: args.sizes ?? (quick ? ['10k'] : ['10k', '100k', '1M']),
  mainSize: null, // the tree of the idle, latency and burst scenarios: 100k, or the largest below
  idleMs: args.idleMs ?? (quick ? 4000 : 30_000),
  latencyN: quick ? 15 : 40,
  latencyGapMs: 150,
  burst: { folders: 100, filesPerFolder: 100, quietMs: quick ? 2500 : 4000 },
  pollingSize: '10k',
  pollingIds: quick ? ['ours-poll', 'chokidar-poll'] : ['ours-poll', 'chokidar-poll', 'chokidar-poll300', 'python-poll'],
  reloaderRuns: quick ? 1 : args.runs ?? 3,
  reloaderSaves: quick ? 5 : 10,
  limitRuns: quick ? 3 : 5,
  probeRuns: 9,
}
config.mainSize = config.sizes.includes('100k') ? '100k' : config.sizes[config.sizes.length - 1]
const out = args.out ?? (quick ? path.join(BUILD_DIR, 'RESULTS.quick.md') : path.join(BENCH_DIR, 'RESULTS.md'))

const started = Date.now()
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}`)

// Clean up whatever happens: no worker, reloader or server may outlive the run.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll()
    process.exit(130)
  })
}
process.on('exit', killAll)

// Samples the machine's load while the run goes on, to say under what load it was taken.
function cpuBusy() {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const n = f.map(Number)
  const idle = n[3] + n[4]
  const total = n.reduce((a, b) => a + b, 0)
  return { idle, total }
}
const loadSamples = []
let prevBusy = cpuBusy()
const loadTimer = setInterval(() => {
  const now = cpuBusy()
  const busy = 1 - (now.idle - prevBusy.idle) / Math.max(1, now.total - prevBusy.total)
  prevBusy = now
  loadSamples.push({ t: Date.now(), busy, load1: machineLoad().l1 })
}, 5000)
loadTimer.unref()

async function main() {
  log(`${config.mode} run: trees ${config.sizes.join(', ')}, ${config.runs} fresh processes per watcher`)
  ensureOurs()
  ensureNodePeers(log)
  const pythonVersion = ensurePython(log)
  const limitBin = ensureLimit(log)
  let ids = Object.keys(WATCHERS)
  if (!pythonVersion) ids = ids.filter((id) => id !== 'python')
  if (args.only) ids = ids.filter((id) => args.only.includes(id))

  const results = {
    meta: {
      startedAt: new Date(started).toISOString(),
      config,
      argv: process.argv.slice(2),
      machine: machine(),
      loadAtStart: machineLoad(),
      versions: { ...versions(), node: process.version, pythonWatchfiles: pythonVersion },
    },
    trees: {},
    limit: {},
    sessions: {},
    step0: {},
    polling: {},
    reloader: {},
    probe: {},
  }

  for (const size of config.sizes) {
    const tree = ensureTree(size, log)
    results.trees[size] = tree
    // Warm the caches the same way for everyone: one full walk that stats every entry.
    runLimit(limitBin, tree, 1, ['--no-watch', '--stat', '--no-ignore'])
    log(`tree ${size}: ${tree.files} files, ${tree.dirs} folders (${tree.watchedDirs} outside node_modules)`)
    results.limit[size] = {
      watch: runLimit(limitBin, tree, config.limitRuns),
      walkOnly: runLimit(limitBin, tree, config.limitRuns, ['--no-watch']),
      withStat: runLimit(limitBin, tree, config.limitRuns, ['--stat']),
    }
    if (tree.ignoredDirs > 0) results.limit[size].noIgnore = runLimit(limitBin, tree, config.limitRuns, ['--no-ignore'])
    log(`  limit: ${results.limit[size].watch.map((r) => r.ms.toFixed(1)).join(', ')} ms`)

    const main = size === config.mainSize
    const planFor = (_id, run) => ({
      settleMs: 1000,
      idleMs: main && (!quick || run === 0) ? config.idleMs : 0,
      latency:
        main && !args.skip.has('latency') && (!quick || run === 0)
          ? { n: config.latencyN, gapMs: config.latencyGapMs }
          : undefined,
      burst: main && !args.skip.has('burst') && (!quick || run === 0) ? config.burst : undefined,
    })
    results.sessions[size] = await runSessions(ids, tree, config.runs, planFor, log, size.length)

    if (main && ids.includes('ours') && !args.skip.has('latency')) {
      log(`  latency with step: 0 on ${size}`)
      const step0Runs = quick ? 1 : config.runs
      results.step0 = await runSessions(['ours-step0'], tree, step0Runs, () => ({
        settleMs: 1000,
        latency: { n: config.latencyN, gapMs: config.latencyGapMs },
      }), log)
    }
  }

  if (!args.skip.has('polling')) {
    const tree = ensureTree(config.pollingSize, log)
    const pollIds = config.pollingIds.filter((id) => pythonVersion || !id.startsWith('python'))
    log(`polling mode on ${config.pollingSize}: idle CPU over ${config.idleMs / 1000} s`)
    results.polling = await runSessions(pollIds, tree, quick ? 1 : config.runs, () => ({
      settleMs: 1000,
      idleMs: config.idleMs,
    }), log)
  }

  if (!args.skip.has('reloader')) {
    log(`reloader: ${config.reloaderSaves} saves per process`)
    results.reloader = await runReloaders(Object.keys(RELOADERS), config.reloaderRuns, config.reloaderSaves, log)
    results.meta.versions.nodemon = RELOADERS.nodemon.version()
  }

  if (!quick && !args.skip.has('probe') && results.trees[config.mainSize]) {
    log(`probe: where ours' ready time goes on ${config.mainSize}`)
    results.probe = runProbe(results.trees[config.mainSize], config.probeRuns, log)
    results.coreOnly = runCoreOnly(results.trees[config.mainSize], ensureTree(config.pollingSize, log), config.runs, log)
  }

  results.meta.finishedAt = new Date().toISOString()
  results.meta.loadAtEnd = machineLoad()
  results.meta.loadSamples = loadSamples
  fs.mkdirSync(BUILD_DIR, { recursive: true })
  const json = path.join(BUILD_DIR, `results-${config.mode}-${results.meta.startedAt.replace(/[:.]/g, '-')}.json`)
  fs.writeFileSync(json, JSON.stringify(results, null, 1))
  writeReport(results, out)
  log(`results: ${path.relative(process.cwd(), out)} (raw: ${path.relative(process.cwd(), json)})`)
}

function machine() {
  const cpu = os.cpus()[0]?.model
  let commit
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim()
  } catch {
    commit = undefined
  }
  return {
    cpu,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    fs: (() => {
      try {
        return execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', BENCH_DIR], { encoding: 'utf8' }).trim()
      } catch {
        return undefined
      }
    })(),
    maxUserWatches: Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8')),
    commit,
  }
}

main().then(
  () => {
    killAll()
    process.exit(0)
  },
  (error) => {
    console.error(error)
    killAll()
    process.exit(1)
  },
)
