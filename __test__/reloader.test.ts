import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  FunctionWorker,
  NodeWorker,
  ProcessWorker,
  Reloader,
  ThreadWorker,
  splitCommand,
  type ReadyEvent,
  type RestartEvent,
  type StartEvent,
  type FileChange,
} from '../src/index.js'
import { isAlive, liveProcesses, marker, onCleanup, tempDir, waitFor, write } from './helpers.js'

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name)

/** A started reloader on a temp folder, with its start and ready events recorded. */
async function running(workers: Array<ProcessWorker | NodeWorker | ThreadWorker | FunctionWorker>, options: ConstructorParameters<typeof Reloader>[0] = {}) {
  const root = tempDir()
  const reloader = new Reloader({ paths: [root], step: 20, handleSignals: false, ...options })
  const starts: StartEvent[] = []
  const readies: ReadyEvent[] = []
  const errors: Error[] = []
  const restarts: RestartEvent[] = []
  reloader.on('restart', (e) => restarts.push(e))
  reloader.on('start', (e) => starts.push(e))
  reloader.on('ready', (e) => readies.push(e))
  reloader.on('error', (e) => errors.push(e))
  for (const worker of workers) reloader.add(worker)
  onCleanup(() => reloader.close())
  await reloader.start()
  return { root, reloader, starts, readies, errors, restarts }
}

