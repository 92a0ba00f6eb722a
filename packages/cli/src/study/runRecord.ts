import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, ValueError } from '@mmc/core';
import type { FeatureHeadMode } from '@mmc/eval';
import type { RecipeName } from '../recipeByName.js';
import type { StudyConfig } from './config.js';
import type { StudyDataName } from './studyData.js';

/** The row name of the network at initialisation. */
export const RANDOM_INIT = 'random-init';
export type StudyRowName = RecipeName | typeof RANDOM_INIT;

/** What identifies a run: a saved run is reused only when all of it matches. */
export interface RunKey {
  recipe: StudyRowName;
  data: StudyDataName;
  seed: number;
  /** Training steps (0 for the network at initialisation). */
  steps: number;
  config: StudyConfig;
}

/** The zero-shot measurements of one run (`evaluateZeroShot`), histograms as plain arrays. */
export interface ZeroShotRecord {
  miouByThreshold: Record<string, number>;
  bestMiou: number;
  bestThreshold: number;
  overlap: number;
  intraMean: number;
  interMean: number;
  prompts: number;
  labelledPatches: number;
  /** 100-bin histograms on [−1, 1]. */
  intra: number[];
  inter: number[];
}

/** One run of the study, as saved in `<out>/<data>/<recipe>-seed<seed>.json`. */
export interface RunRecord extends RunKey {
  /** Which network was evaluated. */
  evaluated: 'EMA teacher backbone' | 'student backbone' | 'initialisation';
  backend: string;
  /** The code it ran (`codeVersion`: commit, and whether tracked files had uncommitted changes). */
  code: string;
  trainSeconds: number;
  evalSeconds: number;
  /** Loss parts at the last step (empty for the initialisation). */
  finalLosses: Record<string, number>;
  /** ISO time the run finished. */
  date: string;
  zeroShot: ZeroShotRecord;
  /** k-NN top-1 accuracy per global feature, in [0, 1]. */
  knn: Record<FeatureHeadMode, number>;
  knnBank: number;
  knnQueries: number;
}

/** `<out>/<data>/<recipe>-seed<seed>.json`. */
export function runPath(out: string, key: Pick<RunKey, 'recipe' | 'data' | 'seed'>): string {
  return join(out, key.data, `${key.recipe}-seed${key.seed}.json`);
}

/** Canonical JSON (sorted keys) for comparing configurations. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/**
 * The saved run of `key` in `out`, or undefined when there is none. Throws `ValueError` when the
 * file holds a run of another configuration (steps, backbone, data…), so that a study never mixes
 * configurations, and `FormatError` when it is not a run record.
 */
export async function readRunRecord(out: string, key: RunKey): Promise<RunRecord | undefined> {
  const path = runPath(out, key);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let rec: RunRecord;
  try {
    rec = JSON.parse(text) as RunRecord;
  } catch (e) {
    throw new FormatError(`mmc study: ${path} is not JSON (${(e as Error).message}); delete it to re-run that run`);
  }
  if (rec == null || typeof rec !== 'object' || rec.zeroShot == null || rec.knn == null) {
    throw new FormatError(`mmc study: ${path} is not a run record; delete it to re-run that run`);
  }
  const fields = (r: RunKey) => canonical({ recipe: r.recipe, data: r.data, seed: r.seed, steps: r.steps, config: r.config });
  if (fields(rec) !== fields(key)) {
    throw new ValueError(
      `mmc study: ${path} holds a run of another configuration (steps ${rec.steps} vs ${key.steps}, or the backbone/data differ); ` +
        'give another --out or delete the folder',
    );
  }
  return rec;
}
