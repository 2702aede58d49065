// Loads the built package (dist/ + the binary in native/) on this machine and checks that it
// reports exactly one real change. The release workflow runs it where the test suite does not run:
// musl and ARM Linux in containers, Intel macOS, 32-bit and ARM Windows, FreeBSD in a VM.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { subscribe } from '../dist/index.js'

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'wfn-smoke-')))
const file = path.join(dir, 'a.txt')
const seen = []
let subscription
try {
  subscription = await subscribe(dir, (changes) => void seen.push(...changes), { step: 20 })
  fs.writeFileSync(file, 'x')
  const deadline = Date.now() + 15_000
  while (!seen.some((c) => c.type === 'added' && c.path === file)) {
    if (Date.now() > deadline) throw new Error(`no change reported within 15 s; got ${JSON.stringify(seen)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  const got = JSON.stringify(seen.map(({ type, path: p }) => [type, p]))
  if (got !== JSON.stringify([['added', file]])) throw new Error(`expected exactly one 'added' change, got ${got}`)
  console.log(`ok: ${process.platform}-${process.arch} node ${process.version}, ${subscription.backend}: added ${file}`)
} finally {
  await subscription?.close()
  fs.rmSync(dir, { recursive: true, force: true })
}
