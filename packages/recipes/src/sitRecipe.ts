/**
 * SiT — Self-supervised vIsion Transformer (Atito, Awais & Kittler, "SiT: Self-supervised vIsion
 * Transformer", 2021; official code Sara-Ahmed/SiT, `main.py`), composed only from public @mmc parts:
 *
 * - views: two random resized crops (+ flips and DINO's colour jitter / grayscale / blur / solarize,
 *   `dinoPhotometric`, as the SiT and MMC data pipelines) of each image; the student sees each through GMML
 *   corruption (`gmmlCorrupt`: noise blocks, or blocks of another image), the teacher sees it clean.
 * - student: ViT backbone + a `recon` head (`pixelDecoder`, L1 on the corrupted pixels, `mimL1Loss`)
 *   and a `contrast` head (MLP on CLS).
 * - teacher: EMA of backbone + contrast head (`createTeacher`), run on the clean views in `views()`.
 * - loss: L1 reconstruction + MoCo v3 / SiT contrastive loss on CLS between the student's corrupted
 *   view and the teacher's clean *other* view: `crossViewInfoNCE` with `scale = 2T`, `reduction: 'sum'`
 *   (SiT's `SimCLR.contrastive_loss`), T = 0.2. No patch-level contrast (that is MMC's addition).
 *
 * Where we deviate from SiT (documented defaults): SiT reconstructs with a small conv/transposed-conv
 * decoder, we use a linear per-patch `pixelDecoder` (SimMIM-style); SiT's rotation prediction (v1) is
 * left out; the contrast head is the MoCo v3 projector with BatchNorm (`headBatchNorm`, as
 * `mmcRecipe`, where a BN-free head barely learned the contrastive term at small scale); GMML
 * corruption parameters are `mmcRecipe`'s (r = 0.75, blocks ≤ 0.3 of the side, 50 % of the images
 * get another image's blocks with ratio 0.3).
 */
