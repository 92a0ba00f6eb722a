import type { Command } from 'commander';
import { createRng } from '@mmc/core';
import { histogramSvg, similarityDistributions } from '@mmc/eval';
import { loadArray, toFeatures, toLabels } from './arrays.js';
import { addCommonOptions, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval overlap`. */
export interface OverlapCliOptions extends CommonOptions {
  features: string;
  labels: string;
  bins: number;
  maxPairs?: number;
  seed: number;
  ignoreLabel?: number;
}

/** Registers `mmc eval overlap`. */
export function registerOverlap(parent: Command): void {
  const cmd = parent
    .command('overlap')
    .description(
      'intra-/inter-object similarity distributions of patch tokens and their overlap (MMC paper, Table 5): ' +
        'all pairs i < j of labelled patches, histograms on [-1, 1], overlap = Σ min(intra, inter)',
    )
    .requiredOption('--features <file>', 'patch features [M, D], or [..., D] such as [n, h, w, D] (flattened to rows)')
    .requiredOption('--labels <file>', 'object/class label per patch: [M] or the leading dims of the features; negative = unlabelled')
    .option('--bins <n>', 'histogram bins on [-1, 1]', intArg(1), 100)
    .option('--max-pairs <n>', 'sample this many pairs (uniformly, seeded) instead of all pairs', intArg(1))
    .option('--seed <s>', 'seed of the pair sample', intArg(0), 0)
    .option('--ignore-label <v>', 'treat patches with this label as unlabelled (e.g. 255)', intArg(-2147483648));
  addCommonOptions(cmd).action(evalAction<OverlapCliOptions>('overlap', runOverlap));
}

/** `mmc eval overlap`. */
export async function runOverlap(o: OverlapCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  const features = toFeatures(await loadArray('--features', o.features, o.key), undefined, '[M, D] or [..., D]');
  const lead = features.shape.slice(0, -1);
  const D = features.shape[features.shape.length - 1];
  const M = lead.reduce((a, b) => a * b, 1);
  const rawLabels = await loadArray('--labels', o.labels, o.labelsKey);
  const expected = rawLabels.array.shape.length === 1 ? [M] : lead;
  const labels = toLabels(rawLabels, expected, {
    where: features.where,
    shape: features.shape,
    what: 'one label per patch is needed',
  });
  const y = Int32Array.from(labels.data);
  let labelled = 0;
  for (let i = 0; i < y.length; i++) {
    if (o.ignoreLabel !== undefined && y[i] === o.ignoreLabel) y[i] = -1;
    if (y[i] >= 0) labelled++;
  }
  const loadSeconds = secondsSince(t0);
  ctx.log(`${M} patches (${labelled} labelled), D = ${D}${o.maxPairs ? `, sampling ${o.maxPairs} pairs` : ''}`);
  const t1 = performance.now();
  const r = similarityDistributions({ data: features.data, shape: [M, D] }, y, {
    bins: o.bins,
    maxPairs: o.maxPairs,
    rng: o.maxPairs !== undefined ? createRng(o.seed) : undefined,
  });
  const seconds = secondsSince(t1);
  return {
    json: {
      overlap: r.overlap,
      intraMean: r.intraMean,
      interMean: r.interMean,
      intraCount: r.intraCount,
      interCount: r.interCount,
      sampled: r.sampled,
      bins: o.bins,
      patches: M,
      labelledPatches: labelled,
      dim: D,
      intra: r.intra,
      inter: r.inter,
      loadSeconds,
      seconds,
    },
    tables: [
      {
        title: 'Similarity distributions',
        columns: ['metric', 'value'],
        rows: [
          ['overlap', frac(r.overlap)],
          ['intra mean', frac(r.intraMean)],
          ['inter mean', frac(r.interMean)],
          ['intra pairs', r.intraCount],
          ['inter pairs', r.interCount],
          ['sampled', r.sampled ? 'yes' : 'no (all pairs)'],
          ['patches (labelled)', `${M} (${labelled})`],
          ['seconds', seconds],
        ],
      },
    ],
    figures: [{ heading: 'Histograms', svg: histogramSvg({ intra: r.intra, inter: r.inter, title: 'intra- vs inter-object similarity' }) }],
  };
}
