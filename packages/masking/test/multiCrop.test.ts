import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { multiCrop, randomResizedCrop } from '@mmc/masking';
import { expectNoLeak, f32, randn } from '../../../test-setup/numeric';

describe('multiCrop', () => {
  it('returns global crops then local crops, each a randomResizedCrop drawn in that order', () => {
    const [B, H, W, C] = [3, 16, 12, 2];
    const images = tf.tensor4d(f32(randn(1, B * H * W * C)), [B, H, W, C]);
    const res = multiCrop(images, { rng: createRng(5), global: { size: 8 }, local: { count: 3, size: [4, 6] } });
    expect(res.numGlobal).toBe(2);
    expect(res.crops.map((c) => c.shape)).toEqual([
      [B, 8, 8, C],
      [B, 8, 8, C],
      [B, 4, 6, C],
      [B, 4, 6, C],
      [B, 4, 6, C],
    ]);
    // replay with the documented defaults: global scale [0.25, 1], local [0.05, 0.25], ratio [3/4, 4/3]
    const rng = createRng(5);
    const specs: [number | [number, number], [number, number]][] = [
      [8, [0.25, 1]],
      [8, [0.25, 1]],
      [[4, 6], [0.05, 0.25]],
      [[4, 6], [0.05, 0.25]],
      [[4, 6], [0.05, 0.25]],
    ];
    specs.forEach(([size, scale], i) => {
      const want = randomResizedCrop(images, { rng, size, scale, ratio: [3 / 4, 4 / 3] });
      expect(res.boxes[i]).toEqual(want.boxes);
      expect(Array.from(res.crops[i].dataSync())).toEqual(Array.from(want.images.dataSync()));
      want.images.dispose();
    });
    tf.dispose([images, ...res.crops]);
  });

  it('crop areas follow each group scale; local count defaults to 0; custom counts', () => {
    const images = tf.zeros([50, 40, 40, 1]) as tf.Tensor4D;
    const res = multiCrop(images, { rng: createRng(2), global: { count: 1, size: 4, scale: [0.4, 1] }, local: { count: 1, size: 2 } });
    expect(res.crops.length).toBe(2);
    for (const box of res.boxes[0]) expect((box.height * box.width) / 1600).toBeGreaterThan(0.35); // rounding of w, h
    for (const box of res.boxes[1]) expect((box.height * box.width) / 1600).toBeLessThan(0.29);
    const only = multiCrop(images, { rng: createRng(2), global: { size: 4 } });
    expect(only.crops.length).toBe(2);
    expect(only.numGlobal).toBe(2);
    tf.dispose([images, ...res.crops, ...only.crops]);
  });

  it('is tidy and rejects bad inputs naming the option', () => {
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    const rng = createRng(0);
    expectNoLeak(() => multiCrop(x, { rng, global: { size: 4 }, local: { count: 2, size: 2 } }).crops);
    expect(() => multiCrop(tf.zeros([8, 8, 3]) as never, { rng, global: { size: 4 } })).toThrow(ShapeError);
    expect(() => multiCrop(x, { rng, global: {} })).toThrow(/multiCrop: global.size must be a number or \[height, width\]/);
    expect(() => multiCrop(x, { rng, global: { size: 4 }, local: { count: 2 } })).toThrow(/local.size/);
    expect(() => multiCrop(x, { rng, global: { size: 4, count: 0 } })).toThrow(/global.count must be an integer >= 1/);
    expect(() => multiCrop(x, { rng, global: { size: 4 }, local: { count: -1, size: 2 } })).toThrow(/local.count/);
    expect(() => multiCrop(x, { rng, global: { size: 4, scale: [0.5, 0.2] } })).toThrow(/global.scale must satisfy/);
    expect(() => multiCrop(x, { rng, global: { size: 4 }, local: { count: 1, size: 2, ratio: [2, 1] } })).toThrow(/local.ratio/);
    expect(() => multiCrop(x, { rng, global: undefined as never })).toThrow(ValueError);
    expect(() => multiCrop(x, { rng: undefined as never, global: { size: 4 } })).toThrow(/rng must be an Rng/);
    x.dispose();
  });
});
