import { sortTopKSlots } from '@mmc/core';

/**
 * Top-k of every column of a row-major `[rows, cols]` matrix in one pass over memory in storage
 * order (the host-side top-k of `exactTopK` on the cpu and wasm backends, where the similarity
 * chunk is `train · queryᵀ`, one column per query). Per column a k-slot buffer and its current
 * minimum: an entry enters only if it beats that minimum, so almost every entry costs one
 * comparison. Order and ties as `tf.topk(·, k, true)` on each column: values descending, equal
 * values by ascending row, and of rows tied at the k-th value the lower ones are kept.
 * Internal (not exported from the package index).
 *
 * @param m `[rows, cols]` row-major, finite
 * @returns `[cols, k]` row-major values and row indices
 */
export function columnTopK(m: Float32Array, rows: number, cols: number, k: number): { values: Float32Array; indices: Int32Array } {
  const vals = new Float32Array(cols * k).fill(-Infinity);
  const rowsOf = new Int32Array(cols * k).fill(rows); // empty slots: below every real row in value
  const floor = new Float32Array(cols).fill(-Infinity); // value a new entry must beat, per column
  const floorSlot = new Int32Array(cols); // the slot holding it
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = m[base + c];
      if (!(v > floor[c])) continue;
      const o = c * k;
      vals[o + floorSlot[c]] = v;
      rowsOf[o + floorSlot[c]] = r;
      // New minimum; among equal values the latest row (the highest index) is evicted first.
      let min = vals[o];
      let at = 0;
      for (let s = 1; s < k; s++) {
        const x = vals[o + s];
        if (x < min || (x === min && rowsOf[o + s] > rowsOf[o + at])) {
          min = x;
          at = s;
        }
      }
      floor[c] = min;
      floorSlot[c] = at;
    }
  }
  return sortTopKSlots(vals, rowsOf, cols, k);
}
