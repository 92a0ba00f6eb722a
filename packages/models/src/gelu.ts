import * as tf from '@tensorflow/tfjs';
import { describe, FUSED_KERNELS, hasBackendKernel, ShapeError } from '@mmc/core';

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

/**
 * Exact GELU's forward parts for a hand-written backward pass: `[Φ(u), gelu(u) = u·Φ(u)]` with
 * Φ(u) = ½(1 + erf(u/√2)). One fused kernel where the backend registered
 * `FUSED_KERNELS.geluForward` (`@mmc/kernels` on wasm), tfjs ops otherwise. Internal (no
 * gradient, no validation).
 */
export function geluForward(u: tf.Tensor): [cdf: tf.Tensor, g: tf.Tensor] {
  if (hasBackendKernel(FUSED_KERNELS.geluForward)) return tf.engine().runKernel(FUSED_KERNELS.geluForward, { x: u }) as unknown as [tf.Tensor, tf.Tensor];
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1), 0.5);
  return [cdf, tf.mul(u, cdf)];
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU's backward: `du = dy·(Φ(u) + u·φ(u))`, φ(u) = exp(−u²/2)/√(2π), given `cdf` = Φ(u)
 * from {@link geluForward}. One fused kernel where the backend registered
 * `FUSED_KERNELS.geluBackward`, tfjs ops otherwise. Internal (no gradient, no validation).
 */
export function geluBackward(dy: tf.Tensor, u: tf.Tensor, cdf: tf.Tensor): tf.Tensor {
  if (hasBackendKernel(FUSED_KERNELS.geluBackward)) return tf.engine().runKernel(FUSED_KERNELS.geluBackward, { dy, x: u, cdf }) as tf.Tensor;
  return tf.tidy(() => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(u), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(cdf, tf.mul(u, pdf)));
  });
}
