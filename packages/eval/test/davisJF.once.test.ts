import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { davisJF } from '../src/davisJF.js';

/** A [H, W] nested label map with `id` on the rectangle rows y0…y1−1, cols x0…x1−1. */
function rect(H: number, W: number, boxes: [number, number, number, number, number][]): number[][] {
  const m = Array.from({ length: H }, () => new Array<number>(W).fill(0));
  for (const [id, y0, y1, x0, x1] of boxes) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y][x] = id;
  return m;
}

/**
 * Independent reference of DAVIS' f_measure in the numpy formulation: seg2bmap from shifted
 * copies (e, s, se, then the last-row/last-column overrides), and "matched" as "some boundary
 * pixel of the other mask within Euclidean distance r" (equivalent to a disk dilation).
 */
function refF(fg: boolean[][], gt: boolean[][], th = 0.008): number {
  const H = fg.length;
  const W = fg[0].length;
  const bmap = (seg: boolean[][]) => {
    const at = (y: number, x: number) => (y < H && x < W ? seg[y][x] : false);
    const b = seg.map((row, y) => row.map((v, x) => (v !== at(y, x + 1)) || (v !== at(y + 1, x)) || (v !== at(y + 1, x + 1))));
    for (let x = 0; x < W; x++) b[H - 1][x] = seg[H - 1][x] !== at(H - 1, x + 1);
    for (let y = 0; y < H; y++) b[y][W - 1] = seg[y][W - 1] !== at(y + 1, W - 1);
    b[H - 1][W - 1] = false;
    return b;
  };
  const r = th >= 1 ? th : Math.ceil(th * Math.hypot(H, W));
  const fb = bmap(fg);
  const gb = bmap(gt);
  const pts = (b: boolean[][]) => b.flatMap((row, y) => row.flatMap((v, x) => (v ? [[y, x]] : [])));
  const fp = pts(fb);
  const gp = pts(gb);
  const matched = (a: number[][], b: number[][]) => a.filter(([y, x]) => b.some(([yy, xx]) => (y - yy) ** 2 + (x - xx) ** 2 <= r * r)).length;
  if (fp.length === 0 && gp.length === 0) return 1;
  if (fp.length === 0 || gp.length === 0) return 0;
  const P = matched(fp, gp) / fp.length;
  const R = matched(gp, fp) / gp.length;
  return P + R === 0 ? 0 : (2 * P * R) / (P + R);
}

