import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS, hasBackendKernel } from './fusedKernels.js';
import { transposeLast2 } from './similarity.js';

/**
 * `op(a)·op(b)` (op = optional swap of the last two axes), computed the way the active backend
 * runs fastest: tfjs' own wasm `BatchMatMul` with `transposeA`/`transposeB` is 7–10× slower than
 * a plain product, so there the operands are transposed first (`transposeLast2`) and the product
 * is a plain matMul; a backend that registered `FUSED_KERNELS.stridedMatMul` (`@mmc/kernels` on
 * wasm: its GEMM reads transposed operands through strides) gets the flags instead, which saves
 * the transposes (≈ 13 ns per float for large 2-D ones in wasm's Transpose kernel). Every other
 * backend also transposes first, as it always did. Same values either way (float32 rounding).
 * Internal building block of the hand-written backward passes (no validation); differentiable.
 *
 * @param a `[..., M, K]` (`[..., K, M]` with `transposeA`)
 * @param b `[..., K, N]` (`[..., N, K]` with `transposeB`)
 * @returns `[..., M, N]`
 * @example
 * ```ts
 * const dW = transposedMatMul(x, dy, true, false); // xᵀ·dy, [in, out]
 * ```
 */
export function transposedMatMul<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): T {
  if (hasBackendKernel(FUSED_KERNELS.stridedMatMul)) return tf.matMul(a, b, transposeA, transposeB) as T;
  return tf.tidy(() => tf.matMul(transposeA ? transposeLast2(a) : a, transposeB ? transposeLast2(b) : b) as T);
}
