import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { similarityDistributions } from '../src/similarityDistributions.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Float64 reference: every pair i < j of labelled rows, numpy.histogram-style bins on [−1, 1]. */
function refDistributions(x: Float64Array, labels: number[], D: number, bins: number) {
  const M = labels.length;
  const intra = new Float64Array(bins);
  const inter = new Float64Array(bins);
  let intraSum = 0;
  let interSum = 0;
  let ambiguous = 0;
  const norm = (i: number) => Math.sqrt(x.subarray(i * D, (i + 1) * D).reduce((a, v) => a + v * v, 0));
  for (let i = 0; i < M; i++) {
    if (labels[i] < 0) continue;
    for (let j = i + 1; j < M; j++) {
      if (labels[j] < 0) continue;
      let dot = 0;
      for (let d = 0; d < D; d++) dot += x[i * D + d] * x[j * D + d];
      const s = dot / (norm(i) * norm(j));
      // numpy.histogram(range=(-1, 1)): edges −1 + 2b/bins, last bin closed; values clamped here
      let b = 0;
      while (b < bins - 1 && s >= -1 + (2 * (b + 1)) / bins) b++;
      for (let e = 1; e < bins; e++) if (Math.abs(s - (-1 + (2 * e) / bins)) < 1e-5) ambiguous++;
      if (labels[i] === labels[j]) {
        intra[b]++;
        intraSum += s;
      } else {
        inter[b]++;
        interSum += s;
      }
    }
  }
  return { intra, inter, intraSum, interSum, ambiguous };
}

