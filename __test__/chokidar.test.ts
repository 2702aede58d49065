import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FSWatcher, watch, type ChokidarOptions } from '../src/chokidar.js'
import { DEADLINE_MS, inotifyWatchCount, onCleanup, tempDir, waitFor, write } from './helpers.js'

type Event = [string, string]

/** Records chokidar events; asserts on them exactly. */
class Events {
  list: Event[] = []
  stats: Array<fs.Stats | undefined> = []
  times: number[] = []
  #consumed = 0
  ready = false

  constructor(readonly watcher: FSWatcher) {
    watcher.on('all', (event, p, stats) => {
      this.list.push([event, p])
      this.stats.push(stats)
      this.times.push(Date.now())
    })
    watcher.on('ready', () => {
      this.ready = true
    })
  }

  fresh(): Event[] {
    return this.list.slice(this.#consumed)
  }

  /** Waits for exactly `expected` (in any order), lets `settleMs` pass, and checks nothing else came. */
  async expect(expected: Event[], settleMs = 200): Promise<void> {
    const key = ([e, p]: Event): string => `${e} ${p}`
    const want = expected.map(key).sort()
    await waitFor(() => {
      const now = new Set(this.fresh().map(key))
      return want.every((k) => now.has(k))
    }, `events ${want.slice(0, 4).join(', ')}`).catch((error: Error) => {
      throw new Error(`${error.message}\nreceived: ${this.fresh().map(key).join('\n')}`)
    })
    await new Promise((r) => setTimeout(r, settleMs))
    expect(this.fresh().map(key).sort()).toEqual(want)
    this.#consumed = this.list.length
  }

  async expectNothing(quietMs = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, quietMs))
    expect(this.fresh()).toEqual([])
  }
}

/** A fresh folder whose parent is quiet too: the core also watches a watched folder's parent, and
 *  the system temp folder can be busy with other processes' files. */
function quietDir(): string {
  const dir = path.join(tempDir(), 'w')
  fs.mkdirSync(dir)
  return dir
}

async function started(paths: string | string[], options: ChokidarOptions = {}): Promise<Events> {
  const watcher = watch(paths, options)
  onCleanup(() => watcher.close())
  const events = new Events(watcher)
  await waitFor(() => events.ready, 'ready')
  return events
}

