import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Workspace packages resolve to their sources, so `npm test` needs no build.
const alias = [
  { find: /^@mmc\/([a-z]+)\/node$/, replacement: src('$1/src/node.ts') },
  { find: /^@mmc\/([a-z]+)$/, replacement: src('$1/src/index.ts') },
];

// Every numerical test runs once per backend: the setup file selects MMC_TEST_BACKEND.
const backendProject = (backend: string) => ({
  resolve: { alias },
  test: {
    name: backend,
    include: ['packages/*/test/**/*.test.ts'],
    exclude: ['packages/*/test/**/*.once.test.ts'],
    setupFiles: ['test-setup/backend.ts'],
    env: { MMC_TEST_BACKEND: backend },
    testTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    projects: [
      backendProject('cpu'),
      backendProject('wasm'),
      {
        resolve: { alias },
        // Backend-independent tests (file formats, RNG, packaging) run once.
        test: { name: 'once', include: ['packages/*/test/**/*.once.test.ts', 'examples/*/test/**/*.once.test.ts', 'test/**/*.test.ts'], testTimeout: 300_000 },
      },
      {
        resolve: { alias },
        // The browser example in Debian's Chromium (WebGPU click-to-segment, parity) and WebGPU in Node (Dawn).
        test: { name: 'e2e', include: ['examples/*/test/**/*.e2e.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
      },
    ],
  },
});
