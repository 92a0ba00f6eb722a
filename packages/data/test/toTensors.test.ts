import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '@mmc/core';
import { scenes, toTensors } from '@mmc/data';

describe('toTensors', () => {
  it('turns a batch into float32 images and int32 masks with the same values', async () => {
    const ds = scenes({ count: 4, imageSize: 16, seed: 0 });
    for (const idx of [[0], [3, 1, 2]]) {
      const before = tf.memory().numTensors;
      const batch = ds.batch(idx);
      const t = toTensors(batch);
      expect(t.images.shape).toEqual([idx.length, 16, 16, 3]);
      expect(t.images.dtype).toBe('float32');
      expect(t.classMasks!.shape).toEqual([idx.length, 16, 16]);
      expect(t.classMasks!.dtype).toBe('int32');
      expect(Array.from(await t.images.data())).toEqual(Array.from(batch.images));
      expect(Array.from(await t.classMasks!.data())).toEqual(Array.from(batch.classMasks));
      expect(Array.from(await t.instanceMasks!.data())).toEqual(Array.from(batch.instanceMasks));
      tf.dispose([t.images, t.classMasks!, t.instanceMasks!]);
      expect(tf.memory().numTensors).toBe(before);
    }
    const imagesOnly = toTensors({ images: new Float32Array(12), shape: [1, 2, 2, 3] });
    expect(imagesOnly.classMasks).toBeUndefined();
    imagesOnly.images.dispose();
  });

  it('rejects malformed batches without leaking', () => {
    const before = tf.memory().numTensors;
    expect(() => toTensors({ images: new Float32Array(5), shape: [1, 2, 2, 3] })).toThrow(/batch\.images/);
    expect(() => toTensors({ images: new Float32Array(12), shape: [1, 2, 2, 3], classMasks: new Uint8Array(3) })).toThrow(/batch\.classMasks/);
    expect(() => toTensors(null as never)).toThrow(ValueError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
