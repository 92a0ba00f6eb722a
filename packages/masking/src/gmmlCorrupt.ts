import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertInRange, assertOneOf, assertRank, formatShape, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { drawGmmlMask, gmmlGeometry, type GmmlBlock } from './gmmlMask.js';

/** What fills the masked pixels of an image that is not replaced. */
export type GmmlFill = 'noise' | 'zeros';

/** Options of {@link gmmlCorrupt}. */
export interface GmmlCorruptOptions {
  /** Generator from `createRng(seed)`; every random choice is drawn from it on the host. */
  rng: Rng;
  /** ViT patch size p (H and W divisible by it). */
  patchSize: number;
  /** r of the noise/zeros branch: target U(min(0.5, r), r)·H·W pixels. In (0, 1); default 0.75. */
  maskRatio?: number;
  /** Largest block side as a fraction of H (W). In (0, 1]; default 0.3. */
  maxBlock?: number;
  /** Fill of masked pixels in non-replaced images: i.i.d. N(0, 1) or 0. Default `'noise'`. */
  fill?: GmmlFill;
  /** Probability that an image gets blocks of another image instead. In [0, 1]; default 0.5. */
  replaceProb?: number;
  /** r of the replacement branch (target U(min(0.5, r), r)·H·W, exactly 0.3·H·W by default). In (0, 1). */
  replaceRatio?: number;
  /** Block grid in pixels; default `patchSize` (exact token masks). */
  align?: number;
}

/** Result of {@link gmmlCorrupt}; the caller owns (and disposes) the three tensors. */
export interface GmmlCorruptResult {
  /** `[B, H, W, C]` float32: the images with their masked pixels filled. */
  corrupted: tf.Tensor4D;
  /** `[B, H, W]` float32, 1 = masked (noised, zeroed or replaced). */
  pixelMask: tf.Tensor3D;
  /** `[B, N]` float32, 1 = every pixel of the patch is masked (exact with the default align). */
  tokenMask: tf.Tensor2D;
  /** Per image: index of the donor image whose blocks were pasted, or −1 (noise/zeros branch). */
  replacedFrom: Int32Array;
  /** Per image: its blocks in drawing order (pixels). */
  blocks: GmmlBlock[][];
}

/**
 * GMML corruption of a batch (SiT / GMML; official `Sara-Ahmed/GMML datasets/datasets_utils.py`,
 * `GMML_replace_list` over `GMML_drop_rand_patches`; MMC uses it for the student's masked view).
 *
 * Per image b, with the rng draws in this order (so a seed fixes everything, on every backend):
 * 1. replacement coin `rng.next() < replaceProb` (drawn even when B = 1);
 * 2. if replaced: donor `d = rng.int(B − 1)`, skipping b (d ≥ b → d + 1), so the donor is uniform
 *    over the other B − 1 images and never b itself (the official `randint(0, n_imgs)` can pick
 *    the image itself, i.e. a no-op corruption; we do not);
 * 3. the block mask of {@link gmmlMask}: r = `replaceRatio` when replaced (0.3 ≤ 0.5, so the target
 *    is exactly 0.3·H·W; a uniform is still drawn), else r = `maskRatio`;
 * 4. if not replaced and `fill = 'noise'`: one `rng.normal()` per masked pixel and channel, in
 *    row-major (y, x, c) order — i.i.d. N(0, 1) in the normalised image space.
 *
 * Then on the backend: `corrupted = where(mask, source, images)` with source = the donor's *clean*
 * pixels (same positions) for replaced images and the noise/zeros otherwise, i.e.
 * `images·(1 − m) + source·m` exactly. With B = 1 no other image exists, so the image always takes
 * the noise/zeros branch (`replacedFrom = [−1]`).
 *
 * @param images `[B, H, W, C]` float32 (B ≥ 1, H and W divisible by patchSize)
 * @returns `{ corrupted [B, H, W, C], pixelMask [B, H, W], tokenMask [B, N], replacedFrom, blocks }`
 * @example
 * ```ts
 * const rng = createRng(1);
 * const { corrupted, pixelMask, tokenMask, replacedFrom } = gmmlCorrupt(images, { rng, patchSize: 16 });
 * // corrupted: student input; pixelMask → mimL1Loss; tokenMask → patchMomentumContrast
 * tf.dispose([corrupted, pixelMask, tokenMask]);
 * ```
 */
