import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend, ValueError } from '@mmc/core';
import { objectCrops, scenes } from '@mmc/data';
import { createViT } from '@mmc/models';
import { afterAll, describe, expect, it } from 'vitest';
import { runStudy, type StudyOptions } from '../src/study';
import { buildProgram } from '../src/main';
import { knnByHead } from '../src/study/knnByHead';

const out = mkdtempSync(join(tmpdir(), 'mmc-study-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A study small enough for CI: 32×32 scenes, a one-block ViT, 2 steps, 2 recipes (one with a teacher, one without), 1 seed. */
const tiny: StudyOptions = {
  steps: 2,
  seeds: [0],
  recipes: ['mmc', 'mae'],
  data: ['scenes'],
  out,
  docs: join(out, 'results.md'),
  backend: 'cpu',
  quiet: true,
  config: { imageSize: 32, patchSize: 8, dim: 16, depth: 1, heads: 1, headHidden: 16, batchSize: 4, trainCount: 16, evalCount: 6, knnBankScenes: 12, knnQueryScenes: 6 },
};

const runFiles = () => readdirSync(join(out, 'scenes')).sort();

describe('mmc study', () => {
  it('trains and measures each recipe and the network at initialisation, writes the records, results.md and report.html, leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const summary = await runStudy(tiny);
    expect(tf.memory().numTensors).toBe(before);
    expect(runFiles()).toEqual(['mae-seed0.json', 'mmc-seed0.json', 'random-init-seed0.json']);
    expect(summary.ranNow).toBe(3);

    for (const f of runFiles()) {
      const r = JSON.parse(readFileSync(join(out, 'scenes', f), 'utf8'));
      expect(r.steps).toBe(r.recipe === 'random-init' ? 0 : 2);
      expect(r.code).toMatch(/^([0-9a-f]{7,}( \+ uncommitted changes)?|unknown)$/);
      expect(r.evaluated).toBe({ mmc: 'EMA teacher backbone', mae: 'student backbone', 'random-init': 'initialisation' }[r.recipe as string]);
      expect(Object.keys(r.zeroShot.miouByThreshold)).toEqual(['0.1', '0.2', '0.3', '0.4']);
      const mious = Object.values(r.zeroShot.miouByThreshold) as number[];
      for (const v of mious) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
      expect(r.zeroShot.bestMiou).toBe(Math.max(...mious));
      expect(r.zeroShot.overlap).toBeGreaterThan(0);
      expect(r.zeroShot.overlap).toBeLessThanOrEqual(1);
      for (const m of [r.zeroShot.intraMean, r.zeroShot.interMean]) expect(Math.abs(m)).toBeLessThanOrEqual(1);
      expect(r.zeroShot.intra).toHaveLength(100);
      expect(Object.keys(r.knn)).toEqual(['cls', 'patch-mean', 'concat']);
      // Accuracies are fractions of the query crops: multiples of 1/knnQueries.
      for (const v of Object.values(r.knn) as number[]) expect(Math.abs(v * r.knnQueries - Math.round(v * r.knnQueries))).toBeLessThan(1e-9);
      expect(r.knnQueries).toBeGreaterThan(0);
    }
    const rows = summary.datasets[0].rows;
    expect(rows.map((r) => r.name)).toEqual(['random-init', 'mmc', 'mae']);
    const init = JSON.parse(readFileSync(join(out, 'scenes', 'random-init-seed0.json'), 'utf8'));
    expect(rows[0].stats.overlap.mean).toBe(init.zeroShot.overlap);
    expect(rows[0].stats['k-NN concat'].mean).toBe(init.knn.concat);

    const md = readFileSync(join(out, 'results.md'), 'utf8');
    const table = md.split('\n').filter((l) => /^\| (random init|MMC|MAE) \| 1 \|/.test(l));
    expect(table).toHaveLength(3);
    for (const line of table) {
      const cells = line.split('|').slice(3, -1).map((c) => Number(c.trim()));
      expect(cells).toHaveLength(11);
      cells.forEach((v, i) => {
        expect(Number.isFinite(v)).toBe(true);
        // mIoU ×4, best, then overlap, intra, inter as fractions, then three k-NN accuracies in %.
        if (i < 5 || i > 7) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(100);
        else expect(Math.abs(v)).toBeLessThanOrEqual(1);
      });
    }
    expect(md).toContain('## Configuration');
    expect(md).toMatch(/\| MMC \| [\d.]+ \| 38\.4 \| [\d.]+ \| 0\.55 \|/); // beside the paper: Table 1 Opt. and Table 5 O
    expect(md).toMatch(/### scenes: what it found\n\n(- .+\n)+/);
    expect(md).toContain('differs from the defaults (`DEMO_CONFIG`) in imageSize, dim, depth, heads, headHidden, batchSize');

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect((html.match(/<svg/g) ?? []).length).toBe(3); // one histogram per row
  });

  it('resumes: finished runs are read back, not re-run; a record of another configuration is refused', async () => {
    const mtimes = runFiles().map((f) => statSync(join(out, 'scenes', f)).mtimeMs);
    const again = await runStudy({ ...tiny, docs: false });
    expect(again.ranNow).toBe(0);
    expect(runFiles().map((f) => statSync(join(out, 'scenes', f)).mtimeMs)).toEqual(mtimes);
    // One more seed: only its runs are new.
    const more = await runStudy({ ...tiny, seeds: [0, 1], docs: false });
    expect(more.ranNow).toBe(3);
    expect(more.datasets[0].rows.every((r) => r.seeds.length === 2 && Number.isFinite(r.stats.overlap.std))).toBe(true);
    await expect(runStudy({ ...tiny, steps: 3, docs: false })).rejects.toThrow(/another configuration/);
    writeFileSync(join(out, 'scenes', 'mae-seed1.json'), '{ truncated');
    await expect(runStudy({ ...tiny, seeds: [1], docs: false })).rejects.toThrow(/not JSON/);
  });

  it('k-NN by head: a bank queried with itself and k = 1 finds every crop (features and labels stay aligned)', async () => {
    await useBackend('cpu');
    const crops = objectCrops(scenes({ count: 8, imageSize: 32, seed: 3 }), { size: 32 });
    const vit = createViT({ imageSize: 32, patchSize: 8, dim: 16, depth: 1, heads: 1, seed: 0 });
    const before = tf.memory().numTensors;
    try {
      expect(await knnByHead(vit, crops, crops, 1, 5)).toEqual({ cls: 1, 'patch-mean': 1, concat: 1 });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      vit.dispose();
    }
  });

  it('rejects unknown recipes and data sets by name, and the CLI parses its lists', async () => {
    await expect(runStudy({ ...tiny, recipes: ['mmc', 'simclr'] })).rejects.toThrow(ValueError);
    await expect(runStudy({ ...tiny, recipes: ['simclr'] })).rejects.toThrow(/--recipes must be one of mmc, sit, dino, ibot, mae, msn, got 'simclr'/);
    await expect(runStudy({ ...tiny, data: ['imagenet'] })).rejects.toThrow(/--data must list scenes, fashion, got 'imagenet'/);
    const study = buildProgram().commands.find((c) => c.name() === 'study')!;
    study.exitOverride().configureOutput({ writeErr: () => {} });
    study.action(() => {});
    await study.parseAsync(['--seeds', '3,4', '--recipes', 'dino,msn', '--no-docs'], { from: 'user' });
    expect(study.opts()).toMatchObject({ seeds: [3, 4], recipes: ['dino', 'msn'], docs: false, steps: 300, data: ['scenes', 'fashion'], out: 'runs/study' });
    await expect(study.parseAsync(['--seeds', '1,1'], { from: 'user' })).rejects.toThrow(/distinct/);
  });
});
