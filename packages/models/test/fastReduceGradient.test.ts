import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerFastReduceGradient } from '@mmc/models';
import { expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/**
 * Hand-derived: for L = Σ_out R ⊙ reduce(x, axes), dL/dx at each position is R at the output
 * position it reduces into (Sum), divided by the number of reduced elements (Mean).
 */
function refGrad(shape: number[], axes: number[], r: Float64Array, mean: boolean): Float64Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = axes.reduce((p, a) => p * shape[a], 1);
  const g = new Float64Array(n);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let out = 0;
    let stride = 1;
    const idx = new Array(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    for (let d = shape.length - 1; d >= 0; d--) {
      out += (axes.includes(d) ? 0 : idx[d]) * stride;
      stride *= outShape[d];
    }
    g[flat] = mean ? r[out] / count : r[out];
  }
  return g;
}

describe('registerFastReduceGradient', () => {
  const cases: { shape: number[]; axis: number | number[] | null; keepDims: boolean }[] = [
    { shape: [4, 5, 6], axis: null, keepDims: false },
    { shape: [4, 5, 6], axis: 1, keepDims: false },
    { shape: [4, 5, 6], axis: -1, keepDims: true },
    { shape: [4, 5, 6], axis: [0, 2], keepDims: false },
    { shape: [3, 4, 5, 2], axis: [0, 1], keepDims: true },
    { shape: [7], axis: 0, keepDims: false },
  ];

  it('Sum and Mean gradients equal the hand-derived ones for every axis form (float32 rounding only)', () => {
    registerFastReduceGradient();
    expect(registerFastReduceGradient()).toBe(false);
    for (const [ci, { shape, axis, keepDims }] of cases.entries()) {
      const x = tf.tensor(f32(randn(ci, shape.reduce((p, d) => p * d, 1))), shape);
      const axes = axis === null ? shape.map((_, i) => i) : (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + shape.length : a));
      const outSize = shape.reduce((p, d, i) => (axes.includes(i) ? p : p * d), 1);
      const r64 = randn(100 + ci, outSize);
      for (const mean of [false, true]) {
        const reduce = (t: tf.Tensor) => (mean ? tf.mean(t, axis ?? undefined, keepDims) : tf.sum(t, axis ?? undefined, keepDims));
        const outShape = reduce(x).shape;
        const r = tf.tensor(f32(r64), outShape);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reduce(t), r)))(x);
        expect(g.shape).toEqual(shape);
        const want = refGrad(shape, axes, Float64Array.from(f32(r64)), mean);
        const got = g.dataSync();
        // Sum: the gradient is a copy of R, exact; Mean: R / n, one float32 division.
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(mean ? 6e-8 * Math.abs(want[i]) : 0);
        tf.dispose([r, g]);
      }
      x.dispose();
    }
  });

  it('leaves no tensor behind and keeps int32 inputs on tfjs’ own gradient', () => {
    registerFastReduceGradient();
    const x = tf.tensor(f32(randn(7, 24)), [2, 3, 4]);
    expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mean(tf.mul(t, t), [0, 2])))(x));
    const i = tf.tensor([1, 2, 3, 4], [2, 2], 'int32');
    const gi = tf.grad((t: tf.Tensor) => tf.sum(t, 1).toFloat().sum())(i);
    expect(Array.from(gi.dataSync())).toEqual([1, 1, 1, 1]);
    tf.dispose([x, i, gi]);
  });
});