export function gmmlCorrupt(images: tf.Tensor, opts: GmmlCorruptOptions): GmmlCorruptResult {
  const fn = 'gmmlCorrupt';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  if (opts == null || typeof opts !== 'object') throw new ValueError(`${fn}: opts must be an object, got ${String(opts)}`);
  const {
    rng,
    patchSize,
    maskRatio = 0.75,
    maxBlock = 0.3,
    fill = 'noise',
    replaceProb = 0.5,
    replaceRatio = 0.3,
    align = patchSize,
  } = opts;
  assertRng(fn, rng);
  if (images.dtype !== 'float32') {
    throw new ValueError(`${fn}: images must be float32, got ${images.dtype} of shape ${formatShape(images.shape)}`);
  }
  const [B, H, W, C] = images.shape;
  if (B < 1 || C < 1) throw new ShapeError(`${fn}: images must have B >= 1 and C >= 1, got ${formatShape(images.shape)}`);
  if (typeof patchSize === 'number' && Number.isInteger(patchSize) && patchSize >= 1 && (H % patchSize !== 0 || W % patchSize !== 0)) {
    throw new ShapeError(
      `${fn}: images height and width must be divisible by patchSize=${patchSize}, got images ${formatShape(images.shape)}`,
    );
  }
  assertInRange(fn, 'maskRatio', maskRatio, 0, 1, 'both');
  assertInRange(fn, 'replaceRatio', replaceRatio, 0, 1, 'both');
  assertInRange(fn, 'replaceProb', replaceProb, 0, 1, 'none');
  assertOneOf(fn, 'fill', fill, ['noise', 'zeros'] as const);
  const g = gmmlGeometry(fn, H, W, patchSize, maxBlock, align, { height: 'images height (H)', width: 'images width (W)' });

  const HW = H * W;
  const N = (H / patchSize) * (W / patchSize);
  const maskBool = new Uint8Array(B * HW);
  const pixelMaskF = new Float32Array(B * HW);
  const tokenMaskF = new Float32Array(B * N);
  const noise = new Float32Array(fill === 'noise' ? B * HW * C : 0);
  const replacedFrom = new Int32Array(B).fill(-1);
  const blocks: GmmlBlock[][] = [];
  for (let b = 0; b < B; b++) {
    const coin = rng.next();
    const replaced = B > 1 && coin < replaceProb;
    if (replaced) {
      const d = rng.int(B - 1);
      replacedFrom[b] = d >= b ? d + 1 : d;
    }
    const m = drawGmmlMask(rng, g, replaced ? replaceRatio : maskRatio);
    blocks.push(m.blocks);
    maskBool.set(m.pixelMask, b * HW);
    for (let i = 0; i < HW; i++) pixelMaskF[b * HW + i] = m.pixelMask[i];
    for (let t = 0; t < N; t++) tokenMaskF[b * N + t] = m.tokenMask[t];
    if (!replaced && fill === 'noise') {
      for (let i = 0; i < HW; i++) {
        if (m.pixelMask[i] === 0) continue;
        const base = (b * HW + i) * C;
        for (let c = 0; c < C; c++) noise[base + c] = rng.normal();
      }
    }
  }

  const anyReplaced = replacedFrom.some((d) => d >= 0);
  // Conditions at full [B, H, W, C] size, built here: tf.where would broadcast them with tf.tile
  // (wasm's Tile costs ≈ 90 ns per element, more than the rest of the corruption).
  const fullSize = (perPixel: (i: number) => number) => {
    const out = new Uint8Array(B * HW * C);
    for (let i = 0; i < B * HW; i++) if (perPixel(i)) out.fill(1, i * C, i * C + C);
    return tf.tensor4d(out, [B, H, W, C], 'bool');
  };
  const corrupted = tf.tidy(() => {
    const mask = fullSize((i) => maskBool[i]);
    let source: tf.Tensor = fill === 'noise' ? tf.tensor4d(noise, [B, H, W, C]) : tf.zeros([B, H, W, C]);
    if (anyReplaced) {
      const perm = Int32Array.from(replacedFrom, (d, b) => (d >= 0 ? d : b));
      const donors = tf.gather(images, tf.tensor1d(perm, 'int32'));
      const isReplaced = fullSize((i) => (replacedFrom[Math.floor(i / HW)] >= 0 ? 1 : 0));
      source = tf.where(isReplaced, donors, source);
    }
    return tf.where(mask, source, images) as tf.Tensor4D;
  });
  const pixelMask = tf.tensor3d(pixelMaskF, [B, H, W]);
  const tokenMask = tf.tensor2d(tokenMaskF, [B, N]);
  return { corrupted, pixelMask, tokenMask, replacedFrom, blocks };
}
