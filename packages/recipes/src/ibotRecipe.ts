/**
 * iBOT — Image BERT pre-training with Online Tokenizer (Zhou et al., "iBOT: Image BERT Pre-Training
 * with Online Tokenizer", ICLR 2022; official code bytedance/ibot, `main_ibot.py`), composed only
 * from public @mmc parts:
 *
 * - views: `multiCrop` — 2 global crops (area [0.4, 1]) + `localCrops` local crops ([0.05, 0.4]),
 *   flipped (p 0.5) and normalised; each global crop of each image gets a block-wise token mask
 *   (`blockwiseMask`, ratio U(0.1, 0.5) per image = iBOT's pred_ratio 0.3 ± 0.2, aspect ≥ 0.3,
 *   smallest block (⌊min(h, w)/3⌋)²); local crops are not masked.
 * - student: ViT with the masked tokens replaced by its `mask_token` (`apply(x, { tokenMask })`) +
 *   a head shared by CLS and patch tokens (iBOT's `shared_head`): `projector` (3-layer MLP, GELU,
 *   L2-normalised bottleneck) + `prototypes` `[K, bottleneck]` used as a weight-normalised last
 *   layer with norm 1 (logits = cosine, `cosineSimilarity`).
 * - teacher: EMA of backbone + projector (`createTeacher`) and of the prototypes (`emaUpdate`), on the
 *   clean global crops, in `views()`.
 * - loss: `ibotLoss` = CLS self-distillation across different views (teacher T 0.04) + masked patch
 *   distillation on the same global view (teacher T 0.07), student T 0.1, λ1 = λ2 = 1. The centers
 *   `[1, K]` and `[1, 1, K]` are non-trainable variables in `state()`, replaced after each optimizer
 *   step by the ones `ibotLoss` returned.
 *
 * Where we deviate from iBOT (documented defaults): local crops are resampled to the full
 * `imageSize` (no position-embedding interpolation in our ViT), default 2 locals (iBOT 10);
 * K = 1024 (iBOT 8192); teacher temperatures are constant (iBOT warms the CLS one 0.04 → 0.07 over
 * 30 epochs: we keep the start value); every image is masked (iBOT masks from `pred_start_epoch`);
 * no colour augmentation (use `dinoRecipe`'s pipeline if wanted; iBOT uses DINO's); prototypes are
 * initialised U(±1/√bottleneck) from the seed.
 *
 * Loss at small scale: like DINO, the loss over the first steps is dominated by the centers catching
 * up from zero (the centered teacher changes its preferred prototypes), so it need not fall in a
 * few dozen steps.
 */
import * as tf from '@tensorflow/tfjs';
import { cosineSimilarity, createRng, type Rng } from '@mmc/core';
import { emaUpdate, ibotLoss } from '@mmc/losses';
import { blockwiseMask, horizontalFlip, multiCrop } from '@mmc/masking';
import { createTeacher, createViT, mlpHead, type MlpHead, type Teacher, type ViT, type ViTConfig } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';

/** Options of {@link ibotRecipe}; defaults are iBOT's unless noted. */
export interface IbotRecipeOptions {
  vit: ViTConfig;
  /** Head: hidden width (2048), bottleneck (256), MLP layers (3), prototypes K (default 1024; iBOT 8192). */
  headHidden?: number;
  bottleneck?: number;
  headLayers?: number;
  prototypes?: number;
  /** Local crops per image (default 2; iBOT 10), resampled to `imageSize`. */
  localCrops?: number;
  globalScale?: [number, number];
  localScale?: [number, number];
  /** Mask ratio range per image (default [0.1, 0.5]) and smallest block aspect (0.3). */
  maskRatio?: [number, number];
  minAspect?: number;
  /** Temperatures, center momenta, loss weights (0.1, 0.04, 0.07, 0.9, 0.9, 1, 1). */
  studentTemp?: number;
  teacherTemp?: number;
  teacherPatchTemp?: number;
  centerMomentum?: number;
  centerMomentum2?: number;
  lambda1?: number;
  lambda2?: number;
  normalization?: Normalization;
  seed?: number;
}

