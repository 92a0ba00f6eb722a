import * as tf from '@tensorflow/tfjs';

/**
 * Names of the optional fused kernels a backend package may register (`@mmc/kernels` does on
 * wasm). `@mmc/models` runs them where the active backend has them, and composes tfjs ops
 * otherwise; the results agree to float32 rounding.
 *
 * - `geluForward`: inputs `{ x }` → `[Φ(x), x·Φ(x)]`, Φ(x) = ½(1 + erf(x/√2)), same shape as x;
 * - `geluBackward`: inputs `{ dy, x, cdf }` (cdf = Φ(x)) → `dy·(Φ(x) + x·φ(x))`, φ the normal pdf;
 * - `dotTopK`: inputs `{ train: [M, D], queries: [Nq, D] }` (float32, finite), attrs `{ k }` (1 ≤ k ≤ M)
 *   → `[values [Nq, k] float32, indices [Nq, k] int32]`: for each query the k train rows of largest
 *   inner product, as `tf.topk(queries · trainᵀ, k, true)` (descending; of rows tied at the k-th
 *   value the lower ones are kept). `@mmc/eval`'s k-NN runs it on L2-normalised rows where present;
 * - `stridedMatMul`: inputs `{ a, b }`, attrs `{ transposeA, transposeB }` → `op(a)·op(b)`, the
 *   `BatchMatMul` contract. A backend package registers it to declare that its `BatchMatMul`
 *   reads transposed operands through strides, as fast as a plain product; then
 *   `transposedMatMul` passes the transpose flags to `tf.matMul` instead of transposing first.
 *
 * None has a registered gradient: the GELU pair is for hand-written backward passes (`tf.customGrad`).
 */
export const FUSED_KERNELS = {
  geluForward: 'MmcGeluForward',
  geluBackward: 'MmcGeluBackward',
  dotTopK: 'MmcDotTopK',
  stridedMatMul: 'MmcStridedMatMul',
} as const;

/**
 * Whether the active backend has a kernel named `name` (tfjs' kernel registry).
 *
 * @example
 * ```ts
 * if (hasBackendKernel(FUSED_KERNELS.geluForward)) { ... }
 * ```
 */
export function hasBackendKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
