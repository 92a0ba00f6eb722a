import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { scenes } from '@mmc/data';
import { vitTiny } from '@mmc/models';
import { dinoRecipe, ibotRecipe, maeRecipe, mmcRecipe, msnRecipe, sitRecipe, train, type Recipe, type StepInfo } from '@mmc/recipes';

// The tiny configuration of train.test.ts: 20 steps run in seconds on both backends.
const vit = () => vitTiny({ imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2 });
const builders: Record<string, () => Recipe> = {
  sit: () => sitRecipe({ vit: vit(), headHidden: 32, headOut: 16, maxBlock: 0.5, seed: 3 }),
  dino: () => dinoRecipe({ vit: vit(), headHidden: 32, bottleneck: 16, prototypes: 64, localCrops: 2, seed: 3 }),
  ibot: () => ibotRecipe({ vit: vit(), headHidden: 32, bottleneck: 16, prototypes: 64, localCrops: 1, seed: 3 }),
  mae: () => maeRecipe({ vit: vit(), seed: 3 }),
  msn: () => msnRecipe({ vit: vit(), headHidden: 32, headOut: 16, prototypes: 32, focalCrops: 1, seed: 3 }),
};
// The same builders with extra options, for the fixed-target check below.
const extraBuilders: Record<string, (o: Record<string, number>) => Recipe> = {
  dino: (o) => dinoRecipe({ vit: vit(), headHidden: 32, bottleneck: 16, prototypes: 64, localCrops: 2, seed: 3, ...o }),
  ibot: (o) => ibotRecipe({ vit: vit(), headHidden: 32, bottleneck: 16, prototypes: 64, localCrops: 1, seed: 3, ...o }),
  mae: (o) => maeRecipe({ vit: vit(), seed: 3, ...o }),
};
// Recipes whose loss does not fall within 20 tiny steps, measured (cpu, this config), so the
// falling-loss check would be luck, not a property:
// - dino, ibot: the loss is dominated by the centers catching up from zero. Step 1 uses center 0,
//   so the (same-network) teacher and student agree (dino 1.29); then the centered teacher moves
//   its preferred prototypes away from where the student points and the loss climbs to ≈ log K and
//   beyond (dino 1.29 → 0.07 → 4.8 over 20 steps at lr 5e-3; still rising at lr 2e-4, with
//   teacherTemp 0.07, with batch 8, and with centerMomentum 0/0.5). DINO's own curves start near
//   log K and fall over epochs, not 20 steps.
// - mae (normPix): the per-patch normalised 4×4 targets of 16 px scenes are close to
//   unpredictable from 4 visible tokens; the loss hovers at the predict-zero level (n−1)/n ≈ 0.98
//   (0.98 → 0.93..1.14 at lr 5e-3 / 2e-2, batch 4 or 16; normPix false: noisy 0.29..0.99).
// For these the first test checks finite losses, no leak and that training moved the weights, and
// a second one removes the moving target: with the teacher frozen (momentum 1) and the centers
// frozen at 0 (centerMomentum 1), DINO and iBOT are plain distillation from a fixed network and
// must lower their loss in 20 steps (measured: dino 2.16 → 0.98, ibot 8.93 → 4.93, first vs last
// five); MAE must lower its loss when its data are 4 fixed images (0.94 → 0.84).
const fallsIn20Steps: Record<string, boolean> = { sit: true, dino: false, ibot: false, mae: false, msn: true };
const data = scenes({ count: 32, imageSize: 16, seed: 5 });
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mmc-recipes-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

it('mmcRecipe: building and disposing leaves no tensor behind', () => {
  const before = tf.memory().numTensors;
  mmcRecipe({ vit: vit(), headHidden: 32, headOut: 16, maxBlock: 0.5, seed: 3 }).dispose();
  expect(tf.memory().numTensors).toBe(before);
});

const fixedTarget: Record<string, { recipe: Record<string, number>; momentum?: [number, number]; count: number }> = {
  dino: { recipe: { centerMomentum: 1 }, momentum: [1, 1], count: 32 },
  ibot: { recipe: { centerMomentum: 1, centerMomentum2: 1 }, momentum: [1, 1], count: 32 },
  mae: { recipe: {}, count: 4 },
};
describe.each(Object.keys(fixedTarget))('%sRecipe', (name) => {
  it('with a fixed target (frozen teacher and centers, or fixed images) 20 steps lower the loss', async () => {
    const setup = fixedTarget[name];
    const recipe = extraBuilders[name](setup.recipe);
    const losses: number[] = [];
    const set = scenes({ count: setup.count, imageSize: 16, seed: 5 });
    await train(recipe, set, { steps: 20, batchSize: 4, lr: 5e-3, warmupSteps: 2, seed: 1, momentum: setup.momentum, onStep: (s) => void losses.push(s.losses.loss) });
    recipe.dispose();
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
  });
});

describe.each(Object.keys(builders))('%sRecipe', (name) => {
  const build = builders[name];

  it('trains 20 steps (falling loss where expected) and leaks no tensor', async () => {
    const recipe = build();
    expect(recipe.name).toBe(name);
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    const first = Object.fromEntries(Object.entries(recipe.variables()).map(([n, v]) => [n, v.dataSync().slice()]));
    const res = await train(recipe, data, { steps: 20, batchSize: 4, lr: 5e-3, warmupSteps: 2, seed: 1, onStep: (s) => void losses.push(s.losses.loss) });
    expect(res.steps).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
    expect(losses.every(Number.isFinite)).toBe(true);
    if (fallsIn20Steps[name]) expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    const moved = Object.entries(recipe.variables()).filter(([n, v]) => v.dataSync().some((x, i) => x !== first[n][i])).length;
    expect(moved).toBeGreaterThan(Object.keys(first).length / 2);
    const owned = new Set([...Object.values(recipe.variables()), ...Object.values(recipe.state())]).size;
    recipe.dispose();
    expect(tf.memory().numTensors).toBe(before - owned);
  });

  it('building and disposing the recipe leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    build().dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const recipe = build();
      const r = await train(recipe, data, { steps: 3, batchSize: 4, seed: 9 });
      recipe.dispose();
      return r.history.map((h) => h.losses);
    };
    expect(await run()).toEqual(await run());
  });

  it('resumes from a checkpoint (state() included) with the same losses as an uninterrupted run', async () => {
    const opts = { steps: 6, batchSize: 4, lr: 3e-3, seed: 2 };
    const full = build();
    const uninterrupted = (await train(full, data, { ...opts, checkpoint: { dir: tmp(), every: 3 } })).history.map((h) => h.losses);
    full.dispose();

    const dir = tmp();
    const first = build();
    const crash = new Error('simulated crash after step 3');
    await expect(
      train(first, data, { ...opts, checkpoint: { dir, every: 3 }, onStep: (s: StepInfo) => { if (s.step === 3) throw crash; } }),
    ).rejects.toBe(crash);
    first.dispose();

    const second = build(); // fresh weights and centers: everything must come from the checkpoint
    const resumed = await train(second, data, { ...opts, checkpoint: { dir, every: 3 }, resume: true });
    second.dispose();
    expect(resumed.startStep).toBe(3);
    expect(resumed.history.map((h) => h.losses)).toEqual(uninterrupted.slice(3));
  });
});
