import { spawn, spawnSync, type SpawnOptions } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { subscribe, watch, type FileChange } from '../src/index.js'
import { inotifyWatchCount, onCleanup, Recorder, tempDir, waitFor, write } from './helpers.js'

const REPORTER = path.join(__dirname, 'fixtures', 'watch-report.mjs')

interface Report {
  ready?: string
  changes?: FileChange[]
  warning?: string
  error?: string
  failed?: string
  code?: string
}

/** Runs the reporter fixture in another process and collects its JSON lines. */
function report(command: string, args: string[], options: SpawnOptions = {}) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Report[] = []
  let buffer = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d
    let newline
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, newline)) as Report)
      buffer = buffer.slice(newline + 1)
    }
  })
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const changes = (): FileChange[] => lines.flatMap((l) => l.changes ?? [])
  return { child, lines, changes, exited, stderr: () => stderr }
}

/** Runs `node reporter.mjs dir options` where at most `limit` inotify watches may exist: in a
 *  user namespace of its own when possible (nothing else on the machine is affected), else by
 *  lowering fs.inotify.max_user_watches for the whole machine, restored afterwards. */
function reportUnderWatchLimit(limit: number, dir: string, options: object) {
  const args = [process.execPath, REPORTER, dir, JSON.stringify(options)]
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true'])
  if (probe.status === 0) {
    return report('unshare', ['--user', '--map-root-user', 'sh', '-c', `echo ${limit} > /proc/sys/user/max_inotify_watches && exec "$0" "$@"`, ...args])
  }
  const sysctl = '/proc/sys/fs/inotify/max_user_watches'
  const old = fs.readFileSync(sysctl, 'utf8').trim()
  fs.writeFileSync(sysctl, String(limit)) // throws without root: the caller skips
  onCleanup(() => fs.writeFileSync(sysctl, old))
  return report(args[0]!, args.slice(1))
}

const canLimitWatches = (() => {
  if (process.platform !== 'linux') return false
  if (spawnSync('unshare', ['--user', '--map-root-user', 'true']).status === 0) return true
  try {
    fs.accessSync('/proc/sys/fs/inotify/max_user_watches', fs.constants.W_OK)
    return true
  } catch {
    return false
  }
})()
if (!canLimitWatches) console.warn('SKIPPED: watch-limit tests need a user namespace or root')

describe.skipIf(!canLimitWatches)('the OS watch limit', () => {
  function tree(folders: number): string {
    const root = tempDir()
    for (let i = 0; i < folders; i++) fs.mkdirSync(path.join(root, `d${String(i).padStart(2, '0')}`))
    return root
  }

  it('falls back to polling what could not be watched, with one warning naming the sysctl', async () => {
    const root = tree(60)
    const run = reportUnderWatchLimit(30, root, { step: 20, pollInterval: 50 })
    await waitFor(() => run.lines.some((l) => l.ready), `ready (${run.stderr()})`)
    const warnings = run.lines.filter((l) => l.warning)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.code).toBe('ERR_WATCH_LIMIT')
    expect(warnings[0]!.warning).toMatch(/fs\.inotify\.max_user_watches/)
    expect(warnings[0]!.warning).toMatch(/sysctl/)
    // Folders past the limit are polled: changes there still arrive.
    const late = path.join(root, 'd59', 'late.txt')
    const early = path.join(root, 'd00', 'early.txt')
    write(late)
    write(early)
    await waitFor(() => run.changes().length >= 2, 'the changes')
    expect(run.changes().sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { type: 'added', path: early },
      { type: 'added', path: late },
    ])
    expect(run.lines.filter((l) => l.warning)).toHaveLength(1)
  })

  it("fails with ERR_WATCH_LIMIT under onWatchLimit: 'error'", async () => {
    const root = tree(60)
    const run = reportUnderWatchLimit(30, root, { onWatchLimit: 'error' })
    expect(await run.exited).toBe(3)
    const failed = run.lines.find((l) => l.failed)!
    expect(failed.code).toBe('ERR_WATCH_LIMIT')
    expect(failed.failed).toMatch(/fs\.inotify\.max_user_watches/)
  })
})

