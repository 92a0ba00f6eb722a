import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { knnClassify } from '../src/knnClassify.js';
import { expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/**
 * Float64 reference of DINO's knn_classifier, written as plainly as possible: cosine similarity
 * to every train row, sort descending (stable), keep k, add exp(s/T) per class, sort classes by
 * score descending (stable → lower class index first on ties).
 */
function refKnn(train: Float64Array, yTrain: number[], test: Float64Array, yTest: number[], D: number, C: number, k: number, T: number) {
  const nTr = yTrain.length;
  const nTe = test.length / D;
  const unit = (x: Float64Array, i: number) => {
    const v = Array.from(x.subarray(i * D, (i + 1) * D));
    const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    return v.map((e) => e / n);
  };
  const trU = Array.from({ length: nTr }, (_, i) => unit(train, i));
  const predictions: number[] = [];
  let top1 = 0;
  let top5 = 0;
  let ambiguous = 0;
  for (let q = 0; q < nTe; q++) {
    const u = unit(test, q);
    const sims = trU.map((t, i) => ({ i, s: t.reduce((a, v, d) => a + v * u[d], 0) }));
    sims.sort((a, b) => b.s - a.s);
    if (k < nTr && Math.abs(sims[k - 1].s - sims[k].s) < 1e-5) ambiguous++;
    const scores = new Array<number>(C).fill(0);
    for (let j = 0; j < k; j++) scores[yTrain[sims[j].i]] += Math.exp(sims[j].s / T);
    const ranked = scores.map((s, c) => ({ s, c })).sort((a, b) => b.s - a.s || a.c - b.c);
    if (C > 1 && ranked[0].s > 0 && Math.abs(ranked[0].s - ranked[1].s) < 1e-4 * ranked[0].s) ambiguous++;
    predictions.push(ranked[0].c);
    if (ranked[0].c === yTest[q]) top1++;
    if (ranked.slice(0, Math.min(5, k)).some((r) => r.c === yTest[q])) top5++;
  }
  return { predictions, top1: top1 / nTe, top5: top5 / nTe, ambiguous };
}

describe('knnClassify', () => {
  it('matches a float64 reference of DINO knn_classifier (several k, T, sizes)', () => {
    const cases: [number, number, number, number, number, number, number][] = [
      // seed, nTrain, nTest, D, C, k, T
      [1, 1, 1, 3, 1, 1, 0.07],
      [2, 50, 13, 8, 5, 1, 0.07],
      [3, 50, 13, 8, 5, 3, 0.07],
      [4, 60, 20, 6, 7, 20, 0.07],
      [5, 40, 9, 4, 3, 10, 0.5],
      [6, 30, 11, 5, 12, 30, 0.1],
    ];
    for (const [seed, nTr, nTe, D, C, k, T] of cases) {
      const rng = createRng(seed);
      const train = randn(seed * 10, nTr * D);
      const test = randn(seed * 10 + 1, nTe * D);
      const yTrain = Array.from({ length: nTr }, () => rng.int(C));
      const yTest = Array.from({ length: nTe }, () => rng.int(C));
      const ref = refKnn(train, yTrain, test, yTest, D, C, k, T);
      expect(ref.ambiguous).toBe(0); // no near-tie that float32 could flip: exact comparison below
      const trainT = tf.tensor2d(f32(train), [nTr, D]);
      const out = knnClassify({
        trainFeatures: trainT,
        trainLabels: yTrain,
        testFeatures: { data: f32(test), shape: [nTe, D] },
        testLabels: Int32Array.from(yTest),
        numClasses: C,
        k,
        temperature: T,
      });
      expect([...out.predictions]).toEqual(ref.predictions);
      expect(out.top1).toBeCloseTo(ref.top1, 12);
      expect(out.top5).toBeCloseTo(ref.top5, 12);
      trainT.dispose();
    }
  });

  it('breaks ties in the vote toward the lower class index (4 train points)', () => {
    // query e1; train (1, 1) and (1, −1) both at cos 1/√2 (exactly equal in float32), two far points
    const trainFeatures = { data: [1, 1, 1, -1, -1, 0, 0, -1], shape: [4, 2] };
    const testFeatures = { data: [1, 0], shape: [1, 2] };
    const a = knnClassify({ trainFeatures, trainLabels: [1, 0, 2, 2], testFeatures, numClasses: 3, k: 2 });
    expect([...a.predictions]).toEqual([0]);
    const b = knnClassify({ trainFeatures, trainLabels: [2, 1, 0, 0], testFeatures, numClasses: 3, k: 2 });
    expect([...b.predictions]).toEqual([1]);
    // k = 4: classes 1 and 0 get e^{10.1} each, class 2 two tiny weights: still the 0/1 tie → 0
    const c = knnClassify({ trainFeatures, trainLabels: [1, 0, 2, 2], testFeatures, numClasses: 3, k: 4, testLabels: [1] });
    expect([...c.predictions]).toEqual([0]);
    expect(c.top1).toBe(0);
    expect(c.top5).toBe(1);
  });

  it('top-5 looks at the first min(5, k) ranked classes (zero-score classes ranked by index)', () => {
    // every neighbour has class 7; the query's label 0 is ranked second (first zero-score class)
    const trainFeatures = { data: [1, 0, 0.9, 0.1, 0.8, 0.3, 0.7, 0.2, 0.5, 0.5], shape: [5, 2] };
    const common = { trainFeatures, trainLabels: [7, 7, 7, 7, 7], testFeatures: { data: [1, 0], shape: [1, 2] }, testLabels: [0], numClasses: 10 };
    expect(knnClassify({ ...common, k: 1 }).top5).toBe(0); // only rank 1 considered
    expect(knnClassify({ ...common, k: 2 }).top5).toBe(1); // ranks [7, 0]
    const label4 = { ...common, testLabels: [4] };
    expect(knnClassify({ ...label4, k: 4 }).top5).toBe(0); // ranks [7, 0, 1, 2]
    expect(knnClassify({ ...label4, k: 5 }).top5).toBe(0); // ranks [7, 0, 1, 2, 3]
    expect(knnClassify({ ...{ ...common, testLabels: [3] }, k: 5 }).top5).toBe(1);
  });

  it('chunked == unchunked, including one test row', () => {
    const nTr = 80;
    const nTe = 23;
    const D = 10;
    const rng = createRng(8);
    const trainFeatures = tf.tensor2d(f32(randn(20, nTr * D)), [nTr, D]);
    const testFeatures = tf.tensor2d(f32(randn(21, nTe * D)), [nTe, D]);
    const trainLabels = Array.from({ length: nTr }, () => rng.int(6));
    const testLabels = Array.from({ length: nTe }, () => rng.int(6));
    const base = knnClassify({ trainFeatures, trainLabels, testFeatures, testLabels, numClasses: 6, k: 7 });
    for (const chunkSize of [1, 4, 22, 23, 500]) {
      const r = knnClassify({ trainFeatures, trainLabels, testFeatures, testLabels, numClasses: 6, k: 7, chunkSize });
      expect([...r.predictions]).toEqual([...base.predictions]);
      expect(r.top1).toBe(base.top1);
      expect(r.top5).toBe(base.top5);
    }
    const one = tf.slice(testFeatures, [5, 0], [1, D]);
    const r1 = knnClassify({ trainFeatures, trainLabels, testFeatures: one, numClasses: 6, k: 7 });
    expect(r1.predictions[0]).toBe(base.predictions[5]);
    expect(r1.top1).toBeUndefined();
    tf.dispose([trainFeatures, testFeatures, one]);
  });

  it('smoke: 2000 × 64 train, 300 queries, chunked == default', () => {
    const rng = createRng(9);
    const centers = randn(30, 10 * 64, 3);
    const make = (n: number, seed: number) => {
      const noise = randn(seed, n * 64);
      const labels = Array.from({ length: n }, () => rng.int(10));
      const data = new Float32Array(n * 64);
      for (let i = 0; i < n; i++) for (let d = 0; d < 64; d++) data[i * 64 + d] = centers[labels[i] * 64 + d] + noise[i * 64 + d];
      return { features: { data, shape: [n, 64] }, labels };
    };
    const tr = make(2000, 31);
    const te = make(300, 32);
    const opts = { trainFeatures: tr.features, trainLabels: tr.labels, testFeatures: te.features, testLabels: te.labels, numClasses: 10 };
    const a = knnClassify(opts);
    const b = knnClassify({ ...opts, chunkSize: 64 });
    expect([...b.predictions]).toEqual([...a.predictions]);
    expect(a.top1).toBeGreaterThan(0.9); // well-separated clusters
    expect(a.top5).toBeGreaterThanOrEqual(a.top1!);
  });

  it('rejects bad inputs naming the argument (and the row)', () => {
    const trainFeatures = { data: new Float32Array([1, 0, 0, 1, 1, 1]), shape: [3, 2] };
    const testFeatures = { data: new Float32Array([1, 0, 0, 1]), shape: [2, 2] };
    const base = { trainFeatures, trainLabels: [0, 1, 1], testFeatures, numClasses: 2, k: 2 };
    expect(() => knnClassify({ ...base, k: 4 })).toThrow(ValueError);
    expect(() => knnClassify({ ...base, k: 4 })).toThrow(/k must be <= the number of train rows 3, got k = 4/);
    expect(() => knnClassify({ ...base, k: 0 })).toThrow(/k must be an integer >= 1/);
    expect(() => knnClassify({ ...base, trainLabels: [0, 2, 1] })).toThrow(/trainLabels\[1\] = 2 is outside \[0, numClasses\) = \[0, 2\)/);
    expect(() => knnClassify({ ...base, trainLabels: [0, -1, 1] })).toThrow(/trainLabels\[1\] = -1/);
    expect(() => knnClassify({ ...base, testLabels: [0, 5] })).toThrow(/testLabels\[1\] = 5 is outside/);
    expect(() => knnClassify({ ...base, trainLabels: [0, 1] })).toThrow(ShapeError);
    expect(() => knnClassify({ ...base, trainLabels: [0, 1] })).toThrow(/trainLabels must have length 3/);
    expect(() => knnClassify({ ...base, testFeatures: { data: new Float32Array(6), shape: [2, 3] } })).toThrow(
      /testFeatures must have shape \[Ntest, 2\] \(D of trainFeatures \[3, 2\]\), got \[2, 3\]/,
    );
    expect(() => knnClassify({ ...base, trainFeatures: { data: new Float32Array(6), shape: [6] } })).toThrow(/trainFeatures must have rank 2/);
    expect(() => knnClassify({ ...base, temperature: 0 })).toThrow(/temperature must be > 0/);
    expect(() => knnClassify({ ...base, numClasses: 0 })).toThrow(/numClasses must be an integer >= 1/);
    const nan = new Float32Array([1, 0, 0, NaN]);
    expect(() => knnClassify({ ...base, testFeatures: { data: nan, shape: [2, 2] } })).toThrow(
      /knnClassify: testFeatures row 1 contains a non-finite value \(NaN at column 1\)/,
    );
    const nanT = tf.tensor2d([1, 0, Infinity, 1, 1, 1], [3, 2]);
    expect(() => knnClassify({ ...base, trainFeatures: nanT })).toThrow(/trainFeatures row 1 contains a non-finite value \(Infinity at column 0\)/);
    nanT.dispose();
  });

  it('leaks no tensors and leaves the inputs alive', () => {
    const trainFeatures = tf.randomNormal([40, 6]);
    const testFeatures = tf.randomNormal([9, 6]);
    const trainLabels = tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 4), 'int32');
    expectNoLeak(() => {
      knnClassify({ trainFeatures, trainLabels, testFeatures, numClasses: 4, k: 5, chunkSize: 2 });
      knnClassify({ trainFeatures, trainLabels, testFeatures, numClasses: 4, k: 5 });
    });
    expect(trainFeatures.isDisposed).toBe(false);
    expect(testFeatures.isDisposed).toBe(false);
    tf.dispose([trainFeatures, testFeatures, trainLabels]);
  });
});
