import * as tf from '@tensorflow/tfjs';
import { createRng } from '@mmc/core';
import { scenes } from '@mmc/data';
import {
  crossViewInfoNCE,
  dinoLoss,
  ibotPatchLoss,
  infoNCE,
  maeLoss,
  mimL1Loss,
  mmcLoss,
  msnLoss,
  patchMomentumContrast,
} from '@mmc/losses';
import { createViT, vitTiny } from '@mmc/models';
import { mmcRecipe, train } from '@mmc/recipes';

/** One named output of a parity case, read back to the host. */
export type ParityValues = Record<string, number[]>;

/** A parity case: computes named outputs on the current backend from seeded host data. */
export interface ParityCase {
  name: string;
  /** What the values are (shown in the docs). */
  what: string;
  run(): Promise<ParityValues>;
}

/** Seeded N(0, 1) float32 data. */
function normal(seed: number, shape: number[], scale = 1): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
  return tf.tensor(data, shape, 'float32');
}

/** Seeded 0/1 mask with roughly `p` ones. */
function bernoulli(seed: number, shape: number[], p: number): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.next() < p ? 1 : 0;
  return tf.tensor(data, shape, 'float32');
}

async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from((await t.data()) as Float32Array);
}

/**
 * Value of `f(x)` and its gradient with respect to `x` = `inputs[0]`, read back; `inputs` are
 * disposed after (tensors made inside `f` are freed by the gradient's own scope).
 */
async function lossAndGrad(inputs: tf.Tensor[], f: (x: tf.Tensor) => tf.Scalar): Promise<ParityValues> {
  const { value, grad } = tf.valueAndGrad(f)(inputs[0]);
  const out = { value: await read(value), grad: await read(grad) };
  tf.dispose([value, grad, ...inputs]);
  return out;
}

/** The losses of @mmc/losses on fixed seeded inputs: value and gradient w.r.t. the first input. */
export const LOSS_CASES: ParityCase[] = [
  {
    name: 'mimL1Loss',
    what: 'B 2, 16×16×3, ~50 % masked pixels',
    run: () => {
      const target = normal(2, [2, 16, 16, 3]);
      const mask = bernoulli(3, [2, 16, 16], 0.5);
      return lossAndGrad([normal(1, [2, 16, 16, 3]), target, mask], (x) => mimL1Loss(x, target, mask));
    },
  },
  {
    name: 'maeLoss',
    what: 'B 2, 16×16×3, patch 4, normPix',
    run: () => {
      const images = normal(5, [2, 16, 16, 3]);
      const mask = bernoulli(6, [2, 16], 0.75);
      return lossAndGrad([normal(4, [2, 16, 48]), images, mask], (x) => maeLoss(x, images, mask, { patchSize: 4, normPix: true }));
    },
  },
  {
    name: 'infoNCE',
    what: 'B 8, D 32, T 0.2, symmetric',
    run: () => {
      const k = normal(8, [8, 32]);
      return lossAndGrad([normal(7, [8, 32]), k], (q) => infoNCE(q, k, { temperature: 0.2, symmetric: true }));
    },
  },
  {
    name: 'crossViewInfoNCE',
    what: 'B 8, D 32, T 0.2',
    run: () => {
      const [q2, k1, k2] = [normal(10, [8, 32]), normal(11, [8, 32]), normal(12, [8, 32])];
      return lossAndGrad([normal(9, [8, 32]), q2, k1, k2], (q1) => crossViewInfoNCE(q1, q2, k1, k2));
    },
  },
  {
    name: 'patchMomentumContrast',
    what: 'B 2, N 16, D 32, T 0.2, ~half the tokens masked',
    run: () => {
      const teacher = normal(14, [2, 16, 32]);
      const mask = bernoulli(15, [2, 16], 0.5);
      return lossAndGrad([normal(13, [2, 16, 32]), teacher, mask], (s) => patchMomentumContrast(s, teacher, { mask }));
    },
  },
  {
    name: 'mmcLoss',
    what: 'the three parts above combined (weights 1, 1, 1)',
    run: () => {
      const target = normal(17, [2, 16, 16, 3]);
      const pixelMask = bernoulli(18, [2, 16, 16], 0.5);
      const student = normal(19, [2, 16, 32]);
      const teacher = normal(20, [2, 16, 32]);
      const [q1, q2, k1, k2] = [21, 22, 23, 24].map((s) => normal(s, [2, 32]));
      return lossAndGrad([normal(16, [2, 16, 16, 3]), target, pixelMask, student, teacher, q1, q2, k1, k2], (pred) => {
        return mmcLoss({ mim: { pred, target, pixelMask }, patch: { student, teacher }, global: { q1, q2, k1, k2 } }).loss;
      });
    },
  },
  {
    name: 'dinoLoss',
    what: '2 teacher + 8 student crops (14 cross-view terms, a tf.addN of 14), B 4, K 64',
    run: () => {
      const others = [26, 27, 28, 29, 30, 31, 32].map((s) => normal(s, [4, 64]));
      const teacher = [normal(33, [4, 64]), normal(34, [4, 64])];
      const center = normal(35, [1, 64], 0.1);
      return lossAndGrad([normal(25, [4, 64]), ...others, ...teacher, center], (s1) => dinoLoss([s1, ...others], teacher, center).loss);
    },
  },
  {
    name: 'ibotPatchLoss',
    what: 'B 2, N 16, K 64, ~half masked',
    run: () => {
      const teacher = normal(31, [2, 16, 64]);
      const mask = bernoulli(32, [2, 16], 0.5);
      const center = normal(33, [1, 1, 64], 0.1);
      return lossAndGrad([normal(30, [2, 16, 64]), teacher, mask, center], (s) => ibotPatchLoss(s, teacher, mask, center).loss);
    },
  },
  {
    name: 'msnLoss',
    what: '2 anchor views of B 4, D 32, K 16 prototypes, Sinkhorn on',
    run: () => {
      const target = normal(35, [4, 32]);
      const prototypes = normal(36, [16, 32]);
      return lossAndGrad([normal(34, [8, 32]), target, prototypes], (a) => msnLoss(a, target, prototypes, { sinkhorn: true }).loss);
    },
  },
];

