import { defineConfig } from 'tsup';

/** The one build of every @mmc package: ESM + CJS + .d.ts, shared chunks so error classes stay one. */
export function packageBuild(entry: string[] = ['src/index.ts']) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    target: 'es2022',
  });
}