describe('chokidar drop-in: events', () => {
  it('emits addDir/add for what exists before ready, then changes with paths as given', async () => {
    const root = quietDir()
    write(path.join(root, 'src/a.js'))
    write(path.join(root, 'src/sub/b.css'))
    const watcher = watch(root)
    onCleanup(() => watcher.close())
    const events = new Events(watcher)
    const beforeReady: Event[] = []
    watcher.on('ready', () => beforeReady.push(...events.list))
    await waitFor(() => events.ready, 'ready')
    await events.expect([
      ['addDir', root],
      ['addDir', path.join(root, 'src')],
      ['add', path.join(root, 'src/a.js')],
      ['addDir', path.join(root, 'src/sub')],
      ['add', path.join(root, 'src/sub/b.css')],
    ], 0)
    expect(beforeReady).toHaveLength(5)
    // A folder comes before what is inside it.
    const order = beforeReady.map(([, p]) => p)
    for (const p of order.slice(1)) expect(order.indexOf(path.dirname(p))).toBeLessThan(order.indexOf(p))
    expect(watcher.getWatched()).toEqual({
      [path.dirname(root)]: [path.basename(root)],
      [root]: ['src'],
      [path.join(root, 'src')]: ['a.js', 'sub'],
      [path.join(root, 'src/sub')]: ['b.css'],
    })

    write(path.join(root, 'src/a.js'), 'changed')
    await events.expect([['change', path.join(root, 'src/a.js')]])
    fs.mkdirSync(path.join(root, 'lib/deep'), { recursive: true })
    write(path.join(root, 'lib/deep/c.ts'))
    await events.expect([
      ['addDir', path.join(root, 'lib')],
      ['addDir', path.join(root, 'lib/deep')],
      ['add', path.join(root, 'lib/deep/c.ts')],
    ])
    fs.rmSync(path.join(root, 'src'), { recursive: true })
    await events.expect([
      ['unlink', path.join(root, 'src/a.js')],
      ['unlink', path.join(root, 'src/sub/b.css')],
      ['unlinkDir', path.join(root, 'src/sub')],
      ['unlinkDir', path.join(root, 'src')],
    ])
    fs.renameSync(path.join(root, 'lib/deep/c.ts'), path.join(root, 'lib/d.ts'))
    await events.expect([
      ['unlink', path.join(root, 'lib/deep/c.ts')],
      ['add', path.join(root, 'lib/d.ts')],
    ])
  })

  it('emits children before their folder on unlink, and folders before children on add', async () => {
    const root = quietDir()
    write(path.join(root, 'x/y/z.txt'))
    const events = await started(root, { ignoreInitial: true })
    fs.rmSync(path.join(root, 'x'), { recursive: true })
    await events.expect([
      ['unlink', path.join(root, 'x/y/z.txt')],
      ['unlinkDir', path.join(root, 'x/y')],
      ['unlinkDir', path.join(root, 'x')],
    ])
    expect(events.list.map(([e]) => e)).toEqual(['unlink', 'unlinkDir', 'unlinkDir'])
  })

  it('keeps relative paths relative, and makes them relative to `cwd`', async () => {
    const root = quietDir()
    write(path.join(root, 'pkg/src/a.js'))
    const previous = process.cwd()
    process.chdir(root)
    onCleanup(() => process.chdir(previous))
    const relative = await started('./pkg/src')
    await relative.expect([
      ['addDir', 'pkg/src'],
      ['add', 'pkg/src/a.js'],
    ], 0)
    process.chdir(previous)

    const withCwd = await started('src', { cwd: path.join(root, 'pkg') })
    await withCwd.expect([
      ['addDir', 'src'],
      ['add', path.join('src', 'a.js')],
    ], 0)
    expect(withCwd.watcher.getWatched()).toEqual({ '.': ['src'], src: ['a.js'] })
    write(path.join(root, 'pkg/src/a.js'), 'changed')
    await withCwd.expect([['change', path.join('src', 'a.js')]])
    await relative.expect([['change', 'pkg/src/a.js']])
  })

  it('with ignoreInitial emits nothing for what exists', async () => {
    const root = quietDir()
    write(path.join(root, 'a.txt'))
    const events = await started(root, { ignoreInitial: true })
    await events.expectNothing(100)
    write(path.join(root, 'b.txt'))
    await events.expect([['add', path.join(root, 'b.txt')]])
  })

  it('watches a single file through atomic saves, deletion and re-creation', async () => {
    const root = quietDir()
    const file = path.join(root, 'config.json')
    write(file, '1')
    const events = await started(file)
    await events.expect([['add', file]], 0)
    fs.writeFileSync(`${file}.tmp`, '2')
    fs.renameSync(`${file}.tmp`, file)
    await events.expect([['change', file]])
    write(path.join(root, 'neighbour.json'))
    await events.expectNothing()
    fs.rmSync(file)
    await events.expect([['unlink', file]])
    write(file, '3')
    await events.expect([['add', file]])
  })

  it('waits for paths that do not exist yet, folders included', async () => {
    const root = quietDir()
    const later = path.join(root, 'not/yet/there')
    const file = path.join(root, 'missing.txt')
    const events = await started([later, file])
    await events.expectNothing(100)
    write(file)
    await events.expect([['add', file]])
    fs.mkdirSync(path.join(root, 'not/yet'), { recursive: true })
    await events.expectNothing(150)
    fs.mkdirSync(later)
    write(path.join(later, 'inside.js'))
    await events.expect([
      ['addDir', later],
      ['add', path.join(later, 'inside.js')],
    ])
    write(path.join(later, 'inside.js'), 'changed')
    await events.expect([['change', path.join(later, 'inside.js')]])
  })

  it('passes fs.Stats with alwaysStat', async () => {
    const root = quietDir()
    write(path.join(root, 'a.txt'), 'abc')
    const events = await started(root, { alwaysStat: true })
    expect(events.stats.every((s) => s instanceof fs.Stats)).toBe(true)
    expect(events.stats[1]?.size).toBe(3)
    write(path.join(root, 'a.txt'), 'abcdef')
    await events.expect([
      ['addDir', root],
      ['add', path.join(root, 'a.txt')],
      ['change', path.join(root, 'a.txt')],
    ])
    expect(events.stats.at(-1)?.size).toBe(6)
    expect(events.stats.at(-1)?.isFile()).toBe(true)
  })
})

