import { beforeAll } from 'vitest';
import { useBackend } from '@mmc/core';

const wanted = process.env.MMC_TEST_BACKEND ?? 'cpu';

beforeAll(async () => {
  const name = await useBackend(wanted as 'cpu' | 'wasm');
  if (name !== wanted) throw new Error(`test setup: asked for backend ${wanted}, got ${name}`);
});
