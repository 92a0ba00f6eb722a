import type { ProductDims } from '../src/gemm';

/** The reference product for the kernel tests: float64 loops over the stored layouts, `[batch, M, N]`, plus the bias (a batch of 1 broadcasts). */
export function gemm64(a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | null, d: ProductDims): Float64Array {
  const { M, K, N, transposeA, transposeB, batchA, batchB, batch } = d;
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const oa = (batchA === 1 ? 0 : t) * M * K;
    const ob = (batchB === 1 ? 0 : t) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) s += a[oa + (transposeA ? k * M + m : m * K + k)] * b[ob + (transposeB ? n * K + k : k * N + n)];
        out[(t * M + m) * N + n] = s;
      }
    }
  }
  return out;
}

/** The sizes of a product as the kernels see them (outBatch `[batch]`, or `[]` for one product). */
export function dimsOf(M: number, K: number, N: number, transposeA: boolean, transposeB: boolean, batchA = 1, batchB = 1): ProductDims {
  const batch = Math.max(batchA, batchB);
  return { M, K, N, transposeA, transposeB, batchA, batchB, batch, outBatch: batch === 1 ? [] : [batch] };
}
