import * as tf from '@tensorflow/tfjs';
import { BackendError, FUSED_KERNELS } from '@mmc/core';
import { makeBatchMatMul, makeFusedMatMul } from './batchMatMul.js';
import { dotTopKKernel } from './dotTopK.js';
import { elementwiseModule, geluBackwardKernel, geluForwardKernel, makeLeadingReduce, makeUnarySimd } from './elementwise.js';
import { makeGatherV2 } from './gather.js';
import { makeIdentity } from './identity.js';
import { makeSlice, makeSplitV } from './slice.js';
import { tiledEngine } from './tiledEngine.js';

/** The kernels {@link registerWasmKernels} replaces. */
export const WASM_KERNELS = ['BatchMatMul', '_FusedMatMul', 'GatherV2', 'Identity', 'Slice', 'SplitV', 'Exp', 'Erf', 'Sum', 'Mean'] as const;

/** The fused kernels {@link registerWasmKernels} adds (names from `@mmc/core`'s `FUSED_KERNELS`), which `@mmc/models` runs where present. */
export const WASM_FUSED_KERNELS = [FUSED_KERNELS.geluForward, FUSED_KERNELS.geluBackward, FUSED_KERNELS.dotTopK, FUSED_KERNELS.stridedMatMul] as const;

let originals: Map<string, tf.KernelConfig> | null = null;

/**
 * Replaces ten kernels of tfjs' wasm backend (@tensorflow/tfjs-backend-wasm 4.x) with faster
 * ones; results are the same up to float32 summation order (and, for Exp/Erf, rounding):
 *
 * - `BatchMatMul` and `_FusedMatMul` (bias, no activation): every float32 product on our own
 *   register-tiled SIMD GEMM with worker threads where the engine has wasm SIMD and shared
 *   memory (Node; cross-origin-isolated pages), 1.2–1.6× XNNPACK's speed per thread; elsewhere
 *   batched and transposed products on XNNPACK, one call per batch element on views of the heap
 *   (tfjs runs them in a scalar loop, 7–20× slower) and `_FusedMatMul` left to tfjs;
 * - `GatherV2`: copies whole rows (tfjs computes an index per element, ~30 ns each);
 * - `Identity`: shares memory instead of copying (tfjs clones every tensor a gradient saves);
 * - `Slice` and `SplitV`: copy from the heap in place (tfjs copies the whole input first);
 * - `Exp` and `Erf` (softmax-free exponentials, GELU and its gradient): wasm SIMD polynomials,
 *   2.5–5× faster than tfjs' scalar loops, within 1 ulp (exp) and 5e-7 (erf) of float64;
 * - `Sum` and `Mean` over leading axes (bias gradients, BatchNorm): SIMD column sums in place
 *   (tfjs transposes the reduced axes to the end first).
 *
 * and adds four kernels, {@link WASM_FUSED_KERNELS}: `stridedMatMul`, the `BatchMatMul` above under
 * `@mmc/core`'s name that declares transposed products as fast as plain ones here (so
 * `transposedMatMul`, and with it the blocks' backward passes, pass transpose flags instead of
 * transposing first: our GEMM reads them through strides, the XNNPACK path transposes itself);
 * exact GELU's forward (Φ(u) and u·Φ(u))
 * and backward in one SIMD pass each, which `@mmc/models`' transformer blocks use when present
 * (only where the engine has wasm SIMD), and `dotTopK`, the exact top-k by inner product that
 * `@mmc/eval`'s k-NN uses when present: a register-tiled SIMD product with the top-k folded in, on
 * the wasm backend's thread count (Node: worker threads on a shared memory; only where the engine
 * has wasm SIMD and shared memory; fused multiply-add where it has relaxed SIMD).
 *
 * Global (tfjs has one kernel registry) and idempotent; {@link unregisterWasmKernels} restores
 * tfjs' kernels. Needs the wasm backend's kernels registered first (import
 * `@tensorflow/tfjs-backend-wasm`, e.g. through `useBackend('wasm')`); other backends are untouched.
 *
 * @param options `gemm: false` keeps the matMuls on XNNPACK even where our GEMM could run (to
 *   compare the two; default true)
 * @returns true when it registered, false when already registered
 * @throws BackendError when tfjs-backend-wasm's kernels are not registered
 * @example
 * ```ts
 * await useBackend('wasm');
 * registerWasmKernels();
 * await train(recipe, data, { steps: 100, batchSize: 32 }); // attention's matMuls on XNNPACK
 * ```
 */
