import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DefaultFilter, SourceFilter, subscribe, watch, WatchError, type FileChange } from '../src/index.js'
import { inotifyWatchCount, onCleanup, Recorder, tempDir, waitFor, write } from './helpers.js'

async function subscribed(paths: string | string[], options: Parameters<typeof subscribe>[2] = {}) {
  const recorder = new Recorder()
  const sub = await subscribe(paths, recorder.onChanges, { step: 20, ...options })
  onCleanup(() => sub.close())
  return { recorder, sub }
}

describe('changes to files and folders', () => {
  it('reports create, modify and delete of a file', async () => {
    const root = tempDir()
    const { recorder } = await subscribed(root)
    const file = path.join(root, 'a.txt')
    write(file, '1')
    await recorder.expect([['added', file]])
    write(file, '2')
    await recorder.expect([['modified', file]])
    fs.rmSync(file)
    await recorder.expect([['deleted', file]])
  })

  it('reports a rename as deleted + added', async () => {
    const root = tempDir()
    write(path.join(root, 'old.js'))
    const { recorder } = await subscribed(root)
    fs.renameSync(path.join(root, 'old.js'), path.join(root, 'new.js'))
    await recorder.expect([
      ['deleted', path.join(root, 'old.js')],
      ['added', path.join(root, 'new.js')],
    ])
  })

  it('reports a folder renamed with its contents, and keeps watching it under the new name', async () => {
    const root = tempDir()
    write(path.join(root, 'src/sub/a.ts'))
    const { recorder } = await subscribed(root)
    fs.renameSync(path.join(root, 'src'), path.join(root, 'lib'))
    await recorder.expect([
      ['deleted', path.join(root, 'src')],
      ['deleted', path.join(root, 'src/sub')],
      ['deleted', path.join(root, 'src/sub/a.ts')],
      ['added', path.join(root, 'lib')],
      ['added', path.join(root, 'lib/sub')],
      ['added', path.join(root, 'lib/sub/a.ts')],
    ])
    write(path.join(root, 'lib/sub/a.ts'), 'changed')
    await recorder.expect([['modified', path.join(root, 'lib/sub/a.ts')]])
  })

  it('reports a deleted folder and everything in it', async () => {
    const root = tempDir()
    write(path.join(root, 'build/a.js'))
    write(path.join(root, 'build/assets/b.css'))
    const { recorder } = await subscribed(root)
    fs.rmSync(path.join(root, 'build'), { recursive: true })
    await recorder.expect([
      ['deleted', path.join(root, 'build')],
      ['deleted', path.join(root, 'build/a.js')],
      ['deleted', path.join(root, 'build/assets')],
      ['deleted', path.join(root, 'build/assets/b.css')],
    ])
  })

  it('reports every path of `mkdir -p` with a file written at once', async () => {
    const root = tempDir()
    const { recorder } = await subscribed(root)
    const deep = path.join(root, 'a/b/c/d')
    fs.mkdirSync(deep, { recursive: true })
    write(path.join(deep, 'x.ts'))
    await recorder.expect([
      ['added', path.join(root, 'a')],
      ['added', path.join(root, 'a/b')],
      ['added', path.join(root, 'a/b/c')],
      ['added', deep],
      ['added', path.join(deep, 'x.ts')],
    ])
  })

  it('reports all 10,000 files of a burst into 100 new folders, then their deletion', async () => {
    const root = tempDir()
    const { recorder } = await subscribed(root)
    const expected: Array<['added', string]> = []
    for (let d = 0; d < 100; d++) {
      const dir = path.join(root, `d${d}`)
      fs.mkdirSync(dir)
      expected.push(['added', dir])
      for (let f = 0; f < 100; f++) {
        const file = path.join(dir, `f${f}.js`)
        fs.writeFileSync(file, 'x')
        expected.push(['added', file])
      }
    }
    await recorder.expect(expected)
    for (let d = 0; d < 100; d++) fs.rmSync(path.join(root, `d${d}`), { recursive: true })
    await recorder.expect(expected.map(([, p]) => ['deleted', p]))
  })

  it('merges an atomic save (temp file renamed over the target) into one modified', async () => {
    const root = tempDir()
    const target = path.join(root, 'index.ts')
    write(target, 'v1')
    const { recorder } = await subscribed(root, { step: 100 })
    const tmp = path.join(root, '.index.ts.tmp-4242')
    write(tmp, 'v2')
    fs.renameSync(tmp, target)
    await recorder.expect([['modified', target]])
  })

  it('keeps a single watched file through 20 atomic saves', async () => {
    const root = tempDir()
    const file = path.join(root, 'config.json')
    write(file, '0')
    const { recorder } = await subscribed(file)
    for (let i = 1; i <= 20; i++) {
      const tmp = path.join(root, `config.json.${i}.tmp`)
      write(tmp, String(i))
      fs.renameSync(tmp, file)
      await recorder.expect([['modified', file]])
    }
    write(path.join(root, 'neighbour.txt'))
    await recorder.expectNothing()
  })
})

