import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { knnClassify } from '../src/knnClassify.js';
import { knnSearch } from '../src/knnSearch.js';
import { knnVote } from '../src/knnVote.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Float64 cosine neighbours by a full sort (stable): [{ i, s }] of the k best per query. */
function refNeighbors(train: Float64Array, test: Float64Array, D: number, k: number) {
  const norm = (x: Float64Array, r: number) => {
    let n = 0;
    for (let d = 0; d < D; d++) n += x[r * D + d] ** 2;
    return Math.sqrt(n);
  };
  const nTr = train.length / D;
  const out: { i: number; s: number }[][] = [];
  let nearTies = 0;
  for (let q = 0; q < test.length / D; q++) {
    const row: { i: number; s: number }[] = [];
    for (let i = 0; i < nTr; i++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += train[i * D + d] * test[q * D + d];
      row.push({ i, s: dot / (norm(train, i) * norm(test, q)) });
    }
    row.sort((a, b) => b.s - a.s);
    if (k < nTr && row[k - 1].s - row[k].s < 1e-5) nearTies++;
    out.push(row.slice(0, k));
  }
  return { out, nearTies };
}

/** Float64 vote: Σ exp(s/T) per class, classes sorted by score then index. */
function refVote(rows: { i: number; s: number }[][], yTrain: number[], yTest: number[], C: number, T: number) {
  const predictions: number[] = [];
  let top1 = 0;
  let top5 = 0;
  for (let q = 0; q < rows.length; q++) {
    const score = new Array<number>(C).fill(0);
    for (const { i, s } of rows[q]) score[yTrain[i]] += Math.exp(s / T);
    const ranked = score.map((s, c) => ({ s, c })).sort((a, b) => b.s - a.s || a.c - b.c);
    predictions.push(ranked[0].c);
    if (ranked[0].c === yTest[q]) top1++;
    if (ranked.slice(0, Math.min(5, rows[q].length)).some((r) => r.c === yTest[q])) top5++;
  }
  return { predictions, top1: top1 / rows.length, top5: top5 / rows.length };
}

describe('knnSearch', () => {
  it('matches a float64 sort of cosine similarities (several sizes, k = 1 … Ntrain)', () => {
    const cases: [number, number, number, number, number][] = [
      // seed, nTrain, nTest, D, k
      [1, 1, 1, 3, 1],
      [2, 40, 7, 5, 1],
      [3, 40, 7, 5, 6],
      [4, 25, 12, 9, 25],
    ];
    for (const [seed, nTr, nTe, D, k] of cases) {
      const train = randn(seed, nTr * D);
      const test = randn(seed + 100, nTe * D);
      const ref = refNeighbors(train, test, D, k);
      expect(ref.nearTies).toBe(0);
      for (const chunkSize of [undefined, 1, 3]) {
        const r = knnSearch({ data: f32(train), shape: [nTr, D] }, tf.tensor2d(f32(test), [nTe, D]), { k, chunkSize });
        expect(r.shape).toEqual([nTe, k]);
        expect([...r.indices]).toEqual(ref.out.flatMap((row) => row.map((e) => e.i)));
        // float32 features and matMul vs float64: |cos| ≤ 1, so 1e-5 absolute
        expectClose(r.similarities, ref.out.flatMap((row) => row.map((e) => e.s)), 1e-5);
      }
    }
  });

  it('rejects bad inputs naming the argument; leaks nothing', () => {
    const train = { data: [1, 0, 0, 1], shape: [2, 2] };
    expect(() => knnSearch(train, { data: [1, 0, 0], shape: [1, 3] })).toThrow(ShapeError);
    expect(() => knnSearch(train, { data: [1, 0, 0], shape: [1, 3] })).toThrow(/knnSearch: testFeatures must have shape \[Ntest, 2\]/);
    expect(() => knnSearch(train, { data: [1, 0], shape: [1, 2] }, { k: 3 })).toThrow(/knnSearch: k must be <= the number of train rows 2/);
    expect(() => knnSearch(train, { data: [1, NaN], shape: [1, 2] }, { k: 1 })).toThrow(/knnSearch: testFeatures row 0 contains a non-finite value/);
    const a = tf.randomNormal([30, 4]);
    const b = tf.randomNormal([5, 4]);
    expectNoLeak(() => {
      knnSearch(a, b, { k: 3, chunkSize: 2 });
    });
    tf.dispose([a, b]);
  });
});

