// Started ahead of time by a NodeWorker, so that a restart does not wait for Node.js itself to
// start: it idles until the reloader says "go", then runs the worker's script as the main module,
// in this fresh process, reading the files as they are at that moment.
//
//   node prewarm.cjs <script> [args...]
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

function leave(): void {
  process.exit(0)
}

// A reloader that goes away (even killed) takes its spares with it.
process.once('disconnect', leave)
process.once('message', (message: { type?: string; env?: Record<string, string> }) => {
  process.off('disconnect', leave)
  if (message?.type !== 'go') return leave()
  Object.assign(process.env, message.env)
  process.argv.splice(1, 1) // [node, prewarm.cjs, script, ...] → [node, script, ...]
  ;(require('node:module') as { runMain: () => void }).runMain()
})
