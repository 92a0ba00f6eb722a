import { describe, FormatError } from '@mmc/core';
import { createViT, loadWeights, vitTiny, type ViT, type ViTConfig } from '@mmc/models';
import { mmcRecipe, train, type StepInfo } from '@mmc/recipes';
import { scenes } from '@mmc/data';
import { SCENE_OPTIONS } from './scenes.js';

/** A backbone the page segments with, and where it came from. */
export interface PageModel {
  vit: ViT;
  /** e.g. 'untrained (seed 0)', 'checkpoint runs/mmc/', 'trained in this tab (200 steps)'. */
  label: string;
}

/**
 * The architecture of `npm run demo` / `mmc pretrain`'s defaults: 64×64 images, patch 8, a
 * 64-wide, 4-deep ViT with 2 heads.
 */
export const DEMO_VIT: ViTConfig = vitTiny({ imageSize: 64, patchSize: 8, dim: 64, depth: 4, heads: 2 });

/** The demo architecture at initialisation (weights drawn from `seed` on the host, the same on every backend). */
export function untrainedModel(seed = 0): PageModel {
  return { vit: createViT({ ...DEMO_VIT, seed }), label: `untrained (seed ${seed})` };
}

/**
 * The ViT config of a checkpoint's `config.json`: `mmc pretrain` writes `{ recipe, vit, ... }`;
 * a bare ViTConfig object is accepted too.
 */
export function configFromJson(json: unknown): ViTConfig {
  const c = (json != null && typeof json === 'object' && 'vit' in json ? (json as { vit: unknown }).vit : json) as Partial<ViTConfig> | null;
  const required = ['imageSize', 'patchSize', 'dim', 'depth', 'heads'] as const;
  if (c == null || typeof c !== 'object' || !required.every((k) => typeof c[k] === 'number')) {
    throw new FormatError(`config.json must hold { vit: { ${required.join(', ')} } } (as mmc pretrain writes), got ${describe(json)}`);
  }
  return c as ViTConfig;
}

/** A backbone from `backbone.safetensors` (timm layout, as `mmc pretrain` writes) and its `config.json`. */
export async function modelFromCheckpoint(configJson: unknown, weights: Uint8Array, label: string): Promise<PageModel> {
  const vit = createViT(configFromJson(configJson));
  try {
    await loadWeights(vit, weights, { format: 'timm' });
  } catch (e) {
    vit.dispose();
    throw e;
  }
  return { vit, label };
}

/**
 * Fetches `<base>config.json` and `<base>backbone.safetensors` (e.g. `?checkpoint=checkpoint/`
 * with the two files of `mmc pretrain --out` copied to `public/checkpoint/`).
 */
export async function fetchCheckpoint(base: string): Promise<PageModel> {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const get = async (name: string) => {
    const r = await fetch(`${prefix}${name}`);
    if (!r.ok) throw new FormatError(`checkpoint: GET ${prefix}${name} answered ${r.status} ${r.statusText}`);
    return r;
  };
  const config = await (await get('config.json')).json();
  const weights = new Uint8Array(await (await get('backbone.safetensors')).arrayBuffer());
  return modelFromCheckpoint(config, weights, `checkpoint ${prefix}`);
}

/** Options of {@link trainInTab}. */
export interface TrainInTabOptions {
  steps: number;
  batchSize: number;
  seed?: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
}

/**
 * Pretrains the demo architecture with MMC (`mmcRecipe` + `train` of @mmc/recipes) on generated
 * scenes on the current backend and returns the EMA teacher's backbone, the network MMC
 * evaluates. The training scenes use other seeds than the ones the page shows.
 */
export async function trainInTab(o: TrainInTabOptions): Promise<PageModel> {
  const seed = o.seed ?? 0;
  const data = scenes({ ...SCENE_OPTIONS, count: 1000, imageSize: DEMO_VIT.imageSize, seed: seed + 1 });
  const recipe = mmcRecipe({ vit: { ...DEMO_VIT, seed }, headHidden: 256, headOut: 128, seed });
  try {
    await train(recipe, data, { steps: o.steps, batchSize: o.batchSize, lr: 2e-3, momentum: [0.99, 1], seed, logEvery: 5, onStep: o.onStep });
    return { vit: recipe.teacher.model.backbone.clone(), label: `trained in this tab (MMC, ${o.steps} steps of ${o.batchSize})` };
  } finally {
    recipe.dispose();
  }
}
