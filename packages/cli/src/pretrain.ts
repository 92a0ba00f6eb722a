import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '@mmc/core';
import { writeFileAtomic, writeSafetensorsFile } from '@mmc/core/node';
import { fashionMnist, fashionScenes, scenes, type SceneDataset } from '@mmc/data';
import { saveWeights, vitTiny, type ViT } from '@mmc/models';
import { train } from '@mmc/recipes';
import { floatArg, intArg } from './options.js';
import { trainingProgress } from './progress.js';
import { assertRecipeName, recipeByName } from './recipeByName.js';
import { addBackendOptions, startBackend, type BackendOptions } from './backendOptions.js';

/** Options of {@link pretrain} (the `mmc pretrain` flags). */
export interface PretrainOptions extends BackendOptions {
  recipe: string;
  data: 'scenes' | 'fashion-scenes';
  count: number;
  steps: number;
  batchSize: number;
  imageSize: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  headHidden: number;
  lr: number;
  out: string;
  checkpointEvery: number;
  resume: boolean;
  seed: number;
  quiet?: boolean;
}

/** Builds the training set named by `data`. */
export async function loadTrainingData(data: string, count: number, imageSize: number, seed: number): Promise<SceneDataset> {
  if (data === 'scenes') return scenes({ count, imageSize, seed, objects: [1, 3], sizeRange: [0.22, 0.45] });
  if (data === 'fashion-scenes') {
    const source = await fashionMnist({ split: 'train' });
    return fashionScenes({ count, imageSize, seed, source });
  }
  throw new ValueError(`mmc pretrain: --data must be 'scenes' or 'fashion-scenes', got '${data}'`);
}

/** Writes a tensor record as safetensors (our storage layout; names as `recipe.variables()`). */
export async function saveVariables(path: string, vars: Record<string, tf.Variable>, metadata: Record<string, string>): Promise<void> {
  const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, v] of Object.entries(vars)) tensors[n] = { dtype: 'float32', shape: v.shape.slice(), data: (await v.data()) as Float32Array };
  await writeSafetensorsFile(path, tensors, metadata);
}

/**
 * Pretrains a ViT with a recipe on generated data, with a progress bar, atomic checkpoints every
 * `checkpointEvery` steps in `out/`, and `resume` from the last one. Writes `out/student.safetensors`
 * (the trained backbone + heads) and `out/config.json`.
 */
export async function pretrain(o: PretrainOptions): Promise<{ backend: string; seconds: number; steps: number }> {
  assertRecipeName(o.recipe, 'mmc pretrain: --recipe');
  const backend = await startBackend(o);
  const data = await loadTrainingData(o.data, o.count, o.imageSize, o.seed);
  const vit = vitTiny({ imageSize: o.imageSize, patchSize: o.patchSize, dim: o.dim, depth: o.depth, heads: o.heads });
  const recipe = recipeByName(o.recipe, vit, { headHidden: o.headHidden, seed: o.seed }, 'mmc pretrain: --recipe');
  await mkdir(o.out, { recursive: true });
  const progress = o.quiet ? undefined : trainingProgress(o.steps);
  try {
    const result = await train(recipe, data, {
      steps: o.steps,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
      logEvery: 10,
      checkpoint: { dir: o.out, every: o.checkpointEvery },
      resume: o.resume,
      onStep: (s) => progress?.update(s),
    });
    progress?.stop();
    await saveVariables(join(o.out, 'student.safetensors'), recipe.variables(), { recipe: o.recipe, steps: String(result.steps) });
    // The backbone alone in timm's names and layouts: `mmc embed --weights out/backbone.safetensors --format timm`, or PyTorch.
    await writeFileAtomic(join(o.out, 'backbone.safetensors'), saveWeights(recipe.student as ViT));
    await writeFile(join(o.out, 'config.json'), JSON.stringify({ recipe: o.recipe, vit: recipe.student.config, options: o, backend }, null, 2));
    return { backend, seconds: result.seconds, steps: result.steps };
  } finally {
    progress?.stop();
    recipe.dispose();
  }
}

/** Registers `mmc pretrain`. */
export function registerPretrain(program: Command): void {
  addBackendOptions(program.command('pretrain'))
    .description('pretrain a ViT with a self-supervised recipe on generated data (checkpoints, resume)')
    .option('--recipe <name>', 'recipe: mmc, sit, dino, ibot, mae or msn', 'mmc')
    .option('--data <name>', "training data: 'scenes' or 'fashion-scenes'", 'scenes')
    .option('--count <n>', 'training images to generate', intArg(1), 4000)
    .option('--steps <n>', 'optimizer steps', intArg(1), 500)
    .option('--batch-size <n>', 'images per step', intArg(1), 16)
    .option('--image-size <n>', 'input side length', intArg(1), 64)
    .option('--patch-size <n>', 'ViT patch size', intArg(1), 8)
    .option('--dim <n>', 'ViT width', intArg(1), 64)
    .option('--depth <n>', 'ViT blocks', intArg(1), 4)
    .option('--heads <n>', 'attention heads', intArg(1), 2)
    .option('--head-hidden <n>', 'hidden width of the MLP heads', intArg(1), 256)
    .option('--lr <x>', 'peak learning rate', floatArg({ gt: 0 }), 2e-3)
    .option('--out <dir>', 'output folder (checkpoints, weights)', 'runs/mmc')
    .option('--checkpoint-every <n>', 'steps between checkpoints', intArg(1), 100)
    .option('--resume', 'continue from out/checkpoint.safetensors if present', false)
    .option('--seed <n>', 'seed of data, init, masks and crops', intArg(0), 0)
    .action(async (o: PretrainOptions) => {
      const r = await pretrain(o);
      process.stderr.write(`mmc pretrain: ${r.steps} steps on ${r.backend} in ${r.seconds.toFixed(1)} s → ${o.out}\n`);
    });
}
