import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '@mmc/core';
import { horizontalFlip, randomResizedCrop } from '@mmc/masking';
import { dinoPhotometric, gmmlViewPair, normalizeImages, SCENES_NORMALIZATION } from '@mmc/recipes';
import { expectNoLeak } from '../../../test-setup/numeric';

const B = 6;
const S = 16;
const images = () => tf.randomUniform([B, S, S, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
const opts = (photometric: boolean) => ({
  imageSize: S,
  patchSize: 4,
  normalization: SCENES_NORMALIZATION,
  cropScale: [0.4, 1] as [number, number],
  flipProb: 0.5,
  photometric,
  maskRatio: 0.5,
  maxBlock: 0.5,
  replaceProb: 0.5,
  replaceRatio: 0.3,
  fill: 'noise' as const,
});

describe('dinoPhotometric', () => {
  it('is deterministic per seed, stays in [0, 1], keeps its input and leaks nothing', () => {
    const x = images();
    const before = x.dataSync().slice();
    const a = dinoPhotometric(x, createRng(5), 1);
    const b = dinoPhotometric(x, createRng(5), 1);
    const c = dinoPhotometric(x, createRng(6), 1);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(a).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(Array.from(x.dataSync())).toEqual(Array.from(before));
    tf.dispose([a, b, c]);
    expectNoLeak(() => dinoPhotometric(x, createRng(1), 0).dispose());
    x.dispose();
  });

  it('blurs view 0 always (p 1.0) and view 1 rarely (p 0.1): a one-pixel impulse spreads', () => {
    const impulse = tf.tidy(() => tf.zeros([1, 9, 9, 3]).add(tf.oneHot([40], 81).reshape([1, 9, 9, 1]))) as tf.Tensor4D;
    // Jitter, grayscale and solarize are pointwise (contrast adds a global mean), so without a blur
    // every pixel but the centre has one value; a blur (σ ~ U(0.1, 2)) makes the centre's neighbour
    // differ from a far corner, visibly unless σ is near its lower end.
    const blurred = (view: number) => {
      let n = 0;
      for (let seed = 0; seed < 20; seed++) {
        const v = tf.tidy(() => dinoPhotometric(impulse, createRng(seed), view).dataSync());
        if (Math.abs(v[(4 * 9 + 5) * 3] - v[0]) > 1e-3) n++;
      }
      return n;
    };
    expect(blurred(0)).toBeGreaterThanOrEqual(15);
    expect(blurred(1)).toBeLessThanOrEqual(5);
    impulse.dispose();
  });
});

describe('gmmlViewPair', () => {
  it('without photometric: clean views = normalise(flip(crop(x))) drawn from the same rng stream', () => {
    const x = images();
    const v = gmmlViewPair(x, createRng(3), opts(false));
    expect(v.clean.shape).toEqual([2 * B, S, S, 3]);
    expect(v.corrupted.shape).toEqual([2 * B, S, S, 3]);
    expect(v.pixelMask.shape).toEqual([2 * B, S, S]);
    expect(v.tokenMask.shape).toEqual([2 * B, 16]);
    // Independent composition of the public ops, replaying the draw order crop → flip → GMML.
    const rng = createRng(3);
    const crop = randomResizedCrop(x, { rng, size: S, scale: [0.4, 1] }).images;
    const flip = horizontalFlip(crop, { rng, prob: 0.5 }).images;
    const ref = normalizeImages(flip, SCENES_NORMALIZATION);
    const got = tf.slice(v.clean, 0, B);
    // Cropping before or after the per-channel affine normalisation differs only by rounding.
    expect(tf.max(tf.abs(tf.sub(got, ref))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([crop, flip, ref, got, v.clean, v.corrupted, v.pixelMask, v.tokenMask]);
    x.dispose();
  });

  it('photometric views differ from plain ones, deterministically, with no leak', () => {
    const x = images();
    const plain = gmmlViewPair(x, createRng(3), opts(false));
    const p1 = gmmlViewPair(x, createRng(3), opts(true));
    const p2 = gmmlViewPair(x, createRng(3), opts(true));
    expect(Array.from(p1.clean.dataSync())).toEqual(Array.from(p2.clean.dataSync()));
    // The first view's crop and flip are drawn first, so they match; jitter (p 0.8) and blur (p 1) change pixels.
    const diff = tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.slice(p1.clean, 0, B), tf.slice(plain.clean, 0, B)))).dataSync()[0]);
    expect(diff).toBeGreaterThan(0.01);
    tf.dispose([plain, p1, p2].flatMap((v) => [v.clean, v.corrupted, v.pixelMask, v.tokenMask]));
    expectNoLeak(() => {
      const v = gmmlViewPair(x, createRng(4), opts(true));
      tf.dispose([v.clean, v.corrupted, v.pixelMask, v.tokenMask]);
    });
    x.dispose();
  });
});
