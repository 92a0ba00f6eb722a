import * as tf from '@tensorflow/tfjs';
import { ShapeError, assertInRange, assertRank, formatShape, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { luma } from './luma.js';

/** Options of {@link grayscale}. */
export interface GrayscaleOptions {
  /** Generator from `createRng(seed)`: one `rng.next()` per image, in batch order. */
  rng: Rng;
  /** Probability that an image is converted. In [0, 1]; default 0.2 (DINO, BYOL). */
  prob?: number;
}

/**
 * Random grayscale (torchvision `RandomGrayscale(p=0.2)` as DINO's `DataAugmentationDINO` uses it
 * on PIL images): with probability `prob` an RGB image becomes its ITU-R 601-2 luma
 * L = 0.299·R + 0.587·G + 0.114·B (PIL's `convert('L')`), replicated to 3 channels.
 *
 * Coins `rng.next() < prob` are drawn on the host, one per image in batch order, so a seed gives
 * the same choice on every backend. Images whose coin fails are returned unchanged (bit for bit).
 * A 1-channel batch is already gray: it is copied (coins are still drawn).
 *
 * @param images `[B, H, W, 3]` (or `[B, H, W, 1]`), any range (the map is linear)
 * @returns `{ images: [B, H, W, C], applied: Uint8Array(B) }` (1 = converted)
 * @example
 * ```ts
 * const { images: out, applied } = grayscale(batch, { rng, prob: 0.2 });
 * ```
 */
export function grayscale(images: tf.Tensor4D, opts: GrayscaleOptions): { images: tf.Tensor4D; applied: Uint8Array } {
  const fn = 'grayscale';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const C = images.shape[3];
  if (C !== 3 && C !== 1) throw new ShapeError(`${fn}: images must have 3 (RGB) or 1 channels [B, H, W, C], got shape ${formatShape(images.shape)}`);
  const { rng, prob = 0.2 } = opts ?? ({} as GrayscaleOptions);
  assertRng(fn, rng);
  assertInRange(fn, 'prob', prob, 0, 1, 'none');
  const B = images.shape[0];
  const applied = new Uint8Array(B);
  for (let b = 0; b < B; b++) applied[b] = rng.next() < prob ? 1 : 0;
  const out = tf.tidy(() => {
    if (C === 1 || applied.every((a) => a === 0)) return tf.clone(images);
    // luma [B, H, W, 1] broadcasts over the channels (no tf.tile: wasm's Tile costs ≈ 90 ns per element).
    const m = tf.tensor4d(Float32Array.from(applied), [B, 1, 1, 1]);
    return tf.add(tf.mul(images, tf.sub(1, m)), tf.mul(luma(images), m));
  });
  return { images: out as tf.Tensor4D, applied };
}
