import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '@mmc/core';

const script = (name: string) => join('examples/third-party-embeddings', name);
const python = process.env.MMC_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;

// The example's scripts run on the built packages, as a user runs them.
describe('examples/third-party-embeddings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-third-party-'));
  const load = (name: string) => readNpy(new Uint8Array(readFileSync(join(dir, name))));
  const evaluate = () => {
    execFileSync('node', [script('evaluate.mjs'), dir], { encoding: 'utf8' });
    return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  };
  beforeAll(() => {
    if (!existsSync('packages/eval/dist/index.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
    execFileSync('node', [script('make-data.mjs'), '--count', '40', '--out', dir], { encoding: 'utf8' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes images, masks, prompts inside their objects, and patch labels', () => {
    const images = load('images.npy');
    const targets = load('targets.npy');
    const prompts = load('prompts.npy');
    const classes = load('classes.npy');
    expect(images.shape).toEqual([40, 64, 64, 3]);
    expect(targets.shape).toEqual([40, 64, 64]);
    expect(load('patch-labels.npy').shape).toEqual([40, 8, 8]);
    for (let i = 0; i < 40; i++) {
      const [y, x] = [Math.floor(prompts.data[2 * i] as number), Math.floor(prompts.data[2 * i + 1] as number)];
      expect(targets.data[i * 64 * 64 + y * 64 + x]).toBe(classes.data[i]);
    }
  });

  // Hand-made "perfect" embeddings: every patch is the one-hot of its label in patch-labels.npy, or
  // where that is −1 of its majority class (background included), the global feature the one-hot of the image's class. Then every same-class pair has
  // cosine 1 and every other pair 0: overlap 0, intra mean 1, inter mean 0, k-NN top-1 1.
  it('scores one-hot class embeddings as perfect where the protocol allows, and agrees with `mmc eval segment`', () => {
    const targets = load('targets.npy');
    const classes = load('classes.npy');
    const labels = load('patch-labels.npy');
    const C = 7;
    const patches = new Float32Array(40 * 64 * C);
    for (let i = 0; i < 40; i++) {
      for (let cell = 0; cell < 64; cell++) {
        const counts = new Array(C).fill(0);
        const [r, c] = [Math.floor(cell / 8), cell % 8];
        for (let py = 0; py < 8; py++) for (let px = 0; px < 8; px++) counts[targets.data[i * 4096 + (r * 8 + py) * 64 + c * 8 + px] as number]++;
        const label = labels.data[i * 64 + cell] as number;
        patches[(i * 64 + cell) * C + (label >= 0 ? label : counts.indexOf(Math.max(...counts)))] = 1;
      }
    }
    const cls = new Float32Array(40 * C);
    for (let i = 0; i < 40; i++) cls[i * C + (classes.data[i] as number)] = 1;
    writeFileSync(join(dir, 'patches.npy'), writeNpy({ dtype: 'float32', shape: [40, 8, 8, C], data: patches }));
    writeFileSync(join(dir, 'cls.npy'), writeNpy({ dtype: 'float32', shape: [40, C], data: cls }));
    const r = evaluate();
    expect(r.overlap).toBe(0);
    expect(r.intraMean).toBeCloseTo(1, 6);
    expect(r.interMean).toBeCloseTo(0, 6);
    expect(r.knnTop1).toBe(1);
    // 8×8 tokens upsampled to 64×64 cannot follow object outlines: the demo data's ceiling is ≈ 0.66
    // (docs/results-discussion.md); anything below 0.5 would mean a broken pipeline.
    expect(r.bestMiou).toBeGreaterThan(0.5);
    expect(r.bestMiou).toBeLessThanOrEqual(1);
    const cli = JSON.parse(
      execFileSync('node', ['packages/cli/bin/mmc.js', 'eval', 'segment', '--features', join(dir, 'patches.npy'), '--targets', join(dir, 'targets.npy'),
        '--prompts', join(dir, 'prompts.npy'), '--pixel-prompts', '--classes', join(dir, 'classes.npy'), '--json', '--quiet'], { encoding: 'utf8' }),
    );
    expect(cli.best.miou).toBeCloseTo(r.bestMiou, 12);
    expect(cli.best.threshold).toBe(r.bestThreshold);
  });

  it.skipIf(!hasTorch)('embeds with the PyTorch script and evaluates its features (needs python3-torch)', () => {
    execFileSync(python, [script('export_features.py'), dir], { encoding: 'utf8' });
    expect(load('patches.npy').shape).toEqual([40, 8, 8, 96]);
    expect(load('cls.npy').shape).toEqual([40, 96]);
    const r = evaluate();
    for (const k of ['bestMiou', 'overlap', 'knnTop1']) {
      expect(r[k]).toBeGreaterThanOrEqual(0);
      expect(r[k]).toBeLessThanOrEqual(1);
    }
    expect(Object.keys(r.miouByThreshold)).toEqual(['0.1', '0.2', '0.3', '0.4']);
  });
});
