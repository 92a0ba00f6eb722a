import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { solarize } from '@mmc/masking';
import { expectNoLeak, f32 } from '../../../test-setup/numeric';
import { rand01 } from './photometricReference';

describe('solarize', () => {
  it('inverts x >= threshold (x → 1 − x) in the chosen images only, any channel count', () => {
    for (const [seed, B, H, W, C, t] of [
      [1, 6, 3, 4, 3, 0.5],
      [2, 1, 1, 1, 1, 0.3],
      [3, 4, 2, 5, 2, 128 / 255],
    ]) {
      const x = rand01(seed, B * H * W * C);
      const images = tf.tensor4d(f32(x), [B, H, W, C]);
      const { images: out, applied } = solarize(images, { rng: createRng(seed), prob: 0.5, threshold: t });
      const got = out.dataSync();
      const n = H * W * C;
      for (let i = 0; i < x.length; i++) {
        const want = applied[Math.floor(i / n)] && x[i] >= Math.fround(t) ? 1 - x[i] : x[i];
        expect(got[i]).toBe(Math.fround(want)); // 1 − x of a float32 in [0, 1) is exact after rounding
      }
      tf.dispose([images, out]);
    }
  });

  it('the threshold itself is inverted; 1 − x stays in [0, 1]', () => {
    const x = tf.tensor4d([0.25, 0.2499, 1, 0], [1, 1, 4, 1]);
    const { images: out } = solarize(x, { rng: createRng(0), prob: 1, threshold: 0.25 });
    expect(Array.from(out.dataSync())).toEqual([0.75, Math.fround(0.2499), 0, 0]);
    tf.dispose([x, out]);
  });

  it('draws one coin per image, respects prob over many images, is deterministic', () => {
    const B = 500;
    const images = tf.fill([B, 1, 1, 1], 0.9) as tf.Tensor4D;
    const a = solarize(images, { rng: createRng(7) });
    const b = solarize(images, { rng: createRng(7) });
    const r = createRng(7);
    expect(Array.from(a.applied)).toEqual(Array.from({ length: B }, () => (r.next() < 0.2 ? 1 : 0)));
    const changed = Array.from(a.images.dataSync()).filter((v) => v !== Math.fround(0.9)).length;
    expect(changed).toBe(a.applied.reduce((s, v) => s + v, 0));
    expect(Math.abs(changed - 0.2 * B)).toBeLessThan(4 * Math.sqrt(B * 0.2 * 0.8));
    expect(Array.from(b.images.dataSync())).toEqual(Array.from(a.images.dataSync()));
    tf.dispose([images, a.images, b.images]);
  });

  it('is tidy and rejects bad inputs', () => {
    const x = tf.fill([3, 4, 4, 3], 0.7) as tf.Tensor4D;
    expectNoLeak(() => solarize(x, { rng: createRng(1), prob: 0.5 }).images);
    expectNoLeak(() => solarize(x, { rng: createRng(1), prob: 0 }).images);
    expect(() => solarize(tf.zeros([4, 4]) as never, { rng: createRng(0) })).toThrow(ShapeError);
    expect(() => solarize(x, { rng: createRng(0), prob: 2 })).toThrow(/solarize: prob must be in \[0, 1\]/);
    expect(() => solarize(x, { rng: createRng(0), threshold: NaN })).toThrow(ValueError);
    expect(() => solarize(x, { rng: createRng(0), threshold: NaN })).toThrow(/threshold/);
    x.dispose();
  });
});
