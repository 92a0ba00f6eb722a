import { createViT, vitTiny, type ViT } from '@mmc/models';
import { evaluateZeroShot, train } from '@mmc/recipes';
import { trainingProgress } from '../progress.js';
import { recipeByName, releasedBackbone } from '../recipeByName.js';
import { knnByHead } from './knnByHead.js';
import { RANDOM_INIT, type RunKey, type RunRecord } from './runRecord.js';
import type { StudyData } from './studyData.js';

/** Zero-shot prompt segmentation + overlap on the held-out scenes and k-NN with the three heads on the held-out crops. */
async function measure(vit: ViT, data: StudyData, key: RunKey): Promise<Pick<RunRecord, 'zeroShot' | 'knn' | 'knnBank' | 'knnQueries'>> {
  const z = await evaluateZeroShot(vit, data.eval, { seed: key.seed });
  const knn = await knnByHead(vit, data.bank, data.queries, key.config.k);
  const { miouByThreshold, bestMiou, bestThreshold, overlap, intraMean, interMean, prompts, labelledPatches } = z;
  return {
    zeroShot: { miouByThreshold, bestMiou, bestThreshold, overlap, intraMean, interMean, prompts, labelledPatches, intra: Array.from(z.intra), inter: Array.from(z.inter) },
    knn,
    knnBank: data.bank.count,
    knnQueries: data.queries.count,
  };
}

/**
 * One run of the study: for a recipe, builds it on the study's ViT with the run's seed (init,
 * batches, views), trains it for `key.steps` steps on `data.train` with the study's optimisation,
 * and measures the network it releases (`releasedBackbone`: the EMA teacher's backbone, or the
 * student for MAE); for `'random-init'`, measures the same ViT at initialisation (the backbone
 * every recipe starts from for that seed). Frees every tensor it made.
 */
export async function studyRun(key: RunKey, data: StudyData, ctx: { backend: string; code: string; quiet?: boolean }): Promise<RunRecord> {
  const c = key.config;
  const vitConfig = vitTiny({ imageSize: c.imageSize, patchSize: c.patchSize, dim: c.dim, depth: c.depth, heads: c.heads });
  const base = { ...key, backend: ctx.backend, code: ctx.code };
  if (key.recipe === RANDOM_INIT) {
    const vit = createViT({ ...vitConfig, seed: key.seed });
    try {
      const t0 = performance.now();
      const m = await measure(vit, data, key);
      const evalSeconds = (performance.now() - t0) / 1000;
      return { ...base, evaluated: 'initialisation', trainSeconds: 0, evalSeconds, finalLosses: {}, date: new Date().toISOString(), ...m };
    } finally {
      vit.dispose();
    }
  }
  const recipe = recipeByName(key.recipe, vitConfig, { headHidden: c.headHidden, seed: key.seed }, 'mmc study: --recipes');
  const progress = ctx.quiet ? undefined : trainingProgress(key.steps);
  try {
    const result = await train(recipe, data.train, {
      steps: key.steps,
      batchSize: c.batchSize,
      lr: c.lr,
      momentum: c.momentum,
      seed: key.seed,
      logEvery: 10,
      onStep: (s) => progress?.update(s),
    });
    progress?.stop();
    const t0 = performance.now();
    const released = releasedBackbone(recipe);
    const m = await measure(released, data, key);
    const evalSeconds = (performance.now() - t0) / 1000;
    return {
      ...base,
      evaluated: released === recipe.student ? 'student backbone' : 'EMA teacher backbone',
      trainSeconds: result.seconds,
      evalSeconds,
      finalLosses: result.history.at(-1)?.losses ?? {},
      date: new Date().toISOString(),
      ...m,
    };
  } finally {
    progress?.stop();
    recipe.dispose();
  }
}
