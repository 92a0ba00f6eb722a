import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const src = (p: string) => here(`../../packages/${p}`);

/**
 * `train` of @mmc/recipes loads its checkpoint module (node:fs, node:crypto) only when asked to
 * write checkpoints, which a page never does; the bundle gets a stand-in that says so.
 */
const nodeOnlyCheckpoints: Plugin = {
  name: 'mmc-node-only-checkpoints',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './checkpoint.js' && importer?.replaceAll('\\', '/').endsWith('/packages/recipes/src/train.ts')) return '\0mmc-checkpoint';
    return null;
  },
  load(id) {
    if (id !== '\0mmc-checkpoint') return null;
    return [
      "const nodeOnly = () => { throw new Error('train: checkpoint/resume write files and need Node.js'); };",
      'export const saveCheckpoint = nodeOnly;',
      'export const restoreCheckpoint = nodeOnly;',
    ].join('\n');
  },
};

// The @mmc packages resolve to their TypeScript sources (as in the repo's vitest config), so the
// page runs without `npm run build`; an app using the published packages needs no alias.
export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [nodeOnlyCheckpoints],
  resolve: { alias: [{ find: /^@mmc\/([a-z]+)$/, replacement: src('$1/src/index.ts') }] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: here('index.html'), parity: here('parity.html') } },
  },
});
