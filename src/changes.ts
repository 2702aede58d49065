/** What happened to a path over a batch, as a net effect. */
export type ChangeType = 'added' | 'modified' | 'deleted'

export interface FileChange {
  type: ChangeType
  /** Absolute path. Where the OS name is not valid UTF-8, invalid bytes read as U+FFFD here and
   *  the exact bytes are in `pathBuffer` (which `fs` functions accept as a path). */
  path: string
  pathBuffer?: Buffer
}

const TYPES: Record<string, ChangeType> = { a: 'added', m: 'modified', d: 'deleted' }

/** Unpacks the binding's one-string batch (see `NativeEvent.changes` in the binding). */
export function unpackChanges(packed: string, rawPaths: Buffer[] | undefined): FileChange[] {
  if (packed === '') return []
  const changes: FileChange[] = []
  let raw = 0
  for (const record of packed.split('\0')) {
    const letter = record[0] ?? ''
    const lower = letter.toLowerCase()
    const change: FileChange = { type: TYPES[lower] ?? 'modified', path: record.slice(1) }
    if (letter !== lower && rawPaths) change.pathBuffer = rawPaths[raw++]
    changes.push(change)
  }
  return changes
}
