import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { infoNCE } from '../src/infoNCE.js';
import { expectClose, expectNoLeak, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refInfoNCE } from './contrastReference.js';

/** Float32-rounded copy, so the reference sees exactly the values the tensors hold. */
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const T2 = (a: Float64Array, B: number, D: number) => tf.tensor2d(Float32Array.from(a), [B, D]);

const SIZES: [number, number][] = [
  [1, 1],
  [1, 4],
  [2, 3],
  [4, 5],
  [7, 3],
];
const SEEDS = [1, 2, 3];

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`infoNCE: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

describe('infoNCE', () => {
  it('matches the float64 loop reference (sizes, seeds, temperatures, symmetric, scale)', () => {
    for (const [B, D] of SIZES) {
      for (const seed of SEEDS) {
        const q = f32(randn(seed, B * D));
        const k = f32(randn(seed + 50, B * D));
        for (const opts of [{}, { temperature: 0.07 }, { temperature: 1, symmetric: true }, { symmetric: true, scale: 0.4 }]) {
          const got = tf.tidy(() => infoNCE(T2(q, B, D), T2(k, B, D), opts).dataSync()[0]);
          // Logits up to 1/T ≈ 14; log-sum-exp of ≤ 7 terms in float32: atol 1e-5 + rtol 1e-5.
          largestValueErr = Math.max(largestValueErr, expectClose([got], [refInfoNCE(q, k, B, D, opts)], 1e-5, 1e-5));
        }
      }
    }
  });

  it('gradients w.r.t. query and key match central differences of the reference', () => {
    for (const [B, D] of [[1, 3], [2, 2], [4, 3], [5, 4]] as [number, number][]) {
      for (const seed of SEEDS) {
        for (const opts of [{}, { symmetric: true, temperature: 0.5 }]) {
          const q = f32(randn(seed + 10, B * D));
          const k = f32(randn(seed + 60, B * D));
          const [gq, gk] = tf.tidy(() =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) => infoNCE(a, b, opts))([T2(q, B, D), T2(k, B, D)]).map((g) => g.dataSync()),
          );
          const nq = numericGrad((x) => refInfoNCE(x, k, B, D, opts), q, 1e-6);
          const nk = numericGrad((x) => refInfoNCE(q, x, B, D, opts), k, 1e-6);
          // float32 tf.grad vs float64 central differences (h = 1e-6, truncation ~1e-11):
          // gradients are O(1/T) = O(5); atol 1e-5 + rtol 1e-5.
          largestGradErr = Math.max(largestGradErr, expectClose(gq, nq, 1e-5, 1e-5), expectClose(gk, nk, 1e-5, 1e-5));
        }
      }
    }
  });

  it('is invariant to scaling q and k by positive constants', () => {
    const [B, D] = [5, 4];
    const q = f32(randn(21, B * D));
    const k = f32(randn(22, B * D));
    const [a, b] = tf.tidy(() => {
      const qt = T2(q, B, D);
      const kt = T2(k, B, D);
      return [infoNCE(qt, kt).dataSync()[0], infoNCE(tf.mul(qt, 3.7), tf.mul(kt, 0.02)).dataSync()[0]];
    });
    expectClose([b], [a], 1e-5, 1e-6);
  });

  it('is invariant to permuting the batch (same permutation for q and k)', () => {
    const [B, D] = [6, 3];
    const q = f32(randn(31, B * D));
    const k = f32(randn(32, B * D));
    const perm = [3, 0, 5, 1, 4, 2];
    const [a, b] = tf.tidy(() => {
      const qt = T2(q, B, D);
      const kt = T2(k, B, D);
      const p = tf.tensor1d(perm, 'int32');
      return [infoNCE(qt, kt).dataSync()[0], infoNCE(tf.gather(qt, p), tf.gather(kt, p)).dataSync()[0]];
    });
    expectClose([b], [a], 1e-5, 1e-6);
  });

  it('symmetric = ½ (rows + columns) = ½ (infoNCE(q, k) + infoNCE(k, q))', () => {
    const [B, D] = [5, 3];
    const q = f32(randn(41, B * D));
    const k = f32(randn(42, B * D));
    const [sym, qk, kq] = tf.tidy(() => {
      const qt = T2(q, B, D);
      const kt = T2(k, B, D);
      return [infoNCE(qt, kt, { symmetric: true }), infoNCE(qt, kt), infoNCE(kt, qt)].map((x) => x.dataSync()[0]);
    });
    expectClose([sym], [0.5 * (qk + kq)], 1e-5, 1e-6);
    expect(Math.abs(qk - kq)).toBeGreaterThan(1e-3); // the two directions do differ here
  });

  it('scale = 2T gives MoCo v3 ctr_loss (CrossEntropyLoss(q·kᵀ/T, arange) · 2T)', () => {
    const [B, D] = [4, 6];
    const Tm = 0.2;
    const q = f32(randn(51, B * D));
    const k = f32(randn(52, B * D));
    // MoCo v3 written out: mean_i (logsumexp_j ℓ_ij − ℓ_ii) · 2T with ℓ = q̂·k̂ᵀ/T.
    const moco = refInfoNCE(q, k, B, D, { temperature: Tm }) * 2 * Tm;
    const got = tf.tidy(() => infoNCE(T2(q, B, D), T2(k, B, D), { temperature: Tm, scale: 2 * Tm }).dataSync()[0]);
    expectClose([got], [moco], 1e-5, 1e-5);
  });

  it('B = 1 gives exactly 0 with a zero gradient', () => {
    const q = tf.tensor2d([[0.3, -1.2, 2]]);
    const k = tf.tensor2d([[1, 0.5, -0.1]]);
    const v = infoNCE(q, k, { symmetric: true });
    expect(v.dataSync()[0]).toBe(0);
    const g = tf.grad((a: tf.Tensor) => infoNCE(a, k))(q);
    expect(Array.from(g.dataSync()).every((x) => x === 0)).toBe(true);
    tf.dispose([q, k, v, g]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const q = tf.zeros([4, 8]);
      expect(() => infoNCE(tf.zeros([4, 8, 1]), q)).toThrow(ShapeError);
      expect(() => infoNCE(tf.zeros([4, 8, 1]), q)).toThrow(/infoNCE: query must have rank 2/);
      expect(() => infoNCE(q, tf.zeros([4, 6]))).toThrow(ShapeError);
      expect(() => infoNCE(q, tf.zeros([4, 6]))).toThrow(/infoNCE: key must have shape \[4, 8\] \(like query\), got \[4, 6\]/);
      expect(() => infoNCE(q, tf.zeros([3, 8]))).toThrow(/key/);
      expect(() => infoNCE(tf.zeros([0, 8]), tf.zeros([0, 8]))).toThrow(ShapeError);
      expect(() => infoNCE(q, null as unknown as tf.Tensor)).toThrow(/key/);
      expect(() => infoNCE(tf.zeros([4, 8], 'int32'), q)).toThrow(ValueError);
      for (const t of [0, -1, NaN, Infinity]) {
        expect(() => infoNCE(q, q, { temperature: t })).toThrow(ValueError);
        expect(() => infoNCE(q, q, { temperature: t })).toThrow(/infoNCE: temperature/);
      }
      expect(() => infoNCE(q, q, { scale: NaN })).toThrow(/infoNCE: scale must be a finite number, got NaN/);
      expect(() => infoNCE(q, q, { symmetric: 'yes' as unknown as boolean })).toThrow(/symmetric/);
    });
  });

  it('leaks no tensors (forward and gradient)', () => {
    const q = tf.randomNormal([5, 4]);
    const k = tf.randomNormal([5, 4]);
    expectNoLeak(() => infoNCE(q, k));
    expectNoLeak(() => infoNCE(q, k, { symmetric: true, scale: 0.4 }));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => infoNCE(a, k, { symmetric: true }))(q));
    tf.dispose([q, k]);
  });
});
