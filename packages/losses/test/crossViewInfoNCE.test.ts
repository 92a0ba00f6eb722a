import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { crossViewInfoNCE } from '../src/crossViewInfoNCE.js';
import { expectClose, expectNoLeak, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refInfoNCE } from './contrastReference.js';

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const T2 = (a: Float64Array, B: number, D: number) => tf.tensor2d(Float32Array.from(a), [B, D]);

/** Reference: reduce(refInfoNCE(q1, k2), refInfoNCE(q2, k1)). */
function refCrossView(
  v: Float64Array[],
  B: number,
  D: number,
  { temperature = 0.2, scale = 1, reduction = 'mean' } = {},
): number {
  const [q1, q2, k1, k2] = v;
  const a = refInfoNCE(q1, k2, B, D, { temperature, scale });
  const b = refInfoNCE(q2, k1, B, D, { temperature, scale });
  return reduction === 'sum' ? a + b : 0.5 * (a + b);
}

const inputs = (seed: number, B: number, D: number) => [0, 1, 2, 3].map((i) => f32(randn(seed + 17 * i, B * D)));

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`crossViewInfoNCE: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

describe('crossViewInfoNCE', () => {
  it('matches the float64 reference (mean and sum, scale, several sizes and seeds)', () => {
    for (const [B, D] of [[1, 2], [2, 3], [5, 4]] as [number, number][]) {
      for (const seed of [1, 2, 3]) {
        const v = inputs(seed, B, D);
        for (const opts of [{}, { reduction: 'sum' as const, scale: 0.4 }, { temperature: 0.5 }]) {
          const got = tf.tidy(() => {
            const [q1, q2, k1, k2] = v.map((x) => T2(x, B, D));
            return crossViewInfoNCE(q1, q2, k1, k2, opts).dataSync()[0];
          });
          // float32 log-sum-exp of ≤ 5 logits of size ≤ 1/T: atol 1e-5 + rtol 1e-5.
          largestValueErr = Math.max(largestValueErr, expectClose([got], [refCrossView(v, B, D, opts)], 1e-5, 1e-5));
        }
      }
    }
  });

  it('pairs q1 with k2 and q2 with k1 (swapping the keys changes the value)', () => {
    const [B, D] = [4, 3];
    const v = inputs(9, B, D);
    const [a, swapped] = tf.tidy(() => {
      const [q1, q2, k1, k2] = v.map((x) => T2(x, B, D));
      return [crossViewInfoNCE(q1, q2, k1, k2).dataSync()[0], crossViewInfoNCE(q1, q2, k2, k1).dataSync()[0]];
    });
    const straight = 0.5 * (refInfoNCE(v[0], v[2], B, D) + refInfoNCE(v[1], v[3], B, D));
    expectClose([swapped], [straight], 1e-5, 1e-5);
    expect(Math.abs(a - swapped)).toBeGreaterThan(1e-3);
  });

  it('MoCo v3 / SiT form: { scale: 2T, reduction: sum } = ctr_loss(q1, k2) + ctr_loss(q2, k1)', () => {
    const [B, D] = [6, 5];
    const Tm = 0.2;
    const v = inputs(4, B, D);
    const ctr = (q: Float64Array, k: Float64Array) => refInfoNCE(q, k, B, D, { temperature: Tm }) * 2 * Tm;
    const got = tf.tidy(() => {
      const [q1, q2, k1, k2] = v.map((x) => T2(x, B, D));
      return crossViewInfoNCE(q1, q2, k1, k2, { temperature: Tm, scale: 2 * Tm, reduction: 'sum' }).dataSync()[0];
    });
    expectClose([got], [ctr(v[0], v[3]) + ctr(v[1], v[2])], 1e-5, 1e-5);
  });

  it('gradients w.r.t. q1 and q2 match central differences of the reference', () => {
    for (const [B, D] of [[2, 3], [4, 2]] as [number, number][]) {
      for (const seed of [5, 6]) {
        const v = inputs(seed, B, D);
        const [g1, g2] = tf.tidy(() => {
          const [q1, q2, k1, k2] = v.map((x) => T2(x, B, D));
          return tf.grads((a: tf.Tensor, b: tf.Tensor) => crossViewInfoNCE(a, b, k1, k2))([q1, q2]).map((g) => g.dataSync());
        });
        const n1 = numericGrad((x) => refCrossView([x, v[1], v[2], v[3]], B, D), v[0], 1e-6);
        const n2 = numericGrad((x) => refCrossView([v[0], x, v[2], v[3]], B, D), v[1], 1e-6);
        // float32 vs float64 central differences (h = 1e-6): atol 1e-5 + rtol 1e-5.
        largestGradErr = Math.max(largestGradErr, expectClose(g1, n1, 1e-5, 1e-5), expectClose(g2, n2, 1e-5, 1e-5));
      }
    }
  });

  it('B = 1 gives 0', () => {
    const v = inputs(8, 1, 3);
    const got = tf.tidy(() => {
      const [q1, q2, k1, k2] = v.map((x) => T2(x, 1, 3));
      return crossViewInfoNCE(q1, q2, k1, k2).dataSync()[0];
    });
    expect(got).toBe(0);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const a = tf.zeros([4, 8]);
      expect(() => crossViewInfoNCE(a, a, a, tf.zeros([4, 7]))).toThrow(ShapeError);
      expect(() => crossViewInfoNCE(a, a, a, tf.zeros([4, 7]))).toThrow(/crossViewInfoNCE: k2 must have shape \[4, 8\] \(like q1\), got \[4, 7\]/);
      expect(() => crossViewInfoNCE(a, a, tf.zeros([3, 8]), a)).toThrow(/crossViewInfoNCE: k1/);
      expect(() => crossViewInfoNCE(a, tf.zeros([3, 8]), tf.zeros([3, 8]), a)).toThrow(/crossViewInfoNCE: q2 must have shape \[4, 8\]/);
      expect(() => crossViewInfoNCE(tf.zeros([4]), a, a, a)).toThrow(/crossViewInfoNCE: q1 must have rank 2/);
      expect(() => crossViewInfoNCE(a, a, a, a, { reduction: 'max' as 'sum' })).toThrow(ValueError);
      expect(() => crossViewInfoNCE(a, a, a, a, { reduction: 'max' as 'sum' })).toThrow(/reduction must be one of 'mean', 'sum', got 'max'/);
      expect(() => crossViewInfoNCE(a, a, a, a, { scale: NaN })).toThrow(/crossViewInfoNCE: scale/);
      expect(() => crossViewInfoNCE(a, a, a, a, { temperature: 0 })).toThrow(/crossViewInfoNCE: temperature must be > 0, got 0/);
      expect(() => crossViewInfoNCE(a, a, a, a, { temperature: NaN })).toThrow(ValueError);
    });
  });

  it('leaks no tensors (forward and gradient)', () => {
    const [q1, q2, k1, k2] = [0, 1, 2, 3].map(() => tf.randomNormal([4, 3]));
    expectNoLeak(() => crossViewInfoNCE(q1, q2, k1, k2));
    expectNoLeak(() => crossViewInfoNCE(q1, q2, k1, k2, { reduction: 'sum', scale: 0.4 }));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => crossViewInfoNCE(a, b, k1, k2))([q1, q2]));
    tf.dispose([q1, q2, k1, k2]);
  });
});