/**
 * ViT-Tiny (dim 192, depth 12, 3 heads) on 2 images of 32×32 with patch 8 (16 tokens + CLS):
 * CLS and patch outputs, and the gradient of Σ outputs·R (R fixed, seeded) w.r.t. every weight.
 */
export const VIT_CASE: ParityCase = {
  name: 'vitTiny',
  what: 'ViT-Tiny (192 wide, 12 blocks, 3 heads), 2 images 32×32, patch 8: forward and backward',
  run: async () => {
    const vit = createViT(vitTiny({ imageSize: 32, patchSize: 8, seed: 0 }));
    const images = normal(40, [2, 32, 32, 3]);
    const rc = normal(41, [2, 192]);
    const rp = normal(42, [2, 16, 192]);
    const names = Object.keys(vit.variables).filter((n) => n !== 'mask_token');
    const outputs = tf.tidy(() => vit.apply(images));
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => {
        const o = vit.apply(images);
        return tf.add(tf.sum(tf.mul(o.cls, rc)), tf.sum(tf.mul(o.patches, rp))) as tf.Scalar;
      }),
      names.map((n) => vit.variables[n]),
    );
    const values: ParityValues = { cls: await read(outputs.cls), patches: await read(outputs.patches) };
    for (const n of names) values[`grad ${n}`] = await read(grads[vit.variables[n].name]);
    tf.dispose([value, outputs.cls, outputs.patches, images, rc, rp, ...Object.values(grads)]);
    vit.dispose();
    return values;
  },
};

/**
 * Two MMC training steps (`mmcRecipe` + `train`, batch 4 of 32×32 scenes, ViT 64 wide, 2 blocks,
 * patch 4): the loss parts of both steps, their gradient norms, and the change of every weight over
 * the two AdamW steps (after − before, all weights in one vector, `updates`). Views (crops, masks, noise) are drawn on the host from seeded rngs, so every
 * backend gets the same inputs.
 */
export const MMC_STEP_CASE: ParityCase = {
  name: 'mmcTrainStep',
  what: 'mmcRecipe + train: 2 steps, batch 4 of 32×32 scenes, ViT 64 wide, 2 blocks, patch 4, heads 128',
  run: async () => {
    const recipe = mmcRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 4, dim: 64, depth: 2, heads: 2 }), headHidden: 128, headOut: 64, seed: 0 });
    try {
      const values: ParityValues = {};
      const before: Record<string, number[]> = {};
      for (const [n, v] of Object.entries(recipe.variables())) before[n] = await read(v);
      await train(recipe, scenes({ count: 16, imageSize: 32, seed: 3 }), {
        steps: 2,
        batchSize: 4,
        lr: 1e-3,
        warmupSteps: 0,
        seed: 0,
        logEvery: 1,
        onStep: (s) => {
          for (const [k, v] of Object.entries(s.losses)) values[`step ${s.step} ${k}`] = [v];
          if (s.gradNorm !== undefined) values[`step ${s.step} gradNorm`] = [s.gradNorm];
        },
      });
      const updates: number[] = [];
      for (const [n, v] of Object.entries(recipe.variables())) {
        const after = await read(v);
        for (let i = 0; i < after.length; i++) updates.push(after[i] - before[n][i]);
      }
      values.updates = updates;
      return values;
    } finally {
      recipe.dispose();
    }
  },
};

/** Every case, in the order of docs/backends.md. */
export const PARITY_CASES: ParityCase[] = [...LOSS_CASES, VIT_CASE, MMC_STEP_CASE];
