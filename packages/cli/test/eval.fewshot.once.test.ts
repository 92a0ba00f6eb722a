import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, MmcError } from '@mmc/core';
import { fewShotThreshold } from '@mmc/eval';
import { clusters, fixtureDir, runJson, runMmc } from './evalCli.js';

const fx = fixtureDir('fewshot');
afterAll(() => fx.cleanup());

const pool = clusters(31, 32, 240, 12, 8, 1.0);
const queries = clusters(31, 33, 40, 12, 8, 1.0);
const f: Record<string, string> = {};
beforeAll(async () => {
  f.x = await fx.npy('cls.npy', { dtype: 'float32', shape: pool.shape, data: pool.data });
  f.y = await fx.npy('y.npy', { dtype: 'int64', shape: [240], data: BigInt64Array.from(pool.labels, (v) => BigInt(v)) });
  f.qx = await fx.npy('q.npy', { dtype: 'float32', shape: queries.shape, data: queries.data });
  f.qy = await fx.npy('qy.npy', { dtype: 'uint8', shape: [40], data: Uint8Array.from(queries.labels) });
});

describe('mmc eval fewshot', () => {
  it('episodes: --json equals fewShotThreshold with createRng(seed) (5-way 1-shot by default)', async () => {
    const features = { data: pool.data, shape: pool.shape };
    const lib = fewShotThreshold({ support: { features, labels: pool.labels }, episodes: 30, rng: createRng(4) });
    const j = await runJson(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--episodes', '30', '--seed', '4']);
    expect(j.command).toBe('eval fewshot');
    expect(j.best).toEqual(lib.best);
    expect(j.byThreshold).toEqual(lib.byThreshold);
    expect(j.nearestNeighborAccuracy).toBe(lib.nearestNeighborAccuracy);
    expect(j.thresholds).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(j).toMatchObject({ episodes: 30, ways: 5, shots: 1, queriesPerClass: 15, seed: 4, pairs: 30 * 75 * 5 });
    const lib2 = fewShotThreshold({ support: { features, labels: pool.labels }, episodes: 10, ways: 3, shots: 2, queriesPerClass: 4, thresholds: [0.2, 0.6], rng: createRng(0) });
    const j2 = await runJson(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--episodes', '10', '--ways', '3', '--shots', '2', '--queries-per-class', '4', '--thresholds', '0.2,0.6']);
    expect(j2.byThreshold).toEqual(lib2.byThreshold);
  });

  it('a separate query set without --episodes: every query against every support row', async () => {
    const lib = fewShotThreshold({
      support: { features: { data: pool.data, shape: pool.shape }, labels: pool.labels },
      query: { features: { data: queries.data, shape: queries.shape }, labels: queries.labels },
    });
    const j = await runJson(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--query-features', f.qx, '--query-labels', f.qy]);
    expect(j.byThreshold).toEqual(lib.byThreshold);
    expect(j.pairs).toBe(240 * 40);
    expect(j.ways).toBeUndefined();
    const t = await runMmc(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--episodes', '5', '--backend', 'cpu', '--quiet']);
    expect(t.stdout).toMatch(/threshold\s+accuracy\s+precision\s+recall\s+F1\n/);
    expect(t.stdout).toMatch(/best F1\s+0\.\d{4}/);
  });

  it('errors name the files', async () => {
    let r = await runMmc(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--query-features', f.qx, '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toBe('eval fewshot: --query-features and --query-labels go together: give both or neither');
    r = await runMmc(['eval', 'fewshot', '--features', f.x, '--labels', f.qy, '--backend', 'cpu', '--quiet']);
    expect(r.error!.message).toMatch(/--labels \S*qy\.npy has shape \[40\] but --features \S*cls\.npy has shape \[240, 12\]/);
    const q5 = await fx.npy('q5.npy', { dtype: 'float32', shape: [40, 5], data: new Float32Array(200) });
    r = await runMmc(['eval', 'fewshot', '--features', f.x, '--labels', f.y, '--query-features', q5, '--query-labels', f.qy, '--backend', 'cpu', '--quiet']);
    expect(r.error!.message).toMatch(/--query-features \S*q5\.npy has shape \[40, 5\] but --features \S*cls\.npy has shape \[240, 12\]: support and query features need the same D/);
  });
});
