/**
 * MSN — Masked Siamese Networks (Assran et al., "Masked Siamese Networks for Label-Efficient
 * Learning", ECCV 2022; official code facebookresearch/msn, `src/msn_train.py`, `src/losses.py`),
 * composed only from public @mmc parts:
 *
 * - views: per image a *target* view (random resized crop, area [0.3, 1], + flip) seen clean by the
 *   EMA teacher, an *anchor* view (another such crop) with a random token mask (`randomTokenMask`,
 *   `maskRatio` 0.15, MSN's ViT-S/16 `patch_drop`), and `focalCrops` small focal crops (area
 *   [0.05, 0.3]) as extra anchors, all normalised.
 * - student: ViT (masked tokens → `mask_token`) + `projector` (3-layer MLP with BatchNorm, MSN's
 *   `fc` head, output 256) on CLS; `prototypes` a trainable `[K, 256]` variable (K = 1024, MSN's),
 *   initialised U(±1/√256) from the seed as MSN.
 * - teacher: EMA of backbone + projector (`createTeacher`) on the target view, in `views()`.
 * - loss: `msnLoss` (anchor temperature 0.1, targets sharpened to 0.025, mean-entropy maximisation
 *   weight 1) with Sinkhorn-balanced targets (`sinkhorn: true`, as MSN's configs).
 *
 * Where we deviate from MSN (documented defaults): MSN *drops* the masked tokens (the encoder sees
 * only the kept ones); our ViT has no token dropping, so masked tokens are replaced by the mask
 * token (SimMIM/iBOT-style) — same information removed, different encoder input statistics; focal
 * crops are resampled to the full `imageSize` (MSN: 96 px) since our ViT has no position-embedding
 * interpolation, and there are 2 by default (MSN 10); no colour augmentation; no label smoothing of
 * the prototypes' labels (MSN uses identity labels, smoothed by 0); the teacher momentum follows
 * the trainer's cosine schedule (MSN: linear over 1.25× the run, available via `train`'s options).
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '@mmc/core';
import { msnLoss } from '@mmc/losses';
import { horizontalFlip, multiCrop, randomTokenMask } from '@mmc/masking';
import { createTeacher, createViT, mlpHead, type MlpHead, type Teacher, type ViT, type ViTConfig } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';

/** Options of {@link msnRecipe}; defaults are MSN's unless noted. */
export interface MsnRecipeOptions {
  vit: ViTConfig;
  /** Projector: hidden width (2048), output (256), layers (3), BatchNorm (true). */
  headHidden?: number;
  headOut?: number;
  headLayers?: number;
  headBatchNorm?: boolean;
  /** Number of prototypes K (1024). */
  prototypes?: number;
  /** Fraction of the anchor's tokens masked (0.15, MSN ViT-S). */
  maskRatio?: number;
  /** Focal crops per image (default 2; MSN 10), resampled to `imageSize`. */
  focalCrops?: number;
  cropScale?: [number, number];
  focalScale?: [number, number];
  /** Loss options (0.1, 0.025, 1, true). */
  anchorTemp?: number;
  targetTemp?: number;
  meMaxWeight?: number;
  sinkhorn?: boolean;
  normalization?: Normalization;
  seed?: number;
}

export interface MsnViews {
  [key: string]: tf.Tensor;
  /** Anchor views `[M·B, H, W, C]` view-major (masked view first, then focal crops) and their masks `[M·B, N]`. */
  anchors: tf.Tensor4D;
  masks: tf.Tensor2D;
  /** Teacher projections of the target view `[B, headOut]`. */
  target: tf.Tensor2D;
}

export type MsnRecipe = Recipe<MsnViews> & {
  student: ViT;
  heads: { projector: MlpHead; prototypes: { variables: { weight: tf.Variable }; dispose(): void } };
  teacher: Teacher<{ backbone: ViT; projector: MlpHead }>;
};

/**
 * Builds the MSN recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = msnRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * ```
 */
export function msnRecipe(opts: MsnRecipeOptions): MsnRecipe {
  const {
    vit: vitConfig,
    headHidden = 2048,
    headOut = 256,
    headLayers = 3,
    headBatchNorm = true,
    prototypes: K = 1024,
    maskRatio = 0.15,
    focalCrops = 2,
    cropScale = [0.3, 1],
    focalScale = [0.05, 0.3],
    anchorTemp = 0.1,
    targetTemp = 0.025,
    meMaxWeight = 1,
    sinkhorn = true,
    normalization = SCENES_NORMALIZATION,
    seed = 0,
  } = opts;
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, imageSize } = backbone.config;
  const N = backbone.numPatches;
  const projector = mlpHead({ inDim: dim, hiddenDim: headHidden, outDim: headOut, layers: headLayers, batchNorm: headBatchNorm, seed: seed + 1 });
  const initRng = createRng(seed + 2);
  const bound = 1 / Math.sqrt(headOut);
  const init = Float32Array.from({ length: K * headOut }, () => (2 * initRng.next() - 1) * bound);
  const prototypes = tf.tidy(() => tf.variable(tf.tensor2d(init, [K, headOut]), true));
  const heads = { projector, prototypes: { variables: { weight: prototypes }, dispose: () => prototypes.dispose() } };
  const student = { backbone, projector };
  const teacher = createTeacher(student);

  return {
    name: 'msn',
    student: backbone,
    heads,
    teacher,
    variables: () => ({ ...prefixVariables('backbone', backbone.variables), ...prefixVariables('projector', projector.variables), 'prototypes.weight': prototypes }),
    state: () => prefixVariables('teacher', teacher.variables),

    views(batch: tf.Tensor4D, rng: Rng): MsnViews {
      const B = batch.shape[0];
      const x = normalizeImages(batch, normalization);
      const { crops } = multiCrop(x, {
        rng,
        global: { count: 2, size: imageSize, scale: cropScale },
        local: { count: focalCrops, size: imageSize, scale: focalScale },
      });
      x.dispose();
      const views = crops.map((c) => horizontalFlip(c, { rng, prob: 0.5 }).images);
      tf.dispose(crops);
      const M = views.length - 1; // crop 0 is the target, crop 1 the masked anchor, then focal crops
      const masks = new Float32Array(M * B * N); // focal crops are not masked
      for (let b = 0; b < B; b++) masks.set(randomTokenMask(rng, { numTokens: N, maskRatio }), b * N);
      const out = tf.tidy(() => ({
        anchors: tf.concat(views.slice(1), 0) as tf.Tensor4D,
        masks: tf.tensor2d(masks, [M * B, N]),
        target: teacher.model.projector.apply(teacher.model.backbone.apply(views[0]).cls) as tf.Tensor2D,
      }));
      tf.dispose(views);
      return out;
    },

    losses(v: MsnViews): LossParts {
      const anchor = projector.apply(backbone.apply(v.anchors, { tokenMask: v.masks }).cls);
      const r = msnLoss(anchor, v.target, prototypes, { anchorTemp, targetTemp, meMaxWeight, sinkhorn });
      return { loss: r.loss, ce: r.ce, meMax: r.meMax };
    },

    afterStep({ momentum }) {
      teacher.update(student, momentum);
    },

    dispose() {
      teacher.dispose();
      backbone.dispose();
      projector.dispose();
      prototypes.dispose();
    },
  };
}
