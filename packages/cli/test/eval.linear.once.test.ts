import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmcError } from '@mmc/core';
import { linearProbe } from '@mmc/eval';
import { clusters, fixtureDir, runJson, runMmc } from './evalCli.js';

const fx = fixtureDir('linear');
afterAll(() => fx.cleanup());

const tr = clusters(41, 42, 200, 10, 4, 1.5);
const te = clusters(41, 43, 80, 10, 4, 1.5);
const f: Record<string, string> = {};
beforeAll(async () => {
  f.trX = await fx.npy('tr.npy', { dtype: 'float32', shape: tr.shape, data: tr.data });
  f.trY = await fx.npy('tr_y.npy', { dtype: 'int32', shape: [200], data: tr.labels });
  f.teX = await fx.npy('te.npy', { dtype: 'float32', shape: te.shape, data: te.data });
  f.teY = await fx.npy('te_y.npy', { dtype: 'int64', shape: [80], data: BigInt64Array.from(te.labels, (v) => BigInt(v)) });
});

describe('mmc eval linear', () => {
  it('--json top1 equals linearProbe with the same options', async () => {
    await tf.setBackend('cpu');
    const lib = linearProbe({
      trainFeatures: { data: tr.data, shape: tr.shape },
      trainLabels: tr.labels,
      testFeatures: { data: te.data, shape: te.shape },
      testLabels: te.labels,
      numClasses: 4,
      epochs: 15,
      lr: 0.05,
      batchSize: 32,
      patience: 3,
      seed: 2,
    });
    tf.dispose([lib.weights, lib.bias]);
    const j = await runJson([
      'eval', 'linear', '--train-features', f.trX, '--train-labels', f.trY, '--test-features', f.teX, '--test-labels', f.teY,
      '--epochs', '15', '--lr', '0.05', '--batch-size', '32', '--patience', '3', '--seed', '2',
    ]);
    expect(j.command).toBe('eval linear');
    expect(j.top1).toBe(lib.top1);
    expect(j.top1).toBeGreaterThan(0.6);
    expect([j.bestEpoch, j.epochsRun]).toEqual([lib.bestEpoch, lib.epochsRun]);
    expect(j.history.trainLoss).toEqual(lib.history.trainLoss);
    expect(j).toMatchObject({ numClasses: 4, trainCount: 200, testCount: 80, dim: 10, weightDecay: 0.01, valFraction: 0.1 });
    expect(tf.memory().numTensors).toBe(0);
  });

  it('errors: wrong dtype, mismatched D, bad option values', async () => {
    const args = (trY: string, teX = f.teX) => ['eval', 'linear', '--train-features', f.trX, '--train-labels', trY, '--test-features', teX, '--test-labels', f.teY, '--backend', 'cpu', '--quiet'];
    const yb = await fx.npy('yb.npy', { dtype: 'bool', shape: [200], data: new Uint8Array(200) });
    let r = await runMmc(args(yb));
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toMatch(/^eval linear: --train-labels \S*yb\.npy: labels must have an integer dtype .* got bool/);
    const x3 = await fx.npy('x3.npy', { dtype: 'float32', shape: [80, 3], data: new Float32Array(240) });
    r = await runMmc(args(f.trY, x3));
    expect(r.error!.message).toMatch(/--test-features \S*x3\.npy has shape \[80, 3\] but --train-features \S*tr\.npy has shape \[200, 10\]/);
    r = await runMmc([...args(f.trY), '--val-fraction', '1']);
    expect(r.stderr).toMatch(/--val-fraction <x>' argument '1' is invalid. expected a number < 1/);
  });
});
