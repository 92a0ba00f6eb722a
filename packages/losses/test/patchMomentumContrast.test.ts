import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { patchMomentumContrast, type PatchMomentumContrastOptions } from '../src/patchMomentumContrast.js';
import { expectClose, expectNoLeak, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refPatchContrast } from './contrastReference.js';

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const T3 = (a: Float64Array, B: number, N: number, D: number) => tf.tensor3d(Float32Array.from(a), [B, N, D]);
const T2 = (a: Float64Array, B: number, N: number) => tf.tensor2d(Float32Array.from(a), [B, N]);

/** Random 0/1 token mask with at least one 1. */
function randomMask(seed: number, n: number, ratio = 0.5): Float64Array {
  const rng = createRng(seed);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < ratio ? 1 : 0;
  if (!m.some((v) => v === 1)) m[rng.int(n)] = 1;
  return m;
}

const NEGATIVES = ['other-images', 'same-position'] as const;
const SIZES: [number, number, number][] = [
  [1, 1, 2],
  [1, 3, 3],
  [2, 1, 3],
  [2, 3, 2],
  [3, 4, 3],
  [4, 2, 5],
];

/** Runs the loss on float64 host data (rounded to float32) and reads the value. */
function run(s: Float64Array, t: Float64Array, B: number, N: number, D: number, opts: PatchMomentumContrastOptions & { maskData?: Float64Array } = {}) {
  return tf.tidy(() => {
    const { maskData, ...rest } = opts;
    const mask = maskData ? T2(maskData, B, N) : undefined;
    return patchMomentumContrast(T3(s, B, N, D), T3(t, B, N, D), { ...rest, mask }).dataSync()[0];
  });
}

