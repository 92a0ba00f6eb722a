import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertPositive, cosineSchedule, createRng, MmcError, ValueError, type Rng } from '@mmc/core';
import { adamw as createAdamW, type AdamW } from './adamw.js';
import { clipGradNorm } from './clipGradNorm.js';
import type { Recipe, TrainDataset } from './recipe.js';

/** What `onStep` receives after each step. Loss values are read back only on logged steps. */
export interface StepInfo {
  /** 1-based index of the step just finished. */
  step: number;
  steps: number;
  /** Loss parts read back from the device (empty object on steps that are not logged). */
  losses: Record<string, number>;
  gradNorm?: number;
  lr: number;
  weightDecay: number;
  momentum: number;
  /** Seconds since training (or the resumed run) started. */
  seconds: number;
  stepsPerSecond: number;
}

/** Options of {@link train}; defaults follow DINO/iBOT/MMC. */
export interface TrainOptions {
  steps: number;
  batchSize: number;
  /** `'adamw'` (default) or an optimizer made by `adamw()`. */
  optimizer?: 'adamw' | AdamW;
  /** Peak learning rate after warm-up (default 5e-4·batchSize/256, DINO's linear scaling rule). */
  lr?: number;
  /** Final learning rate of the cosine (default 1e-6). */
  minLr?: number;
  /** Linear warm-up steps (default 10% of steps). */
  warmupSteps?: number;
  /** Weight decay cosine from [start, end] (default [0.04, 0.4]); a number keeps it constant. */
  weightDecay?: number | [number, number];
  /** Teacher EMA momentum cosine from [start, end] (default [0.996, 1]). */
  momentum?: [number, number];
  /** Global gradient-norm clip (default 3.0 as DINO; 0 disables). */
  clipGrad?: number;
  seed?: number;
  /** Called after every step; may be async (the trainer awaits it). */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Read losses back every N steps (default 1); other steps never sync with the device. */
  logEvery?: number;
  /** Write a checkpoint atomically every `every` steps and at the end (Node only). */
  checkpoint?: { dir: string; every: number };
  /** Continue from the checkpoint in `checkpoint.dir` if there is one. */
  resume?: boolean;
}

/** Result of {@link train}. */
export interface TrainResult {
  /** Steps completed in total (including those before a resume). */
  steps: number;
  /** Step at which this call started (0 unless resumed). */
  startStep: number;
  /** Logged steps. */
  history: StepInfo[];
  seconds: number;
}

/** The trainer's mutable state, saved in checkpoints. */
export interface TrainState {
  step: number;
  dataRng: Rng;
  viewRng: Rng;
  optimizer: AdamW;
}

/**
 * Trains a recipe: per step, draws a batch (indices uniform with replacement from a seeded rng),
 * builds the views on the host, differentiates the recipe's loss, clips gradients, applies AdamW with
 * cosine learning rate (linear warm-up) and cosine weight decay, then updates the teacher with the
 * cosine momentum schedule. Deterministic for a seed; a resumed run continues exactly.
 *
 * @example
 * ```ts
 * const recipe = mmcRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, depth: 4 }) });
 * await train(recipe, dataset, { steps: 200, batchSize: 16, onStep: (s) => console.log(s.step, s.losses) });
 * ```
 */
