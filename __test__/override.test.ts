// The npm `overrides` entry documented in the README, tested with npm and a real tool that
// depends on chokidar: `sass --watch` (sass depends on chokidar ^5) recompiles an edited file and a
// partial it uses, with chokidar resolved to watchfiles-node's shim and no fs.watch call made.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir, waitFor, write } from './helpers.js'
import { watchSpy, REPO, start } from './peers.js'

const SASS_VERSION = '1.108.2'

describe('npm overrides: chokidar → watchfiles-node', () => {
  it('makes `sass --watch` watch with watchfiles-node', { timeout: 900_000 }, async () => {
    const project = tempDir('wfn-override-')
    write(
      path.join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'styles',
          private: true,
          dependencies: { sass: SASS_VERSION, 'watchfiles-node': `file:${REPO}` },
          overrides: { chokidar: 'file:./node_modules/watchfiles-node/chokidar-shim' },
        },
        null,
        2,
      ),
    )
    // Without @parcel/watcher (an optional dependency sass prefers when present), sass uses chokidar.
    const install = spawnSync(
      'npm',
      ['install', '--omit=optional', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: project, encoding: 'utf8', timeout: 600_000 },
    )
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0)
    expect(fs.realpathSync(path.join(project, 'node_modules/chokidar'))).toBe(path.join(REPO, 'chokidar-shim'))
    const fromSass = createRequire(path.join(project, 'node_modules/sass/sass.js'))
    expect(fromSass.resolve('chokidar')).toBe(path.join(REPO, 'chokidar-shim/index.cjs'))
    expect(fs.existsSync(path.join(project, 'node_modules/@parcel/watcher'))).toBe(false)

    write(path.join(project, 'styles/_colors.scss'), '$accent: red;\n')
    write(path.join(project, 'styles/main.scss'), "@use 'colors';\n.a { color: colors.$accent; }\n")
    const spy = watchSpy(project)
    const sass = start(
      process.execPath,
      ['--import', spy.preload, 'node_modules/sass/sass.js', '--no-source-map', '--watch', 'styles/main.scss:out/main.css'],
      { cwd: project },
    )
    await sass.waitForOutput(/Sass is watching for changes/, 'sass to watch', 60_000)
    const css = path.join(project, 'out/main.css')
    const read = (): string => (fs.existsSync(css) ? fs.readFileSync(css, 'utf8') : '')
    expect(read()).toBe('.a {\n  color: red;\n}\n')

    write(path.join(project, 'styles/main.scss'), "@use 'colors';\n.b { color: colors.$accent; }\n")
    await waitFor(() => read() === '.b {\n  color: red;\n}\n', 'the edited file to be recompiled')
    write(path.join(project, 'styles/_colors.scss'), '$accent: blue;\n')
    await waitFor(() => read() === '.b {\n  color: blue;\n}\n', 'the edited partial to be recompiled')

    const report = spy.read()
    expect(report.watchCalls).toEqual([])
    const shim = path.join(REPO, 'chokidar-shim')
    expect(report.loads.length).toBeGreaterThan(0)
    for (const load of report.loads) {
      const resolved = load.split(' -> ')[1]!
      expect(resolved.startsWith(shim) || resolved.startsWith(pathToFileURL(shim).href), load).toBe(true)
    }
  })
})
