import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { meanIoU } from '../src/meanIoU.js';

/**
 * Independent reference through a confusion matrix (rows = target, columns = prediction, with an
 * extra column for "no valid class predicted"): IoU_c = M[c][c] / (row_c + col_c − M[c][c]).
 */
function refMeanIoU(preds: ArrayLike<number>[], targets: ArrayLike<number>[], C: number, ignore: number) {
  const M = Array.from({ length: C }, () => new Array<number>(C + 1).fill(0));
  for (let m = 0; m < preds.length; m++) {
    for (let i = 0; i < targets[m].length; i++) {
      const t = targets[m][i];
      if (t === ignore) continue;
      const p = preds[m][i];
      M[t][p >= 0 && p < C ? p : C]++;
    }
  }
  const perClass: number[] = [];
  let correct = 0;
  let valid = 0;
  for (let c = 0; c < C; c++) {
    const row = M[c].reduce((a, b) => a + b, 0);
    let col = 0;
    for (let r = 0; r < C; r++) col += M[r][c];
    const union = row + col - M[c][c];
    perClass.push(union === 0 ? NaN : M[c][c] / union);
    correct += M[c][c];
    valid += row;
  }
  const present = perClass.filter((v) => !Number.isNaN(v));
  return { perClass, miou: present.reduce((a, b) => a + b, 0) / present.length, aAcc: correct / valid };
}

function expectPerClass(got: Float64Array, want: number[]) {
  expect(got.length).toBe(want.length);
  want.forEach((v, c) => (Number.isNaN(v) ? expect(Number.isNaN(got[c])).toBe(true) : expect(got[c]).toBeCloseTo(v, 12)));
}

