// Writes RESULTS.md from one run's results. Everything between the NOTES markers of an existing
// file (the hand-written analysis) is kept, so rerunning the suite refreshes the numbers only.
import fs from 'node:fs'
import { IGNORE_CONFIG } from '../workers/adapters.mjs'
import { RELOADERS } from '../scenarios/reloader.mjs'
import { VARIANTS, WATCHERS } from '../scenarios/watchers.mjs'
import { median, percentile } from './util.mjs'

const NOTES_BEGIN = '<!-- notes:begin (hand-written; kept when the suite rewrites this file) -->'
const NOTES_END = '<!-- notes:end -->'

const defOf = (id) => WATCHERS[id] ?? VARIANTS[id]
const ok = (runs) => (runs ?? []).filter((r) => r.ok)
const med = (runs, f) => median(ok(runs).map(f).filter((x) => x !== undefined && x !== null))

function n(x, digits) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—'
  if (digits !== undefined) return x.toFixed(digits)
  const a = Math.abs(x)
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  return x.toFixed(2)
}
const ratio = (a, b) => (a === undefined || b === undefined || !b ? undefined : a / b)
const x = (r) => (r === undefined ? '—' : `${n(r, r >= 10 ? 0 : 2)}×`)

function table(header, rows, align) {
  const sep = header.map((_, i) => ((align ?? 'l' + 'r'.repeat(header.length - 1))[i] === 'l' ? '---' : '---:'))
  const lines = [`| ${header.join(' | ')} |`, `| ${sep.join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  return lines.join('\n')
}

function status(runs) {
  const skipped = (runs ?? []).find((r) => r.skipped)
  if (skipped) return skipped.skipped
  const err = (runs ?? []).find((r) => r.error)
  return err ? `failed: ${err.error}` : undefined
}

/** Per-process p50/p95 of latency samples, then their medians over processes. */
function latencyStats(runs) {
  const procs = ok(runs).filter((r) => r.latency?.length)
  if (!procs.length) return undefined
  const all = procs.flatMap((r) => r.latency)
  return {
    p50: median(procs.map((r) => percentile(r.latency, 50))),
    p95: median(procs.map((r) => percentile(r.latency, 95))),
    max: Math.max(...all),
    samples: all.length,
    processes: procs.length,
    missed: procs.reduce((a, r) => a + (r.latencyMissed ?? 0), 0),
  }
}

export function summarize(results) {
  const s = { ready: {}, limit: {}, targets: [] }
  for (const [size, lim] of Object.entries(results.limit)) {
    s.limit[size] = {
      watch: median(lim.watch.map((r) => r.ms)),
      walkOnly: median(lim.walkOnly.map((r) => r.ms)),
      withStat: median(lim.withStat.map((r) => r.ms)),
      noIgnore: lim.noIgnore ? median(lim.noIgnore.map((r) => r.ms)) : undefined,
      watches: lim.watch[0]?.watches,
    }
  }
  for (const [size, byId] of Object.entries(results.sessions)) {
    s.ready[size] = {}
    for (const [id, runs] of Object.entries(byId)) {
      s.ready[size][id] = {
        version: ok(runs)[0]?.version,
        readyMs: med(runs, (r) => r.readyMs),
        spawnToReadyMs: med(runs, (r) => r.spawnToReadyMs),
        rssMB: med(runs, (r) => r.rssIncreaseMB),
        peakMB: med(runs, (r) => r.peakIncreaseMB),
        watches: med(runs, (r) => r.watches),
        idleCpuMs: med(runs, (r) => r.idleCpuMs),
        idleSchedMs: med(runs, (r) => r.idleSchedMs),
        idleWindowMs: med(runs, (r) => r.idleWindowMs),
        threads: med(runs, (r) => r.threads),
        latency: latencyStats(runs),
        burstCreate: burstStats(runs, 'create'),
        burstRemove: burstStats(runs, 'remove'),
        runs: ok(runs).length,
        status: status(runs),
      }
    }
  }
  return s
}

function burstStats(runs, phase) {
  const procs = ok(runs).filter((r) => r.burst)
  if (!procs.length) return undefined
  return {
    completeness: median(procs.map((r) => r.burst[phase].completeness)),
    minCompleteness: Math.min(...procs.map((r) => r.burst[phase].completeness)),
    lastMs: median(procs.map((r) => r.burst[phase].lastMs)),
    writeMs: median(procs.map((r) => r.burst[phase].writeMs)),
    expected: procs[0].burst.expected,
    processes: procs.length,
  }
}

function loadLine(meta) {
  const busy = (meta.loadSamples ?? []).map((s) => s.busy * 100)
  const parts = [
    `load average ${n(meta.loadAtStart?.l1, 2)} at the start, ${n(meta.loadAtEnd?.l1, 2)} at the end`,
  ]
  if (busy.length) {
    parts.push(
      `both cores ${n(median(busy), 0)}% busy in the median 5-s sample (max ${n(Math.max(...busy), 0)}%), this suite's own processes included`,
    )
  }
  return parts.join('; ')
}

