// Generated trees, cached in benchmark/.trees (git-ignored) keyed by name and generator version:
// they are expensive to make (the 1M tree takes minutes), so a finished tree is kept and reused.
// A tree is finished when its manifest `<name>.json` exists beside it; a half-made tree (no
// manifest) is removed and made again.
import fs from 'node:fs'
import path from 'node:path'
import { BENCH_DIR } from './util.mjs'

export const TREES_DIR = path.join(BENCH_DIR, '.trees')
/** Bump when the shape below changes: old trees are then ignored (and may be deleted by hand). */
const GENERATOR_VERSION = 1

/**
 * Tree shapes. `src` is a project tree: 10 top folders × 10 folders × L leaf folders of 20
 * files each (plus a few files at the top levels), the shape of a large monorepo's sources.
 * `nodeModules` packages each hold 10 folders × 10 files, the typical fan-out of an installed
 * dependency. Every tree also has an empty `_burst` folder where the burst scenario writes.
 */
export const TREE_SPECS = {
  '10k': { srcFiles: 10_000, nodeModulesFiles: 0 },
  '100k': { srcFiles: 100_000, nodeModulesFiles: 0 },
  // 1M files in all: the 100k project plus a node_modules of 900k files in 99k folders.
  '1M': { srcFiles: 100_000, nodeModulesFiles: 900_000 },
}

const FILES_PER_LEAF = 20
const TOP = 10
const MID = 10

function srcLayout(srcFiles) {
  const leaves = Math.max(1, Math.round(srcFiles / FILES_PER_LEAF))
  const perMid = Math.max(1, Math.round(leaves / (TOP * MID)))
  return { perMid }
}

const pad = (n, w) => String(n).padStart(w, '0')

/** Makes the tree (if missing) and returns its description. */
export function ensureTree(name, log = () => {}) {
  const spec = TREE_SPECS[name]
  if (!spec) throw new Error(`unknown tree ${name}; known: ${Object.keys(TREE_SPECS).join(', ')}`)
  const id = `t${name}-v${GENERATOR_VERSION}`
  const root = path.join(TREES_DIR, id)
  const manifestPath = path.join(TREES_DIR, `${id}.json`)
  if (fs.existsSync(manifestPath)) {
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'))
    cleanBurst(manifest)
    return manifest
  }
  fs.rmSync(root, { recursive: true, force: true })
  fs.mkdirSync(root, { recursive: true })
  const t0 = Date.now()
  log(`generating tree ${name} in ${path.relative(process.cwd(), root)} (cached for later runs)`)
  let files = 0
  let dirs = 1 // root
  let ignoredFiles = 0
  let ignoredDirs = 0
  const samples = []

  // Project sources.
  const { perMid } = srcLayout(spec.srcFiles)
  const top = ['package.json', 'README.md', 'tsconfig.json']
  for (const f of top) fs.writeFileSync(path.join(root, f), `{"name": "${f}"}\n`)
  files += top.length
  let made = top.length
  for (let a = 0; a < TOP && made < spec.srcFiles; a++) {
    const da = path.join(root, `pkg${pad(a, 2)}`)
    fs.mkdirSync(da)
    dirs++
    fs.writeFileSync(path.join(da, 'index.ts'), `export * from './src'\n`)
    files++
    made++
    for (let b = 0; b < MID && made < spec.srcFiles; b++) {
      const db = path.join(da, `mod${pad(b, 2)}`)
      fs.mkdirSync(db)
      dirs++
      for (let c = 0; c < perMid && made < spec.srcFiles; c++) {
        const dc = path.join(db, `part${pad(c, 3)}`)
        fs.mkdirSync(dc)
        dirs++
        for (let f = 0; f < FILES_PER_LEAF && made < spec.srcFiles; f++) {
          const file = path.join(dc, `file${pad(f, 2)}.ts`)
          fs.writeFileSync(file, `export const v${f} = ${a * 1000 + b * 100 + c}\n`)
          files++
          made++
          if (f === 7) samples.push(file)
        }
      }
    }
  }
  // Top up to the exact count (rounding of the layout).
  while (made < spec.srcFiles) {
    fs.writeFileSync(path.join(root, `extra${made}.ts`), 'x\n')
    files++
    made++
  }

  // node_modules: 9000 packages × 10 folders × 10 files (empty files: their content never matters).
  if (spec.nodeModulesFiles > 0) {
    const nm = path.join(root, 'node_modules')
    fs.mkdirSync(nm)
    ignoredDirs++
    const perPkg = 100
    const packages = Math.ceil(spec.nodeModulesFiles / perPkg)
    let left = spec.nodeModulesFiles
    for (let p = 0; p < packages && left > 0; p++) {
      const dp = path.join(nm, `dep-${pad(p, 4)}`)
      fs.mkdirSync(dp)
      ignoredDirs++
      for (let d = 0; d < 10 && left > 0; d++) {
        const dd = path.join(dp, d === 0 ? 'lib' : d === 1 ? 'dist' : `sub${d}`)
        fs.mkdirSync(dd)
        ignoredDirs++
        for (let f = 0; f < 10 && left > 0; f++) {
          fs.closeSync(fs.openSync(path.join(dd, `f${f}.js`), 'w'))
          ignoredFiles++
          left--
        }
      }
      if (p % 1000 === 999) log(`  node_modules: ${p + 1}/${packages} packages`)
    }
  }

  fs.mkdirSync(path.join(root, '_burst'))
  dirs++
  const manifest = {
    name,
    id,
    root,
    files: files + ignoredFiles,
    dirs: dirs + ignoredDirs,
    watchedDirs: dirs, // folders outside node_modules, root and _burst included
    ignoredFiles,
    ignoredDirs,
    // Files the latency scenario writes to: 40 spread evenly over the tree.
    samples: Array.from({ length: Math.min(40, samples.length) }, (_, i) => samples[Math.floor((i * samples.length) / Math.min(40, samples.length))]),
    burstDir: path.join(root, '_burst'),
    generatorVersion: GENERATOR_VERSION,
    madeInSeconds: Math.round((Date.now() - t0) / 100) / 10,
  }
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2))
  log(`  ${manifest.files} files, ${manifest.dirs} folders in ${manifest.madeInSeconds}s`)
  return manifest
}

/** Empties the burst folder (a run that crashed may have left files there). */
export function cleanBurst(manifest) {
  if (!fs.existsSync(manifest.burstDir)) {
    fs.mkdirSync(manifest.burstDir)
    return
  }
  for (const entry of fs.readdirSync(manifest.burstDir)) {
    fs.rmSync(path.join(manifest.burstDir, entry), { recursive: true, force: true })
  }
}
