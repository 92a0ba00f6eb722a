import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { fewShotThreshold } from '../src/fewShotThreshold.js';
import { expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Float64 reference for the fixed mode: every (query, support) pair, per-threshold confusion counts. */
function refPairs(q: Float64Array, ql: number[], s: Float64Array, sl: number[], D: number, thresholds: number[]) {
  const cos = (a: Float64Array, i: number, b: Float64Array, j: number) => {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let d = 0; d < D; d++) {
      dot += a[i * D + d] * b[j * D + d];
      na += a[i * D + d] ** 2;
      nb += b[j * D + d] ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  const counts = thresholds.map(() => ({ tp: 0, fp: 0, fn: 0, tn: 0 }));
  let ambiguous = 0;
  let nn = 0;
  for (let i = 0; i < ql.length; i++) {
    const sims = sl.map((_, j) => cos(q, i, s, j));
    sims.forEach((v, j) => {
      thresholds.forEach((t, k) => {
        if (Math.abs(v - t) < 1e-5) ambiguous++;
        const c = counts[k];
        if (v > t) ql[i] === sl[j] ? c.tp++ : c.fp++;
        else ql[i] === sl[j] ? c.fn++ : c.tn++;
      });
    });
    const best = sims.indexOf(Math.max(...sims));
    if (sl[best] === ql[i]) nn++;
  }
  return { counts, ambiguous, nnAccuracy: nn / ql.length };
}

/** Well-separated classes: class c's features are 4·e_c + N(0, 1) in D = 16 dimensions. */
function clusters(seed: number, perClass: number, classes: number): { features: { data: Float32Array; shape: number[] }; labels: number[] } {
  const D = 16;
  const noise = randn(seed, perClass * classes * D);
  const data = new Float32Array(perClass * classes * D);
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const row = c * perClass + i;
      labels.push(c);
      for (let d = 0; d < D; d++) data[row * D + d] = (d === c ? 4 : 0) + 0.3 * noise[row * D + d];
    }
  }
  return { features: { data, shape: [perClass * classes, D] }, labels };
}

