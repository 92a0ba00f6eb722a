import type { Command } from 'commander';
import { createRng, formatShape, ShapeError } from '@mmc/core';
import { fewShotThreshold } from '@mmc/eval';
import { loadLabelled } from './arrays.js';
import { addCommonOptions, floatListArg, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval fewshot`. */
export interface FewShotCliOptions extends CommonOptions {
  features: string;
  labels: string;
  queryFeatures?: string;
  queryLabels?: string;
  episodes?: number;
  ways: number;
  shots: number;
  queriesPerClass: number;
  seed: number;
  thresholds: number[];
}

/** Episodes when none are given and no separate query set is: the usual few-shot count. */
export const DEFAULT_EPISODES = 600;

/** Registers `mmc eval fewshot`. */
export function registerFewShot(parent: Command): void {
  const cmd = parent
    .command('fewshot')
    .description(
      'few-shot classification by similarity thresholding (MMC paper, appendix Table 8): N-way K-shot episodes; ' +
        'a query matches a support image when cos(CLS) > t; accuracy, precision, recall, F1 per threshold and the best F1',
    )
    .requiredOption('--features <file>', 'CLS features [N, D] of the support pool (and the query pool without --query-features)')
    .requiredOption('--labels <file>', 'class labels [N]')
    .option('--query-features <file>', 'separate query features [M, D]')
    .option('--query-labels <file>', 'labels of the query features [M]')
    .option('--episodes <n>', `episodes to sample (default ${DEFAULT_EPISODES}; with --query-* and no --episodes: every query against every support row)`, intArg(1))
    .option('--ways <n>', 'classes per episode', intArg(1), 5)
    .option('--shots <n>', 'support images per class', intArg(1), 1)
    .option('--queries-per-class <n>', 'query images per class and episode', intArg(1), 15)
    .option('--seed <s>', 'seed of the episodes', intArg(0), 0)
    .option('--thresholds <list>', 'comma-separated thresholds', floatListArg, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  addCommonOptions(cmd).action(evalAction<FewShotCliOptions>('fewshot', runFewShot));
}

/** `mmc eval fewshot`. */
export async function runFewShot(o: FewShotCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  const keys = { key: o.key, labelsKey: o.labelsKey };
  if ((o.queryFeatures === undefined) !== (o.queryLabels === undefined)) {
    throw new ShapeError('--query-features and --query-labels go together: give both or neither');
  }
  const support = await loadLabelled('--features', o.features, '--labels', o.labels, keys);
  const query = o.queryFeatures ? await loadLabelled('--query-features', o.queryFeatures, '--query-labels', o.queryLabels!, keys) : undefined;
  if (query && query.features.shape[1] !== support.features.shape[1]) {
    throw new ShapeError(
      `${query.features.where} has shape ${formatShape(query.features.shape)} but ${support.features.where} has shape ` +
        `${formatShape(support.features.shape)}: support and query features need the same D`,
    );
  }
  const episodes = o.episodes ?? (query ? undefined : DEFAULT_EPISODES);
  const loadSeconds = secondsSince(t0);
  ctx.log(episodes ? `${episodes} episodes, ${o.ways}-way ${o.shots}-shot, ${o.queriesPerClass} queries per class` : 'all query × support pairs');
  const t1 = performance.now();
  const r = fewShotThreshold({
    support: { features: { data: support.features.data, shape: support.features.shape }, labels: support.labels.data },
    query: query ? { features: { data: query.features.data, shape: query.features.shape }, labels: query.labels.data } : undefined,
    thresholds: o.thresholds,
    episodes,
    ways: o.ways,
    shots: o.shots,
    queriesPerClass: o.queriesPerClass,
    rng: episodes ? createRng(o.seed) : undefined,
  });
  const seconds = secondsSince(t1);
  return {
    json: {
      best: r.best,
      nearestNeighborAccuracy: r.nearestNeighborAccuracy,
      byThreshold: r.byThreshold,
      thresholds: r.thresholds,
      episodes: r.episodes,
      pairs: r.pairs,
      ways: episodes ? o.ways : undefined,
      shots: episodes ? o.shots : undefined,
      queriesPerClass: episodes ? o.queriesPerClass : undefined,
      seed: episodes ? o.seed : undefined,
      supportCount: support.features.shape[0],
      queryCount: query ? query.features.shape[0] : undefined,
      dim: support.features.shape[1],
      loadSeconds,
      seconds,
    },
    tables: [
      {
        title: 'Few-shot threshold classification',
        columns: ['threshold', 'accuracy', 'precision', 'recall', 'F1'],
        rows: r.thresholds.map((t) => {
          const m = r.byThreshold[String(t)];
          return [String(t), frac(m.accuracy), frac(m.precision), frac(m.recall), frac(m.f1)];
        }),
      },
      {
        title: 'Summary',
        columns: ['metric', 'value'],
        rows: [
          ['best F1', frac(r.best.f1)],
          ['best threshold', String(r.best.threshold)],
          ['accuracy at best', frac(r.best.accuracy)],
          ['nearest-neighbour accuracy', frac(r.nearestNeighborAccuracy)],
          ['episodes', r.episodes],
          ['pairs', r.pairs],
          ['seconds', seconds],
        ],
      },
    ],
  };
}
