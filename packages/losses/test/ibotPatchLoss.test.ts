import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { ibotPatchLoss, type IbotPatchLossOptions } from '../src/ibotPatchLoss.js';
import { expectClose, expectNoLeak, f32, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refIbotPatch } from './distillationReference.js';

const DEFAULTS = { studentTemp: 0.1, teacherTemp: 0.07, centerMomentum: 0.9 };
const T3 = (a: Float64Array, B: number, N: number, K: number) => tf.tensor3d(f32(a), [B, N, K]);

/** Random 0/1 mask [B, N]; image 1 (when B > 1) has no masked token. */
function randomMask(seed: number, B: number, N: number): Float64Array {
  const rng = createRng(seed);
  const m = new Float64Array(B * N);
  for (let i = 0; i < B * N; i++) m[i] = rng.next() < 0.5 ? 1 : 0;
  m[0] = 1;
  if (B > 1) m.fill(0, N, 2 * N);
  return m;
}

function run(s: Float64Array, t: Float64Array, m: Float64Array, c: Float64Array, B: number, N: number, K: number, opts: IbotPatchLossOptions = {}) {
  return tf.tidy(() => {
    const r = ibotPatchLoss(T3(s, B, N, K), T3(t, B, N, K), tf.tensor2d(f32(m), [B, N]), tf.tensor3d(f32(c), [1, 1, K]), opts);
    expect(r.center.shape).toEqual([1, 1, K]);
    expect(r.loss.shape).toEqual([]);
    return { loss: r.loss.dataSync()[0], center: Array.from(r.center.dataSync()) };
  });
}