describe('process workers', () => {
  it('stops the whole process group on restart and on close: no grandchild survives', async () => {
    const tag = marker()
    const worker = new NodeWorker({ script: fixture('family.mjs'), args: [tag], readyPattern: /family ready/ })
    const { root, reloader, starts, readies } = await running([worker])
    // The worker and its grandchild both carry the marker.
    await waitFor(() => readies.length === 1 && liveProcesses(tag).length === 2, 'the grandchild')
    const firstFamily = liveProcesses(tag)
    expect(firstFamily).toContain(starts[0]!.pid!)

    write(path.join(root, 'app.js'))
    await waitFor(() => readies.length === 2, 'the restart')
    expect(firstFamily.filter(isAlive), 'the old worker and its grandchild are gone').toEqual([])
    await waitFor(() => liveProcesses(tag).length === 2, 'the new grandchild')
    const secondFamily = liveProcesses(tag)
    expect(secondFamily).toContain(starts[1]!.pid!)

    await reloader.close()
    expect(secondFamily.filter(isAlive)).toEqual([])
    expect(liveProcesses(tag)).toEqual([])
  })

  it('starts the next Node.js process ahead of time and hands it the restart (prewarm)', async () => {
    const tag = marker()
    const dir = tempDir()
    const log = path.join(dir, 'changes.log')
    const worker = new NodeWorker({ script: fixture('family.mjs'), args: [tag, log], readyPattern: /family ready/ })
    expect(worker.prewarm).toBe(true)
    const { root, reloader, starts, readies } = await running([worker])
    await waitFor(() => readies.length === 1, 'ready')
    await waitFor(() => liveProcesses(tag, { spares: true }).length === 3, 'the spare to start')
    const spare = liveProcesses(tag, { spares: true }).find((pid) => !liveProcesses(tag).includes(pid))!
    const file = path.join(root, 'edit.js')
    write(file)
    await waitFor(() => readies.length === 2, 'the restart')
    expect(starts[1]!.pid, 'the spare became the new worker').toBe(spare)
    // It ran the script as a fresh main module, with this restart's changes.
    expect(fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([[], [['added', file]]])
    await reloader.close()
    expect(liveProcesses(tag, { spares: true })).toEqual([])
  })

  it('SIGKILLs a group that ignores SIGTERM once stopTimeout has passed', async () => {
    const tag = marker()
    const worker = new NodeWorker({ script: fixture('stubborn.mjs'), args: [tag], readyPattern: /stubborn ready/, stopTimeout: 300 })
    const { root, readies, starts } = await running([worker])
    await waitFor(() => readies.length === 1, 'ready')
    const first = starts[0]!.pid!
    const changedAt = Date.now()
    write(path.join(root, 'x.js'))
    await waitFor(() => starts.length === 2, 'the restart')
    expect(isAlive(first)).toBe(false)
    // It had to wait for the stop timeout, then SIGKILL.
    expect(Date.now() - changedAt).toBeGreaterThanOrEqual(300)
    // The new process names its script once its bootstrap has handed over to it.
    await waitFor(() => liveProcesses(tag).join() === String(starts[1]!.pid), 'only the new process')
  })

  it('restarts a server on a fixed port 10 times without EADDRINUSE', async () => {
    const dir = tempDir()
    const failures = path.join(dir, 'failures.log')
    const port = await freePort()
    const worker = new NodeWorker({
      script: fixture('fixed-port.mjs'),
      args: [failures],
      env: { PORT: String(port) },
      readyPort: port,
    })
    const { root, readies } = await running([worker])
    await waitFor(() => readies.length === 1, 'ready')
    for (let i = 1; i <= 10; i++) {
      write(path.join(root, 'server.js'), String(i))
      await waitFor(() => readies.length === i + 1, `restart ${i}`)
    }
    expect(fs.existsSync(failures) ? fs.readFileSync(failures, 'utf8') : '').toBe('')
  })

  it('hands one listening socket to every run: no connection is refused through 5 restarts', async () => {
    const worker = new NodeWorker({ script: fixture('handoff.mjs') })
    const { root, reloader, readies } = await running([worker], { listen: { port: 0, host: '127.0.0.1' } })
    const restarts: unknown[] = []
    reloader.on('restart', (e) => restarts.push(e.changes))
    await waitFor(() => readies.length === 1, 'ready')
    const port = reloader.listenPort!
    let refused = 0
    let served = 0
    const pids = new Set<string>()
    let stop = false
    const client = (async () => {
      while (!stop) {
        try {
          pids.add(await request(port))
          served++
        } catch (error) {
          refused++
        }
      }
    })()
    for (let i = 1; i <= 5; i++) {
      write(path.join(root, 'server.js'), String(i))
      await waitFor(() => readies.length === i + 1, `restart ${i}`)
      await waitFor(() => pids.size === i + 1, `a response from run ${i + 1}`)
    }
    stop = true
    await client
    expect(refused).toBe(0)
    expect(served).toBeGreaterThan(10)
    expect(pids.size).toBe(6)
  })

  it('passes the batch as WATCHFILES_CHANGES ([] on the first start)', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'changes.log')
    const worker = new NodeWorker({ script: fixture('family.mjs'), args: [marker(), log], readyPattern: /family ready/ })
    const { root, readies } = await running([worker])
    await waitFor(() => readies.length === 1, 'ready')
    const file = path.join(root, 'a.js')
    write(file)
    await waitFor(() => readies.length === 2, 'the restart')
    expect(fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([[], [['added', file]]])
  })

  it('reports a crash, then starts again on the next change', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'starts.log')
    const worker = new ProcessWorker({ command: [process.execPath, fixture('crash.mjs'), log] })
    const exits: Array<{ code: number | null }> = []
    const crashes: Array<{ code: number | null }> = []
    const root = tempDir()
    const reloader = new Reloader({ paths: [root], step: 20, handleSignals: false })
    reloader.on('exit', (e) => exits.push({ code: e.code }))
    reloader.on('crash', (e) => crashes.push({ code: e.code }))
    reloader.add(worker)
    onCleanup(() => reloader.close())
    await reloader.start()
    await waitFor(() => crashes.length === 1, 'the crash')
    expect(exits).toEqual([{ code: 3 }])
    await new Promise((r) => setTimeout(r, 300))
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1) // not restarted by itself
    write(path.join(root, 'fix.js'))
    await waitFor(() => crashes.length === 2, 'the second run')
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2)
  })

  it('restarts a crashing worker with backoff under restartOnCrash', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'starts.log')
    const worker = new ProcessWorker({ command: [process.execPath, fixture('crash.mjs'), log] })
    await running([worker], { restartOnCrash: true })
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').trim().split('\n').length >= 3, 'three runs')
    const times = fs.readFileSync(log, 'utf8').trim().split('\n').map(Number)
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950)
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1950)
  })

  it('merges 100 saves within a second into one or two restarts', async () => {
    const worker = new NodeWorker({ script: fixture('family.mjs'), args: [marker()], readyPattern: /family ready/ })
    const { root, readies, starts } = await running([worker], { step: 50 })
    await waitFor(() => readies.length === 1, 'ready')
    const file = path.join(root, 'busy.js')
    for (let i = 0; i < 100; i++) {
      write(file, String(i))
      await new Promise((r) => setTimeout(r, 9))
    }
    await waitFor(() => readies.length >= 2, 'a restart')
    await new Promise((r) => setTimeout(r, 800))
    expect(starts.length - 1).toBeGreaterThanOrEqual(1)
    expect(starts.length - 1).toBeLessThanOrEqual(2)
    expect(starts.at(-1)!.changes.map((c) => c.path)).toEqual([file])
  })

  it('merges changes made during a restart into exactly one follow-up restart', async () => {
    const worker = new NodeWorker({ script: fixture('slow-stop.mjs'), readyPattern: /slow-stop ready/ })
    const { root, readies, starts, restarts } = await running([worker])
    await waitFor(() => readies.length === 1, 'ready')
    write(path.join(root, 'first.js'))
    await waitFor(() => restarts.length === 1, 'the first restart to begin')
    // The old process takes 400 ms to stop: these land while the restart is under way.
    write(path.join(root, 'second.js'))
    await new Promise((r) => setTimeout(r, 100))
    write(path.join(root, 'third.js'))
    write(path.join(root, 'second.js'), 'again')
    await waitFor(() => restarts.length === 2 && readies.length === 2, 'the follow-up restart')
    await new Promise((r) => setTimeout(r, 800))
    expect(restarts.map((r) => r.changes.map((c) => path.basename(c.path)).sort())).toEqual([['first.js'], ['second.js', 'third.js']])
    expect(starts.map((s) => s.changes.map((c) => path.basename(c.path)).sort())).toEqual([[], ['first.js'], ['second.js', 'third.js']])
    expect(readies.at(-1)!.changes.map((c) => path.basename(c.path)).sort()).toEqual(['second.js', 'third.js'])
  })

  it('restarts only the workers whose paths changed', async () => {
    const a = tempDir()
    const b = tempDir()
    const wa = new NodeWorker({ script: fixture('family.mjs'), args: [marker()], readyPattern: /ready/, paths: [a] })
    const wb = new NodeWorker({ script: fixture('family.mjs'), args: [marker()], readyPattern: /ready/, paths: [b] })
    const { starts, readies, reloader } = await running([wa, wb])
    await waitFor(() => readies.length === 2, 'both ready')
    expect(reloader.paths).toEqual(expect.arrayContaining([a, b]))
    write(path.join(b, 'only-b.js'))
    await waitFor(() => starts.length === 3, 'a restart')
    await new Promise((r) => setTimeout(r, 300))
    expect(starts.slice(2).map((s) => s.worker)).toEqual([wb])
  })

  it('splits a command line as a POSIX shell would', () => {
    expect(splitCommand(`node  'my app.js' --name="a b" \\$HOME x\\ y ""`)).toEqual(['node', 'my app.js', '--name=a b', '$HOME', 'x y', ''])
    expect(() => splitCommand(`node 'open`)).toThrow(/single quote/)
    expect(() => new ProcessWorker({ command: '' })).toThrow(TypeError)
    expect(() => new ProcessWorker({ command: 'node x', stopTimeout: -1 })).toThrow(RangeError)
  })

  it('runs a command string through the shell with shell: true', async () => {
    const dir = tempDir()
    const out = path.join(dir, 'out.txt')
    const worker = new ProcessWorker({ command: `echo "$WATCHFILES_CHANGES" > '${out}'; sleep 30`, shell: true })
    await running([worker])
    await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8') === '[]\n', 'the shell output')
  })
})

