#!/usr/bin/env node
// Training-step and forward timings of the MMC recipe on the built packages (run `npm run build` first).
// Usage: node bench/train-step.mjs [--backend wasm|cpu] [--repeats 5]
// Prints one JSON line per configuration: median / min / max seconds per step over `repeats` timed
// steps after 2 warm-up steps, and tf.memory().numTensors before and after (must be equal).
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@mmc/core';
import { scenes } from '@mmc/data';
import { vitTiny } from '@mmc/models';
import { mmcRecipe, train } from '@mmc/recipes';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const backend = await useBackend(arg('backend', 'wasm'));
const repeats = Number(arg('repeats', 5));

const configs = [
  { name: 'demo: 64×64/8, dim 64, depth 4, batch 16', vit: { imageSize: 64, patchSize: 8, dim: 64, depth: 4, heads: 2 }, headHidden: 256, batch: 16 },
  { name: 'ViT-Tiny 32×32/4, dim 192, depth 6, batch 16, heads 512 wide', vit: { imageSize: 32, patchSize: 4, dim: 192, depth: 6, heads: 3 }, headHidden: 512, batch: 16 },
];
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

for (const c of configs) {
  const data = scenes({ count: 256, imageSize: c.vit.imageSize, seed: 0 });
  const recipe = mmcRecipe({ vit: vitTiny(c.vit), headHidden: c.headHidden, headOut: 256 });
  const times = [];
  let last = performance.now();
  const before = tf.memory().numTensors;
  await train(recipe, data, {
    steps: repeats + 2,
    batchSize: c.batch,
    logEvery: 1000,
    onStep: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  const after = tf.memory().numTensors;
  // forward only (student backbone), same batch size
  const x = tf.randomNormal([c.batch, c.vit.imageSize, c.vit.imageSize, 3]);
  const fwd = [];
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const out = recipe.student.apply(x);
    await out.patches.data();
    tf.dispose(out);
    if (i > 0) fwd.push((performance.now() - t0) / 1000);
  }
  x.dispose();
  recipe.dispose();
  console.log(JSON.stringify({ backend, config: c.name, trainStepSeconds: stats(times.slice(2)), forwardSeconds: stats(fwd), numTensorsBefore: before, numTensorsAfter: after }));
}
