import { describe, expect, it } from 'vitest';
import { ValueError, createRng } from '@mmc/core';
import { randomTokenMask, randomTokenMaskIndices } from '@mmc/masking';
import { refMaeMask } from './reference.js';

const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

describe('randomTokenMask / randomTokenMaskIndices', () => {
  it('masks exactly L − int(L·(1 − r)) tokens (MAE len_keep), including float truncation cases', () => {
    const cases: [number, number, number][] = [
      [196, 0.75, 147],
      [196, 0.9, 177], // 196·0.09999999999999998 = 19.59… → keep 19
      [49, 0.75, 37], // keep int(12.25) = 12
      [10, 0.7, 7], // 10·0.30000000000000004 = 3.0000000000000004 → keep 3
      [1, 0.5, 1], // keep int(0.5) = 0
      [1, 0, 0],
      [64, 0, 0],
      [7, 0.99, 7],
    ];
    for (const [L, r, masked] of cases) {
      for (const seed of [0, 1, 2]) {
        expect(sum(randomTokenMask(createRng(seed), { numTokens: L, maskRatio: r }))).toBe(masked);
      }
    }
  });

  it('equals the MAE random_masking reference (noise argsort, keep the first len_keep, unshuffle)', () => {
    for (const [L, r] of [
      [196, 0.75],
      [64, 0.5],
      [10, 0.3],
      [1, 0.5],
    ] as const) {
      for (const seed of [0, 5, 9]) {
        const ref = refMaeMask(createRng(seed), L, r);
        const got = randomTokenMaskIndices(createRng(seed), { numTokens: L, maskRatio: r });
        expect(Array.from(got.mask)).toEqual(Array.from(ref.mask));
        expect(Array.from(got.idsShuffle)).toEqual(ref.idsShuffle);
        expect(Array.from(got.idsRestore)).toEqual(ref.idsRestore);
        expect(Array.from(randomTokenMask(createRng(seed), { numTokens: L, maskRatio: r }))).toEqual(Array.from(ref.mask));
      }
    }
  });

  it('index bookkeeping is consistent: permutation, inverse, kept = unmasked', () => {
    const { mask, idsShuffle, idsKeep, idsRestore } = randomTokenMaskIndices(createRng(3), { numTokens: 50, maskRatio: 0.6 });
    expect([...idsShuffle].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (let i = 0; i < 50; i++) expect(idsShuffle[idsRestore[i]]).toBe(i);
    expect(idsKeep.length).toBe(20);
    expect(Array.from(idsKeep)).toEqual(Array.from(idsShuffle.slice(0, 20)));
    for (let i = 0; i < 50; i++) expect(mask[i]).toBe(Array.from(idsKeep).includes(i) ? 0 : 1);
  });

  it('1,000 draws: each token is masked with probability ≈ masked/L (uniform subset)', () => {
    const rng = createRng(77);
    const hits = new Array(10).fill(0);
    const pairs = new Array(100).fill(0);
    for (let t = 0; t < 1000; t++) {
      const m = randomTokenMask(rng, { numTokens: 10, maskRatio: 0.5 });
      for (let i = 0; i < 10; i++) {
        hits[i] += m[i];
        for (let j = 0; j < 10; j++) pairs[i * 10 + j] += m[i] & m[j];
      }
    }
    for (const h of hits) expect(Math.abs(h - 500)).toBeLessThan(80); // sd ≈ 16
    // P(i and j masked) = (5/10)(4/9) ≈ 0.222 for i ≠ j: sd ≈ 13 over 1000 draws
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (i !== j) expect(Math.abs(pairs[i * 10 + j] - 222)).toBeLessThan(70);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const o = { numTokens: 196, maskRatio: 0.75 };
    expect(Array.from(randomTokenMask(createRng(1), o))).toEqual(Array.from(randomTokenMask(createRng(1), o)));
    expect(Array.from(randomTokenMask(createRng(1), o))).not.toEqual(Array.from(randomTokenMask(createRng(2), o)));
  });

  it('validates its arguments with typed errors naming them', () => {
    const rng = createRng(0);
    const cases: [object, RegExp][] = [
      [{ numTokens: 0, maskRatio: 0.5 }, /numTokens must be an integer >= 1, got 0/],
      [{ numTokens: 3.5, maskRatio: 0.5 }, /numTokens.*3\.5/],
      [{ numTokens: 10, maskRatio: 1 }, /maskRatio must be in \[0, 1\), got 1/],
      [{ numTokens: 10, maskRatio: -0.1 }, /maskRatio/],
      [{ numTokens: 10, maskRatio: NaN }, /maskRatio.*NaN/],
      [{ numTokens: 10 }, /maskRatio.*undefined/],
    ];
    for (const [o, re] of cases) {
      for (const [name, f] of [
        ['randomTokenMask', () => randomTokenMask(rng, o as never)],
        ['randomTokenMaskIndices', () => randomTokenMaskIndices(rng, o as never)],
      ] as const) {
        expect(f).toThrow(ValueError);
        expect(f).toThrow(new RegExp(`^${name}: `));
        expect(f).toThrow(re);
      }
    }
    expect(() => randomTokenMask(null as never, { numTokens: 4, maskRatio: 0.5 })).toThrow(/rng must be an Rng/);
  });
});
