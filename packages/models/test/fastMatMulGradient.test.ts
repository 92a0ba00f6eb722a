import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerFastMatMulGradient } from '@mmc/models';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

// tfjs' own BatchMatMul gradient, captured before anything in this file registers ours.
const original = tf.getGradient('BatchMatMul');

/** Row-major strides. */
function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Float64 loops: C = op(A)·op(B) with numpy batch broadcasting; L = Σ R ⊙ C;
 * returns dL/dA and dL/dB in A's and B's stored layouts (broadcast axes accumulate).
 */
function refGrads(a: Float64Array, aShape: number[], tA: boolean, b: Float64Array, bShape: number[], tB: boolean, r: Float64Array) {
  const ra = aShape.length;
  const rb = bShape.length;
  const M = tA ? aShape[ra - 1] : aShape[ra - 2];
  const K = tA ? aShape[ra - 2] : aShape[ra - 1];
  const Nn = tB ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...new Array(rank - batchA.length).fill(1), ...batchA];
  const padB = [...new Array(rank - batchB.length).fill(1), ...batchB];
  const batch = padA.map((d, i) => Math.max(d, padB[i]));
  const nBatch = batch.reduce((x, y) => x * y, 1);
  const sa = strides(aShape);
  const sb = strides(bShape);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  const idxA = (bi: number[], i: number, k: number) => {
    let off = 0;
    bi.slice(rank - batchA.length).forEach((v, j) => (off += (batchA[j] === 1 ? 0 : v) * sa[j]));
    return off + (tA ? k * sa[ra - 2] + i : i * sa[ra - 2] + k);
  };
  const idxB = (bi: number[], k: number, j: number) => {
    let off = 0;
    bi.slice(rank - batchB.length).forEach((v, jj) => (off += (batchB[jj] === 1 ? 0 : v) * sb[jj]));
    return off + (tB ? j * sb[rb - 2] + k : k * sb[rb - 2] + j);
  };
  for (let n = 0; n < nBatch; n++) {
    const bi: number[] = [];
    let rem = n;
    for (let d = rank - 1; d >= 0; d--) {
      bi[d] = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < Nn; j++) {
        const rv = r[(n * M + i) * Nn + j];
        for (let k = 0; k < K; k++) {
          da[idxA(bi, i, k)] += rv * b[idxB(bi, k, j)];
          db[idxB(bi, k, j)] += rv * a[idxA(bi, i, k)];
        }
      }
    }
  }
  return { da, db, outShape: [...batch, M, Nn] };
}

// [A shape without transposes, B shape without transposes]: op(A) is [.., M, K], op(B) [.., K, N]
const cases: Array<[number[], number[]]> = [
  [[1, 1], [1, 1]],
  [[3, 4], [4, 5]],
  [[2, 3, 4], [2, 4, 5]],
  [[2, 2, 3, 4], [2, 2, 4, 5]],
  [[2, 3, 4], [4, 5]], // B broadcast over the batch
  [[3, 4], [2, 4, 5]], // A broadcast
  [[1, 3, 4], [3, 4, 2]], // batch dim 1 broadcast
];
const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];

describe('registerFastMatMulGradient', () => {
  it('is idempotent and replaces the registered BatchMatMul gradient', () => {
    registerFastMatMulGradient();
    expect(registerFastMatMulGradient()).toBe(false);
    const now = tf.getGradient('BatchMatMul');
    expect(now).toBeDefined();
    expect(now).not.toBe(original);
    expect(now.inputsToSave).toEqual(['a', 'b']);
  });

  it('matches float64 loops for all four transpose combinations, batched and broadcast (atol 1e-5)', () => {
    registerFastMatMulGradient();
    let seed = 1;
    for (const [sa0, sb0] of cases) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const aShape = tA ? swap(sa0) : sa0;
          const bShape = tB ? swap(sb0) : sb0;
          const aN = aShape.reduce((x, y) => x * y, 1);
          const bN = bShape.reduce((x, y) => x * y, 1);
          const a = randn(seed++, aN);
          const b = randn(seed++, bN);
          const ta = tf.tensor(f32(a), aShape);
          const tb = tf.tensor(f32(b), bShape);
          const out = tf.matMul(ta, tb, tA, tB);
          const r = randn(seed++, out.size);
          const tr = tf.tensor(f32(r), out.shape);
          const ref = refGrads(a, aShape, tA, b, bShape, tB, r);
          expect(out.shape).toEqual(ref.outShape);
          const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), tr)))([ta, tb]);
          expect(ga.shape).toEqual(aShape);
          expect(gb.shape).toEqual(bShape);
          expectClose(ga.dataSync(), ref.da, 1e-5, 1e-6);
          expectClose(gb.dataSync(), ref.db, 1e-5, 1e-6);
          tf.dispose([ta, tb, out, tr, ga, gb]);
        }
      }
    }
  });

  it("equals tfjs' original gradient where that one applies (no broadcasting)", () => {
    registerFastMatMulGradient();
    expect(String(original.gradFunc)).not.toMatch(/reduceTo/); // really tfjs' own
    let seed = 500;
    for (const [sa0, sb0] of cases.slice(0, 4)) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const ta = tf.tensor(f32(randn(seed++, sa0.reduce((x, y) => x * y, 1))), tA ? swap(sa0) : sa0);
          const tb = tf.tensor(f32(randn(seed++, sb0.reduce((x, y) => x * y, 1))), tB ? swap(sb0) : sb0);
          const dy = tf.tidy(() => tf.randomNormal(tf.matMul(ta, tb, tA, tB).shape, 0, 1, 'float32', seed++));
          const [fa, fb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB))([ta, tb], dy);
          const orig = original.gradFunc(dy, [ta, tb], { transposeA: tA, transposeB: tB });
          const oa = orig.a();
          const ob = orig.b();
          expectClose(fa.dataSync(), oa.dataSync(), 1e-5, 1e-6);
          expectClose(fb.dataSync(), ob.dataSync(), 1e-5, 1e-6);
          tf.dispose([ta, tb, dy, fa, fb, oa, ob]);
        }
      }
    }
  });

  it('leaks no tensor', () => {
    registerFastMatMulGradient();
    const a = tf.randomNormal([2, 3, 4]);
    const b = tf.randomNormal([4, 5]);
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]));
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, true)))([b, a]));
    tf.dispose([a, b]);
  });
});
