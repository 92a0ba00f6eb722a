import * as tf from '@tensorflow/tfjs';

/** Per-channel normalisation of [0, 1] images: (x − mean)/std. */
export interface Normalization {
  mean: [number, number, number] | number[];
  std: [number, number, number] | number[];
}

/**
 * Default for @mmc/data's scenes: mean 0.5, std 0.25 per channel, so GMML's N(0, 1) noise fill has
 * the scale of the images (the role ImageNet's mean/std play in the official code).
 */
export const SCENES_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

/** `(images − mean)/std` per channel; images `[B, H, W, C]`. */
export function normalizeImages(images: tf.Tensor4D, n: Normalization): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(images, tf.tensor1d(n.mean)), tf.tensor1d(n.std))) as tf.Tensor4D;
}
