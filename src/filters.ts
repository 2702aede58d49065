import path from 'node:path'
import { native } from './native.js'

export interface DefaultFilterOptions {
  /** Folder (or file) names ignored at any depth. Default: the core's list (`.git`,
   *  `node_modules`, `__pycache__`, ...). */
  ignoreDirs?: readonly string[]
  /** Globs over an entry's name (`*.swp`, `.#*`). Default: the core's editor and OS noise list. */
  ignoreEntityPatterns?: readonly string[]
  /** Paths ignored with everything below them (relative ones are taken from the current
   *  directory). */
  ignorePaths?: readonly string[]
}

/**
 * Ignores what is commonly noise: VCS and dependency folders, caches, editor swap and temp files.
 * A filter is a description, not a function: the rules are handed to the Rust core, which never
 * walks or watches an ignored folder.
 */
export class DefaultFilter {
  static readonly defaultIgnoreDirs: readonly string[] = Object.freeze(native.defaultIgnore().dirs)
  static readonly defaultIgnoreEntityPatterns: readonly string[] = Object.freeze(native.defaultIgnore().names)

  readonly ignoreDirs: readonly string[]
  readonly ignoreEntityPatterns: readonly string[]
  readonly ignorePaths: readonly string[]

  constructor(options: DefaultFilterOptions = {}) {
    this.ignoreDirs = [...(options.ignoreDirs ?? DefaultFilter.defaultIgnoreDirs)]
    this.ignoreEntityPatterns = [...(options.ignoreEntityPatterns ?? DefaultFilter.defaultIgnoreEntityPatterns)]
    this.ignorePaths = (options.ignorePaths ?? []).map((p) => path.resolve(p))
  }

  /** The core's options that implement this filter. */
  toNative(): { defaultIgnore: false; ignore: string[]; extensions?: string[] } {
    return { defaultIgnore: false, ignore: [...this.ignoreDirs, ...this.ignoreEntityPatterns, ...this.ignorePaths] }
  }
}

export interface SourceFilterOptions {
  /** Extensions kept, without the dot. Default: JavaScript, TypeScript and JSON sources. */
  extensions?: readonly string[]
  /** Extensions kept in addition to the default ones. */
  extraExtensions?: readonly string[]
  ignorePaths?: readonly string[]
}

/**
 * Reports only source files (`.js .mjs .cjs .jsx .ts .mts .cts .tsx .json` by default), on top of
 * `DefaultFilter`'s ignores: the counterpart of watchfiles' `PythonFilter`.
 */
export class SourceFilter extends DefaultFilter {
  static readonly defaultExtensions: readonly string[] = Object.freeze([
    'js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'json',
  ])

  readonly extensions: readonly string[]

  constructor(options: SourceFilterOptions = {}) {
    super(options.ignorePaths ? { ignorePaths: options.ignorePaths } : {})
    this.extensions = [...(options.extensions ?? SourceFilter.defaultExtensions), ...(options.extraExtensions ?? [])]
  }

  override toNative(): { defaultIgnore: false; ignore: string[]; extensions: string[] } {
    return { ...super.toNative(), extensions: [...this.extensions] }
  }
}
