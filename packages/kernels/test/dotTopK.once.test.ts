import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendError, FUSED_KERNELS, hasBackendKernel } from '@mmc/core';
import { knnSearch } from '@mmc/eval';
import { registerWasmKernels, unregisterWasmKernels, WASM_FUSED_KERNELS } from '@mmc/kernels';
import { MATMUL_RELAXED_WASM_BASE64, MATMUL_WASM_BASE64 } from '../src/matmulWasm';
import { dotTopK } from '../src/dotTopK';
import { engineFromBytes, tiledEngine, type TiledEngine } from '../src/tiledEngine';
import { compileWat } from '../scripts/compileWat.mjs';
import { matmulWat } from '../wasm/matmul.wat.mjs';
import { randn } from '../../../test-setup/numeric';
import { useWasmForThisFile } from './wasmForThisFile';

// A *.once test: it selects the wasm backend itself and registers the kernels only inside this file.
useWasmForThisFile();

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** An engine on one build of the module (the package picks one per engine; both are tested here). */
const engineOf = (base64: string, relaxed: boolean): TiledEngine => engineFromBytes(Uint8Array.from(Buffer.from(base64, 'base64')), relaxed);

// Node 20 validates relaxed SIMD only behind this V8 flag (Node ≥ 22 by default); set in this test
// process so that both builds are tested on every Node the project supports.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const builds: [string, () => TiledEngine][] = [
  ['baseline SIMD', () => engineOf(MATMUL_WASM_BASE64, false)],
  ['relaxed SIMD', () => engineOf(MATMUL_RELAXED_WASM_BASE64, true)],
];

/** Values on a grid of 1/8 in [−1, 1]: every dot product of D ≤ 64 of them is exact in float32, and many tie. */
function coarse(seed: number, n: number): Float32Array {
  return Float32Array.from(randn(seed, n), (v) => Math.max(-8, Math.min(8, Math.round(v * 3))) / 8);
}

/** The reference: all M dot products per query in float64, sorted by value descending, then row ascending. */
function topK64(train: Float32Array, M: number, q: Float32Array, Nq: number, D: number, k: number) {
  const values: number[] = [];
  const indices: number[] = [];
  for (let j = 0; j < Nq; j++) {
    const all: [number, number][] = [];
    for (let r = 0; r < M; r++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += train[r * D + d] * q[j * D + d];
      all.push([s, r]);
    }
    all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [v, r] of all.slice(0, k)) {
      values.push(v);
      indices.push(r);
    }
  }
  return { values, indices };
}

describe('the dot-product top-k wasm module', () => {
  it('src/matmulWasm.ts holds wasm/matmul.wat.mjs (top-k and GEMM) compiled, both builds (run npm run build:wasm -w @mmc/kernels after editing it)', async () => {
    expect(b64(await compileWat(matmulWat({ relaxed: true }), 'matmul.wat'))).toBe(MATMUL_RELAXED_WASM_BASE64);
    expect(b64(await compileWat(matmulWat({ relaxed: false }), 'matmul.wat'))).toBe(MATMUL_WASM_BASE64);
  });

  for (const [name, build] of builds) {
    it(`${name}: equals the float64 sort on exact, heavily tied products (M, Nq, D not multiples of 4, 8, 4; k 1, 7, M)`, () => {
      const e = build();
      for (const [M, Nq, D, k] of [
        [1003, 29, 37, 7],
        [1003, 29, 37, 1],
        [13, 9, 5, 13],
        [1, 1, 1, 1],
        [257, 300, 64, 20], // 38 panels of 8 queries, the last one half padding
      ]) {
        const train = coarse(M * 7 + D, M * D);
        const q = coarse(Nq * 11 + k, Nq * D);
        const got = dotTopK(e, train, M, q, Nq, D, k, 1);
        const want = topK64(train, M, q, Nq, D, k);
        expect(Array.from(got.indices), `M ${M} Nq ${Nq} D ${D} k ${k}`).toEqual(want.indices);
        expect(Array.from(got.values)).toEqual(want.values); // exact: every product is a float32 without rounding
      }
    });

    it(`${name}: several blocks of queries (D 384: 256 per block) on random normal rows match float64 within 1e-5`, () => {
      const e = build();
      const [M, Nq, D, k] = [203, 600, 384, 20];
      const train = Float32Array.from(randn(5, M * D));
      const q = Float32Array.from(randn(6, Nq * D));
      const got = dotTopK(e, train, M, q, Nq, D, k, 1);
      const want = topK64(train, M, q, Nq, D, k);
      // Gaps between neighbouring values (≈ 0.3 here) are far above float32 rounding (≈ 1e-5), so the order is exact.
      expect(Array.from(got.indices)).toEqual(want.indices);
      let err = 0;
      for (let i = 0; i < want.values.length; i++) err = Math.max(err, Math.abs(got.values[i] - want.values[i]) / (1 + Math.abs(want.values[i])));
      expect(err).toBeLessThan(1e-5);
    });
  }

  it('worker threads: 2 and 3 threads give what 1 thread gives, bit for bit, and a later smaller call still works', () => {
    const e = builds[0][1]();
    const [M, Nq, D, k] = [501, 77, 33, 9];
    const train = Float32Array.from(randn(8, M * D));
    const q = Float32Array.from(randn(9, Nq * D));
    const one = dotTopK(e, train, M, q, Nq, D, k, 1);
    for (const threads of [2, 3]) {
      const many = dotTopK(e, train, M, q, Nq, D, k, threads);
      expect(Array.from(many.indices)).toEqual(Array.from(one.indices));
      expect(Array.from(many.values)).toEqual(Array.from(one.values));
    }
    expect(e.workers).toBe(2);
    const small = dotTopK(e, train, 10, q, 3, D, 2, 3);
    expect(Array.from(small.indices)).toEqual(topK64(train, 10, q, 3, D, 2).indices);
  });
});

