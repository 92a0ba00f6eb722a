import * as tf from '@tensorflow/tfjs';
import { ValueError, describe } from '@mmc/core';
import type { ImageBatch } from './sceneDataset.js';

/** Tensors of a batch. */
export interface BatchTensors {
  /** `[B, H, W, C]` float32. */
  images: tf.Tensor4D;
  /** `[B, H, W]` int32 class ids (present when the batch has class masks). */
  classMasks?: tf.Tensor3D;
  /** `[B, H, W]` int32 instance ids (present when the batch has instance masks). */
  instanceMasks?: tf.Tensor3D;
}

/**
 * Turns a batch from `dataset.batch(indices)` into tfjs tensors (images float32 NHWC, masks
 * int32 `[B, H, W]`). The caller owns (and disposes) the returned tensors.
 *
 * @example
 * ```ts
 * const { images, classMasks } = toTensors(scenes({ count: 8, seed: 0 }).batch([0, 1, 2, 3]));
 * images.shape; // [4, 64, 64, 3]
 * tf.dispose([images, classMasks]);
 * ```
 */
export function toTensors(batch: ImageBatch & { classMasks?: Uint8Array; instanceMasks?: Uint8Array }): BatchTensors {
  const fn = 'toTensors';
  if (batch == null || !(batch.images instanceof Float32Array) || !Array.isArray(batch.shape) || batch.shape.length !== 4) {
    throw new ValueError(`${fn}: batch must be { images: Float32Array, shape: [B, H, W, C] } from dataset.batch(), got ${describe(batch)}`);
  }
  const [B, H, W, C] = batch.shape;
  if (batch.images.length !== B * H * W * C) {
    throw new ValueError(`${fn}: batch.images must have B·H·W·C = ${B * H * W * C} values for shape [${batch.shape.join(', ')}], got ${batch.images.length}`);
  }
  const mask = (name: string, m: Uint8Array | undefined): tf.Tensor3D | undefined => {
    if (m === undefined) return undefined;
    if (!(m instanceof Uint8Array) || m.length !== B * H * W) {
      throw new ValueError(`${fn}: batch.${name} must be a Uint8Array of B·H·W = ${B * H * W} values, got ${describe(m)}${m instanceof Uint8Array ? ` of length ${m.length}` : ''}`);
    }
    return tf.tensor3d(Int32Array.from(m), [B, H, W], 'int32');
  };
  const classMasks = mask('classMasks', batch.classMasks);
  const instanceMasks = mask('instanceMasks', batch.instanceMasks);
  const images = tf.tensor4d(batch.images, [B, H, W, C], 'float32');
  const out: BatchTensors = { images };
  if (classMasks) out.classMasks = classMasks;
  if (instanceMasks) out.instanceMasks = instanceMasks;
  return out;
}
