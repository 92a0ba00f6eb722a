import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { dinoLoss, type DinoLossOptions } from '../src/dinoLoss.js';
import { expectClose, expectNoLeak, f32, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refDino } from './distillationReference.js';

const DEFAULTS = { studentTemp: 0.1, teacherTemp: 0.04, centerMomentum: 0.9 };
const T2 = (a: Float64Array, B: number, K: number) => tf.tensor2d(f32(a), [B, K]);

/** Seeded views: `n` flat [B, K] arrays with N(0, scale²) entries (float32-exact). */
const views = (seed: number, n: number, B: number, K: number, scale = 1) =>
  Array.from({ length: n }, (_, i) => randn(seed * 100 + i, B * K, scale));

/** dinoLoss on host data → { loss, center } as numbers. */
function run(s: Float64Array[], t: Float64Array[], c: Float64Array, B: number, K: number, opts: DinoLossOptions = {}) {
  return tf.tidy(() => {
    const r = dinoLoss(s.map((x) => T2(x, B, K)), t.map((x) => T2(x, B, K)), tf.tensor2d(f32(c), [1, K]), opts);
    expect(r.center.shape).toEqual([1, K]);
    expect(r.loss.shape).toEqual([]);
    return { loss: r.loss.dataSync()[0], center: Array.from(r.center.dataSync()) };
  });
}

/**
 * Gradients of the loss w.r.t. the student crops that enter a pair (with one teacher view, the
 * same-view student crop 0 enters none: tf.grads refuses to differentiate w.r.t. an unused
 * input, so it is held constant); returns null for that crop.
 */