describe('permission denied', () => {
  const asRoot = process.getuid?.() === 0
  const DAC_CAPS = '-dac_override,-dac_read_search'
  const hasSetpriv = asRoot && spawnSync('setpriv', ['--bounding-set', DAC_CAPS, 'true']).status === 0
  /** Runs the reporter without root's power to read everything. With setpriv it stays root but
   *  loses the capabilities that bypass file modes, so it can still read a checkout that only root
   *  may enter (a clone in a `mktemp -d` folder); without setpriv it runs as nobody. */
  function reportUnprivileged(dir: string, options: object) {
    const args = [REPORTER, dir, JSON.stringify(options)]
    if (hasSetpriv) return report('setpriv', ['--bounding-set', DAC_CAPS, '--inh-caps', DAC_CAPS, process.execPath, ...args])
    fs.chmodSync(dir, 0o755)
    return report(process.execPath, args, asRoot ? { uid: 65534, gid: 65534 } : {})
  }

  function treeWithLockedFolder(): { root: string; locked: string } {
    const root = tempDir()
    const locked = path.join(root, 'locked')
    fs.mkdirSync(path.join(root, 'open'))
    fs.mkdirSync(locked)
    fs.writeFileSync(path.join(locked, 'secret'), 'x')
    fs.chmodSync(locked, 0o000)
    onCleanup(() => fs.chmodSync(locked, 0o755))
    return { root, locked }
  }

  it('is a clear error naming the folder by default', async () => {
    const { root, locked } = treeWithLockedFolder()
    const run = reportUnprivileged(root, {})
    expect(await run.exited).toBe(3)
    const failed = run.lines.find((l) => l.failed)!
    expect(failed.code).toBe('ERR_WATCH_PERMISSION_DENIED')
    expect(failed.failed).toContain(locked)
    expect(failed.failed).toMatch(/ignorePermissionDenied/)
  })

  it('is skipped with a warning under ignorePermissionDenied, and the rest is watched', async () => {
    const { root, locked } = treeWithLockedFolder()
    const run = reportUnprivileged(root, { ignorePermissionDenied: true, step: 20 })
    await waitFor(() => run.lines.some((l) => l.ready), `ready (${run.stderr()})`)
    const warnings = run.lines.filter((l) => l.warning)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.warning).toContain(locked)
    const file = path.join(root, 'open', 'a.txt')
    fs.writeFileSync(file, 'x')
    fs.chmodSync(file, 0o644)
    await waitFor(() => run.changes().length > 0, 'the change')
    expect(run.changes()).toEqual([{ type: 'added', path: file }])
  })
})

describe('deleted and moved roots', () => {
  it('reports a deleted root, and its contents when it comes back', async () => {
    const parent = tempDir()
    const root = path.join(parent, 'project')
    write(path.join(root, 'src/a.js'))
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 20 })
    onCleanup(() => sub.close())
    fs.rmSync(root, { recursive: true })
    await recorder.expect([
      ['deleted', root],
      ['deleted', path.join(root, 'src')],
      ['deleted', path.join(root, 'src/a.js')],
    ])
    write(path.join(root, 'lib/b.js'))
    await recorder.expect([
      ['added', root],
      ['added', path.join(root, 'lib')],
      ['added', path.join(root, 'lib/b.js')],
    ])
    write(path.join(root, 'lib/b.js'), 'again')
    await recorder.expect([['modified', path.join(root, 'lib/b.js')]])
  })

  it('does the same when a parent of the root is renamed away and back', async () => {
    const top = tempDir()
    const parent = path.join(top, 'parent')
    const root = path.join(parent, 'project')
    write(path.join(root, 'a.js'))
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 20 })
    onCleanup(() => sub.close())
    fs.renameSync(parent, path.join(top, 'elsewhere'))
    await recorder.expect([
      ['deleted', root],
      ['deleted', path.join(root, 'a.js')],
    ])
    write(path.join(top, 'elsewhere/project/a.js'), 'not ours now')
    await recorder.expectNothing(200)
    fs.renameSync(path.join(top, 'elsewhere'), parent)
    await recorder.expect([
      ['added', root],
      ['added', path.join(root, 'a.js')],
    ])
  })
})

describe('file names', () => {
  it('delivers names that are not valid UTF-8 with their exact bytes, and the rest of the batch', async () => {
    const root = tempDir()
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 50 })
    onCleanup(() => sub.close())
    const raw = Buffer.concat([Buffer.from(root + '/bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')])
    fs.writeFileSync(raw, 'x')
    write(path.join(root, 'good.txt'))
    write(path.join(root, 'ünïcödé ✓.txt'))
    await waitFor(() => recorder.fresh().length === 3, 'three changes')
    const changes = recorder.batches.flat()
    const bad = changes.find((c) => c.pathBuffer)!
    expect(bad.type).toBe('added')
    expect(bad.path).toBe(`${root}/bad-\uFFFD\uFFFD.txt`)
    expect(Buffer.compare(bad.pathBuffer!, raw)).toBe(0)
    expect(fs.readFileSync(bad.pathBuffer!, 'utf8')).toBe('x')
    expect(changes.filter((c) => !c.pathBuffer).map((c) => c.path).sort()).toEqual(
      [path.join(root, 'good.txt'), path.join(root, 'ünïcödé ✓.txt')].sort(),
    )
  })
})

