/**
 * DINO — self-distillation with no labels (Caron et al., "Emerging Properties in Self-Supervised
 * Vision Transformers", 2021; official code facebookresearch/dino, `main_dino.py`), composed only
 * from public @mmc parts:
 *
 * - views: `multiCrop` — 2 global crops (area [0.4, 1]) + `localCrops` local crops (area
 *   [0.05, 0.4]) of each image, each with DINO's photometric pipeline (flip 0.5, `colorJitter`
 *   p 0.8, `grayscale` p 0.2, `gaussianBlur` p 1.0 / 0.1 / 0.5 and `solarize` p 0 / 0.2 / 0 on
 *   global 1 / global 2 / locals), then normalised.
 * - student: ViT + DINO head = `projector` (3-layer MLP, GELU, L2-normalised bottleneck, `mlpHead`
 *   with `normLast`) + `prototypes`, a `[K, bottleneck]` variable used as DINO's weight-normalised
 *   last layer with its norm frozen to 1 (`norm_last_layer`): logits = cosine(z, prototypes)
 *   (`cosineSimilarity`), on the CLS token of every crop.
 * - teacher: EMA of backbone + projector (`createTeacher`) and of the prototypes (`emaUpdate`), run
 *   on the 2 global crops only, in `views()`.
 * - loss: `dinoLoss` (teacher softmax of (t − center)/0.04, student log-softmax of s/0.1, all pairs
 *   of different crops). The center [1, K] is recipe state: a non-trainable variable in `state()`
 *   (so checkpoints hold it), replaced after each optimizer step by the center `dinoLoss` returned.
 *
 * Where we deviate from DINO (documented defaults): local crops are resampled to the full
 * `imageSize` (DINO: 96 px beside 224 px globals), because our ViT has no position-embedding
 * interpolation — so a local crop costs as much as a global one, and the default is 2 locals instead
 * of 8; K = 1024 prototypes (DINO 65536) and a 2048/256 head as DINO; prototypes are initialised
 * U(±1/√bottleneck) from the seed (only their directions matter); the teacher
 * temperature is constant 0.04 (DINO's default warm-up is 0.04 → 0.04, so the same), and the
 * "freeze the last layer during the first epoch" trick is not applied; images are resampled
 * bilinearly (DINO bicubic).
 *
 * Why the cosine last layer matters here (measured on the tiny test config): with a plain linear
 * layer (trunc-normal 0.02 init) the logits are ~0.01, the teacher is uniform even at 0.04, and the
 * loss sits at log K and creeps up as the center catches up; with cosine logits the teacher is sharp
 * from the start and the student learns to match it.
 */
import * as tf from '@tensorflow/tfjs';
import { cosineSimilarity, createRng, type Rng } from '@mmc/core';
import { dinoLoss, emaUpdate } from '@mmc/losses';
import { horizontalFlip, multiCrop } from '@mmc/masking';
import { dinoPhotometric } from './dinoPhotometric.js';
import { createTeacher, createViT, mlpHead, type MlpHead, type Teacher, type ViT, type ViTConfig } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';
import type { LossParts, Recipe } from './recipe.js';
import { prefixVariables } from './prefixVariables.js';

/** Options of {@link dinoRecipe}; defaults are DINO's unless noted. */
export interface DinoRecipeOptions {
  vit: ViTConfig;
  /** Head: hidden width (2048), bottleneck (256), MLP layers (3), prototypes K (default 1024; DINO 65536). */
  headHidden?: number;
  bottleneck?: number;
  headLayers?: number;
  prototypes?: number;
  /** Local crops per image (default 2; DINO 8), resampled to `imageSize`. */
  localCrops?: number;
  globalScale?: [number, number];
  localScale?: [number, number];
  /** DINO's colour jitter / grayscale / blur / solarize pipeline (default true; flips are always on). */
  photometric?: boolean;
  /** Temperatures and center momentum (0.1, 0.04, 0.9). */
  studentTemp?: number;
  teacherTemp?: number;
  centerMomentum?: number;
  normalization?: Normalization;
  seed?: number;
}

export interface DinoViews {
  [key: string]: tf.Tensor;
  /** All crops `[V·B, H, W, C]`, crop-major (globals first). */
  crops: tf.Tensor4D;
  /** Teacher logits of the 2 global crops `[2B, K]`. */
  teacherOut: tf.Tensor2D;
}