function grads(s: Float64Array[], t: Float64Array[], c: Float64Array, B: number, K: number, opts: DinoLossOptions = {}): (Float32Array | null)[] {
  const used = s.map((_, v) => t.length > 1 || v !== 0);
  const out = tf.tidy(() => {
    const teacher = t.map((x) => T2(x, B, K));
    const center = tf.tensor2d(f32(c), [1, K]);
    const all = s.map((x) => T2(x, B, K));
    const g = tf.grads((...xs: tf.Tensor[]) => {
      let i = 0;
      return dinoLoss(all.map((x, v) => (used[v] ? xs[i++] : x)), teacher, center, opts).loss;
    });
    return g(all.filter((_, v) => used[v])).map((x) => x.dataSync() as Float32Array);
  });
  return used.map((u) => (u ? out.shift()! : null));
}

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`dinoLoss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

// [B, K, student views, teacher views]
const CASES: [number, number, number, number][] = [
  [1, 3, 2, 2],
  [2, 4, 1, 2],
  [3, 5, 3, 1],
  [2, 6, 4, 2],
  [4, 8, 6, 2],
  [1, 1, 2, 2],
];

describe('dinoLoss', () => {
  it('matches the float64 loop reference (loss and center; several seeds, view counts, options)', () => {
    const optionSets = [DEFAULTS, { studentTemp: 0.2, teacherTemp: 0.07, centerMomentum: 0.5 }];
    for (const [B, K, nS, nT] of CASES) {
      for (const seed of [1, 2, 3]) {
        const s = views(seed, nS, B, K, 2);
        const t = views(seed + 50, nT, B, K, 2);
        const c = randn(seed + 90, K, 0.5);
        for (const o of optionSets) {
          const got = run(s, t, c, B, K, o);
          const want = refDino(s, t, c, B, K, o);
          // Logits up to |s|/Ts ≈ 60, CE values up to ~60: float32 log-softmax, atol 1e-5 + rtol 1e-5.
          largestValueErr = Math.max(largestValueErr, expectClose([got.loss], [want.loss], 1e-5, 1e-5));
          largestValueErr = Math.max(largestValueErr, expectClose(got.center, want.center, 1e-6, 1e-6));
        }
      }
    }
  });

  it('gradients w.r.t. every student crop match central differences of the reference', () => {
    for (const [B, K, nS, nT] of [[1, 3, 2, 2], [2, 4, 3, 2], [3, 3, 2, 1]] as [number, number, number, number][]) {
      for (const seed of [4, 5]) {
        const s = views(seed, nS, B, K);
        const t = views(seed + 50, nT, B, K);
        const c = randn(seed + 90, K, 0.5);
        for (const o of [DEFAULTS, { studentTemp: 0.3, teacherTemp: 0.1, centerMomentum: 0.9 }]) {
          const got = grads(s, t, c, B, K, o);
          got.forEach((g, v) => {
            if (g === null) return;
            const num = numericGrad((x) => refDino(s.map((y, i) => (i === v ? x : y)), t, c, B, K, o).loss, s[v], 1e-6);
            // float32 tf.grad vs float64 central differences (h = 1e-6); gradients O(1/Ts):
            // atol 1e-5 + rtol 1e-4.
            largestGradErr = Math.max(largestGradErr, expectClose(g, num, 1e-5, 1e-4));
          });
        }
      }
    }
  });

  it('a single (teacher, student) pair equals the hand formula; the same-view student crop is ignored', () => {
    // Teacher view 0 (= student view 0) against student view 1 only. K = 2, B = 1, t − c = 0:
    // P = [½, ½]; s1/Ts = [10, 0]: CE = ½(log(1 + e⁻¹⁰)) + ½(10 + log(1 + e⁻¹⁰)) = 5 + log(1 + e⁻¹⁰).
    const want = 5 + Math.log1p(Math.exp(-10));
    const t0 = Float64Array.of(0.3, 0.3);
    const c = Float64Array.of(0.3, 0.3);
    const s1 = Float64Array.of(1, 0);
    for (const s0 of [Float64Array.of(5, -5), Float64Array.of(-2, 7)]) {
      largestValueErr = Math.max(largestValueErr, expectClose([run([s0, s1], [t0], c, 1, 2).loss], [want], 1e-5, 1e-6));
    }
    // Gradient w.r.t. s1: (softmax(s1/Ts) − P)/Ts.
    const q = 1 / (1 + Math.exp(-10));
    expectClose(grads([s1, s1], [t0], c, 1, 2)[1]!, [(q - 0.5) / 0.1, (1 - q - 0.5) / 0.1], 1e-5, 1e-5);
  });

  it('swapping the order of the views (consistently) or of the local crops leaves loss and center unchanged', () => {
    const [B, K] = [3, 5];
    const s = views(7, 5, B, K, 2);
    const t = views(8, 2, B, K, 2);
    const c = randn(9, K, 0.5);
    const base = run(s, t, c, B, K);
    const swapped = run([s[1], s[0], s[2], s[3], s[4]], [t[1], t[0]], c, B, K);
    const locals = run([s[0], s[1], s[4], s[2], s[3]], t, c, B, K);
    for (const r of [swapped, locals]) {
      expectClose([r.loss], [base.loss], 1e-5, 1e-6);
      expectClose(r.center, base.center, 1e-6, 1e-6);
    }
    // Swapping only the student global crops changes the pairing (and the loss).
    expect(Math.abs(run([s[1], s[0], s[2], s[3], s[4]], t, c, B, K).loss - base.loss)).toBeGreaterThan(1e-3);
  });

  it('center update: hand formula, momentum 0 and 1, the input center is left unchanged', () => {
    const [B, K] = [2, 3];
    const t = [Float64Array.of(1, 2, 3, 5, 6, 7), Float64Array.of(-1, 0, 1, 3, 2, 1)];
    const s = views(10, 2, B, K);
    const c = Float64Array.of(10, 20, 30);
    const mean = [(1 + 5 - 1 + 3) / 4, (2 + 6 + 0 + 2) / 4, (3 + 7 + 1 + 1) / 4];
    expectClose(run(s, t, c, B, K).center, mean.map((x, k) => 0.9 * c[k] + 0.1 * x), 1e-5, 1e-6);
    expectClose(run(s, t, c, B, K, { centerMomentum: 0 }).center, mean, 1e-6);
    expect(run(s, t, c, B, K, { centerMomentum: 1 }).center).toEqual(Array.from(c));
    tf.tidy(() => {
      const center = tf.tensor2d(f32(c), [1, K]);
      const r = dinoLoss(s.map((x) => T2(x, B, K)), t.map((x) => T2(x, B, K)), center, { centerMomentum: 1 });
      expect(r.center).not.toBe(center);
      expect(Array.from(center.dataSync())).toEqual(Array.from(c));
      r.center.dispose();
      expect(center.isDisposed).toBe(false);
    });
  });

  it('the loss uses the input center: shifting teacher and center together changes nothing', () => {
    const [B, K] = [2, 4];
    const s = views(11, 3, B, K);
    const t = views(12, 2, B, K);
    const c = randn(13, K);
    const shift = Float64Array.of(0.5, -1, 2, 0.25);
    const tShift = t.map((x) => x.map((v, i) => v + shift[i % K]));
    const cShift = c.map((v, k) => v + shift[k]);
    expectClose([run(s, tShift, cShift, B, K).loss], [run(s, t, c, B, K).loss], 1e-5, 1e-5);
  });

  it('leaks no tensors (forward and gradient)', () => {
    const s = [tf.randomNormal([3, 4]), tf.randomNormal([3, 4]), tf.randomNormal([3, 4])];
    const t = [tf.randomNormal([3, 4]), tf.randomNormal([3, 4])];
    const c = tf.zeros([1, 4]);
    expectNoLeak(() => dinoLoss(s, t, c));
    expectNoLeak(() => tf.grads((...xs: tf.Tensor[]) => dinoLoss(xs, t, c).loss)(s));
    tf.dispose([s, t, c]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 3]);
      const c = tf.zeros([1, 3]);
      expect(() => dinoLoss([], [x], c)).toThrow(ValueError);
      expect(() => dinoLoss([], [x], c)).toThrow(/dinoLoss: studentCrops must be a non-empty array/);
      expect(() => dinoLoss([x], [], c)).toThrow(/dinoLoss: teacherCrops must be a non-empty array/);
      expect(() => dinoLoss(x as unknown as tf.Tensor[], [x], c)).toThrow(/studentCrops must be a non-empty array/);
      expect(() => dinoLoss([x], [x], c)).toThrow(ValueError);
      expect(() => dinoLoss([x], [x], c)).toThrow(/dinoLoss: studentCrops and teacherCrops have 1 view each/);
      expect(() => dinoLoss([tf.zeros([2, 3, 1]), x], [x], c)).toThrow(ShapeError);
      expect(() => dinoLoss([tf.zeros([2, 3, 1]), x], [x], c)).toThrow(/dinoLoss: studentCrops\[0\] must have rank 2 \[B, K\]/);
      expect(() => dinoLoss([x, tf.zeros([2, 4])], [x], c)).toThrow(/dinoLoss: studentCrops\[1\] must have shape \[2, 3\] \(like studentCrops\[0\]\), got \[2, 4\]/);
      expect(() => dinoLoss([x, x], [tf.zeros([3, 3])], c)).toThrow(/dinoLoss: teacherCrops\[0\] must have shape \[2, 3\] \(like studentCrops\[0\]\), got \[3, 3\]/);
      expect(() => dinoLoss([x, x], [x, tf.zeros([2, 2])], c)).toThrow(/teacherCrops\[1\]/);
      expect(() => dinoLoss([x, x], [x], tf.zeros([3]))).toThrow(/dinoLoss: center must have shape \[1, 3\].*got \[3\]/);
      expect(() => dinoLoss([x, x], [x], tf.zeros([1, 4]))).toThrow(ShapeError);
      expect(() => dinoLoss([x, x], [x], tf.zeros([1, 3], 'int32'))).toThrow(/dinoLoss: center must be float32/);
      expect(() => dinoLoss([x, tf.zeros([2, 3], 'int32')], [x], c)).toThrow(/dinoLoss: studentCrops\[1\] must be float32/);
      expect(() => dinoLoss([tf.zeros([0, 3]), tf.zeros([0, 3])], [tf.zeros([0, 3])], c)).toThrow(ShapeError);
      for (const bad of [0, -0.1, NaN, Infinity]) {
        expect(() => dinoLoss([x, x], [x], c, { studentTemp: bad })).toThrow(/dinoLoss: studentTemp/);
        expect(() => dinoLoss([x, x], [x], c, { teacherTemp: bad })).toThrow(/dinoLoss: teacherTemp/);
      }
      for (const bad of [-0.1, 1.5, NaN]) {
        expect(() => dinoLoss([x, x], [x], c, { centerMomentum: bad })).toThrow(ValueError);
        expect(() => dinoLoss([x, x], [x], c, { centerMomentum: bad })).toThrow(/dinoLoss: centerMomentum must be (in \[0, 1\]|a finite number)/);
      }
    });
  });
});
