/**
 * Naive reference implementations for the masking tests, written directly from the official
 * Python (GMML `GMML_drop_rand_patches`, BEiT `MaskingGenerator`, MAE `random_masking`) at the
 * pixel level, with numpy/random calls mapped onto the same Rng calls. Test-only.
 */
import type { Rng } from '@mmc/core';

/** numpy `randint(lo, hi)` (hi excluded). */
export const npRandint = (rng: Rng, lo: number, hi: number): number => lo + rng.int(hi - lo);
/** numpy / Python `uniform(a, b)`. */
export const uniform = (rng: Rng, a: number, b: number): number => a + (b - a) * rng.next();

/** Python 3 round() on a double, written independently (via the fractional part's distance). */
export function pyRound(x: number): number {
  const lower = Math.floor(x);
  const upper = lower + 1;
  const dl = x - lower;
  const du = upper - x;
  if (dl < du) return lower;
  if (du < dl) return upper;
  return lower % 2 === 0 ? lower : upper;
}

export interface RefGmml {
  mask: Uint8Array; // H*W
  tokens: Uint8Array; // N
  blocks: { row: number; col: number; height: number; width: number }[];
  nDrop: number;
}

/** GMML_drop_rand_patches on a single-channel H×W mask. Throws instead of spinning forever. */
export function refGmmlMask(
  rng: Rng,
  H: number,
  W: number,
  p: number,
  maxReplace: number,
  maxBlock: number,
  align = p,
  targetRatio?: number,
): RefGmml {
  const nDrop = (targetRatio ?? uniform(rng, Math.min(0.5, maxReplace), maxReplace)) * H * W;
  const mxH = Math.trunc(H * maxBlock);
  const mxW = Math.trunc(W * maxBlock);
  const mask = new Uint8Array(H * W);
  const sum = () => mask.reduce((s, v) => s + v, 0);
  const blocks: RefGmml['blocks'] = [];
  let guard = 0;
  while (sum() < nDrop) {
    if (++guard > 100000) throw new Error('refGmmlMask: no termination');
    const r = Math.floor(npRandint(rng, 0, H - align) / align) * align;
    const c = Math.floor(npRandint(rng, 0, W - align) / align) * align;
    let h = Math.min(npRandint(rng, align, mxH), H - r);
    h = pyRound(h / align) * align;
    let w = Math.min(npRandint(rng, align, mxW), W - c);
    w = pyRound(w / align) * align;
    blocks.push({ row: r, col: c, height: h, width: w });
    for (let y = r; y < Math.min(r + h, H); y++) for (let x = c; x < Math.min(c + w, W); x++) mask[y * W + x] = 1;
  }
  const tw = W / p;
  const tokens = new Uint8Array((H / p) * tw);
  for (let t = 0; t < tokens.length; t++) {
    const ti = Math.floor(t / tw);
    const tj = t % tw;
    let n = 0;
    for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) n += mask[(ti * p + y) * W + tj * p + x];
    tokens[t] = n === p * p ? 1 : 0;
  }
  return { mask, tokens, blocks, nDrop };
}

/**
 * Reference gmmlCorrupt on host float64 images [B, H, W, C] (flat), with the documented draw
 * order: coin, donor, mask, noise per masked pixel (y, x, c).
 */
export function refGmmlCorrupt(
  rng: Rng,
  images: Float64Array,
  shape: [number, number, number, number],
  o: { patchSize: number; maskRatio: number; maxBlock: number; fill: 'noise' | 'zeros'; replaceProb: number; replaceRatio: number },
): { corrupted: Float32Array; masks: Uint8Array[]; tokens: Uint8Array[]; replacedFrom: number[] } {
  const [B, H, W, C] = shape;
  const corrupted = Float32Array.from(images);
  const masks: Uint8Array[] = [];
  const tokens: Uint8Array[] = [];
  const replacedFrom: number[] = [];
  for (let b = 0; b < B; b++) {
    const u = rng.next();
    let donor = -1;
    if (B > 1 && u < o.replaceProb) {
      const others = [];
      for (let j = 0; j < B; j++) if (j !== b) others.push(j);
      donor = others[rng.int(B - 1)];
    }
    replacedFrom.push(donor);
    const m = refGmmlMask(rng, H, W, o.patchSize, donor >= 0 ? o.replaceRatio : o.maskRatio, o.maxBlock);
    masks.push(m.mask);
    tokens.push(m.tokens);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (!m.mask[y * W + x]) continue;
        for (let c = 0; c < C; c++) {
          const at = ((b * H + y) * W + x) * C + c;
          if (donor >= 0) corrupted[at] = images[((donor * H + y) * W + x) * C + c];
          else corrupted[at] = o.fill === 'noise' ? rng.normal() : 0;
        }
      }
    }
  }
  return { corrupted, masks, tokens, replacedFrom };
}

/** MAE random_masking for one sample: noise, argsort, keep the first len_keep, unshuffle. */
export function refMaeMask(rng: Rng, L: number, ratio: number): { mask: Uint8Array; idsShuffle: number[]; idsRestore: number[] } {
  const lenKeep = Math.trunc(L * (1 - ratio));
  const noise = Array.from({ length: L }, () => rng.next());
  const pairs = noise.map((v, i) => [v, i] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const idsShuffle = pairs.map((q) => q[1]);
  const idsRestore = idsShuffle.map((_, i) => i).sort((a, b) => idsShuffle[a] - idsShuffle[b]);
  const shuffled = Array.from({ length: L }, (_, j) => (j < lenKeep ? 0 : 1));
  const mask = Uint8Array.from({ length: L }, (_, i) => shuffled[idsRestore[i]]);
  return { mask, idsShuffle, idsRestore };
}

/** BEiT MaskingGenerator with iBOT's float target, transcribed loop by loop. */
export function refBlockwise(
  rng: Rng,
  H: number,
  W: number,
  ratio: number,
  minPatches = 4,
  minAspect = 0.3,
  maxAspect = 1 / minAspect,
  maxPatches = Infinity,
): Uint8Array {
  const numMasking = ratio * H * W;
  const logAspect = [Math.log(minAspect), Math.log(maxAspect)];
  const mask: number[][] = Array.from({ length: H }, () => new Array(W).fill(0));
  const maskOnce = (maxMask: number): number => {
    let delta = 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = uniform(rng, minPatches, maxMask);
      const aspect = Math.exp(uniform(rng, logAspect[0], logAspect[1]));
      const h = pyRound(Math.sqrt(target * aspect));
      const w = pyRound(Math.sqrt(target / aspect));
      if (w < W && h < H) {
        const top = rng.int(H - h + 1); // random.randint(0, H - h), inclusive
        const left = rng.int(W - w + 1);
        let numMasked = 0;
        for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) numMasked += mask[i][j];
        if (0 < h * w - numMasked && h * w - numMasked <= maxMask) {
          for (let i = top; i < top + h; i++) {
            for (let j = left; j < left + w; j++) {
              if (mask[i][j] === 0) {
                mask[i][j] = 1;
                delta += 1;
              }
            }
          }
        }
      }
      if (delta > 0) break;
    }
    return delta;
  };
  let count = 0;
  while (count < numMasking) {
    const maxMask = Math.min(numMasking - count, maxPatches);
    const delta = maskOnce(maxMask);
    if (delta === 0) break;
    count += delta;
  }
  return Uint8Array.from(mask.flat());
}
