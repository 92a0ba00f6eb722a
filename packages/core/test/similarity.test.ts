import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cosineSimilarity, l2Normalize, patchify, ShapeError, unpatchify, ValueError } from '@mmc/core';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

function refCos(a: Float64Array, b: Float64Array, N: number, M: number, D: number): Float64Array {
  const out = new Float64Array(N * M);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < M; j++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let d = 0; d < D; d++) {
        dot += a[i * D + d] * b[j * D + d];
        na += a[i * D + d] ** 2;
        nb += b[j * D + d] ** 2;
      }
      out[i * M + j] = dot / (Math.max(Math.sqrt(na), 1e-12) * Math.max(Math.sqrt(nb), 1e-12));
    }
  }
  return out;
}

describe('l2Normalize', () => {
  it('matches x / max(|x|, eps) row by row; zero rows stay zero', () => {
    const x = tf.tensor2d([[3, 4], [0, 0], [-1, 0]]);
    expectClose(l2Normalize(x).dataSync(), [0.6, 0.8, 0, 0, -1, 0], 1e-6);
    const col = l2Normalize(tf.tensor2d([[3, 1], [4, 0]]), 0);
    expectClose(col.dataSync(), [0.6, 1, 0.8, 0], 1e-6);
    tf.dispose([x, col]);
  });
  it('validates axis and eps', () => {
    const x = tf.zeros([2, 2]);
    expect(() => l2Normalize(x, 2)).toThrow(/axis must be an integer in \[-2, 1\]/);
    expect(() => l2Normalize(x, -1, 0)).toThrow(ValueError);
    x.dispose();
  });
});

describe('cosineSimilarity', () => {
  it('matches a float64 loop for batched and unbatched inputs', () => {
    for (const [B, N, M, D] of [[1, 1, 1, 1], [2, 3, 5, 4], [3, 7, 2, 16]]) {
      const a = randn(B * 10 + N, B * N * D);
      const b = randn(B * 20 + M, B * M * D);
      const ta = tf.tensor3d(f32(a), [B, N, D]);
      const tb = tf.tensor3d(f32(b), [B, M, D]);
      const out = expectNoLeakReturn(() => cosineSimilarity(ta, tb));
      tf.dispose([ta, tb]);
      expect(out.shape).toEqual([B, N, M]);
      const got = out.dataSync();
      for (let i = 0; i < B; i++) {
        const ref = refCos(a.subarray(i * N * D, (i + 1) * N * D), b.subarray(i * M * D, (i + 1) * M * D), N, M, D);
        expectClose(got.subarray(i * N * M, (i + 1) * N * M), ref, 2e-6);
      }
      out.dispose();
    }
  });
  it('is invariant to positive scaling of either input', () => {
    const a = tf.tensor2d(f32(randn(1, 12)), [3, 4]);
    const b = tf.tensor2d(f32(randn(2, 8)), [2, 4]);
    const s1 = cosineSimilarity(a, b);
    const s2 = cosineSimilarity(tf.mul(a, 7.5), tf.mul(b, 0.01));
    expectClose(s1.dataSync(), s2.dataSync(), 2e-6);
    tf.dispose([a, b, s1, s2]);
  });
  it('rejects mismatched D and ranks', () => {
    expect(() => cosineSimilarity(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow(ShapeError);
    expect(() => cosineSimilarity(tf.zeros([3]), tf.zeros([2, 3]))).toThrow(/a must be a tf.Tensor of rank >= 2/);
  });
});

describe('patchify / unpatchify', () => {
  it('orders each patch (row in patch, col in patch, channel), patches row-major', () => {
    const [B, H, W, C, p] = [2, 4, 6, 3, 2];
    const x = randn(5, B * H * W * C);
    const out = patchify(tf.tensor4d(f32(x), [B, H, W, C]), p);
    const w = W / p;
    expect(out.shape).toEqual([B, (H / p) * w, p * p * C]);
    const got = out.dataSync();
    const ref = new Float64Array(got.length);
    let k = 0;
    for (let b = 0; b < B; b++)
      for (let pr = 0; pr < H / p; pr++)
        for (let pc = 0; pc < w; pc++)
          for (let i = 0; i < p; i++)
            for (let j = 0; j < p; j++)
              for (let c = 0; c < C; c++) ref[k++] = x[((b * H + pr * p + i) * W + pc * p + j) * C + c];
    expectClose(got, ref, 1e-6);
    const back = unpatchify(out, p, H, W);
    expectClose(back.dataSync(), x, 1e-6);
    tf.dispose([out, back]);
  });
  it('is tidy and passes gradients', () => {
    const x = tf.randomNormal([1, 4, 4, 1]);
    expectNoLeak(() => patchify(x, 2));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(patchify(t, 2), 2)))(x);
    expectClose(g.dataSync(), new Array(16).fill(2), 0);
    tf.dispose([x, g]);
  });
  it('rejects sizes not divisible by p', () => {
    expect(() => patchify(tf.zeros([1, 5, 4, 3]), 2)).toThrow(/divisible by p=2/);
    expect(() => unpatchify(tf.zeros([1, 3, 12]), 2, 4, 4)).toThrow(/must have shape \[B, 4, p\*p\*C\]/);
  });
});

function expectNoLeakReturn(fn: () => tf.Tensor): tf.Tensor {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before + 1);
  return out;
}
