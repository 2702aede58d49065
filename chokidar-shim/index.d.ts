export * from '../dist/chokidar.js'
export { default } from '../dist/chokidar.js'
