import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { mmcLoss, type MmcLossParts } from '../src/mmcLoss.js';
import { mimL1Loss } from '../src/mimL1Loss.js';
import { patchMomentumContrast } from '../src/patchMomentumContrast.js';
import { crossViewInfoNCE } from '../src/crossViewInfoNCE.js';
import { expectClose, expectNoLeak, randn } from '../../../test-setup/numeric.js';
import { refInfoNCE, refPatchContrast } from './contrastReference.js';

const [B, H, W, C, N, D, K] = [3, 4, 4, 2, 4, 3, 5];

function binary(seed: number, n: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < 0.5 ? 1 : 0;
  m[0] = 1;
  return m;
}

const t = (seed: number, shape: number[]) => tf.tensor(Float32Array.from(randn(seed, shape.reduce((a, b) => a * b, 1))), shape);

/** Two views' inputs (tensors; dispose with tf.dispose(parts)). */
function makeParts(seed: number): { mim: NonNullable<MmcLossParts['mim']>; patch: NonNullable<MmcLossParts['patch']>; global: NonNullable<MmcLossParts['global']> } {
  const view = (v: number) => ({
    mim: { pred: t(seed + v, [B, H, W, C]), target: t(seed + 10 + v, [B, H, W, C]), pixelMask: tf.tensor(binary(seed + 20 + v, B * H * W), [B, H, W]) },
    patch: { student: t(seed + 30 + v, [B, N, D]), teacher: t(seed + 40 + v, [B, N, D]), mask: tf.tensor(binary(seed + 50 + v, B * N), [B, N]) },
  });
  const v1 = view(1);
  const v2 = view(2);
  return {
    mim: [v1.mim, v2.mim],
    patch: [v1.patch, v2.patch],
    global: { q1: t(seed + 61, [B, K]), q2: t(seed + 62, [B, K]), k1: t(seed + 63, [B, K]), k2: t(seed + 64, [B, K]) },
  };
}

const val = (x: tf.Tensor) => x.dataSync()[0];
/** Reads and disposes. */
const num = (x: tf.Tensor) => {
  const v = x.dataSync()[0];
  x.dispose();
  return v;
};
const host = (x: tf.Tensor) => Float64Array.from(x.dataSync());

