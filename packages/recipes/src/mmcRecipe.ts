/**
 * MMC — Masked Momentum Contrast (Wang et al., "Masked Momentum Contrastive Learning for Zero-shot
 * Semantic Understanding", 2023), composed only from public @mmc parts:
 *
 * - views: two random resized crops (+ flips and DINO's colour jitter / grayscale / blur / solarize,
 *   `dinoPhotometric`, as the SiT and MMC data pipelines) of each image; the student sees each through GMML
 *   corruption (`gmmlCorrupt`: noise blocks, or blocks of another image), the teacher sees it clean.
 * - student: ViT backbone + three independent heads: `mim` (pixel decoder, L1 on masked pixels,
 *   eq. 1), `patch` (MLP on patch tokens, patch momentum contrast against the teacher's tokens of the
 *   same view, eq. 2) and `global` (MLP on CLS, infoNCE against the teacher's CLS of the other view,
 *   T = 0.2, eq. 3).
 * - teacher: EMA of backbone + patch head + global head (`createTeacher`), run on the clean views
 *   inside `views()`, i.e. outside the gradient, since its outputs are constants.
 * - loss: `mmcLoss` = w_mim·L_mim + w_patch·L_patch + w_global·L_global (eq. 4).
 *
 * Choices where the paper is silent (documented defaults): the patch and global heads are MoCo v3
 * projectors with BatchNorm (`headBatchNorm`, default true) — without it the outputs of a freshly
 * initialised teacher are nearly collinear across images and the contrastive terms barely learn
 * (measured: on one fixed batch the global term plateaus at 1.27 without BN, falls to 0.21 with it,
 * in 50 AdamW steps); the patch contrast covers all tokens
 * (`patchTokens: 'all'`; `'masked'` restricts it to corrupted tokens as iBOT does); the student gets no
 * mask token (GMML corrupts pixels, as SiT); multi-crop is not used.
 */