export type DinoRecipe = Recipe<DinoViews> & {
  student: ViT;
  heads: { projector: MlpHead; prototypes: { variables: { weight: tf.Variable }; dispose(): void } };
  /** EMA copies: `model` (backbone, projector) and `prototypes`; `variables` holds all of them. */
  teacher: { model: Teacher<{ backbone: ViT; projector: MlpHead }>['model']; prototypes: tf.Variable; variables: Record<string, tf.Variable>; dispose(): void };
  /** The current center `[1, K]` (non-trainable). */
  center: tf.Variable;
};

/**
 * Builds the DINO recipe for {@link train}.
 *
 * @example
 * ```ts
 * const recipe = dinoRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }), localCrops: 4 });
 * await train(recipe, scenes({ count: 2000, imageSize: 32, seed: 0 }), { steps: 500, batchSize: 16 });
 * ```
 */
export function dinoRecipe(opts: DinoRecipeOptions): DinoRecipe {
  const {
    vit: vitConfig,
    headHidden = 2048,
    bottleneck = 256,
    headLayers = 3,
    prototypes: K = 1024,
    localCrops = 2,
    globalScale = [0.4, 1],
    localScale = [0.05, 0.4],
    photometric = true,
    studentTemp = 0.1,
    teacherTemp = 0.04,
    centerMomentum = 0.9,
    normalization = SCENES_NORMALIZATION,
    seed = 0,
  } = opts;
  const backbone = createViT({ ...vitConfig, seed });
  const { dim, imageSize } = backbone.config;
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
  const logits = (z: tf.Tensor, w: tf.Tensor) => cosineSimilarity(z, w) as tf.Tensor2D;
  const center = tf.tidy(() => tf.variable(tf.zeros([1, K]), false));
  let nextCenter: tf.Tensor | null = null;
  // DINO's per-crop probabilities: [blur, solarize] for global 1, global 2, locals.
  return {
    name: 'dino',
    student: backbone,
    heads,
    teacher,
    center,
    variables: () => ({
      ...prefixVariables('backbone', backbone.variables),
      ...prefixVariables('projector', heads.projector.variables),
      'prototypes.weight': prototypes,
    }),
    state: () => ({ ...prefixVariables('teacher', teacher.variables), center }),

    views(batch: tf.Tensor4D, rng: Rng): DinoViews {
      const { crops } = multiCrop(batch, {
        rng,
        global: { count: 2, size: imageSize, scale: globalScale },
        local: { count: localCrops, size: imageSize, scale: localScale },
      });
      const views = crops.map((crop, i) => {
        let x = horizontalFlip(crop, { rng, prob: 0.5 }).images;
        if (photometric) {
          const y = dinoPhotometric(x, rng, i);
          x.dispose();
          x = y;
        }
        const n = normalizeImages(x, normalization);
        x.dispose();
        return n;
      });
      tf.dispose(crops);
      const out = tf.tidy(() => {
        const globals = tf.concat(views.slice(0, 2), 0);
        const t = teacher.model;
        return {
          crops: tf.concat(views, 0) as tf.Tensor4D,
          teacherOut: logits(t.projector.apply(t.backbone.apply(globals).cls), teacherPrototypes),
        };
      });
      tf.dispose(views);
      return out;
    },

    losses(v: DinoViews): LossParts {
      const B = v.teacherOut.shape[0] / 2;
      const V = v.crops.shape[0] / B;
      const s = logits(projector.apply(backbone.apply(v.crops).cls), prototypes);
      const studentCrops = tf.split(s, V, 0);
      const teacherCrops = tf.split(v.teacherOut, 2, 0);
      const r = dinoLoss(studentCrops, teacherCrops, center, { studentTemp, teacherTemp, centerMomentum });
      // Inside the gradient: keep the new center and assign it after the optimizer step.
      nextCenter?.dispose();
      nextCenter = tf.keep(r.center);
      return { loss: r.loss };
    },

    afterStep({ momentum }) {
      emaModel.update(student, momentum);
      emaUpdate([teacherPrototypes], [prototypes], momentum);
      if (nextCenter) {
        center.assign(nextCenter);
        nextCenter.dispose();
        nextCenter = null;
      }
    },

    dispose() {
      nextCenter?.dispose();
      nextCenter = null;
      teacher.dispose();
      backbone.dispose();
      projector.dispose();
      prototypes.dispose();
      center.dispose();
    },
  };
}
