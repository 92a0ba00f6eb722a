#!/usr/bin/env node
// A control for the demo: how far can *any* training move zero-shot prompt mIoU in the demo's
// budget? Trains the demo's ViT (DEMO_CONFIG, same data, seed, optimiser and schedule as
// `npm run demo`) with full supervision — a linear classifier on every patch token, labelled with
// the majority class of its 8×8 pixels (background included), softmax cross-entropy — and
// evaluates the backbone exactly as the demo does (evaluateZeroShot on the 150 held-out scenes).
// Labels are not available to self-supervised methods; this is an upper reference, not a recipe.
// Usage: npm run build && node scripts/demo-reference.mjs [--steps 250] [--every 125] [--backend wasm]
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@mmc/core';
import { scenes } from '@mmc/data';
import { createViT, vitTiny } from '@mmc/models';
import { evaluateZeroShot, normalizeImages, prefixVariables, SCENES_NORMALIZATION, train } from '@mmc/recipes';
import { DEMO_CONFIG as c } from '@mmc/cli';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const steps = Number(arg('steps', 250));
const every = Number(arg('every', 125));
const backend = await useBackend(arg('backend', 'wasm'));
const seed = 0;
const data = (s, count) => scenes({ count, imageSize: c.imageSize, seed: s, objects: c.objects, sizeRange: c.sizeRange });
const trainSet = data(seed, c.trainCount);
const evalSet = data(seed + 10_000, c.evalCount);
const vit = createViT(vitTiny({ imageSize: c.imageSize, patchSize: c.patchSize, dim: c.dim, depth: c.depth, heads: c.heads, seed }));
const K = trainSet.classNames.length;
const h = c.imageSize / c.patchSize;
const head = tf.variable(tf.randomNormal([c.dim, K], 0, 0.02, 'float32', seed));

/** Majority class (0 = background) of each patch of scene `i`. */
function patchLabels(i) {
  const out = new Int32Array(h * h);
  const counts = new Int32Array(K);
  for (let pr = 0; pr < h; pr++) {
    for (let pc = 0; pc < h; pc++) {
      counts.fill(0);
      for (let r = 0; r < c.patchSize; r++) {
        for (let q = 0; q < c.patchSize; q++) counts[trainSet.classMasks[i * c.imageSize ** 2 + (pr * c.patchSize + r) * c.imageSize + pc * c.patchSize + q]]++;
      }
      out[pr * h + pc] = counts.indexOf(Math.max(...counts));
    }
  }
  return out;
}

// train() hands recipes image batches only; remember which scenes it drew to look their labels up.
let drawn = [];
const dataset = { count: trainSet.count, batch: (indices) => ((drawn = indices), trainSet.batch(indices)) };
const recipe = {
  name: 'supervised-patches',
  student: vit,
  heads: {},
  variables: () => ({ ...prefixVariables('backbone', vit.variables), 'head.weight': head }),
  state: () => ({}),
  views: (batch) =>
    tf.tidy(() => ({
      x: normalizeImages(batch, SCENES_NORMALIZATION),
      y: tf.oneHot(tf.tensor1d(Int32Array.from(drawn.flatMap((i) => Array.from(patchLabels(i)))), 'int32'), K),
    })),
  losses: ({ x, y }) => ({ loss: tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(vit.apply(x).patches, [-1, c.dim]), head)) }),
  dispose: () => {
    vit.dispose();
    head.dispose();
  },
};

const report = async (step) => {
  const r = await evaluateZeroShot(vit, evalSet, { seed });
  const byT = Object.entries(r.miouByThreshold).map(([t, v]) => `${t}: ${v.toFixed(3)}`).join(', ');
  console.log(JSON.stringify({ backend, step, bestMiou: +r.bestMiou.toFixed(3), miouByThreshold: byT, overlap: +r.overlap.toFixed(3) }));
};
await report(0);
await train(recipe, dataset, {
  steps,
  batchSize: c.batchSize,
  lr: c.lr,
  seed,
  logEvery: every,
  onStep: async (s) => {
    if (s.step % every === 0 || s.step === steps) await report(s.step);
  },
});
recipe.dispose();
