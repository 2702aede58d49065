// A small HTTP server for the demo (`npm start`): edit this file and watch it restart.
// Under the reloader with --listen it takes over the listening socket (fd 3), so requests made
// while it restarts wait instead of being refused; on its own it listens on PORT.
import http from 'node:http'
import { listen } from 'watchfiles-node/listen'

const startedAt = new Date().toISOString()
const changes = JSON.parse(process.env.WATCHFILES_CHANGES ?? '[]')

const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'text/plain; charset=utf-8')
  response.end(`Hello from pid ${process.pid}, started at ${startedAt}.\nEdit examples/server/server.mjs and reload.\n`)
})

listen(server, Number(process.env.PORT ?? 3000))
server.on('listening', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : process.env.PORT
  console.log(`server listening on http://localhost:${port} (pid ${process.pid}, after ${changes.length} change(s))`)
})

// Finish in-flight requests on SIGTERM, as a real server would.
process.on('SIGTERM', () => server.close(() => process.exit(0)))
