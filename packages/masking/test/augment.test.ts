import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ValueError } from '@mmc/core';
import { horizontalFlip, randomResizedCrop, sampleCropBox } from '@mmc/masking';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Naive bilinear sample at half-pixel centres of a box (the semantics the crop promises). */
function refCrop(img: Float64Array, H: number, W: number, C: number, box: { top: number; left: number; height: number; width: number }, out: number): Float64Array {
  const res = new Float64Array(out * out * C);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < out; j++) {
      const y = box.top + ((i + 0.5) * box.height) / out - 0.5;
      const x = box.left + ((j + 0.5) * box.width) / out - 0.5;
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const y1 = Math.min(y0 + 1, H - 1);
      const x1 = Math.min(x0 + 1, W - 1);
      const dy = y - y0;
      const dx = x - x0;
      for (let c = 0; c < C; c++) {
        const at = (r: number, q: number) => img[(Math.max(r, 0) * W + Math.max(q, 0)) * C + c];
        res[(i * out + j) * C + c] =
          at(y0, x0) * (1 - dy) * (1 - dx) + at(y0, x1) * (1 - dy) * dx + at(y1, x0) * dy * (1 - dx) + at(y1, x1) * dy * dx;
      }
    }
  }
  return res;
}

describe('randomResizedCrop', () => {
  it('samples each box bilinearly at half-pixel centres (naive reference)', () => {
    const [B, H, W, C, S] = [3, 12, 10, 2, 5];
    const x = randn(1, B * H * W * C);
    const images = tf.tensor4d(f32(x), [B, H, W, C]);
    const { images: out, boxes } = randomResizedCrop(images, { rng: createRng(4), size: S, scale: [0.3, 1] });
    expect(out.shape).toEqual([B, S, S, C]);
    const got = out.dataSync();
    for (let b = 0; b < B; b++) {
      const ref = refCrop(x.subarray(b * H * W * C, (b + 1) * H * W * C), H, W, C, boxes[b], S);
      expectClose(got.subarray(b * S * S * C, (b + 1) * S * S * C), ref, 1e-4);
    }
    tf.dispose([images, out]);
  });

  it('boxes follow torchvision: within the image, area and ratio in range, deterministic per seed', () => {
    const rng = createRng(8);
    for (let t = 0; t < 1000; t++) {
      const box = sampleCropBox(rng, 64, 48, [0.25, 1], [3 / 4, 4 / 3]);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top + box.height).toBeLessThanOrEqual(64);
      expect(box.left + box.width).toBeLessThanOrEqual(48);
      const area = (box.height * box.width) / (64 * 48);
      expect(area).toBeGreaterThan(0.2); // rounding of w, h can shave a little off 0.25
      expect(area).toBeLessThanOrEqual(1);
    }
    const a = sampleCropBox(createRng(1), 32, 32, [0.08, 1], [0.75, 4 / 3]);
    const b = sampleCropBox(createRng(1), 32, 32, [0.08, 1], [0.75, 4 / 3]);
    expect(a).toEqual(b);
  });

  it('full-image box with scale [1, 1] and same size is the identity', () => {
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const { images: out } = randomResizedCrop(x, { rng: createRng(0), size: 8, scale: [1, 1], ratio: [1, 1] });
    expectClose(out.dataSync(), x.dataSync(), 1e-5);
    tf.dispose([x, out]);
  });

  it('is tidy and validates its options', () => {
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expectNoLeak(() => randomResizedCrop(x, { rng: createRng(0), size: 4 }).images);
    expect(() => randomResizedCrop(x, { rng: createRng(0), size: 4, scale: [0.5, 0.2] })).toThrow(ValueError);
    expect(() => randomResizedCrop(x, { rng: undefined as never, size: 4 })).toThrow(/rng must be an Rng/);
    expect(() => randomResizedCrop(tf.zeros([8, 8, 3]) as never, { rng: createRng(0), size: 4 })).toThrow(/images must have rank 4/);
    x.dispose();
  });
});

describe('horizontalFlip', () => {
  it('flips exactly the images whose coin came up, and is deterministic', () => {
    const x = tf.tensor4d(f32(randn(3, 4 * 2 * 3 * 1)), [4, 2, 3, 1]);
    const { images: out, flipped } = horizontalFlip(x, { rng: createRng(5), prob: 0.5 });
    const { flipped: again } = horizontalFlip(x, { rng: createRng(5), prob: 0.5 });
    expect(Array.from(again)).toEqual(Array.from(flipped));
    const xs = x.arraySync() as number[][][][];
    const os = out.arraySync() as number[][][][];
    for (let b = 0; b < 4; b++) {
      for (let r = 0; r < 2; r++) {
        const want = flipped[b] ? xs[b][r].slice().reverse() : xs[b][r];
        expect(os[b][r]).toEqual(want);
      }
    }
    const all = horizontalFlip(x, { rng: createRng(1), prob: 1 });
    expect(Array.from(all.flipped)).toEqual([1, 1, 1, 1]);
    tf.dispose([x, out, all.images]);
  });
  it('rejects prob outside [0, 1]', () => {
    expect(() => horizontalFlip(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, { rng: createRng(0), prob: 1.5 })).toThrow(/prob must be in \[0, 1\]/);
  });
});
