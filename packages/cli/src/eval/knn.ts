import type { Command } from 'commander';
import { createRng, formatShape, ShapeError, ValueError } from '@mmc/core';
import { knnClassify, knnSearch, knnVote, type KnnClassifyResult, type ReportSection } from '@mmc/eval';
import { annSearch, annRecall, ANN_DEFAULTS } from './ann.js';
import { checkLabelRange, inferNumClasses, loadLabelled, type Labels } from './arrays.js';
import { addCommonOptions, floatArg, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval knn`. */
export interface KnnCliOptions extends CommonOptions {
  trainFeatures: string;
  trainLabels: string;
  testFeatures: string;
  testLabels: string;
  k: number;
  temperature: number;
  numClasses?: number;
  chunkSize?: number;
  ann?: boolean;
  annM: number;
  annEfConstruction: number;
  annEf?: number;
  recallQueries: number;
  seed: number;
}

/** Registers `mmc eval knn`. */
export function registerKnn(parent: Command): void {
  const cmd = parent
    .command('knn')
    .description(
      "weighted k-NN classification (DINO eval_knn: cosine top-k, exp(sim/T) vote); prints top-1/top-5. " +
        'With --ann, neighbours come from an HNSW index (optional package hnswlib-node) and the JSON adds annRecall',
    )
    .requiredOption('--train-features <file>', 'train features [N, D] (.npy, or .safetensors[:tensor])')
    .requiredOption('--train-labels <file>', 'train labels [N], integer dtype (int64/int32/uint8 …)')
    .requiredOption('--test-features <file>', 'test features [M, D]')
    .requiredOption('--test-labels <file>', 'test labels [M]')
    .option('--k <n>', 'neighbours per query', intArg(1), 20)
    .option('--temperature <t>', 'vote temperature T in exp(sim/T)', floatArg({ gt: 0 }), 0.07)
    .option('--num-classes <c>', 'number of classes (default: largest label + 1)', intArg(1))
    .option('--chunk-size <rows>', 'test rows per similarity step of the exact search', intArg(1))
    .option('--ann', 'approximate neighbours from an HNSW index (needs the optional package hnswlib-node)')
    .option('--ann-m <m>', 'HNSW graph degree M', intArg(2), ANN_DEFAULTS.M)
    .option('--ann-ef-construction <n>', 'HNSW efConstruction', intArg(1), ANN_DEFAULTS.efConstruction)
    .option('--ann-ef <n>', `HNSW ef at query time (default max(k, ${ANN_DEFAULTS.ef}))`, intArg(1))
    .option('--recall-queries <n>', 'test rows on which --ann recall@k is measured against exact search (0 = skip)', intArg(0), 1000)
    .option('--seed <s>', 'seed of the HNSW index and of the recall sample', intArg(0), 0);
  addCommonOptions(cmd).action(evalAction<KnnCliOptions>('knn', runKnn));
}

function perClassTable(result: KnnClassifyResult, labels: Labels, numClasses: number): ReportSection {
  const count = new Float64Array(numClasses);
  const hit = new Float64Array(numClasses);
  for (let i = 0; i < labels.data.length; i++) {
    count[labels.data[i]]++;
    if (result.predictions[i] === labels.data[i]) hit[labels.data[i]]++;
  }
  const rows: (number | string)[][] = [];
  for (let c = 0; c < numClasses; c++) if (count[c] > 0) rows.push([c, count[c], Number((hit[c] / count[c]).toFixed(4))]);
  return { heading: 'Top-1 per class', table: { columns: ['class', 'test rows', 'top1'], rows } };
}

/** `mmc eval knn`. */
export async function runKnn(o: KnnCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  const keys = { key: o.key, labelsKey: o.labelsKey };
  const train = await loadLabelled('--train-features', o.trainFeatures, '--train-labels', o.trainLabels, keys);
  const test = await loadLabelled('--test-features', o.testFeatures, '--test-labels', o.testLabels, keys);
  const [nTrain, D] = train.features.shape;
  const [nTest, Dt] = test.features.shape;
  if (Dt !== D) {
    throw new ShapeError(
      `${test.features.where} has shape ${formatShape(test.features.shape)} but ${train.features.where} has shape ` +
        `${formatShape(train.features.shape)}: train and test features need the same D`,
    );
  }
  if (nTrain === 0) throw new ShapeError(`${train.features.where}: no train rows (shape ${formatShape(train.features.shape)})`);
  if (o.k > nTrain) throw new ValueError(`--k ${o.k} is larger than the ${nTrain} train rows of ${train.features.where}`);
  const numClasses = o.numClasses ?? inferNumClasses(train.labels, test.labels);
  checkLabelRange(train.labels, o.numClasses);
  checkLabelRange(test.labels, o.numClasses);
  const loadSeconds = secondsSince(t0);
  ctx.log(`${nTrain} train × ${nTest} test rows, D = ${D}, ${numClasses} classes, k = ${o.k}, backend ${ctx.backend}`);

  const trainFeatures = { data: train.features.data, shape: train.features.shape };
  const testFeatures = { data: test.features.data, shape: test.features.shape };
  const t1 = performance.now();
  const extra: Record<string, unknown> = {};
  let result: KnnClassifyResult;
  const settings: [string, string | number][] = [
    ['k', o.k],
    ['temperature', o.temperature],
    ['classes', numClasses],
    ['train rows', nTrain],
    ['test rows', nTest],
    ['D', D],
    ['search', o.ann ? 'approximate (HNSW)' : 'exact'],
  ];
  const resultRows: [string, number | string][] = [];
  if (!o.ann) {
    result = knnClassify({
      trainFeatures,
      trainLabels: train.labels.data,
      testFeatures,
      testLabels: test.labels.data,
      numClasses,
      k: o.k,
      temperature: o.temperature,
      chunkSize: o.chunkSize,
    });
  } else {
    const ef = o.annEf ?? Math.max(o.k, ANN_DEFAULTS.ef);
    if (ef < o.k) throw new ValueError(`--ann-ef ${ef} must be >= --k ${o.k}`);
    const params = { M: o.annM, efConstruction: o.annEfConstruction, ef, seed: o.seed };
    const ann = await annSearch(train.features.data, nTrain, test.features.data, nTest, D, o.k, params, ctx.log);
    result = knnVote({
      neighbors: { data: ann.indices, shape: [nTest, o.k] },
      similarities: { data: ann.similarities, shape: [nTest, o.k] },
      trainLabels: train.labels.data,
      testLabels: test.labels.data,
      numClasses,
      temperature: o.temperature,
    });
    extra.ann = { library: 'hnswlib-node', space: 'ip (L2-normalised rows)', ...params, buildSeconds: ann.buildSeconds, searchSeconds: ann.searchSeconds };
    settings.push(['HNSW M / efConstruction / ef', `${params.M} / ${params.efConstruction} / ${ef}`]);
    const nRecall = Math.min(o.recallQueries, nTest);
    if (nRecall > 0) {
      // exact neighbours of a seeded sample of queries
      const rows = nRecall === nTest ? Array.from({ length: nTest }, (_, i) => i) : createRng(o.seed).shuffle(Array.from({ length: nTest }, (_, i) => i)).slice(0, nRecall).sort((a, b) => a - b);
      const sub = new Float32Array(nRecall * D);
      rows.forEach((r, i) => sub.set(test.features.data.subarray(r * D, (r + 1) * D), i * D));
      const t2 = performance.now();
      const exact = knnSearch(trainFeatures, { data: sub, shape: [nRecall, D] }, { k: o.k, chunkSize: o.chunkSize });
      const recall = annRecall(ann.indices, rows, exact.indices, o.k);
      extra.annRecall = recall;
      extra.annRecallQueries = nRecall;
      extra.exactSearchSeconds = secondsSince(t2);
      resultRows.push([`recall@${o.k} vs exact (${nRecall} queries)`, frac(recall)]);
    }
  }
  const seconds = secondsSince(t1);
  resultRows.unshift(['top1', frac(result.top1)], ['top5', frac(result.top5)]);
  const json = {
    top1: result.top1,
    top5: result.top5,
    k: o.k,
    temperature: o.temperature,
    numClasses,
    trainCount: nTrain,
    testCount: nTest,
    dim: D,
    ...extra,
    loadSeconds,
    seconds,
  };
  resultRows.push(['seconds (search + vote)', seconds]);
  const figures = numClasses <= 1000 ? [perClassTable(result, test.labels, numClasses)] : [];
  return {
    json,
    tables: [
      { title: 'k-NN classification', columns: ['metric', 'value'], rows: resultRows },
      { title: 'Settings', columns: ['setting', 'value'], rows: settings },
    ],
    figures,
  };
}
