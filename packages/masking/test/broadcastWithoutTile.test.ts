import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '@mmc/core';
import { gmmlCorrupt, grayscale, horizontalFlip, solarize } from '@mmc/masking';

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

  it('horizontalFlip copies with one gather, without Reverse', async () => {
    const names = await kernelsOf(() => {
      const f = horizontalFlip(images, { rng: createRng(4), prob: 0.5 });
      expect(Array.from(f.flipped)).toContain(1);
      expect(Array.from(f.flipped)).toContain(0);
      return f.images;
    });
    expect(names).toContain('GatherV2');
    expect(names).not.toContain('Reverse');
  });

  // tfjs' wasm backend also broadcasts comparisons and logical ops ≈ 40× slower than equal shapes.
  it('solarize combines its per-image coins at full size (no broadcast logical op)', async () => {
    const info = await tf.profile(() => {
      const s = solarize(images, { rng: createRng(6), prob: 0.5 });
      expect(Array.from(s.applied)).toContain(1);
      expect(Array.from(s.applied)).toContain(0);
      return s.images;
    });
    const logical = info.kernels.filter((k) => k.name === 'LogicalAnd');
    expect(logical.length).toBe(1);
    for (const k of logical) expect(k.inputShapes).toEqual([images.shape, images.shape]);
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
