import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError } from '@mmc/core';
import { grayscale } from '@mmc/masking';
import { expectClose, expectNoLeak, f32, largestErrorSeen } from '../../../test-setup/numeric';
import { lumaOf, rand01 } from './photometricReference';

describe('grayscale', () => {
  it('converts the chosen images to 0.299 R + 0.587 G + 0.114 B on 3 channels, leaves the rest bit-identical', () => {
    for (const [seed, B, H, W] of [
      [1, 7, 3, 4],
      [2, 1, 1, 1],
    ]) {
      const x = rand01(seed, B * H * W * 3);
      const images = tf.tensor4d(f32(x), [B, H, W, 3]);
      const { images: out, applied } = grayscale(images, { rng: createRng(seed), prob: 0.5 });
      const got = out.dataSync();
      const want = new Float64Array(x.length);
      for (let i = 0; i < B * H * W; i++) {
        const b = Math.floor(i / (H * W));
        const l = lumaOf(x[i * 3], x[i * 3 + 1], x[i * 3 + 2]);
        for (let c = 0; c < 3; c++) want[i * 3 + c] = applied[b] ? l : x[i * 3 + c];
      }
      expectClose(got, want, 1e-6); // float32 weighted sum of three values in [0, 1]
      for (let i = 0; i < B * H * W * 3; i++) if (!applied[Math.floor(i / (H * W * 3))]) expect(got[i]).toBe(Math.fround(x[i]));
      tf.dispose([images, out]);
    }
  });

  it('draws one coin per image (rng.next() < prob), respects prob over many images, is deterministic', () => {
    const B = 500;
    const images = tf.tensor4d(f32(rand01(3, B * 3)), [B, 1, 1, 3]);
    const a = grayscale(images, { rng: createRng(4) });
    const b = grayscale(images, { rng: createRng(4) });
    const r = createRng(4);
    expect(Array.from(a.applied)).toEqual(Array.from({ length: B }, () => (r.next() < 0.2 ? 1 : 0)));
    const count = a.applied.reduce((s, v) => s + v, 0);
    expect(Math.abs(count - 0.2 * B)).toBeLessThan(4 * Math.sqrt(B * 0.2 * 0.8));
    expect(Array.from(b.images.dataSync())).toEqual(Array.from(a.images.dataSync()));
    const all = grayscale(images, { rng: createRng(4), prob: 1 });
    expect(all.applied.every((v) => v === 1)).toBe(true);
    tf.dispose([images, a.images, b.images, all.images]);
  });

  it('copies a 1-channel batch, is tidy, and rejects bad inputs', () => {
    const g = tf.tensor4d([0.1, 0.2, 0.3, 0.4], [1, 2, 2, 1]);
    const out = grayscale(g, { rng: createRng(0), prob: 1 });
    expect(out.images).not.toBe(g);
    expect(Array.from(out.images.dataSync())).toEqual(Array.from(g.dataSync()));
    const x = tf.zeros([3, 4, 4, 3]) as tf.Tensor4D;
    expectNoLeak(() => grayscale(x, { rng: createRng(1), prob: 0.5 }).images);
    expectNoLeak(() => grayscale(x, { rng: createRng(1), prob: 0 }).images);
    expect(() => grayscale(tf.zeros([4, 4, 3]) as never, { rng: createRng(0) })).toThrow(/grayscale: images must have rank 4/);
    expect(() => grayscale(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, { rng: createRng(0) })).toThrow(ShapeError);
    expect(() => grayscale(x, { rng: createRng(0), prob: -0.1 })).toThrow(/grayscale: prob must be in \[0, 1\]/);
    expect(() => grayscale(x, { rng: null as never })).toThrow(/rng must be an Rng/);
    tf.dispose([g, out.images, x]);
  });
});

afterAll(() => {
  console.log(`[masking/grayscale ${tf.getBackend()}] max |error| vs float64 reference: ${largestErrorSeen().toExponential(2)}`);
});
