// Prints each batch of changes under a folder (default: this examples folder) until Ctrl+C.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { watch } from '../dist/index.js'

const target = process.argv[2] ?? path.dirname(fileURLToPath(import.meta.url))
const watcher = watch(target)
process.on('SIGINT', () => watcher.close())
await watcher.ready
console.log(`Watching ${watcher.paths.join(', ')} with ${watcher.backend}. Edit a file there; Ctrl+C to stop.`)
for await (const changes of watcher) {
  for (const { type, path: changed } of changes) console.log(`${type.padEnd(8)} ${changed}`)
}
