import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError, createRng } from '@mmc/core';
import { gmmlCorrupt, type GmmlCorruptOptions } from '@mmc/masking';
import { expectNoLeak, maxAbsDiff, randn } from '../../../test-setup/numeric.js';
import { refGmmlCorrupt } from './reference.js';

type Shape4 = [number, number, number, number];

/** Seeded float32 images and their float64 copy (values exactly representable in float32). */
function makeImages(seed: number, shape: Shape4): { x: tf.Tensor4D; host: Float64Array } {
  const f32 = Float32Array.from(randn(seed, shape.reduce((a, b) => a * b, 1)));
  return { x: tf.tensor4d(f32, shape), host: Float64Array.from(f32) };
}

function run(x: tf.Tensor4D, opts: GmmlCorruptOptions) {
  const r = gmmlCorrupt(x, opts);
  const out = {
    corrupted: r.corrupted.dataSync() as Float32Array,
    pixelMask: r.pixelMask.dataSync() as Float32Array,
    tokenMask: r.tokenMask.dataSync() as Float32Array,
    shapes: [r.corrupted.shape, r.pixelMask.shape, r.tokenMask.shape],
    dtypes: [r.corrupted.dtype, r.pixelMask.dtype, r.tokenMask.dtype],
    replacedFrom: r.replacedFrom,
    blocks: r.blocks,
  };
  tf.dispose([r.corrupted, r.pixelMask, r.tokenMask]);
  return out;
}

