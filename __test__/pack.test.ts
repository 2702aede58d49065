// The package as a user meets it: `npm pack` of the root package and of this platform's binary
// package, both installed from their tarballs into a fresh project under the OS temp folder (so it
// cannot see this repository's node_modules), then used there: an ESM import that sees a real
// change on Node 20, 22 and 24, a CommonJS require, the types under `node16` and `bundler`
// resolution, the CLI through npx, and the error a user gets without the platform package.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { publint } from 'publint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMusl, platformSuffix } from '../src/platform.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const rootPkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string }
const suffix = platformSuffix(process.platform, process.arch, isMusl())
const platformPkg = `${rootPkg.name}-${suffix}`
const binaryName = `${rootPkg.name}.${suffix}.node`
const isWindows = process.platform === 'win32'

/** Node majors the ESM check runs on (`WATCHFILES_TEST_NODES=22` narrows it, as the release CI does). */
const NODE_MAJORS = (process.env.WATCHFILES_TEST_NODES ?? '20,22,24').split(',').map((v) => Number(v.trim()))
/** Downloaded Node binaries, one folder per major, kept between runs (outside the repository). */
const NODE_CACHE =
  process.env.WATCHFILES_NODE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'watchfiles-node-test', 'node')

const ROOT_TARBALL_BUDGET = 100_000 // bytes, the packed root package
const BINARY_BUDGET = 2_000_000 // bytes, the linux-x64 (or this platform's) binary

/**
 * The environment of a user's shell: without what `npm test` adds for its scripts (such as
 * npm_config_local_prefix pointing at this repository, or this repository's allowScripts), but
 * with the settings that say how to reach the registry.
 */
const KEEP_NPM_CONFIG = new Set(['registry', 'cafile', 'cache', 'userconfig', 'globalconfig', 'strict_ssl', 'proxy', 'https_proxy', 'noproxy'])
const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => {
    const name = key.toLowerCase()
    return !name.startsWith('npm_') || KEEP_NPM_CONFIG.has(name.replace(/^npm_config_/, ''))
  }),
)
// npm puts each node_modules/.bin above the script's folder on PATH: a user's shell has none.
const PATH_KEY = Object.keys(userEnv).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH' // `Path` on Windows
userEnv[PATH_KEY] = (userEnv[PATH_KEY] ?? '')
  .split(path.delimiter)
  .filter((dir) => !/node_modules[\\/]\.bin$|node-gyp-bin$/.test(dir))
  .join(path.delimiter)

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to completion (or kills it at the deadline) and collects its output. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Result> {
  const timeoutMs = options.timeoutMs ?? 120_000
  return new Promise((resolve, reject) => {
    // npm and npx are .cmd shims on Windows, which only a shell runs.
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? userEnv, shell: isWindows, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Like `run`, but a non-zero exit is an error that shows the output. */
async function ok(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(command, args, options)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result.stdout
}

interface Packed {
  tarball: string
  size: number
  files: Record<string, number>
}

async function pack(dir: string, destination: string): Promise<Packed> {
  const out = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: dir })
  const [info] = JSON.parse(out) as Array<{ filename: string; size: number; files: Array<{ path: string; size: number }> }>
  return {
    tarball: path.join(destination, info!.filename),
    size: info!.size,
    files: Object.fromEntries(info!.files.map((f) => [f.path, f.size])),
  }
}

/** A Node binary of this major: this process's own, or one installed from the npm registry (cached). */
async function nodeBinary(major: number): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath
  const dir = path.join(NODE_CACHE, String(major))
  const binary = isWindows ? path.join(dir, 'node_modules', 'node', 'bin', 'node.exe') : path.join(dir, 'node_modules', '.bin', 'node')
  const version = async () => (await run(binary, ['--version'], { cwd: dir, timeoutMs: 30_000 }).catch(() => null))?.stdout.trim()
  if (fs.existsSync(binary) && (await version())?.startsWith(`v${major}.`)) return binary
  // Install next to the cache entry and move it in place, so an interrupted run leaves no half entry.
  fs.mkdirSync(NODE_CACHE, { recursive: true })
  const staging = fs.mkdtempSync(path.join(NODE_CACHE, `${major}.tmp-`))
  // The `node` package's preinstall script installs the binary package of this platform.
  fs.writeFileSync(path.join(staging, 'package.json'), JSON.stringify({ name: `node-${major}`, private: true, allowScripts: { node: true } }))
  await ok('npm', ['install', '--no-audit', '--no-fund', `node@${major}`], { cwd: staging, timeoutMs: 300_000 })
  fs.rmSync(dir, { recursive: true, force: true })
  fs.renameSync(staging, dir)
  const got = await version()
  if (!got?.startsWith(`v${major}.`)) throw new Error(`node@${major} from the registry runs as ${got}`)
  return binary
}

