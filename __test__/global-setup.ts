// The integration tests run the built package (dist/) inside real tools: rebuild the TypeScript
// part first when a source is newer than the build (`npm install` builds it in CI).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export default function setup(): void {
  const built = ['chokidar', 'vite', 'webpack', 'index'].map((n) => path.resolve('dist', `${n}.js`))
  const builtAt = Math.min(...built.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)))
  const sources = fs.readdirSync('src').map((f) => fs.statSync(path.join('src', f)).mtimeMs)
  if (builtAt > 0 && sources.every((t) => t <= builtAt)) return
  const result = spawnSync('npx', ['tsup'], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error('building dist/ with tsup failed')
}
