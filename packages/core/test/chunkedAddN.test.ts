import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { chunkedAddN } from '../src/chunkedAddN.js';
import { f32, randn } from '../../../test-setup/numeric';

describe('chunkedAddN', () => {
  const backend = () => tf.getBackend();

  it('sums any number of tensors in chunks of at most maxInputs, equal to tf.addN, freeing the partial sums', () => {
    const original = tf.getKernel('AddN', backend())!.kernelFunc;
    for (const [n, max] of [[2, 2], [7, 7], [8, 7], [23, 3], [50, 7]]) {
      const calls: number[] = [];
      const wrapped = chunkedAddN((args) => {
        calls.push((args.inputs as unknown as tf.TensorInfo[]).length);
        return original(args);
      }, () => max);
      const xs = Array.from({ length: n }, (_, i) => tf.tensor2d(f32(randn(100 + i, 6)), [2, 3]));
      const expected = tf.addN(xs);
      const dataIds = tf.engine().backend.numDataIds();
      const info = wrapped({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend: tf.engine().backend, attrs: {} }) as tf.TensorInfo;
      expect(tf.engine().backend.numDataIds()).toBe(dataIds + 1); // only the result remains
      const got = tf.engine().makeTensorFromTensorInfo(info);
      expect(Math.max(...calls)).toBeLessThanOrEqual(max);
      expect(calls.reduce((a, k) => a + k - 1, 0)).toBe(n - 1); // each call of k inputs removes k − 1 terms
      const e = expected.dataSync();
      const g = got.dataSync();
      for (let i = 0; i < e.length; i++) expect(g[i]).toBeCloseTo(e[i], 5);
      tf.dispose([...xs, expected, got]);
    }
  });

  it('passes sums within the limit through in one call', () => {
    const original = tf.getKernel('AddN', backend())!.kernelFunc;
    let calls = 0;
    const wrapped = chunkedAddN((args) => {
      calls++;
      return original(args);
    }, () => 7);
    const xs = [tf.scalar(1), tf.scalar(2), tf.scalar(3)];
    const info = wrapped({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend: tf.engine().backend, attrs: {} }) as tf.TensorInfo;
    const got = tf.engine().makeTensorFromTensorInfo(info);
    expect(calls).toBe(1);
    expect(got.dataSync()[0]).toBe(6);
    tf.dispose([...xs, got]);
  });
});
