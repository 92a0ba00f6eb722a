import { ValueError, assertFinite, assertInRange, assertInteger, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { roundHalfEvenFloat } from './roundHalfEven.js';

/** Options of {@link blockwiseMask}. */
export interface BlockwiseMaskOptions {
  /** Token grid height h (= H/p). */
  gridHeight: number;
  /** Token grid width w (= W/p). */
  gridWidth: number;
  /** Fraction of the h·w tokens to mask, in [0, 1): at most maskRatio·h·w are masked. */
  maskRatio: number;
  /** Smallest block area drawn (BEiT `min_num_patches` = 4; iBOT uses (min(h, w) // 3)²). */
  minPatches?: number;
  /** Smallest aspect ratio (BEiT/iBOT 0.3). */
  minAspect?: number;
  /** Largest aspect ratio; default 1/minAspect. */
  maxAspect?: number;
  /** Most newly masked tokens per block (BEiT `max_num_patches`); default no limit beyond the target. */
  maxPatches?: number;
}

/**
 * Block-wise token masking of BEiT / iBOT (Bao et al., BEiT; official
 * `microsoft/unilm beit/masking_generator.py`, `MaskingGenerator`; iBOT's `loader.py`
 * `ImageFolderMask`, pred_shape 'block'). The target is `high = maskRatio·h·w` (iBOT: no rounding).
 * While `count < high`, up to 10 attempts, each drawing in this order:
 * area = U(minPatches, min(high − count, maxPatches)) as `a + (b − a)·rng.next()` (Python's
 * `random.uniform`, also when b < a), aspect = exp(U(log minAspect, log maxAspect)),
 * bh = round(√(area·aspect)), bw = round(√(area/aspect)) (Python round, half to even); if bh < h and
 * bw < w: top = randint[0, h − bh], left = randint[0, w − bw] (inclusive, `rng.int(h − bh + 1)`),
 * and the block is applied only if 0 < newly masked ≤ high − count (so the count never exceeds
 * `high`); the first attempt that masks something ends the round; a round without progress ends
 * the loop. Hence a 1 × 1 grid (or 1-wide) is never masked (blocks must be strictly smaller than
 * the grid), and the count usually ends a little below `high`. `maskRatio = 0` gives an empty mask.
 *
 * @returns Uint8Array(gridHeight·gridWidth), row-major, 1 = masked.
 * @example
 * ```ts
 * const mask = blockwiseMask(createRng(0), { gridHeight: 14, gridWidth: 14, maskRatio: 0.4 });
 * mask.reduce((s, v) => s + v, 0); // ≤ 78, typically 70–78
 * ```
 */
export function blockwiseMask(rng: Rng, opts: BlockwiseMaskOptions): Uint8Array {
  const fn = 'blockwiseMask';
  assertRng(fn, rng);
  if (opts == null || typeof opts !== 'object') throw new ValueError(`${fn}: opts must be an object, got ${String(opts)}`);
  const { gridHeight: h, gridWidth: w, maskRatio, minPatches = 4, minAspect = 0.3 } = opts;
  assertInteger(fn, 'gridHeight', h, 1);
  assertInteger(fn, 'gridWidth', w, 1);
  assertInRange(fn, 'maskRatio', maskRatio, 0, 1, 'high');
  assertFinite(fn, 'minPatches', minPatches);
  if (minPatches < 0) throw new ValueError(`${fn}: minPatches must be >= 0, got ${minPatches}`);
  assertFinite(fn, 'minAspect', minAspect);
  if (minAspect <= 0) throw new ValueError(`${fn}: minAspect must be > 0, got ${minAspect}`);
  const maxAspect = opts.maxAspect ?? 1 / minAspect;
  assertFinite(fn, 'maxAspect', maxAspect);
  if (maxAspect < minAspect) throw new ValueError(`${fn}: maxAspect must be >= minAspect=${minAspect}, got ${maxAspect}`);
  const maxPatches = opts.maxPatches ?? Infinity;
  if (opts.maxPatches !== undefined) {
    assertFinite(fn, 'maxPatches', maxPatches);
    if (maxPatches <= 0) throw new ValueError(`${fn}: maxPatches must be > 0, got ${maxPatches}`);
  }

  const logMin = Math.log(minAspect);
  const logMax = Math.log(maxAspect);
  const high = maskRatio * h * w;
  const mask = new Uint8Array(h * w);
  let count = 0;
  while (count < high) {
    const budget = Math.min(high - count, maxPatches);
    let delta = 0;
    for (let attempt = 0; attempt < 10 && delta === 0; attempt++) {
      const area = minPatches + (budget - minPatches) * rng.next();
      const aspect = Math.exp(logMin + (logMax - logMin) * rng.next());
      const bh = roundHalfEvenFloat(Math.sqrt(area * aspect));
      const bw = roundHalfEvenFloat(Math.sqrt(area / aspect));
      if (bw >= w || bh >= h) continue;
      const top = rng.int(h - bh + 1);
      const left = rng.int(w - bw + 1);
      let already = 0;
      for (let i = top; i < top + bh; i++) for (let j = left; j < left + bw; j++) already += mask[i * w + j];
      const fresh = bh * bw - already;
      if (fresh > 0 && fresh <= budget) {
        for (let i = top; i < top + bh; i++) {
          for (let j = left; j < left + bw; j++) {
            if (mask[i * w + j] === 0) {
              mask[i * w + j] = 1;
              delta++;
            }
          }
        }
      }
    }
    if (delta === 0) break;
    count += delta;
  }
  return mask;
}