describe('meanIoU', () => {
  it('hand-checked 2×3 map with an ignored pixel', () => {
    // pred   [[0, 1, 1], [2, 2, 2]]   target [[0, 1, 2], [2, 2, 255]]
    // class 0: ∩1 ∪1 → 1;  class 1: ∩1, P2, L1 → ∪2 → 1/2;  class 2: ∩2, P2 (last pixel ignored), L3 → ∪3 → 2/3
    // mIoU = (1 + 1/2 + 2/3) / 3 = 13/18;  aAcc = 4 / 5
    const pred = { data: new Int32Array([0, 1, 1, 2, 2, 2]), shape: [2, 3] };
    const target = { data: new Uint8Array([0, 1, 2, 2, 2, 255]), shape: [2, 3] };
    const r = meanIoU(pred, target, { numClasses: 3 });
    expectPerClass(r.perClass, [1, 0.5, 2 / 3]);
    expect(r.miou).toBeCloseTo(13 / 18, 12);
    expect(r.aAcc).toBeCloseTo(0.8, 12);
    expect([...r.areaIntersect]).toEqual([1, 1, 2]);
    expect([...r.areaUnion]).toEqual([1, 2, 3]);
    expect([...r.areaPred]).toEqual([1, 2, 2]);
    expect([...r.areaLabel]).toEqual([1, 1, 3]);
  });

  it('a class only predicted counts with IoU 0; a class absent from both is NaN and excluded', () => {
    const r = meanIoU([0, 0, 3, 1], [0, 0, 1, 1], { numClasses: 4 });
    // class 0: 2/2; class 1: ∩1 ∪2; class 2: absent → NaN; class 3: predicted only → 0
    expectPerClass(r.perClass, [1, 0.5, NaN, 0]);
    expect(r.miou).toBeCloseTo(0.5, 12);
    expect(r.aAcc).toBeCloseTo(0.75, 12);
  });

  it('sums areas over all images before dividing (not a mean of per-image IoUs)', () => {
    const preds = [new Int32Array([1, 1, 1, 1]), new Int32Array([0, 1])];
    const targets = [new Int32Array([1, 1, 1, 1]), new Int32Array([1, 1])];
    const r = meanIoU(preds, targets, { numClasses: 2 });
    // class 1: ∩ 4 + 1 = 5, ∪ 4 + 2 = 6 → 5/6 (per-image mean would be (1 + 1/2)/2 = 3/4);
    // class 0: only predicted → 0
    expectPerClass(r.perClass, [0, 5 / 6]);
    expect(r.miou).toBeCloseTo(5 / 12, 12);
    expect(r.aAcc).toBeCloseTo(5 / 6, 12);
  });

  it('matches a confusion-matrix reference on random lists of maps with ignored pixels', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = createRng(seed);
      const C = 1 + rng.int(6);
      const n = 1 + rng.int(4);
      const preds: Int32Array[] = [];
      const targets: Int32Array[] = [];
      for (let m = 0; m < n; m++) {
        const size = 1 + rng.int(60);
        const p = new Int32Array(size);
        const t = new Int32Array(size);
        for (let i = 0; i < size; i++) {
          t[i] = rng.next() < 0.1 ? 255 : rng.int(C);
          p[i] = rng.next() < 0.05 ? 255 : rng.next() < 0.5 ? t[i] === 255 ? rng.int(C) : t[i] : rng.int(C);
        }
        preds.push(p);
        targets.push(t);
      }
      const ref = refMeanIoU(preds, targets, C, 255);
      const r = meanIoU(preds, targets, { numClasses: C });
      expectPerClass(r.perClass, ref.perClass);
      if (Number.isNaN(ref.miou)) expect(Number.isNaN(r.miou)).toBe(true);
      else expect(r.miou).toBeCloseTo(ref.miou, 12);
      expect(r.aAcc).toBeCloseTo(ref.aAcc, 12);
    }
  });

  it('accepts tensors, { data, shape }, typed and plain arrays alike; custom ignoreIndex', () => {
    const p = [0, 1, 2, 1, 0, 2];
    const t = [0, 1, 1, 1, 2, 0];
    const want = meanIoU(p, t, { numClasses: 3 });
    const pt = tf.tensor2d(p, [2, 3], 'int32');
    const tt = tf.tensor2d(t, [2, 3], 'float32');
    for (const [a, b] of [
      [pt, tt],
      [{ data: new Uint8Array(p), shape: [2, 3] }, { data: new Float64Array(t), shape: [2, 3] }],
      [new Int32Array(p), new Uint8Array(t)],
    ] as const) {
      const r = meanIoU(a, b, { numClasses: 3 });
      expect([...r.perClass]).toEqual([...want.perClass]);
      expect(r.aAcc).toBe(want.aAcc);
    }
    // ignoreIndex 0: target pixels labelled 0 leave everything (class 0 then only counts predictions)
    const r0 = meanIoU(p, t, { numClasses: 3, ignoreIndex: 0 });
    const ref0 = refMeanIoU([p], [t], 3, 0);
    expectPerClass(r0.perClass, ref0.perClass);
    expect(r0.aAcc).toBeCloseTo(ref0.aAcc, 12);
    // ignoreIndex −1 (nothing ignored)
    const rm = meanIoU([0, 1], [0, -1], { numClasses: 2, ignoreIndex: -1 });
    expect(rm.aAcc).toBe(1);
    tf.dispose([pt, tt]);
  });

  it('an all-ignored target gives NaN mIoU and aAcc', () => {
    const r = meanIoU([1, 0], [255, 255], { numClasses: 2 });
    expect(Number.isNaN(r.miou)).toBe(true);
    expect(Number.isNaN(r.aAcc)).toBe(true);
  });

  it('rejects labels out of range, shape mismatches and bad options, naming the value', () => {
    expect(() => meanIoU([0, 1], [0, 7], { numClasses: 3 })).toThrow(ValueError);
    expect(() => meanIoU([0, 1], [0, 7], { numClasses: 3 })).toThrow(/meanIoU: target has label 7 at pixel 1; labels must be integers in \[0, 3\) or the ignoreIndex 255/);
    expect(() => meanIoU([[0, 1], [0, -2]], [[0, 1], [0, 1]], { numClasses: 3 })).toThrow(/pred\[1\] has label -2 at pixel 1/);
    expect(() => meanIoU([0, 1.5], [0, 1], { numClasses: 3 })).toThrow(/pred has label 1.5/);
    expect(() => meanIoU({ data: [0, 1, 0, 1], shape: [2, 2] }, { data: [0, 1, 0, 1], shape: [4] }, { numClasses: 2 })).toThrow(ShapeError);
    expect(() => meanIoU({ data: [0, 1, 0, 1], shape: [2, 2] }, { data: [0, 1, 0, 1], shape: [4] }, { numClasses: 2 })).toThrow(
      /pred must have the shape of target \[4\], got \[2, 2\]/,
    );
    expect(() => meanIoU([[0]], [0], { numClasses: 2 })).toThrow(/both be one label map or both be lists/);
    expect(() => meanIoU([[0], [1]], [[0]], { numClasses: 2 })).toThrow(/same number of maps, got 2 and 1/);
    expect(() => meanIoU([0], [0], { numClasses: 0 })).toThrow(/numClasses must be an integer >= 1/);
    expect(() => meanIoU([0], [0], { numClasses: 2, ignoreIndex: 0.5 })).toThrow(/ignoreIndex must be an integer/);
  });
});
