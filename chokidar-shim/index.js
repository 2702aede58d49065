// chokidar's import entry, answered by watchfiles-node (see "Integrations" in its README).
export * from '../dist/chokidar.js'
export { default } from '../dist/chokidar.js'
