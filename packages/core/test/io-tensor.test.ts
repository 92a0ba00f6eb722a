import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../src/errors.js';
import type { NdArray } from '../src/io/ndarray.js';
import { fromTensor, toTensor } from '../src/io/tensor.js';
import { expectNoLeak } from '../../../test-setup/numeric';
import { ALL_DTYPES, expectError, expectSameArray, randomArray } from './io-fixtures.js';

describe('toTensor', () => {
  it('maps every dtype to float32 / int32 / bool with the right values and shape', () => {
    let seed = 1;
    for (const dtype of ALL_DTYPES) {
      for (const shape of [[], [0], [3], [2, 1, 2, 2]]) {
        let nd = randomArray(seed++, dtype, shape);
        if (dtype === 'int64') nd = { dtype, shape, data: BigInt64Array.from(nd.data as BigInt64Array, (v) => BigInt.asIntN(32, v)) };
        if (dtype === 'uint32') nd = { dtype, shape, data: Uint32Array.from(nd.data as Uint32Array, (v) => v >>> 1) };
        const t = toTensor(nd);
        const want = dtype === 'bool' ? 'bool' : dtype === 'float32' || dtype === 'float64' ? 'float32' : 'int32';
        expect(t.dtype, dtype).toBe(want);
        expect(t.shape).toEqual(shape);
        const got = t.dataSync();
        const ref = Array.from(nd.data as ArrayLike<number | bigint>, (v) => (dtype === 'float64' ? Math.fround(Number(v)) : Number(v)));
        expect(Array.from(got), `${dtype} ${JSON.stringify(shape)}`).toEqual(ref);
        t.dispose();
      }
    }
  });

  it('copies the data: later changes to nd.data do not reach the tensor', () => {
    const nd: NdArray = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
    const t = toTensor(nd);
    nd.data[0] = 99;
    expect(Array.from(t.dataSync())).toEqual([1, 2]);
    t.dispose();
  });

  it('int64 and uint32 out of the int32 range → ValueError naming the value and index', () => {
    expectError(
      () => toTensor({ dtype: 'int64', shape: [2], data: new BigInt64Array([1n, 1n << 31n]) }),
      ValueError,
      'toTensor',
      '2147483648',
      'flat index 1',
    );
    expectError(() => toTensor({ dtype: 'uint32', shape: [1], data: new Uint32Array([4e9]) }), ValueError, 'uint32 value 4000000000 at flat index 0');
    expectError(() => toTensor({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), ShapeError, 'toTensor: nd.shape [3]');
  });

  it('leaks nothing on success or failure', () => {
    expectNoLeak(() => toTensor({ dtype: 'int32', shape: [2], data: new Int32Array([1, 2]) }));
    expectNoLeak(() => {
      expect(() => toTensor({ dtype: 'int64', shape: [1], data: new BigInt64Array([1n << 40n]) })).toThrow(ValueError);
    });
  });
});

describe('fromTensor', () => {
  it('float32, int32 and bool tensors round-trip through toTensor exactly', async () => {
    for (const nd of [randomArray(1, 'float32', [2, 3]), randomArray(2, 'int32', []), randomArray(3, 'bool', [4, 1]), randomArray(4, 'float32', [0, 5])]) {
      const t = toTensor(nd);
      expectSameArray(await fromTensor(t), nd);
      t.dispose();
    }
  });

  it('returns a copy (changing it does not change the tensor)', async () => {
    const t = tf.tensor1d([1, 2, 3]);
    const nd = await fromTensor(t);
    nd.data[0] = 42;
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('rejects non-tensors and complex/string tensors with a ValueError', async () => {
    await expect(fromTensor([1, 2] as never)).rejects.toThrow(/fromTensor: tensor must be a tf.Tensor/);
    // (wasm has no Complex kernel: a stand-in with the tensor interface.)
    const c = { dtype: 'complex64', shape: [1], data: async () => new Float32Array(2) } as unknown as tf.Tensor;
    await expect(fromTensor(c)).rejects.toThrow(ValueError);
    await expect(fromTensor(c)).rejects.toThrow(/complex64/);
    const s = tf.tensor(['a']);
    await expect(fromTensor(s)).rejects.toThrow(/'string'/);
    s.dispose();
  });
});
