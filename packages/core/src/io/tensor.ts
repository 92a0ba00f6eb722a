import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors.js';
import { int64ToInt32 } from './int64.js';
import { checkNdArray, type NdArray } from './ndarray.js';

/**
 * Converts a host {@link NdArray} (e.g. from `readNpy` / `readSafetensors`) to a tf.Tensor.
 * tfjs has float32, int32 and bool only, so: float32 → float32; float64 → float32 (rounded to
 * nearest); int32 → int32; int8, int16, uint8, uint16 → int32 (exact); int64 and uint32 → int32
 * with a range check (ValueError naming the first value outside [−2^31, 2^31 − 1]); bool →
 * bool. The data are always copied, so later changes to `nd.data` do not reach the tensor.
 *
 * @example
 * ```ts
 * const labels = toTensor(readNpy(bytes)); // int64 labels → int32 tensor
 * ```
 */
export function toTensor(nd: NdArray): tf.Tensor {
  const fn = 'toTensor';
  checkNdArray(fn, 'nd', nd);
  const { shape } = nd;
  switch (nd.dtype) {
    case 'float32':
      return tf.tensor(nd.data.slice(), shape, 'float32');
    case 'float64':
      return tf.tensor(Float32Array.from(nd.data), shape, 'float32');
    case 'int32':
      return tf.tensor(nd.data.slice(), shape, 'int32');
    case 'int8':
    case 'int16':
    case 'uint8':
    case 'uint16':
      return tf.tensor(Int32Array.from(nd.data), shape, 'int32');
    case 'int64':
      return tf.tensor(int64ToInt32(fn, `nd (int64, shape [${shape.join(', ')}])`, nd.data), shape, 'int32');
    case 'uint32': {
      const out = new Int32Array(nd.data.length);
      for (let i = 0; i < out.length; i++) {
        const v = nd.data[i];
        if (v > 2147483647) {
          throw new ValueError(`${fn}: nd holds the uint32 value ${v} at flat index ${i}, outside the int32 range of tfjs`);
        }
        out[i] = v;
      }
      return tf.tensor(out, shape, 'int32');
    }
    case 'bool':
      return tf.tensor(nd.data.slice(), shape, 'bool');
  }
}

/**
 * Downloads a tf.Tensor into a host {@link NdArray} (a copy): float32 → `'float32'`, int32 →
 * `'int32'`, bool → `'bool'` (0/1 bytes). Asynchronous (`tensor.data()`), so it works on GPU
 * backends without blocking. Throws ValueError for complex64 and string tensors.
 *
 * @example
 * ```ts
 * const bytes = writeNpy(await fromTensor(features)); // features: tf.Tensor2D [N, D]
 * ```
 */
export async function fromTensor(tensor: tf.Tensor): Promise<NdArray> {
  const fn = 'fromTensor';
  // Duck-typed rather than instanceof, so a tensor from a second copy of tfjs is accepted.
  if (tensor == null || typeof tensor.data !== 'function' || !Array.isArray(tensor.shape)) {
    throw new ValueError(`${fn}: tensor must be a tf.Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
  }
  const shape = [...tensor.shape];
  const dtype = tensor.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new ValueError(`${fn}: tensor dtype '${dtype}' has no NdArray equivalent (float32, int32 and bool do)`);
  }
  const values = await tensor.data();
  // Always copy: some backends hand out their own storage.
  if (dtype === 'float32') return { dtype, shape, data: Float32Array.from(values as Float32Array) };
  if (dtype === 'int32') return { dtype, shape, data: Int32Array.from(values as Int32Array) };
  return { dtype: 'bool', shape, data: Uint8Array.from(values as Uint8Array, (v) => (v ? 1 : 0)) };
}
