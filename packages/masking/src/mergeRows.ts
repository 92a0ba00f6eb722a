import * as tf from '@tensorflow/tfjs';

/** A processed subset of a batch: `values[j]` replaces batch row `indices[j]`. */
export interface RowPart {
  indices: readonly number[];
  values: tf.Tensor4D;
}

/**
 * Internal: the batch `images` with the rows of each part replaced by its values (one concat and
 * one gather; a copy of `images` when there are no parts). Call inside a tidy.
 */
export function mergeRows(images: tf.Tensor4D, parts: readonly RowPart[]): tf.Tensor4D {
  const B = images.shape[0];
  if (parts.length === 0) return tf.clone(images);
  const only = parts[0];
  if (parts.length === 1 && only.indices.length === B && only.indices.every((v, i) => v === i)) return only.values;
  let total = 0;
  for (const p of parts) total += p.indices.length;
  const mapping = new Int32Array(B);
  for (let b = 0; b < B; b++) mapping[b] = total + b; // untouched rows come from `images`
  let offset = 0;
  for (const p of parts) {
    p.indices.forEach((row, j) => (mapping[row] = offset + j));
    offset += p.indices.length;
  }
  return tf.gather(tf.concat([...parts.map((p) => p.values), images], 0), tf.tensor1d(mapping, 'int32'), 0) as tf.Tensor4D;
}

/** Internal: the batch rows `indices` of `images` (the tensor itself when that is every row in order). */
export function takeRows(images: tf.Tensor4D, indices: readonly number[]): tf.Tensor4D {
  if (indices.length === images.shape[0] && indices.every((v, i) => v === i)) return images;
  return tf.gather(images, tf.tensor1d(Int32Array.from(indices), 'int32'), 0) as tf.Tensor4D;
}
