import * as tf from '@tensorflow/tfjs';
import { assertPositive } from '@mmc/core';

/**
 * Clips gradients by their global L2 norm (PyTorch `clip_grad_norm_`): when ‖g‖ > maxNorm every
 * gradient is scaled by maxNorm/(‖g‖ + 1e-6). Returns the new gradients (the inputs are disposed)
 * and the norm before clipping, read back once for logging.
 *
 * @example
 * ```ts
 * const { grads: clipped, norm } = clipGradNorm(grads, 3.0);
 * ```
 */
export function clipGradNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  assertPositive('clipGradNorm', 'maxNorm', maxNorm);
  const names = Object.keys(grads);
  const out: Record<string, tf.Tensor> = {};
  const norm = tf.tidy(() => {
    const sq = names.map((n) => tf.sum(tf.square(grads[n])));
    const total = tf.sqrt(tf.addN(sq.length ? sq : [tf.scalar(0)]));
    // factor = min(1, maxNorm / (norm + 1e-6)) computed on device: no host round trip per step
    const factor = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    for (const n of names) out[n] = tf.keep(tf.mul(grads[n], factor));
    return total as tf.Scalar;
  });
  tf.dispose(Object.values(grads));
  return { grads: out, norm };
}
