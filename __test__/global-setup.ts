// Tests run the built package (dist/) too: the CLI, fixtures that import 'watchfiles-node', and
// the integrations inside real tools. Rebuild the TypeScript part first when any source is newer
// than the build (`npm install` builds it in CI).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

function newest(dir: string): number {
  let latest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs)
  }
  return latest
}

export default function setup(): void {
  const built = ['index', 'cli', 'listen', 'chokidar', 'vite', 'webpack'].map((n) => path.resolve('dist', `${n}.js`))
  const builtAt = Math.min(...built.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)))
  if (builtAt > 0 && newest('src') <= builtAt) return
  const result = spawnSync('npx', ['tsup'], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error('building dist/ with tsup failed')
}
