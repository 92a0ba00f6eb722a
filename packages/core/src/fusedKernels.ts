import * as tf from '@tensorflow/tfjs';

/**
 * Names of the optional fused kernels a backend package may register (`@mmc/kernels` does on
 * wasm). `@mmc/models` runs them where the active backend has them, and composes tfjs ops
 * otherwise; the results agree to float32 rounding.
 *
 * - `geluForward`: inputs `{ x }` → `[Φ(x), x·Φ(x)]`, Φ(x) = ½(1 + erf(x/√2)), same shape as x;
 * - `geluBackward`: inputs `{ dy, x, cdf }` (cdf = Φ(x)) → `dy·(Φ(x) + x·φ(x))`, φ the normal pdf.
 *
 * Neither has a registered gradient: they are for hand-written backward passes (`tf.customGrad`).
 */
export const FUSED_KERNELS = { geluForward: 'MmcGeluForward', geluBackward: 'MmcGeluBackward' } as const;

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
