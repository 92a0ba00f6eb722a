import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { sinkhorn } from '../src/sinkhorn.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric.js';
import { refSinkhorn, softmax } from './distillationReference.js';

/** Positive [B][K] assignment probabilities: row softmax of N(0, scale²) logits. */
function probs(seed: number, B: number, K: number, scale = 2): number[][] {
  const x = randn(seed, B * K, scale);
  return Array.from({ length: B }, (_, b) => softmax(x.subarray(b * K, (b + 1) * K)));
}

function run(Q: number[][], iterations?: number): number[][] {
  return tf.tidy(() => {
    const out = sinkhorn(tf.tensor2d(f32(Q.flat()), [Q.length, Q[0].length]), iterations === undefined ? {} : { iterations });
    return out.arraySync() as number[][];
  });
}

const rowSums = (Q: number[][]) => Q.map((r) => r.reduce((a, x) => a + x, 0));
const colSums = (Q: number[][]) => Q[0].map((_, k) => Q.reduce((a, r) => a + r[k], 0));

let largestValueErr = 0;
afterAll(() => {
  console.log(`sinkhorn: largest value error ${largestValueErr.toExponential(2)}`);
});

describe('sinkhorn', () => {
  it("matches the float64 loop reference of MSN's distributed_sinkhorn (1, 3 and 10 iterations)", () => {
    for (const [B, K] of [[1, 1], [1, 4], [3, 1], [4, 6], [8, 3]]) {
      for (const seed of [1, 2, 3]) {
        const Q = probs(seed, B, K);
        for (const it of [1, 3, 10]) {
          // Entries ≤ B; float32 divisions: atol 1e-6 + rtol 1e-5.
          largestValueErr = Math.max(largestValueErr, expectClose(run(Q, it).flat(), refSinkhorn(Q, it).flat(), 1e-6, 1e-5));
        }
        largestValueErr = Math.max(largestValueErr, expectClose(run(Q).flat(), refSinkhorn(Q, 3).flat(), 1e-6, 1e-5));
      }
    }
  });

  it('marginals: every row sums to 1; prototype sums approach B/K (exactly B/K after many iterations)', () => {
    const [B, K] = [8, 4];
    const Q = probs(5, B, K, 1);
    const out3 = run(Q);
    expectClose(rowSums(out3), new Array(B).fill(1), 1e-6);
    const out = run(Q, 200);
    expectClose(rowSums(out), new Array(B).fill(1), 1e-6);
    expectClose(colSums(out), new Array(K).fill(B / K), 1e-4);
    // Balancing moves the prototype marginals towards B/K.
    const dev = (cols: number[]) => Math.max(...cols.map((c) => Math.abs(c - B / K)));
    expect(dev(colSums(out3))).toBeLessThan(dev(colSums(Q)));
  });

  it('uniform input stays uniform; the overall scale of the input does not matter', () => {
    const U = Array.from({ length: 3 }, () => new Array(5).fill(0.2));
    expectClose(run(U).flat(), new Array(15).fill(0.2), 1e-7);
    const Q = probs(6, 4, 3);
    expectClose(run(Q.map((r) => r.map((x) => 7 * x))).flat(), run(Q).flat(), 1e-6, 1e-6);
  });

  it('an all-zero prototype column stays 0 (no NaN)', () => {
    const Q = [[0.5, 0, 0.5], [0.2, 0, 0.8]];
    const out = run(Q).flat();
    expect(out.every(Number.isFinite)).toBe(true);
    expect(out[1]).toBe(0);
    expect(out[4]).toBe(0);
    expectClose(rowSums(run(Q)), [1, 1], 1e-6);
  });

  it('leaks no tensors (forward and gradient)', () => {
    const x = tf.softmax(tf.randomNormal([4, 3]));
    expectNoLeak(() => sinkhorn(x));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(sinkhorn(a), tf.range(0, 12).reshape([4, 3]))))(x));
    x.dispose();
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      expect(() => sinkhorn(tf.ones([2, 3, 1]))).toThrow(ShapeError);
      expect(() => sinkhorn(tf.ones([2, 3, 1]))).toThrow(/sinkhorn: scores must have rank 2 \[B, K\]/);
      expect(() => sinkhorn(tf.ones([0, 3]))).toThrow(/sinkhorn: scores must have B, K >= 1, got \[0, 3\]/);
      expect(() => sinkhorn(tf.ones([2, 3], 'int32'))).toThrow(/sinkhorn: scores must be float32/);
      for (const iterations of [0, 1.5, -1, NaN]) {
        expect(() => sinkhorn(tf.ones([2, 3]), { iterations })).toThrow(ValueError);
        expect(() => sinkhorn(tf.ones([2, 3]), { iterations })).toThrow(/sinkhorn: iterations must be an integer >= 1/);
      }
    });
  });
});
