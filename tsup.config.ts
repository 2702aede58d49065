import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    chokidar: 'src/chokidar.ts',
    vite: 'src/vite.ts',
    webpack: 'src/webpack.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', chokidar: 'src/chokidar.ts', vite: 'src/vite.ts', webpack: 'src/webpack.ts' } },
  target: 'node20',
  platform: 'node',
  shims: true,
  clean: true,
  sourcemap: false,
  splitting: false,
})
