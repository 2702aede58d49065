// Ready time of watchfiles-node after `delay` ms of idling, to show how much of it is CPU wake-up
// latency (see the notes in RESULTS.md). Prints one number (ms) per run.
//
//   node benchmark/analysis/ready-after-idle.mjs benchmark/.trees/t100k-v1 300
import path from 'node:path'
import { subscribe } from '../../dist/index.js'

const [root, delay = '0'] = process.argv.slice(2)
await new Promise((resolve) => setTimeout(resolve, Number(delay)))
const t0 = process.hrtime.bigint()
const subscription = await subscribe(path.resolve(root), () => {})
const ms = Number(process.hrtime.bigint() - t0) / 1e6
await subscription.close()
console.log(ms.toFixed(1))
