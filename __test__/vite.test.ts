// A real Vite dev server whose file watching is watchfiles-node (through `watchfiles-node/vite`):
// an edited module reaches a connected HMR client as an `update`, with no chokidar watching.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { inotifyWatchCount, tempDir, waitFor, write } from './helpers.js'
import { watchSpy, freePort, installPeers, link, REPO, start } from './peers.js'

export const VITE_VERSION = '8.3.8'
const WS_VERSION = '8.18.3'

interface HmrMessage {
  type: string
  updates?: Array<{ type: string; path: string; acceptedPath: string }>
}

describe('Vite dev server', () => {
  it('sends the HMR update for an edited module, watching with watchfiles-node only', { timeout: 900_000 }, async () => {
    const peers = installPeers({ vite: VITE_VERSION, ws: WS_VERSION })
    // Vite bundles chokidar into its dist: no chokidar package is installed with it.
    expect(fs.existsSync(path.join(peers, 'node_modules/chokidar'))).toBe(false)

    const project = tempDir('wfn-vite-')
    write(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    write(path.join(project, 'index.html'), '<!doctype html><script type="module" src="/src/main.js"></script>\n')
    write(path.join(project, 'src/main.js'), "export const value = 1\nif (import.meta.hot) import.meta.hot.accept()\n")
    write(path.join(project, 'src/other.js'), 'export const other = 1\n')
    write(
      path.join(project, 'vite.config.js'),
      `import { watchfiles } from 'watchfiles-node/vite'
export default {
  clearScreen: false,
  plugins: [
    watchfiles(),
    { name: 'report-ready', configureServer(server) { server.watcher.on('ready', () => console.log('WATCHER READY')) } },
  ],
}
`,
    )
    link(project, 'vite', path.join(peers, 'node_modules/vite'))
    link(project, 'watchfiles-node', REPO)
    const spy = watchSpy(project)

    const port = await freePort()
    const vite = start(
      process.execPath,
      ['--import', spy.preload, path.join(peers, 'node_modules/vite/bin/vite.js'), '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
      { cwd: project },
    )
    await vite.waitForOutput(/Local:\s+http:\/\/127\.0\.0\.1:\d+/, 'Vite to listen', 120_000)
    await vite.waitForOutput(/WATCHER READY/, 'the watcher to be ready')
    const base = `http://127.0.0.1:${port}`

    // Load the module as a browser would, so it is in the module graph as self-accepting.
    const client = await (await fetch(`${base}/@vite/client`)).text()
    const token = client.match(/const wsToken = "([^"]+)"/)?.[1]
    expect(token).toBeTruthy()
    const main = await fetch(`${base}/src/main.js`)
    expect(main.status).toBe(200)
    expect(await main.text()).toContain('import.meta.hot.accept()')

    const require = createRequire(path.join(peers, 'package.json'))
    const { WebSocket } = require('ws') as {
      WebSocket: new (url: string, protocol: string) => { on(event: 'message', fn: (data: unknown) => void): void; close(): void }
    }
    const socket = new WebSocket(`ws://127.0.0.1:${port}/?token=${token!}`, 'vite-hmr')
    const messages: HmrMessage[] = []
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as HmrMessage))
    try {
      await waitFor(() => messages.some((m) => m.type === 'connected'), 'the HMR connection')

      write(path.join(project, 'src/main.js'), "export const value = 2\nif (import.meta.hot) import.meta.hot.accept()\n")
      await waitFor(() => messages.some((m) => m.type === 'update'), 'the HMR update')
      const updates = messages.filter((m) => m.type === 'update')
      expect(updates).toHaveLength(1)
      expect(updates[0]!.updates).toEqual([
        expect.objectContaining({ type: 'js-update', path: '/src/main.js', acceptedPath: '/src/main.js' }),
      ])

      // The process watched with inotify through the core only: the root, src and the root's
      // parent; no fs.watch/fs.watchFile call and no chokidar module was ever loaded.
      expect(inotifyWatchCount(vite.process.pid!)).toBe(3)
      const report = spy.read()
      expect(report.watchCalls).toEqual([])
      expect(report.loads).toEqual([])
    } finally {
      socket.close()
    }
  })
})