export function writeReport(results, file) {
  const { meta } = results
  const s = summarize(results)
  const main = meta.config.mainSize
  const L = []
  const P = (...lines) => L.push(...lines)
  const oldNotes = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const notes =
    oldNotes.includes(NOTES_BEGIN) && oldNotes.includes(NOTES_END)
      ? oldNotes.slice(oldNotes.indexOf(NOTES_BEGIN), oldNotes.indexOf(NOTES_END) + NOTES_END.length)
      : `${NOTES_BEGIN}\n\n(No analysis written yet.)\n\n${NOTES_END}`

  P('# Benchmark results', '')
  P(
    `Generated by \`npm run bench${meta.config.mode === 'quick' ? ' -- --quick' : ''}${
      meta.argv.filter((a) => a !== '--quick').length ? ` ${meta.argv.filter((a) => a !== '--quick').join(' ')}` : ''
    }\` from ${meta.startedAt} to ${meta.finishedAt} (UTC), commit ${meta.machine.commit ?? '?'}.`,
    '',
    `**Load during the run:** ${loadLine(meta)}.`,
    '',
    'Every number is the median of the fresh processes stated (each watcher in its own new process, the',
    'watchers visited in a different order each round); ratios are of those medians, from this one run.',
    '',
  )

  // ── Targets ──────────────────────────────────────────────────────────────────────────────────
  const r100 = s.ready[main] ?? {}
  const ours = r100.ours
  const parcel = r100.parcel
  const limit = s.limit[main]
  const targets = []
  const add = (what, measured, met) => targets.push([what, measured, met === undefined ? 'not measured' : met ? '**met**' : '**missed**'])
  add(
    `ready(${main}) ≤ 1.5× the limit`,
    `${n(ours?.readyMs)} ms vs ${n(limit?.watch)} ms = ${x(ratio(ours?.readyMs, limit?.watch))}`,
    ours?.readyMs && limit ? ours.readyMs <= 1.5 * limit.watch : undefined,
  )
  add(
    `ready(${main}) ≤ 0.35× @parcel/watcher`,
    `${n(ours?.readyMs)} ms vs ${n(parcel?.readyMs)} ms = ${x(ratio(ours?.readyMs, parcel?.readyMs))}`,
    ours?.readyMs && parcel?.readyMs ? ours.readyMs <= 0.35 * parcel.readyMs : undefined,
  )
  add(`RSS increase at ${main} ≤ 10 MB`, `${n(ours?.rssMB)} MB`, ours?.rssMB !== undefined ? ours.rssMB <= 10 : undefined)
  // Issue 5: pruning. The 1M tree is the 100k tree plus 900,000 files in node_modules (ignored).
  const pruned = s.ready['1M']?.ours
  const kept = s.ready['100k']?.ours
  add(
    'ready with 90% of the files in ignored folders (1M) ≤ 1.2× ready of the other 10% alone (100k)',
    `${n(pruned?.readyMs)} ms vs ${n(kept?.readyMs)} ms = ${x(ratio(pruned?.readyMs, kept?.readyMs))}`,
    pruned?.readyMs && kept?.readyMs ? pruned.readyMs <= 1.2 * kept.readyMs : undefined,
  )
  add(
    `idle CPU ≤ @parcel/watcher's (${main}, ${n((ours?.idleWindowMs ?? 0) / 1000, 0)} s)`,
    `${n(ours?.idleSchedMs, 3)} ms vs ${n(parcel?.idleSchedMs, 3)} ms (scheduler time); utime+stime ${n(ours?.idleCpuMs, 0)} vs ${n(parcel?.idleCpuMs, 0)} ms`,
    ours?.idleSchedMs !== undefined && parcel?.idleSchedMs !== undefined ? ours.idleSchedMs <= parcel.idleSchedMs : undefined,
  )
  add(
    'latency p95 ≤ step + 3 ms at the defaults (53 ms)',
    `p95 ${n(ours?.latency?.p95)} ms (p50 ${n(ours?.latency?.p50)})`,
    ours?.latency ? ours.latency.p95 <= 53 : undefined,
  )
  const step0 = results.step0?.['ours-step0'] ? latencyStats(results.step0['ours-step0']) : undefined
  add('latency p95 ≤ 2 ms with `step: 0`', `p95 ${n(step0?.p95)} ms (p50 ${n(step0?.p50)})`, step0 ? step0.p95 <= 2 : undefined)
  add(
    '100% burst completeness (10,000 files in 100 new folders, and their deletion)',
    `created ${pct(ours?.burstCreate?.minCompleteness)}, deleted ${pct(ours?.burstRemove?.minCompleteness)} (worst process)`,
    ours?.burstCreate ? ours.burstCreate.minCompleteness === 1 && ours.burstRemove.minCompleteness === 1 : undefined,
  )
  const poll = Object.fromEntries(Object.entries(results.polling ?? {}).map(([id, runs]) => [id, pollStats(runs)]))
  add(
    'polling-mode idle CPU ≤ 1/10 of chokidar `usePolling`',
    `${n(poll['ours-poll']?.idleSchedMs)} ms vs ${n(poll['chokidar-poll']?.idleSchedMs)} ms = ${x(ratio(poll['ours-poll']?.idleSchedMs, poll['chokidar-poll']?.idleSchedMs))}`,
    poll['ours-poll'] && poll['chokidar-poll'] ? poll['ours-poll'].idleSchedMs <= poll['chokidar-poll'].idleSchedMs / 10 : undefined,
  )
  const rel = Object.fromEntries(Object.entries(results.reloader ?? {}).map(([id, runs]) => [id, reloaderStats(runs)]))
  add(
    "Reloader save-to-ready ≤ 0.8× nodemon's and `node --watch`'s",
    rel.ours?.p50 !== undefined
      ? `p50 ${n(rel.ours.p50)} ms vs ${n(rel.nodemon?.p50)} / ${n(rel.nodewatch?.p50)} ms`
      : `pending: ${RELOADERS.ours.pending} (nodemon ${n(rel.nodemon?.p50)} ms, node --watch ${n(rel.nodewatch?.p50)} ms)`,
    rel.ours?.p50 !== undefined ? rel.ours.p50 <= 0.8 * Math.min(rel.nodemon?.p50 ?? Infinity, rel.nodewatch?.p50 ?? Infinity) : undefined,
  )
  P('## Targets', '', table(['target (issues 5 and 7)', 'measured', ''], targets, 'lll'), '')

  // ── Ready time and memory ────────────────────────────────────────────────────────────────────
  P('## Ready time, memory and OS watches', '')
  P(
    '"ready" is measured inside the watcher\'s process, from just before the call that starts watching to the',
    'moment the library says it is watching (its promise, event or return; for watchpack, which has none, the',
    'moment every folder\'s initial scan is done). "start→ready" adds process start and module loading.',
    'RSS increase is VmRSS 1 s after ready minus VmRSS just before the call. OS watches are the',
    '`inotify wd:` lines in /proc/<pid>/fdinfo of the process\'s inotify descriptors.',
    '',
  )
  for (const [size, byId] of Object.entries(s.ready)) {
    const tree = results.trees[size]
    const lim = s.limit[size]
    const parcelMs = byId.parcel?.readyMs
    P(
      `### ${size}: ${tree.files.toLocaleString('en')} files in ${tree.dirs.toLocaleString('en')} folders` +
        (tree.ignoredFiles ? ` (${tree.ignoredFiles.toLocaleString('en')} files, ${tree.ignoredDirs.toLocaleString('en')} folders in node_modules)` : ''),
      '',
    )
    const rows = [
      [
        '**limit** (C: walk + 1 inotify watch per folder)',
        'gcc',
        `**${n(lim?.watch)}**`,
        '1×',
        x(ratio(lim?.watch, parcelMs)),
        '—',
        '—',
        '—',
        String(lim?.watches ?? '—'),
        String(results.limit[size].watch.length),
      ],
    ]
    for (const [id, r] of Object.entries(byId)) {
      rows.push([
        defOf(id).label,
        r.version ?? '—',
        r.status && !r.runs ? r.status : n(r.readyMs),
        x(ratio(r.readyMs, lim?.watch)),
        x(ratio(r.readyMs, parcelMs)),
        n(r.spawnToReadyMs),
        n(r.rssMB),
        n(r.peakMB),
        r.watches === undefined ? '—' : String(Math.round(r.watches)),
        String(r.runs),
      ])
    }
    P(
      table(['watcher', 'version', 'ready ms', '× limit', '× parcel', 'start→ready ms', 'RSS +MB', 'peak +MB', 'OS watches', 'processes'], rows),
      '',
      `Limit variants (median ms): walk only ${n(lim?.walkOnly)}, walk + lstat of every entry ${n(lim?.withStat)}` +
        (lim?.noIgnore !== undefined ? `, walk + watch node_modules too ${n(lim.noIgnore)}` : '') +
        '.',
      '',
    )
  }

  // ── Idle CPU ─────────────────────────────────────────────────────────────────────────────────
  if (r100.ours?.idleWindowMs) {
    P(`## Idle CPU (${main} tree, ${n(r100.ours.idleWindowMs / 1000, 0)} s after ready)`, '')
    P(
      'utime+stime from /proc/<pid>/stat (10 ms ticks) and, for resolution, the scheduler\'s run time of every',
      'thread (/proc/<pid>/task/*/schedstat). Medians over processes.',
      '',
    )
    const rows = Object.entries(r100).map(([id, r]) => [defOf(id).label, n(r.idleCpuMs, 0), n(r.idleSchedMs, 3), n(r.threads, 0), String(r.runs)])
    P(table(['watcher', 'utime+stime ms', 'scheduler ms', 'threads', 'processes'], rows), '')
  }

  // ── Latency ──────────────────────────────────────────────────────────────────────────────────
  const latRows = Object.entries(r100)
    .filter(([, r]) => r.latency)
    .map(([id, r]) => [defOf(id).label, n(r.latency.p50), n(r.latency.p95), n(r.latency.max), `${r.latency.samples} (${r.latency.missed} missed)`])
  if (step0) latRows.push([VARIANTS['ours-step0'].label, n(step0.p50), n(step0.p95), n(step0.max), `${step0.samples} (${step0.missed} missed)`])
  const coreLat = (results.coreOnly?.latency ?? []).filter((r) => r.p95_ms !== undefined)
  if (coreLat.length) {
    latRows.push([
      'watchfiles-core alone, `step: 0` (core-probe, no Node)',
      n(median(coreLat.map((r) => r.p50_ms))),
      n(median(coreLat.map((r) => r.p95_ms))),
      n(Math.max(...coreLat.map((r) => r.max_ms))),
      `${coreLat.reduce((a, r) => a + r.samples, 0)} (every 20 ms)`,
    ])
  }
  if (latRows.length) {
    P(`## Latency of a single-file write (${main} tree)`, '')
    P(
      'From just before `writeFileSync` to the callback that reports the file, both in the watcher\'s own',
      `process (Python: a writer thread and the watch thread), one write every ${meta.config.latencyGapMs} ms after the previous`,
      'report, files spread over the tree. p50/p95 per process, then the median over processes; max over all.',
      'Each library at its defaults: watchfiles-node `step` 50 ms; @parcel/watcher batches for at least 50 ms',
      '(not configurable); chokidar and fs.watch report each event at once; watchpack\'s `change` event is',
      'immediate (its `aggregated` event waits 200 ms more); Python watchfiles `step` 50 ms, checked every step.',
      '',
      table(['watcher', 'p50 ms', 'p95 ms', 'max ms', 'samples'], latRows),
      '',
    )
  }

  // ── Burst ────────────────────────────────────────────────────────────────────────────────────
  const burstRows = Object.entries(r100)
    .filter(([, r]) => r.burstCreate)
    .map(([id, r]) => [
      defOf(id).label,
      pct(r.burstCreate.completeness),
      n(r.burstCreate.lastMs),
      pct(r.burstRemove.completeness),
      n(r.burstRemove.lastMs),
      String(r.burstCreate.processes),
    ])
  if (burstRows.length) {
    const any = Object.values(r100).find((r) => r.burstCreate)
    P(`## Burst: 10,000 files in 100 new folders, then their deletion (${main} tree)`, '')
    P(
      `The benchmark process writes the files (median ${n(any.burstCreate.writeMs, 0)} ms) and then removes the 100 folders`,
      `(median ${n(any.burstRemove.writeMs, 0)} ms) while the watcher runs in its own process. Completeness: distinct file paths`,
      'reported (any event kind) out of 10,000; time: from the first mkdir (first rm) to the last new path reported',
      '(CLOCK_MONOTONIC in both processes). Collection stops when all are seen or nothing new came for',
      `${meta.config.burst.quietMs / 1000} s.`,
      '',
      table(['watcher', 'created: complete', 'time to last ms', 'deleted: complete', 'time to last ms', 'processes'], burstRows),
      '',
    )
  }

  // ── Polling ──────────────────────────────────────────────────────────────────────────────────
  if (Object.keys(poll).length) {
    const ptree = results.trees[meta.config.pollingSize] ?? { files: 0, dirs: 0 }
    P(`## Polling mode: idle CPU (${meta.config.pollingSize} tree, ${n(meta.config.idleMs / 1000, 0)} s)`, '')
    P(
      `${ptree.files.toLocaleString('en')} files. Each at its default interval unless stated: watchfiles-node \`pollInterval\` 300 ms,`,
      'chokidar `interval` 100 ms (`binaryInterval` 300 ms), Python watchfiles `poll_delay_ms` 300 ms.',
      '',
      table(
        ['watcher', 'utime+stime ms', 'scheduler ms', '× chokidar usePolling', 'ready ms', 'RSS +MB', 'processes'],
        [
          ...Object.entries(poll).map(([id, r]) => [
            defOf(id).label,
            n(r.idleCpuMs, 0),
            n(r.idleSchedMs),
            x(ratio(r.idleSchedMs, poll['chokidar-poll']?.idleSchedMs)),
            n(r.readyMs),
            n(r.rssMB),
            String(r.runs),
          ]),
          ...corePollRow(results, poll),
        ],
      ),
      '',
    )
  }

  // ── Reloader ─────────────────────────────────────────────────────────────────────────────────
  if (Object.keys(rel).length) {
    P('## Reloader: save to ready', '')
    P(
      'A tiny HTTP server (benchmark/fixtures/reload-app) run by each reloader at its defaults; the benchmark saves',
      '`lib.mjs` (imported by the server) and times until the new server process listens (its own CLOCK_MONOTONIC',
      'stamp, printed on stdout), then checks over HTTP that it serves the new code. "old process gone" is what the',
      'new process finds when it starts: whether the previous server\'s pid still exists.',
      '',
      table(
        ['reloader', 'command', 'p50 ms', 'p95 ms', 'old process gone before new start', 'saves'],
        Object.entries(rel).map(([id, r]) => [
          RELOADERS[id].label,
          `\`${RELOADERS[id].shown}\``,
          r.pending ? r.pending : n(r.p50),
          r.pending ? '—' : n(r.p95),
          r.pending ? '—' : `${r.saves - r.oldAlive}/${r.saves}`,
          r.pending ? '—' : String(r.saves),
        ]),
      ),
      '',
    )
  }

  // ── Probe ────────────────────────────────────────────────────────────────────────────────────
  if (results.probe?.runs) {
    const pr = Object.fromEntries(Object.entries(results.probe.runs).map(([m, runs]) => [m, median(runs.map((r) => r.ms))]))
    const rss = Object.fromEntries(
      Object.entries(results.probe.runs).map(([m, runs]) => [m, median(runs.map((r) => (r.rss_kb_after - r.rss_kb_before) / 1024))]),
    )
    const events = median((results.probe.runs['notify-per-dir'] ?? []).map((r) => r.events))
    const lim = s.limit[results.probe.tree]?.watch
    P(`## Where watchfiles-node's ready time goes (${results.probe.tree} tree)`, '')
    P(
      '`benchmark/analysis/core-probe` (Rust, links watchfiles-core and notify 8.2.2 as the addon does), each mode',
      `in a fresh process, ${results.probe.runs.core?.length ?? 0} runs:`,
      '',
      table(
        ['what', 'ms', '× limit', 'RSS +MB'],
        [
          ['watchfiles-node from Node (`subscribe` to ready, above)', n(r100.ours?.readyMs), x(ratio(r100.ours?.readyMs, lim)), n(r100.ours?.rssMB)],
          ['`core`: watchfiles_core `Watcher::start` + `wait_ready`, no Node', n(pr.core), x(ratio(pr.core, lim)), n(rss.core)],
          ['`notify-per-dir`: the same walk + notify `watch(dir, NonRecursive)` per folder', n(pr['notify-per-dir']), x(ratio(pr['notify-per-dir'], lim)), n(rss['notify-per-dir'])],
          ['`notify9-batch`: the same walk + notify 9.0.0-rc.7 `update_paths`, one round trip per 512 folders', n(pr['notify9-batch']), x(ratio(pr['notify9-batch'], lim)), n(rss['notify9-batch'])],
          ['`inotify-per-dir`: the same walk + `inotify_add_watch` in the walking thread', n(pr['inotify-per-dir']), x(ratio(pr['inotify-per-dir'], lim)), n(rss['inotify-per-dir'])],
          ['`notify-recursive`: one notify `watch(root, Recursive)`', n(pr['notify-recursive']), x(ratio(pr['notify-recursive'], lim)), n(rss['notify-recursive'])],
          ['`walk`: the walk alone', n(pr.walk), x(ratio(pr.walk, lim)), n(rss.walk)],
        ],
      ),
      '',
      `Derived: notify's per-folder round trip (notify-per-dir − inotify-per-dir) ${n(pr['notify-per-dir'] - pr['inotify-per-dir'])} ms` +
        ` (${n(((pr['notify-per-dir'] - pr['inotify-per-dir']) * 1000) / (results.trees[results.probe.tree]?.watchedDirs ?? 1))} µs per folder);` +
        ` batching the watches as notify 9 can saves ${n(pr['notify-per-dir'] - pr['notify9-batch'])} ms of it;` +
        ` the core overlaps its listing with the watches on another thread (core − notify-per-dir ${n(pr.core - pr['notify-per-dir'])} ms);` +
        ` Node, napi and the JS layer (from Node − core) ${n((r100.ours?.readyMs ?? NaN) - pr.core)} ms.` +
        ` While placing the watches, notify received ${events ?? '—'} events (the walk's own opendir() raises IN_OPEN on watched folders).`,
      '',
    )
  }

  // ── Setup ────────────────────────────────────────────────────────────────────────────────────
  const m = meta.machine
  const v = meta.versions
  P('## Machine, versions and commands', '')
  P(
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}, trees on ${m.fs ?? '?'}; fs.inotify.max_user_watches=${m.maxUserWatches}.`,
    `- Node ${v.node}; ${v.python ?? 'Python ?'} with watchfiles ${v.pythonWatchfiles ?? '(not installed)'}; ${v.gcc ?? 'gcc ?'}.`,
    `- Peers (benchmark/package.json, pinned, installed into benchmark/node_modules by the suite): ${peerVersions(s)}, nodemon ${v.nodemon ?? '—'}.`,
    '- Commands: `npm install` (builds watchfiles-node) then `npm run bench` (this file) or `npm run bench -- --quick`',
    '  (benchmark/build/RESULTS.quick.md). The suite installs the peers and Python watchfiles, compiles',
    '  `benchmark/native/limit.c` with `gcc -O2`, and generates the trees in benchmark/.trees (kept for later runs).',
    `- Configuration: ${meta.config.runs} fresh processes per watcher and tree; idle window ${meta.config.idleMs / 1000} s; ` +
      `${meta.config.latencyN} latency samples per process; limit ${meta.config.limitRuns} runs per tree; caches warmed by one full walk per tree.`,
    '',
    'How each watcher ignores node_modules (its best equivalent of `defaultIgnore`):',
    '',
    ...Object.entries(IGNORE_CONFIG).map(([id, how]) => `- ${WATCHERS[id].label}: ${how}`),
    '',
  )

  P('## Analysis', '', notes, '')
  fs.writeFileSync(file, `${L.join('\n')}\n`)
}

function peerVersions(s) {
  const any = Object.values(s.ready)[0] ?? {}
  return ['parcel', 'chokidar', 'watchpack']
    .map((id) => `${WATCHERS[id].label} ${any[id]?.version ?? '—'}`)
    .join(', ')
}

function pct(v) {
  return v === undefined ? '—' : `${(v * 100).toFixed(v === 1 ? 0 : 2)}%`
}

/** The core alone in polling mode (10 s windows, scaled to the suite's idle window). */
function corePollRow(results, poll) {
  const runs = (results.coreOnly?.poll ?? []).filter((r) => r.idle_cpu_ms !== undefined)
  if (!runs.length) return []
  const scaled = median(runs.map((r) => (r.idle_cpu_ms * results.meta.config.idleMs) / r.idle_ms))
  return [
    [
      'watchfiles-core alone, `force_polling` (core-probe, getrusage, scaled from 10 s)',
      n(scaled, 0),
      '—',
      x(ratio(scaled, poll['chokidar-poll']?.idleSchedMs)),
      '—',
      '—',
      String(runs.length),
    ],
  ]
}

function pollStats(runs) {
  return {
    idleCpuMs: med(runs, (r) => r.idleCpuMs),
    idleSchedMs: med(runs, (r) => r.idleSchedMs),
    readyMs: med(runs, (r) => r.readyMs),
    rssMB: med(runs, (r) => r.rssIncreaseMB),
    runs: ok(runs).length,
  }
}

function reloaderStats(runs) {
  const skipped = (runs ?? []).find((r) => r.skipped)
  if (skipped) return { pending: skipped.skipped }
  const procs = (runs ?? []).filter((r) => r.samples?.length)
  if (!procs.length) return { pending: status(runs) ?? 'no result' }
  return {
    p50: median(procs.map((r) => percentile(r.samples, 50))),
    p95: median(procs.map((r) => percentile(r.samples, 95))),
    saves: procs.reduce((a, r) => a + r.samples.length, 0),
    oldAlive: procs.reduce((a, r) => a + r.oldAlive.filter(Boolean).length, 0),
  }
}
