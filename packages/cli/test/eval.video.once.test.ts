import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmcError, readNpy } from '@mmc/core';
import { davisJF, propagateLabels } from '@mmc/eval';
import { fixtureDir, runJson, runMmc, uniform } from './evalCli.js';

const fx = fixtureDir('video');
afterAll(() => fx.cleanup());

// 5 frames of 5×6 patches (patch 2 px → 10×12 maps), D = 6; objects 1 and 2 drift right one
// patch per frame; features: per-object centre + noise.
const T = 5;
const h = 5;
const w = 6;
const p = 2;
const H = h * p;
const W = w * p;
const D = 6;
const rand = uniform(9);
const feats = new Float32Array(T * h * w * D);
const gt = new Uint8Array(T * H * W);
for (let t = 0; t < T; t++) {
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const id = r <= 1 && c >= t && c <= t + 1 ? 1 : r >= 3 && c <= 1 ? 2 : 0;
      for (let d = 0; d < D; d++) feats[(((t * h + r) * w + c) * D) + d] = (d === id * 2 ? 2 : 0) + 0.5 * (rand() - 0.5);
      for (let y = r * p; y < (r + 1) * p; y++) for (let x = c * p; x < (c + 1) * p; x++) gt[(t * H + y) * W + x] = id;
    }
  }
}
gt[3 * H * W + 5] = 255; // a void pixel in frame 3
const f: Record<string, string> = {};
beforeAll(async () => {
  f.x = await fx.npy('frames.npy', { dtype: 'float32', shape: [T, h, w, D], data: feats });
  f.gt = await fx.npy('gt.npy', { dtype: 'uint8', shape: [T, H, W], data: gt });
  f.first = await fx.npy('first.npy', { dtype: 'int64', shape: [H, W], data: BigInt64Array.from(gt.subarray(0, H * W), (v) => BigInt(v)) });
});

describe('mmc eval video', () => {
  it('--json equals propagateLabels + davisJF; --save-labels writes the maps', async () => {
    await tf.setBackend('cpu');
    const frames = tf.tensor4d(feats, [T, h, w, D]);
    const first = { data: Int32Array.from(gt.subarray(0, H * W)), shape: [H, W] };
    const lib = propagateLabels(frames, first, { patchSize: p, neighborhood: 2 });
    tf.dispose([frames, ...lib.soft]);
    const gtFrames = Array.from({ length: T }, (_, t) => gt.subarray(t * H * W, (t + 1) * H * W));
    const score = davisJF([first.data, ...lib.labels], gtFrames, { shape: [H, W] });
    const out = fx.path('pred.npy');
    const j = await runJson(['eval', 'video', '--features', f.x, '--first-labels', f.first, '--gt', f.gt, '--neighborhood', '2', '--save-labels', out]);
    expect(j.command).toBe('eval video');
    expect([j.JF, j.J, j.F]).toEqual([score.JF, score.J, score.F]);
    expect(j.perObject).toEqual(score.perObject.map((o) => ({ id: o.id, J: o.J, F: o.F, JF: o.JF })));
    expect(j).toMatchObject({ frames: T, numClasses: 3, patchSize: p, labelSize: [H, W], evaluatedFrames: [1, 2, 3] });
    expect(j.JF).toBeGreaterThan(0.5);
    const saved = readNpy(readFileSync(out));
    expect(saved.shape).toEqual([T, H, W]);
    expect(saved.dtype).toBe('int32');
    expect(Array.from(saved.data as Int32Array)).toEqual([...first.data, ...lib.labels.flatMap((m) => Array.from(m))]);
    // without --first-labels, frame 0 of --gt is used; without --gt there is no score
    const j2 = await runJson(['eval', 'video', '--features', f.x, '--gt', f.gt, '--neighborhood', '2']);
    expect(j2.JF).toBe(j.JF);
    const j3 = await runJson(['eval', 'video', '--features', f.x, '--first-labels', f.first]);
    expect(j3.JF).toBeUndefined();
    expect(j3.frames).toBe(T);
    const t = await runMmc(['eval', 'video', '--features', f.x, '--gt', f.gt, '--backend', 'cpu', '--quiet']);
    expect(t.stdout).toMatch(/J&F\s+[01]\.\d{4}\nJ \(region IoU\)\s+[01]\.\d{4}\nF \(boundary\)/);
    expect(t.stdout).toMatch(/object\s+J&F\s+J\s+F\n/);
  });

  it('errors: label size vs patch grid, frame count, no labels at all', async () => {
    const run = (...a: string[]) => runMmc(['eval', 'video', '--features', f.x, '--backend', 'cpu', '--quiet', ...a]);
    const odd = await fx.npy('odd.npy', { dtype: 'uint8', shape: [H + 1, W], data: new Uint8Array((H + 1) * W) });
    let r = await run('--first-labels', odd);
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toMatch(/^eval video: --first-labels \S*odd\.npy has shape \[11, 12\] but --features \S*frames\.npy has shape \[5, 5, 6, 6\]: labels must be \[h·p, w·p\]/);
    r = await run('--first-labels', f.first, '--patch-size', '3');
    expect(r.error!.message).toMatch(/--patch-size 3 gives \[15, 18\]/);
    const gt4 = await fx.npy('gt4.npy', { dtype: 'uint8', shape: [T - 1, H, W], data: gt.subarray(0, (T - 1) * H * W) });
    r = await run('--gt', gt4);
    expect(r.error!.message).toMatch(/--gt \S*gt4\.npy has shape \[4, 10, 12\] but --features \S*frames\.npy has shape \[5, 5, 6, 6\]: one \[H, W\] ground-truth map per frame/);
    r = await run();
    expect(r.error!.message).toBe('eval video: give --first-labels (frame 0 label map [H, W]) or --gt (label maps [T, H, W])');
  });
});