export function registerWasmKernels(options: { gemm?: boolean } = {}): boolean {
  if (originals) return false;
  const saved = new Map<string, tf.KernelConfig>();
  for (const name of WASM_KERNELS) {
    const k = tf.getKernel(name, 'wasm');
    if (k == null) {
      throw new BackendError(
        `registerWasmKernels: the wasm backend's kernel ${name} is not registered; import @tensorflow/tfjs-backend-wasm (or call useBackend('wasm')) first`,
        '@tensorflow/tfjs-backend-wasm',
      );
    }
    saved.set(name, k);
  }
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (transpose == null) throw new BackendError("registerWasmKernels: the wasm backend's Transpose kernel is not registered", '@tensorflow/tfjs-backend-wasm');
  type F = Parameters<typeof makeIdentity>[0];
  const original = (name: string) => (saved.get(name) as tf.KernelConfig).kernelFunc as unknown as F;
  const engine = tiledEngine();
  const gemmEngine = options.gemm === false ? null : engine;
  const replacements: Record<(typeof WASM_KERNELS)[number], unknown> = {
    BatchMatMul: makeBatchMatMul(original('BatchMatMul'), transpose.kernelFunc as unknown as F, gemmEngine),
    _FusedMatMul: makeFusedMatMul(original('_FusedMatMul'), gemmEngine),
    GatherV2: makeGatherV2(original('GatherV2')),
    Identity: makeIdentity(original('Identity')),
    Slice: makeSlice(original('Slice')),
    SplitV: makeSplitV(original('SplitV')),
    Exp: makeUnarySimd('exp', original('Exp')),
    Erf: makeUnarySimd('erf', original('Erf')),
    Sum: makeLeadingReduce('sum', original('Sum')),
    Mean: makeLeadingReduce('mean', original('Mean')),
  };
  for (const name of WASM_KERNELS) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...(saved.get(name) as tf.KernelConfig), kernelFunc: replacements[name] as tf.KernelFunc });
  }
  tf.registerKernel({ kernelName: FUSED_KERNELS.stridedMatMul, backendName: 'wasm', kernelFunc: replacements.BatchMatMul as tf.KernelFunc });
  // Engines without wasm SIMD get no fused kernels, so @mmc/models keeps composing tfjs ops there.
  if (elementwiseModule() != null) {
    tf.registerKernel({ kernelName: FUSED_KERNELS.geluForward, backendName: 'wasm', kernelFunc: geluForwardKernel as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: FUSED_KERNELS.geluBackward, backendName: 'wasm', kernelFunc: geluBackwardKernel as unknown as tf.KernelFunc });
  }
  if (engine != null) {
    tf.registerKernel({ kernelName: FUSED_KERNELS.dotTopK, backendName: 'wasm', kernelFunc: dotTopKKernel as unknown as tf.KernelFunc });
  }
  originals = saved;
  return true;
}

/**
 * Puts tfjs-backend-wasm's own kernels back in place of {@link registerWasmKernels}'s.
 *
 * @returns true when it restored them, false when ours were not registered
 * @example
 * ```ts
 * unregisterWasmKernels(); // measure tfjs' own kernels again
 * ```
 */
export function unregisterWasmKernels(): boolean {
  if (!originals) return false;
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  for (const name of WASM_FUSED_KERNELS) if (tf.getKernel(name, 'wasm') != null) tf.unregisterKernel(name, 'wasm');
  originals = null;
  return true;
}