describe('gmmlCorrupt', () => {
  it('equals the naive host reference exactly (same draws: coin, donor, blocks, noise)', () => {
    const configs: { shape: Shape4; p: number; fill: 'noise' | 'zeros'; replaceProb: number; maskRatio?: number }[] = [
      { shape: [4, 32, 32, 3], p: 4, fill: 'noise', replaceProb: 0.5 },
      { shape: [3, 24, 32, 2], p: 4, fill: 'noise', replaceProb: 0.5, maskRatio: 0.6 },
      { shape: [5, 64, 64, 1], p: 8, fill: 'zeros', replaceProb: 0.7 }, // (32×32 at p 8 would leave the last band unreachable)
      { shape: [1, 32, 32, 3], p: 4, fill: 'noise', replaceProb: 1 },
      { shape: [2, 32, 32, 3], p: 4, fill: 'noise', replaceProb: 0 },
    ];
    for (const c of configs) {
      for (const seed of [0, 1, 2]) {
        const { x, host } = makeImages(100 + seed, c.shape);
        const maskRatio = c.maskRatio ?? 0.75;
        const got = run(x, { rng: createRng(seed), patchSize: c.p, fill: c.fill, replaceProb: c.replaceProb, maskRatio });
        const ref = refGmmlCorrupt(createRng(seed), host, c.shape, {
          patchSize: c.p,
          maskRatio,
          maxBlock: 0.3,
          fill: c.fill,
          replaceProb: c.replaceProb,
          replaceRatio: 0.3,
        });
        const [B, H, W] = c.shape;
        const N = (H / c.p) * (W / c.p);
        expect(got.shapes).toEqual([c.shape, [B, H, W], [B, N]]);
        expect(got.dtypes).toEqual(['float32', 'float32', 'float32']);
        expect(Array.from(got.replacedFrom)).toEqual(ref.replacedFrom);
        expect(maxAbsDiff(got.corrupted, ref.corrupted)).toBe(0);
        expect(Array.from(got.pixelMask)).toEqual(ref.masks.flatMap((m) => Array.from(m)));
        expect(Array.from(got.tokenMask)).toEqual(ref.tokens.flatMap((m) => Array.from(m)));
        x.dispose();
      }
    }
  });

  it('replaced images: donor ≠ self, donor pixels exactly at masked positions, clean elsewhere, target 0.3·H·W', () => {
    const shape: Shape4 = [6, 32, 32, 3];
    const [B, H, W, C] = shape;
    const { x, host } = makeImages(7, shape);
    for (const seed of [3, 4]) {
      const got = run(x, { rng: createRng(seed), patchSize: 4, replaceProb: 1 });
      for (let b = 0; b < B; b++) {
        const d = got.replacedFrom[b];
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(B);
        expect(d).not.toBe(b);
        let masked = 0;
        let wrong = 0;
        for (let i = 0; i < H * W; i++) {
          const m = got.pixelMask[b * H * W + i];
          masked += m;
          for (let c = 0; c < C; c++) {
            const want = host[((m ? d : b) * H * W + i) * C + c];
            if (got.corrupted[(b * H * W + i) * C + c] !== want) wrong++;
          }
        }
        expect(wrong).toBe(0);
        expect(masked).toBeGreaterThanOrEqual(0.3 * H * W);
        expect(masked).toBeLessThan(0.3 * H * W + 64); // + at most one 8×8 block
      }
    }
    x.dispose();
  });

  it('replaces about replaceProb of the images, with donors spread over the other images', () => {
    const x = tf.zeros([64, 32, 32, 1]) as tf.Tensor4D;
    const got = run(x, { rng: createRng(5), patchSize: 4 });
    const replaced = Array.from(got.replacedFrom).filter((d) => d >= 0).length;
    expect(replaced).toBeGreaterThan(16); // Binomial(64, 0.5): mean 32, sd 4
    expect(replaced).toBeLessThan(48);
    x.dispose();

    const small = tf.zeros([4, 32, 32, 1]) as tf.Tensor4D;
    const pairs = new Set<string>();
    const rng = createRng(6);
    for (let t = 0; t < 30; t++) {
      const r = run(small, { rng, patchSize: 4, replaceProb: 1 });
      r.replacedFrom.forEach((d, b) => {
        expect(d).not.toBe(b);
        pairs.add(`${b}<-${d}`);
      });
    }
    expect(pairs.size).toBe(12); // every ordered pair (b, d ≠ b) occurs
    small.dispose();
  });

  it("fill 'noise' is N(0, 1) at masked pixels and leaves clean pixels untouched", () => {
    const shape: Shape4 = [8, 32, 32, 3];
    const [B, H, W, C] = shape;
    const { x, host } = makeImages(8, shape);
    const got = run(x, { rng: createRng(9), patchSize: 4, replaceProb: 0 });
    let n = 0;
    let s = 0;
    let s2 = 0;
    let wrong = 0;
    for (let i = 0; i < B * H * W; i++) {
      for (let c = 0; c < C; c++) {
        const v = got.corrupted[i * C + c];
        if (got.pixelMask[i]) {
          n++;
          s += v;
          s2 += v * v;
        } else if (v !== host[i * C + c]) wrong++;
      }
    }
    expect(wrong).toBe(0);
    expect(Array.from(got.replacedFrom)).toEqual(new Array(B).fill(-1));
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(n).toBeGreaterThan(0.5 * B * H * W * C);
    expect(Math.abs(mean)).toBeLessThan(0.05); // n ≈ 16k: sd of the mean ≈ 0.008
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    x.dispose();
  });

  it("fill 'zeros' puts exact zeros at masked pixels", () => {
    const shape: Shape4 = [3, 32, 32, 2];
    const { x, host } = makeImages(10, shape);
    const got = run(x, { rng: createRng(11), patchSize: 4, fill: 'zeros', replaceProb: 0 });
    let wrong = 0;
    for (let i = 0; i < got.pixelMask.length; i++) {
      for (let c = 0; c < 2; c++) {
        const want = got.pixelMask[i] ? 0 : host[i * 2 + c];
        if (got.corrupted[i * 2 + c] !== want) wrong++;
      }
    }
    expect(wrong).toBe(0);
    x.dispose();
  });

  it('B = 1 cannot replace: falls back to noise masking even with replaceProb = 1', () => {
    const { x, host } = makeImages(12, [1, 32, 32, 3]);
    const got = run(x, { rng: createRng(13), patchSize: 4, replaceProb: 1 });
    expect(Array.from(got.replacedFrom)).toEqual([-1]);
    const masked = got.pixelMask.reduce((a, v) => a + v, 0);
    expect(masked).toBeGreaterThanOrEqual(0.5 * 1024); // maskRatio 0.75 branch, not replaceRatio 0.3
    let changed = 0;
    for (let i = 0; i < host.length; i++) if (got.corrupted[i] !== host[i]) changed++;
    expect(changed).toBe(masked * 3);
    x.dispose();
  });

  it('is deterministic per seed (masks and corrupted values) and differs across seeds', () => {
    const { x } = makeImages(14, [4, 32, 32, 3]);
    const a = run(x, { rng: createRng(21), patchSize: 4 });
    const b = run(x, { rng: createRng(21), patchSize: 4 });
    const c = run(x, { rng: createRng(22), patchSize: 4 });
    expect(maxAbsDiff(a.corrupted, b.corrupted)).toBe(0);
    expect(Array.from(a.pixelMask)).toEqual(Array.from(b.pixelMask));
    expect(Array.from(a.replacedFrom)).toEqual(Array.from(b.replacedFrom));
    expect(Array.from(a.pixelMask)).not.toEqual(Array.from(c.pixelMask));
    expect(maxAbsDiff(a.corrupted, c.corrupted)).toBeGreaterThan(0);
    x.dispose();
  });

  it('leaks no tensors', () => {
    const { x } = makeImages(15, [4, 32, 32, 3]);
    for (const fill of ['noise', 'zeros'] as const) {
      for (const replaceProb of [0, 0.5, 1]) {
        expectNoLeak(() => {
          const r = gmmlCorrupt(x, { rng: createRng(1), patchSize: 4, fill, replaceProb });
          return [r.corrupted, r.pixelMask, r.tokenMask];
        });
      }
    }
    // a throwing call leaks nothing either
    expectNoLeak(() => {
      expect(() => gmmlCorrupt(x, { rng: createRng(1), patchSize: 16 })).toThrow(ValueError);
    });
    x.dispose();
  });

  it('validates its arguments with typed errors naming them', () => {
    const rng = createRng(0);
    const x = tf.zeros([2, 32, 32, 3]);
    const expectErr = (f: () => unknown, cls: typeof ShapeError | typeof ValueError, re: RegExp) => {
      expect(f).toThrow(cls);
      expect(f).toThrow(/^gmmlCorrupt: /);
      expect(f).toThrow(re);
    };
    const x3 = tf.zeros([32, 32, 3]);
    expectErr(() => gmmlCorrupt(x3, { rng, patchSize: 4 }), ShapeError, /images must have rank 4 \[B, H, W, C\], got rank 3 with shape \[32, 32, 3\]/);
    const x30 = tf.zeros([2, 30, 32, 3]);
    expectErr(() => gmmlCorrupt(x30, { rng, patchSize: 4 }), ShapeError, /divisible by patchSize=4, got images \[2, 30, 32, 3\]/);
    const xi = tf.zeros([2, 32, 32, 3], 'int32');
    expectErr(() => gmmlCorrupt(xi, { rng, patchSize: 4 }), ValueError, /images must be float32, got int32/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 16 }), ValueError, /maxBlock=0.3 .*patchSize=16/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4, fill: 'blur' as never }), ValueError, /fill must be one of 'noise', 'zeros', got 'blur'/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4, maskRatio: 1 }), ValueError, /maskRatio must be in \(0, 1\), got 1/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4, maskRatio: NaN }), ValueError, /maskRatio.*NaN/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4, replaceRatio: 0 }), ValueError, /replaceRatio/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4, replaceProb: 1.5 }), ValueError, /replaceProb must be in \[0, 1\], got 1.5/);
    expectErr(() => gmmlCorrupt(x, { rng, patchSize: 4.5 }), ValueError, /patchSize must be an integer/);
    expectErr(() => gmmlCorrupt(x, { rng: {} as never, patchSize: 4 }), ValueError, /rng must be an Rng/);
    expectErr(() => gmmlCorrupt(x, undefined as never), ValueError, /opts must be an object/);
    tf.dispose([x, x3, x30, xi]);
  });
});