describe('knnVote', () => {
  it('hand-checked: the temperature decides between one close and two farther neighbours', () => {
    const base = { neighbors: { data: [0, 1, 2], shape: [1, 3] }, similarities: { data: [0.9, 0.8, 0.1], shape: [1, 3] }, trainLabels: [0, 1, 1], numClasses: 2 };
    // T = 0.07: e^{12.86} vs e^{11.43} + e^{1.43} → class 0
    expect([...knnVote({ ...base, temperature: 0.07 }).predictions]).toEqual([0]);
    // T = 1: e^{0.9} = 2.46 vs e^{0.8} + e^{0.1} = 3.33 → class 1
    expect([...knnVote({ ...base, temperature: 1, testLabels: [1] }).predictions]).toEqual([1]);
    expect(knnVote({ ...base, temperature: 1, testLabels: [1] }).top1).toBe(1);
  });

  it('equals a float64 reference vote, in any neighbour order, and knnClassify on exact neighbours', () => {
    for (const [seed, nTr, nTe, D, C, k, T] of [
      [5, 60, 15, 6, 4, 7, 0.07],
      [6, 30, 9, 3, 9, 1, 0.1],
      [7, 50, 11, 8, 3, 20, 0.5],
    ] as const) {
      const rng = createRng(seed);
      const train = randn(seed, nTr * D);
      const test = randn(seed + 7, nTe * D);
      const yTrain = Array.from({ length: nTr }, () => rng.int(C));
      const yTest = Array.from({ length: nTe }, () => rng.int(C));
      const { out } = refNeighbors(train, test, D, k);
      const ref = refVote(out, yTrain, yTest, C, T);
      // shuffle each row: the vote must not depend on the order
      const rows = out.map((row) => rng.shuffle([...row]));
      const v = knnVote({
        neighbors: { data: rows.flatMap((r) => r.map((e) => e.i)), shape: [nTe, k] },
        similarities: { data: rows.flatMap((r) => r.map((e) => e.s)), shape: [nTe, k] },
        trainLabels: Int32Array.from(yTrain),
        testLabels: yTest,
        numClasses: C,
        temperature: T,
      });
      expect([...v.predictions]).toEqual(ref.predictions);
      expect(v.top1).toBeCloseTo(ref.top1, 12);
      expect(v.top5).toBeCloseTo(ref.top5, 12);
      const trainFeatures = { data: f32(train), shape: [nTr, D] };
      const testFeatures = { data: f32(test), shape: [nTe, D] };
      const s = knnSearch(trainFeatures, testFeatures, { k });
      const w = knnVote({ neighbors: { data: s.indices, shape: s.shape }, similarities: { data: s.similarities, shape: s.shape }, trainLabels: yTrain, testLabels: yTest, numClasses: C, temperature: T });
      const c = knnClassify({ trainFeatures, testFeatures, trainLabels: yTrain, testLabels: yTest, numClasses: C, k, temperature: T });
      expect([...w.predictions]).toEqual([...c.predictions]);
      expect(w.top1).toBe(c.top1);
      expect(w.top5).toBe(c.top5);
    }
  });

  it('rejects bad neighbours and similarities naming the argument and the row', () => {
    const base = { neighbors: { data: [0, 1], shape: [1, 2] }, similarities: { data: [0.5, 0.4], shape: [1, 2] }, trainLabels: [0, 1], numClasses: 2 };
    expect(() => knnVote({ ...base, neighbors: { data: [0, 2], shape: [1, 2] } })).toThrow(ValueError);
    expect(() => knnVote({ ...base, neighbors: { data: [0, 2], shape: [1, 2] } })).toThrow(/knnVote: neighbors\[0\]\[1\] = 2 is not a train row index in \[0, 2\)/);
    expect(() => knnVote({ ...base, neighbors: { data: [0, 0.5], shape: [1, 2] } })).toThrow(/neighbors\[0\]\[1\] = 0.5/);
    expect(() => knnVote({ ...base, similarities: { data: [0.5], shape: [1, 1] } })).toThrow(/knnVote: similarities must have shape \[1, 2\] \(like neighbors\), got \[1, 1\]/);
    expect(() => knnVote({ ...base, similarities: { data: [0.5, NaN], shape: [1, 2] } })).toThrow(/similarities row 0 contains a non-finite value \(NaN at column 1\)/);
    expect(() => knnVote({ ...base, testLabels: [0, 1] })).toThrow(/knnVote: testLabels must have length 1/);
    expect(() => knnVote({ ...base, trainLabels: [0, 3] })).toThrow(/trainLabels\[1\] = 3 is outside/);
    expect(() => knnVote({ ...base, temperature: -1 })).toThrow(/temperature must be > 0/);
  });
});
