import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { patchLabels } from '@mmc/eval';

describe('patchLabels', () => {
  // A 4×6 map, patch 2 → a 2×3 grid; each patch's four pixels written out by hand.
  const map = [
    0, 0, 3, 3, 1, 2,
    0, 1, 3, 0, 2, 1,
    5, 5, 0, 0, 4, 4,
    5, 2, 0, 7, 4, 0,
  ];

  it('labels each patch with its majority non-background label when it covers minPurity', () => {
    // patches: [0,0,0,1] → bg majority → −1; [3,3,3,0] → 3 (3/4); [1,2,2,1] → tie 1 vs 2, 1 met first, 2/4;
    //          [5,5,5,2] → 5; [0,0,0,7] → −1; [4,4,4,0] → 4
    expect(Array.from(patchLabels(map, [4, 6], { patchSize: 2 }))).toEqual([-1, 3, 1, 5, -1, 4]);
    // purity 0.75: the 2-of-4 patch drops out
    expect(Array.from(patchLabels(map, [4, 6], { patchSize: 2, minPurity: 0.75 }))).toEqual([-1, 3, -1, 5, -1, 4]);
    // another background value: 0 becomes a label, 5 the background
    expect(Array.from(patchLabels(map, [4, 6], { patchSize: 2, background: 5 }))).toEqual([0, 3, 1, -1, 0, 4]);
    // patch 1: every pixel is its own patch
    expect(Array.from(patchLabels(map, [4, 6], { patchSize: 1 }))).toEqual(map.map((v) => (v === 0 ? -1 : v)));
  });

  it('names the argument on bad input', () => {
    expect(() => patchLabels(map, [4, 6], { patchSize: 4 })).toThrow(ShapeError);
    expect(() => patchLabels(map, [4, 6], { patchSize: 4 })).toThrow(/multiples of patchSize 4/);
    expect(() => patchLabels(map.slice(1), [4, 6], { patchSize: 2 })).toThrow(/labelMap must have H·W = 24 values/);
    expect(() => patchLabels(map, [4, 6], { patchSize: 0 })).toThrow(/patchSize/);
    expect(() => patchLabels(map, [4, 6], { patchSize: 2, minPurity: 1.5 })).toThrow(/minPurity/);
    expect(() => patchLabels(null as never, [4, 6], { patchSize: 2 })).toThrow(ValueError);
  });
});
