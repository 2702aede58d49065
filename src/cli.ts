// watchfiles-node [options] <command> [paths...]: runs a command and restarts it on changes.
// Parsing and running; `bin.ts` is the executable entry.
import { readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { FileChange } from './changes.js'
import { WatchError } from './errors.js'
import { SourceFilter } from './filters.js'
import { Reloader, type ReloaderOptions } from './reloader/reloader.js'
import { NodeWorker } from './reloader/node-worker.js'
import { ProcessWorker } from './reloader/process-worker.js'
import { splitCommand } from './reloader/command.js'

const HELP = `Usage: watchfiles-node [options] <command> [paths...]

Runs <command> and restarts it (and every process it started) when a file under
[paths] changes. Paths default to the current directory. Type "rs" and Enter to
restart by hand; Ctrl+C stops everything and exits.

Options:
  --filter <name|glob>        which changes count: default (ignore .git, node_modules,
                              editor temp files...), all, source (JS/TS/JSON sources),
                              or a glob such as "src/**/*.ts"          [default]
  --ignore-paths <a,b>        paths or globs to ignore, comma-separated
  --ext <ts,js>               only files with these extensions
  --no-gitignore              do not honour .gitignore, .ignore and git's excludes
                              (honoured by default)
  --non-recursive             watch only the direct entries of each path
  --debounce <duration>       longest time a batch of changes may grow  [1600ms]
  --step <duration>           quiet time that ends a batch              [50ms]
  --stop-signal <signal>      signal that stops the command's process group [SIGTERM]
  --stop-timeout <duration>   time before escalating to SIGKILL         [5s]
  --sigint-timeout <seconds>  the same, in seconds (as watchfiles)
  --sigkill-timeout <seconds> time to wait after SIGKILL before failing [5]
  --grace-period <seconds>    ignore changes for this long after start  [0]
  --shell                     run <command> through /bin/sh -c
  --ready-pattern <regex>     the command is ready when its output matches
  --ready-port <port>         the command is ready when the port accepts connections
  --listen <port>             open the port once and hand the socket to every run of
                              the command as fd 3 (LISTEN_FDS=1): no refused
                              connections while it restarts
  --restart-on-crash          restart a command that exits with an error (backoff)
  --force-polling             poll instead of using OS file events
  --poll-interval <duration>  time between polls                        [300ms]
  --ignore-permission-denied  skip unreadable folders
  --verbose                   same as --verbosity debug
  --verbosity <level>         warning, info or debug                    [info]
  -V, --version               print the version
  -h, --help                  print this help

Durations take a unit (300ms, 5s, 1m); a bare number means milliseconds, except
for --sigint-timeout, --sigkill-timeout and --grace-period, which take seconds.`

class UsageError extends Error {}

function version(): string {
  const file = fileURLToPath(new URL('../package.json', import.meta.url))
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

/** `300ms`, `5s`, `1.5m`, or a bare number in `bareUnit`. */
export function parseDuration(option: string, text: string, bareUnit: 'ms' | 's'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!match) throw new UsageError(`--${option} takes a duration such as 300ms or 5s, got "${text}"`)
  const unit = match[2] ?? bareUnit
  return Math.round(Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000))
}