export async function train(recipe: Recipe, dataset: TrainDataset, opts: TrainOptions): Promise<TrainResult> {
  const fn = 'train';
  if (recipe == null || typeof recipe.losses !== 'function') throw new ValueError(`${fn}: recipe must be a Recipe, got ${String(recipe)}`);
  if (dataset == null || typeof dataset.batch !== 'function') {
    throw new ValueError(`${fn}: dataset must have count and batch(indices), got ${String(dataset)}`);
  }
  const {
    steps,
    batchSize,
    minLr = 1e-6,
    weightDecay = [0.04, 0.4],
    momentum = [0.996, 1],
    clipGrad = 3.0,
    seed = 0,
    logEvery = 1,
    onStep,
    checkpoint,
    resume = false,
  } = opts ?? ({} as TrainOptions);
  assertInteger(fn, 'steps', steps, 1);
  assertInteger(fn, 'batchSize', batchSize, 1);
  assertInteger(fn, 'logEvery', logEvery, 1);
  assertInteger(fn, 'dataset.count', dataset.count, 1);
  const lr = opts.lr ?? (5e-4 * batchSize) / 256;
  assertPositive(fn, 'lr', lr);
  const warmupSteps = opts.warmupSteps ?? Math.floor(steps / 10);
  if (checkpoint) {
    assertInteger(fn, 'checkpoint.every', checkpoint.every, 1);
    if (typeof checkpoint.dir !== 'string' || !checkpoint.dir) throw new ValueError(`${fn}: checkpoint.dir must be a path`);
  }
  if (resume && !checkpoint) throw new ValueError(`${fn}: resume needs checkpoint.dir to read from`);

  const lrs = cosineSchedule({ base: lr, final: minLr, totalSteps: steps, warmupSteps, warmupStart: 0 });
  const wds = Array.isArray(weightDecay)
    ? cosineSchedule({ base: weightDecay[0], final: weightDecay[1], totalSteps: steps })
    : new Float64Array(steps).fill(weightDecay);
  const moms = cosineSchedule({ base: momentum[0], final: momentum[1], totalSteps: steps });

  const root = createRng(seed);
  const state: TrainState = {
    step: 0,
    dataRng: root.fork(),
    viewRng: root.fork(),
    optimizer: opts.optimizer && opts.optimizer !== 'adamw' ? opts.optimizer : createAdamW(),
  };
  const ownsOptimizer = !(opts.optimizer && opts.optimizer !== 'adamw');
  try {
    return await runSteps();
  } finally {
    if (ownsOptimizer) state.optimizer.dispose();
  }

  async function runSteps(): Promise<TrainResult> {
  const ckpt = checkpoint ? await import('./checkpoint.js') : undefined;
  if (resume && ckpt && checkpoint) await ckpt.restoreCheckpoint(checkpoint.dir, recipe, state);
  const startStep = state.step;
  if (startStep > steps) throw new ValueError(`${fn}: the checkpoint is at step ${startStep}, past steps=${steps}`);

  const variables = recipe.variables();
  const varList = Object.values(variables);
  const names = Object.keys(variables);
  const history: StepInfo[] = [];
  const t0 = performance.now();

  for (let s = startStep; s < steps; s++) {
    const indices = Array.from({ length: batchSize }, () => state.dataRng.int(dataset.count));
    const host = dataset.batch(indices);
    const batch = tf.tensor4d(host.images, host.shape);
    const views = recipe.views(batch, state.viewRng);
    tf.dispose(batch);
    const logged = (s + 1) % logEvery === 0 || s === steps - 1;
    let parts: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = recipe.losses(views);
      parts = {};
      for (const [k, v] of Object.entries(out)) if (k !== 'loss') parts[k] = tf.keep(v);
      return out.loss;
    }, varList);
    tf.dispose(views);
    // Variables the loss does not reach (e.g. a ViT's mask_token in a recipe that corrupts pixels)
    // get no gradient and are left unchanged.
    const byName: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => {
      const g = grads[varList[i].name];
      if (g != null) byName[n] = g;
    });
    let gradNormT: tf.Scalar | undefined;
    let toApply = byName;
    if (clipGrad > 0) {
      const clipped = clipGradNorm(byName, clipGrad);
      toApply = clipped.grads;
      gradNormT = clipped.norm;
    }
    state.optimizer.apply(toApply, variables, lrs[s], wds[s]);
    tf.dispose(Object.values(toApply));
    recipe.afterStep?.({ step: s, momentum: moms[s] });
    state.step = s + 1;

    const seconds = (performance.now() - t0) / 1000;
    const info: StepInfo = {
      step: s + 1,
      steps,
      losses: {},
      lr: lrs[s],
      weightDecay: wds[s],
      momentum: moms[s],
      seconds,
      stepsPerSecond: (s + 1 - startStep) / Math.max(seconds, 1e-9),
    };
    if (logged) {
      info.losses.loss = (await value.data())[0];
      for (const [k, v] of Object.entries(parts)) info.losses[k] = (await v.data())[0];
      if (gradNormT) info.gradNorm = (await gradNormT.data())[0];
      if (!Number.isFinite(info.losses.loss)) {
        tf.dispose([value, ...Object.values(parts), ...(gradNormT ? [gradNormT] : [])]);
        throw new MmcError(`train: the loss became ${info.losses.loss} at step ${s + 1} (lr ${lrs[s].toExponential(2)}); lower lr or raise clipGrad`, 'E_DIVERGED');
      }
      history.push(info);
    }
    tf.dispose([value, ...Object.values(parts), ...(gradNormT ? [gradNormT] : [])]);
    if (ckpt && checkpoint && ((s + 1) % checkpoint.every === 0 || s === steps - 1)) {
      await ckpt.saveCheckpoint(checkpoint.dir, recipe, state);
    }
    await onStep?.(info);
  }
  return { steps: state.step, startStep, history, seconds: (performance.now() - t0) / 1000 };
  }
}
