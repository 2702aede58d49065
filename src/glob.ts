// Glob matching for the integrations (chokidar's and webpack's `ignored` accept globs), and the
// translation of the simple ones into the core's native `ignore` rules, which prune in Rust.

const GLOB_CHARS = /[*?[\]{}]/

/** Whether `pattern` uses glob syntax (`*`, `?`, `[...]`, `{a,b}`). */
export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern)
}

function escape(text: string): string {
  return text.replace(/[.+^$()|\\/[\]{}]/g, (c) => `\\${c}`)
}

/** Converts one glob to the source of a regular expression matched against a whole path. */
function convert(glob: string): string {
  let out = ''
  let i = 0
  while (i < glob.length) {
    const c = glob[i]!
    if (c === '\\' && i + 1 < glob.length) {
      out += escape(glob[i + 1]!)
      i += 2
      continue
    }
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/'
        const next = glob[i + 2]
        if (atStart && next === '/') {
          // `**/`: any number of whole folders, none included.
          out += '(?:.*/)?'
          i += 3
          continue
        }
        if (atStart && next === undefined) {
          // A trailing `/**` matches the folder itself and everything below it.
          if (out.endsWith('\\/')) out = `${out.slice(0, -2)}(?:/.*)?`
          else out += '.*'
          i += 2
          continue
        }
        out += '.*'
        i += 2
        continue
      }
      out += '[^/]*'
      i += 1
      continue
    }
    if (c === '?') {
      out += '[^/]'
      i += 1
      continue
    }
    if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end !== -1) {
        let body = glob.slice(i + 1, end)
        let negate = false
        if (body[0] === '!' || body[0] === '^') {
          negate = true
          body = body.slice(1)
        }
        out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`
        i = end + 1
        continue
      }
    }
    if (c === '{') {
      const end = matchingBrace(glob, i)
      if (end !== -1) {
        const options = splitAlternatives(glob.slice(i + 1, end))
        out += `(?:${options.map(convert).join('|')})`
        i = end + 1
        continue
      }
    }
    out += escape(c)
    i += 1
  }
  return out
}

function matchingBrace(glob: string, open: number): number {
  let depth = 0
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '\\') i++
    else if (glob[i] === '{') depth++
    else if (glob[i] === '}' && --depth === 0) return i
  }
  return -1
}

function splitAlternatives(body: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++
    else if (body[i] === '{') depth++
    else if (body[i] === '}') depth--
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i))
      start = i + 1
    }
  }
  parts.push(body.slice(start))
  return parts
}

/**
 * Compiles a glob into a RegExp over whole `/`-separated paths. `*` and `?` stay within one path
 * segment, `**` spans segments, dotfiles are matched like any name, and a trailing `/**` also
 * matches the folder itself (so `**\/node_modules/**` ignores `node_modules` and all below it).
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${convert(glob)}$`)
}

/** A name made only of literal characters and `*`/`?`, which the core's name globs read alike. */
const SIMPLE_NAME = /^[^/\\[\]{}]+$/

/**
 * The native `ignore` rule that prunes exactly what `glob` (matched against absolute paths, with
 * folders below an ignored folder ignored too) ignores, or `undefined` when there is none:
 * - `/abs/dir` and `/abs/dir/**` (literal) → the absolute path, pruned with everything below it;
 * - `**\/name` and `**\/name/**` (`name` literal or with `*`/`?`) → the name at any depth.
 */
export function nativeIgnoreFor(glob: string): string | undefined {
  const body = glob.endsWith('/**') ? glob.slice(0, -3) : glob
  if (body.startsWith('/') && !isGlob(body) && !body.includes('\\') && body.length > 1) return body
  if (body.startsWith('**/')) {
    const name = body.slice(3)
    if (name !== '' && name !== '**' && SIMPLE_NAME.test(name) && !name.includes('**')) return name
  }
  return undefined
}
