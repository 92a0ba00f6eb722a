import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError } from '@mmc/core';
import { mimL1Loss } from '../src/mimL1Loss.js';
import { expectClose, expectNoLeak, numericGrad, randn } from '../../../test-setup/numeric.js';

/** Independent float64 reference: Σ|pred − target|·m / (C·Σm), 0 when Σm = 0. */
function refMimL1(pred: Float64Array, target: Float64Array, mask: Float64Array, [B, H, W, C]: number[]): number {
  let num = 0;
  let msum = 0;
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const m = mask[(b * H + y) * W + x];
        msum += m;
        for (let c = 0; c < C; c++) {
          const i = ((b * H + y) * W + x) * C + c;
          num += Math.abs(pred[i] - target[i]) * m;
        }
      }
    }
  }
  return msum === 0 ? 0 : num / (C * msum);
}

/** Random 0/1 mask with at least one 1 (unless `allowEmpty`). */
function randomMask(seed: number, n: number, ratio = 0.5): Float64Array {
  const rng = createRng(seed);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < ratio ? 1 : 0;
  if (!m.some((v) => v === 1)) m[rng.int(n)] = 1;
  return m;
}

/** Float32-rounded copy, so the reference sees exactly the values the tensors hold. */
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
/** float32 tensor from float64 host data. */
const T = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);

