import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, ValueError } from '@mmc/core';
import { scenes } from '@mmc/data';
import { vitTiny } from '@mmc/models';
import { CHECKPOINT_FILE } from '@mmc/recipes/node';
import { mmcRecipe, train, type StepInfo } from '@mmc/recipes';

// A tiny configuration so 20 steps run in seconds on both backends.
const tiny = () =>
  mmcRecipe({ vit: vitTiny({ imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2 }), headHidden: 32, headOut: 16, maxBlock: 0.5, seed: 3 });
const data = scenes({ count: 32, imageSize: 16, seed: 5 });
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mmc-train-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('train(mmcRecipe)', () => {
  it('lowers the loss over 20 steps and leaks no tensor', async () => {
    const recipe = tiny();
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    const res = await train(recipe, data, { steps: 20, batchSize: 4, lr: 5e-3, warmupSteps: 2, seed: 1, onStep: (s) => void losses.push(s.losses.loss) });
    expect(res.steps).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    recipe.dispose();
    expect(tf.memory().numTensors).toBe(before - Object.keys(recipe.variables()).length - Object.keys(recipe.state()).length);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const recipe = tiny();
      const r = await train(recipe, data, { steps: 3, batchSize: 4, seed: 9 });
      recipe.dispose();
      return r.history.map((h) => h.losses.loss);
    };
    expect(await run()).toEqual(await run());
  });

  it('resumes from a checkpoint with the same losses as an uninterrupted run', async () => {
    const opts = { steps: 6, batchSize: 4, lr: 3e-3, seed: 2 };
    const full = tiny();
    const uninterrupted = (await train(full, data, { ...opts, checkpoint: { dir: tmp(), every: 3 } })).history.map((h) => h.losses);
    full.dispose();

    const dir = tmp();
    const first = tiny();
    const crash = new Error('simulated crash after step 3');
    await expect(
      train(first, data, { ...opts, checkpoint: { dir, every: 3 }, onStep: (s: StepInfo) => { if (s.step === 3) throw crash; } }),
    ).rejects.toBe(crash);
    first.dispose();

    const second = tiny(); // fresh weights: everything must come from the checkpoint
    const resumed = await train(second, data, { ...opts, checkpoint: { dir, every: 3 }, resume: true });
    second.dispose();
    expect(resumed.startStep).toBe(3);
    expect(resumed.history.map((h) => h.losses)).toEqual(uninterrupted.slice(3));
  });

  it('rejects a damaged or truncated checkpoint with a FormatError naming the file', async () => {
    const dir = tmp();
    const r = tiny();
    await train(r, data, { steps: 2, batchSize: 2, checkpoint: { dir, every: 2 } });
    const path = join(dir, CHECKPOINT_FILE);
    const bytes = readFileSync(path);

    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0xff; // a tensor byte: the checksum must catch it
    writeFileSync(path, flipped);
    const e1 = await train(r, data, { steps: 4, batchSize: 2, checkpoint: { dir, every: 2 }, resume: true }).catch((e) => e);
    expect(e1).toBeInstanceOf(FormatError);
    expect(e1.message).toMatch(/damaged/);
    expect(e1.message).toContain(path);

    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    const e2 = await train(r, data, { steps: 4, batchSize: 2, checkpoint: { dir, every: 2 }, resume: true }).catch((e) => e);
    expect(e2).toBeInstanceOf(FormatError);
    expect(e2.message).toMatch(/damaged or truncated/);
    r.dispose();
  });

  it('validates its options', async () => {
    const r = tiny();
    await expect(train(r, data, { steps: 0, batchSize: 2 })).rejects.toThrow(/steps must be an integer >= 1/);
    await expect(train(r, data, { steps: 2, batchSize: 2, resume: true })).rejects.toThrow(ValueError);
    await expect(train(r, data, { steps: 2, batchSize: 2, lr: -1 })).rejects.toThrow(/lr must be > 0/);
    r.dispose();
  });
});