describe('similarityDistributions', () => {
  it('hand-checked: known similarities 1, 0, −1 land in the right bins', () => {
    // v0 = v1 = e1, v2 = e2, v3 = −e1; labels [0, 0, 1, 1]
    // intra pairs: (0,1) s = 1, (2,3) s = 0;  inter: (0,2) 0, (0,3) −1, (1,2) 0, (1,3) −1
    const patches = { data: [1, 0, 2, 0, 0, 3, -1, 0], shape: [4, 2] };
    const r = similarityDistributions(patches, [0, 0, 1, 1], { bins: 4 });
    // bins of width 0.5: s = −1 → 0, s = 0 → 2 (left-closed), s = 1 → 3 (last bin closed)
    expect([...r.intra]).toEqual([0, 0, 0.5, 0.5]);
    expect([...r.inter]).toEqual([0.5, 0, 0.5, 0]);
    expect(r.intraCount).toBe(2);
    expect(r.interCount).toBe(4);
    expect(r.intraMean).toBeCloseTo(0.5, 6);
    expect(r.interMean).toBeCloseTo(-0.5, 6);
    expect(r.overlap).toBeCloseTo(0.5, 12);
    expect([...r.edges]).toEqual([-1, -0.5, 0, 0.5, 1]);
    const r100 = similarityDistributions(patches, [0, 0, 1, 1]);
    expect(r100.intra.length).toBe(100);
    expect(r100.intra[99]).toBe(0.5);
    expect(r100.intra[50]).toBe(0.5);
    expect(r100.inter[0]).toBe(0.5);
    expect(r100.inter[50]).toBe(0.5);
    expect(r100.sampled).toBe(false);
  });

  it('matches a float64 all-pairs reference; negative labels are left out', () => {
    for (const [seed, M, D, bins] of [[1, 2, 1, 10], [2, 37, 8, 100], [3, 60, 5, 7], [4, 25, 16, 100]]) {
      const rng = createRng(seed);
      const x = randn(seed, M * D);
      const labels = Array.from({ length: M }, () => (rng.next() < 0.15 ? -1 : rng.int(4)));
      if (M === 2) labels.splice(0, 2, 0, 0);
      const ref = refDistributions(x, labels, D, bins);
      expect(ref.ambiguous).toBe(0); // no similarity within 1e-5 of an edge: bins compare exactly
      const r = similarityDistributions({ data: f32(x), shape: [M, D] }, Int32Array.from(labels), { bins });
      const nIntra = ref.intra.reduce((a, b) => a + b, 0);
      const nInter = ref.inter.reduce((a, b) => a + b, 0);
      expect(r.intraCount).toBe(nIntra);
      expect(r.interCount).toBe(nInter);
      expectClose(r.intra, ref.intra.map((v) => v / nIntra), 1e-12);
      if (nInter > 0) {
        expectClose(r.inter, ref.inter.map((v) => v / nInter), 1e-12);
        expect(r.interMean).toBeCloseTo(ref.interSum / nInter, 5);
      }
      expect(r.intraMean).toBeCloseTo(ref.intraSum / nIntra, 5);
      let overlap = 0;
      for (let b = 0; b < bins; b++) overlap += Math.min(ref.intra[b] / nIntra, nInter ? ref.inter[b] / nInter : 0);
      expect(r.overlap).toBeCloseTo(overlap, 12);
    }
  });

  it('chunked == unchunked (row chunks of 1, 5, 17 and the default)', () => {
    const M = 41;
    const D = 6;
    const x = tf.tensor2d(f32(randn(9, M * D)), [M, D]);
    const labels = Array.from({ length: M }, (_, i) => i % 3);
    const base = similarityDistributions(x, labels);
    for (const chunkSize of [1, 5, 17, 1000]) {
      const r = similarityDistributions(x, labels, { chunkSize });
      expect([...r.intra]).toEqual([...base.intra]);
      expect([...r.inter]).toEqual([...base.inter]);
      expect(r.intraMean).toBeCloseTo(base.intraMean, 12);
    }
    x.dispose();
  });

  it('samples maxPairs pairs with the rng: deterministic per seed, close to the full distribution', () => {
    const M = 120;
    const D = 4;
    const x = { data: f32(randn(10, M * D)), shape: [M, D] };
    const labels = Array.from({ length: M }, (_, i) => i % 2);
    const full = similarityDistributions(x, labels, { bins: 10 });
    const a = similarityDistributions(x, labels, { bins: 10, maxPairs: 5000, rng: createRng(3) });
    const b = similarityDistributions(x, labels, { bins: 10, maxPairs: 5000, rng: createRng(3) });
    const c = similarityDistributions(x, labels, { bins: 10, maxPairs: 5000, rng: createRng(4) });
    expect(a.sampled).toBe(true);
    expect(a.intraCount + a.interCount).toBe(5000);
    expect([...a.intra]).toEqual([...b.intra]);
    expect([...a.inter]).toEqual([...b.inter]);
    expect([...a.intra]).not.toEqual([...c.intra]);
    // Roughly half the pairs are intra (labels alternate: 59/119 of pairs).
    expect(Math.abs(a.intraCount / 5000 - 59 / 119)).toBeLessThan(0.03);
    let l1 = 0;
    for (let bIdx = 0; bIdx < 10; bIdx++) l1 += Math.abs(a.inter[bIdx] - full.inter[bIdx]);
    expect(l1).toBeLessThan(0.1);
    expect(Math.abs(a.interMean - full.interMean)).toBeLessThan(0.03);
    // maxPairs ≥ all pairs: no sampling, no rng needed, identical to the full result
    const all = similarityDistributions(x, labels, { bins: 10, maxPairs: (M * (M - 1)) / 2 });
    expect(all.sampled).toBe(false);
    expect([...all.intra]).toEqual([...full.intra]);
  });

  it('a kind with no pairs has count 0, an all-zero histogram, NaN mean and overlap 0', () => {
    const x = { data: f32(randn(12, 5 * 3)), shape: [5, 3] };
    const distinct = similarityDistributions(x, [0, 1, 2, 3, 4], { bins: 8 });
    expect(distinct.intraCount).toBe(0);
    expect([...distinct.intra]).toEqual(new Array(8).fill(0));
    expect(Number.isNaN(distinct.intraMean)).toBe(true);
    expect(distinct.interCount).toBe(10);
    expect(distinct.inter.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(distinct.overlap).toBe(0);
    const one = similarityDistributions(x, [-1, -1, -1, 2, -1]);
    expect(one.intraCount + one.interCount).toBe(0);
  });

  it('smoke: 2000 × 64 tokens (≈2·10⁶ pairs) chunked, counts add up', () => {
    const M = 2000;
    const D = 64;
    const x = tf.randomNormal([M, D], 0, 1, 'float32', 5);
    const labels = Array.from({ length: M }, (_, i) => Math.floor(i / 100));
    const r = similarityDistributions(x, labels, { chunkSize: 300 });
    expect(r.intraCount).toBe(20 * ((100 * 99) / 2));
    expect(r.intraCount + r.interCount).toBe((M * (M - 1)) / 2);
    expect(r.intra.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const d = similarityDistributions(x, labels);
    expect([...d.inter]).toEqual([...r.inter]);
    x.dispose();
  });

  it('rejects bad inputs naming the argument (and the row)', () => {
    const x = { data: new Float32Array(12), shape: [4, 3] };
    expect(() => similarityDistributions({ data: new Float32Array(12), shape: [12] }, [0])).toThrow(ShapeError);
    expect(() => similarityDistributions(x, [0, 1, 2])).toThrow(/labels must have length 4/);
    expect(() => similarityDistributions(x, [0, 1, 2, 0.5])).toThrow(/labels\[3\] must be an integer label/);
    expect(() => similarityDistributions(x, [0, 1, 2, 3], { bins: 0 })).toThrow(/bins must be an integer >= 1/);
    expect(() => similarityDistributions(x, [0, 1, 2, 3], { maxPairs: 2 })).toThrow(ValueError);
    expect(() => similarityDistributions(x, [0, 1, 2, 3], { maxPairs: 2 })).toThrow(/rng is required when the 6 pairs exceed maxPairs = 2/);
    const bad = new Float32Array(12);
    bad[7] = NaN;
    expect(() => similarityDistributions({ data: bad, shape: [4, 3] }, [0, 0, 1, 1])).toThrow(
      /similarityDistributions: patches row 2 contains a non-finite value \(NaN at column 1\)/,
    );
    const badT = tf.tensor2d(bad, [4, 3]);
    expect(() => similarityDistributions(badT, [0, 0, 1, 1])).toThrow(/patches row 2/);
    badT.dispose();
  });

  it('leaks no tensors (all-pairs, filtered and sampled paths)', () => {
    const x = tf.randomNormal([30, 4]);
    const labels = Array.from({ length: 30 }, (_, i) => (i % 7 === 0 ? -1 : i % 3));
    expectNoLeak(() => {
      similarityDistributions(x, labels, { chunkSize: 7 });
      similarityDistributions(x, labels, { maxPairs: 50, rng: createRng(1) });
      similarityDistributions(x, { data: Int32Array.from(labels, (l) => Math.max(l, 0)), shape: [30] });
    });
    x.dispose();
  });
});
