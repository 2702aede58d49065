#!/usr/bin/env node
// watchfiles-node CLI (the Reloader issue completes it).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }
  return pkg.version
}

const args = process.argv.slice(2)
if (args.includes('--version') || args.includes('-V')) {
  console.log(version())
} else {
  console.log('usage: watchfiles-node [options] <command> [paths...]')
}