describe('what is watched', () => {
  it('places no OS watch in an ignored node_modules and reports nothing from it', async () => {
    const root = tempDir()
    for (let i = 0; i < 50; i++) write(path.join(root, `node_modules/pkg${i}/lib/index.js`))
    write(path.join(root, 'src/main.ts'))
    const before = inotifyWatchCount()
    const { recorder } = await subscribed(root)
    // The root, src, and the root's parent (which reports the root's deletion or return).
    expect(inotifyWatchCount() - before).toBe(3)
    write(path.join(root, 'node_modules/pkg3/lib/index.js'), 'changed')
    write(path.join(root, 'src/main.ts'), 'changed')
    await recorder.expect([['modified', path.join(root, 'src/main.ts')]])
  })

  it('watches only direct entries with recursive: false', async () => {
    const root = tempDir()
    write(path.join(root, 'sub/deep.txt'))
    const { recorder } = await subscribed(root, { recursive: false })
    write(path.join(root, 'sub/deep.txt'), 'changed')
    write(path.join(root, 'top.txt'))
    await recorder.expect([['added', path.join(root, 'top.txt')]])
  })

  it('prunes the `ignore` globs and paths', async () => {
    const root = tempDir()
    write(path.join(root, 'dist/app.js'))
    write(path.join(root, 'generated/types.ts'))
    const before = inotifyWatchCount()
    const { recorder } = await subscribed(root, { ignore: ['dist', '*.log', path.join(root, 'generated')] })
    expect(inotifyWatchCount() - before).toBe(2)
    write(path.join(root, 'dist/app.js'), 'changed')
    write(path.join(root, 'generated/types.ts'), 'changed')
    write(path.join(root, 'debug.log'))
    write(path.join(root, 'app.ts'))
    await recorder.expect([['added', path.join(root, 'app.ts')]])
  })

  it('reports from every path given, and a file beside a folder', async () => {
    const a = tempDir()
    const b = tempDir()
    write(path.join(b, 'single.txt'))
    const { recorder, sub } = await subscribed([a, path.join(b, 'single.txt')])
    expect(sub.paths).toEqual([a, path.join(b, 'single.txt')])
    write(path.join(a, 'x'))
    write(path.join(b, 'single.txt'), 'changed')
    write(path.join(b, 'other.txt'))
    await recorder.expect([
      ['added', path.join(a, 'x')],
      ['modified', path.join(b, 'single.txt')],
    ])
  })
})

describe('filters', () => {
  it('applies a filter function to each change', async () => {
    const root = tempDir()
    const seen: string[] = []
    const { recorder } = await subscribed(root, {
      filter: (change: FileChange) => {
        seen.push(change.path)
        return change.path.endsWith('.keep')
      },
    })
    write(path.join(root, 'a.keep'))
    write(path.join(root, 'b.drop'))
    await recorder.expect([['added', path.join(root, 'a.keep')]])
    expect(seen.sort()).toEqual([path.join(root, 'a.keep'), path.join(root, 'b.drop')])
  })

  it('SourceFilter keeps only source files; DefaultFilter takes custom lists', async () => {
    const root = tempDir()
    const { recorder } = await subscribed(root, { filter: new SourceFilter() })
    write(path.join(root, 'a.ts'))
    write(path.join(root, 'b.json'))
    write(path.join(root, 'c.png'))
    write(path.join(root, 'node_modules/x/index.js'))
    await recorder.expect([
      ['added', path.join(root, 'a.ts')],
      ['added', path.join(root, 'b.json')],
    ])

    const other = tempDir()
    const custom = await subscribed(other, { filter: new DefaultFilter({ ignoreDirs: ['cache'], ignoreEntityPatterns: ['*.tmp'] }) })
    write(path.join(other, 'cache/x'))
    write(path.join(other, 'y.tmp'))
    write(path.join(other, 'node_modules/kept.js'))
    await custom.recorder.expect([
      ['added', path.join(other, 'node_modules')],
      ['added', path.join(other, 'node_modules/kept.js')],
    ])
    expect(DefaultFilter.defaultIgnoreDirs).toContain('node_modules')
    expect(DefaultFilter.defaultIgnoreEntityPatterns).toContain('*.sw?')
  })
})