describe('the MmcDotTopK kernel on the wasm backend', () => {
  it('is registered with the other kernels where the engine has SIMD and shared memory, and removed with them', () => {
    expect(tiledEngine()).not.toBeNull();
    expect(WASM_FUSED_KERNELS).toContain(FUSED_KERNELS.dotTopK);
    registerWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.dotTopK)).toBe(true);
    unregisterWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.dotTopK)).toBe(false);
  });

  it('runs through tf.engine().runKernel without leaking and rejects bad inputs with a BackendError naming them', () => {
    registerWasmKernels();
    try {
      const train = tf.tensor2d(coarse(1, 50 * 6), [50, 6]);
      const queries = tf.tensor2d(coarse(2, 4 * 6), [4, 6]);
      const before = tf.memory().numTensors;
      const [v, i] = tf.engine().runKernel(FUSED_KERNELS.dotTopK, { train, queries }, { k: 3 }) as tf.Tensor[];
      expect(v.shape).toEqual([4, 3]);
      expect(i.dtype).toBe('int32');
      const want = topK64(train.dataSync() as Float32Array, 50, queries.dataSync() as Float32Array, 4, 6, 3);
      expect(Array.from(i.dataSync())).toEqual(want.indices);
      expect(Array.from(v.dataSync())).toEqual(want.values);
      tf.dispose([v, i]);
      expect(tf.memory().numTensors).toBe(before);
      const run = (inputs: Record<string, tf.Tensor>, k: number) => () => tf.engine().runKernel(FUSED_KERNELS.dotTopK, inputs, { k });
      expect(run({ train, queries }, 51)).toThrow(/k must be an integer in \[1, 50\].*got 51/);
      expect(run({ train, queries: tf.zeros([4, 5]) }, 3)).toThrow(/queries must have shape \[Nq, 6\].*got \[4,5\]/);
      expect(run({ train: tf.zeros([50, 6], 'int32'), queries }, 3)).toThrow(BackendError);
      tf.dispose([train, queries]);
    } finally {
      unregisterWasmKernels();
    }
  });

  it("knnSearch through the kernel returns tfjs' own neighbours (random normal features, 3,001 × 48, 333 queries)", () => {
    const train = { data: Float32Array.from(randn(11, 3001 * 48)), shape: [3001, 48] };
    const test = { data: Float32Array.from(randn(12, 333 * 48)), shape: [333, 48] };
    const plain = knnSearch(train, test, { k: 20 });
    registerWasmKernels();
    try {
      const before = tf.memory().numTensors;
      const fused = knnSearch(train, test, { k: 20 });
      const chunked = knnSearch(train, test, { k: 20, chunkSize: 100 });
      expect(tf.memory().numTensors).toBe(before);
      expect(Array.from(fused.indices)).toEqual(Array.from(plain.indices));
      expect(Array.from(chunked.indices)).toEqual(Array.from(plain.indices));
      let err = 0;
      for (let j = 0; j < plain.similarities.length; j++) err = Math.max(err, Math.abs(fused.similarities[j] - plain.similarities[j]));
      expect(err).toBeLessThan(1e-6); // cosines in [−1, 1], float32 sums of 48 products in another order
    } finally {
      unregisterWasmKernels();
    }
  });
});
