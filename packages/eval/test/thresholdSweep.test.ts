import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { thresholdSweep, type SweepSample } from '../src/thresholdSweep.js';
import { promptSegment } from '../src/promptSegment.js';
import { expectNoLeak, f32, randn } from '../../../test-setup/numeric';

interface RefSample {
  x: Float64Array;
  h: number;
  w: number;
  D: number;
  row: number;
  col: number;
  target: Uint8Array;
  H: number;
  W: number;
  classId: number;
}

/** Float64 reference: cosine map → PyTorch bilinear (align_corners=False) → per-class Σ∩/Σ∪. */
function refSweep(samples: RefSample[], thresholds: number[]) {
  const sums = new Map<number, { i: number[]; u: number[] }>();
  let ambiguous = 0;
  for (const s of samples) {
    const { x, h, w, D, row, col, H, W } = s;
    const q = row * w + col;
    const cos = new Float64Array(h * w);
    let nq = 0;
    for (let d = 0; d < D; d++) nq += x[q * D + d] ** 2;
    for (let i = 0; i < h * w; i++) {
      let dot = 0;
      let ni = 0;
      for (let d = 0; d < D; d++) {
        dot += x[i * D + d] * x[q * D + d];
        ni += x[i * D + d] ** 2;
      }
      cos[i] = dot / Math.sqrt(ni * nq);
    }
    const up = new Float64Array(H * W);
    for (let y = 0; y < H; y++) {
      const sy = Math.max(0, ((y + 0.5) * h) / H - 0.5);
      const y0 = Math.floor(sy);
      const y1 = Math.min(y0 + 1, h - 1);
      for (let xx = 0; xx < W; xx++) {
        const sx = Math.max(0, ((xx + 0.5) * w) / W - 0.5);
        const x0 = Math.floor(sx);
        const x1 = Math.min(x0 + 1, w - 1);
        const ly = sy - y0;
        const lx = sx - x0;
        up[y * W + xx] =
          (1 - ly) * (1 - lx) * cos[y0 * w + x0] + (1 - ly) * lx * cos[y0 * w + x1] + ly * (1 - lx) * cos[y1 * w + x0] + ly * lx * cos[y1 * w + x1];
      }
    }
    if (!sums.has(s.classId)) sums.set(s.classId, { i: thresholds.map(() => 0), u: thresholds.map(() => 0) });
    const acc = sums.get(s.classId)!;
    thresholds.forEach((t, k) => {
      for (let p = 0; p < H * W; p++) {
        if (Math.abs(up[p] - t) < 1e-5) ambiguous++;
        const pred = up[p] > t;
        const gt = s.target[p] === 1;
        acc.i[k] += pred && gt ? 1 : 0;
        acc.u[k] += pred || gt ? 1 : 0;
      }
    });
  }
  const miou = thresholds.map((_, k) => {
    const ious = [...sums.values()].map((a) => a.i[k] / a.u[k]).filter((v) => !Number.isNaN(v));
    return ious.reduce((a, b) => a + b, 0) / ious.length;
  });
  return { miou, ambiguous };
}

function makeSamples(seed: number, count: number, numClasses: number): { samples: SweepSample[]; refs: RefSample[] } {
  const rng = createRng(seed);
  const samples: SweepSample[] = [];
  const refs: RefSample[] = [];
  for (let n = 0; n < count; n++) {
    const h = 2 + rng.int(4);
    const w = 2 + rng.int(4);
    const D = 3 + rng.int(6);
    const H = h * (1 + rng.int(4));
    const W = w * (1 + rng.int(4)) + rng.int(2);
    const x = randn(seed * 100 + n, h * w * D);
    const target = new Uint8Array(H * W);
    // A rectangle as the object mask.
    const y0 = rng.int(H);
    const x0 = rng.int(W);
    const y1 = y0 + 1 + rng.int(H - y0);
    const x1 = x0 + 1 + rng.int(W - x0);
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) target[y * W + xx] = 1;
    const row = rng.int(h);
    const col = rng.int(w);
    const classId = rng.int(numClasses) * 3; // sparse class ids
    samples.push({ patches: { data: f32(x), shape: [h, w, D] }, prompt: { row, col }, target: { data: target, shape: [H, W] }, classId });
    refs.push({ x, h, w, D, row, col, target, H, W, classId });
  }
  return { samples, refs };
}