describe('native filters', () => {
  it('honours .gitignore with gitignore: true, prunes ignored folders, and reloads on edit', async () => {
    const root = tempDir()
    fs.mkdirSync(path.join(root, '.git'))
    write(path.join(root, '.gitignore'), 'dist/\n*.log\n')
    write(path.join(root, 'dist/app.js'))
    write(path.join(root, 'src/a.ts'))
    const before = inotifyWatchCount()
    const { recorder } = await subscribed(root, { gitignore: true })
    // root, src and the root's parent (.git is a default ignore).
    expect(inotifyWatchCount() - before).toBe(3)
    write(path.join(root, 'dist/app.js'), 'changed')
    write(path.join(root, 'src/debug.log'))
    write(path.join(root, 'src/b.ts'))
    await recorder.expect([['added', path.join(root, 'src/b.ts')]])
    write(path.join(root, '.gitignore'), '*.log\n')
    await recorder.expect([['modified', path.join(root, '.gitignore')]])
    expect(inotifyWatchCount() - before).toBe(4)
    write(path.join(root, 'dist/app.js'), 'again')
    await recorder.expect([['modified', path.join(root, 'dist/app.js')]])
  })

  it('is off by default in the API', async () => {
    const root = tempDir()
    fs.mkdirSync(path.join(root, '.git'))
    write(path.join(root, '.gitignore'), '*.log\n')
    const { recorder } = await subscribed(root)
    write(path.join(root, 'debug.log'))
    await recorder.expect([['added', path.join(root, 'debug.log')]])
  })

  it('keeps only `extensions` and `include` matches, still tracking the rest', async () => {
    const root = tempDir()
    const ext = await subscribed(root, { extensions: ['ts'] })
    write(path.join(root, 'lib/a.ts'))
    write(path.join(root, 'lib/a.js'))
    await ext.recorder.expect([['added', path.join(root, 'lib/a.ts')]])
    // A rename of an unreported file onto a reported name is seen.
    fs.renameSync(path.join(root, 'lib/a.js'), path.join(root, 'lib/b.ts'))
    await ext.recorder.expect([['added', path.join(root, 'lib/b.ts')]])

    const other = tempDir()
    const inc = await subscribed(other, { include: ['src/**/*.ts', 'Makefile'] })
    write(path.join(other, 'src/deep/x.ts'))
    write(path.join(other, 'test/y.ts'))
    write(path.join(other, 'Makefile'))
    await inc.recorder.expect([
      ['added', path.join(other, 'src/deep/x.ts')],
      ['added', path.join(other, 'Makefile')],
    ])
  })

  it('calls the JavaScript filter once per change of a batch, not once per OS event', async () => {
    const root = tempDir()
    const seen: string[] = []
    const { recorder } = await subscribed(root, {
      step: 200,
      ignore: ['*.tmp'],
      filter: (change: FileChange) => {
        seen.push(change.path)
        return true
      },
    })
    const file = path.join(root, 'busy.txt')
    for (let i = 0; i < 50; i++) fs.writeFileSync(file, String(i))
    write(path.join(root, 'scratch.tmp'))
    await recorder.expect([['added', file]])
    expect(seen).toEqual([file])
  })
})

