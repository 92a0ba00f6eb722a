import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { promptSegment } from '../src/promptSegment.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Float64 cosine similarity of token (r, c) to every token of a [h, w, D] grid. */
function refSimilarity(x: Float64Array, h: number, w: number, D: number, r: number, c: number): Float64Array {
  const norm = (i: number) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[i * D + d] ** 2;
    return Math.max(Math.sqrt(s), 1e-12);
  };
  const q = r * w + c;
  const nq = norm(q);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += x[i * D + d] * x[q * D + d];
    out[i] = dot / (norm(i) * nq);
  }
  return out;
}

/** PyTorch F.interpolate(mode='bilinear', align_corners=False) of one [h, w] map to [H, W], float64. */
function refBilinear(m: Float64Array, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(H * W);
  const src = (dst: number, inSize: number, outSize: number) => {
    const s = ((dst + 0.5) * inSize) / outSize - 0.5;
    return s < 0 ? 0 : s;
  };
  for (let y = 0; y < H; y++) {
    const sy = src(y, h, H);
    const y0 = Math.floor(sy);
    const y1 = y0 < h - 1 ? y0 + 1 : y0;
    const ly = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = src(x, w, W);
      const x0 = Math.floor(sx);
      const x1 = x0 < w - 1 ? x0 + 1 : x0;
      const lx = sx - x0;
      out[y * W + x] =
        (1 - ly) * ((1 - lx) * m[y0 * w + x0] + lx * m[y0 * w + x1]) + ly * ((1 - lx) * m[y1 * w + x0] + lx * m[y1 * w + x1]);
    }
  }
  return out;
}

function expectMaskMatches(mask: Uint8Array, ref: Float64Array, t: number) {
  let checked = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Math.abs(ref[i] - t) < 1e-5) continue; // float32 vs float64 may differ right at the threshold
    expect(mask[i]).toBe(ref[i] > t ? 1 : 0);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
}