const SHAPES: number[][] = [
  [1, 1, 1, 1],
  [1, 1, 1, 3],
  [2, 3, 4, 3],
  [3, 5, 2, 1],
  [1, 4, 4, 3],
];
const SEEDS = [1, 2, 3];

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`mimL1Loss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

describe('mimL1Loss', () => {
  it('matches the float64 loop reference (several shapes and seeds)', () => {
    for (const shape of SHAPES) {
      const [B, H, W, C] = shape;
      const n = B * H * W * C;
      for (const seed of SEEDS) {
        const p = f32(randn(seed, n));
        const t = f32(randn(seed + 100, n));
        const m = randomMask(seed + 200, B * H * W);
        const got = tf.tidy(() =>
          mimL1Loss(T(p, [B, H, W, C]), T(t, [B, H, W, C]), T(m, [B, H, W])).dataSync()[0],
        );
        // float32 sums of O(100) terms of size O(1): atol 1e-5 + rtol 1e-5.
        const err = expectClose([got], [refMimL1(p, t, m, shape)], 1e-5, 1e-5);
        largestValueErr = Math.max(largestValueErr, err);
      }
    }
  });

  it('gradients w.r.t. pred and target match central differences of the reference', () => {
    for (const shape of [[1, 1, 1, 1], [2, 3, 2, 3], [1, 2, 3, 1]]) {
      const [B, H, W, C] = shape;
      const n = B * H * W * C;
      for (const seed of SEEDS) {
        const p = f32(randn(seed + 10, n));
        const t = f32(randn(seed + 110, n));
        const m = randomMask(seed + 210, B * H * W);
        const [gp, gt] = tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => mimL1Loss(a, b, T(m, [B, H, W])));
          return g([T(p, [B, H, W, C]), T(t, [B, H, W, C])]).map((x) => x.dataSync());
        });
        const np = numericGrad((x) => refMimL1(x, t, m, shape), p, 1e-6);
        const nt = numericGrad((x) => refMimL1(p, x, m, shape), t, 1e-6);
        // Piecewise-linear function, |d| ≫ h here: FD is exact up to float64 rounding (~1e-10);
        // the tf gradient ±1/(C·Σm) is float32: atol 1e-6.
        largestGradErr = Math.max(largestGradErr, expectClose(gp, np, 1e-6), expectClose(gt, nt, 1e-6));
      }
    }
  });

  it('the gradient of |pred − target| is exactly 0 where pred == target (torch semantics)', () => {
    const [B, H, W, C] = [1, 2, 2, 2];
    const p = f32(randn(7, 8));
    const t = Float64Array.from(p);
    // masked pixels 0 and 3; pixel 0 fully equal, pixel 3 differs in channel 1 only
    t[6] = p[6] + 0; // pixel 3, channel 0: equal
    t[7] = p[7] + 1; // pixel 3, channel 1: pred < target
    for (let i = 2; i < 6; i++) t[i] = p[i] - 2; // unmasked pixels
    const m = Float64Array.from([1, 0, 0, 1]);
    const g = tf.tidy(() =>
      tf.grad((a: tf.Tensor) => mimL1Loss(a, T(t, [B, H, W, C]), T(m, [B, H, W])))(
        T(p, [B, H, W, C]),
      ).dataSync(),
    );
    const s = 1 / (C * 2);
    // + 0 folds −0 into 0 (unmasked pixels may give −0 from sign(d)·0)
    expect(Array.from(g, (v) => v + 0)).toEqual([0, 0, 0, 0, 0, 0, 0, -s].map((v) => Math.fround(v)));
  });

  it('an all-clean batch gives 0 with finite zero gradients', () => {
    const [B, H, W, C] = [2, 2, 3, 3];
    const p = randn(11, B * H * W * C);
    const t = randn(12, B * H * W * C);
    const mask = tf.zeros([B, H, W]);
    const loss = mimL1Loss(T(p, [B, H, W, C]), T(t, [B, H, W, C]), mask);
    expect(loss.dataSync()[0]).toBe(0);
    const g = tf.tidy(() =>
      tf.grad((a: tf.Tensor) => mimL1Loss(a, T(t, [B, H, W, C]), mask))(T(p, [B, H, W, C])).dataSync(),
    );
    expect(Array.from(g).every((v) => v === 0)).toBe(true);
    tf.dispose([loss, mask]);
  });

  it('an all-masked batch is the plain mean absolute error', () => {
    const shape = [2, 3, 3, 3];
    const [B, H, W, C] = shape;
    const p = f32(randn(21, B * H * W * C));
    const t = f32(randn(22, B * H * W * C));
    const ones = new Float64Array(B * H * W).fill(1);
    let plain = 0;
    for (let i = 0; i < p.length; i++) plain += Math.abs(p[i] - t[i]);
    plain /= p.length;
    const got = tf.tidy(() =>
      mimL1Loss(T(p, [B, H, W, C]), T(t, [B, H, W, C]), T(ones, [B, H, W])).dataSync()[0],
    );
    largestValueErr = Math.max(largestValueErr, expectClose([got], [plain], 1e-5, 1e-5));
    expect(refMimL1(p, t, ones, shape)).toBeCloseTo(plain, 12);
  });

  it('does not depend on values at unmasked pixels', () => {
    const [B, H, W, C] = [2, 4, 4, 3];
    const p = randn(31, B * H * W * C);
    const t = randn(32, B * H * W * C);
    const m = randomMask(33, B * H * W, 0.4);
    const p2 = Float64Array.from(p);
    const t2 = Float64Array.from(t);
    for (let px = 0; px < B * H * W; px++) {
      if (m[px] === 0) for (let c = 0; c < C; c++) { p2[px * C + c] = 100 * (c + 1); t2[px * C + c] = -50; }
    }
    const run = (a: Float64Array, b: Float64Array) =>
      tf.tidy(() => mimL1Loss(T(a, [B, H, W, C]), T(b, [B, H, W, C]), T(m, [B, H, W])).dataSync()[0]);
    expect(run(p2, t2)).toBe(run(p, t));
  });

  it('accepts a bool pixelMask (same result as 0/1 float)', () => {
    const [B, H, W, C] = [1, 3, 3, 3];
    const p = randn(41, B * H * W * C);
    const t = randn(42, B * H * W * C);
    const m = randomMask(43, B * H * W);
    const [a, b] = tf.tidy(() => {
      const pt = T(p, [B, H, W, C]);
      const tt = T(t, [B, H, W, C]);
      return [
        mimL1Loss(pt, tt, T(m, [B, H, W])).dataSync()[0],
        mimL1Loss(pt, tt, tf.tensor3d(Array.from(m, (v) => v === 1), [B, H, W], 'bool')).dataSync()[0],
      ];
    });
    expect(b).toBe(a);
  });

  it('rejects bad shapes with ShapeError naming the argument', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 4, 4, 3]);
      const m = tf.ones([2, 4, 4]);
      expect(() => mimL1Loss(tf.zeros([2, 4, 4]), x, m)).toThrow(ShapeError);
      expect(() => mimL1Loss(tf.zeros([2, 4, 4]), x, m)).toThrow(/mimL1Loss: pred/);
      expect(() => mimL1Loss(x, tf.zeros([2, 4, 4, 1]), m)).toThrow(ShapeError);
      expect(() => mimL1Loss(x, tf.zeros([2, 4, 4, 1]), m)).toThrow(/target.*\[2, 4, 4, 3\].*got \[2, 4, 4, 1\]/);
      expect(() => mimL1Loss(x, x, tf.ones([2, 4, 4, 1]))).toThrow(ShapeError);
      expect(() => mimL1Loss(x, x, tf.ones([2, 4, 4, 1]))).toThrow(/pixelMask.*\[2, 4, 4\]/);
      expect(() => mimL1Loss(x, x, tf.ones([1, 4, 4]))).toThrow(/pixelMask/);
      expect(() => mimL1Loss(x, null as unknown as tf.Tensor, m)).toThrow(/target/);
    });
  });

  it('leaks no tensors (forward and gradient)', () => {
    const x = tf.randomNormal([2, 4, 4, 3]);
    const y = tf.randomNormal([2, 4, 4, 3]);
    const m = T(randomMask(51, 32), [2, 4, 4]);
    expectNoLeak(() => mimL1Loss(x, y, m));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => mimL1Loss(a, y, m))(x));
    tf.dispose([x, y, m]);
  });
});