describe('polling', () => {
  it('reports changes without OS watches when polling is forced', async () => {
    const root = tempDir()
    write(path.join(root, 'src/a.js'), '1')
    const before = inotifyWatchCount()
    const { recorder, sub } = await subscribed(root, { forcePolling: true, pollInterval: 50 })
    expect(sub.backend).toBe('polling')
    expect(inotifyWatchCount()).toBe(before)
    write(path.join(root, 'src/a.js'), '22')
    await recorder.expect([['modified', path.join(root, 'src/a.js')]])
    write(path.join(root, 'src/new/b.js'))
    await recorder.expect([
      ['added', path.join(root, 'src/new')],
      ['added', path.join(root, 'src/new/b.js')],
    ])
    fs.rmSync(path.join(root, 'src/a.js'))
    await recorder.expect([['deleted', path.join(root, 'src/a.js')]])
  })

  it('reads WATCHFILES_FORCE_POLLING as watchfiles does', async () => {
    const root = tempDir()
    const previous = process.env.WATCHFILES_FORCE_POLLING
    onCleanup(() => {
      if (previous === undefined) delete process.env.WATCHFILES_FORCE_POLLING
      else process.env.WATCHFILES_FORCE_POLLING = previous
    })
    process.env.WATCHFILES_FORCE_POLLING = '1'
    expect((await subscribed(root)).sub.backend).toBe('polling')
    process.env.WATCHFILES_FORCE_POLLING = 'disabled'
    expect((await subscribed(root)).sub.backend).toBe('inotify')
    process.env.WATCHFILES_FORCE_POLLING = '1'
    expect((await subscribed(root, { forcePolling: false })).sub.backend).toBe('inotify')
  })
})

