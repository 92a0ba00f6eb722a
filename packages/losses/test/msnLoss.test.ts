import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { msnLoss, type MsnLossOptions } from '../src/msnLoss.js';
import { expectClose, expectNoLeak, f32, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refMsn, type MsnRefOptions } from './distillationReference.js';

const T2 = (a: ArrayLike<number>, R: number, D: number) => tf.tensor2d(f32(a), [R, D]);

/** The reference's options for msnLoss options: tau = anchorTemp, sharpen T = targetTemp / anchorTemp. */
function refOptions(o: MsnLossOptions): MsnRefOptions {
  const tau = o.anchorTemp ?? 0.1;
  return { tau, sharpenT: (o.targetTemp ?? 0.025) / tau, meMaxWeight: o.meMaxWeight ?? 1, sinkhorn: o.sinkhorn ?? false };
}

function run(a: ArrayLike<number>, t: ArrayLike<number>, p: ArrayLike<number>, M: number, B: number, D: number, K: number, o: MsnLossOptions = {}) {
  return tf.tidy(() => {
    const r = msnLoss(T2(a, M * B, D), T2(t, B, D), T2(p, K, D), o);
    return { loss: r.loss.dataSync()[0], ce: r.ce.dataSync()[0], meMax: r.meMax.dataSync()[0] };
  });
}

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`msnLoss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

// [M, B, D, K]
const SIZES: [number, number, number, number][] = [
  [1, 1, 3, 2],
  [2, 3, 4, 5],
  [3, 2, 5, 8],
  [1, 4, 3, 6],
  [2, 1, 4, 1],
];
const OPTION_SETS: MsnLossOptions[] = [
  {},
  { sinkhorn: true },
  { anchorTemp: 0.2, targetTemp: 0.05, meMaxWeight: 0.5 },
  { anchorTemp: 0.1, targetTemp: 0.05, meMaxWeight: 2, sinkhorn: true },
];

describe('msnLoss', () => {
  it('matches the float64 reference (softmax, literal sharpen p^(1/T), sinkhorn; loss, ce, meMax)', () => {
    for (const [M, B, D, K] of SIZES) {
      for (const seed of [1, 2, 3]) {
        const a = randn(seed, M * B * D);
        const t = randn(seed + 40, B * D);
        const p = randn(seed + 80, K * D);
        for (const o of OPTION_SETS) {
          const got = run(a, t, p, M, B, D, K, o);
          const want = refMsn(a, t, p, M, B, D, K, refOptions(o));
          // Logits ≤ 1/T = 10..20 (targets 40): atol 1e-5 + rtol 1e-5.
          for (const key of ['loss', 'ce', 'meMax'] as const) {
            largestValueErr = Math.max(largestValueErr, expectClose([got[key]], [want[key]], 1e-5, 1e-5));
          }
        }
      }
    }
  });

  it('gradients w.r.t. anchor and prototypes (anchor branch only) match central differences; target gets 0', () => {
    for (const [M, B, D, K] of [[2, 2, 3, 4], [1, 3, 4, 3], [1, 1, 3, 2]] as [number, number, number, number][]) {
      for (const seed of [4, 5]) {
        const a = randn(seed, M * B * D);
        const t = randn(seed + 40, B * D);
        const p = randn(seed + 80, K * D);
        for (const o of [{}, { sinkhorn: true, meMaxWeight: 0.5 }] as MsnLossOptions[]) {
          const [ga, gt, gp] = tf.tidy(() => {
            const g = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => msnLoss(x, y, z, o).loss);
            return g([T2(a, M * B, D), T2(t, B, D), T2(p, K, D)]).map((x) => x.dataSync());
          });
          const ro = refOptions(o);
          const na = numericGrad((x) => refMsn(x, t, p, M, B, D, K, ro).loss, a, 1e-6);
          // Targets use the original prototypes (no gradient through them, as MSN's torch.no_grad()).
          const np = numericGrad((x) => refMsn(a, t, x, M, B, D, K, { ...ro, targetProtos: p }).loss, p, 1e-6);
          // float32 tf.grad vs float64 central differences (h = 1e-6); gradients O(1/T) = O(10):
          // atol 1e-5 + rtol 1e-4.
          largestGradErr = Math.max(largestGradErr, expectClose(ga, na, 1e-5, 1e-4), expectClose(gp, np, 1e-5, 1e-4));
          expect(Array.from(gt).every((v) => v === 0)).toBe(true);
        }
      }
    }
  });

  it('meMax is 0 when the mean anchor prediction is uniform (hand cases)', () => {
    // Two opposite prototypes, two opposite anchors: P̄ = [½, ½].
    const p = [1, 0, -1, 0];
    const mirrored = run([1, 0, -1, 0], [0.3, 1, 0.2, -1], p, 1, 2, 2, 2);
    expect(Math.abs(mirrored.meMax)).toBeLessThan(1e-6);
    // Zero anchors normalise to 0: every prediction is uniform over K = 5.
    const zeros = run(new Float64Array(2 * 3 * 4), randn(1, 3 * 4), randn(2, 5 * 4), 2, 3, 4, 5);
    expect(Math.abs(zeros.meMax)).toBeLessThan(1e-6);
    // ... and the cross-entropy with any target distribution is log K.
    expectClose([zeros.ce], [Math.log(5)], 1e-5, 1e-6);
  });

  it('meMax is log K when all anchors pick one prototype; ce is 0 when targets agree (hand case)', () => {
    // K = 4 orthonormal prototypes; every anchor and target is prototype 2; anchorTemp 0.005:
    // P = one-hot(2) up to e⁻²⁰⁰ (0 in float32), so H(P̄) = 0 and meMax = log 4; Y = one-hot(2): ce = 0.
    const K = 4;
    const p = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const [M, B] = [2, 3];
    const a = Array.from({ length: M * B }, () => [0, 0, 2, 0]).flat();
    const t = Array.from({ length: B }, () => [0, 0, 0.5, 0]).flat();
    const r = run(a, t, p, M, B, 4, K, { anchorTemp: 0.005, targetTemp: 0.005 });
    expectClose([r.meMax], [Math.log(K)], 1e-6, 1e-6);
    expect(Math.abs(r.ce)).toBeLessThan(1e-6);
    expectClose([r.loss], [Math.log(K)], 1e-6, 1e-6);
  });

  it('anchors are view-major: repeated views equal one view; swapping whole views changes nothing', () => {
    const [B, D, K] = [3, 4, 5];
    const a0 = randn(21, B * D);
    const a1 = randn(22, B * D);
    const t = randn(23, B * D);
    const p = randn(24, K * D);
    const one = run(a0, t, p, 1, B, D, K);
    const twice = run([...a0, ...a0], t, p, 2, B, D, K);
    for (const key of ['loss', 'ce', 'meMax'] as const) expectClose([twice[key]], [one[key]], 1e-6, 1e-6);
    const ab = run([...a0, ...a1], t, p, 2, B, D, K);
    const ba = run([...a1, ...a0], t, p, 2, B, D, K);
    expectClose([ba.loss], [ab.loss], 1e-6, 1e-6);
    // Permuting the images inside one view only (targets unchanged) changes the cross-entropy.
    const a1perm = [...a1.slice(D, 2 * D), ...a1.slice(0, D), ...a1.slice(2 * D)];
    expect(Math.abs(run([...a0, ...a1perm], t, p, 2, B, D, K).ce - ab.ce)).toBeGreaterThan(1e-4);
  });

  it('meMaxWeight scales only the regulariser; meMax is returned unweighted', () => {
    const [M, B, D, K] = [2, 2, 3, 4];
    const a = randn(31, M * B * D);
    const t = randn(32, B * D);
    const p = randn(33, K * D);
    const base = run(a, t, p, M, B, D, K);
    const none = run(a, t, p, M, B, D, K, { meMaxWeight: 0 });
    const three = run(a, t, p, M, B, D, K, { meMaxWeight: 3 });
    expect(none.meMax).toBe(base.meMax);
    expect(three.meMax).toBe(base.meMax);
    expect(none.loss).toBe(base.ce);
    expectClose([three.loss], [base.ce + 3 * base.meMax], 1e-6, 1e-6);
    expectClose([base.loss], [base.ce + base.meMax], 1e-6, 1e-6);
  });

  it('leaks no tensors (forward and gradient, with and without sinkhorn)', () => {
    const a = tf.randomNormal([6, 4]);
    const t = tf.randomNormal([3, 4]);
    const p = tf.randomNormal([5, 4]);
    for (const sinkhorn of [false, true]) {
      expectNoLeak(() => msnLoss(a, t, p, { sinkhorn }));
      expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => msnLoss(x, y, z, { sinkhorn }).loss)([a, t, p]));
    }
    tf.dispose([a, t, p]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const a = tf.zeros([6, 4]);
      const t = tf.zeros([3, 4]);
      const p = tf.zeros([5, 4]);
      expect(() => msnLoss(a, tf.zeros([3]), p)).toThrow(ShapeError);
      expect(() => msnLoss(a, tf.zeros([3]), p)).toThrow(/msnLoss: target must have rank 2 \[B, D\]/);
      expect(() => msnLoss(tf.zeros([6, 5]), t, p)).toThrow(/msnLoss: anchor must have shape \[\*, 4\].*got \[6, 5\]/);
      expect(() => msnLoss(tf.zeros([7, 4]), t, p)).toThrow(/msnLoss: anchor must have M·B rows.*got \[7, 4\]/);
      expect(() => msnLoss(tf.zeros([2, 4]), t, p)).toThrow(ShapeError);
      expect(() => msnLoss(a, t, tf.zeros([5, 3]))).toThrow(/msnLoss: prototypes must have shape \[\*, 4\].*got \[5, 3\]/);
      expect(() => msnLoss(a, t, tf.zeros([0, 4]))).toThrow(/msnLoss: prototypes must have K >= 1/);
      expect(() => msnLoss(a, tf.zeros([0, 4]), p)).toThrow(ShapeError);
      expect(() => msnLoss(a, t, tf.zeros([5, 4], 'int32'))).toThrow(/msnLoss: prototypes must be float32/);
      expect(() => msnLoss(tf.zeros([6, 4], 'int32'), t, p)).toThrow(ValueError);
      for (const bad of [0, -0.1, NaN]) {
        expect(() => msnLoss(a, t, p, { anchorTemp: bad })).toThrow(/msnLoss: anchorTemp/);
        expect(() => msnLoss(a, t, p, { targetTemp: bad })).toThrow(/msnLoss: targetTemp/);
      }
      expect(() => msnLoss(a, t, p, { meMaxWeight: -1 })).toThrow(/msnLoss: meMaxWeight must be in \[0, Infinity\)/);
      expect(() => msnLoss(a, t, p, { sinkhorn: 1 as unknown as boolean })).toThrow(/msnLoss: sinkhorn must be a boolean, got 1/);
      expect(() => msnLoss(a, t, p, { sinkhornIterations: 0 })).toThrow(/msnLoss: sinkhornIterations must be an integer >= 1/);
    });
  });
});