describe('chokidar drop-in: options', () => {
  it('ignores string paths, globs, RegExps and functions (which get folders with stats too)', async () => {
    const root = quietDir()
    write(path.join(root, 'dist/app.js'))
    write(path.join(root, 'node_modules/pkg/index.js'))
    write(path.join(root, 'src/keep.ts'))
    write(path.join(root, 'src/skip.log'))
    write(path.join(root, 'src/.hidden'))
    write(path.join(root, 'src/big.bin'))
    const seen: Array<[string, boolean | undefined]> = []
    const before = inotifyWatchCount()
    const events = await started(root, {
      ignored: [
        path.join(root, 'dist'),
        '**/node_modules/**',
        /(^|[/\\])\../,
        (p: string, stats?: fs.Stats) => {
          seen.push([p, stats?.isDirectory()])
          return p.endsWith('.bin') || p.endsWith('.log')
        },
      ],
    })
    // The root, src and the root's parent: dist and node_modules are pruned in the core.
    expect(inotifyWatchCount() - before).toBe(3)
    await events.expect([
      ['addDir', root],
      ['addDir', path.join(root, 'src')],
      ['add', path.join(root, 'src/keep.ts')],
    ], 0)
    expect(seen).toContainEqual([path.join(root, 'src'), true])
    expect(seen).toContainEqual([path.join(root, 'src/keep.ts'), false])
    write(path.join(root, 'dist/app.js'), 'changed')
    write(path.join(root, 'node_modules/pkg/index.js'), 'changed')
    write(path.join(root, 'src/other.log'))
    write(path.join(root, 'src/.env'))
    write(path.join(root, 'src/new.ts'))
    await events.expect([['add', path.join(root, 'src/new.ts')]])
  })

  it('does not enter a folder an ignore function rejects', async () => {
    const root = quietDir()
    write(path.join(root, 'gen/out.js'))
    write(path.join(root, 'app.js'))
    const events = await started(root, { ignored: (p, stats) => Boolean(stats?.isDirectory() && p.endsWith('gen')) })
    await events.expect([
      ['addDir', root],
      ['add', path.join(root, 'app.js')],
    ], 0)
    write(path.join(root, 'gen/out.js'), 'changed')
    write(path.join(root, 'gen/new.js'))
    await events.expectNothing()
  })

  it('reports `depth` levels below the watched folder', async () => {
    const root = quietDir()
    write(path.join(root, 'a.txt'))
    write(path.join(root, 'one/b.txt'))
    write(path.join(root, 'one/two/c.txt'))
    const depth0 = await started(root, { depth: 0 })
    await depth0.expect([
      ['addDir', root],
      ['add', path.join(root, 'a.txt')],
      ['addDir', path.join(root, 'one')],
    ], 0)
    const depth1 = await started(root, { depth: 1 })
    await depth1.expect([
      ['addDir', root],
      ['add', path.join(root, 'a.txt')],
      ['addDir', path.join(root, 'one')],
      ['add', path.join(root, 'one/b.txt')],
      ['addDir', path.join(root, 'one/two')],
    ], 0)
    expect(depth1.watcher.getWatched()[path.join(root, 'one/two')]).toEqual([])
    write(path.join(root, 'one/two/c.txt'), 'changed')
    write(path.join(root, 'one/b.txt'), 'changed')
    await depth1.expect([['change', path.join(root, 'one/b.txt')]])
    await depth0.expectNothing(0)
  })

  it('holds add/change until writing stops with awaitWriteFinish', async () => {
    const root = quietDir()
    const events = await started(root, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 300, pollInterval: 50 } })
    const file = path.join(root, 'upload.bin')
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < 5; i++) {
      fs.writeSync(fd, Buffer.alloc(1024, i))
      await new Promise((r) => setTimeout(r, 100))
    }
    fs.closeSync(fd)
    const lastWrite = Date.now()
    await events.expect([['add', file]])
    expect(events.stats.at(-1)?.size).toBe(5 * 1024)
    // Only once the size was stable for the threshold (less one poll of slack).
    expect(events.times.at(-1)! - lastWrite).toBeGreaterThanOrEqual(250)
  })

  it('ignores editor swap and backup files with atomic (the default)', async () => {
    const root = quietDir()
    const events = await started(root, { ignoreInitial: true })
    write(path.join(root, '.main.ts.swp'))
    write(path.join(root, 'main.ts~'))
    write(path.join(root, 'main.ts'))
    await events.expect([['add', path.join(root, 'main.ts')]])
  })

  it('polls with usePolling', async () => {
    const root = quietDir()
    const events = await started(root, { ignoreInitial: true, usePolling: true, interval: 50 })
    write(path.join(root, 'polled.txt'))
    await events.expect([['add', path.join(root, 'polled.txt')]])
  })
})