describe('thresholdSweep', () => {
  it('matches a float64 per-class Σ∩/Σ∪ reference over random samples', () => {
    for (const seed of [1, 2, 3]) {
      const { samples, refs } = makeSamples(seed, 6, 3);
      const thresholds = [-0.1, 0.1, 0.2, 0.3, 0.4];
      const ref = refSweep(refs, thresholds);
      expect(ref.ambiguous).toBe(0); // no pixel within 1e-5 of a threshold: the comparison is exact
      const out = thresholdSweep(samples, { thresholds });
      thresholds.forEach((t, k) => expect(out.miouByThreshold[String(t)]).toBeCloseTo(ref.miou[k], 12));
      const bestK = ref.miou.indexOf(Math.max(...ref.miou));
      expect(out.best.threshold).toBe(thresholds[bestK]);
      expect(out.best.miou).toBeCloseTo(ref.miou[bestK], 12);
      expect(out.classes).toEqual([...new Set(refs.map((r) => r.classId))].sort((a, b) => a - b));
    }
  });

  it('uses the default thresholds 0.1 … 0.4 with keys "0.1" … "0.4"', () => {
    const { samples } = makeSamples(4, 3, 2);
    const out = thresholdSweep(samples);
    expect(Object.keys(out.miouByThreshold)).toEqual(['0.1', '0.2', '0.3', '0.4']);
    expect(out.thresholds).toEqual([0.1, 0.2, 0.3, 0.4]);
    const best = Math.max(...Object.values(out.miouByThreshold));
    expect(out.best.miou).toBe(best);
  });

  it('agrees with promptSegment for one sample (IoU of its upsampled mask vs the target)', () => {
    const { samples } = makeSamples(5, 1, 1);
    const s = samples[0];
    const [H, W] = (s.target as { shape: number[] }).shape;
    const target = (s.target as unknown as { data: Uint8Array }).data;
    const out = thresholdSweep([s], { thresholds: [0.25] });
    const seg = promptSegment(s.patches, s.prompt, { threshold: 0.25, outputSize: [H, W] });
    let inter = 0;
    let union = 0;
    for (let i = 0; i < H * W; i++) {
      inter += seg.mask[i] && target[i] ? 1 : 0;
      union += seg.mask[i] || target[i] ? 1 : 0;
    }
    expect(out.miouByThreshold['0.25']).toBe(inter / union);
    expect(out.perClassByThreshold['0.25'][s.classId]).toBe(inter / union);
  });

  it('hand-checked: sums over samples of a class before dividing; mean over classes', () => {
    // 1×2 grids, no upsampling: token sims [1, s]; prompts at token 0.
    const a: SweepSample = { patches: { data: [1, 0, 0, 1], shape: [1, 2, 2] }, prompt: { row: 0, col: 0 }, target: { data: [1, 1], shape: [1, 2] }, classId: 0 };
    const b: SweepSample = { patches: { data: [1, 0, 1, 1], shape: [1, 2, 2] }, prompt: { row: 0, col: 0 }, target: { data: [1, 0], shape: [1, 2] }, classId: 0 };
    const c: SweepSample = { patches: { data: [1, 0, -1, 0], shape: [1, 2, 2] }, prompt: { row: 0, col: 0 }, target: { data: [1, 0], shape: [1, 2] }, classId: 7 };
    // t = 0.5: a: pred [1,0] vs [1,1] → ∩1 ∪2; b: sim [1, .707] pred [1,1] vs [1,0] → ∩1 ∪2; class 0: 2/4.
    //          c: sim [1, −1] pred [1,0] vs [1,0] → 1/1. mIoU = (0.5 + 1)/2 = 0.75.
    // t = 0.8: a → 1/2; b: pred [1,0] → 1/1; class 0: 2/3; c: 1. mIoU = (2/3 + 1)/2.
    const out = thresholdSweep([a, b, c], { thresholds: [0.5, 0.8] });
    expect(out.perClassByThreshold['0.5']).toEqual({ 0: 0.5, 7: 1 });
    expect(out.miouByThreshold['0.5']).toBeCloseTo(0.75, 12);
    expect(out.miouByThreshold['0.8']).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(out.best).toEqual({ threshold: 0.8, miou: out.miouByThreshold['0.8'] });
  });

  it('excludes classes with an empty union (NaN) and picks the first threshold on ties', () => {
    const empty: SweepSample = { patches: { data: [1, 0, 0, 1], shape: [1, 2, 2] }, prompt: { row: 0, col: 0 }, target: { data: [0, 0], shape: [1, 2] }, classId: 1 };
    const full: SweepSample = { patches: { data: [1, 0, 1, 0], shape: [1, 2, 2] }, prompt: { row: 0, col: 0 }, target: { data: [1, 1], shape: [1, 2] }, classId: 2 };
    // t = 2: nothing predicted; class 1 has ∪ = 0 → NaN (excluded); class 2 has IoU 0.
    const out = thresholdSweep([empty, full], { thresholds: [2, 0.5, 0.9] });
    expect(Number.isNaN(out.perClassByThreshold['2'][1])).toBe(true);
    expect(out.miouByThreshold['2']).toBe(0);
    // t = 0.5 and 0.9: class 1 pred [1, 0] vs [0, 0] → 0; class 2 → 1; both 0.5.
    expect(out.miouByThreshold['0.5']).toBe(0.5);
    expect(out.miouByThreshold['0.9']).toBe(0.5);
    expect(out.best.threshold).toBe(0.5);
  });

  it('rejects bad inputs naming the sample and argument', () => {
    const ok: SweepSample = { patches: tf.zeros([2, 2, 3]), prompt: { row: 0, col: 0 }, target: { data: new Uint8Array(16), shape: [4, 4] }, classId: 0 };
    expect(() => thresholdSweep([])).toThrow(ValueError);
    expect(() => thresholdSweep([{ ...ok, target: { data: new Uint8Array(16).fill(2), shape: [4, 4] } }])).toThrow(
      /samples\[0\]\.target must be a binary mask \(0\/1\), got 2 at pixel 0/,
    );
    expect(() => thresholdSweep([ok, { ...ok, target: { data: new Uint8Array(16), shape: [16] } }])).toThrow(ShapeError);
    expect(() => thresholdSweep([ok, { ...ok, target: { data: new Uint8Array(16), shape: [16] } }])).toThrow(/samples\[1\]\.target must have rank 2/);
    expect(() => thresholdSweep([{ ...ok, classId: 0.5 }])).toThrow(/samples\[0\]\.classId must be an integer/);
    expect(() => thresholdSweep([{ ...ok, prompt: { row: 5, col: 0 } }])).toThrow(/samples\[0\]\.prompt/);
    expect(() => thresholdSweep([{ ...ok, patches: tf.zeros([4, 3]) }])).toThrow(/samples\[0\]\.patches must have rank 3/);
    expect(() => thresholdSweep([ok], { thresholds: [0.1, 0.1] })).toThrow(/thresholds must be distinct/);
    expect(() => thresholdSweep([ok], { thresholds: [0.1, NaN] })).toThrow(/thresholds\[1\] must be a finite number/);
    const bad = new Float32Array(12);
    bad[7] = Infinity;
    expect(() => thresholdSweep([ok, { ...ok, patches: { data: bad, shape: [2, 2, 3] } }])).toThrow(
      /samples\[1\]\.patches token .* 2 contains a non-finite value \(Infinity at column 1\)/,
    );
    tf.dispose(ok.patches as tf.Tensor);
  });

  it('leaks no tensors', () => {
    const patches = tf.randomNormal([3, 3, 4]);
    const sample: SweepSample = { patches, prompt: { x: 5, y: 5, imageSize: 12 }, target: tf.ones([12, 12], 'int32'), classId: 0 };
    expectNoLeak(() => {
      thresholdSweep([sample, sample]);
    });
    tf.dispose([patches, sample.target as tf.Tensor]);
  });
});
