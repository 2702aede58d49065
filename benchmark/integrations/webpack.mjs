// webpack --watch: watchpack (webpack's default) against WatchfilesWebpackPlugin on a generated
// project (1,000 source modules, 200 imported packages in node_modules beside 2,000 unused ones).
// Measures, per run, in the webpack process: the first build, RSS 3 s after it (after a GC), the
// CPU time spent in those 3 s (starting to watch), inotify watches held, and edit-to-rebuilt latency.
//
//   node benchmark/integrations/webpack.mjs [runs=5]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fakeNodeModules, inotifyWatches, link, median, peers, REPO, runNode, table } from './lib.mjs'

const WEBPACK = '5.113.0'
const WEBPACK_CLI = '7.3.1'
const RUNS = Number(process.argv[2] ?? 5)
const SRC_DIRS = 50
const SRC_FILES = 20
const USED = 200
const UNUSED = 2000

const installed = peers({ webpack: WEBPACK, 'webpack-cli': WEBPACK_CLI })
// In a folder of its own: the core also watches the watched root's parent, and a busy /tmp would
// cost it CPU that has nothing to do with the tool.
const project = path.join(os.tmpdir(), 'wfn-bench', `webpack-${SRC_DIRS}x${SRC_FILES}-${USED}-${UNUSED}`)
if (!fs.existsSync(path.join(project, '.complete'))) {
  fs.rmSync(project, { recursive: true, force: true })
  fs.mkdirSync(project, { recursive: true })
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'bench', private: true }))
  fakeNodeModules(project, USED + UNUSED, 10)
  for (let p = 0; p < USED; p++) {
    const requires = Array.from({ length: 10 }, (_, f) => `require('./file${f}.js')`).join('\n')
    fs.writeFileSync(path.join(project, 'node_modules', `pkg-${p}`, 'index.js'), `${requires}\nmodule.exports = ${p}\n`)
  }
  const top = []
  for (let d = 0; d < SRC_DIRS; d++) {
    const dir = path.join(project, 'src', `dir${d}`)
    fs.mkdirSync(dir, { recursive: true })
    const lines = []
    for (let f = 0; f < SRC_FILES; f++) {
      fs.writeFileSync(path.join(dir, `m${f}.js`), `export const v${f} = ${f}\n`)
      lines.push(`export * from './m${f}.js'`)
    }
    for (let k = 0; k < USED / SRC_DIRS; k++) lines.push(`import 'pkg-${d * (USED / SRC_DIRS) + k}'`)
    fs.writeFileSync(path.join(dir, 'index.js'), `${lines.join('\n')}\n`)
    top.push(`import * as d${d} from './dir${d}/index.js'\nconsole.log(d${d})`)
  }
  fs.writeFileSync(path.join(project, 'src/index.js'), `${top.join('\n')}\n`)
  fs.writeFileSync(path.join(project, '.complete'), '')
}
link(project, 'webpack', path.join(installed, 'node_modules/webpack'))
link(project, 'webpack-cli', path.join(installed, 'node_modules/webpack-cli'))
link(project, 'watchfiles-node', REPO)
fs.writeFileSync(
  path.join(project, 'webpack.config.js'),
  `const { WatchfilesWebpackPlugin } = require('watchfiles-node/webpack')
const report = (data) => console.log('BENCH ' + JSON.stringify(data))
let n = 0
class Bench {
  apply(compiler) {
    compiler.hooks.done.tap('Bench', () => {
      n++
      const atDone = process.cpuUsage()
      report({ kind: 'done', n, at: Date.now(), builtMs: performance.now(), cpuMs: (atDone.user + atDone.system) / 1000 })
      if (n === 1) setTimeout(() => {
        globalThis.gc()
        const cpu = process.cpuUsage()
        report({ kind: 'settled', rssMB: process.memoryUsage().rss / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 })
      }, 3000)
    })
  }
}
module.exports = {
  mode: 'development',
  devtool: false,
  entry: './src/index.js',
  output: { path: __dirname + '/dist', filename: 'main.js' },
  infrastructureLogging: { level: 'error' },
  stats: 'none',
  plugins: [...(process.env.WATCHER === 'watchfiles' ? [new WatchfilesWebpackPlugin()] : []), new Bench()],
}
`,
)

async function once(watcher) {
  fs.rmSync(path.join(project, 'dist'), { recursive: true, force: true })
  const webpack = runNode(['--expose-gc', path.join(project, 'node_modules/webpack-cli/bin/cli.js'), '--watch'], { cwd: project, env: { WATCHER: watcher } })
  try {
    const lines = (kind) => webpack.lines().filter((l) => l.kind === kind)
    await webpack.until(() => lines('settled').length > 0, 'settled report')
    const watches = inotifyWatches(webpack.pid)
    const latencies = []
    for (let i = 1; i <= 5; i++) {
      const before = lines('done').length
      const writtenAt = Date.now()
      fs.writeFileSync(path.join(project, 'src/dir0/m0.js'), `export const v0 = ${i}\n`)
      await webpack.until(() => lines('done').length > before, 'rebuild')
      latencies.push(lines('done')[before].at - writtenAt)
      await new Promise((r) => setTimeout(r, 300))
    }
    const first = lines('done')[0]
    return { builtMs: first.builtMs, rssMB: lines('settled')[0].rssMB, cpuMs: lines('settled')[0].cpuMs, cpuAfterBuildMs: lines('settled')[0].cpuMs - first.cpuMs, watches, latencyMs: median(latencies) }
  } finally {
    await webpack.kill()
    fs.writeFileSync(path.join(project, 'src/dir0/m0.js'), 'export const v0 = 0\n')
  }
}

const results = { watchpack: [], watchfiles: [] }
for (let run = 0; run < RUNS; run++) {
  for (const watcher of run % 2 ? ['watchfiles', 'watchpack'] : ['watchpack', 'watchfiles']) {
    results[watcher].push(await once(watcher))
    process.stderr.write('.')
  }
}
process.stderr.write('\n')
const summary = Object.entries(results).map(([watcher, runs]) => ({
  watcher: watcher === 'watchpack' ? 'watchpack (default)' : 'WatchfilesWebpackPlugin',
  'first build (ms since start)': median(runs.map((r) => r.builtMs)).toFixed(0),
  'RSS 3 s later (MB)': median(runs.map((r) => r.rssMB)).toFixed(1),
  'CPU in the 3 s after the build (ms)': median(runs.map((r) => r.cpuAfterBuildMs)).toFixed(0),
  'inotify watches': median(runs.map((r) => r.watches)),
  'edit→rebuilt (ms)': median(runs.map((r) => r.latencyMs)).toFixed(0),
}))
console.log(`webpack ${WEBPACK}, webpack-cli ${WEBPACK_CLI}, Node ${process.version}, ${os.cpus().length} CPUs; ${SRC_DIRS * SRC_FILES} source modules, ${USED} imported packages (${USED * 11} files) beside ${UNUSED} unused; median of ${RUNS} runs`)
console.log(table(summary))
