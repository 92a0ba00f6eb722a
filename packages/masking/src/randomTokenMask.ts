import type { Rng } from '@mmc/core';
import { drawRandomTokenMask, type RandomTokenMaskOptions } from './randomTokenMaskIndices.js';

/**
 * MAE random token masking (He et al. 2022; official `facebookresearch/mae models_mae.py`,
 * `random_masking`): exactly L − int(L·(1 − maskRatio)) of the L tokens are masked (147 of 196 at
 * 0.75), a uniformly random subset: the tokens with the largest of L i.i.d. `rng.next()` noises.
 * Use {@link randomTokenMaskIndices} for MAE's `ids_keep` / `ids_restore` (same draws, same mask).
 *
 * @returns Uint8Array(numTokens), 1 = masked.
 * @example
 * ```ts
 * const mask = randomTokenMask(createRng(0), { numTokens: 196, maskRatio: 0.75 });
 * mask.reduce((s, v) => s + v, 0); // 147
 * ```
 */
export function randomTokenMask(rng: Rng, opts: RandomTokenMaskOptions): Uint8Array {
  return drawRandomTokenMask('randomTokenMask', rng, opts).mask;
}
