import { ValueError, assertInRange, assertInteger, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';

/** Options of {@link randomTokenMask} and {@link randomTokenMaskIndices}. */
export interface RandomTokenMaskOptions {
  /** L: number of tokens (patches). */
  numTokens: number;
  /** Fraction to mask, in [0, 1): L − int(L·(1 − maskRatio)) tokens are masked (MAE: 0.75). */
  maskRatio: number;
}

/** Result of {@link randomTokenMaskIndices} (MAE's `random_masking` bookkeeping, one image). */
export interface RandomTokenMaskIndices {
  /** L bytes, 1 = masked (removed from the encoder input). */
  mask: Uint8Array;
  /** A random permutation of 0 … L − 1: the tokens by ascending noise (MAE `ids_shuffle`). */
  idsShuffle: Int32Array;
  /** The first int(L·(1 − maskRatio)) entries of `idsShuffle`, in that order (MAE `ids_keep`). */
  idsKeep: Int32Array;
  /** Inverse permutation of `idsShuffle` (MAE `ids_restore`): position of token i in the shuffle. */
  idsRestore: Int32Array;
}

/**
 * MAE's per-sample random masking with its index bookkeeping (He et al., "Masked Autoencoders
 * Are Scalable Vision Learners"; official `facebookresearch/mae models_mae.py`, `random_masking`):
 * noise_i = `rng.next()` for i = 0 … L − 1; `idsShuffle` = argsort(noise) (ascending, stable);
 * the first len_keep = int(L·(1 − maskRatio)) are kept, the rest masked; `idsRestore` =
 * argsort(idsShuffle). Gather the visible tokens with `idsKeep` for the encoder and unshuffle the
 * decoder tokens with `idsRestore`, as MAE does. {@link randomTokenMask} returns the same `mask`
 * from the same rng state. `maskRatio = 0` keeps everything (as MAE's code allows).
 *
 * @example
 * ```ts
 * const { mask, idsKeep, idsRestore } = randomTokenMaskIndices(createRng(0), { numTokens: 196, maskRatio: 0.75 });
 * idsKeep.length; // 49
 * ```
 */
export function randomTokenMaskIndices(rng: Rng, opts: RandomTokenMaskOptions): RandomTokenMaskIndices {
  return drawRandomTokenMask('randomTokenMaskIndices', rng, opts);
}

/** Validation and draw shared by randomTokenMask and randomTokenMaskIndices (internal). */
export function drawRandomTokenMask(fn: string, rng: Rng, opts: RandomTokenMaskOptions): RandomTokenMaskIndices {
  assertRng(fn, rng);
  if (opts == null || typeof opts !== 'object') throw new ValueError(`${fn}: opts must be an object, got ${String(opts)}`);
  const { numTokens: L, maskRatio } = opts;
  assertInteger(fn, 'numTokens', L, 1);
  assertInRange(fn, 'maskRatio', maskRatio, 0, 1, 'high');
  const lenKeep = Math.trunc(L * (1 - maskRatio)); // Python int(): same double product, truncated
  const noise = new Float64Array(L);
  for (let i = 0; i < L; i++) noise[i] = rng.next();
  // Array.prototype.sort is stable (ES2019), so equal noise keeps index order like a stable argsort.
  const order = Array.from({ length: L }, (_, i) => i).sort((x, y) => noise[x] - noise[y]);
  const idsShuffle = Int32Array.from(order);
  const idsRestore = new Int32Array(L);
  for (let j = 0; j < L; j++) idsRestore[idsShuffle[j]] = j;
  const mask = new Uint8Array(L);
  for (let i = 0; i < L; i++) mask[i] = idsRestore[i] >= lenKeep ? 1 : 0;
  return { mask, idsShuffle, idsKeep: idsShuffle.slice(0, lenKeep), idsRestore };
}
