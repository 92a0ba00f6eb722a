import { describe, expect, it } from 'vitest';
import { ValueError } from '@mmc/core';
import { SCENE_CLASSES, scenes, type SceneDataset } from '@mmc/data';
import { paintViolation, sceneViolation } from './sceneChecks.js';

const rules = (S: number) => ({ minArea: Math.max(8, Math.round(0.005 * S * S)), keepFraction: 0.4 });

function sameBytes(a: SceneDataset, b: SceneDataset): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>) => x.length === y.length && Array.prototype.every.call(x, (v: number, i: number) => Object.is(v, y[i]));
  return eq(a.images, b.images) && eq(a.classMasks, b.classMasks) && eq(a.instanceMasks, b.instanceMasks) && JSON.stringify(a.objects) === JSON.stringify(b.objects);
}

/** Per object: mean colour of its visible pixels, and its class. */
function objectMeans(ds: SceneDataset): { x: number[]; y: number }[] {
  const S = ds.imageSize;
  const P = S * S;
  const out: { x: number[]; y: number }[] = [];
  for (let n = 0; n < ds.count; n++) {
    const sums = ds.objects[n].map(() => [0, 0, 0, 0]);
    for (let p = 0; p < P; p++) {
      const id = ds.instanceMasks[n * P + p];
      if (id === 0) continue;
      for (let c = 0; c < 3; c++) sums[id - 1][c] += ds.images[(n * P + p) * 3 + c];
      sums[id - 1][3]++;
    }
    ds.objects[n].forEach((o, j) => out.push({ x: sums[j].slice(0, 3).map((v) => v / sums[j][3]), y: o.classId }));
  }
  return out;
}

/**
 * Per object, a rotation-tolerant texture statistic: over horizontally and vertically adjacent
 * pixel pairs inside the object, [fraction of pairs whose colour jumps by > 0.12, mean jump
 * relative to the object's largest jump]. Stripes/checker/grid/noise/waves/dots differ in how
 * often and how smoothly the colour changes.
 */
function objectTexture(ds: SceneDataset): { x: number[]; y: number }[] {
  const S = ds.imageSize;
  const P = S * S;
  const out: { x: number[]; y: number }[] = [];
  for (let n = 0; n < ds.count; n++) {
    const k = ds.objects[n].length;
    const pairs = new Array(k).fill(0);
    const jumps = new Array(k).fill(0);
    const sum = new Array(k).fill(0);
    const max = new Array(k).fill(1e-9);
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const p = n * P + r * S + c;
        const id = ds.instanceMasks[p];
        if (id === 0) continue;
        for (const q of [c + 1 < S ? p + 1 : -1, r + 1 < S ? p + S : -1]) {
          if (q < 0 || ds.instanceMasks[q] !== id) continue;
          let d = 0;
          for (let ch = 0; ch < 3; ch++) d += Math.abs(ds.images[p * 3 + ch] - ds.images[q * 3 + ch]);
          pairs[id - 1]++;
          if (d > 0.12) jumps[id - 1]++;
          sum[id - 1] += d;
          max[id - 1] = Math.max(max[id - 1], d);
        }
      }
    }
    ds.objects[n].forEach((o, j) => {
      if (pairs[j] > 0) out.push({ x: [jumps[j] / pairs[j], sum[j] / pairs[j] / max[j]], y: o.classId });
    });
  }
  return out;
}

/** Nearest-centroid classifier: fit on `train`, accuracy on `test` (features z-scored on train). */
function nearestCentroidAccuracy(train: { x: number[]; y: number }[], test: { x: number[]; y: number }[], classes: number): number {
  const d = train[0].x.length;
  const mean = new Array(d).fill(0);
  const sd = new Array(d).fill(0);
  for (const s of train) s.x.forEach((v, i) => (mean[i] += v / train.length));
  for (const s of train) s.x.forEach((v, i) => (sd[i] += (v - mean[i]) ** 2 / train.length));
  const z = (x: number[]) => x.map((v, i) => (v - mean[i]) / Math.sqrt(sd[i] + 1e-12));
  const cent = Array.from({ length: classes + 1 }, () => ({ s: new Array(d).fill(0), n: 0 }));
  for (const s of train) {
    const zx = z(s.x);
    zx.forEach((v, i) => (cent[s.y].s[i] += v));
    cent[s.y].n++;
  }
  let correct = 0;
  for (const s of test) {
    const zx = z(s.x);
    let best = -1;
    let bestD = Infinity;
    for (let c = 1; c <= classes; c++) {
      if (cent[c].n === 0) continue;
      const dist = zx.reduce((acc, v, i) => acc + (v - cent[c].s[i] / cent[c].n) ** 2, 0);
      if (dist < bestD) {
        bestD = dist;
        best = c;
      }
    }
    if (best === s.y) correct++;
  }
  return correct / test.length;
}

