#!/usr/bin/env node
/**
 * Evaluates embeddings made outside this library (export_features.py, or any .npy of the same
 * layout) with the paper's protocols: zero-shot prompt segmentation with the threshold sweep, the
 * intra/inter-class similarity distributions and their overlap, and weighted k-NN on the global
 * feature (first half of the images as the bank, second half as queries).
 *
 *   node examples/third-party-embeddings/evaluate.mjs [runs/third-party]
 *
 * Reads patches.npy [N, h, w, D] and cls.npy [N, D] beside make-data.mjs' files; prints a table and
 * writes result.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, useBackend } from '@mmc/core';
import { knnClassify, similarityDistributions, thresholdSweep } from '@mmc/eval';

const dir = process.argv[2] ?? 'runs/third-party';
const load = (name) => readNpy(new Uint8Array(readFileSync(join(dir, name))));
await useBackend('wasm');

const patches = load('patches.npy'); // [N, h, w, D]
const cls = load('cls.npy'); // [N, D]
const targets = load('targets.npy'); // [N, H, W] class ids
const prompts = load('prompts.npy'); // [N, 2] pixel (y, x)
const classes = load('classes.npy'); // [N]
const labels = load('patch-labels.npy'); // [N, h, w]
const [N, h, w, D] = patches.shape;
const [, H, W] = targets.shape;
if (cls.shape[0] !== N || targets.shape[0] !== N) throw new Error(`evaluate: patches.npy has ${N} images, cls.npy ${cls.shape[0]}, targets.npy ${targets.shape[0]}`);

// 1. Prompt segmentation: per image, the cosine map of the prompted patch against the class mask.
const samples = Array.from({ length: N }, (_, i) => {
  const c = classes.data[i];
  const t = targets.data.subarray(i * H * W, (i + 1) * H * W);
  return {
    patches: { data: patches.data.subarray(i * h * w * D, (i + 1) * h * w * D), shape: [h, w, D] },
    prompt: { y: prompts.data[2 * i], x: prompts.data[2 * i + 1], imageSize: [H, W] },
    target: { data: Uint8Array.from(t, (v) => (v === c ? 1 : 0)), shape: [H, W] },
    classId: c,
  };
});
const sweep = thresholdSweep(samples);

// 2. Similarity distributions of the labelled patches (label −1: background or mixed, left out).
const dist = similarityDistributions({ data: patches.data, shape: [N * h * w, D] }, labels.data);

// 3. k-NN on the global feature.
const half = Math.floor(N / 2);
const numClasses = Math.max(...classes.data) + 1;
const knn = knnClassify({
  trainFeatures: { data: cls.data.subarray(0, half * D), shape: [half, D] },
  trainLabels: classes.data.subarray(0, half),
  testFeatures: { data: cls.data.subarray(half * D), shape: [N - half, D] },
  testLabels: classes.data.subarray(half),
  numClasses,
  k: Math.min(20, half),
});

const result = {
  images: N,
  miouByThreshold: sweep.miouByThreshold,
  bestMiou: sweep.best.miou,
  bestThreshold: sweep.best.threshold,
  overlap: dist.overlap,
  intraMean: dist.intraMean,
  interMean: dist.interMean,
  knnTop1: knn.top1,
};
const f = (x) => x.toFixed(3);
console.log(`${N} images, ${h}×${w} patches of ${D} dims`);
console.log(`mIoU by threshold   ${Object.entries(sweep.miouByThreshold).map(([t, m]) => `${t}: ${f(m)}`).join('  ')}`);
console.log(`best mIoU           ${f(sweep.best.miou)} at ${sweep.best.threshold}`);
console.log(`overlap             ${f(dist.overlap)} (intra ${f(dist.intraMean)}, inter ${f(dist.interMean)})`);
console.log(`k-NN top-1          ${f(knn.top1)} (${N - half} queries, ${numClasses - 1} classes)`);
writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 1));