export interface IbotViews {
  [key: string]: tf.Tensor;
  /** All crops `[V·B, H, W, C]` crop-major (globals first) and their token masks `[V·B, N]` (locals 0). */
  crops: tf.Tensor4D;
  masks: tf.Tensor2D;
  /** Teacher logits on the clean globals: CLS `[2B, K]`, patches `[2B, N, K]`. */
  teacherCls: tf.Tensor2D;
  teacherPatch: tf.Tensor3D;
}

export type IbotRecipe = Recipe<IbotViews> & {
  student: ViT;
  heads: { projector: MlpHead; prototypes: { variables: { weight: tf.Variable }; dispose(): void } };
  teacher: { model: Teacher<{ backbone: ViT; projector: MlpHead }>['model']; prototypes: tf.Variable; variables: Record<string, tf.Variable>; dispose(): void };
  /** CLS center `[1, K]` and patch center `[1, 1, K]` (non-trainable). */
  center: tf.Variable;
  center2: tf.Variable;
};

/**
 * Builds the iBOT recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = ibotRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * ```
 */
export function ibotRecipe(opts: IbotRecipeOptions): IbotRecipe {
  const {
    vit: vitConfig,
    headHidden = 2048,
    bottleneck = 256,
    headLayers = 3,
    prototypes: K = 1024,
    localCrops = 2,
    globalScale = [0.4, 1],
    localScale = [0.05, 0.4],
    maskRatio = [0.1, 0.5],
    minAspect = 0.3,
    normalization = SCENES_NORMALIZATION,
    seed = 0,
  } = opts;
  const lossOptions = {
    studentTemp: opts.studentTemp ?? 0.1,
    teacherTemp: opts.teacherTemp ?? 0.04,
    teacherPatchTemp: opts.teacherPatchTemp ?? 0.07,
    centerMomentum: opts.centerMomentum ?? 0.9,
    centerMomentum2: opts.centerMomentum2 ?? 0.9,
    lambda1: opts.lambda1 ?? 1,
    lambda2: opts.lambda2 ?? 1,
  };
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, imageSize, patchSize } = backbone.config;
  const grid = imageSize / patchSize;
  const N = grid * grid;
  const projector = mlpHead({ inDim: dim, hiddenDim: headHidden, outDim: bottleneck, layers: headLayers, normLast: true, seed: seed + 1 });
  const initRng = createRng(seed + 2);
  const bound = 1 / Math.sqrt(bottleneck);
  const init = Float32Array.from({ length: K * bottleneck }, () => (2 * initRng.next() - 1) * bound);
  const prototypes = tf.tidy(() => tf.variable(tf.tensor2d(init, [K, bottleneck]), true));
  const heads = { projector, prototypes: { variables: { weight: prototypes }, dispose: () => prototypes.dispose() } };
  const student = { backbone, projector };
  const emaModel = createTeacher(student);
  const teacherPrototypes = tf.tidy(() => tf.variable(tf.tensor2d(init, [K, bottleneck]), false));
  const teacher = {
    model: emaModel.model,
    prototypes: teacherPrototypes,
    variables: { ...emaModel.variables, 'prototypes.weight': teacherPrototypes },
    dispose() {
      emaModel.dispose();
      teacherPrototypes.dispose();
    },
  };
  const center = tf.tidy(() => tf.variable(tf.zeros([1, K]), false));
  const center2 = tf.tidy(() => tf.variable(tf.zeros([1, 1, K]), false));
  let nextCenters: [tf.Tensor, tf.Tensor] | null = null;
  /** Cosine logits of `[..., bottleneck]` features against the prototypes: `[..., K]`. */
  const logits = (z: tf.Tensor, w: tf.Tensor) => tf.reshape(cosineSimilarity(tf.reshape(z, [-1, bottleneck]), w), [...z.shape.slice(0, -1), K]);

  return {
    name: 'ibot',
    student: backbone,
    heads,
    teacher,
    center,
    center2,
    variables: () => ({ ...prefixVariables('backbone', backbone.variables), ...prefixVariables('projector', projector.variables), 'prototypes.weight': prototypes }),
    state: () => ({ ...prefixVariables('teacher', teacher.variables), center, center2 }),

    views(batch: tf.Tensor4D, rng: Rng): IbotViews {
      const B = batch.shape[0];
      const { crops } = multiCrop(batch, {
        rng,
        global: { count: 2, size: imageSize, scale: globalScale },
        local: { count: localCrops, size: imageSize, scale: localScale },
      });
      const views = crops.map((crop) => {
        const flipped = horizontalFlip(crop, { rng, prob: 0.5 }).images;
        const n = normalizeImages(flipped, normalization);
        flipped.dispose();
        return n;
      });
      tf.dispose(crops);
      const masks = new Float32Array(views.length * B * N); // locals stay unmasked
      const minPatches = Math.max(1, Math.floor(grid / 3) ** 2);
      for (let i = 0; i < 2 * B; i++) {
        const ratio = maskRatio[0] + (maskRatio[1] - maskRatio[0]) * rng.next();
        masks.set(blockwiseMask(rng, { gridHeight: grid, gridWidth: grid, maskRatio: ratio, minPatches, minAspect }), i * N);
      }
      const out = tf.tidy(() => {
        const t = teacher.model;
        const out = t.backbone.apply(tf.concat(views.slice(0, 2), 0));
        return {
          crops: tf.concat(views, 0) as tf.Tensor4D,
          masks: tf.tensor2d(masks, [views.length * B, N]),
          teacherCls: logits(t.projector.apply(out.cls), teacherPrototypes) as tf.Tensor2D,
          teacherPatch: logits(t.projector.apply(out.patches), teacherPrototypes) as tf.Tensor3D,
        };
      });
      tf.dispose(views);
      return out;
    },

    losses(v: IbotViews): LossParts {
      const B = v.teacherCls.shape[0] / 2;
      const V = v.crops.shape[0] / B;
      const s = backbone.apply(v.crops, { tokenMask: v.masks });
      const cls = tf.split(logits(projector.apply(s.cls), prototypes), V, 0);
      const globalPatches = tf.slice(s.patches, 0, 2 * B);
      const patch = tf.split(logits(projector.apply(globalPatches), prototypes), 2, 0);
      const r = ibotLoss(
        {
          studentCls: cls,
          teacherCls: tf.split(v.teacherCls, 2, 0),
          studentPatch: patch,
          teacherPatch: tf.split(v.teacherPatch, 2, 0),
          masks: tf.split(tf.slice(v.masks, 0, 2 * B), 2, 0),
        },
        center,
        center2,
        lossOptions,
      );
      // Inside the gradient: keep the new centers and assign them after the optimizer step.
      if (nextCenters) tf.dispose(nextCenters);
      nextCenters = [tf.keep(r.center), tf.keep(r.center2)];
      return { loss: r.loss, cls: r.cls, patch: r.patch };
    },

    afterStep({ momentum }) {
      emaModel.update(student, momentum);
      emaUpdate([teacherPrototypes], [prototypes], momentum);
      if (nextCenters) {
        center.assign(nextCenters[0]);
        center2.assign(nextCenters[1]);
        tf.dispose(nextCenters);
        nextCenters = null;
      }
    },

    dispose() {
      if (nextCenters) tf.dispose(nextCenters);
      nextCenters = null;
      teacher.dispose();
      backbone.dispose();
      projector.dispose();
      prototypes.dispose();
      tf.dispose([center, center2]);
    },
  };
}