describe('thread and function workers', () => {
  it('recreates a ThreadWorker on change, with the changes in workerData', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'thread.log')
    const worker = new ThreadWorker({ script: fixture('thread.mjs'), workerData: { log } })
    const { root, readies } = await running([worker])
    await waitFor(() => readies.length === 1, 'online')
    const file = path.join(root, 'b.js')
    write(file)
    // (A slow machine may report the write as added, then modified, in two batches: a third start.)
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').trim().split('\n').length >= 2, 'a second start')
    const starts = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
    expect(starts.slice(0, 2)).toEqual([[], [{ type: 'added', path: file }]])
  })

  it('aborts a FunctionWorker call when the next batch arrives', async () => {
    const calls: Array<{ changes: FileChange[]; aborted: boolean }> = []
    let release!: () => void
    const worker = new FunctionWorker(async (changes, signal) => {
      const call = { changes, aborted: false }
      calls.push(call)
      if (changes.length === 0) return
      await new Promise<void>((resolve) => {
        release = resolve
        signal.addEventListener('abort', () => {
          call.aborted = true
          resolve()
        })
      })
    })
    const { root, readies } = await running([worker])
    await waitFor(() => readies.length === 1, 'the first call')
    write(path.join(root, 'one.js'))
    await waitFor(() => calls.length === 2, 'the second call')
    write(path.join(root, 'two.js'))
    await waitFor(() => calls.length === 3, 'the third call')
    expect(calls[1]!.aborted).toBe(true)
    expect(calls[2]!.changes.map((c) => path.basename(c.path))).toEqual(['two.js'])
    release()
    await waitFor(() => readies.length === 2, 'the third call to finish')
  })

  it('manual restart() restarts every worker', async () => {
    let count = 0
    const worker = new FunctionWorker(() => {
      count++
    })
    const { reloader } = await running([worker])
    await waitFor(() => count === 1, 'first call')
    await reloader.restart()
    await waitFor(() => count === 2, 'second call')
  })
})

