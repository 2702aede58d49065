import { describe, expect, it } from 'vitest'
import { globToRegExp, isGlob, nativeIgnoreFor } from '../src/glob.js'

const matches = (glob: string, path: string): boolean => globToRegExp(glob).test(path)

describe('globs of the integrations', () => {
  it('matches whole paths: * and ? within a segment, ** across, dotfiles included', () => {
    expect(matches('**/node_modules/**', '/p/node_modules')).toBe(true)
    expect(matches('**/node_modules/**', '/p/node_modules/x/y.js')).toBe(true)
    expect(matches('**/node_modules/**', '/p/node_modulesx/y.js')).toBe(false)
    expect(matches('**/node_modules/**', '/p/src/a.js')).toBe(false)
    expect(matches('**/*.log', '/p/a.log')).toBe(true)
    expect(matches('**/*.log', '/p/x/.hidden.log')).toBe(true)
    expect(matches('**/*.log', '/p/a.log/inside')).toBe(false)
    expect(matches('/abs/dir/**', '/abs/dir')).toBe(true)
    expect(matches('/abs/dir/**', '/abs/dir/a/b')).toBe(true)
    expect(matches('/abs/dir/**', '/abs/directory')).toBe(false)
    expect(matches('src/*.{js,ts}', 'src/a.js')).toBe(true)
    expect(matches('src/*.{js,ts}', 'src/b.ts')).toBe(true)
    expect(matches('src/*.{js,ts}', 'src/sub/a.js')).toBe(false)
    expect(matches('src/[ab].txt', 'src/b.txt')).toBe(true)
    expect(matches('src/[!ab].txt', 'src/b.txt')).toBe(false)
    expect(matches('?.md', 'a.md')).toBe(true)
    expect(matches('?.md', 'ab.md')).toBe(false)
    expect(matches('a+b(c).txt', 'a+b(c).txt')).toBe(true)
    expect(isGlob('plain/path.txt')).toBe(false)
    expect(isGlob('**/x')).toBe(true)
  })

  it('hands the core only the globs it prunes alike', () => {
    expect(nativeIgnoreFor('**/node_modules/**')).toBe('node_modules')
    expect(nativeIgnoreFor('**/.git')).toBe('.git')
    expect(nativeIgnoreFor('**/*.log')).toBe('*.log')
    expect(nativeIgnoreFor('/abs/cache/**')).toBe('/abs/cache')
    expect(nativeIgnoreFor('/abs/*.tmp')).toBeUndefined()
    expect(nativeIgnoreFor('src/**')).toBeUndefined()
    expect(nativeIgnoreFor('**/a/b/**')).toBeUndefined()
    expect(nativeIgnoreFor('**/{a,b}')).toBeUndefined()
  })
})
