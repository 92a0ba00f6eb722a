import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ValueError } from '@mmc/core';
import { FASHION_MNIST_CLASSES, fashionMnist, fashionScenes, type FashionMnist, type SceneDataset } from '@mmc/data';
import { paintViolation, sceneViolation } from './sceneChecks.js';

const REAL_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * A synthetic source: item i (label i mod 10) is a filled rectangle of grey 255 whose size
 * depends on the label, with a grey-100 border, on a 0 background.
 */
function fakeSource(n = 30): FashionMnist {
  const rows = 28;
  const cols = 28;
  const images = new Uint8Array(n * rows * cols);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    const half = 5 + (i % 10);
    for (let r = 14 - half; r < 14 + half; r++) {
      for (let c = 14 - half; c < 14 + half; c++) {
        const edge = r === 14 - half || c === 14 - half || r === 13 + half || c === 13 + half;
        images[i * 784 + r * cols + c] = edge ? 100 : 255;
      }
    }
  }
  return { images, labels, count: n, rows, cols, classNames: [...FASHION_MNIST_CLASSES] };
}

const rules = (S: number) => ({ minArea: Math.max(8, Math.round(0.005 * S * S)), keepFraction: 0.4 });

function labelsMatch(ds: SceneDataset, source: FashionMnist): boolean {
  return ds.objects.every((objs) => objs.every((o) => o.sourceIndex !== undefined && o.classId === source.labels[o.sourceIndex] + 1));
}

describe('fashionScenes', () => {
  it('masks, objects and labels are consistent (synthetic source)', () => {
    const source = fakeSource();
    for (const [S, seed, range] of [
      [64, 0, [1, 3]],
      [32, 1, [1, 3]],
      [48, 2, [0, 4]],
    ] as [number, number, [number, number]][]) {
      const ds = fashionScenes({ count: 40, imageSize: S, seed, items: range, source });
      expect(ds.numClasses).toBe(10);
      expect(ds.classNames).toEqual(['background', ...FASHION_MNIST_CLASSES]);
      expect(sceneViolation(ds, { ...rules(S), range })).toBeNull();
      expect(labelsMatch(ds, source)).toBe(true);
    }
  });

  it('every pixel shows what the masks say (flat background, no noise)', () => {
    const source = fakeSource();
    const noisy = fashionScenes({ count: 30, seed: 4, source });
    const clean = fashionScenes({ count: 30, seed: 4, source, background: 'flat', noise: 0 });
    expect(Array.from(clean.instanceMasks)).toEqual(Array.from(noisy.instanceMasks));
    expect(clean.objects).toEqual(noisy.objects);
    expect(paintViolation(clean)).toBeNull();
    // colors = [tint, 0.25·tint]: pixel = tint·(0.25 + 0.75·grey)
    for (const objs of clean.objects) for (const o of objs) expect(o.colors[1]).toEqual(o.colors[0].map((v) => v * 0.25));
  });

  it('pastes only foreground: the mask follows the threshold', () => {
    const source = fakeSource();
    // border pixels are grey 100 (0.39): kept at threshold 0.1, dropped at 0.5 → smaller masks
    const low = fashionScenes({ count: 20, seed: 3, source, threshold: 0.1, items: 1 });
    const high = fashionScenes({ count: 20, seed: 3, source, threshold: 0.5, items: 1 });
    let lowArea = 0;
    let highArea = 0;
    for (let n = 0; n < 20; n++) {
      lowArea += low.objects[n][0].fullArea;
      highArea += high.objects[n][0].fullArea;
    }
    expect(highArea).toBeLessThan(lowArea);
    // a blank item has no foreground: nothing can be pasted
    const blank = { ...source, images: new Uint8Array(source.images.length) };
    const empty = fashionScenes({ count: 3, seed: 0, source: blank });
    expect(empty.objects.every((o) => o.length === 0)).toBe(true);
    expect(empty.classMasks.every((v) => v === 0)).toBe(true);
  });

  it('is deterministic, draws from the pool only, and validates its options', () => {
    const source = fakeSource();
    const a = fashionScenes({ count: 8, seed: 5, source });
    const b = fashionScenes({ count: 8, seed: 5, source });
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    expect(a.objects).toEqual(b.objects);
    const c = fashionScenes({ count: 8, seed: 6, source });
    expect(Array.from(a.images)).not.toEqual(Array.from(c.images));
    const pooled = fashionScenes({ count: 30, seed: 1, source, pool: [3, 13] });
    const used = new Set(pooled.objects.flat().map((o) => o.sourceIndex));
    expect([...used].sort()).toEqual([13, 3].sort());
    expect(pooled.objects.flat().every((o) => o.classId === 4)).toBe(true);

    expect(() => fashionScenes({ count: 2, source: undefined as never })).toThrow(/source/);
    expect(() => fashionScenes({ count: 2, source: { ...source, labels: new Uint8Array(3) } })).toThrow(/source\.labels/);
    expect(() => fashionScenes({ count: 2, source: { ...source, images: new Uint8Array(10) } })).toThrow(/source\.images/);
    expect(() => fashionScenes({ count: 2, source, threshold: 1 })).toThrow(/threshold/);
    expect(() => fashionScenes({ count: 2, source, items: [2, 1] })).toThrow(/items/);
    expect(() => fashionScenes({ count: 2, source, pool: [30] })).toThrow(/pool\[0\]/);
    expect(() => fashionScenes({ count: 2, source, sizeRange: [0.5, 1.5] })).toThrow(/sizeRange\[1\]/);
    const badLabel = { ...source, labels: source.labels.map(() => 12) };
    expect(() => fashionScenes({ count: 2, source: badLabel })).toThrow(ValueError);
  });

  it.skipIf(!existsSync(REAL_DIR))(`pastes real Fashion-MNIST items (skipped when ${REAL_DIR} is absent)`, async () => {
    const source = await fashionMnist({ split: 'test' });
    const ds = fashionScenes({ count: 100, seed: 0, source });
    expect(sceneViolation(ds, { ...rules(64), range: [1, 3] })).toBeNull();
    expect(labelsMatch(ds, source)).toBe(true);
    const classes = new Set(ds.objects.flat().map((o) => o.classId));
    expect(classes.size).toBe(10);
  });
});
