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
    // A module outside the root: Vite adds it to the watcher (`server.watcher.add`) once loaded.
    const shared = tempDir('wfn-vite-shared-')
    write(path.join(shared, 'dep.js'), 'export const dep = 1\n')
    write(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    write(path.join(project, 'index.html'), '<!doctype html><script type="module" src="/src/main.js"></script>\n')
    const mainSource = (value: number): string =>
      `import { dep } from ${JSON.stringify(path.join(shared, 'dep.js'))}\nexport const value = ${value} + dep\nif (import.meta.hot) import.meta.hot.accept()\n`
    write(path.join(project, 'src/main.js'), mainSource(1))
    write(path.join(project, 'src/other.js'), 'export const other = 1\n')
    write(
      path.join(project, 'vite.config.js'),
      `import { watchfiles } from 'watchfiles-node/vite'
export default {
  clearScreen: false,
  server: { fs: { allow: ['.', ${JSON.stringify(shared)}] } },
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
    const transformed = await main.text()
    expect(transformed).toContain('import.meta.hot.accept()')
    const depUrl = transformed.match(/from "(\/@fs\/[^"]+dep\.js)"/)?.[1]
    expect(depUrl).toBe(`/@fs${path.join(shared, 'dep.js')}`)
    expect((await fetch(`${base}${depUrl!}`)).status).toBe(200)

    const require = createRequire(path.join(peers, 'package.json'))
    const { WebSocket } = require('ws') as {
      WebSocket: new (url: string, protocol: string) => { on(event: 'message', fn: (data: unknown) => void): void; close(): void }
    }
    const socket = new WebSocket(`ws://127.0.0.1:${port}/?token=${token!}`, 'vite-hmr')
    const messages: HmrMessage[] = []
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as HmrMessage))
    try {
      await waitFor(() => messages.some((m) => m.type === 'connected'), 'the HMR connection')

      write(path.join(project, 'src/main.js'), mainSource(2))
      await waitFor(() => messages.some((m) => m.type === 'update'), 'the HMR update')
      const updates = (): HmrMessage[] => messages.filter((m) => m.type === 'update')
      expect(updates()).toHaveLength(1)
      expect(updates()[0]!.updates).toEqual([
        expect.objectContaining({ type: 'js-update', path: '/src/main.js', acceptedPath: '/src/main.js' }),
      ])

      // The file outside the root was added to the watcher at run time: its edit updates its
      // importer, the HMR boundary.
      write(path.join(shared, 'dep.js'), 'export const dep = 2\n')
      await waitFor(() => updates().length === 2, 'the HMR update for the file outside the root')
      expect(updates()[1]!.updates).toEqual([
        expect.objectContaining({ type: 'js-update', path: '/src/main.js', acceptedPath: '/src/main.js' }),
      ])

      // The process watched with inotify through the core only: the root, src, the outside file's
      // folder, and the parent of both (/tmp); no fs.watch/fs.watchFile call and no chokidar
      // module was ever loaded.
      expect(inotifyWatchCount(vite.process.pid!)).toBe(4)
      const report = spy.read()
      expect(report.watchCalls).toEqual([])
      expect(report.loads).toEqual([])
    } finally {
      socket.close()
    }
  })
})