describe('symlinks', () => {
  it('does not follow symlinked folders by default: the link is an entry of its own', async () => {
    const root = tempDir()
    const target = tempDir()
    fs.symlinkSync(target, path.join(root, 'link'))
    const before = inotifyWatchCount()
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 20 })
    onCleanup(() => sub.close())
    expect(inotifyWatchCount() - before).toBe(2)
    write(path.join(target, 'inside.txt'))
    await recorder.expectNothing(250)
    fs.unlinkSync(path.join(root, 'link'))
    await recorder.expect([['deleted', path.join(root, 'link')]])
  })

  it('follows them with followSymlinks, and a symlink loop ends', async () => {
    const root = tempDir()
    const target = tempDir()
    fs.mkdirSync(path.join(target, 'deep'))
    fs.symlinkSync(target, path.join(root, 'link'))
    fs.symlinkSync(root, path.join(target, 'deep', 'back-to-root')) // a loop
    fs.symlinkSync('.', path.join(target, 'self')) // another
    const before = inotifyWatchCount()
    const recorder = new Recorder()
    const sub = await subscribe(root, recorder.onChanges, { step: 20, followSymlinks: true })
    onCleanup(() => sub.close())
    // root, link (= target), link/deep, and root's parent: each folder once.
    expect(inotifyWatchCount() - before).toBe(4)
    write(path.join(target, 'deep', 'x.txt'))
    await recorder.expect([['added', path.join(root, 'link', 'deep', 'x.txt')]])
  })
})

describe('closing under load', () => {
  it('closes during a storm of 100,000 events without hanging, and leaves no watch', async () => {
    const root = tempDir()
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(root, `f${i}`), '')
    const before = inotifyWatchCount()
    const storm = spawn(process.execPath, ['-e', `
      const fs = require('fs')
      for (let n = 0; n < 100000; n++) fs.writeFileSync(${JSON.stringify(root)} + '/f' + (n % 100), String(n))
    `])
    onCleanup(() => storm.kill('SIGKILL'))
    let batches = 0
    const sub = await subscribe(root, () => void batches++, { step: 0 })
    await waitFor(() => batches > 5, 'the storm to be seen')
    const started = Date.now()
    await sub.close()
    await sub.close()
    expect(Date.now() - started).toBeLessThan(5000)
    expect(inotifyWatchCount()).toBe(before)
    const seen = batches
    await new Promise((r) => setTimeout(r, 100))
    expect(batches).toBe(seen)
  })

  it('can close from inside its own callback', async () => {
    const root = tempDir()
    const before = inotifyWatchCount()
    let calls = 0
    let closed!: Promise<void>
    const sub = await subscribe(root, () => {
      calls++
      closed = sub.close()
    }, { step: 0 })
    write(path.join(root, 'a'))
    await waitFor(() => calls === 1, 'the callback')
    await closed
    write(path.join(root, 'b'))
    await new Promise((r) => setTimeout(r, 150))
    expect(calls).toBe(1)
    expect(inotifyWatchCount()).toBe(before)
  })

  it('opens and closes 1,000 watchers in a loop and leaves nothing behind', async () => {
    const root = tempDir()
    fs.mkdirSync(path.join(root, 'sub'))
    const before = inotifyWatchCount()
    for (let i = 0; i < 1000; i++) {
      const w = watch(root, { persistent: false })
      if (i % 2 === 0) await w.ready
      await w.close()
    }
    expect(inotifyWatchCount()).toBe(before)
    const fds = fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:inotify'
      } catch {
        return false
      }
    })
    expect(fds).toEqual([])
  })
})

describe('sustained churn', () => {
  it('keeps memory flat and merges batches while JavaScript is slow (short version of npm run stress)', async () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, '../scripts/stress.mjs'), '--events', '150000', '--seconds', '5', '--files', '300', '--slow-ms', '250'], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(run.status, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { events: number; batches: number; changes: number; growthMb: number }
    expect(result.events).toBe(150_000)
    // A 250 ms consumer over about 5 s takes some 20 batches, whatever the event count.
    expect(result.batches).toBeLessThanOrEqual(40)
    expect(result.changes).toBeLessThanOrEqual(result.batches * 300)
    expect(result.growthMb).toBeLessThan(20)
  })
})
