import { describe, expect, it } from 'vitest';
import { ValueError, createRng } from '@mmc/core';
import { blockwiseMask } from '@mmc/masking';
import { refBlockwise } from './reference.js';

const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

describe('blockwiseMask', () => {
  it('equals the BEiT/iBOT MaskingGenerator reference draw for draw', () => {
    const configs = [
      { h: 14, w: 14, r: 0.4 },
      { h: 14, w: 14, r: 0.3, minPatches: 16 }, // iBOT's low = (14 // 3)²
      { h: 8, w: 12, r: 0.5, minAspect: 0.5 },
      { h: 7, w: 7, r: 0.75, maxPatches: 6 },
      { h: 2, w: 2, r: 0.5 },
      { h: 16, w: 16, r: 0.1, minPatches: 0, minAspect: 0.2, maxAspect: 2 },
    ];
    for (const c of configs) {
      for (const seed of [0, 1, 2, 3]) {
        const got = blockwiseMask(createRng(seed), {
          gridHeight: c.h,
          gridWidth: c.w,
          maskRatio: c.r,
          minPatches: c.minPatches,
          minAspect: c.minAspect,
          maxAspect: c.maxAspect,
          maxPatches: c.maxPatches,
        });
        const minAspect = c.minAspect ?? 0.3;
        const ref = refBlockwise(createRng(seed), c.h, c.w, c.r, c.minPatches ?? 4, minAspect, c.maxAspect ?? 1 / minAspect, c.maxPatches ?? Infinity);
        expect(Array.from(got)).toEqual(Array.from(ref));
      }
    }
  });

  it('1,000 draws on 14×14: never above maskRatio·N, usually close to it', () => {
    const rng = createRng(31);
    const high = 0.4 * 196; // 78.4
    let mean = 0;
    let min = Infinity;
    let over = 0;
    for (let t = 0; t < 1000; t++) {
      const n = sum(blockwiseMask(rng, { gridHeight: 14, gridWidth: 14, maskRatio: 0.4 }));
      if (n > high) over++;
      mean += n / 1000;
      min = Math.min(min, n);
    }
    expect(over).toBe(0);
    expect(mean).toBeGreaterThan(0.9 * high);
    expect(min).toBeGreaterThan(0);
  });

  it('masks blocks, not scattered tokens: almost every masked token has a masked 4-neighbour', () => {
    let isolated = 0;
    let masked = 0;
    for (let s = 0; s < 50; s++) {
      const m = blockwiseMask(createRng(s), { gridHeight: 14, gridWidth: 14, maskRatio: 0.4 });
      masked += sum(m);
      for (let i = 0; i < 14; i++) {
        for (let j = 0; j < 14; j++) {
          if (!m[i * 14 + j]) continue;
          const nb = (i > 0 && m[(i - 1) * 14 + j]) || (i < 13 && m[(i + 1) * 14 + j]) || (j > 0 && m[i * 14 + j - 1]) || (j < 13 && m[i * 14 + j + 1]);
          if (!nb) isolated++;
        }
      }
    }
    // lone tokens only come from the last, small blocks (budget below minPatches) or overlaps;
    // a uniformly random 40 % mask would leave about 0.6⁴ ≈ 13 % of its tokens isolated
    expect(isolated / masked).toBeLessThan(0.02);
  });

  it('edge cases: maskRatio 0 and 1×1 / 1×n grids give empty masks', () => {
    expect(sum(blockwiseMask(createRng(0), { gridHeight: 14, gridWidth: 14, maskRatio: 0 }))).toBe(0);
    expect(Array.from(blockwiseMask(createRng(0), { gridHeight: 1, gridWidth: 1, maskRatio: 0.5 }))).toEqual([0]);
    expect(sum(blockwiseMask(createRng(0), { gridHeight: 1, gridWidth: 9, maskRatio: 0.5 }))).toBe(0);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const o = { gridHeight: 14, gridWidth: 14, maskRatio: 0.4 };
    expect(Array.from(blockwiseMask(createRng(4), o))).toEqual(Array.from(blockwiseMask(createRng(4), o)));
    expect(Array.from(blockwiseMask(createRng(4), o))).not.toEqual(Array.from(blockwiseMask(createRng(5), o)));
  });

  it('validates its arguments with typed errors naming them', () => {
    const rng = createRng(0);
    const base = { gridHeight: 14, gridWidth: 14, maskRatio: 0.4 };
    const cases: [object, RegExp][] = [
      [{ ...base, gridHeight: 0 }, /gridHeight must be an integer >= 1, got 0/],
      [{ ...base, gridWidth: 2.5 }, /gridWidth.*2\.5/],
      [{ ...base, maskRatio: 1 }, /maskRatio must be in \[0, 1\), got 1/],
      [{ ...base, maskRatio: NaN }, /maskRatio.*NaN/],
      [{ ...base, minPatches: -1 }, /minPatches must be >= 0, got -1/],
      [{ ...base, minAspect: 0 }, /minAspect must be > 0, got 0/],
      [{ ...base, minAspect: 0.5, maxAspect: 0.4 }, /maxAspect must be >= minAspect=0.5, got 0.4/],
      [{ ...base, maxPatches: 0 }, /maxPatches must be > 0, got 0/],
    ];
    for (const [o, re] of cases) {
      const f = () => blockwiseMask(rng, o as never);
      expect(f).toThrow(ValueError);
      expect(f).toThrow(/^blockwiseMask: /);
      expect(f).toThrow(re);
    }
    expect(() => blockwiseMask({} as never, base)).toThrow(/blockwiseMask: rng must be an Rng/);
  });
});