describe('the host process', () => {
  /** Starts fixtures/host.mjs: a Reloader running a NodeWorker whose script starts a grandchild. */
  function startHost(): { host: ChildProcess; tag: string; output: () => string } {
    const tag = marker()
    const host = spawn(process.execPath, [fixture('host.mjs'), tempDir(), tag], { stdio: ['ignore', 'pipe', 'inherit'] })
    onCleanup(() => host.kill('SIGKILL'))
    let output = ''
    host.stdout!.on('data', (d) => (output += d))
    return { host, tag, output: () => output }
  }

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('on %s stops every worker group, then ends by the signal', async (signal) => {
    const { host, tag, output } = startHost()
    const exited = new Promise<NodeJS.Signals | null>((resolve) => host.on('exit', (_code, s) => resolve(s)))
    const workers = () => liveProcesses(tag).filter((pid) => pid !== host.pid)
    await waitFor(() => output().includes('host ready') && workers().length === 2, 'the worker and its grandchild')
    const family = workers()
    host.kill(signal)
    expect(await exited).toBe(signal)
    expect(family.filter(isAlive)).toEqual([])
  })

  it('killed with SIGKILL, it takes its workers, their children and its spare with it', async () => {
    const { host, tag, output } = startHost()
    await waitFor(() => output().includes('host ready') && liveProcesses(tag, { spares: true }).filter((p) => p !== host.pid).length === 3, 'a spare')
    const family = liveProcesses(tag).filter((p) => p !== host.pid)
    const spares = liveProcesses(tag, { spares: true }).filter((p) => !liveProcesses(tag).includes(p))
    expect(family).toHaveLength(2) // the worker and its grandchild
    expect(spares).toHaveLength(1)
    host.kill('SIGKILL')
    // Nothing of the reloader runs after SIGKILL: the worker's bootstrap sees the IPC channel close
    // and stops its own process group with the stop signal.
    await waitFor(() => [...family, ...spares].every((pid) => !isAlive(pid)), 'the workers and the spare to leave')
  })
})

describe('options', () => {
  it('rejects bad options by name', () => {
    expect(() => new Reloader({ listen: 70000 })).toThrow(/`listen`/)
    expect(() => new Reloader({ gracePeriod: -5 })).toThrow(/`gracePeriod`/)
    expect(() => new Reloader({ nope: 1 } as never)).toThrow(/unknown option `nope`/)
    expect(() => new Reloader().add({} as never)).toThrow(TypeError)
  })
})

function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    let body = ''
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
    socket.on('data', (d) => (body += d))
    socket.on('end', () => resolve(body.split('\r\n\r\n')[1] ?? ''))
    socket.on('error', reject)
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
