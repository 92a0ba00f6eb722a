/**
 * Shared test helpers for numerical checks: independent float64 references, central finite
 * differences, seeded random data, and tensor-leak checks. Test-only; never imported by src.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createRng } from '@mmc/core';

/**
 * Seeded N(0, 1) data as a Float64Array whose values are exactly representable in float32, so a
 * float64 reference and a float32 tensor (`f32(x)`) see identical inputs.
 */
export function randn(seed: number, n: number, scale = 1): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rng.normal() * scale);
  return out;
}

/** tf.tensor() rejects Float64Array: convert reference data for tensor construction. */
export function f32(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x);
}

/**
 * Central finite-difference gradient of a scalar function of a flat Float64Array:
 * g_i = (f(x + h·e_i) − f(x − h·e_i)) / 2h.
 */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const orig = xp[i];
    xp[i] = orig + h;
    const fp = f(xp);
    xp[i] = orig - h;
    const fm = f(xp);
    xp[i] = orig;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** max_i |a_i − b_i| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Asserts max |a − b| ≤ atol + rtol·max|b| and returns the max abs error (for reporting). */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol = 0): number {
  const err = maxAbsDiff(a, b);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const tol = atol + rtol * scale;
  if (!(err <= tol)) {
    throw new Error(`max abs error ${err.toExponential(3)} exceeds tolerance ${tol.toExponential(3)} (atol ${atol}, rtol ${rtol})`);
  }
  recordError(err);
  return err;
}

/** Runs `fn` and asserts that it leaves tf.memory().numTensors unchanged (disposing its result). */
export function expectNoLeak(fn: () => tf.TensorContainer | void): void {
  const before = tf.memory().numTensors;
  const out = fn();
  if (out) tf.dispose(out as tf.TensorContainer);
  expect(tf.memory().numTensors).toBe(before);
}

/** The largest error seen by expectClose in this process (reported at the end of test files). */
let largestError = 0;
function recordError(err: number): void {
  largestError = Math.max(largestError, err);
}
export function largestErrorSeen(): number {
  return largestError;
}

/** Sizes of a reference product: op(A) is `[M, K]`, op(B) `[K, N]`, stacks of `batchA` / `batchB` (a stack of 1 broadcasts) into `batch`. */
export type ProductSizes = { M: number; K: number; N: number; transposeA: boolean; transposeB: boolean; batchA: number; batchB: number; batch: number };

/** The reference product: float64 loops over the stored layouts (A `[batchA, M, K]` or `[batchA, K, M]` transposed, likewise B), plus an optional bias per column → `[batch, M, N]`. */
export function matMul64(a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | null, d: ProductSizes): Float64Array {
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