/** The registry's answer to `npm ping`, or why it is unreachable. */
async function registryUnreachable(): Promise<string | undefined> {
  const result = await run('npm', ['ping'], { cwd: os.tmpdir(), timeoutMs: 60_000 }).catch((error: Error) => ({ code: 1, stdout: '', stderr: error.message }))
  return result.code === 0 ? undefined : `the npm registry is unreachable (npm ping: ${result.stderr.trim().split('\n').pop()})`
}

let work = ''
let root: Packed
let platform: Packed
let app = ''
let offline: string | undefined

beforeAll(async () => {
  for (const built of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js', 'native/index.cjs', `native/${binaryName}`]) {
    if (!fs.existsSync(path.join(repo, built))) throw new Error(`${built} is missing: build first (npm install, or npm run build)`)
  }
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'wfn-pack-')))
  const tarballs = path.join(work, 'tarballs')
  fs.mkdirSync(tarballs)
  // The platform package as the release assembles it: npm/<platform>/ plus the built binary, here in a
  // copy so no build product lands in the repository.
  const platformDir = path.join(work, suffix)
  fs.cpSync(path.join(repo, 'npm', suffix), platformDir, { recursive: true })
  fs.copyFileSync(path.join(repo, 'native', binaryName), path.join(platformDir, binaryName))
  ;[root, platform, offline] = await Promise.all([pack(repo, tarballs), pack(platformDir, tarballs), registryUnreachable()])
  if (offline) return

  app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  // A `cargo` that records being called: installing must not build anything.
  const shims = path.join(work, 'shims')
  fs.mkdirSync(shims)
  for (const tool of ['cargo', 'rustc', 'napi']) {
    fs.writeFileSync(path.join(shims, tool), `#!/bin/sh\necho "$0 $*" >> "${path.join(work, 'build-attempts.log')}"\nexit 1\n`, { mode: 0o755 })
  }
  const env = { ...userEnv, [PATH_KEY]: `${shims}${path.delimiter}${userEnv[PATH_KEY]}` }
  const devTypes = ['typescript', '@types/node'].map(
    (name) => `${name}@${(JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`,
  )
  await ok('npm', ['install', '--no-audit', '--no-fund', root.tarball, platform.tarball, ...devTypes], { cwd: app, env, timeoutMs: 300_000 })
}, 600_000)

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe('the packed tarballs', () => {
  it(`the root package holds exactly the built files and stays under ${ROOT_TARBALL_BUDGET / 1000} kB`, () => {
    const files = Object.keys(root.files).sort()
    // Every entry point with its CJS build and both type files; the modules and types they share
    // sit in chunks named by a hash.
    const entries = ['index', 'listen', 'chokidar', 'vite', 'webpack']
    const expected = [
      'README.md',
      'package.json',
      'dist/cli.js',
      'dist/prewarm.cjs',
      'native/index.cjs',
      ...entries.flatMap((e) => [`dist/${e}.js`, `dist/${e}.cjs`, `dist/${e}.d.ts`, `dist/${e}.d.cts`]),
      ...['listen', 'chokidar', 'vite', 'webpack'].map((e) => `${e}/package.json`),
      ...['index.cjs', 'index.js', 'index.d.ts', 'index.d.cts', 'package.json'].map((f) => `chokidar-shim/${f}`),
    ]
    const chunk = /^dist\/(chunk-[A-Z0-9]{8}\.c?js|[\w-]+-[\w-]{8}\.d\.c?ts)$/
    expect(files.filter((f) => !chunk.test(f)).sort()).toEqual(expected.sort())
    expect(files.filter((f) => chunk.test(f)).length).toBeGreaterThan(0)
    expect(root.size).toBeLessThan(ROOT_TARBALL_BUDGET)
  })

  it(`the ${platformPkg} package holds the binary, stripped and under ${BINARY_BUDGET / 1e6} MB`, () => {
    expect(Object.keys(platform.files).sort()).toEqual(['README.md', binaryName, 'package.json'].sort())
    expect(platform.files[binaryName]).toBeLessThan(BINARY_BUDGET)
    const binary = fs.readFileSync(path.join(repo, 'native', binaryName))
    // An ELF file that keeps its symbol table names a `.symtab` section; a stripped one does not.
    if (binary.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) expect(binary.includes('.symtab')).toBe(false)
  })

  it('publint finds nothing to report, not even a suggestion', async () => {
    const tarball = fs.readFileSync(root.tarball)
    const { messages } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, strict: true })
    expect(messages).toEqual([])
  })

  it('arethetypeswrong finds no problem in any resolution mode', async () => {
    const attw = path.join(repo, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
    const result = await run(process.execPath, [attw, root.tarball, '--format', 'json', '--no-definitely-typed'], { cwd: work })
    const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } }
    expect(report.analysis.problems).toEqual([])
    expect(Object.keys(report.analysis.entrypoints)).toEqual(['.', './listen', './chokidar', './vite', './webpack', './package.json'])
    expect(result.code).toBe(0)
  })
})

