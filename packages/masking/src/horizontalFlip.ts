import * as tf from '@tensorflow/tfjs';
import { assertRng } from './assertRng.js';
import { assertInRange, assertRank, type Rng } from '@mmc/core';

/**
 * Flips each image left–right with probability `prob` (coins drawn on the host from the rng, one
 * per image, in batch order).
 *
 * @param images `[B, H, W, C]`
 * @returns `{ images: [B, H, W, C], flipped: Uint8Array(B) }`
 * @example
 * ```ts
 * const { images: out } = horizontalFlip(batch, { rng, prob: 0.5 });
 * ```
 */
export function horizontalFlip(
  images: tf.Tensor4D,
  opts: { rng: Rng; prob?: number },
): { images: tf.Tensor4D; flipped: Uint8Array } {
  const fn = 'horizontalFlip';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const { rng, prob = 0.5 } = opts ?? ({} as { rng: Rng });
  assertRng(fn, rng);
  assertInRange(fn, 'prob', prob, 0, 1, 'none');
  const B = images.shape[0];
  const flipped = new Uint8Array(B);
  for (let b = 0; b < B; b++) flipped[b] = rng.next() < prob ? 1 : 0;
  const out = tf.tidy(() => {
    const f = tf.tensor4d(Float32Array.from(flipped), [B, 1, 1, 1]);
    return tf.add(tf.mul(images, tf.sub(1, f)), tf.mul(tf.reverse(images, 2), f));
  });
  return { images: out as tf.Tensor4D, flipped };
}