describe('mmcLoss', () => {
  it('equals the weighted sum of its parts computed separately; lists are the mean of per-view parts', () => {
    const parts = makeParts(1);
    const mims = parts.mim as { pred: tf.Tensor; target: tf.Tensor; pixelMask: tf.Tensor }[];
    const patches = parts.patch as { student: tf.Tensor; teacher: tf.Tensor; mask: tf.Tensor }[];
    const g = parts.global;
    for (const [weights, temperature, negatives] of [
      [{}, 0.2, 'other-images'],
      [{ mim: 0.5, patch: 2, global: 0.25 }, 0.1, 'same-position'],
    ] as const) {
      const out = mmcLoss(parts, { weights, temperature, negatives });
      const mim = 0.5 * (num(mimL1Loss(mims[0].pred, mims[0].target, mims[0].pixelMask)) + num(mimL1Loss(mims[1].pred, mims[1].target, mims[1].pixelMask)));
      const patch = 0.5 * patches.reduce((s, p) => s + num(patchMomentumContrast(p.student, p.teacher, { mask: p.mask, temperature, negatives })), 0);
      const glob = num(crossViewInfoNCE(g.q1, g.q2, g.k1, g.k2, { temperature, reduction: 'mean' }));
      const w = { mim: 1, patch: 1, global: 1, ...weights };
      expectClose([val(out.mim)], [mim], 1e-6, 1e-6);
      expectClose([val(out.patch)], [patch], 1e-6, 1e-6);
      expectClose([val(out.global)], [glob], 1e-6, 1e-6);
      expectClose([val(out.loss)], [w.mim * mim + w.patch * patch + w.global * glob], 1e-5, 1e-6);
      // Independent float64 references for the two contrastive terms.
      const refPatch = 0.5 * patches.reduce((s, p) => s + refPatchContrast(host(p.student), host(p.teacher), B, N, D, { temperature, negatives, mask: host(p.mask) }), 0);
      const refGlobal = 0.5 * (refInfoNCE(host(g.q1), host(g.k2), B, K, { temperature }) + refInfoNCE(host(g.q2), host(g.k1), B, K, { temperature }));
      expectClose([val(out.patch)], [refPatch], 1e-5, 1e-5);
      expectClose([val(out.global)], [refGlobal], 1e-5, 1e-5);
      tf.dispose(out);
    }
    // A single part (not a list) is that part.
    const single = mmcLoss({ mim: mims[1], patch: patches[1], global: g });
    expectClose([val(single.mim)], [num(mimL1Loss(mims[1].pred, mims[1].target, mims[1].pixelMask))], 1e-7);
    expectClose([val(single.patch)], [num(patchMomentumContrast(patches[1].student, patches[1].teacher, { mask: patches[1].mask }))], 1e-7);
    tf.dispose(single);
    tf.dispose(parts as unknown as tf.TensorContainer);
  });

  it('the gradient w.r.t. a student input equals the weighted gradient of its part', () => {
    const parts = makeParts(2);
    const patches = parts.patch as { student: tf.Tensor; teacher: tf.Tensor; mask: tf.Tensor }[];
    const weights = { mim: 0.3, patch: 1.7, global: 0.6 };
    const [gAll, gPart, gQ, gQPart] = tf.tidy(() => {
      const gs = tf.grad((s: tf.Tensor) => mmcLoss({ ...parts, patch: [{ ...patches[0], student: s }, patches[1]] }, { weights }).loss)(patches[0].student);
      const gp = tf.grad((s: tf.Tensor) => patchMomentumContrast(s, patches[0].teacher, { mask: patches[0].mask }))(patches[0].student);
      const g = parts.global;
      const gq = tf.grad((q: tf.Tensor) => mmcLoss({ ...parts, global: { ...g, q1: q } }, { weights }).loss)(g.q1);
      const gqp = tf.grad((q: tf.Tensor) => crossViewInfoNCE(q, g.q2, g.k1, g.k2))(g.q1);
      return [gs, gp, gq, gqp].map((x) => x.dataSync());
    });
    expectClose(gAll, Array.from(gPart, (v) => (weights.patch / 2) * v), 1e-6, 1e-5);
    expectClose(gQ, Array.from(gQPart, (v) => weights.global * v), 1e-6, 1e-5);
    tf.dispose(parts as unknown as tf.TensorContainer);
  });

  it('a weight of 0 skips its part (may be omitted, reported as 0); a weighted part is required', () => {
    const parts = makeParts(3);
    const full = mmcLoss(parts);
    const noMim = mmcLoss({ patch: parts.patch, global: parts.global }, { weights: { mim: 0 } });
    expect(val(noMim.mim)).toBe(0);
    expectClose([val(noMim.loss)], [val(full.patch) + val(full.global)], 1e-5, 1e-6);
    const onlyGlobal = mmcLoss({ global: parts.global }, { weights: { mim: 0, patch: 0 } });
    expect(val(onlyGlobal.patch)).toBe(0);
    expectClose([val(onlyGlobal.loss)], [val(full.global)], 1e-6, 1e-6);
    // A given part with weight 0 is ignored, even if its inputs are broken.
    const ignored = mmcLoss({ ...parts, mim: { pred: tf.zeros([1]), target: tf.zeros([1]), pixelMask: tf.zeros([1]) } }, { weights: { mim: 0 } });
    expectClose([val(ignored.loss)], [val(noMim.loss)], 1e-7);
    const none = mmcLoss({}, { weights: { mim: 0, patch: 0, global: 0 } });
    expect(val(none.loss)).toBe(0);
    expect(() => mmcLoss({ patch: parts.patch, global: parts.global })).toThrow(ValueError);
    expect(() => mmcLoss({ patch: parts.patch, global: parts.global })).toThrow(/mmcLoss: parts.mim is required when weights.mim is not 0/);
    expect(() => mmcLoss({ mim: parts.mim, patch: parts.patch })).toThrow(/mmcLoss: parts.global/);
    expect(() => mmcLoss({ ...parts, patch: [] })).toThrow(/mmcLoss: parts.patch must be a part or a non-empty list/);
    tf.dispose([full, noMim, onlyGlobal, ignored, none]);
    tf.dispose(parts as unknown as tf.TensorContainer);
  });

  it('rejects bad inputs and options with typed errors naming mmcLoss, the part and the argument', () => {
    const parts = makeParts(4);
    const patches = parts.patch as { student: tf.Tensor; teacher: tf.Tensor; mask: tf.Tensor }[];
    tf.tidy(() => {
      const badPatch = [patches[0], { ...patches[1], teacher: tf.zeros([B, N, D + 1]) }];
      expect(() => mmcLoss({ ...parts, patch: badPatch })).toThrow(ShapeError);
      expect(() => mmcLoss({ ...parts, patch: badPatch })).toThrow(/^mmcLoss: parts.patch\[1\]: patchMomentumContrast: teacher must have shape \[3, 4, 3\]/);
      const badMask = { ...patches[0], mask: tf.ones([B, N + 1]) };
      expect(() => mmcLoss({ ...parts, patch: badMask })).toThrow(/mmcLoss: parts.patch: patchMomentumContrast: mask/);
      expect(() => mmcLoss({ ...parts, global: { ...parts.global, k2: tf.zeros([B, K + 1]) } })).toThrow(/mmcLoss: parts.global: crossViewInfoNCE: k2/);
      const mims = parts.mim as { pred: tf.Tensor; target: tf.Tensor; pixelMask: tf.Tensor }[];
      expect(() => mmcLoss({ ...parts, mim: [mims[0], { ...mims[1], pixelMask: tf.ones([B, H]) }] })).toThrow(/mmcLoss: parts.mim\[1\]: mimL1Loss: pixelMask/);
      expect(() => mmcLoss(parts, { temperature: 0 })).toThrow(/mmcLoss: temperature must be > 0/);
      expect(() => mmcLoss(parts, { temperature: NaN })).toThrow(ValueError);
      expect(() => mmcLoss(parts, { weights: { patch: -1 } })).toThrow(/mmcLoss: weights.patch must be in \[0, Infinity\)/);
      expect(() => mmcLoss(parts, { weights: { global: NaN } })).toThrow(/weights.global/);
      expect(() => mmcLoss(parts, { negatives: 'x' as 'same-position' })).toThrow(/mmcLoss: negatives/);
      expect(() => mmcLoss(null as unknown as MmcLossParts)).toThrow(/mmcLoss: parts must be an object/);
      expect(() => mmcLoss({ ...parts, patch: [patches[0], 3 as unknown as typeof patches[0]] })).toThrow(/parts.patch\[1\] must be an object/);
    });
    tf.dispose(parts as unknown as tf.TensorContainer);
  });

  it('leaks no tensors (forward, gradient, and on a thrown error)', () => {
    const parts = makeParts(5);
    const patches = parts.patch as { student: tf.Tensor; teacher: tf.Tensor; mask: tf.Tensor }[];
    expectNoLeak(() => mmcLoss(parts));
    expectNoLeak(() => mmcLoss({ global: parts.global }, { weights: { mim: 0, patch: 0 } }));
    expectNoLeak(() =>
      tf.grad((s: tf.Tensor) => mmcLoss({ ...parts, patch: [{ ...patches[0], student: s }, patches[1]] }, { negatives: 'same-position' }).loss)(patches[0].student),
    );
    const bad = tf.zeros([B, N, D + 1]);
    expectNoLeak(() => {
      expect(() => mmcLoss({ ...parts, patch: [patches[0], { ...patches[1], teacher: bad }] })).toThrow(ShapeError);
    });
    tf.dispose(bad);
    tf.dispose(parts as unknown as tf.TensorContainer);
  });
});
