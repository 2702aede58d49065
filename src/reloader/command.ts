/**
 * Splits a command line as a POSIX shell would (as watchfiles does with `shlex.split`): words
 * separated by blanks, single quotes literal, double quotes with `\` escaping `$`, `` ` ``, `"`,
 * `\` and newline, and `\` escaping any character outside quotes. No expansion of any kind.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) throw new SyntaxError(`unterminated single quote in command: ${line}`)
      word += line.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= line.length) throw new SyntaxError(`unterminated double quote in command: ${line}`)
        const d = line[i]!
        if (d === '"') break
        if (d === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== '\n') word += line[i + 1]
          i += 2
        } else {
          word += d
          i++
        }
      }
      inWord = true
      i++
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new SyntaxError(`trailing backslash in command: ${line}`)
      if (line[i + 1] !== '\n') word += line[i + 1]
      inWord = true
      i += 2
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
    } else {
      word += c
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return words
}
