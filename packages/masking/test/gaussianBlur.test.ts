import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { gaussianBlur, gaussianKernel1d } from '@mmc/masking';
import { expectClose, expectNoLeak, f32, largestErrorSeen } from '../../../test-setup/numeric';
import { rand01, refBlur } from './photometricReference';

// float32 separable convolution vs the float64 naive 2-D convolution; values in [0, 1], ≤ 13² taps (~1.5e-7 observed).
const ATOL = 5e-6;

function check(seed: number, B: number, H: number, W: number, C: number, opts: { prob?: number; sigma?: [number, number]; kernelSize?: number }) {
  const x = rand01(seed, B * H * W * C);
  const images = tf.tensor4d(f32(x), [B, H, W, C]);
  const res = gaussianBlur(images, { rng: createRng(seed + 50), ...opts });
  expect(res.images.shape).toEqual([B, H, W, C]);
  const got = res.images.dataSync();
  const n = H * W * C;
  for (let b = 0; b < B; b++) {
    const img = x.subarray(b * n, (b + 1) * n);
    if (!res.applied[b]) {
      expect(res.sigma[b]).toBe(0);
      expect(Array.from(got.subarray(b * n, (b + 1) * n))).toEqual(Array.from(f32(img)));
      continue;
    }
    const s = res.sigma[b];
    const r = opts.kernelSize !== undefined ? (opts.kernelSize - 1) / 2 : Math.ceil(3 * s);
    expectClose(got.subarray(b * n, (b + 1) * n), refBlur(img, H, W, C, s, r), ATOL);
  }
  tf.dispose([images, res.images]);
  return res;
}

describe('gaussianKernel1d', () => {
  it('is the normalised, symmetric Gaussian with 2·ceil(3σ) + 1 taps by default', () => {
    for (const s of [0.1, 0.5, 1, 1.7, 2]) {
      const k = gaussianKernel1d(s);
      const r = Math.ceil(3 * s);
      expect(k.length).toBe(2 * r + 1);
      expect(Math.abs(k.reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-14);
      for (let i = 0; i < k.length; i++) {
        expect(Math.abs(k[i] - k[k.length - 1 - i])).toBeLessThan(1e-16);
        expect(Math.abs(k[i] / k[r] - Math.exp(-((i - r) ** 2) / (2 * s * s)))).toBeLessThan(1e-12);
      }
    }
    expect(gaussianKernel1d(5, 3).length).toBe(3);
    expect(Array.from(gaussianKernel1d(1, 1))).toEqual([1]);
  });
  it('rejects bad sigma and size', () => {
    expect(() => gaussianKernel1d(0)).toThrow(/gaussianKernel1d: sigma must be > 0/);
    expect(() => gaussianKernel1d(1, 4)).toThrow(/size must be odd/);
    expect(() => gaussianKernel1d(1, 0)).toThrow(ValueError);
  });
});

describe('gaussianBlur', () => {
  it('matches a naive 2-D convolution with edge-replicated borders (per-image σ), several seeds and sizes', () => {
    check(1, 4, 7, 5, 2, { prob: 1 });
    check(2, 3, 9, 9, 3, { prob: 1, sigma: [1.5, 2] }); // kernel (13) wider than the image
    check(3, 2, 1, 1, 1, { prob: 1 }); // 1×1: identity
    check(4, 5, 6, 4, 3, { prob: 0.5 }); // mixed: untouched images bit-identical
    check(5, 3, 5, 8, 1, { prob: 1, kernelSize: 3 });
  });

  it('keeps a constant image constant and [0, 1] images in their range', () => {
    const c = tf.fill([3, 6, 5, 3], 0.37) as tf.Tensor4D;
    const out = gaussianBlur(c, { rng: createRng(2), prob: 1, sigma: [0.5, 2] });
    expectClose(out.images.dataSync(), new Float64Array(90 * 3).fill(Math.fround(0.37)), 1e-6);
    const x = tf.tensor4d(f32(rand01(8, 4 * 8 * 8 * 3)), [4, 8, 8, 3]);
    const o2 = gaussianBlur(x, { rng: createRng(3), prob: 1 });
    const [lo, hi] = [x.min().dataSync()[0], x.max().dataSync()[0]];
    for (const v of o2.images.dataSync()) {
      expect(v).toBeGreaterThanOrEqual(lo - 1e-6);
      expect(v).toBeLessThanOrEqual(hi + 1e-6);
    }
    tf.dispose([c, out.images, x, o2.images]);
  });

  it('draws coin then σ per image, respects prob over many images, is deterministic', () => {
    const B = 400;
    const images = tf.tensor4d(f32(rand01(9, B * 2 * 2)), [B, 2, 2, 1]);
    const a = gaussianBlur(images, { rng: createRng(6), prob: 0.3, sigma: [0.5, 1.5] });
    const b = gaussianBlur(images, { rng: createRng(6), prob: 0.3, sigma: [0.5, 1.5] });
    const r = createRng(6);
    for (let i = 0; i < B; i++) {
      const on = r.next() < 0.3;
      expect(a.applied[i]).toBe(on ? 1 : 0);
      expect(a.sigma[i]).toBe(on ? 0.5 + 1 * r.next() : 0);
    }
    const count = a.applied.reduce((s, v) => s + v, 0);
    expect(Math.abs(count - 0.3 * B)).toBeLessThan(4 * Math.sqrt(B * 0.3 * 0.7));
    expect(Array.from(b.images.dataSync())).toEqual(Array.from(a.images.dataSync()));
    tf.dispose([images, a.images, b.images]);
  });

  it('is tidy and rejects bad inputs', () => {
    const x = tf.tensor4d(f32(rand01(1, 3 * 5 * 5 * 3)), [3, 5, 5, 3]);
    expectNoLeak(() => gaussianBlur(x, { rng: createRng(1), prob: 0.5 }).images);
    expectNoLeak(() => gaussianBlur(x, { rng: createRng(1), prob: 1 }).images);
    expectNoLeak(() => gaussianBlur(x, { rng: createRng(1), prob: 0 }).images);
    const rng = createRng(0);
    expect(() => gaussianBlur(tf.zeros([5, 5, 3]) as never, { rng })).toThrow(ShapeError);
    expect(() => gaussianBlur(x, { rng, prob: -0.5 })).toThrow(/gaussianBlur: prob must be in \[0, 1\]/);
    expect(() => gaussianBlur(x, { rng, sigma: [2, 0.1] })).toThrow(/gaussianBlur: sigma must be \[lo, hi\] with 0 < lo <= hi, got \[2, 0.1\]/);
    expect(() => gaussianBlur(x, { rng, sigma: [0, 1] })).toThrow(ValueError);
    expect(() => gaussianBlur(x, { rng, kernelSize: 4 })).toThrow(/kernelSize must be odd/);
    expect(() => gaussianBlur(x, { rng, kernelSize: 0 })).toThrow(/kernelSize must be an integer >= 1/);
    x.dispose();
  });
});

afterAll(() => {
  console.log(`[masking/gaussianBlur ${tf.getBackend()}] max |error| vs float64 reference: ${largestErrorSeen().toExponential(2)}`);
});