import * as tf from '@tensorflow/tfjs';
import { type Rng } from '@mmc/core';
import { mmcLoss, type MmcLossWeights } from '@mmc/losses';
import { createTeacher, createViT, mlpHead, pixelDecoder, type MlpHead, type Teacher, type ViT, type ViTConfig } from '@mmc/models';
import { SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';
import { gmmlViewPair } from './gmmlViewPair.js';

/** Options of {@link mmcRecipe}; defaults are the paper's unless noted. */
export interface MmcRecipeOptions {
  /** Backbone configuration, e.g. `vitTiny({ imageSize: 32, patchSize: 4 })`. */
  vit: ViTConfig;
  /** Hidden width of the patch/global MLP heads (paper 4096; default 2048 as DINO). */
  headHidden?: number;
  /** Output size of the patch/global heads (default 256). */
  headOut?: number;
  /** Layers of the MLP heads (paper 3). */
  headLayers?: number;
  /** BatchNorm in the patch/global heads, MoCo v3's projector (default true; see the doc comment). */
  headBatchNorm?: boolean;
  /** Loss weights (default 1, 1, 1). */
  weights?: Partial<MmcLossWeights>;
  /** Contrast temperature for both contrastive terms (paper 0.2). */
  temperature?: number;
  /** Which tokens the patch contrast averages over (default 'all'). */
  patchTokens?: 'all' | 'masked';
  /** GMML: mask ratio r (0.75), largest block side as a fraction (0.3), replacement (0.5, 0.3), fill. */
  maskRatio?: number;
  maxBlock?: number;
  replaceProb?: number;
  replaceRatio?: number;
  fill?: 'noise' | 'zeros';
  /** Random-resized-crop area range of the two views (default [0.4, 1]); `false` disables cropping. */
  cropScale?: [number, number] | false;
  /** Horizontal flip probability per view (default 0.5). */
  flipProb?: number;
  /** DINO's colour jitter / grayscale / blur / solarize on both views, as SiT's and MMC's data pipelines (default true). */
  photometric?: boolean;
  /** Normalisation of [0, 1] input images (default mean 0.5, std 0.25). */
  normalization?: Normalization;
  /** Seed of the networks' initialisation (default 0). */
  seed?: number;
}

/** What `views()` hands to `losses()`: student inputs, masks, and the teacher's (constant) outputs. */
export interface MmcViews {
  [key: string]: tf.Tensor | tf.Tensor[];
  /** Both corrupted views stacked on the batch axis `[2B, H, W, C]` (view 1 first). */
  corrupted: tf.Tensor4D;
  /** Both clean views `[2B, H, W, C]` (reconstruction targets). */
  clean: tf.Tensor4D;
  pixelMask: tf.Tensor3D;
  tokenMask: tf.Tensor2D;
  /** Teacher patch-head outputs `[2B, N, K]` and global-head outputs `[2B, K]` on the clean views. */
  teacherPatch: tf.Tensor3D;
  teacherGlobal: tf.Tensor2D;
}

/** The MMC recipe: a {@link Recipe} whose student is a ViT and whose teacher holds backbone + heads. */
export type MmcRecipe = Recipe<MmcViews> & {
  student: ViT;
  teacher: Teacher<{ backbone: ViT; patch: MlpHead; global: MlpHead }>;
};

/**
 * Builds the MMC recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = mmcRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * const { patches } = recipe.student.apply(images);
 * ```
 */
export function mmcRecipe(opts: MmcRecipeOptions): MmcRecipe {
  const {
    vit: vitConfig,
    headHidden = 2048,
    headOut = 256,
    headLayers = 3,
    headBatchNorm = true,
    temperature = 0.2,
    patchTokens = 'all',
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
  const weights: MmcLossWeights = { mim: 1, patch: 1, global: 1, ...opts.weights };
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, patchSize, imageSize, channels } = backbone.config;
  const heads = {
    mim: pixelDecoder({ inDim: dim, patchSize, channels, seed: seed + 1 }),
    patch: mlpHead({ inDim: dim, hiddenDim: headHidden, outDim: headOut, layers: headLayers, batchNorm: headBatchNorm, seed: seed + 2 }),
    global: mlpHead({ inDim: dim, hiddenDim: headHidden, outDim: headOut, layers: headLayers, batchNorm: headBatchNorm, seed: seed + 3 }),
  };
  const teacher = createTeacher({ backbone, patch: heads.patch, global: heads.global });
  const viewOptions = { imageSize, patchSize, normalization, cropScale, flipProb, photometric, maskRatio, maxBlock, replaceProb, replaceRatio, fill };


  return {
    name: 'mmc',
    student: backbone,
    heads,
    teacher,
    variables: () => ({
      ...prefixVariables('backbone', backbone.variables),
      ...prefixVariables('mim', heads.mim.variables),
      ...prefixVariables('patch', heads.patch.variables),
      ...prefixVariables('global', heads.global.variables),
    }),
    state: () => prefixVariables('teacher', teacher.variables),

    views(batch: tf.Tensor4D, rng: Rng): MmcViews {
      const v = gmmlViewPair(batch, rng, viewOptions);
      const teacherOut = tf.tidy(() => {
        const t = teacher.model.backbone.apply(v.clean);
        return {
          teacherPatch: teacher.model.patch.apply(t.patches) as tf.Tensor3D,
          teacherGlobal: teacher.model.global.apply(t.cls) as tf.Tensor2D,
        };
      });
      return { ...v, ...teacherOut };
    },

    losses(v: MmcViews): LossParts {
      const B2 = v.corrupted.shape[0];
      const B = B2 / 2;
      const half = <T extends tf.Tensor>(t: T, i: number): T => tf.slice(t, i * B, B) as T;
      const s = backbone.apply(v.corrupted);
      const rec = heads.mim.apply(s.patches);
      const sp = heads.patch.apply(s.patches) as tf.Tensor3D;
      const sg = heads.global.apply(s.cls) as tf.Tensor2D;
      const views = [0, 1];
      const out = mmcLoss(
        {
          mim: views.map((i) => ({ pred: half(rec, i), target: half(v.clean, i), pixelMask: half(v.pixelMask, i) })),
          patch: views.map((i) => ({
            student: half(sp, i),
            teacher: half(v.teacherPatch, i),
            ...(patchTokens === 'masked' ? { mask: half(v.tokenMask, i) } : {}),
          })),
          global: { q1: half(sg, 0), q2: half(sg, 1), k1: half(v.teacherGlobal, 0), k2: half(v.teacherGlobal, 1) },
        },
        { weights, temperature },
      );
      return out as LossParts;
    },

    afterStep({ momentum }) {
      teacher.update({ backbone, patch: heads.patch, global: heads.global }, momentum);
    },

    dispose() {
      teacher.dispose();
      backbone.dispose();
      Object.values(heads).forEach((h) => h.dispose());
    },
  };
}