describe('promptSegment', () => {
  it('matches a float64 cosine map and strict threshold at patch resolution', () => {
    const cases: [number, number, number, number, number][] = [
      [1, 1, 1, 0, 0],
      [3, 4, 5, 2, 1],
      [5, 5, 8, 0, 4],
      [2, 7, 16, 1, 6],
    ];
    for (const [seed, [h, w, D, r, c]] of cases.entries()) {
      const x = randn(100 + seed, h * w * D);
      const patches = tf.tensor3d(f32(x), [h, w, D]);
      const ref = refSimilarity(x, h, w, D, r, c);
      for (const t of [-0.2, 0, 0.3]) {
        const out = promptSegment(patches, { row: r, col: c }, { threshold: t });
        expect(out.shape).toEqual([h, w]);
        expect(out.prompt).toEqual({ row: r, col: c });
        expect(out.similarity).toBeInstanceOf(Float32Array);
        expect(out.mask).toBeInstanceOf(Uint8Array);
        expectClose(out.similarity, ref, 2e-6);
        expectMaskMatches(out.mask, ref, t);
        expect(out.mask[r * w + c]).toBe(1); // the prompt token has similarity 1
      }
      patches.dispose();
    }
  });

  it('upsamples like PyTorch bilinear align_corners=False, then thresholds', () => {
    const cases: [number, number, number, number, number][] = [
      [4, 3, 6, 16, 12],
      [3, 5, 4, 7, 11],
      [4, 4, 3, 2, 2],
      [1, 1, 2, 3, 5],
      [2, 3, 8, 2, 3],
    ];
    for (const [seed, [h, w, D, H, W]] of cases.entries()) {
      const x = randn(200 + seed, h * w * D);
      const patches = tf.tensor3d(f32(x), [h, w, D]);
      const r = h - 1;
      const c = Math.floor(w / 2);
      const ref = refBilinear(refSimilarity(x, h, w, D, r, c), h, w, H, W);
      const out = promptSegment(patches, { row: r, col: c }, { threshold: 0.1, outputSize: [H, W] });
      expect(out.shape).toEqual([H, W]);
      expectClose(out.similarity, ref, 3e-6);
      expectMaskMatches(out.mask, ref, 0.1);
      patches.dispose();
    }
  });

  it('hand-checked 1×3 grid: similarities [1, 0, 1/√2] and a strict threshold', () => {
    const patches = { data: [1, 0, 0, 1, 1, 1], shape: [1, 3, 2] };
    const a = promptSegment(patches, { row: 0, col: 0 }, { threshold: 0.5 });
    expectClose(a.similarity, [1, 0, Math.SQRT1_2], 1e-6);
    expect([...a.mask]).toEqual([1, 0, 1]);
    const b = promptSegment(patches, { row: 0, col: 0 }, { threshold: 0 });
    expect([...b.mask]).toEqual([1, 0, 1]); // 0 > 0 is false
    const c = promptSegment(patches, { row: 0, col: 0 }, { threshold: 1 });
    expect([...c.mask]).toEqual([0, 0, 0]); // 1 > 1 is false
  });

  it('maps pixel prompts to floor(y·h/H), floor(x·w/W); imageSize [H, W] or a number', () => {
    const [h, w, D] = [3, 4, 6];
    const x = randn(7, h * w * D);
    const patches = { data: f32(x), shape: [h, w, D] };
    const cases: [number, number, number | [number, number], number, number][] = [
      [0, 0, [48, 64], 0, 0],
      [63.9, 47.9, [48, 64], 2, 3],
      [16, 15.99, [48, 64], 0, 1],
      [15.99, 16, [48, 64], 1, 0],
      [30, 50, 60, 2, 2],
      [0, 59.99, 60, 2, 0],
    ];
    for (const [px, py, imageSize, r, c] of cases) {
      const a = promptSegment(patches, { x: px, y: py, imageSize }, { threshold: 0.2 });
      expect(a.prompt).toEqual({ row: r, col: c });
      const b = promptSegment(patches, { row: r, col: c }, { threshold: 0.2 });
      expect([...a.similarity]).toEqual([...b.similarity]);
    }
  });

  it('accepts NdArrayLike inputs of any numeric type, same result as a tensor', () => {
    const x = randn(11, 2 * 3 * 4);
    const t = tf.tensor3d(f32(x), [2, 3, 4]);
    const a = promptSegment(t, { row: 1, col: 2 }, { threshold: 0.1, outputSize: [5, 6] });
    const b = promptSegment({ data: f32(x), shape: [2, 3, 4] }, { row: 1, col: 2 }, { threshold: 0.1, outputSize: [5, 6] });
    const c = promptSegment({ data: Array.from(f32(x)), shape: [2, 3, 4] }, { row: 1, col: 2 }, { threshold: 0.1, outputSize: [5, 6] });
    expect([...b.similarity]).toEqual([...a.similarity]);
    expect([...c.mask]).toEqual([...a.mask]);
    t.dispose();
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const patches = tf.zeros([2, 3, 4]);
    expect(() => promptSegment(tf.zeros([6, 4]), { row: 0, col: 0 }, { threshold: 0.1 })).toThrow(ShapeError);
    expect(() => promptSegment(tf.zeros([6, 4]), { row: 0, col: 0 }, { threshold: 0.1 })).toThrow(/patches must have rank 3 \[h, w, D\]/);
    expect(() => promptSegment({ data: [1, 2, 3], shape: [1, 2, 2] }, { row: 0, col: 0 }, { threshold: 0 })).toThrow(
      /patches\.data has 3 values but patches\.shape \[1, 2, 2\] needs 4/,
    );
    expect(() => promptSegment(patches, { row: 2, col: 0 }, { threshold: 0.1 })).toThrow(ValueError);
    expect(() => promptSegment(patches, { row: 2, col: 0 }, { threshold: 0.1 })).toThrow(/prompt \{ row: 2, col: 0 \} is outside the 2×3 patch grid/);
    expect(() => promptSegment(patches, { row: 0, col: -1 }, { threshold: 0.1 })).toThrow(/prompt/);
    expect(() => promptSegment(patches, { row: 0.5, col: 0 }, { threshold: 0.1 })).toThrow(/prompt\.row and prompt\.col must be integers/);
    expect(() => promptSegment(patches, { x: 64, y: 0, imageSize: [32, 64] }, { threshold: 0.1 })).toThrow(/prompt \{ x: 64, y: 0 \} is outside the image/);
    expect(() => promptSegment(patches, { x: 0, y: -1, imageSize: 32 }, { threshold: 0.1 })).toThrow(ValueError);
    expect(() => promptSegment(patches, { x: 0, y: 0, imageSize: [0, 3] as [number, number] }, { threshold: 0.1 })).toThrow(/imageSize/);
    expect(() => promptSegment(patches, { row: 0, col: 0 }, { threshold: NaN })).toThrow(/threshold must be a finite number/);
    expect(() => promptSegment(patches, { row: 0, col: 0 }, { threshold: 0.1, outputSize: [4, 0] as [number, number] })).toThrow(/outputSize/);
    const bad = new Float32Array(24);
    bad[4 * 4 + 2] = NaN; // token 4 = grid (1, 1)
    expect(() => promptSegment({ data: bad, shape: [2, 3, 4] }, { row: 0, col: 0 }, { threshold: 0 })).toThrow(
      /promptSegment: patches token \(row-major over the h×w grid\) 4 contains a non-finite value \(NaN at column 2\)/,
    );
    const badT = tf.tensor3d(bad, [2, 3, 4]);
    expect(() => promptSegment(badT, { row: 0, col: 0 }, { threshold: 0 })).toThrow(/patches token .* 4 contains/);
    tf.dispose([patches, badT]);
  });

  it('leaks no tensors (tensor and array inputs, with and without upsampling)', () => {
    const patches = tf.randomNormal([3, 3, 8]);
    expectNoLeak(() => {
      promptSegment(patches, { row: 1, col: 1 }, { threshold: 0.2 });
      promptSegment(patches, { row: 1, col: 1 }, { threshold: 0.2, outputSize: [12, 12] });
      promptSegment({ data: new Float64Array(72).fill(1), shape: [3, 3, 8] }, { row: 0, col: 0 }, { threshold: 0.2 });
    });
    patches.dispose();
  });
});
