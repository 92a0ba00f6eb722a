/**
 * columnTopK (the host-side top-k of knnSearch / knnClassify on cpu and wasm) against two
 * independent computations: a full sort of every column (value descending, row ascending) and
 * tf.topk on the transposed matrix, on data with many exact ties.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '@mmc/core';
import { columnTopK } from '../src/columnTopK.js';

function naive(m: Float32Array, rows: number, cols: number, k: number) {
  const values: number[] = [];
  const indices: number[] = [];
  for (let c = 0; c < cols; c++) {
    const order = Array.from({ length: rows }, (_, r) => r).sort((a, b) => m[b * cols + c] - m[a * cols + c] || a - b);
    for (const r of order.slice(0, k)) {
      values.push(m[r * cols + c]);
      indices.push(r);
    }
  }
  return { values: Float32Array.from(values), indices: Int32Array.from(indices) };
}

describe('columnTopK', () => {
  const rng = createRng(11);
  for (const [rows, cols, k, levels] of [
    [500, 7, 20, 5], // heavy ties: 5 distinct values
    [300, 13, 1, 1000],
    [64, 3, 64, 4], // k = rows: everything, sorted
    [1, 4, 1, 10],
  ] as const) {
    it(`matches a full sort and tf.topk: ${rows}×${cols}, k ${k}, ${levels} distinct values`, () => {
      const m = Float32Array.from({ length: rows * cols }, () => Math.floor(rng.next() * levels) / levels - 0.5);
      const got = columnTopK(m, rows, cols, k);
      const want = naive(m, rows, cols, k);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      expect(Array.from(got.values)).toEqual(Array.from(want.values));
      const before = tf.memory().numTensors;
      const ref = tf.tidy(() => tf.topk(tf.transpose(tf.tensor2d(m, [rows, cols])), k, true));
      expect(Array.from(got.indices)).toEqual(Array.from(ref.indices.dataSync()));
      expect(Array.from(got.values)).toEqual(Array.from(ref.values.dataSync()));
      tf.dispose([ref.values, ref.indices]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
