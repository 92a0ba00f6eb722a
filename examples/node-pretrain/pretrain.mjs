#!/usr/bin/env node
/**
 * Pretrain a small ViT with MMC in Node from the library's parts, with checkpoints that a stopped
 * run resumes from, then save the backbone for PyTorch (timm names) and evaluate it zero-shot.
 *
 *   node examples/node-pretrain/pretrain.mjs [--steps 60] [--out runs/node-pretrain] [--threads 2]
 *
 * Run it twice with more --steps to see it resume: the second run starts at the checkpoint.
 * Needs `npm run build` first (it imports the built packages).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '@mmc/core';
import { registerWasmKernels } from '@mmc/kernels';
import { scenes } from '@mmc/data';
import { saveWeights, vitTiny } from '@mmc/models';
import { evaluateZeroShot, mmcRecipe, train } from '@mmc/recipes';

const { values: o } = parseArgs({
  options: {
    steps: { type: 'string', default: '60' },
    out: { type: 'string', default: 'runs/node-pretrain' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
  },
});
const steps = Number(o.steps);
const seed = Number(o.seed);

// 1. A backend: wasm with worker threads and @mmc/kernels' faster products (or 'cpu', 'webgpu', 'tensorflow').
await useBackend('wasm', { threads: Number(o.threads) });
registerWasmKernels();

// 2. Data: any object with `count` and `batch(indices) → { images, shape: [B, H, W, 3] }` (values in [0, 1]).
const data = scenes({ count: 2000, imageSize: 32, seed });
const heldOut = scenes({ count: 60, imageSize: 32, seed: seed + 10_000 });

// 3. A backbone config (timm's ViT-Tiny preset, narrowed to train in minutes on a CPU) and the recipe,
//    which builds the student, its heads and the EMA teacher from it.
const vit = vitTiny({ imageSize: 32, patchSize: 4, dim: 64, depth: 3, heads: 2 });
const recipe = mmcRecipe({ vit, headHidden: 256, headOut: 128, seed });

try {
  const before = await evaluateZeroShot(recipe.student, heldOut, { seed });

  // 4. Train: AdamW, cosine schedules, gradient clipping; a checkpoint every 20 steps, written atomically.
  const result = await train(recipe, data, {
    steps,
    batchSize: 16,
    lr: 2e-3,
    // Teacher EMA momentum, cosine 0.99 → 1: DINO's default 0.996 is tuned for hundreds of epochs
    // and leaves the teacher almost at its initialisation after a few hundred steps.
    momentum: [0.99, 1],
    seed,
    logEvery: 10,
    checkpoint: { dir: join(o.out, 'checkpoint'), every: 20 },
    resume: true,
    onStep: (s) => {
      if (s.step % 10 === 0 || s.step === steps) {
        const parts = Object.entries(s.losses).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
        console.log(`step ${s.step}/${steps}: ${parts} (${s.stepsPerSecond.toFixed(2)} steps/s)`);
      }
    },
  });
  if (result.startStep > 0) console.log(`resumed at step ${result.startStep}`);

  // 5. The EMA teacher's backbone as .safetensors with timm's names and layouts (temp file, then rename).
  mkdirSync(o.out, { recursive: true });
  const weights = join(o.out, 'vit.safetensors');
  writeFileSync(`${weights}.tmp`, saveWeights(recipe.teacher.model.backbone));
  renameSync(`${weights}.tmp`, weights);

  // 6. Zero-shot prompt segmentation and intra/inter overlap on held-out scenes (DESIGN §5 semantics).
  const after = await evaluateZeroShot(recipe.teacher.model.backbone, heldOut, { seed });
  const row = (name, r) => `${name.padEnd(10)} best mIoU ${r.bestMiou.toFixed(3)} (t = ${r.bestThreshold}), overlap ${r.overlap.toFixed(3)}`;
  console.log(row('untrained', before));
  console.log(row('trained', after));
  console.log(`wrote ${weights}`);
  writeFileSync(join(o.out, 'result.json'), JSON.stringify({ steps: result.steps, startStep: result.startStep, untrained: before.bestMiou, trained: after.bestMiou, overlap: after.overlap }, null, 1));
} finally {
  recipe.dispose();
}