describe('chokidar drop-in: add, unwatch, close', () => {
  it('adds and removes paths at runtime', async () => {
    const a = quietDir()
    const b = quietDir()
    write(path.join(b, 'existing.txt'))
    const events = await started(a, { ignoreInitial: true })
    events.watcher.add(b)
    // Listed once its subscription is ready and it was scanned.
    await waitFor(() => events.watcher.getWatched()[b] !== undefined, 'b watched')
    write(path.join(b, 'new.txt'))
    await events.expect([['add', path.join(b, 'new.txt')]])

    events.watcher.unwatch(b)
    expect(events.watcher.getWatched()[b]).toBeUndefined()
    write(path.join(b, 'after-unwatch.txt'))
    write(path.join(a, 'still.txt'))
    await events.expect([['add', path.join(a, 'still.txt')]])

    write(path.join(a, 'sub/x.txt'))
    await events.expect([
      ['addDir', path.join(a, 'sub')],
      ['add', path.join(a, 'sub/x.txt')],
    ])
    events.watcher.unwatch(path.join(a, 'sub'))
    write(path.join(a, 'sub/x.txt'), 'changed')
    write(path.join(a, 'top.txt'))
    await events.expect([['add', path.join(a, 'top.txt')]])
  })

  it('emits add events for a path added later unless ignoreInitial', async () => {
    const a = quietDir()
    const b = quietDir()
    write(path.join(b, 'one.txt'))
    const events = await started(a)
    await events.expect([['addDir', a]], 0)
    events.watcher.add(b)
    await events.expect([
      ['addDir', b],
      ['add', path.join(b, 'one.txt')],
    ])
  })

  it('takes over a nested root when its parent is added, without duplicate events', async () => {
    const root = quietDir()
    write(path.join(root, 'inner/a.txt'))
    write(path.join(root, 'marker.txt'))
    const events = await started(path.join(root, 'inner'), { ignoreInitial: true })
    events.watcher.add(root)
    await waitFor(() => events.watcher.getWatched()[root]?.includes('marker.txt') === true, 'root scanned')
    write(path.join(root, 'inner/a.txt'), 'changed')
    write(path.join(root, 'b.txt'))
    await events.expect([
      ['change', path.join(root, 'inner/a.txt')],
      ['add', path.join(root, 'b.txt')],
    ])
  })

  it('close() resolves with every OS watch gone, removes listeners, and add() reopens', async () => {
    const root = quietDir()
    const before = inotifyWatchCount()
    const events = await started(root, { ignoreInitial: true })
    expect(inotifyWatchCount()).toBeGreaterThan(before)
    const closing = events.watcher.close()
    expect(events.watcher.close()).toBe(closing)
    await closing
    expect(inotifyWatchCount()).toBe(before)
    expect(events.watcher.closed).toBe(true)
    expect(events.watcher.listenerCount('all')).toBe(0)
    write(path.join(root, 'after.txt'))
    await events.expectNothing()

    const reopened: Event[] = []
    events.watcher.on('all', (e, p) => reopened.push([e, p]))
    events.watcher.add(root)
    await waitFor(() => events.watcher.getWatched()[root]?.includes('after.txt') === true, 'reopened scan')
    expect(events.watcher.closed).toBe(false)
    write(path.join(root, 'reopened.txt'))
    await waitFor(() => reopened.length > 0, 'an event after reopening')
    expect(reopened).toEqual([['add', path.join(root, 'reopened.txt')]])
  })

  it('rejects bad paths and options', () => {
    expect(() => watch('.', { depth: -1 })).toThrow(TypeError)
    expect(() => watch('.', { ignored: [42 as unknown as string] })).toThrow(TypeError)
    expect(() => watch([1 as unknown as string])).toThrow(TypeError)
  })

  it('lets the process exit with persistent: false, and holds it by default', async () => {
    const root = quietDir()
    const script = (persistent: boolean): string =>
      `const { watch } = require(${JSON.stringify(path.resolve('dist/chokidar.cjs'))});` +
      `watch(${JSON.stringify(root)}, { persistent: ${persistent} }).on('ready', () => console.log('ready'))`
    const run = (persistent: boolean) => {
      const child = spawn(process.execPath, ['-e', script(persistent)], { stdio: ['ignore', 'pipe', 'inherit'] })
      onCleanup(() => child.kill('SIGKILL'))
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      let exited = false
      child.on('exit', () => (exited = true))
      return { output: () => out, exited: () => exited }
    }
    const transient = run(false)
    await waitFor(() => transient.exited(), 'non-persistent process to exit', DEADLINE_MS)
    expect(transient.output()).toBe('ready\n')
    const held = run(true)
    await waitFor(() => held.output() === 'ready\n', 'persistent process ready')
    await new Promise((r) => setTimeout(r, 300))
    expect(held.exited()).toBe(false)
  })
})

describe('chokidar drop-in: module shapes', () => {
  it('serves chokidar’s ESM and CommonJS exports, also through the override folder', async () => {
    const require = createRequire(import.meta.url)
    for (const entry of [path.resolve('dist/chokidar.cjs'), path.resolve('chokidar-shim')]) {
      const cjs = require(entry) as { watch: unknown; FSWatcher: unknown; default: { watch: unknown; FSWatcher: unknown } }
      expect(typeof cjs.watch).toBe('function')
      expect(typeof cjs.FSWatcher).toBe('function')
      expect(cjs.default.watch).toBe(cjs.watch)
    }
    const esm = (await import(path.resolve('chokidar-shim/index.js'))) as { watch: unknown; default: { watch: unknown } }
    expect(typeof esm.watch).toBe('function')
    expect(esm.default.watch).toBe(esm.watch)
    const pkg = JSON.parse(fs.readFileSync('chokidar-shim/package.json', 'utf8')) as { name: string }
    expect(pkg.name).toBe('chokidar')
  })
})
