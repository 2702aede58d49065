/** An error of the watcher, with a stable `code` (`ERR_WATCH_NOT_FOUND`, `ERR_WATCH_LIMIT`, ...). */
export class WatchError extends Error {
  readonly code: string
  /** The path the error concerns, when there is one. */
  readonly path?: string

  constructor(code: string, message: string, path?: string) {
    super(message)
    this.name = 'WatchError'
    this.code = code
    if (path !== undefined) this.path = path
  }
}

/** Builds a `WatchError` from what the binding reports. */
export function toWatchError(info: { code?: string; message?: string; path?: string }): WatchError {
  return new WatchError(info.code ?? 'ERR_WATCH', info.message ?? 'unknown watcher error', info.path)
}
