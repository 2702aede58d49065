// Readiness signals a worker process can give: a line of output matching a pattern, or a port
// that accepts connections.
import net from 'node:net'
import type { Readable, Writable } from 'node:stream'

/** Copies `source` to `target` and calls `onMatch` once when the output matches `pattern`. */
export function forwardAndMatch(source: Readable, target: Writable, pattern: RegExp | undefined, onMatch: () => void): void {
  let tail = ''
  let matched = pattern === undefined
  source.on('data', (chunk: Buffer) => {
    target.write(chunk)
    if (matched) return
    // Keep the unfinished last line, bounded, so a match split across chunks is found.
    tail = (tail + chunk.toString('utf8')).slice(-64 * 1024)
    if (pattern!.test(tail)) {
      matched = true
      tail = ''
      onMatch()
    } else {
      const newline = tail.lastIndexOf('\n')
      if (newline >= 0) tail = tail.slice(newline + 1)
    }
  })
}

/** Tries to connect to `port` every 20 ms until it accepts or `cancelled()` says to stop. */
export async function waitForPort(port: number, host: string, cancelled: () => boolean): Promise<boolean> {
  while (!cancelled()) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (accepted) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return false
}
