import * as tf from '@tensorflow/tfjs';
import { describe, ShapeError } from '@mmc/core';

/**
 * Exact (erf) GELU, PyTorch `nn.GELU()` / timm's default activation:
 *
 *     gelu(x) = ½ · x · (1 + erf(x / √2))
 *
 * Built on `tf.erf`, which has a kernel on cpu, wasm, webgl and webgpu and a registered
 * gradient (2/√π · exp(−x²)) in tfjs 4.22, so no custom erf is needed. The backends' erf is a
 * float32 rational approximation, max error ≈ 1.7e-7 on cpu and ≈ 5e-8 on wasm over [−6, 6]
 * (measured against a float64 series; see the tests). Not the tanh approximation.
 *
 * @param x any shape
 * @returns same shape as `x`
 * @example
 * ```ts
 * gelu(tf.tensor1d([-1, 0, 1])); // [-0.158655, 0, 0.841345]
 * ```
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (x == null || typeof (x as tf.Tensor).rank !== 'number') {
    throw new ShapeError(`gelu: x must be a tf.Tensor, got ${describe(x)}`);
  }
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}