/** Gradients w.r.t. student and teacher (float32). */
function grads(s: Float64Array, t: Float64Array, B: number, N: number, D: number, opts: PatchMomentumContrastOptions & { maskData?: Float64Array } = {}) {
  return tf.tidy(() => {
    const { maskData, ...rest } = opts;
    const mask = maskData ? T2(maskData, B, N) : undefined;
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => patchMomentumContrast(a, b, { ...rest, mask }));
    return g([T3(s, B, N, D), T3(t, B, N, D)]).map((x) => x.dataSync());
  });
}

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`patchMomentumContrast: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

describe('patchMomentumContrast', () => {
  it('matches the float64 loop reference (both negative sets, with and without mask)', () => {
    for (const negatives of NEGATIVES) {
      for (const [B, N, D] of SIZES) {
        for (const seed of [1, 2, 3]) {
          const s = f32(randn(seed, B * N * D));
          const t = f32(randn(seed + 40, B * N * D));
          const maskData = randomMask(seed + 80, B * N);
          for (const temperature of [0.2, 0.07]) {
            const got = run(s, t, B, N, D, { negatives, temperature });
            const want = refPatchContrast(s, t, B, N, D, { negatives, temperature });
            // Logits ≤ 1/T ≈ 14, sums of ≤ 16 exponentials in float32: atol 1e-5 + rtol 1e-5.
            largestValueErr = Math.max(largestValueErr, expectClose([got], [want], 1e-5, 1e-5));
            const gotM = run(s, t, B, N, D, { negatives, temperature, maskData });
            const wantM = refPatchContrast(s, t, B, N, D, { negatives, temperature, mask: maskData });
            largestValueErr = Math.max(largestValueErr, expectClose([gotM], [wantM], 1e-5, 1e-5));
          }
        }
      }
    }
  });

  it('gradients w.r.t. student and teacher match central differences of the reference', () => {
    for (const negatives of NEGATIVES) {
      for (const [B, N, D] of [[2, 2, 3], [3, 3, 2], [1, 2, 3]] as [number, number, number][]) {
        for (const seed of [4, 5]) {
          const s = f32(randn(seed, B * N * D));
          const t = f32(randn(seed + 40, B * N * D));
          const maskData = randomMask(seed + 80, B * N);
          for (const withMask of [false, true]) {
            const mask = withMask ? maskData : undefined;
            // chunkSize 2 also exercises the chunked custom gradient of 'other-images'.
            for (const chunkSize of [2048, 2]) {
              const [gs, gt] = grads(s, t, B, N, D, { negatives, chunkSize, maskData: mask });
              const ns = numericGrad((x) => refPatchContrast(x, t, B, N, D, { negatives, mask }), s, 1e-6);
              const nt = numericGrad((x) => refPatchContrast(s, x, B, N, D, { negatives, mask }), t, 1e-6);
              // float32 tf.grad vs float64 central differences (h = 1e-6): gradients are
              // O(1/T) = O(5); atol 1e-5 + rtol 1e-5.
              largestGradErr = Math.max(largestGradErr, expectClose(gs, ns, 1e-5, 1e-5), expectClose(gt, nt, 1e-5, 1e-5));
            }
          }
        }
      }
    }
  });

  it('chunked equals unchunked (values and gradients, chunks not aligned to images)', () => {
    const [B, N, D] = [4, 5, 3];
    const s = f32(randn(11, B * N * D));
    const t = f32(randn(12, B * N * D));
    const maskData = randomMask(13, B * N);
    const base = run(s, t, B, N, D, { maskData });
    const [gs0, gt0] = grads(s, t, B, N, D, { maskData });
    for (const chunkSize of [1, 3, 7, 19, 20, 21]) {
      expectClose([run(s, t, B, N, D, { maskData, chunkSize })], [base], 1e-6, 1e-6);
      const [gs, gt] = grads(s, t, B, N, D, { maskData, chunkSize });
      expectClose(gs, gs0, 1e-6, 1e-6);
      expectClose(gt, gt0, 1e-6, 1e-6);
    }
  });

  it('is invariant to a consistent permutation of token positions and to a batch permutation', () => {
    const [B, N, D] = [3, 4, 3];
    const s = f32(randn(21, B * N * D));
    const t = f32(randn(22, B * N * D));
    const maskData = randomMask(23, B * N);
    const posPerm = [2, 0, 3, 1];
    const batchPerm = [1, 2, 0];
    for (const negatives of NEGATIVES) {
      const [base, byPos, byBatch] = tf.tidy(() => {
        const st = T3(s, B, N, D);
        const tt = T3(t, B, N, D);
        const m = T2(maskData, B, N);
        const pp = tf.tensor1d(posPerm, 'int32');
        const bp = tf.tensor1d(batchPerm, 'int32');
        return [
          patchMomentumContrast(st, tt, { mask: m, negatives }),
          patchMomentumContrast(tf.gather(st, pp, 1), tf.gather(tt, pp, 1), { mask: tf.gather(m, pp, 1), negatives }),
          patchMomentumContrast(tf.gather(st, bp), tf.gather(tt, bp), { mask: tf.gather(m, bp), negatives }),
        ].map((x) => x.dataSync()[0]);
      });
      expectClose([byPos], [base], 1e-5, 1e-6);
      expectClose([byBatch], [base], 1e-5, 1e-6);
    }
  });

  it('a mask of all ones equals no mask; the masked loss ignores unmasked student tokens', () => {
    const [B, N, D] = [3, 3, 2];
    const s = f32(randn(31, B * N * D));
    const t = f32(randn(32, B * N * D));
    const maskData = randomMask(33, B * N);
    for (const negatives of NEGATIVES) {
      expectClose([run(s, t, B, N, D, { negatives, maskData: new Float64Array(B * N).fill(1) })], [run(s, t, B, N, D, { negatives })], 1e-6, 1e-6);
      const s2 = Float64Array.from(s);
      for (let i = 0; i < B * N; i++) if (maskData[i] === 0) for (let d = 0; d < D; d++) s2[i * D + d] = 7 * (d + 1) - i;
      expectClose([run(s2, t, B, N, D, { negatives, maskData })], [run(s, t, B, N, D, { negatives, maskData })], 1e-6, 1e-6);
    }
  });

  it('nothing masked gives 0 (finite) with zero gradients; B = 1 gives 0 with zero gradients', () => {
    const [B, N, D] = [3, 4, 3];
    const s = randn(41, B * N * D);
    const t = randn(42, B * N * D);
    const none = new Float64Array(B * N);
    for (const negatives of NEGATIVES) {
      expect(run(s, t, B, N, D, { negatives, maskData: none })).toBe(0);
      for (const g of grads(s, t, B, N, D, { negatives, maskData: none })) {
        expect(Array.from(g).every((v) => v === 0)).toBe(true);
      }
      const s1 = randn(43, N * D);
      const t1 = randn(44, N * D);
      expect(run(s1, t1, 1, N, D, { negatives })).toBe(0);
      for (const g of grads(s1, t1, 1, N, D, { negatives, chunkSize: 3 })) {
        expect(Array.from(g).every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('accepts bool and int32 masks (same value as float32)', () => {
    const [B, N, D] = [2, 3, 2];
    const s = randn(51, B * N * D);
    const t = randn(52, B * N * D);
    const maskData = randomMask(53, B * N);
    const want = run(s, t, B, N, D, { maskData });
    const [b, i] = tf.tidy(() => {
      const st = T3(s, B, N, D);
      const tt = T3(t, B, N, D);
      return [
        patchMomentumContrast(st, tt, { mask: tf.tensor2d(Array.from(maskData, (v) => v === 1), [B, N], 'bool') }),
        patchMomentumContrast(st, tt, { mask: tf.tensor2d(Array.from(maskData), [B, N], 'int32') }),
      ].map((x) => x.dataSync()[0]);
    });
    expect(b).toBe(want);
    expect(i).toBe(want);
  });

  it('handles a larger batch (B·N = 512) with the default chunk size and small chunks alike', () => {
    const [B, N, D] = [8, 64, 16];
    const s = f32(randn(61, B * N * D));
    const t = f32(randn(62, B * N * D));
    const maskData = randomMask(63, B * N, 0.6);
    const want = refPatchContrast(s, t, B, N, D, { mask: maskData });
    largestValueErr = Math.max(largestValueErr, expectClose([run(s, t, B, N, D, { maskData })], [want], 1e-5, 1e-5));
    largestValueErr = Math.max(largestValueErr, expectClose([run(s, t, B, N, D, { maskData, chunkSize: 100 })], [want], 1e-5, 1e-5));
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 3, 4]);
      const fn = patchMomentumContrast;
      expect(() => fn(tf.zeros([2, 12]), x)).toThrow(ShapeError);
      expect(() => fn(tf.zeros([2, 12]), x)).toThrow(/patchMomentumContrast: student must have rank 3 \[B, N, D\]/);
      expect(() => fn(x, tf.zeros([2, 3, 5]))).toThrow(/patchMomentumContrast: teacher must have shape \[2, 3, 4\] \(like student\), got \[2, 3, 5\]/);
      expect(() => fn(x, tf.zeros([2, 4, 4]))).toThrow(ShapeError);
      expect(() => fn(x, tf.zeros([3, 3, 4]))).toThrow(/teacher/);
      expect(() => fn(x, x, { mask: tf.ones([2, 4]) })).toThrow(ShapeError);
      expect(() => fn(x, x, { mask: tf.ones([2, 4]) })).toThrow(/patchMomentumContrast: mask must have shape \[2, 3\].*got \[2, 4\]/);
      expect(() => fn(x, x, { mask: tf.ones([6]) })).toThrow(/mask/);
      expect(() => fn(tf.zeros([0, 3, 4]), tf.zeros([0, 3, 4]))).toThrow(ShapeError);
      expect(() => fn(tf.zeros([2, 3, 4], 'int32'), x)).toThrow(ValueError);
      for (const temperature of [0, -0.1, NaN]) {
        expect(() => fn(x, x, { temperature })).toThrow(ValueError);
        expect(() => fn(x, x, { temperature })).toThrow(/patchMomentumContrast: temperature/);
      }
      expect(() => fn(x, x, { negatives: 'all' as 'other-images' })).toThrow(/negatives must be one of 'other-images', 'same-position', got 'all'/);
      expect(() => fn(x, x, { chunkSize: 0 })).toThrow(/chunkSize/);
      expect(() => fn(x, x, { chunkSize: 1.5 })).toThrow(ValueError);
    });
  });

  it('leaks no tensors (forward and gradient, both negative sets, chunked)', () => {
    const s = tf.randomNormal([3, 4, 5]);
    const t = tf.randomNormal([3, 4, 5]);
    const m = tf.tensor2d([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]]);
    for (const negatives of NEGATIVES) {
      expectNoLeak(() => patchMomentumContrast(s, t, { negatives }));
      expectNoLeak(() => patchMomentumContrast(s, t, { negatives, mask: m, chunkSize: 5 }));
      expectNoLeak(() => tf.grad((a: tf.Tensor) => patchMomentumContrast(a, t, { negatives, mask: m, chunkSize: 5 }))(s));
      expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => patchMomentumContrast(a, b, { negatives }))([s, t]));
    }
    tf.dispose([s, t, m]);
  });
});
