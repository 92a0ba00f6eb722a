import { assertInRange, assertInteger, ShapeError, ValueError, describe } from '@mmc/core';

/**
 * Per-patch labels from a pixel label map, as the similarity distributions of the paper (§Similarity
 * Distribution) need them: patch (r, c) of a `patchSize` grid gets the most frequent label of its
 * `patchSize²` pixels when that label is not `background` and covers at least `minPurity` of them;
 * every other patch gets −1 (unlabelled, which `similarityDistributions` leaves out). Ties go to the
 * label met first in row-major pixel order.
 *
 * @param labelMap `[H, W]` integer labels, row-major (`H`, `W` multiples of `patchSize`)
 * @param shape `[H, W]`
 * @param options `{ patchSize, minPurity = 0.5, background = 0 }`
 * @returns `Int32Array` of `(H / patchSize)·(W / patchSize)` labels, row-major over the patch grid
 * @example
 * ```ts
 * const labels = patchLabels(scene.classMasks.subarray(0, 64 * 64), [64, 64], { patchSize: 8 }); // 64 labels
 * ```
 */
export function patchLabels(
  labelMap: ArrayLike<number>,
  shape: [number, number],
  options: { patchSize: number; minPurity?: number; background?: number },
): Int32Array {
  const fn = 'patchLabels';
  if (labelMap == null || typeof labelMap.length !== 'number') throw new ValueError(`${fn}: labelMap must be an array of integer labels, got ${describe(labelMap)}`);
  if (!Array.isArray(shape) || shape.length !== 2) throw new ValueError(`${fn}: shape must be [H, W], got ${describe(shape)}`);
  const { patchSize: p, minPurity = 0.5, background = 0 } = options ?? ({} as { patchSize: number });
  assertInteger(fn, 'options.patchSize', p, 1);
  assertInRange(fn, 'options.minPurity', minPurity, 0, 1, 'none');
  const [H, W] = shape;
  assertInteger(fn, 'shape[0]', H, 1);
  assertInteger(fn, 'shape[1]', W, 1);
  if (H % p !== 0 || W % p !== 0) throw new ShapeError(`${fn}: shape [${H}, ${W}] must be multiples of patchSize ${p}`);
  if (labelMap.length !== H * W) throw new ShapeError(`${fn}: labelMap must have H·W = ${H * W} values for shape [${H}, ${W}], got ${labelMap.length}`);
  const h = H / p;
  const w = W / p;
  const out = new Int32Array(h * w).fill(-1);
  const counts = new Map<number, number>();
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      counts.clear();
      for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
        const k = labelMap[(r * p + i) * W + c * p + j];
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      let best = background;
      let bestCount = -1;
      for (const [k, n] of counts) if (n > bestCount) [best, bestCount] = [k, n];
      if (best !== background && bestCount >= minPurity * p * p) out[r * w + c] = best;
    }
  }
  return out;
}
