import type { ProductDims } from '../src/gemm';

/** The reference product for the kernel tests (float64 loops over the stored layouts, plus the bias). */
export { matMul64 as gemm64 } from '../../../test-setup/numeric';

/** The sizes of a product as the kernels see them (outBatch `[batch]`, or `[]` for one product). */
export function dimsOf(M: number, K: number, N: number, transposeA: boolean, transposeB: boolean, batchA = 1, batchB = 1): ProductDims {
  const batch = Math.max(batchA, batchB);
  return { M, K, N, transposeA, transposeB, batchA, batchB, batch, outBatch: batch === 1 ? [] : [batch] };
}
