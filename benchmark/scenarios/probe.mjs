// Where watchfiles-node's ready time goes: benchmark/analysis/core-probe times the core without
// Node, the same walk with notify's per-folder watch() round trip, with notify 9's batched
// update_paths (one round trip per 512 folders), with plain inotify, and alone.
import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'
import { BENCH_DIR, BUILD_DIR, shuffle } from '../lib/util.mjs'

let built

export const PROBE_MODES = ['core', 'notify-per-dir', 'notify9-batch', 'inotify-per-dir', 'notify-recursive', 'walk']

function buildProbe(log) {
  if (built) return built
  log('  building benchmark/analysis/core-probe (cargo, release)')
  const r = spawnSync('cargo', ['build', '--release', '--quiet'], {
    cwd: path.join(BENCH_DIR, 'analysis', 'core-probe'),
    env: { ...process.env, CARGO_TARGET_DIR: path.join(BUILD_DIR, 'probe-target') },
    stdio: 'inherit',
  })
  if (r.status !== 0) return undefined
  built = path.join(BUILD_DIR, 'probe-target', 'release', 'core-probe')
  // Let the build's own processes and writes settle before anything is timed.
  spawnSync('sleep', ['3'])
  return built
}

export function runProbe(tree, runs, log) {
  const bin = buildProbe(log)
  if (!bin) {
    log('  probe build failed: skipped')
    return {}
  }
  // notify-recursive cannot prune node_modules: only meaningful on a tree without one.
  const modes = tree.ignoredDirs > 0 ? PROBE_MODES.filter((m) => m !== 'notify-recursive') : PROBE_MODES
  const out = Object.fromEntries(modes.map((m) => [m, []]))
  for (let run = 0; run < runs; run++) {
    for (const mode of shuffle(modes, 31 + run)) {
      out[mode].push(JSON.parse(execFileSync(bin, [mode, tree.root], { encoding: 'utf8' }).trim()))
    }
  }
  for (const m of modes) log(`  ${m.padEnd(16)} ${out[m].map((r) => r.ms.toFixed(1)).join(', ')} ms`)
  return { tree: tree.name, runs: out }
}

/**
 * The core alone (no Node) in the other scenarios: `step: 0` latency (200 writes per process) and
 * polling-mode idle CPU (10 s per process), `runs` fresh processes each. Their JSON is on stderr.
 */
export function runCoreOnly(latencyTree, pollTree, runs, log) {
  const bin = buildProbe(log)
  if (!bin) return {}
  const run = (mode, tree, env) => {
    const r = spawnSync(bin, [mode, tree.root], { encoding: 'utf8', env: { ...process.env, ...env } })
    const line = r.stderr.trim().split('\n').find((l) => l.startsWith('{'))
    return line ? JSON.parse(line) : { error: r.stderr.slice(-300) }
  }
  const latency = []
  const poll = []
  for (let i = 0; i < runs; i++) {
    latency.push(run('core-latency', latencyTree, { SAMPLES: '200' }))
    poll.push(run('core-poll', pollTree, { IDLE_MS: '10000' }))
  }
  log(`  core alone, step 0 latency p95: ${latency.map((r) => r.p95_ms).join(', ')} ms; polling CPU per 10 s: ${poll.map((r) => r.idle_cpu_ms).join(', ')} ms`)
  return { latencyTree: latencyTree.name, pollTree: pollTree.name, latency, poll }
}
