import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/bin.ts', listen: 'src/reloader/listen.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', listen: 'src/reloader/listen.ts' } },
  target: 'node20',
  platform: 'node',
  shims: true,
  clean: true,
  sourcemap: false,
  splitting: false,
})
