import type { Server } from 'node:net'

/**
 * Starts `server` on the socket the reloader hands over (fd 3, `LISTEN_FDS=1`, the systemd
 * convention), or on `port` when not run under a reloader with `listen`. Under a `NodeWorker`
 * it also tells the reloader it is ready once listening.
 *
 * ```js
 * import http from 'node:http'
 * import { listen } from 'watchfiles-node'
 * listen(http.createServer(handler), 3000)
 * ```
 */
export function listen(server: Server, port?: number, host?: string): Server {
  const inherited =
    process.env.LISTEN_FDS === '1' && (process.env.LISTEN_PID === undefined || process.env.LISTEN_PID === String(process.pid))
  server.once('listening', () => process.send?.({ type: 'ready' }))
  if (inherited) {
    // Not meant for processes this one starts in turn.
    delete process.env.LISTEN_FDS
    delete process.env.LISTEN_PID
    delete process.env.LISTEN_FDNAMES
    return server.listen({ fd: 3 })
  }
  return host === undefined ? server.listen(port) : server.listen(port, host)
}
