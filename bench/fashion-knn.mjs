#!/usr/bin/env node
/**
 * Real-data check of `mmc eval knn`: Fashion-MNIST raw pixels (x / 255, 784-d) as features,
 * 60,000 train / 10,000 test, DINO's weighted k-NN (cosine, k = 20, T = 0.07). Published raw-pixel
 * k-NN baselines are ≈ 85 % top-1 (Xiao et al. 2017, KNeighborsClassifier).
 *
 * Needs the built packages (`npm run build`) and Debian's dataset-fashion-mnist
 * (/usr/share/datasets/fashion-mnist). Run from the repository root:
 *
 *   node bench/fashion-knn.mjs [--backend auto|cpu|wasm] [--ann] [--k 20] [--train 60000] [--test 10000] [--keep DIR]
 *
 * It writes the .npy files into a temporary directory (or --keep DIR), runs the built CLI
 * (`node packages/cli/bin/mmc.js eval knn ... --json`) as a child process, and prints the JSON
 * and the wall time of the whole command (file reading included).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNpyFile } from '@mmc/core/node';
import { fashionMnist } from '@mmc/data';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    ann: { type: 'boolean', default: false },
    k: { type: 'string', default: '20' },
    train: { type: 'string', default: '60000' },
    test: { type: 'string', default: '10000' },
    keep: { type: 'string' },
  },
});

/** The first `n` images as float32 [n, 784] in [0, 1] and their uint8 labels. */
function toArrays(ds, n) {
  const d = ds.rows * ds.cols;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) x[i] = ds.images[i] / 255;
  return {
    x: { dtype: 'float32', shape: [n, d], data: x },
    y: { dtype: 'uint8', shape: [n], data: ds.labels.slice(0, n) },
  };
}

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'mmc-fashion-knn-'));
mkdirSync(dir, { recursive: true });
try {
  const t0 = performance.now();
  const [train, test] = await Promise.all([fashionMnist({ split: 'train' }), fashionMnist({ split: 'test' })]);
  const nTrain = Math.min(Number(values.train), train.count);
  const nTest = Math.min(Number(values.test), test.count);
  const tr = toArrays(train, nTrain);
  const te = toArrays(test, nTest);
  const files = {
    trainX: join(dir, 'train_x.npy'),
    trainY: join(dir, 'train_y.npy'),
    testX: join(dir, 'test_x.npy'),
    testY: join(dir, 'test_y.npy'),
  };
  await writeNpyFile(files.trainX, tr.x);
  await writeNpyFile(files.trainY, tr.y);
  await writeNpyFile(files.testX, te.x);
  await writeNpyFile(files.testY, te.y);
  console.error(`wrote ${nTrain} + ${nTest} rows × 784 to ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const args = [
    'packages/cli/bin/mmc.js', 'eval', 'knn',
    '--train-features', files.trainX, '--train-labels', files.trainY,
    '--test-features', files.testX, '--test-labels', files.testY,
    '--k', values.k, '--backend', values.backend, '--json',
    ...(values.ann ? ['--ann'] : []),
  ];
  console.error(`node ${args.join(' ')}`);
  const t1 = performance.now();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const wall = (performance.now() - t1) / 1000;
  if (run.status !== 0) {
    console.error(`mmc eval knn exited with ${run.status}`);
    process.exit(run.status ?? 1);
  }
  const result = JSON.parse(run.stdout);
  console.log(JSON.stringify({ ...result, wallSeconds: Math.round(wall * 10) / 10 }));
  const pct = (v) => (v == null ? 'n/a' : `${(100 * v).toFixed(2)} %`);
  console.error(
    `Fashion-MNIST raw pixels, k = ${result.k}, T = ${result.temperature}, backend ${result.backend}` +
      `${values.ann ? ', HNSW' : ''}: top-1 ${pct(result.top1)}, top-5 ${pct(result.top5)}` +
      `${result.annRecall != null ? `, recall@${result.k} ${pct(result.annRecall)}` : ''}; wall ${wall.toFixed(1)} s`,
  );
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
