import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_DIR = path.resolve(BENCH_DIR, '..')
export const BUILD_DIR = path.join(BENCH_DIR, 'build')
export const PEERS_DIR = path.join(BENCH_DIR, '.peers')

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** CLOCK_MONOTONIC in nanoseconds: the same clock in every process of the machine (Node's hrtime,
 * Python's time.monotonic_ns, C's clock_gettime(CLOCK_MONOTONIC)). */
export const nowNs = () => process.hrtime.bigint()

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const rank = Math.max(1, Math.ceil((p / 100) * v.length))
  return v[Math.min(v.length, rank) - 1]
}

export function shuffle(items, seed) {
  const out = items.slice()
  let s = seed >>> 0 || 1
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1664525 + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Rejects when `promise` has not settled within `ms`; the timer never outlives it. */
export function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
