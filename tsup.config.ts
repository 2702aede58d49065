import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/bin.ts',
    listen: 'src/reloader/listen.ts',
    prewarm: 'src/reloader/prewarm.ts',
    chokidar: 'src/chokidar.ts',
    vite: 'src/vite.ts',
    webpack: 'src/webpack.ts',
  },
  format: ['esm', 'cjs'],
  dts: {
    entry: {
      index: 'src/index.ts',
      listen: 'src/reloader/listen.ts',
      chokidar: 'src/chokidar.ts',
      vite: 'src/vite.ts',
      webpack: 'src/webpack.ts',
    },
  },
  target: 'node20',
  platform: 'node',
  shims: true,
  clean: true,
  sourcemap: false,
  // Whitespace only: names stay, so stack traces still read, and CommonJS keeps the annotation
  // through which Node.js finds its named exports. Keeps the tarball small.
  minifyWhitespace: true,
  // Entry points share their modules through chunks instead of each bundling the library.
  splitting: true,
})
