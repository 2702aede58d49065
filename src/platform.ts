// Which platform package carries the native binary for this machine, and what to tell a user
// whose install has none. Pure functions: `native.ts` calls them only when loading fails.

/** The platform suffix napi-rs gives binaries and packages: `linux-x64-gnu`, `darwin-arm64`, ... */
export function platformSuffix(platform: string, arch: string, musl: boolean): string {
  switch (platform) {
    case 'linux':
      if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
      return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
    case 'win32':
      return `win32-${arch}-msvc`
    default:
      return `${platform}-${arch}`
  }
}

/** Whether this Linux runs on musl libc (Alpine) rather than glibc. */
export function isMusl(): boolean {
  if (process.platform !== 'linux') return false
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return !report?.header?.glibcVersionRuntime
}

export interface MissingBinding {
  /** Package name, e.g. `watchfiles-node-linux-x64-gnu`. */
  packageName: string
  /** Whether a prebuilt package exists for this platform (it is one of `optionalDependencies`). */
  supported: boolean
  /** Whether that package is present in node_modules (then its binary itself failed to load). */
  installed: boolean
  /** What the loader reported, for the message. */
  reason?: string
}

/** The message of the error thrown when no native binary loads. */
export function missingBindingMessage({ packageName, supported, installed, reason }: MissingBinding): string {
  const fromSource =
    'build it from source with a Rust toolchain (cargo 1.80 or newer): clone the repository, run ' +
    '`npm install` in it (this compiles the binary), and install that folder (`npm install <path>`).'
  if (!supported) {
    return (
      `watchfiles-node: no prebuilt native binary exists for this platform (there is no ${packageName} package).\n` +
      `To use it here, ${fromSource}`
    )
  }
  if (installed) {
    return (
      `watchfiles-node: ${packageName} is installed, but its native binary failed to load` +
      `${reason ? `: ${reason}` : '.'}\n` +
      `To fix it, reinstall it (\`npm install ${packageName}\`), or ${fromSource}`
    )
  }
  return (
    `watchfiles-node: the native binary is missing: the optional dependency ${packageName} is not installed.\n` +
    'To fix it, either\n' +
    '- reinstall with optional dependencies: without `--no-optional` / `--omit=optional` (and without ' +
    '`optional=false` / `omit=optional` in .npmrc). If package-lock.json was made on another platform, ' +
    'delete it and node_modules first (npm/cli#4828);\n' +
    `- or ${fromSource}`
  )
}
