import * as tf from '@tensorflow/tfjs';

/**
 * LayerNorm over the last axis, PyTorch `nn.LayerNorm(D, eps)`:
 * y = (x − mean) / √(var + eps) · weight + bias, with the biased variance (1/D).
 * Internal building block (no validation); callers pass matching shapes.
 *
 * @param x `[..., D]`
 * @param weight `[D]`
 * @param bias `[D]`
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), weight), bias);
  });
}
