import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { FUSED_KERNELS, transposedMatMul } from '@mmc/core';
import { expectClose, expectNoLeak, f32, matMul64, randn } from '../../../test-setup/numeric';

/** float64 op(A)·op(B) for `[batch, ., .]` stacks (a batch of 1 broadcasts). */
function matMulOf(a: Float64Array, aShape: number[], tA: boolean, b: Float64Array, bShape: number[], tB: boolean) {
  const [ba, a1, a2] = aShape;
  const [bb, b1, b2] = bShape;
  const sizes = { M: tA ? a2 : a1, K: tA ? a1 : a2, N: tB ? b1 : b2, transposeA: tA, transposeB: tB, batchA: ba, batchB: bb, batch: Math.max(ba, bb) };
  return matMul64(a, b, null, sizes);
}

/** Input ranks of the Transpose kernels `f` runs. */
async function transposeRanks(f: () => tf.Tensor): Promise<number[]> {
  const info = await tf.profile(() => f());
  return info.kernels.filter((k) => k.name === 'Transpose').map((k) => k.inputShapes[0]?.length ?? 0);
}

// Declares the active backend's BatchMatMul as strided (what @mmc/kernels does on wasm).
let declared: string | null = null;
function declareStrided() {
  declared = tf.getBackend();
  const own = tf.getKernel('BatchMatMul', declared) as tf.KernelConfig;
  tf.registerKernel({ kernelName: FUSED_KERNELS.stridedMatMul, backendName: declared, kernelFunc: own.kernelFunc });
}
afterEach(() => {
  if (declared != null) tf.unregisterKernel(FUSED_KERNELS.stridedMatMul, declared);
  declared = null;
});

describe('transposedMatMul', () => {
  const cases: [number[], boolean, number[], boolean][] = [
    [[1, 5, 7], false, [1, 7, 3], false],
    [[2, 7, 5], true, [2, 7, 3], false],
    [[2, 5, 7], false, [2, 3, 7], true],
    [[3, 7, 5], true, [1, 3, 7], true], // b broadcasts over the batch
  ];
  for (const strided of [false, true]) {
    for (const [aShape, tA, bShape, tB] of cases) {
      it(`[${aShape}]${tA ? 'ᵀ' : ''} · [${bShape}]${tB ? 'ᵀ' : ''} equals float64 loops (${strided ? 'transpose flags' : 'explicit transposes'}), tidy`, () => {
        if (strided) declareStrided();
        const a = randn(1, aShape.reduce((p, d) => p * d, 1));
        const b = randn(2, bShape.reduce((p, d) => p * d, 1));
        const ta = tf.tensor(f32(a), aShape);
        const tb = tf.tensor(f32(b), bShape);
        const c = transposedMatMul(ta, tb, tA, tB);
        expect(c.shape).toEqual([Math.max(aShape[0], bShape[0]), tA ? aShape[2] : aShape[1], tB ? bShape[1] : bShape[2]]);
        expectClose(c.dataSync(), matMulOf(a, aShape, tA, b, bShape, tB), 1e-5, 1e-5);
        expectNoLeak(() => transposedMatMul(ta, tb, tA, tB));
        tf.dispose([ta, tb, c]);
      });
    }
  }

  it('transposes explicitly unless the backend declares FUSED_KERNELS.stridedMatMul, then passes the flags', async () => {
    const a = tf.ones([4, 6]);
    const b = tf.ones([5, 6]);
    const product = () => transposedMatMul(a, b, false, true);
    expect(await transposeRanks(product)).toEqual([2]);
    declareStrided();
    expect(await transposeRanks(product)).toEqual([]);
    expectClose(product().dataSync(), new Array(20).fill(6), 0);
    tf.dispose([a, b]);
  });

  it('is differentiable either way: gradients of Σ C ⊙ R equal R·op(B)ᵀ and op(A)ᵀ·R mapped back', () => {
    const [M, K, N] = [3, 4, 2];
    const a = randn(3, K * M);
    const b = randn(4, N * K);
    const r = randn(5, M * N);
    const grads = () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(transposedMatMul(x, y, true, true), tf.tensor(f32(r), [M, N]))))([
        tf.tensor(f32(a), [K, M]),
        tf.tensor(f32(b), [N, K]),
      ]);
    // dL/dA[k, i] = Σ_j R[i, j] B[j, k]; dL/dB[j, k] = Σ_i R[i, j] A[k, i].
    const da = new Float64Array(K * M);
    const db = new Float64Array(N * K);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) {
      da[k * M + i] += r[i * N + j] * b[j * K + k];
      db[j * K + k] += r[i * N + j] * a[k * M + i];
    }
    for (const strided of [false, true]) {
      if (strided) declareStrided();
      const [ga, gb] = grads();
      expectClose(ga.dataSync(), da, 1e-5, 1e-5);
      expectClose(gb.dataSync(), db, 1e-5, 1e-5);
      tf.dispose([ga, gb]);
    }
  });
});
