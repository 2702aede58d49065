export * from '../dist/chokidar.cjs'
export { default } from '../dist/chokidar.cjs'