describe('fewShotThreshold', () => {
  it('hand-checked counts on 2 supports × 3 queries (an open-world query class included)', () => {
    const support = { features: { data: [1, 0, 0, 1], shape: [2, 2] }, labels: [0, 1] };
    const query = { features: { data: [1, 0.1, 0.1, 1, -1, 0], shape: [3, 2] }, labels: [0, 1, 2] };
    const r = fewShotThreshold({ support, query, thresholds: [0.05, 0.5] });
    // sims: q0 (0.995, 0.0995), q1 (0.0995, 0.995), q2 (−1, 0)
    // t = 0.5: TP 2, TN 4 → accuracy 1, F1 1
    expect(r.byThreshold['0.5']).toEqual({ accuracy: 1, precision: 1, recall: 1, f1: 1, tp: 2, fp: 0, fn: 0, tn: 4 });
    // t = 0.05: TP 2, FP 2 (the 0.0995 pairs), TN 2 → accuracy 4/6, precision 1/2, recall 1, F1 4/6
    const m = r.byThreshold['0.05'];
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 2, 0, 2]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(0.5, 12);
    expect(m.f1).toBeCloseTo(4 / 6, 12);
    expect(r.best).toEqual({ threshold: 0.5, f1: 1, accuracy: 1 });
    expect(r.nearestNeighborAccuracy).toBeCloseTo(2 / 3, 12); // q2 (class 2) cannot be right
    expect(r.pairs).toBe(6);
    expect(r.episodes).toBe(1);
    expect(r.f1ByThreshold).toEqual({ '0.05': m.f1, '0.5': 1 });
  });

  it('fixed mode matches a float64 pairwise reference (default thresholds 0.1 … 0.9)', () => {
    for (const [seed, nS, nQ, D] of [[1, 5, 20, 8], [2, 1, 1, 3], [3, 12, 31, 4]]) {
      const rng = createRng(seed);
      const s = randn(seed * 3, nS * D);
      const q = randn(seed * 3 + 1, nQ * D);
      const sl = Array.from({ length: nS }, () => rng.int(4));
      const ql = Array.from({ length: nQ }, () => rng.int(5));
      const thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
      const ref = refPairs(q, ql, s, sl, D, thresholds);
      expect(ref.ambiguous).toBe(0);
      const sT = tf.tensor2d(f32(s), [nS, D]);
      const r = fewShotThreshold({ support: { features: sT, labels: sl }, query: { features: { data: f32(q), shape: [nQ, D] }, labels: ql } });
      sT.dispose();
      expect(Object.keys(r.byThreshold)).toEqual(thresholds.map(String));
      thresholds.forEach((t, k) => {
        const m = r.byThreshold[String(t)];
        const c = ref.counts[k];
        expect([m.tp, m.fp, m.fn, m.tn]).toEqual([c.tp, c.fp, c.fn, c.tn]);
        expect(m.accuracy).toBeCloseTo((c.tp + c.tn) / (nS * nQ), 12);
        const f1 = 2 * c.tp + c.fp + c.fn > 0 ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : 0;
        expect(m.f1).toBeCloseTo(f1, 12);
      });
      expect(r.nearestNeighborAccuracy).toBeCloseTo(ref.nnAccuracy, 12);
      // chunked over query rows: identical
      const r2 = fewShotThreshold({ support: { features: { data: f32(s), shape: [nS, D] }, labels: sl }, query: { features: { data: f32(q), shape: [nQ, D] }, labels: ql }, chunkSize: 3 });
      expect(r2.byThreshold).toEqual(r.byThreshold);
    }
  });

  it('5-way 1-shot episodes: counts per episode add up; deterministic per seed; chunking-invariant', () => {
    const pool = clusters(1, 20, 8);
    const opts = { support: pool, episodes: 30, queriesPerClass: 4 };
    const a = fewShotThreshold({ ...opts, rng: createRng(5) });
    const b = fewShotThreshold({ ...opts, rng: createRng(5), chunkSize: 7 });
    const c = fewShotThreshold({ ...opts, rng: createRng(6) });
    expect(b.byThreshold).toEqual(a.byThreshold);
    expect(b.nearestNeighborAccuracy).toBe(a.nearestNeighborAccuracy);
    expect(a.episodes).toBe(30);
    expect(a.pairs).toBe(30 * (5 * 4) * (5 * 1));
    for (const m of Object.values(a.byThreshold)) {
      // each query has exactly one same-class support (1-shot) and 4 others (5-way)
      expect(m.tp + m.fn).toBe(30 * 20 * 1);
      expect(m.fp + m.tn).toBe(30 * 20 * 4);
    }
    expect(Object.values(c.byThreshold).map((m) => m.tp)).not.toEqual(Object.values(a.byThreshold).map((m) => m.tp));
    // separated clusters: perfect at a mid threshold and by nearest neighbour
    expect(a.byThreshold['0.5'].f1).toBe(1);
    expect(a.best.f1).toBe(1);
    expect(a.nearestNeighborAccuracy).toBe(1);
  });

  it('episodes with separate pools and shots > 1: queries come from the query pool only', () => {
    const sPool = clusters(2, 3, 6);
    const qPool = clusters(3, 5, 6);
    // shift query-pool labels into a disjoint range: no class would be eligible
    expect(() =>
      fewShotThreshold({ support: sPool, query: { ...qPool, labels: qPool.labels.map((l) => l + 10) }, episodes: 2, rng: createRng(0) }),
    ).toThrow(/ways = 5 needs 5 classes with at least 1 support and 15 query images, got 0 such classes/);
    const r = fewShotThreshold({ support: sPool, query: qPool, episodes: 10, ways: 3, shots: 2, queriesPerClass: 5, rng: createRng(1) });
    expect(r.pairs).toBe(10 * 15 * 6);
    for (const m of Object.values(r.byThreshold)) {
      expect(m.tp + m.fn).toBe(10 * 15 * 2);
      expect(m.fp + m.tn).toBe(10 * 15 * 4);
    }
    // same pool, shots + queriesPerClass must fit: 20 per class, 1 + 19 = 20 ok, 1 + 20 not
    const pool = clusters(4, 20, 5);
    expect(fewShotThreshold({ support: pool, episodes: 3, queriesPerClass: 19, rng: createRng(2) }).pairs).toBe(3 * 95 * 5);
    expect(() => fewShotThreshold({ support: pool, episodes: 3, queriesPerClass: 20, rng: createRng(2) })).toThrow(
      /at least shots \+ queriesPerClass = 21 images, got 0 such classes/,
    );
  });

  it('rejects bad inputs naming the argument (and the row)', () => {
    const support = { features: { data: new Float32Array([1, 0, 0, 1]), shape: [2, 2] }, labels: [0, 1] };
    expect(() => fewShotThreshold({ support })).toThrow(/query is required without episodes/);
    expect(() => fewShotThreshold({ support, episodes: 5 })).toThrow(/rng is required with episodes/);
    expect(() => fewShotThreshold({ support, episodes: 0, rng: createRng(0) })).toThrow(/episodes must be an integer >= 1/);
    expect(() => fewShotThreshold({ support, query: { features: { data: [1, 2, 3], shape: [1, 3] }, labels: [0] } })).toThrow(ShapeError);
    expect(() => fewShotThreshold({ support, query: { features: { data: [1, 2, 3], shape: [1, 3] }, labels: [0] } })).toThrow(
      /query\.features must have D = 2 \(like support\.features\), got D = 3/,
    );
    expect(() => fewShotThreshold({ support: { ...support, labels: [0] }, query: support })).toThrow(/support\.labels must have length 2/);
    expect(() => fewShotThreshold({ support, query: support, thresholds: [] })).toThrow(/thresholds must be a non-empty array/);
    expect(() => fewShotThreshold({ support: { features: support.features } as never, query: support })).toThrow(ValueError);
    const nan = { features: { data: new Float32Array([1, 0, NaN, 1]), shape: [2, 2] }, labels: [0, 1] };
    expect(() => fewShotThreshold({ support, query: nan })).toThrow(/fewShotThreshold: query\.features row 1 contains a non-finite value \(NaN at column 0\)/);
  });

  it('leaks no tensors (fixed and episodic, tensor inputs)', () => {
    const pool = clusters(5, 6, 5);
    const features = tf.tensor2d(pool.features.data, pool.features.shape as [number, number]);
    expectNoLeak(() => {
      fewShotThreshold({ support: { features, labels: pool.labels }, query: { features, labels: pool.labels } });
      fewShotThreshold({ support: { features, labels: pool.labels }, episodes: 4, queriesPerClass: 2, rng: createRng(0) });
    });
    expect(features.isDisposed).toBe(false);
    features.dispose();
  });
});