import * as tf from '@tensorflow/tfjs';
import { type Rng } from '@mmc/core';
import { crossViewInfoNCE, mimL1Loss } from '@mmc/losses';
import { createTeacher, createViT, mlpHead, pixelDecoder, type MlpHead, type PixelDecoder, type Teacher, type ViT, type ViTConfig } from '@mmc/models';
import { SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';
import { gmmlViewPair } from './gmmlViewPair.js';

/** Options of {@link sitRecipe}; defaults are SiT's unless noted. */
export interface SitRecipeOptions {
  /** Backbone configuration, e.g. `vitTiny({ imageSize: 32, patchSize: 4 })`. */
  vit: ViTConfig;
  /** Contrast head: hidden width (default 2048), output size (256), layers (3), BatchNorm (true). */
  headHidden?: number;
  headOut?: number;
  headLayers?: number;
  headBatchNorm?: boolean;
  /** Contrast temperature T (SiT 0.2); each direction is scaled by 2T and the two are summed. */
  temperature?: number;
  /** Weights of the reconstruction and contrastive terms (default 1, 1). */
  reconWeight?: number;
  contrastWeight?: number;
  /** GMML corruption: mask ratio (0.75), largest block side as a fraction (0.3), replacement (0.5, 0.3), fill. */
  maskRatio?: number;
  maxBlock?: number;
  replaceProb?: number;
  replaceRatio?: number;
  fill?: 'noise' | 'zeros';
  /** Random-resized-crop area range (default [0.4, 1]); `false` disables cropping. */
  cropScale?: [number, number] | false;
  /** Horizontal flip probability per view (default 0.5). */
  flipProb?: number;
  /** DINO's colour jitter / grayscale / blur / solarize on both views, as SiT's and MMC's data pipelines (default true). */
  photometric?: boolean;
  normalization?: Normalization;
  /** Seed of the networks' initialisation (default 0). */
  seed?: number;
}

/** What `views()` hands to `losses()`. */
export interface SitViews {
  [key: string]: tf.Tensor;
  /** Both corrupted views `[2B, H, W, C]` (view 1 first), their clean originals and pixel masks. */
  corrupted: tf.Tensor4D;
  clean: tf.Tensor4D;
  pixelMask: tf.Tensor3D;
  /** Teacher contrast-head outputs on the clean views `[2B, K]`. */
  teacherGlobal: tf.Tensor2D;
}

export type SitRecipe = Recipe<SitViews> & {
  student: ViT;
  heads: { recon: PixelDecoder; contrast: MlpHead };
  teacher: Teacher<{ backbone: ViT; contrast: MlpHead }>;
};

/**
 * Builds the SiT recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = sitRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * ```
 */
export function sitRecipe(opts: SitRecipeOptions): SitRecipe {
  const {
    vit: vitConfig,
    headHidden = 2048,
    headOut = 256,
    headLayers = 3,
    headBatchNorm = true,
    temperature = 0.2,
    reconWeight = 1,
    contrastWeight = 1,
    maskRatio = 0.75,
    maxBlock = 0.3,
    replaceProb = 0.5,
    replaceRatio = 0.3,
    fill = 'noise',
    cropScale = [0.4, 1],
    flipProb = 0.5,
    photometric = true,
    normalization = SCENES_NORMALIZATION,
    seed = 0,
  } = opts;
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, patchSize, imageSize, channels } = backbone.config;
  const heads = {
    recon: pixelDecoder({ inDim: dim, patchSize, channels, seed: seed + 1 }),
    contrast: mlpHead({ inDim: dim, hiddenDim: headHidden, outDim: headOut, layers: headLayers, batchNorm: headBatchNorm, seed: seed + 2 }),
  };
  const teacher = createTeacher({ backbone, contrast: heads.contrast });
  const viewOptions = { imageSize, patchSize, normalization, cropScale, flipProb, photometric, maskRatio, maxBlock, replaceProb, replaceRatio, fill };

  return {
    name: 'sit',
    student: backbone,
    heads,
    teacher,
    variables: () => ({
      ...prefixVariables('backbone', backbone.variables),
      ...prefixVariables('recon', heads.recon.variables),
      ...prefixVariables('contrast', heads.contrast.variables),
    }),
    state: () => prefixVariables('teacher', teacher.variables),

    views(batch: tf.Tensor4D, rng: Rng): SitViews {
      const { clean, corrupted, pixelMask, tokenMask } = gmmlViewPair(batch, rng, viewOptions);
      tokenMask.dispose();
      const teacherGlobal = tf.tidy(() => teacher.model.contrast.apply(teacher.model.backbone.apply(clean).cls) as tf.Tensor2D);
      return { clean, corrupted, pixelMask, teacherGlobal };
    },

    losses(v: SitViews): LossParts {
      const B = v.corrupted.shape[0] / 2;
      const half = <T extends tf.Tensor>(t: T, i: number): T => tf.slice(t, i * B, B) as T;
      const s = backbone.apply(v.corrupted);
      const recon = mimL1Loss(heads.recon.apply(s.patches), v.clean, v.pixelMask);
      const q = heads.contrast.apply(s.cls) as tf.Tensor2D;
      const contrast = crossViewInfoNCE(half(q, 0), half(q, 1), half(v.teacherGlobal, 0), half(v.teacherGlobal, 1), {
        temperature,
        scale: 2 * temperature,
        reduction: 'sum',
      });
      const loss = tf.add(tf.mul(recon, reconWeight), tf.mul(contrast, contrastWeight)) as tf.Scalar;
      return { loss, recon, contrast };
    },

    afterStep({ momentum }) {
      teacher.update({ backbone, contrast: heads.contrast }, momentum);
    },

    dispose() {
      teacher.dispose();
      backbone.dispose();
      Object.values(heads).forEach((h) => h.dispose());
    },
  };
}
