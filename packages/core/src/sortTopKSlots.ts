/**
 * Orders unsorted top-k slots as `tf.topk(·, k, true)` does: for each of `n` groups of `k` slots
 * (`values[g·k + s]`, `rows[g·k + s]`), values descending and equal values by ascending row. The
 * last step of a streaming top-k (`@mmc/eval`'s k-NN on the host, `@mmc/kernels`' `MmcDotTopK`).
 *
 * @param values `[n·k]` slot values
 * @param rows `[n·k]` slot row indices
 * @returns new `[n·k]` arrays, each group sorted
 * @example
 * ```ts
 * sortTopKSlots(Float32Array.of(1, 3, 3), Int32Array.of(0, 5, 2), 1, 3); // values 3, 3, 1; indices 2, 5, 0
 * ```
 */
export function sortTopKSlots(values: Float32Array, rows: Int32Array, n: number, k: number): { values: Float32Array; indices: Int32Array } {
  const outValues = new Float32Array(n * k);
  const indices = new Int32Array(n * k);
  const order = Array.from({ length: k }, (_, i) => i);
  for (let g = 0; g < n; g++) {
    const o = g * k;
    order.sort((a, b) => values[o + b] - values[o + a] || rows[o + a] - rows[o + b]);
    for (let s = 0; s < k; s++) {
      outValues[o + s] = values[o + order[s]];
      indices[o + s] = rows[o + order[s]];
    }
  }
  return { values: outValues, indices };
}
