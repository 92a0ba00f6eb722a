import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@mmc/core';
import { gmmlCorrupt, horizontalFlip, randomResizedCrop, type GmmlFill } from '@mmc/masking';
import { dinoPhotometric } from './dinoPhotometric.js';
import { normalizeImages, type Normalization } from './normalize.js';

/** Options of {@link gmmlViewPair}. */
export interface GmmlViewPairOptions {
  imageSize: number;
  patchSize: number;
  normalization: Normalization;
  /** Random-resized-crop area range; `false` keeps the whole image. */
  cropScale: [number, number] | false;
  flipProb: number;
  /** DINO's colour jitter / grayscale / blur / solarize per view (`dinoPhotometric`), before normalisation. */
  photometric: boolean;
  maskRatio: number;
  maxBlock: number;
  replaceProb: number;
  replaceRatio: number;
  fill: GmmlFill;
}

/**
 * The two views of SiT and MMC: per view a random resized crop, a horizontal flip, optionally
 * DINO's photometric augmentation (`dinoPhotometric`, view 1 and 2 settings), normalisation and
 * GMML corruption, drawn in that order from `rng`. Views are stacked on the batch axis (view 1
 * first): `clean` and `corrupted` `[2B, H, W, C]`, `pixelMask` `[2B, H, W]`, `tokenMask` `[2B, N]`.
 * The caller owns (and disposes) the four tensors.
 *
 * @example
 * ```ts
 * const { clean, corrupted, pixelMask, tokenMask } = gmmlViewPair(batch, rng, { imageSize: 64, patchSize: 8, ... });
 * ```
 */
export function gmmlViewPair(
  batch: tf.Tensor4D,
  rng: Rng,
  o: GmmlViewPairOptions,
): { clean: tf.Tensor4D; corrupted: tf.Tensor4D; pixelMask: tf.Tensor3D; tokenMask: tf.Tensor2D } {
  const clean: tf.Tensor[] = [];
  const corrupted: tf.Tensor[] = [];
  const pixelMasks: tf.Tensor[] = [];
  const tokenMasks: tf.Tensor[] = [];
  for (let v = 0; v < 2; v++) {
    const cropped = o.cropScale ? randomResizedCrop(batch, { rng, size: o.imageSize, scale: o.cropScale }).images : batch;
    const flipped = horizontalFlip(cropped, { rng, prob: o.flipProb }).images;
    if (cropped !== batch) cropped.dispose();
    const jittered = o.photometric ? dinoPhotometric(flipped, rng, v) : flipped;
    if (jittered !== flipped) flipped.dispose();
    const x = normalizeImages(jittered, o.normalization);
    jittered.dispose();
    const g = gmmlCorrupt(x, {
      rng,
      patchSize: o.patchSize,
      maskRatio: o.maskRatio,
      maxBlock: o.maxBlock,
      replaceProb: o.replaceProb,
      replaceRatio: o.replaceRatio,
      fill: o.fill,
    });
    clean.push(x);
    corrupted.push(g.corrupted);
    pixelMasks.push(g.pixelMask);
    tokenMasks.push(g.tokenMask);
  }
  const out = tf.tidy(() => ({
    clean: tf.concat(clean, 0) as tf.Tensor4D,
    corrupted: tf.concat(corrupted, 0) as tf.Tensor4D,
    pixelMask: tf.concat(pixelMasks, 0) as tf.Tensor3D,
    tokenMask: tf.concat(tokenMasks, 0) as tf.Tensor2D,
  }));
  tf.dispose([clean, corrupted, pixelMasks, tokenMasks]);
  return out;
}
