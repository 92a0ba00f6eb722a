import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '@mmc/core';
import { gmmlCorrupt, grayscale } from '@mmc/masking';

/** Names of the kernels `f` runs (tf.profile), its outputs disposed. */
async function kernelsOf(f: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(() => f());
  return info.kernelNames;
}

// tf.where and tf.tile broadcast through the Tile kernel, which tfjs' wasm backend runs at
// ≈ 90 ns per element (more than the rest of a view's augmentation); these views build their
// conditions at full size and let the arithmetic broadcast instead.
describe('augmentations broadcast without Tile', () => {
  const images = tf.randomUniform([6, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;

  it('gmmlCorrupt with noise blocks and with blocks of other images runs no Tile kernel', async () => {
    const names = await kernelsOf(() => {
      const g = gmmlCorrupt(images, { rng: createRng(1), patchSize: 4, replaceProb: 0.5 });
      expect(Array.from(g.replacedFrom).some((d) => d >= 0)).toBe(true);
      expect(Array.from(g.replacedFrom).some((d) => d < 0)).toBe(true);
      return [g.corrupted, g.pixelMask, g.tokenMask];
    });
    expect(names).toContain('Select');
    expect(names).not.toContain('Tile');
  });

  it('grayscale runs no Tile kernel', async () => {
    const names = await kernelsOf(() => {
      const g = grayscale(images, { rng: createRng(2), prob: 0.5 });
      expect(Array.from(g.applied)).toContain(1);
      return g.images;
    });
    expect(names).not.toContain('Tile');
  });
});