describe('installed from the tarballs into a fresh project', () => {
  const skipIfOffline = (ctx: { skip: (note?: string) => void }) => {
    if (offline) ctx.skip(offline)
  }

  it(`npm picks ${platformPkg} through optionalDependencies and builds nothing`, (ctx) => {
    skipIfOffline(ctx)
    const installed = path.join(app, 'node_modules', rootPkg.name)
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>
      optionalDependencies?: Record<string, string>
    }
    expect(manifest.optionalDependencies?.[platformPkg]).toBe(rootPkg.version)
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(manifest.scripts?.[hook]).toBeUndefined()
    expect(fs.existsSync(path.join(app, 'node_modules', platformPkg, binaryName))).toBe(true)
    expect(fs.readdirSync(path.join(installed, 'native'))).toEqual(['index.cjs'])
    expect(fs.existsSync(path.join(work, 'build-attempts.log'))).toBe(false)
  })

  it.for(NODE_MAJORS)('an ESM import sees a real file change on Node %i', async (major, ctx) => {
    skipIfOffline(ctx)
    const node = await nodeBinary(major)
    const dir = fs.mkdtempSync(path.join(work, `esm-${major}-`))
    const script = path.join(app, `esm-${major}.mjs`)
    fs.writeFileSync(
      script,
      `import fs from 'node:fs'
import path from 'node:path'
import { watch } from 'watchfiles-node'

const dir = process.argv[2]
const file = path.join(dir, 'hello.txt')
const watcher = watch(dir, { step: 20 })
await watcher.ready
fs.writeFileSync(file, 'hi')
const deadline = setTimeout(() => { console.error('no change within 15 s'); process.exit(2) }, 15_000)
const { value } = await watcher.next()
clearTimeout(deadline)
await watcher.close()
console.log(JSON.stringify({ node: process.version, resolved: import.meta.resolve('watchfiles-node'), backend: watcher.backend, changes: value }))
`,
    )
    const out = await ok(node, [script, dir], { cwd: app, timeoutMs: 60_000 })
    const report = JSON.parse(out) as { node: string; resolved: string; changes: unknown }
    expect(report.node.startsWith(`v${major}.`)).toBe(true)
    expect(fileURLToPath(report.resolved)).toBe(path.join(app, 'node_modules', rootPkg.name, 'dist', 'index.js'))
    expect(report.changes).toEqual([{ type: 'added', path: path.join(dir, 'hello.txt') }])
  })

  it('a CommonJS require works and sees a real file change', async (ctx) => {
    skipIfOffline(ctx)
    const dir = fs.mkdtempSync(path.join(work, 'cjs-'))
    const script = path.join(app, 'cjs.cjs')
    fs.writeFileSync(
      script,
      `const fs = require('node:fs')
const path = require('node:path')
const { subscribe, WatchError } = require('watchfiles-node')

async function main() {
  const dir = process.argv[2]
  const file = path.join(dir, 'hello.cjs.txt')
  let seen
  const got = new Promise((resolve) => (seen = resolve))
  const subscription = await subscribe(dir, seen, { step: 20 })
  fs.writeFileSync(file, 'hi')
  const deadline = setTimeout(() => { console.error('no change within 15 s'); process.exit(2) }, 15_000)
  const changes = await got
  clearTimeout(deadline)
  await subscription.close()
  console.log(JSON.stringify({ resolved: require.resolve('watchfiles-node'), errorClass: typeof WatchError, changes }))
}
main()
`,
    )
    const out = await ok(process.execPath, [script, dir], { cwd: app, timeoutMs: 60_000 })
    const report = JSON.parse(out) as { resolved: string; errorClass: string; changes: unknown }
    expect(report.resolved).toBe(path.join(app, 'node_modules', rootPkg.name, 'dist', 'index.cjs'))
    expect(report.errorClass).toBe('function')
    expect(report.changes).toEqual([{ type: 'added', path: path.join(dir, 'hello.cjs.txt') }])
  })

  it.for([
    ['node16', { module: 'node16', moduleResolution: 'node16' }, ['use-esm.mts', 'use-cjs.cts']],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['use-bundler.ts']],
  ] as const)('tsc --noEmit accepts code using the types with moduleResolution %s', async ([name, options, files], ctx) => {
    skipIfOffline(ctx)
    const body = `
const options: WatchOptions = { step: 20, ignore: ['dist'], filter: new DefaultFilter({ ignoreDirs: ['coverage'] }) }
const onChanges = (changes: FileChange[]): void => {
  for (const change of changes) {
    const type: 'added' | 'modified' | 'deleted' = change.type
    console.log(type, change.path)
  }
}
export async function main(): Promise<void> {
  const subscription: Subscription = await subscribe('.', onChanges, options)
  await subscription.close()
  const watcher: Watcher = watch(['.'], { signal: AbortSignal.timeout(10) })
  for await (const batch of watcher) onChanges(batch)
  // @ts-expect-error: a wrong option type must be rejected, so the types are really checked
  watch('.', { step: 'fast' })
  console.log(new WatchError('ERR_WATCH_NOT_FOUND', 'gone').code)
}
`
    const esmImport = `import { DefaultFilter, subscribe, watch, WatchError, type FileChange, type Subscription, type Watcher, type WatchOptions } from 'watchfiles-node'\n`
    const cjsImport = `import wfn = require('watchfiles-node')\nconst { DefaultFilter, subscribe, watch, WatchError } = wfn\ntype FileChange = wfn.FileChange\ntype Subscription = wfn.Subscription\ntype Watcher = wfn.Watcher\ntype WatchOptions = wfn.WatchOptions\n`
    for (const file of files) fs.writeFileSync(path.join(app, file), (file.endsWith('.cts') ? cjsImport : esmImport) + body)
    const tsconfig = `tsconfig.${name}.json`
    fs.writeFileSync(
      path.join(app, tsconfig),
      JSON.stringify({
        compilerOptions: { ...options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files,
      }),
    )
    const tsc = path.join(app, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', tsconfig], { cwd: app })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('npx watchfiles-node --version prints the version', async (ctx) => {
    skipIfOffline(ctx)
    const out = await ok('npx', ['--no-install', 'watchfiles-node', '--version'], { cwd: app, timeoutMs: 60_000 })
    expect(out).toBe(`${rootPkg.version}\n`)
  })

  it(`installed without optional dependencies, the error names ${platformPkg} and how to fix it`, async (ctx) => {
    skipIfOffline(ctx)
    const bare = path.join(work, 'app-no-optional')
    fs.mkdirSync(bare)
    fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ name: 'app-no-optional', version: '1.0.0', private: true }))
    await ok('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', root.tarball], { cwd: bare, timeoutMs: 300_000 })
    expect(fs.existsSync(path.join(bare, 'node_modules', platformPkg))).toBe(false)
    const script = path.join(bare, 'load.mjs')
    fs.writeFileSync(script, `try { await import('watchfiles-node'); console.log('loaded') } catch (error) { console.log(error.message) }\n`)
    const out = await ok(process.execPath, [script], { cwd: bare, timeoutMs: 60_000 })
    const lines = out.trim().split('\n')
    expect(lines[0]).toBe(`watchfiles-node: the native binary is missing: the optional dependency ${platformPkg} is not installed.`)
    expect(lines[2]).toContain('without `--no-optional` / `--omit=optional`')
    expect(lines[3]).toContain('build it from source with a Rust toolchain')
  })
})
