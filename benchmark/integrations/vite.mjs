// Vite dev server: chokidar (Vite's own, bundled chokidar 3) against watchfiles-node/vite on a
// generated project with a big node_modules. Measures, per run, in the Vite process: when the
// file watcher is ready (ms since the process started), RSS then and 2 s later after a GC, CPU time
// used by then, inotify watches held, and edit-to-`change` latency.
//
//   node benchmark/integrations/vite.mjs [runs=5]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fakeNodeModules, inotifyWatches, link, median, peers, readyProbe, REPO, runNode, table } from './lib.mjs'

const VITE = '8.3.8'
const RUNS = Number(process.argv[2] ?? 5)
const SRC_DIRS = 100
const SRC_FILES = 20
const PACKAGES = 2000
const PACKAGE_FILES = 10

const installed = peers({ vite: VITE })
// In a folder of its own: the core also watches the watched root's parent, and a busy /tmp would
// cost it CPU that has nothing to do with the tool.
const project = path.join(os.tmpdir(), 'wfn-bench', `vite-${SRC_DIRS}x${SRC_FILES}-${PACKAGES}x${PACKAGE_FILES}`)
if (!fs.existsSync(path.join(project, '.complete'))) {
  fs.rmSync(project, { recursive: true, force: true })
  fs.mkdirSync(project, { recursive: true })
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'bench', private: true, type: 'module' }))
  fs.writeFileSync(path.join(project, 'index.html'), '<script type="module" src="/src/main.js"></script>\n')
  const imports = []
  for (let d = 0; d < SRC_DIRS; d++) {
    fs.mkdirSync(path.join(project, 'src', `dir${d}`), { recursive: true })
    for (let f = 0; f < SRC_FILES; f++) fs.writeFileSync(path.join(project, 'src', `dir${d}`, `m${f}.js`), `export const v = ${f}\n`)
    imports.push(`import './dir${d}/m0.js'`)
  }
  fs.writeFileSync(path.join(project, 'src/main.js'), `${imports.join('\n')}\n`)
  fakeNodeModules(project, PACKAGES, PACKAGE_FILES)
  fs.writeFileSync(path.join(project, '.complete'), '')
}
link(project, 'vite', path.join(installed, 'node_modules/vite'))
link(project, 'watchfiles-node', REPO)
fs.writeFileSync(
  path.join(project, 'vite.config.js'),
  `import { watchfiles } from 'watchfiles-node/vite'
const report = (data) => console.log('BENCH ' + JSON.stringify(data))
export default {
  clearScreen: false,
  logLevel: 'silent',
  plugins: [
    ...(process.env.WATCHER === 'watchfiles' ? [watchfiles()] : []),
    {
      name: 'bench',
      configureServer(server) {
        const poll = setInterval(() => {
          if (globalThis.__watcherReadyMs === undefined) return
          clearInterval(poll)
          report({ kind: 'ready', readyMs: globalThis.__watcherReadyMs, rssReadyMB: process.memoryUsage().rss / 2 ** 20 })
          setTimeout(() => {
            globalThis.gc()
            const cpu = process.cpuUsage()
            report({ kind: 'settled', rssMB: process.memoryUsage().rss / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 })
          }, 2000)
        }, 1)
        server.watcher.on('change', (file) => {
          if (file.endsWith('probe.js')) report({ kind: 'change', at: Date.now() })
        })
      },
    },
  ],
}
`,
)
fs.writeFileSync(path.join(project, 'src/probe.js'), 'export const probe = 0\n')
const probe = readyProbe(project)

async function once(watcher, port) {
  const vite = runNode(['--expose-gc', '--import', probe, path.join(project, 'node_modules/vite/bin/vite.js'), '--port', String(port), '--strictPort'], {
    cwd: project,
    env: { WATCHER: watcher },
  })
  try {
    const get = (kind) => vite.lines().find((l) => l.kind === kind)
    await vite.until(() => get('settled'), 'settled report')
    const watches = inotifyWatches(vite.pid)
    const latencies = []
    for (let i = 1; i <= 5; i++) {
      const before = vite.lines().filter((l) => l.kind === 'change').length
      const writtenAt = Date.now()
      fs.writeFileSync(path.join(project, 'src/probe.js'), `export const probe = ${i}\n`)
      await vite.until(() => vite.lines().filter((l) => l.kind === 'change').length > before, 'change event')
      latencies.push(vite.lines().filter((l) => l.kind === 'change')[before].at - writtenAt)
      await new Promise((r) => setTimeout(r, 150))
    }
    return { readyMs: get('ready').readyMs, rssReadyMB: get('ready').rssReadyMB, rssMB: get('settled').rssMB, cpuMs: get('settled').cpuMs, watches, latencyMs: median(latencies) }
  } finally {
    await vite.kill()
  }
}

const results = { chokidar: [], watchfiles: [] }
for (let run = 0; run < RUNS; run++) {
  for (const watcher of run % 2 ? ['watchfiles', 'chokidar'] : ['chokidar', 'watchfiles']) {
    results[watcher].push(await once(watcher, 5300 + run * 2 + (watcher === 'chokidar' ? 0 : 1)))
    process.stderr.write('.')
  }
}
process.stderr.write('\n')
const summary = Object.entries(results).map(([watcher, runs]) => ({
  watcher: watcher === 'chokidar' ? 'chokidar 3 (bundled in Vite)' : 'watchfiles-node/vite',
  'watcher ready (ms since start)': median(runs.map((r) => r.readyMs)).toFixed(0),
  'RSS at ready (MB)': median(runs.map((r) => r.rssReadyMB)).toFixed(1),
  'RSS settled (MB)': median(runs.map((r) => r.rssMB)).toFixed(1),
  'CPU by then (ms)': median(runs.map((r) => r.cpuMs)).toFixed(0),
  'inotify watches': median(runs.map((r) => r.watches)),
  'edit→change (ms)': median(runs.map((r) => r.latencyMs)).toFixed(0),
}))
console.log(`Vite ${VITE}, Node ${process.version}, ${os.cpus().length} CPUs; src ${SRC_DIRS * SRC_FILES} files in ${SRC_DIRS} folders, node_modules ${PACKAGES * (PACKAGE_FILES * 2 + 1)} files in ${PACKAGES * 2} folders; median of ${RUNS} runs`)
console.log(table(summary))
