import * as tf from '@tensorflow/tfjs';

/** ITU-R 601-2 luma weights (PIL's `convert('L')`: L = R·299/1000 + G·587/1000 + B·114/1000). */
export const LUMA_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/**
 * Internal: luma of NHWC images, `[B, H, W, 3] → [B, H, W, 1]` (a 1-channel image is its own
 * luma). Call inside a tidy.
 */
export function luma(images: tf.Tensor4D): tf.Tensor4D {
  if (images.shape[3] === 1) return images;
  return tf.sum(tf.mul(images, tf.tensor1d([...LUMA_WEIGHTS])), 3, true) as tf.Tensor4D;
}
