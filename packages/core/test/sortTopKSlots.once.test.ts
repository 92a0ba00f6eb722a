import { describe, expect, it } from 'vitest';
import { sortTopKSlots } from '@mmc/core';

describe('sortTopKSlots', () => {
  it('sorts each group by value descending, equal values by ascending row, and leaves the inputs alone', () => {
    const values = Float32Array.of(1, 3, 3, -2, /* group 2 */ 0, 0, 5, -Infinity);
    const rows = Int32Array.of(0, 5, 2, 9, /* group 2 */ 7, 4, 1, 8);
    const out = sortTopKSlots(values, rows, 2, 4);
    expect(Array.from(out.values)).toEqual([3, 3, 1, -2, 5, 0, 0, -Infinity]);
    expect(Array.from(out.indices)).toEqual([2, 5, 0, 9, 1, 4, 7, 8]);
    expect(Array.from(rows)).toEqual([0, 5, 2, 9, 7, 4, 1, 8]);
  });
});
