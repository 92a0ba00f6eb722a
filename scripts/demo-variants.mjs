#!/usr/bin/env node
// MMC option variants on the demo (DEMO_CONFIG data, ViT, seed 0, wasm + @mmc/kernels); evaluates the
// EMA teacher every --every steps. Usage: npm run build && node scripts/demo-variants.mjs --tag T --opts JSON [--steps 250]
import { useBackend } from '@mmc/core';
import { registerWasmKernels } from '@mmc/kernels';
import { scenes } from '@mmc/data';
import { vitTiny } from '@mmc/models';
import { evaluateZeroShot, mmcRecipe, train } from '@mmc/recipes';
import { DEMO_CONFIG as c } from '@mmc/cli';
const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const steps = Number(arg('steps', 250)), every = Number(arg('every', 125));
const ropts = JSON.parse(arg('opts', '{}')), topts = JSON.parse(arg('train', '{}'));
const dopts = JSON.parse(arg('data', '{}'));
const tag = arg('tag', 'x');
await useBackend('wasm', { threads: Number(arg('threads', 2)) }); registerWasmKernels();
const seed = 0;
const data = (s, count) => scenes({ count, imageSize: c.imageSize, seed: s, objects: c.objects, sizeRange: c.sizeRange, ...dopts });
const trainSet = data(seed, c.trainCount), evalSet = data(seed + 10000, c.evalCount);
const vit = vitTiny({ imageSize: c.imageSize, patchSize: c.patchSize, dim: c.dim, depth: c.depth, heads: c.heads, ...(ropts.vit ?? {}) });
delete ropts.vit;
const recipe = mmcRecipe({ vit, headHidden: c.headHidden, headOut: 128, seed, ...ropts });
const report = async (step, losses) => {
  const r = await evaluateZeroShot(recipe.teacher.model.backbone, evalSet, { seed });
  const byT = Object.values(r.miouByThreshold).map((v) => v.toFixed(3)).join('/');
  console.log(JSON.stringify({ tag, step, best: +r.bestMiou.toFixed(3), byT, overlap: +r.overlap.toFixed(3), intra: +r.intraMean.toFixed(3), inter: +r.interMean.toFixed(3), losses }));
};
await report(0);
const t0 = Date.now();
await train(recipe, trainSet, { steps, batchSize: c.batchSize, lr: c.lr, momentum: c.momentum, seed, logEvery: 25, ...topts,
  onStep: async (s) => {
    const l = Object.fromEntries(Object.entries(s.losses).map(([k, v]) => [k, +v.toFixed(3)]));
    if (s.step % 50 === 0) console.log(JSON.stringify({ tag, step: s.step, l, sps: +s.stepsPerSecond.toFixed(2) }));
    if (s.step % every === 0 || s.step === steps) await report(s.step, l);
  } });
console.log(JSON.stringify({ tag, seconds: (Date.now() - t0) / 1000 }));
