// Every NodeWorker process runs its script through this bootstrap. Started ahead of time (a
// spare), it idles until the reloader says "go", so that a restart does not wait for Node.js
// itself to start; then it runs the worker's script as the main module, in this fresh process,
// reading the files as they are at that moment.
//
//   node prewarm.cjs <script> [args...]
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** How long an orphaned worker may take to stop on its stop signal before it is killed. */
const ORPHAN_KILL_MS = 5000

function leave(): void {
  process.exit(0)
}

/** The reloader went away without stopping this worker (killed, or it exited without `close()`):
 *  stop the worker's process group as the reloader would have, so no orphan keeps its port. */
function orphaned(stopSignal: NodeJS.Signals): void {
  const group = -process.pid // the worker leads a process group of its own
  setTimeout(() => process.kill(group, 'SIGKILL'), ORPHAN_KILL_MS).unref()
  process.kill(group, stopSignal)
}

// A reloader that goes away (even killed) takes its spares with it.
process.once('disconnect', leave)
process.once('message', (message: { type?: string; env?: Record<string, string>; stopSignal?: NodeJS.Signals }) => {
  process.off('disconnect', leave)
  if (message?.type !== 'go') return leave()
  Object.assign(process.env, message.env)
  process.once('disconnect', () => orphaned(message.stopSignal ?? 'SIGTERM'))
  // The channel must not keep the script alive: a script that ends, ends.
  process.channel?.unref()
  process.argv.splice(1, 1) // [node, prewarm.cjs, script, ...] → [node, script, ...]
  // In ps and /proc/<pid>/cmdline, show the script this process now runs, not the bootstrap.
  process.title = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].join(' ')
  ;(require('node:module') as { runMain: () => void }).runMain()
})
