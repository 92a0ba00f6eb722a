/**
 * useBackend('wasm', { threads }) under Node: tfjs' threaded SIMD build with XNNPACK on a pool of
 * worker threads (packages/core/src/nodeWasmThreads.ts). The thread count is fixed per process,
 * so each case runs test/fixtures/wasm-threads-child.mjs in its own Node process, on the built
 * packages (`npm run build` first; .ci/run does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useBackend, ValueError } from '@mmc/core';

const child = fileURLToPath(new URL('./fixtures/wasm-threads-child.mjs', import.meta.url));
const built = ['core', 'data', 'models', 'recipes'].every((p) => existsSync(fileURLToPath(new URL(`../../${p}/dist/index.js`, import.meta.url))));

interface ChildResult {
  threads: number;
  product: string;
  maxError: number;
  losses: number[];
  refused: string;
}

function run(threads: number): ChildResult {
  const r = spawnSync(process.execPath, [child, String(threads)], { encoding: 'utf8', timeout: 120_000 });
  // A pool thread that kept the event loop alive would end here as a timeout (signal SIGTERM).
  expect(r.signal, `child with ${threads} thread(s) did not exit by itself`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as ChildResult;
}

describe('useBackend wasm threads', () => {
  it('needs the built packages', () => {
    expect(built, 'run `npm run build` before the tests').toBe(true);
  });

  it('runs XNNPACK on 2 threads with results bit-identical to 1 thread, and the process exits', () => {
    const one = run(1);
    const two = run(2);
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    // 300×200 · 200×500 product against a float64 loop: entries are ~N(0, 200), float32 rounding ~1e-5.
    expect(two.maxError).toBeLessThan(1e-3);
    expect(two.product).toBe(one.product);
    expect(two.losses).toHaveLength(2);
    expect(two.losses).toEqual(one.losses);
    // The count is fixed at the first initialisation: a later, different request is refused.
    expect(two.refused).toMatch(/^BackendError: useBackend: options\.threads is 3 but the wasm backend already runs with 2 thread/);
  }, 300_000);

  it('rejects thread counts outside 1..8 with a ValueError naming options.threads', async () => {
    for (const bad of [0, 9, 1.5, Number.NaN]) {
      await expect(useBackend('wasm', { threads: bad })).rejects.toThrow(ValueError);
      await expect(useBackend('wasm', { threads: bad })).rejects.toThrow(/options\.threads must be an integer in 1\.\.8/);
    }
  });
});
