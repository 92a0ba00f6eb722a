import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '@mmc/core';
import { gelu } from '@mmc/models';
import { expectClose, expectNoLeak, f32 } from '../../../test-setup/numeric';
import { erf64, gelu64 } from './reference';

describe('erf64 (test reference)', () => {
  it('matches tabulated erf values (Python math.erf) to 1e-13', () => {
    const table: Array<[number, number]> = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, want] of table) {
      expect(Math.abs(erf64(x) - want)).toBeLessThan(1e-13);
      expect(Math.abs(erf64(-x) + want)).toBeLessThan(1e-13);
    }
  });
});

describe('gelu', () => {
  const xs = Array.from({ length: 1201 }, (_, i) => Math.fround(-6 + i * 0.01));

  it('tf.erf on this backend is within 2e-7 of a float64 erf on [-6, 6]', () => {
    const x = tf.tensor1d(f32(xs));
    const y = tf.erf(x);
    expectClose(y.dataSync(), xs.map(erf64), 2e-7);
    tf.dispose([x, y]);
  });

  it('equals ½·x·(1 + erf(x/√2)) in float64 within 5e-7 (exact GELU, not tanh)', () => {
    const x = tf.tensor1d(f32(xs));
    const y = gelu(x);
    expectClose(y.dataSync(), xs.map(gelu64), 5e-7, 1e-7);
    // the tanh approximation differs by up to ~5e-4 here, far outside the tolerance
    const tanhGelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expect(Math.max(...xs.map((v) => Math.abs(tanhGelu(v) - gelu64(v))))).toBeGreaterThan(1e-4);
    tf.dispose([x, y]);
  });

  it("gradient equals Φ(x) + x·φ(x) within 1e-6", () => {
    const x = tf.tensor1d(f32(xs));
    const g = tf.grad((v: tf.Tensor) => tf.sum(gelu(v)))(x);
    const want = xs.map((v) => 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp((-v * v) / 2)) / Math.sqrt(2 * Math.PI));
    expectClose(g.dataSync(), want, 1e-6);
    tf.dispose([x, g]);
  });

  it('keeps shape, leaks nothing, rejects non-tensors', () => {
    const x = tf.randomNormal([2, 3, 4]);
    expectNoLeak(() => gelu(x));
    const y = gelu(x);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(() => gelu(null as unknown as tf.Tensor)).toThrow(ShapeError);
    expect(() => gelu([1, 2] as unknown as tf.Tensor)).toThrow(/gelu: x must be a tf\.Tensor/);
    tf.dispose([x, y]);
  });
});
