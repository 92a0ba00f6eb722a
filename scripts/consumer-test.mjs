#!/usr/bin/env node
// Packs the built workspace packages, installs the tarballs with @tensorflow/tfjs into a fresh
// project outside the workspace, and imports the public API there from ESM and from CommonJS.
// Usage: node scripts/consumer-test.mjs   (run `npm run build` first)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces.filter((w) =>
  w.startsWith('packages/'),
);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

for (const ws of workspaces) {
  if (!existsSync(join(root, ws, 'dist', 'index.js'))) {
    throw new Error(`consumer-test: ${ws}/dist is missing; run \`npm run build\` first`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mmc-consumer-'));
try {
  const tarballs = workspaces.map((ws) => {
    const out = run('npm', ['pack', '--silent', '--pack-destination', dir], join(root, ws)).trim().split('\n').pop();
    return join(dir, out);
  });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const tfjsVersion = JSON.parse(readFileSync(join(root, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')).version;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `@tensorflow/tfjs@${tfjsVersion}`, ...tarballs], dir);

  const body = (imp) => `
${imp}
const q = tf.tensor2d([[1, 0], [0, 1]]);
const k = tf.tensor2d([[1, 0], [0, 1]]);
const out = mmcLoss({
  mim: { pred: tf.zeros([2, 4, 4, 3]), target: tf.ones([2, 4, 4, 3]), pixelMask: tf.ones([2, 4, 4]) },
  patch: { student: tf.ones([2, 4, 8]), teacher: tf.ones([2, 4, 8]) },
  global: { q1: q, q2: q, k1: k, k2: k },
});
const teacher = [tf.variable(tf.zeros([2]))];
emaUpdate(teacher, [tf.ones([2])], 0.5);
const rng = createRng(1);
const m = gmmlMask(rng, { height: 32, width: 32, patchSize: 4 });
console.log(JSON.stringify({ loss: out.loss.dataSync()[0], mim: out.mim.dataSync()[0], ema: Array.from(teacher[0].dataSync()), tokens: m.tokenMask.length }));
`;
  writeFileSync(
    join(dir, 'esm.mjs'),
    body(`import * as tf from '@tensorflow/tfjs';
import { mmcLoss, emaUpdate } from '@mmc/losses';
import { createRng } from '@mmc/core';
import { gmmlMask } from '@mmc/masking';`),
  );
  writeFileSync(
    join(dir, 'cjs.cjs'),
    body(`const tf = require('@tensorflow/tfjs');
const { mmcLoss, emaUpdate } = require('@mmc/losses');
const { createRng } = require('@mmc/core');
const { gmmlMask } = require('@mmc/masking');`),
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const line = run('node', [file], dir).trim().split('\n').pop();
    const r = JSON.parse(line);
    // hand-derived: mim = mean|0 − 1| = 1; ema = 0.5·0 + 0.5·1
    if (r.mim !== 1 || r.ema[0] !== 0.5 || r.tokens !== 64 || !Number.isFinite(r.loss)) {
      throw new Error(`consumer-test: ${file} printed unexpected ${line}`);
    }
    console.log(`consumer-test: ${file} ok ${line}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
