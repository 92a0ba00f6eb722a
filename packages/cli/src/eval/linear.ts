import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { formatShape, ShapeError } from '@mmc/core';
import { linearProbe } from '@mmc/eval';
import { checkLabelRange, inferNumClasses, loadLabelled } from './arrays.js';
import { addCommonOptions, floatArg, intArg, type CommonOptions } from './options.js';
import { frac } from './table.js';
import { evalAction, secondsSince, type EvalContext, type EvalOutput } from './run.js';

/** Options of `mmc eval linear`. */
export interface LinearCliOptions extends CommonOptions {
  trainFeatures: string;
  trainLabels: string;
  testFeatures: string;
  testLabels: string;
  numClasses?: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  batchSize: number;
  valFraction: number;
  patience: number;
  seed: number;
}

/** Registers `mmc eval linear`. */
export function registerLinear(parent: Command): void {
  const cmd = parent
    .command('linear')
    .description(
      'linear probe: multinomial logistic regression on frozen features (AdamW, early stopping on a seeded validation split); prints top-1',
    )
    .requiredOption('--train-features <file>', 'train features [N, D]')
    .requiredOption('--train-labels <file>', 'train labels [N], integer dtype')
    .requiredOption('--test-features <file>', 'test features [M, D]')
    .requiredOption('--test-labels <file>', 'test labels [M]')
    .option('--num-classes <c>', 'number of classes (default: largest label + 1)', intArg(1))
    .option('--epochs <n>', 'maximum epochs', intArg(1), 100)
    .option('--lr <x>', 'AdamW learning rate', floatArg({ gt: 0 }), 1e-3)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay (weights only)', floatArg({ ge: 0 }), 1e-2)
    .option('--batch-size <n>', 'mini-batch size', intArg(1), 256)
    .option('--val-fraction <x>', 'held-out fraction of the train rows for early stopping (0 = none)', floatArg({ ge: 0, lt: 1 }), 0.1)
    .option('--patience <n>', 'epochs without a lower validation loss before stopping', intArg(1), 10)
    .option('--seed <s>', 'seed of the split and the shuffles', intArg(0), 0);
  addCommonOptions(cmd).action(evalAction<LinearCliOptions>('linear', runLinear));
}

/** `mmc eval linear`. */
export async function runLinear(o: LinearCliOptions, ctx: EvalContext): Promise<EvalOutput> {
  const t0 = performance.now();
  const keys = { key: o.key, labelsKey: o.labelsKey };
  const train = await loadLabelled('--train-features', o.trainFeatures, '--train-labels', o.trainLabels, keys);
  const test = await loadLabelled('--test-features', o.testFeatures, '--test-labels', o.testLabels, keys);
  if (test.features.shape[1] !== train.features.shape[1]) {
    throw new ShapeError(
      `${test.features.where} has shape ${formatShape(test.features.shape)} but ${train.features.where} has shape ` +
        `${formatShape(train.features.shape)}: train and test features need the same D`,
    );
  }
  const numClasses = o.numClasses ?? inferNumClasses(train.labels, test.labels);
  checkLabelRange(train.labels, o.numClasses);
  checkLabelRange(test.labels, o.numClasses);
  const [nTrain, D] = train.features.shape;
  const nTest = test.features.shape[0];
  const loadSeconds = secondsSince(t0);
  ctx.log(`${nTrain} train × ${nTest} test rows, D = ${D}, ${numClasses} classes`);
  const t1 = performance.now();
  const r = linearProbe({
    trainFeatures: { data: train.features.data, shape: train.features.shape },
    trainLabels: train.labels.data,
    testFeatures: { data: test.features.data, shape: test.features.shape },
    testLabels: test.labels.data,
    numClasses,
    epochs: o.epochs,
    lr: o.lr,
    weightDecay: o.weightDecay,
    batchSize: o.batchSize,
    valFraction: o.valFraction,
    patience: o.patience,
    seed: o.seed,
  });
  tf.dispose([r.weights, r.bias]);
  const seconds = secondsSince(t1);
  const last = r.history.trainLoss.length - 1;
  return {
    json: {
      top1: r.top1,
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      finalTrainLoss: r.history.trainLoss[last],
      bestValLoss: r.history.valLoss.length > 0 ? Math.min(...r.history.valLoss) : undefined,
      history: r.history,
      numClasses,
      trainCount: nTrain,
      testCount: nTest,
      dim: D,
      epochs: o.epochs,
      lr: o.lr,
      weightDecay: o.weightDecay,
      batchSize: o.batchSize,
      valFraction: o.valFraction,
      patience: o.patience,
      seed: o.seed,
      loadSeconds,
      seconds,
    },
    tables: [
      {
        title: 'Linear probe',
        columns: ['metric', 'value'],
        rows: [
          ['top1', frac(r.top1)],
          ['best epoch', r.bestEpoch],
          ['epochs run', r.epochsRun],
          ['classes', numClasses],
          ['train / test rows', `${nTrain} / ${nTest}`],
          ['seconds', seconds],
        ],
      },
    ],
    figures: [
      {
        heading: 'Training history',
        table: {
          columns: ['epoch', 'train loss', 'val loss', 'val accuracy'],
          rows: r.history.trainLoss.map((l, e) => [e + 1, Number(l.toFixed(5)), r.history.valLoss[e] !== undefined ? Number(r.history.valLoss[e].toFixed(5)) : null, r.history.valAccuracy[e] !== undefined ? Number(r.history.valAccuracy[e].toFixed(4)) : null]),
        },
      },
    ],
  };
}
