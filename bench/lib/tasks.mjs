#!/usr/bin/env node
// One benchmark measurement in a fresh process (fresh wasm heap, its own peak RSS), run by
// bench/run.mjs:  node bench/lib/tasks.mjs '<json options>'  →  one JSON line on stdout.
// Options: { task, backend, kernels, gemm, threads, config, batch, headHidden, repeats, warmup, steps }.
import * as tf from '@tensorflow/tfjs';
import { createRng, useBackend } from '@mmc/core';
import { scenes } from '@mmc/data';
import { knnClassify, promptSegment, similarityDistributions } from '@mmc/eval';
import { mmcRecipe, train } from '@mmc/recipes';
import { CONFIGS, LEAK_CONFIG } from './configs.mjs';
import { stats, timeRuns } from './stats.mjs';

const o = JSON.parse(process.argv[2] ?? '{}');
const backend = await useBackend(o.backend ?? 'wasm', o.backend === 'wasm' && o.threads ? { threads: o.threads } : {});
if (o.kernels) {
  const { registerWasmKernels } = await import('@mmc/kernels');
  registerWasmKernels({ gemm: o.gemm !== false });
}

/** Seeded standard-normal float32 rows (host side, identical on every backend). */
function randomRows(seed, n) {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Wasm heap size in MB (0 on other backends): it only grows, so it is the step's peak. */
const wasmHeapMB = () => (tf.backend().wasm?.HEAPU8?.length ?? 0) / 2 ** 20;

/** MMC training step (and forward-only throughput of the student) for one ViT configuration. */
async function trainTask() {
  const c = CONFIGS[o.config];
  const recipe = mmcRecipe({ vit: c.vit, headHidden: o.headHidden, headOut: 256 });
  const data = scenes({ count: 256, imageSize: c.vit.imageSize, seed: 0 });
  const before = tf.memory().numTensors;
  const wall = [];
  const cpu = [];
  let t = performance.now();
  let u = process.cpuUsage();
  await train(recipe, data, {
    steps: o.warmup + o.repeats,
    batchSize: o.batch,
    logEvery: 10_000,
    onStep: () => {
      const now = performance.now();
      const cu = process.cpuUsage(u);
      wall.push((now - t) / 1000);
      cpu.push((cu.user + cu.system) / 1e6);
      t = now;
      u = process.cpuUsage();
    },
  });
  const after = tf.memory().numTensors;
  const x = tf.randomNormal([o.batch, c.vit.imageSize, c.vit.imageSize, 3], 0, 1, 'float32', 1);
  const fwd = await timeRuns(async () => {
    const out = recipe.student.apply(x);
    await out.patches.data();
    tf.dispose(out);
  }, { repeats: o.repeats, warmup: 1 });
  x.dispose();
  recipe.dispose();
  return {
    train: { seconds: stats(wall.slice(o.warmup)), cpuSeconds: stats(cpu.slice(o.warmup)) },
    forward: { ...fwd, imagesPerSecond: o.batch / fwd.seconds.median },
    numTensorsBefore: before,
    numTensorsAfter: after,
  };
}

/** DINO's weighted k-NN: 10,000 queries against 60,000 × 384 features, k = 20, 10 classes. */
async function knnTask() {
  const D = 384;
  const train = { data: randomRows(1, 60_000 * D), shape: [60_000, D] };
  const test = { data: randomRows(2, 10_000 * D), shape: [10_000, D] };
  const rng = createRng(3);
  const labels = Int32Array.from({ length: 60_000 }, () => rng.int(10));
  return timeRuns(() => knnClassify({ trainFeatures: train, trainLabels: labels, testFeatures: test, numClasses: 10, k: 20 }), o);
}

/** similarityDistributions: all pairs of 1,415 patches (1.0·10^6 pairs) and 10^6 pairs sampled from 100,000. */
async function simdistTask() {
  const D = 384;
  const rng = createRng(4);
  const small = { data: randomRows(5, 1415 * D), shape: [1415, D] };
  const smallLabels = Int32Array.from({ length: 1415 }, () => rng.int(20));
  const big = { data: randomRows(6, 100_000 * D), shape: [100_000, D] };
  const bigLabels = Int32Array.from({ length: 100_000 }, () => rng.int(20));
  return {
    allPairs: await timeRuns(() => similarityDistributions(small, smallLabels), o),
    sampled: await timeRuns(() => similarityDistributions(big, bigLabels, { maxPairs: 1e6, rng: createRng(7) }), o),
  };
}

/** Prompt segmentation of 1,000 token maps of 30×30 × 384, upsampled to 480×480, threshold 0.3. */
async function segmentTask() {
  const n = 1000;
  const D = 384;
  const tokens = randomRows(8, n * 900 * D);
  return timeRuns(() => {
    let pixels = 0;
    for (let i = 0; i < n; i++) {
      const patches = { data: tokens.subarray(i * 900 * D, (i + 1) * 900 * D), shape: [30, 30, D] };
      const r = promptSegment(patches, { row: 15, col: 15 }, { threshold: 0.3, outputSize: [480, 480] });
      pixels += r.mask.length;
    }
    return pixels;
  }, o);
}

/** `steps` training steps of a small configuration: numTensors, wasm heap and RSS along the way must stay flat. */
async function leakTask() {
  const c = LEAK_CONFIG;
  const recipe = mmcRecipe({ vit: c.vit, headHidden: c.headHidden, headOut: 64 });
  const data = scenes({ count: 256, imageSize: c.vit.imageSize, seed: 0 });
  const trace = [];
  const t0 = performance.now();
  await train(recipe, data, {
    steps: o.steps,
    batchSize: c.batch,
    logEvery: 100,
    onStep: ({ step }) => {
      if (step === 1 || step % 50 === 0) {
        trace.push({ step, numTensors: tf.memory().numTensors, wasmHeapMB: wasmHeapMB(), rssMB: process.memoryUsage().rss / 2 ** 20 });
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  recipe.dispose();
  const tensors = trace.map((p) => p.numTensors);
  // After the first 50 steps (allocator and JIT warm-up) neither tensors nor the heap may grow.
  const late = trace.filter((p) => p.step >= 50);
  const settled = late.length > 0 ? late : trace;
  const flat =
    tensors.every((n) => n === tensors[0]) &&
    settled.every((p) => p.wasmHeapMB === settled[0].wasmHeapMB) &&
    settled[settled.length - 1].rssMB - settled[0].rssMB < 64;
  return { steps: o.steps, seconds, flat, trace };
}

const tasks = { train: trainTask, knn: knnTask, simdist: simdistTask, segment: segmentTask, leak: leakTask };
const fn = tasks[o.task];
if (!fn) throw new Error(`tasks.mjs: unknown task ${o.task} (one of ${Object.keys(tasks).join(', ')})`);
const result = await fn();
const ru = process.resourceUsage();
console.log(JSON.stringify({ ...o, backend, result, peakRssMB: ru.maxRSS / 1024, wasmHeapMB: wasmHeapMB() }));
