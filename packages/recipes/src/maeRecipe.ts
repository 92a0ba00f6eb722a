/**
 * MAE-style masked image modelling (He et al., "Masked Autoencoders Are Scalable Vision Learners",
 * CVPR 2022; official code facebookresearch/mae, `models_mae.py`, `main_pretrain.py`), composed only
 * from public @mmc parts:
 *
 * - views: one random resized crop (area [0.2, 1], MAE's) + flip (p 0.5) of each image, normalised,
 *   and a random token mask per image (`randomTokenMask`, 75 % of the tokens, MAE's ratio).
 * - student: ViT + `pixelDecoder` (linear, one p×p×C patch per token); no teacher.
 * - loss: `maeLoss` with `normPix` (per-patch normalised pixel targets, MAE's best setting), MSE
 *   over the masked tokens only.
 *
 * **Deviation (important):** this is SimMIM-style, not MAE's asymmetric encoder–decoder. Our ViT
 * has no token dropping, so the encoder sees *all* tokens, the masked ones replaced by its learned
 * `mask_token` (`apply(x, { tokenMask })`), and the decoder is a single linear layer (SimMIM's
 * head) instead of MAE's 8-block transformer decoder. The objective (normalised-pixel MSE on
 * masked patches) and the masking (uniform random, 75 %) are MAE's; the compute saving of MAE
 * (encoding 25 % of the tokens) is not reproduced, and the representation is that of a
 * SimMIM-like model. `patchify` (of @mmc/core) turns the decoder's image back into patch vectors.
 */
import * as tf from '@tensorflow/tfjs';
import { patchify, type Rng } from '@mmc/core';
import { maeLoss } from '@mmc/losses';
import { horizontalFlip, randomResizedCrop, randomTokenMask } from '@mmc/masking';
import { createViT, pixelDecoder, type PixelDecoder, type ViT, type ViTConfig } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';

/** Options of {@link maeRecipe}; defaults are MAE's unless noted. */
export interface MaeRecipeOptions {
  vit: ViTConfig;
  /** Fraction of tokens masked (0.75). */
  maskRatio?: number;
  /** Per-patch normalised pixel targets (default true, MAE's `--norm_pix_loss`). */
  normPix?: boolean;
  /** Random-resized-crop area range (default [0.2, 1]); `false` disables cropping. */
  cropScale?: [number, number] | false;
  flipProb?: number;
  normalization?: Normalization;
  seed?: number;
}

export interface MaeViews {
  [key: string]: tf.Tensor;
  /** Augmented, normalised images `[B, H, W, C]` (also the reconstruction target). */
  images: tf.Tensor4D;
  /** `[B, N]` 1 = masked. */
  tokenMask: tf.Tensor2D;
}

export type MaeRecipe = Recipe<MaeViews> & { student: ViT; heads: { decoder: PixelDecoder } };

/**
 * Builds the MAE-style (SimMIM-like, see the deviation above) recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = maeRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * ```
 */
export function maeRecipe(opts: MaeRecipeOptions): MaeRecipe {
  const {
    vit: vitConfig,
    maskRatio = 0.75,
    normPix = true,
    cropScale = [0.2, 1],
    flipProb = 0.5,
    normalization = SCENES_NORMALIZATION,
    seed = 0,
  } = opts;
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, patchSize, imageSize, channels } = backbone.config;
  const N = backbone.numPatches;
  const heads = { decoder: pixelDecoder({ inDim: dim, patchSize, channels, seed: seed + 1 }) };

  return {
    name: 'mae',
    student: backbone,
    heads,
    variables: () => ({ ...prefixVariables('backbone', backbone.variables), ...prefixVariables('decoder', heads.decoder.variables) }),
    state: () => ({}),

    views(batch: tf.Tensor4D, rng: Rng): MaeViews {
      const B = batch.shape[0];
      const x = normalizeImages(batch, normalization);
      const cropped = cropScale ? randomResizedCrop(x, { rng, size: imageSize, scale: cropScale }).images : tf.clone(x);
      x.dispose();
      const images = horizontalFlip(cropped, { rng, prob: flipProb }).images;
      cropped.dispose();
      const mask = new Float32Array(B * N);
      for (let b = 0; b < B; b++) mask.set(randomTokenMask(rng, { numTokens: N, maskRatio }), b * N);
      return { images, tokenMask: tf.tensor2d(mask, [B, N]) };
    },

    losses(v: MaeViews): LossParts {
      const s = backbone.apply(v.images, { tokenMask: v.tokenMask });
      const pred = patchify(heads.decoder.apply(s.patches), patchSize);
      return { loss: maeLoss(pred, v.images, v.tokenMask, { patchSize, normPix }) };
    },

    dispose() {
      backbone.dispose();
      heads.decoder.dispose();
    },
  };
}
