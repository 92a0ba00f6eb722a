import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { asFloatTensor, assertFiniteRows, inputShape, readLabels, toFloatTensor, toHostArray, toHostArrayShaped } from '../src/ndarray.js';
import { expectNoLeak } from '../../../test-setup/numeric';

describe('@mmc/eval input convention (tf.Tensor | { data, shape })', () => {
  it('inputShape validates { data, shape } and ranks', () => {
    expect(inputShape('f', 'x', { data: new Float64Array(6), shape: [2, 3] }, 2)).toEqual([2, 3]);
    expect(inputShape('f', 'x', { data: [], shape: [0, 3] })).toEqual([0, 3]);
    expect(() => inputShape('f', 'x', { data: [1, 2], shape: [3] })).toThrow(/f: x\.data has 2 values but x\.shape \[3\] needs 3/);
    expect(() => inputShape('f', 'x', { data: [1, 2], shape: [2.5] })).toThrow(/x\.shape must be an array of non-negative integers/);
    expect(() => inputShape('f', 'x', { data: 'ab', shape: [2] })).toThrow(/x\.data must be a numeric array/);
    expect(() => inputShape('f', 'x', [1, 2, 3], 1, '[M]')).toThrow(ShapeError);
    expect(() => inputShape('f', 'x', { data: [1, 2], shape: [2] }, 2, '[M, D]')).toThrow(/f: x must have rank 2 \[M, D\], got shape \[2\]/);
    const t = tf.zeros([2, 2, 2]);
    expect(() => inputShape('f', 'x', t, 2, '[M, D]')).toThrow(/got shape \[2, 2, 2\]/);
    t.dispose();
  });

  it('readLabels accepts tensors, { data, shape } and bare arrays; rejects non-integers', () => {
    const t = tf.tensor1d([2, 0, 1], 'int32');
    expect([...readLabels('f', 'y', t, 3)]).toEqual([2, 0, 1]);
    expect([...readLabels('f', 'y', { data: new Float32Array([1, 2]), shape: [2] })]).toEqual([1, 2]);
    expect([...readLabels('f', 'y', new Uint8Array([4, 5]))]).toEqual([4, 5]);
    expect([...readLabels('f', 'y', [-1, 3])]).toEqual([-1, 3]);
    expect(() => readLabels('f', 'y', [1, 2], 3)).toThrow(/f: y must have length 3, got 2/);
    expect(() => readLabels('f', 'y', [1, NaN])).toThrow(ValueError);
    expect(() => readLabels('f', 'y', [1, NaN])).toThrow(/y\[1\] must be an integer label, got NaN/);
    expect(() => readLabels('f', 'y', { data: [1, 2, 3, 4], shape: [2, 2] })).toThrow(/y must be a vector/);
    t.dispose();
  });

  it('assertFiniteRows finds the first non-finite row and column (tensor path checks on device)', () => {
    const data = new Float32Array(12);
    data[9] = -Infinity;
    expect(() => assertFiniteRows('f', 'x', { data, shape: [4, 3] }, 3)).toThrow(/f: x row 3 contains a non-finite value \(-Infinity at column 0\)/);
    const t = tf.tensor2d(data, [4, 3]);
    expect(() => assertFiniteRows('f', 'x', t, 3)).toThrow(/x row 3/);
    const ok = tf.ones([4, 3]);
    expectNoLeak(() => assertFiniteRows('f', 'x', ok, 3));
    tf.dispose([t, ok]);
  });

  it('toFloatTensor casts and reshapes', () => {
    tf.tidy(() => {
      const a = toFloatTensor(tf.tensor1d([1, 2, 3, 4], 'int32'), [2, 2]);
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual([2, 2]);
      const b = toFloatTensor({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] });
      expect(b.shape).toEqual([3, 2]);
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  it('toHostArray flattens tensors, { data, shape }, typed/flat arrays and rectangular nested arrays', () => {
    const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(toHostArray('f', 'x', t).shape).toEqual([2, 3]);
    expect(Array.from(toHostArray('f', 'x', t).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(toHostArray('f', 'x', { data: new Uint8Array(4), shape: [2, 2] }).shape).toEqual([2, 2]);
    expect(toHostArray('f', 'x', new Int32Array([7, 8]))).toEqual({ data: new Int32Array([7, 8]), shape: [2] });
    expect(toHostArray('f', 'x', [[[1], [2]], [[3], [4]]])).toEqual({ data: [1, 2, 3, 4], shape: [2, 2, 1] });
    expect(toHostArray('f', 'x', [])).toEqual({ data: [], shape: [0] });
    expect(() => toHostArray('f', 'x', [[1, 2], [3]])).toThrow(/f: x must be a rectangular nested array of shape \[2, 2\], x\[1\] is/);
    expect(() => toHostArray('f', 'x', [[1, 'a']])).toThrow(/f: x\[0\]\[1\] must be a number/);
    expect(() => toHostArray('f', 'x', { data: [1], shape: [2] })).toThrow(/f: x\.data has 1 values but x\.shape \[2\] needs 2/);
    expect(() => toHostArray('f', 'x', { data: new DataView(new ArrayBuffer(4)), shape: [4] })).toThrow(/x\.data must be a numeric array/);
    expect(() => toHostArray('f', 'x', 'abc')).toThrow(ShapeError);
    t.dispose();
  });

  it('toHostArrayShaped gives flat arrays their shape and checks the others; asFloatTensor owns what it makes', () => {
    expect(toHostArrayShaped('f', 'x', [1, 2, 3, 4, 5, 6], [2, 3], '[H, W]').shape).toEqual([2, 3]);
    expect(() => toHostArrayShaped('f', 'x', [1, 2, 3], [2, 3], '[H, W]')).toThrow(/f: x must have 6 elements \[H, W\] = \[2, 3\], got a flat array of length 3/);
    expect(() => toHostArrayShaped('f', 'x', [[1, 2]], [2, -1], '[H, W]')).toThrow(/f: x must have shape \[2, \*\] \[H, W\], got \[1, 2\]/);
    expect(toHostArrayShaped('f', 'x', [[1, 2]], [1, -1], '[H, W]').shape).toEqual([1, 2]);
    const t = tf.zeros([2, 2]);
    const a = asFloatTensor('f', 'x', t, 2, '[N, D]');
    expect(a.owned).toBe(false);
    expect(a.tensor).toBe(t);
    const b = asFloatTensor('f', 'x', [[1, 2], [3, 4]], 2, '[N, D]');
    expect(b.owned).toBe(true);
    expect(b.tensor.dtype).toBe('float32');
    expect(() => asFloatTensor('f', 'x', t, 3, '[h, w, D]')).toThrow(/f: x must have rank 3 \[h, w, D\], got rank 2 with shape \[2, 2\]/);
    expect(() => asFloatTensor('f', 'x', [1, 2], 2, '[N, D]')).toThrow(/got a flat array/);
    tf.dispose([t, b.tensor]);
  });
});