describe('davisJF', () => {
  it('identical masks give J = F = 1', () => {
    const g = rect(20, 30, [[1, 3, 10, 4, 12], [2, 12, 18, 15, 28]]);
    const r = davisJF([g, g, g], [g, g, g]);
    expect(r.J).toBe(1);
    expect(r.F).toBe(1);
    expect(r.JF).toBe(1);
    expect(r.perObject.map((o) => o.id)).toEqual([1, 2]);
    expect(r.frames).toEqual([1]);
  });

  it('disjoint, distant masks give J = F = 0', () => {
    const g = rect(20, 20, [[1, 1, 6, 1, 6]]);
    const p = rect(20, 20, [[1, 12, 18, 12, 18]]);
    const r = davisJF([g, p, g], [g, g, g]);
    expect(r.J).toBe(0);
    expect(r.F).toBe(0);
  });

  it('a one-pixel shift: F = 1 within the tolerance, J < 1 (hand-checked)', () => {
    // 40×40: r = ceil(0.008·√3200) = ceil(0.45) = 1 pixel. A 10×10 square shifted right by 1.
    const g = rect(40, 40, [[1, 5, 15, 5, 15]]);
    const p = rect(40, 40, [[1, 5, 15, 6, 16]]);
    const r = davisJF([g, p, g], [g, g, g]);
    expect(r.J).toBeCloseTo(90 / 110, 12);
    expect(r.F).toBe(1);
    expect(r.JF).toBeCloseTo((90 / 110 + 1) / 2, 12);
    // Shifted by 3 pixels the boundaries no longer match everywhere.
    const p3 = rect(40, 40, [[1, 5, 15, 8, 18]]);
    const r3 = davisJF([g, p3, g], [g, g, g]);
    expect(r3.J).toBeCloseTo(70 / 130, 12);
    expect(r3.F).toBeLessThan(1);
    // …but with a 3-pixel tolerance they do.
    expect(davisJF([g, p3, g], [g, g, g], { boundThreshold: 3 }).F).toBe(1);
  });

  it('hand-checked boundary map and F on a tiny image', () => {
    // 4×4, gt = the 2×2 block at rows 1–2, cols 1–2. seg2bmap marks a pixel differing from its
    // right, lower or lower-right neighbour: rows 0–2 × cols 0–2 except the block's bottom-right
    // pixel (2, 2)... i.e. (0,0) (0,1) (0,2) (1,0) (1,2) (2,0) (2,1) (2,2)? (2,2) differs from
    // (3,2), so it is a boundary; (1,1) equals its right, lower and lower-right: not one. 8 pixels.
    // pred = the same block moved down-right by one: r = ceil(0.008·√32) = 1, all matched within 1.
    const g = rect(4, 4, [[1, 1, 3, 1, 3]]);
    const p = rect(4, 4, [[1, 2, 4, 2, 4]]);
    const r = davisJF([g, p], [g, g], { frames: 'all' });
    expect(r.perObject[0].jPerFrame[1]).toBeCloseTo(1 / 7, 12);
    // pred boundary: (1,1) (1,2) (1,3) (2,1) (3,1) and (2,3)? last column compares with the lower
    // neighbour only: (2,3) = (3,3) → no; (3,1) last row: right neighbour (3,2) differs → yes;
    // (3,2): (3,3) same → no. So pred boundary = (1,1) (1,2) (1,3) (2,1) (3,1): 5 pixels, each
    // within distance 1 of a gt boundary pixel except none → P = 1; gt boundary (0,0) is at
    // distance √2 > 1 from every pred boundary pixel, the other 7 are within 1 → R = 7/8.
    const P = 1;
    const R = 7 / 8;
    expect(r.perObject[0].fPerFrame[1]).toBeCloseTo((2 * P * R) / (P + R), 12);
    expect(r.perObject[0].fPerFrame[1]).toBeCloseTo(refF(p.map((row) => row.map((v) => v === 1)), g.map((row) => row.map((v) => v === 1))), 12);
  });

  it('matches the independent boundary reference on random blobs (several sizes and seeds)', () => {
    for (const [H, W, seed] of [[9, 13, 1], [30, 24, 2], [64, 80, 3], [1, 7, 4], [6, 1, 5]] as const) {
      const rng = createRng(seed);
      const blob = () => {
        const cy = rng.next() * H;
        const cx = rng.next() * W;
        const ry = 1 + rng.next() * H * 0.4;
        const rx = 1 + rng.next() * W * 0.4;
        return Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1 ? 1 : 0)));
      };
      for (let k = 0; k < 4; k++) {
        const g = blob();
        const p = blob();
        const r = davisJF([p], [g], { frames: 'all', objectIds: [1] });
        const gb = g.map((row) => row.map((v) => v === 1));
        const pb = p.map((row) => row.map((v) => v === 1));
        expect(r.F).toBeCloseTo(refF(pb, gb), 12);
        // Larger tolerances: a disk of radius 3 (pixels) or 5 % of the diagonal.
        for (const th of [3, 0.05]) {
          expect(davisJF([p], [g], { frames: 'all', objectIds: [1], boundThreshold: th }).F).toBeCloseTo(refF(pb, gb, th), 12);
        }
        let i = 0;
        let u = 0;
        const gf = g.flat();
        const pf = p.flat();
        gf.forEach((v, idx) => {
          i += +(v === 1 && pf[idx] === 1);
          u += +(v === 1 || pf[idx] === 1);
        });
        expect(r.J).toBeCloseTo(u === 0 ? 1 : i / u, 12);
      }
    }
  });

  it('empty in both → J = F = 1; missed object → J = F = 0; spurious object → F = 0', () => {
    const g0 = rect(10, 10, [[1, 2, 5, 2, 5]]);
    const empty = rect(10, 10, []);
    // Frame 1: the object is absent in both.
    expect(davisJF([g0, empty, g0], [g0, empty, g0]).perObject[0].jPerFrame[0]).toBe(1);
    expect(davisJF([g0, empty, g0], [g0, empty, g0]).F).toBe(1);
    // Missed: predicted empty, present in gt.
    const missed = davisJF([g0, empty, g0], [g0, g0, g0]);
    expect(missed.J).toBe(0);
    expect(missed.F).toBe(0);
    // Spurious: predicted, absent in gt (P = 0, R = 1 → F = 0).
    const spurious = davisJF([g0, g0, g0], [g0, empty, g0]);
    expect(spurious.J).toBe(0);
    expect(spurious.F).toBe(0);
  });

  it("scores frames 1 … T−2 by default (DAVIS semi-supervised), 'all' or a list otherwise", () => {
    const g = rect(12, 12, [[1, 2, 8, 2, 8]]);
    const bad = rect(12, 12, [[1, 9, 11, 9, 11]]);
    // Wrong first and last frames do not count by default.
    const r = davisJF([bad, g, g, bad], [g, g, g, g]);
    expect(r.frames).toEqual([1, 2]);
    expect(r.JF).toBe(1);
    const all = davisJF([bad, g, g, bad], [g, g, g, g], { frames: 'all' });
    expect(all.frames).toEqual([0, 1, 2, 3]);
    expect(all.J).toBeCloseTo(0.5, 12);
    expect(davisJF([bad, g, g, bad], [g, g, g, g], { frames: [0] }).J).toBe(0);
  });

  it('multi-object: ids 1 … max(gt[0]); mean over frames per object, then over objects', () => {
    const g = rect(16, 16, [[1, 1, 5, 1, 5], [2, 8, 14, 8, 14]]);
    const pGood2 = rect(16, 16, [[2, 8, 14, 8, 14]]); // object 1 missed, object 2 perfect
    const r = davisJF([g, g, pGood2, g], [g, g, g, g]);
    expect(r.perObject[0].J).toBeCloseTo(0.5, 12); // frames 1 and 2: 1 and 0
    expect(r.perObject[1].J).toBe(1);
    expect(r.J).toBeCloseTo(0.75, 12);
    expect(r.perObject[0].F).toBeCloseTo(0.5, 12);
    expect(r.F).toBeCloseTo(0.75, 12);
    expect(r.JF).toBeCloseTo(0.75, 12);
    expect(r.perObject[0].JF).toBeCloseTo(0.5, 12);
  });

  it('gt void pixels (255) count as background; inputs may be tensors, { data, shape } or flat arrays', () => {
    const g = rect(10, 12, [[1, 2, 6, 2, 6]]);
    const gVoid = g.map((row, y) => row.map((v, x) => (y === 9 && x > 8 ? 255 : v)));
    const flat = Int32Array.from(g.flat());
    const t = tf.tensor2d(g, [10, 12], 'int32');
    const r = davisJF([flat, t, { data: flat, shape: [10, 12] }], [gVoid, gVoid, gVoid], { shape: [10, 12] });
    expect(r.J).toBe(1);
    expect(r.perObject.length).toBe(1);
    t.dispose();
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const g = rect(8, 8, [[1, 1, 4, 1, 4]]);
    expect(() => davisJF([g, g], [g, g, g])).toThrow(ShapeError);
    expect(() => davisJF([g, g], [g, g, g])).toThrow(/pred/);
    expect(() => davisJF([g, g], [g, g])).toThrow(/T >= 3/);
    expect(() => davisJF([g, g, g], [new Int32Array(64), g, g])).toThrow(/options.shape/);
    expect(() => davisJF([g, rect(8, 9, []), g], [g, g, g])).toThrow(/pred\[1\] must have shape \[8, 8\]/);
    expect(() => davisJF([g, g, g], [rect(8, 8, []), g, g])).toThrow(ValueError);
    expect(() => davisJF([g, g, g], [g, g, g], { frames: [5] })).toThrow(/frames/);
    expect(() => davisJF([g, g, g], [g, g, g], { boundThreshold: 0 })).toThrow(/boundThreshold/);
    expect(() => davisJF([g, g, g], [g, g, g], { objectIds: [0] })).toThrow(/objectIds/);
  });
});
