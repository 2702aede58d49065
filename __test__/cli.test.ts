import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCli, parseDuration } from '../src/cli.js'
import { isAlive, liveProcesses, marker, onCleanup, tempDir, waitFor, write } from './helpers.js'

const CLI = path.resolve(__dirname, '../dist/cli.js')
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name)

interface Run {
  child: ChildProcess
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function cli(args: string[], cwd = process.cwd()): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    // Ctrl+C, as a user stops it: the CLI stops its command's process group. SIGKILL would
    // orphan that group (no supervisor outlives its own SIGKILL).
    child.kill('SIGINT')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  })
  return { child, output: () => output, exited }
}

/** The marked processes the CLI started (its own command line carries the marker too). */
const family = (run: Run, tag: string): number[] => liveProcesses(tag).filter((pid) => pid !== run.child.pid)

describe('watchfiles-node CLI', () => {
  it('runs the command, restarts it on change, and Ctrl+C stops everything and exits 0', async () => {
    const root = tempDir()
    const tag = marker()
    const run = cli([`node ${fixture('family.mjs')} ${tag}`, root, '--step', '20ms'])
    await waitFor(() => run.output().includes('family ready') && family(run, tag).length === 2, 'the first start')
    expect(run.output()).toContain(`Watching for file changes with inotify in ${root}`)
    const first = family(run, tag)

    write(path.join(root, 'app.js'))
    await waitFor(() => /app\.js changed: restarted, ready in \d+ ms/.test(run.output()), 'the restart line')
    await waitFor(() => family(run, tag).length === 2 && first.every((p) => !isAlive(p)), 'the new family')
    const second = family(run, tag)

    run.child.kill('SIGINT')
    expect(await run.exited).toEqual({ code: 0, signal: null })
    expect(second.filter(isAlive)).toEqual([])
    expect(liveProcesses(tag)).toEqual([])
  })

  it('restarts when "rs" is typed', async () => {
    const root = tempDir()
    const tag = marker()
    const run = cli([`node ${fixture('family.mjs')} ${tag}`, root])
    await waitFor(() => family(run, tag).length === 2, 'the first start')
    const first = family(run, tag)
    run.child.stdin!.write('rs\n')
    await waitFor(() => family(run, tag).length === 2 && first.every((p) => !isAlive(p)), 'the restart')
    expect(run.output()).toContain('restarting (rs)')
  })

  it('hands the --listen socket to the command', async () => {
    const root = tempDir()
    const run = cli(['--listen', '0', '--ready-pattern', 'handoff listening', `node ${fixture('handoff.mjs')}`, root])
    await waitFor(() => run.output().includes('handoff listening'), 'the server')
    expect(run.output()).toMatch(/Listening on port \d+ \(handed to the command as fd 3\)/)
  })

  it.each([
    [['node x.js', '/definitely/not/here'], /cannot watch \/definitely\/not\/here: no such file or directory/],
    [['--debounce', 'soon', 'node x.js'], /--debounce takes a duration/],
    [['--no-such-option', 'node x.js'], /Unknown option '--no-such-option'/],
    [[], /missing <command>/],
    [["node 'unterminated"], /unterminated single quote/],
    [['--stop-signal', 'SIGNOPE', 'node x.js'], /unknown signal/],
  ])('exits 1 with a clear message for %j', async (args, message) => {
    const run = cli(args as string[])
    expect((await run.exited).code).toBe(1)
    expect(run.output()).toMatch(message)
  })

  it('prints its version and help', async () => {
    const version = cli(['--version'])
    expect((await version.exited).code).toBe(0)
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { version: string }
    expect(version.output().trim()).toBe(pkg.version)
    const help = cli(['--help'])
    expect((await help.exited).code).toBe(0)
    expect(help.output()).toContain('Usage: watchfiles-node [options] <command> [paths...]')
  })
})

describe('argument parsing', () => {
  it('reads durations with units, bare numbers in the option unit', () => {
    expect(parseDuration('step', '300ms', 'ms')).toBe(300)
    expect(parseDuration('step', '300', 'ms')).toBe(300)
    expect(parseDuration('step', '1.5s', 'ms')).toBe(1500)
    expect(parseDuration('grace-period', '2', 's')).toBe(2000)
    expect(parseDuration('x', '1m', 's')).toBe(60_000)
  })

  it('maps watchfiles options onto the reloader and the worker', () => {
    const parsed = parseCli([
      '--filter', 'source', '--ignore-paths', 'dist,*.log', '--non-recursive', '--debounce', '2s', '--step', '10',
      '--stop-signal', 'int', '--sigint-timeout', '3', '--sigkill-timeout', '1', '--grace-period', '1',
      '--force-polling', '--poll-interval', '1s', '--ignore-permission-denied', '--restart-on-crash', '--listen', '8080',
      '--ext', 'ts,.tsx', 'npm run dev', 'src', 'lib',
    ])
    if (typeof parsed === 'string') throw new Error(parsed)
    expect(parsed.command).toBe('npm run dev')
    expect(parsed.reloader).toMatchObject({
      paths: ['src', 'lib'], ignore: ['dist', '*.log'], recursive: false, debounce: 2000, step: 10, gracePeriod: 1000,
      forcePolling: true, pollInterval: 1000, ignorePermissionDenied: true, restartOnCrash: true, listen: 8080,
      extensions: ['ts', 'tsx'], gitignore: true,
    })
    expect(parsed.worker).toMatchObject({ stopSignal: 'SIGINT', stopTimeout: 3000, killTimeout: 1000 })
    const glob = parseCli(['--filter', 'src/**/*.ts', 'node x'])
    if (typeof glob === 'string') throw new Error(glob)
    expect(glob.reloader.include).toEqual(['src/**/*.ts'])
    const plain = parseCli(['--no-gitignore', 'node x'])
    if (typeof plain === 'string') throw new Error(plain)
    expect(plain.reloader.gitignore).toBe(false)
  })
})