function grad(s: Float64Array, t: Float64Array, m: Float64Array, c: Float64Array, B: number, N: number, K: number, opts: IbotPatchLossOptions = {}) {
  return tf.tidy(() => {
    const [tt, mm, cc] = [T3(t, B, N, K), tf.tensor2d(f32(m), [B, N]), tf.tensor3d(f32(c), [1, 1, K])];
    return tf.grad((x: tf.Tensor) => ibotPatchLoss(x, tt, mm, cc, opts).loss)(T3(s, B, N, K)).dataSync();
  });
}

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`ibotPatchLoss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

const SIZES: [number, number, number][] = [
  [1, 1, 2],
  [1, 3, 4],
  [2, 4, 3],
  [3, 5, 6],
  [4, 6, 8],
];

describe('ibotPatchLoss', () => {
  it('matches the float64 loop reference (loss and center; several seeds, an image without masked tokens)', () => {
    for (const [B, N, K] of SIZES) {
      for (const seed of [1, 2, 3]) {
        const s = randn(seed, B * N * K, 2);
        const t = randn(seed + 40, B * N * K, 2);
        const m = randomMask(seed + 80, B, N);
        const c = randn(seed + 120, K, 0.5);
        for (const o of [DEFAULTS, { studentTemp: 0.2, teacherTemp: 0.04, centerMomentum: 0.3 }]) {
          const got = run(s, t, m, c, B, N, K, o);
          const want = refIbotPatch(s, t, m, c, B, N, K, o);
          // CE values up to ~60 (logits |s|/Ts): atol 1e-5 + rtol 1e-5.
          largestValueErr = Math.max(largestValueErr, expectClose([got.loss], [want.loss], 1e-5, 1e-5));
          largestValueErr = Math.max(largestValueErr, expectClose(got.center, want.center, 1e-6, 1e-6));
        }
      }
    }
  });

  it('gradient w.r.t. the student matches central differences of the reference', () => {
    for (const [B, N, K] of [[1, 2, 3], [2, 3, 3], [3, 2, 4]] as [number, number, number][]) {
      for (const seed of [4, 5]) {
        const s = randn(seed, B * N * K);
        const t = randn(seed + 40, B * N * K);
        const m = randomMask(seed + 80, B, N);
        const c = randn(seed + 120, K, 0.5);
        for (const o of [DEFAULTS, { studentTemp: 0.3, teacherTemp: 0.1, centerMomentum: 0.9 }]) {
          const got = grad(s, t, m, c, B, N, K, o);
          const num = numericGrad((x) => refIbotPatch(x, t, m, c, B, N, K, o).loss, s, 1e-6);
          // float32 tf.grad vs float64 central differences (h = 1e-6): atol 1e-5 + rtol 1e-4.
          largestGradErr = Math.max(largestGradErr, expectClose(got, num, 1e-5, 1e-4));
        }
      }
    }
  });

  it('ignores unmasked tokens (value unchanged, gradient exactly 0 there)', () => {
    const [B, N, K] = [3, 4, 5];
    const s = randn(21, B * N * K);
    const t = randn(22, B * N * K);
    const m = randomMask(23, B, N);
    const c = new Float64Array(K);
    const s2 = Float64Array.from(s);
    for (let i = 0; i < B * N; i++) if (m[i] === 0) for (let k = 0; k < K; k++) s2[i * K + k] = 9 * k - i;
    expect(run(s2, t, m, c, B, N, K).loss).toBe(run(s, t, m, c, B, N, K).loss);
    const g = grad(s, t, m, c, B, N, K);
    for (let i = 0; i < B * N; i++) {
      for (let k = 0; k < K; k++) {
        if (m[i] === 0) expect(Math.abs(g[i * K + k])).toBe(0);
      }
    }
  });

  it('an image with no masked token counts 0 in the mean over images; nothing masked gives 0', () => {
    const [N, K] = [4, 3];
    const s = randn(31, 2 * N * K);
    const t = randn(32, 2 * N * K);
    const c = new Float64Array(K);
    const m = Float64Array.of(1, 0, 1, 1, 0, 0, 0, 0); // image 1: nothing masked
    const first = run(s.slice(0, N * K), t.slice(0, N * K), m.slice(0, N), c, 1, N, K).loss;
    expectClose([run(s, t, m, c, 2, N, K).loss], [first / 2], 1e-6, 1e-6);
    const none = run(s, t, new Float64Array(2 * N), c, 2, N, K).loss;
    expect(none).toBe(0);
  });

  it('all tokens masked: the mean over tokens of each image, then over images (hand formula)', () => {
    // B = 1, N = 2, K = 2, teacher − center = 0 everywhere (P = ½, ½), Ts = 0.1:
    // token 0: s/Ts = [10, 0] → CE = 5 + log(1 + e⁻¹⁰); token 1: s = [0, 0] → CE = log 2.
    const s = Float64Array.of(1, 0, 0, 0);
    const t = Float64Array.of(2, 2, -1, -1);
    const c = Float64Array.of(0, 0);
    const want = (5 + Math.log1p(Math.exp(-10)) + Math.log(2)) / 2;
    largestValueErr = Math.max(largestValueErr, expectClose([run(s, t, Float64Array.of(1, 1), c, 1, 2, 2).loss], [want], 1e-5, 1e-6));
  });

  it('center update: hand formula (mean over tokens then batch, all tokens), momentum 0 and 1', () => {
    const [B, N, K] = [2, 2, 2];
    const t = Float64Array.of(1, 2, 3, 4, /* image 1 */ 5, 6, 7, 8);
    const s = randn(41, B * N * K);
    const m = Float64Array.of(1, 0, 0, 0);
    const c = Float64Array.of(-4, 4);
    const mean = [(1 + 3 + 5 + 7) / 4, (2 + 4 + 6 + 8) / 4];
    expectClose(run(s, t, m, c, B, N, K).center, [0.9 * -4 + 0.1 * mean[0], 0.9 * 4 + 0.1 * mean[1]], 1e-6, 1e-6);
    expectClose(run(s, t, m, c, B, N, K, { centerMomentum: 0 }).center, mean, 1e-6);
    expect(run(s, t, m, c, B, N, K, { centerMomentum: 1 }).center).toEqual([-4, 4]);
  });

  it('accepts bool and int32 masks (same value as float32); other values act as weights', () => {
    const [B, N, K] = [2, 3, 4];
    const s = randn(51, B * N * K);
    const t = randn(52, B * N * K);
    const m = Float64Array.of(1, 0, 1, 0, 1, 1);
    const c = new Float64Array(K);
    const want = run(s, t, m, c, B, N, K).loss;
    const [b, i] = tf.tidy(() => {
      const args = [T3(s, B, N, K), T3(t, B, N, K)] as const;
      const cc = tf.zeros([1, 1, K]);
      return [
        ibotPatchLoss(...args, tf.tensor2d(Array.from(m, (v) => v === 1), [B, N], 'bool'), cc).loss,
        ibotPatchLoss(...args, tf.tensor2d(Array.from(m), [B, N], 'int32'), cc).loss,
      ].map((x) => x.dataSync()[0]);
    });
    expect(b).toBe(want);
    expect(i).toBe(want);
    // Other values act as weights; the per-image denominator is still clamped at 1 (iBOT's clamp(min=1.0)).
    const w = Float64Array.of(0.5, 0, 0.25, 2, 0.5, 1);
    largestValueErr = Math.max(largestValueErr, expectClose([run(s, t, w, c, B, N, K).loss], [refIbotPatch(s, t, w, c, B, N, K, DEFAULTS).loss], 1e-5, 1e-5));
  });

  it('leaks no tensors (forward and gradient, bool mask)', () => {
    const s = tf.randomNormal([2, 3, 4]);
    const t = tf.randomNormal([2, 3, 4]);
    const m = tf.tensor2d([[true, false, true], [false, false, false]], [2, 3], 'bool');
    const c = tf.zeros([1, 1, 4]);
    expectNoLeak(() => ibotPatchLoss(s, t, m, c));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => ibotPatchLoss(x, t, m, c).loss)(s));
    tf.dispose([s, t, m, c]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 3, 4]);
      const m = tf.ones([2, 3]);
      const c = tf.zeros([1, 1, 4]);
      const fn = ibotPatchLoss;
      expect(() => fn(tf.zeros([2, 12]), x, m, c)).toThrow(ShapeError);
      expect(() => fn(tf.zeros([2, 12]), x, m, c)).toThrow(/ibotPatchLoss: student must have rank 3 \[B, N, K\]/);
      expect(() => fn(x, tf.zeros([2, 3, 5]), m, c)).toThrow(/ibotPatchLoss: teacher must have shape \[2, 3, 4\] \(like student\), got \[2, 3, 5\]/);
      expect(() => fn(x, x, tf.ones([2, 4]), c)).toThrow(/ibotPatchLoss: mask must have shape \[2, 3\].*got \[2, 4\]/);
      expect(() => fn(x, x, tf.ones([6]), c)).toThrow(ShapeError);
      expect(() => fn(x, x, m, tf.zeros([1, 4]))).toThrow(/ibotPatchLoss: center must have shape \[1, 1, 4\].*got \[1, 4\]/);
      expect(() => fn(x, x, m, tf.zeros([1, 1, 5]))).toThrow(ShapeError);
      expect(() => fn(x, x, m, tf.zeros([1, 1, 4], 'int32'))).toThrow(/ibotPatchLoss: center must be float32/);
      expect(() => fn(tf.zeros([2, 3, 4], 'int32'), x, m, c)).toThrow(ValueError);
      expect(() => fn(x, x, tf.tensor2d([['a', 'b', 'c'], ['d', 'e', 'f']]), c)).toThrow(/ibotPatchLoss: mask must be float32, int32 or bool/);
      expect(() => fn(tf.zeros([2, 0, 4]), tf.zeros([2, 0, 4]), tf.zeros([2, 0]), c)).toThrow(ShapeError);
      for (const bad of [0, -1, NaN]) {
        expect(() => fn(x, x, m, c, { studentTemp: bad })).toThrow(/ibotPatchLoss: studentTemp/);
        expect(() => fn(x, x, m, c, { teacherTemp: bad })).toThrow(/ibotPatchLoss: teacherTemp/);
      }
      expect(() => fn(x, x, m, c, { centerMomentum: 1.01 })).toThrow(/ibotPatchLoss: centerMomentum must be in \[0, 1\], got 1.01/);
      expect(() => fn(x, x, m, c, { centerMomentum: -0.5 })).toThrow(ValueError);
    });
  });
});