function parsePort(option: string, text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--${option} takes a port number, got "${text}"`)
  return port
}

const VERBOSITY = ['warning', 'info', 'debug'] as const
type Verbosity = (typeof VERBOSITY)[number]

interface Cli {
  command: string
  reloader: ReloaderOptions
  worker: ConstructorParameters<typeof ProcessWorker>[0]
  verbosity: Verbosity
}

export function parseCli(argv: string[]): Cli | 'help' | 'version' {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        filter: { type: 'string' },
        'ignore-paths': { type: 'string' },
        ext: { type: 'string' },
        'no-gitignore': { type: 'boolean' },
        'non-recursive': { type: 'boolean' },
        debounce: { type: 'string' },
        step: { type: 'string' },
        'stop-signal': { type: 'string' },
        'stop-timeout': { type: 'string' },
        'sigint-timeout': { type: 'string' },
        'sigkill-timeout': { type: 'string' },
        'grace-period': { type: 'string' },
        shell: { type: 'boolean' },
        'ready-pattern': { type: 'string' },
        'ready-port': { type: 'string' },
        listen: { type: 'string' },
        'restart-on-crash': { type: 'boolean' },
        'force-polling': { type: 'boolean' },
        'poll-interval': { type: 'string' },
        'ignore-permission-denied': { type: 'boolean' },
        verbose: { type: 'boolean' },
        verbosity: { type: 'string' },
        version: { type: 'boolean', short: 'V' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values: v, positionals } = parsed
  if (v.help) return 'help'
  if (v.version) return 'version'
  const [command, ...paths] = positionals
  if (command === undefined || command.trim() === '') throw new UsageError('missing <command>')

  const reloader: ReloaderOptions = {
    paths: paths.length > 0 ? paths : ['.'],
    handleSignals: false,
    gitignore: !v['no-gitignore'],
  }
  const filter = v.filter ?? 'default'
  if (filter === 'all') reloader.defaultIgnore = false
  else if (filter === 'source') reloader.filter = new SourceFilter()
  else if (filter !== 'default') reloader.include = [filter]
  if (v['ignore-paths']) {
    reloader.ignore = v['ignore-paths']
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => (/[*?[{]/.test(p) || !p.includes('/') ? p : path.resolve(p)))
  }
  if (v.ext) {
    reloader.extensions = v.ext
      .split(',')
      .map((e) => e.trim().replace(/^\./, ''))
      .filter(Boolean)
    if (reloader.extensions.length === 0) throw new UsageError(`--ext takes extensions such as ts,js, got "${v.ext}"`)
  }
  if (v['non-recursive']) reloader.recursive = false
  if (v.debounce) reloader.debounce = parseDuration('debounce', v.debounce, 'ms')
  if (v.step) reloader.step = parseDuration('step', v.step, 'ms')
  if (v['grace-period']) reloader.gracePeriod = parseDuration('grace-period', v['grace-period'], 's')
  if (v['force-polling']) reloader.forcePolling = true
  if (v['poll-interval']) reloader.pollInterval = parseDuration('poll-interval', v['poll-interval'], 'ms')
  if (v['ignore-permission-denied']) reloader.ignorePermissionDenied = true
  if (v['restart-on-crash']) reloader.restartOnCrash = true
  if (v.listen) reloader.listen = parsePort('listen', v.listen)

  const worker: Cli['worker'] = { command, shell: v.shell ?? false }
  if (v['stop-signal']) {
    const signal = v['stop-signal'].toUpperCase()
    const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as NodeJS.Signals
    if (!(name in osConstants.signals)) throw new UsageError(`--stop-signal: unknown signal "${v['stop-signal']}"`)
    worker.stopSignal = name
  }
  if (v['stop-timeout']) worker.stopTimeout = parseDuration('stop-timeout', v['stop-timeout'], 'ms')
  if (v['sigint-timeout']) worker.stopTimeout = parseDuration('sigint-timeout', v['sigint-timeout'], 's')
  if (v['sigkill-timeout']) worker.killTimeout = parseDuration('sigkill-timeout', v['sigkill-timeout'], 's')
  if (v['ready-pattern']) {
    try {
      worker.readyPattern = new RegExp(v['ready-pattern'])
    } catch (error) {
      throw new UsageError(`--ready-pattern: ${(error as Error).message}`)
    }
  }
  if (v['ready-port']) worker.readyPort = parsePort('ready-port', v['ready-port'])
  const verbosity = v.verbose ? 'debug' : (v.verbosity ?? 'info')
  if (!(VERBOSITY as readonly string[]).includes(verbosity)) {
    throw new UsageError(`--verbosity must be one of ${VERBOSITY.join(', ')}, got "${verbosity}"`)
  }
  return { command, reloader, worker, verbosity: verbosity as Verbosity }
}

/**
 * A `node script ...` command runs as a NodeWorker (with the Node.js running this CLI): its next
 * process is started ahead of time, so a restart skips Node.js's start-up. Anything else runs as
 * given.
 */
export function workerFor(options: Cli['worker']): ProcessWorker {
  if (!options.shell && typeof options.command === 'string') {
    const words = splitCommand(options.command)
    const program = words[0] ?? ''
    const isNode = program === 'node' || program === process.execPath
    const scriptAt = words.findIndex((word, i) => i > 0 && !word.startsWith('-'))
    // Options that take a value as the next word would hide the script: leave those alone.
    const plainOptions = words.slice(1, scriptAt).every((word) => word.includes('=') || ['--inspect', '--enable-source-maps', '--trace-warnings', '--no-warnings', '--expose-gc'].includes(word))
    if (isNode && scriptAt > 0 && plainOptions) {
      const { command: _command, shell: _shell, ...rest } = options
      return new NodeWorker({
        ...rest,
        script: words[scriptAt]!,
        args: words.slice(scriptAt + 1),
        execArgv: words.slice(1, scriptAt),
        waitForReadyMessage: false,
      })
    }
  }
  return new ProcessWorker(options)
}

function shown(p: string): string {
  const relative = path.relative(process.cwd(), p)
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? p : relative
}

function describeChanges(changes: FileChange[]): string {
  const first = changes.slice(0, 3).map((c) => shown(c.path))
  return changes.length > 3 ? `${first.join(', ')} (+${changes.length - 3} more)` : first.join(', ')
}

/** Runs the CLI; resolves to an exit code, or -1 while it keeps running (until a signal). */
export async function main(argv: string[]): Promise<number> {
  let cli
  try {
    cli = parseCli(argv)
  } catch (error) {
    if (error instanceof UsageError || error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
      console.error(`watchfiles-node: ${error.message}\nRun "watchfiles-node --help" for usage.`)
      return 1
    }
    throw error
  }
  if (cli === 'help') {
    console.log(HELP)
    return 0
  }
  if (cli === 'version') {
    console.log(version())
    return 0
  }
  const { verbosity } = cli
  const log = (level: Verbosity, message: string): void => {
    if (VERBOSITY.indexOf(level) <= VERBOSITY.indexOf(verbosity)) console.error(`[watchfiles-node] ${message}`)
  }

  let reloader: Reloader
  try {
    reloader = new Reloader(cli.reloader)
    reloader.add(workerFor(cli.worker))
  } catch (error) {
    console.error(`watchfiles-node: ${(error as Error).message}`)
    return 1
  }
  reloader.on('error', (error) => log('warning', `error: ${error.message}`))
  reloader.on('restart', ({ changes }) => {
    if (changes.length > 0) log('debug', `changes: ${changes.map((c) => `${c.type} ${shown(c.path)}`).join(', ')}`)
  })
  reloader.on('ready', ({ changes, ms }) => {
    if (changes.length > 0) log('info', `${describeChanges(changes)} changed: restarted, ready in ${Math.round(ms)} ms`)
    else log('debug', `started, ready in ${Math.round(ms)} ms`)
  })
  reloader.on('exit', ({ code, signal, error }) => {
    const how = error ? `failed: ${error.message}` : signal ? `was killed by ${signal}` : `exited with code ${code}`
    log(code === 0 && !error ? 'info' : 'warning', `command ${how}; ${cli.reloader.restartOnCrash && (code !== 0 || error) ? 'restarting it' : 'waiting for changes'}`)
  })
  process.on('warning', (warning) => log('warning', warning.message))

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await reloader.close()
    process.exit(0)
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop())

  try {
    await reloader.start()
  } catch (error) {
    const message = error instanceof WatchError ? error.message : String((error as Error).message ?? error)
    console.error(`watchfiles-node: ${message}`)
    return 1
  }
  log('info', `Watching for file changes with ${reloader.backend} in ${reloader.paths.map(shown).join(', ')}`)
  if (reloader.listenPort !== undefined) log('info', `Listening on port ${reloader.listenPort} (handed to the command as fd 3)`)

  if (process.stdin.readable) {
    const lines = createInterface({ input: process.stdin })
    lines.on('line', (line) => {
      if (line.trim() === 'rs') {
        log('info', 'restarting (rs)')
        void reloader.restart().catch((error) => log('warning', String(error)))
      }
    })
    lines.on('close', () => {}) // stdin closed: keep running until a signal
  }
  return -1 // keep running
}
