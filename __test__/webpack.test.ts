// A real `webpack --watch` (webpack + webpack-cli from the registry) with WatchfilesWebpackPlugin:
// rebuilds after an edit and after a missing module appears, reports the changed files in
// `compiler.modifiedFiles`, and never loads watchpack.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, write } from './helpers.js'
import { installPeers, link, REPO, start, watchSpy } from './peers.js'

export const WEBPACK_VERSION = '5.113.0'
export const WEBPACK_CLI_VERSION = '7.3.1'

interface Build {
  n: number
  modified: string[] | null
  removed: string[] | null
  errors: boolean
  watchFileSystem: string
}

describe('webpack --watch', () => {
  it('rebuilds with WatchfilesWebpackPlugin and reports the changed file', { timeout: 900_000 }, async () => {
    const peers = installPeers({ webpack: WEBPACK_VERSION, 'webpack-cli': WEBPACK_CLI_VERSION })
    const project = tempDir('wfn-webpack-')
    write(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true }))
    write(path.join(project, 'src/index.js'), "import { dep } from './dep.js'\nconsole.log(dep)\n")
    write(path.join(project, 'src/dep.js'), "export const dep = 'first'\n")
    write(
      path.join(project, 'webpack.config.js'),
      `const { WatchfilesWebpackPlugin } = require('watchfiles-node/webpack')
let n = 0
class ReportPlugin {
  apply(compiler) {
    compiler.hooks.done.tap('Report', (stats) => {
      const list = (set) => (set ? [...set].sort() : null)
      console.log('BUILD ' + JSON.stringify({
        n: ++n,
        modified: list(compiler.modifiedFiles),
        removed: list(compiler.removedFiles),
        errors: stats.hasErrors(),
        watchFileSystem: compiler.watchFileSystem.constructor.name,
      }))
    })
  }
}
module.exports = {
  mode: 'development',
  devtool: false,
  entry: './src/index.js',
  output: { path: __dirname + '/dist', filename: 'main.js' },
  watchOptions: { aggregateTimeout: 50 },
  infrastructureLogging: { level: 'error' },
  stats: 'none',
  plugins: [new WatchfilesWebpackPlugin(), new ReportPlugin()],
}
`,
    )
    link(project, 'webpack', path.join(peers, 'node_modules/webpack'))
    link(project, 'webpack-cli', path.join(peers, 'node_modules/webpack-cli'))
    link(project, 'watchfiles-node', REPO)
    const spy = watchSpy(project, 'chokidar|watchpack')

    const webpack = start(process.execPath, ['--import', spy.preload, path.join(peers, 'node_modules/webpack-cli/bin/cli.js'), '--watch'], {
      cwd: project,
    })
    const builds = (): Build[] =>
      [...webpack.output().matchAll(/^BUILD (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Build)
    const build = async (n: number, what: string): Promise<Build> => {
      await webpack.waitForOutput(new RegExp(`^BUILD \\{"n":${n},`, 'm'), what, 120_000)
      return builds()[n - 1]!
    }
    const bundle = (): string => fs.readFileSync(path.join(project, 'dist/main.js'), 'utf8')

    const first = await build(1, 'the first build')
    expect(first).toEqual({ n: 1, modified: null, removed: null, errors: false, watchFileSystem: 'WatchfilesWatchFileSystem' })
    expect(bundle()).toContain('first')

    // Edited at once: the plugin's watch may still be starting, and must catch it anyway.
    write(path.join(project, 'src/dep.js'), "export const dep = 'second'\n")
    const second = await build(2, 'the rebuild after an edit')
    expect(second).toEqual({ n: 2, modified: [path.join(project, 'src/dep.js')], removed: [], errors: false, watchFileSystem: 'WatchfilesWatchFileSystem' })
    expect(bundle()).toContain('second')

    write(path.join(project, 'src/index.js'), "import { dep } from './dep.js'\nimport { later } from './later.js'\nconsole.log(dep, later)\n")
    const third = await build(3, 'the rebuild with a missing module')
    expect(third.modified).toEqual([path.join(project, 'src/index.js')])
    expect(third.errors).toBe(true)

    write(path.join(project, 'src/later.js'), "export const later = 'appeared'\n")
    const fourth = await build(4, 'the rebuild once the missing module appeared')
    expect(fourth.errors).toBe(false)
    expect(fourth.modified).toEqual([path.join(project, 'src/later.js')])
    expect(bundle()).toContain('appeared')

    fs.rmSync(path.join(project, 'src/later.js'))
    const fifth = await build(5, 'the rebuild after a deletion')
    expect(fifth).toEqual({ n: 5, modified: [], removed: [path.join(project, 'src/later.js')], errors: true, watchFileSystem: 'WatchfilesWatchFileSystem' })

    // Exactly one build per change.
    await new Promise((r) => setTimeout(r, 500))
    expect(builds()).toHaveLength(5)
    const report = spy.read()
    expect(report.loads).toEqual([])
    expect(report.watchCalls).toEqual([])
  })
})
