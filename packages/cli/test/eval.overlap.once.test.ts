import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, MmcError } from '@mmc/core';
import { similarityDistributions } from '@mmc/eval';
import { clusters, fixtureDir, runJson, runMmc } from './evalCli.js';

const fx = fixtureDir('overlap');
afterAll(() => fx.cleanup());

// 3 images of 4×5 patches, D = 6: labels per patch from 4 objects (uint8, 255 = unlabelled)
const n = 3;
const h = 4;
const w = 5;
const D = 6;
const M = n * h * w;
const c = clusters(21, 22, M, D, 4, 1.2);
const labels = Uint8Array.from(c.labels);
labels[7] = 255;
labels[31] = 255;
const f: Record<string, string> = {};

beforeAll(async () => {
  f.x = await fx.npy('patches.npy', { dtype: 'float32', shape: [n, h, w, D], data: c.data });
  f.y = await fx.npy('labels.npy', { dtype: 'uint8', shape: [n, h, w], data: labels });
  f.yFlat = await fx.npy('labels_flat.npy', { dtype: 'uint8', shape: [M], data: labels });
});

const yIgnored = () => Int32Array.from(labels, (v) => (v === 255 ? -1 : v));

describe('mmc eval overlap', () => {
  it('--json equals similarityDistributions (all pairs; [n, h, w, D] features flattened; --ignore-label)', async () => {
    const lib = similarityDistributions({ data: c.data, shape: [M, D] }, yIgnored(), { bins: 40 });
    const j = await runJson(['eval', 'overlap', '--features', f.x, '--labels', f.y, '--bins', '40', '--ignore-label', '255']);
    expect(j.command).toBe('eval overlap');
    expect(j.overlap).toBe(lib.overlap);
    expect(j.intraMean).toBe(lib.intraMean);
    expect(j.interMean).toBe(lib.interMean);
    expect([j.intraCount, j.interCount]).toEqual([lib.intraCount, lib.interCount]);
    expect(j.intraCount + j.interCount).toBe(((M - 2) * (M - 3)) / 2);
    expect(j).toMatchObject({ bins: 40, patches: M, labelledPatches: M - 2, dim: D, sampled: false });
    expect(j.intra).toHaveLength(40);
    expect(j.intra.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    expect(j.overlap).toBeGreaterThan(0);
    expect(j.overlap).toBeLessThan(1);
    // flat labels [M] are accepted too; without --ignore-label 255 is a class of its own
    const flat = await runJson(['eval', 'overlap', '--features', f.x, '--labels', f.yFlat, '--bins', '40', '--ignore-label', '255']);
    expect(flat.overlap).toBe(j.overlap);
    const with255 = await runJson(['eval', 'overlap', '--features', f.x, '--labels', f.y]);
    const lib255 = similarityDistributions({ data: c.data, shape: [M, D] }, Int32Array.from(labels));
    expect(with255.overlap).toBe(lib255.overlap);
    expect(with255.bins).toBe(100);
  });

  it('--max-pairs --seed samples pairs exactly as the library with createRng(seed)', async () => {
    const lib = similarityDistributions({ data: c.data, shape: [M, D] }, yIgnored(), { maxPairs: 500, rng: createRng(3) });
    const j = await runJson(['eval', 'overlap', '--features', f.x, '--labels', f.y, '--max-pairs', '500', '--seed', '3', '--ignore-label', '255']);
    expect(j.sampled).toBe(true);
    expect([j.overlap, j.intraMean, j.interMean, j.intraCount + j.interCount]).toEqual([lib.overlap, lib.intraMean, lib.interMean, 500]);
  });

  it('prints a table and writes a report with the histogram SVG', async () => {
    const report = fx.path('overlap.html');
    const r = await runMmc(['eval', 'overlap', '--features', f.x, '--labels', f.y, '--backend', 'cpu', '--quiet', '--report', report]);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/Similarity distributions\nmetric\s+value\n-+\s+-+\noverlap\s+0\.\d{4}\nintra mean/);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toMatch(/overlap = 0\.\d+/);
  });

  it('names the files and shapes for bad labels', async () => {
    const y2 = await fx.npy('labels_bad.npy', { dtype: 'uint8', shape: [n, h, w + 1], data: new Uint8Array(n * h * (w + 1)) });
    const r = await runMmc(['eval', 'overlap', '--features', f.x, '--labels', y2, '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toMatch(/^eval overlap: --labels \S*labels_bad\.npy has shape \[3, 4, 6\] but --features \S*patches\.npy has shape \[3, 4, 5, 6\]: one label per patch is needed \(expected \[3, 4, 5\]\)/);
    const yf = await fx.npy('labels_f.npy', { dtype: 'float64', shape: [M], data: new Float64Array(M) });
    const r2 = await runMmc(['eval', 'overlap', '--features', f.x, '--labels', yf, '--backend', 'cpu', '--quiet']);
    expect(r2.error!.message).toMatch(/--labels \S*labels_f\.npy: labels must have an integer dtype .* got float64/);
    const bad = c.data.slice();
    bad[(1 * h * w + 2 * w + 3) * D + 4] = Infinity;
    const xi = await fx.npy('patches_inf.npy', { dtype: 'float32', shape: [n, h, w, D], data: bad });
    const r3 = await runMmc(['eval', 'overlap', '--features', xi, '--labels', f.y, '--backend', 'cpu', '--quiet']);
    expect(r3.error!.message).toMatch(/--features \S*patches_inf\.npy: position \[1, 2, 3\] \(feature 4\) is Infinity: features must be finite/);
    expect(r3.stdout).toBe('');
  });
});