describe('the async iterator', () => {
  it('yields batches, and ends on close()', async () => {
    const root = tempDir()
    const watcher = watch(root, { step: 20 })
    onCleanup(() => watcher.close())
    await watcher.ready
    expect(watcher.backend).toBe('inotify')
    write(path.join(root, 'one.txt'))
    const iterator = watcher[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect(first).toEqual({ done: false, value: [{ type: 'added', path: path.join(root, 'one.txt') }] })
    const pending = iterator.next()
    await watcher.close()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('merges changes in Rust while the consumer is busy', async () => {
    const root = tempDir()
    const watcher = watch(root, { step: 10 })
    onCleanup(() => watcher.close())
    await watcher.ready
    write(path.join(root, 'a'))
    await new Promise((r) => setTimeout(r, 200)) // batch 1 waits in JavaScript, unacknowledged
    for (let i = 0; i < 50; i++) write(path.join(root, 'b'), String(i))
    write(path.join(root, 'c'))
    await new Promise((r) => setTimeout(r, 200))
    const batches: FileChange[][] = []
    for await (const batch of watcher) {
      batches.push(batch)
      if (batches.flat().length >= 3) break
    }
    expect(batches).toEqual([
      [{ type: 'added', path: path.join(root, 'a') }],
      [
        { type: 'added', path: path.join(root, 'b') },
        { type: 'added', path: path.join(root, 'c') },
      ],
    ])
  })

  it('ends when the signal aborts', async () => {
    const root = tempDir()
    const controller = new AbortController()
    const watcher = watch(root, { signal: controller.signal })
    await watcher.ready
    setTimeout(() => controller.abort(), 50)
    const batches = []
    for await (const batch of watcher) batches.push(batch)
    expect(batches).toEqual([])
  })

  it('rejects when the filter throws, and the process goes on', async () => {
    const root = tempDir()
    const watcher = watch(root, {
      step: 10,
      filter: () => {
        throw new Error('filter exploded')
      },
    })
    onCleanup(() => watcher.close())
    await watcher.ready
    write(path.join(root, 'x'))
    await expect(watcher.next()).rejects.toThrow('filter exploded')
  })
})

describe('errors', () => {
  it('throws a WatchError naming a missing path', async () => {
    const missing = path.join(tempDir(), 'does-not-exist')
    let error: unknown
    try {
      watch(missing)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(WatchError)
    expect((error as WatchError).code).toBe('ERR_WATCH_NOT_FOUND')
    expect((error as WatchError).path).toBe(missing)
    expect((error as Error).message).toContain(missing)
    await expect(subscribe(missing, () => {})).rejects.toMatchObject({ code: 'ERR_WATCH_NOT_FOUND', path: missing })
  })

  it.each([
    [[], {}, TypeError, /paths/],
    [[''], {}, TypeError, /paths\[0\]/],
    [[42], {}, TypeError, /paths\[0\]/],
    ['.', { debounce: -1 }, RangeError, /`debounce`/],
    ['.', { step: Number.NaN }, RangeError, /`step`/],
    ['.', { step: '50' }, TypeError, /`step`/],
    ['.', { pollInterval: 0 }, RangeError, /`pollInterval`/],
    ['.', { recursive: 'yes' }, TypeError, /`recursive`/],
    ['.', { ignore: 'dist' }, TypeError, /`ignore`/],
    ['.', { ignore: ['src/['] }, Error, /ignore.*src\/\[/],
    ['.', { filter: 'src' }, TypeError, /`filter`/],
    ['.', { signal: {} }, TypeError, /`signal`/],
    ['.', { onWatchLimit: 'ignore' }, TypeError, /`onWatchLimit`/],
    ['.', { debounse: 10 }, TypeError, /unknown option `debounse`/],
    ['.', 'fast', TypeError, /options must be an object/],
  ])('rejects bad input %j %j', (paths, options, type, message) => {
    expect(() => watch(paths as string[], options as object)).toThrow(type)
    expect(() => watch(paths as string[], options as object)).toThrow(message)
  })

  it('rejects a non-function callback', async () => {
    await expect(subscribe('.', 'nope' as never)).rejects.toThrow(TypeError)
  })

  it('reports a throwing callback to onError and keeps delivering', async () => {
    const root = tempDir()
    const errors: Error[] = []
    let calls = 0
    const sub = await subscribe(
      root,
      () => {
        calls++
        throw new Error(`callback ${calls} failed`)
      },
      { step: 10, onError: (e) => errors.push(e) },
    )
    onCleanup(() => sub.close())
    write(path.join(root, 'a'))
    await waitFor(() => errors.length === 1, 'the first error')
    write(path.join(root, 'b'))
    await waitFor(() => errors.length === 2, 'the second error')
    expect(errors.map((e) => e.message)).toEqual(['callback 1 failed', 'callback 2 failed'])
  })
})

describe('closing and process lifetime', () => {
  it('delivers nothing once close() has resolved, and closing twice is fine', async () => {
    const root = tempDir()
    const before = inotifyWatchCount()
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 5 })
    write(path.join(root, 'a'))
    await sub.close()
    await sub.close()
    expect(inotifyWatchCount()).toBe(before)
    write(path.join(root, 'b'))
    await recorder.expectNothing(300)
  })

  const runChild = (script: string, timeoutMs = 10_000) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; ms: number }>((resolve) => {
      const started = Date.now()
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: path.resolve(__dirname, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (d) => (output += d))
      child.stderr.on('data', (d) => (output += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      child.on('exit', (code, signal) => {
        clearTimeout(timer)
        resolve({ code, signal, output, ms: Date.now() - started })
      })
    })

  const entry = JSON.stringify(path.resolve(__dirname, '../dist/index.js'))

  it('a persistent watcher keeps the process alive until close() lets it exit', async () => {
    const root = JSON.stringify(tempDir())
    const result = await runChild(`
      import { subscribe } from ${entry}
      const sub = await subscribe(${root}, () => {})
      let alive = 0
      const t = setInterval(() => alive++, 50)
      setTimeout(async () => { clearInterval(t); console.log('alive', alive > 3); await sub.close() }, 400)
    `)
    expect(result.output).toContain('alive true')
    expect(result.code).toBe(0)
    expect(result.signal).toBeNull()
  })

  it('persistent: false does not hold the process', async () => {
    const root = JSON.stringify(tempDir())
    const result = await runChild(`
      import { subscribe } from ${entry}
      await subscribe(${root}, () => {}, { persistent: false })
      console.log('subscribed')
    `)
    expect(result.output).toContain('subscribed')
    expect(result.code).toBe(0)
  })

  it('a process that exits with watchers open exits cleanly', async () => {
    const root = JSON.stringify(tempDir())
    const result = await runChild(`
      import { subscribe, watch } from ${entry}
      import fs from 'node:fs'
      const subs = []
      for (let i = 0; i < 20; i++) subs.push(await subscribe(${root}, () => {}, { step: 0 }))
      const w = watch(${root}); await w.ready
      for (let i = 0; i < 200; i++) fs.writeFileSync(${root} + '/f' + i, 'x')
      setTimeout(() => { console.log('exiting'); process.exit(7) }, 20)
    `)
    expect(result.output).toContain('exiting')
    expect(result.output).not.toMatch(/Assertion|Segmentation|FATAL|panicked/)
    expect(result.code).toBe(7)
  })
})