describe('scenes', () => {
  it('is deterministic per seed; different seeds differ; a smaller count is a prefix', () => {
    const a = scenes({ count: 12, seed: 3 });
    const b = scenes({ count: 12, seed: 3 });
    expect(sameBytes(a, b)).toBe(true);
    const c = scenes({ count: 12, seed: 4 });
    expect(sameBytes(a, c)).toBe(false);
    let differing = 0;
    for (let i = 0; i < a.images.length; i++) if (a.images[i] !== c.images[i]) differing++;
    expect(differing).toBeGreaterThan(0.5 * a.images.length);
    const prefix = scenes({ count: 5, seed: 3 });
    expect(sameBytes(prefix, scenes({ count: 5, seed: 3 }))).toBe(true);
    expect(Array.from(prefix.images)).toEqual(Array.from(a.images.subarray(0, 5 * 64 * 64 * 3)));
    expect(prefix.objects).toEqual(a.objects.slice(0, 5));
    // negative and large seeds are fine and distinct
    const neg = scenes({ count: 2, seed: -1 });
    const big = scenes({ count: 2, seed: 2 ** 40 + 3 });
    expect(sameBytes(neg, big)).toBe(false);
  });

  it('masks, objects, centres and bboxes agree with each other (several seeds and sizes)', () => {
    for (const [S, seed, range, classes] of [
      [64, 0, [1, 4], 6],
      [32, 1, [1, 4], 6],
      [16, 2, [1, 2], 3],
      [48, 3, [0, 3], 8],
      [64, 4, [4, 4], 8],
      [96, 5, [2, 6], 1],
    ] as [number, number, [number, number], number][]) {
      const ds = scenes({ count: 40, imageSize: S, seed, objects: range, classes });
      expect(ds.imageSize).toBe(S);
      expect(ds.numClasses).toBe(classes);
      expect(sceneViolation(ds, { ...rules(S), range })).toBeNull();
    }
  });

  it('draws object counts over the whole [min, max] range', () => {
    const ds = scenes({ count: 200, seed: 11 });
    const counts = new Set(ds.objects.map((o) => o.length));
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
    expect(scenes({ count: 30, seed: 2, objects: 3 }).objects.every((o) => o.length === 3)).toBe(true);
  });

  it('every pixel shows what the masks say (flat background, no noise)', () => {
    for (const seed of [0, 1, 2]) {
      const noisy = scenes({ count: 30, seed, imageSize: 48 });
      const clean = scenes({ count: 30, seed, imageSize: 48, background: 'flat', noise: 0 });
      // background and noise never change the geometry, classes or colours
      expect(Array.from(clean.classMasks)).toEqual(Array.from(noisy.classMasks));
      expect(Array.from(clean.instanceMasks)).toEqual(Array.from(noisy.instanceMasks));
      expect(clean.objects).toEqual(noisy.objects);
      expect(paintViolation(clean)).toBeNull();
    }
  });

  it('adds per-pixel noise of the requested standard deviation', () => {
    for (const noise of [0.02, 0.05]) {
      const a = scenes({ count: 20, seed: 9, noise });
      const b = scenes({ count: 20, seed: 9, noise: 0 });
      let n = 0;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < a.images.length; i++) {
        if (b.images[i] < 0.2 || b.images[i] > 0.8) continue; // away from the clamp
        const d = a.images[i] - b.images[i];
        n++;
        s += d;
        s2 += d * d;
      }
      const mean = s / n;
      const std = Math.sqrt(s2 / n - mean * mean);
      expect(Math.abs(mean)).toBeLessThan(0.002);
      expect(std).toBeGreaterThan(0.95 * noise);
      expect(std).toBeLessThan(1.05 * noise);
    }
  });

  it('every class appears in 200 scenes, and class frequencies are roughly uniform', () => {
    for (const classes of [6, 8]) {
      const ds = scenes({ count: 200, seed: 5, classes });
      const freq = new Array(classes + 1).fill(0);
      for (const objs of ds.objects) for (const o of objs) freq[o.classId]++;
      const total = freq.reduce((a, b) => a + b, 0);
      for (let c = 1; c <= classes; c++) {
        expect(freq[c]).toBeGreaterThan(0.5 * (total / classes));
        expect(freq[c]).toBeLessThan(1.5 * (total / classes));
      }
      expect(ds.classNames).toEqual(['background', ...SCENE_CLASSES.slice(0, classes).map((c) => c.name)]);
    }
    expect(SCENE_CLASSES.map((c) => c.name)).toEqual([
      'disc/stripes', 'square/checker', 'triangle/dots', 'ring/noise', 'cross/waves', 'star/grid', 'hexagon/zigzag', 'crescent/concentric',
    ]);
  });

  it('colour alone does not identify the class; a texture statistic does better', () => {
    const train = scenes({ count: 300, seed: 21 });
    const test = scenes({ count: 300, seed: 22 });
    const colourAcc = nearestCentroidAccuracy(objectMeans(train), objectMeans(test), 6);
    const textureAcc = nearestCentroidAccuracy(objectTexture(train), objectTexture(test), 6);
    // chance is 1/6 ≈ 0.17
    expect(colourAcc).toBeLessThan(0.35);
    expect(textureAcc).toBeGreaterThan(0.4);
    expect(textureAcc).toBeGreaterThan(colourAcc + 0.2);
    // every class uses many palette colours: the dominant colour of a class covers < 30 % of it
    const byClass = new Map<number, Map<string, number>>();
    for (const objs of train.objects) {
      for (const o of objs) {
        const key = o.colors[0].map((v) => Math.round(v * 4)).join(',');
        const m = byClass.get(o.classId) ?? new Map<string, number>();
        m.set(key, (m.get(key) ?? 0) + 1);
        byClass.set(o.classId, m);
      }
    }
    for (const m of byClass.values()) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      expect(Math.max(...m.values()) / total).toBeLessThan(0.3);
    }
  });

  it('varies object size, position and rotation', () => {
    const ds = scenes({ count: 100, seed: 8 });
    const areas = ds.objects.flat().map((o) => o.fullArea);
    expect(Math.max(...areas) / Math.min(...areas)).toBeGreaterThan(3);
    const rows = ds.objects.flat().map((o) => o.centerRow);
    const cols = ds.objects.flat().map((o) => o.centerCol);
    expect(Math.min(...rows)).toBeLessThan(12);
    expect(Math.max(...rows)).toBeGreaterThan(52);
    expect(Math.min(...cols)).toBeLessThan(12);
    expect(Math.max(...cols)).toBeGreaterThan(52);
    // squares at different rotations have different bounding-box fill ratios
    const squares = ds.objects.flat().filter((o) => o.classId === 2 && o.area === o.fullArea && o.bbox.top > 0 && o.bbox.left > 0);
    const fill = squares.map((o) => o.area / (o.bbox.height * o.bbox.width));
    expect(Math.max(...fill) - Math.min(...fill)).toBeGreaterThan(0.2);
  });

  it('batch gathers images, masks and objects in the given order', () => {
    const ds = scenes({ count: 6, imageSize: 32, seed: 1 });
    const b = ds.batch([4, 0, 4]);
    const P = 32 * 32;
    expect(b.shape).toEqual([3, 32, 32, 3]);
    expect(b.indices).toEqual([4, 0, 4]);
    [4, 0, 4].forEach((i, k) => {
      expect(Array.from(b.images.subarray(k * P * 3, (k + 1) * P * 3))).toEqual(Array.from(ds.images.subarray(i * P * 3, (i + 1) * P * 3)));
      expect(Array.from(b.classMasks.subarray(k * P, (k + 1) * P))).toEqual(Array.from(ds.classMasks.subarray(i * P, (i + 1) * P)));
      expect(Array.from(b.instanceMasks.subarray(k * P, (k + 1) * P))).toEqual(Array.from(ds.instanceMasks.subarray(i * P, (i + 1) * P)));
      expect(b.objects[k]).toBe(ds.objects[i]);
    });
    expect(ds.batch([]).shape).toEqual([0, 32, 32, 3]);
    expect(() => ds.batch([6])).toThrow(ValueError);
    expect(() => ds.batch([0, 1.5])).toThrow(/indices\[1\]/);
    expect(() => ds.batch(null as never)).toThrow(/indices/);
  });

  it('rejects bad options with a ValueError naming the argument', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ count: 0 }, /count/],
      [{ count: 1.5 }, /count/],
      [{ count: 2, imageSize: 8 }, /imageSize/],
      [{ count: 2, objects: [3, 1] }, /objects/],
      [{ count: 2, objects: [-1, 2] }, /objects/],
      [{ count: 2, objects: 'many' }, /objects/],
      [{ count: 2, classes: 9 }, /classes/],
      [{ count: 2, classes: 0 }, /classes/],
      [{ count: 2, seed: 0.5 }, /seed/],
      [{ count: 2, background: 'plaid' }, /background/],
      [{ count: 2, noise: -0.1 }, /noise/],
      [{ count: 2, sizeRange: [0.3, 0.2] }, /sizeRange/],
      [{ count: 2, sizeRange: [0, 0.2] }, /sizeRange\[0\]/],
    ];
    for (const [opts, re] of bad) {
      expect(() => scenes(opts as never), JSON.stringify(opts)).toThrow(ValueError);
      expect(() => scenes(opts as never), JSON.stringify(opts)).toThrow(re);
    }
    expect(() => scenes(undefined as never)).toThrow(ValueError);
  });
});
