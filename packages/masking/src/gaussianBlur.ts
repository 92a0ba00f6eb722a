import * as tf from '@tensorflow/tfjs';
import { ValueError, assertInRange, assertInteger, assertRank, describe, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { gaussianKernel1d } from './gaussianKernel1d.js';
import { mergeRows, takeRows } from './mergeRows.js';

/** Options of {@link gaussianBlur}. */
export interface GaussianBlurOptions {
  /** Generator from `createRng(seed)`. */
  rng: Rng;
  /**
   * Probability that an image is blurred. In [0, 1]; default 0.5 (DINO's `GaussianBlur` class;
   * DINO uses 1.0 for the first global view, 0.1 for the second, 0.5 for local views).
   */
  prob?: number;
  /** σ is drawn uniformly from [sigma[0], sigma[1]] (pixels), 0 < sigma[0] ≤ sigma[1]. Default [0.1, 2] (DINO). */
  sigma?: [number, number];
  /** Odd kernel size used for every image; default per image 2·⌈3σ⌉ + 1 (see {@link gaussianKernel1d}). */
  kernelSize?: number;
}

/**
 * Random Gaussian blur (DINO's `utils.GaussianBlur(p, radius_min=0.1, radius_max=2.)`: with
 * probability p, PIL `ImageFilter.GaussianBlur(radius=U(0.1, 2))`, whose radius is the standard
 * deviation σ in pixels).
 *
 * Per image, in batch order: a coin `rng.next() < prob`; if it succeeds, σ = lo + (hi − lo)·rng.next().
 * Each blurred image is convolved with its own separable kernel {@link gaussianKernel1d}(σ,
 * kernelSize) along rows and then columns.
 *
 * **Borders: edge replication** ("clamp": pixels outside the image repeat the nearest edge
 * pixel). That is what PIL's box blur (the blur DINO runs) does, it keeps a constant image
 * constant (zero padding would darken the border), and unlike reflection it works for any kernel
 * wider than the image (small local crops).
 *
 * Implementation: the selected images are gathered, their channels moved into one
 * `[1, H + 2R, W + 2R, n·C]` edge-padded tensor (R = the largest half-width of the batch; smaller
 * kernels are zero-extended, so an image's result does not depend on the others), and two
 * `depthwiseConv2d` passes (`[K, 1]` then `[1, K]`) apply every image's own kernel; cost O(B·H·W·C·K).
 * Forward only (no gradient: wasm lacks `DepthwiseConv2dNativeBackpropFilter`, and none is needed
 * for data augmentation). Note that σ is in pixels: DINO blurs 224 px crops, so for small images
 * the same σ is relatively stronger.
 *
 * @param images `[B, H, W, C]` (any range; blur is linear and preserves [0, 1])
 * @returns `{ images: [B, H, W, C], applied: Uint8Array(B), sigma: Float64Array(B) (0 where not applied) }`
 * @example
 * ```ts
 * const { images: out } = gaussianBlur(batch, { rng, prob: 1 }); // DINO's first global view
 * ```
 */
export function gaussianBlur(
  images: tf.Tensor4D,
  opts: GaussianBlurOptions,
): { images: tf.Tensor4D; applied: Uint8Array; sigma: Float64Array } {
  const fn = 'gaussianBlur';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const { rng, prob = 0.5, sigma: range = [0.1, 2], kernelSize } = opts ?? ({} as GaussianBlurOptions);
  assertRng(fn, rng);
  assertInRange(fn, 'prob', prob, 0, 1, 'none');
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] > 0 && range[0] <= range[1])) {
    throw new ValueError(`${fn}: sigma must be [lo, hi] with 0 < lo <= hi, got ${Array.isArray(range) ? `[${range.join(', ')}]` : describe(range)}`);
  }
  if (kernelSize !== undefined) {
    assertInteger(fn, 'kernelSize', kernelSize, 1);
    if (kernelSize % 2 !== 1) throw new ValueError(`${fn}: kernelSize must be odd, got ${kernelSize}`);
  }
  const [B, H, W, C] = images.shape;
  const applied = new Uint8Array(B);
  const sigma = new Float64Array(B);
  const chosen: number[] = [];
  const kernels: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    if (rng.next() < prob) {
      applied[b] = 1;
      sigma[b] = range[0] + (range[1] - range[0]) * rng.next();
      chosen.push(b);
      kernels.push(gaussianKernel1d(sigma[b], kernelSize));
    }
  }
  const out = tf.tidy(() => {
    const R = Math.max(0, ...kernels.map((k) => (k.length - 1) / 2));
    if (chosen.length === 0 || R === 0) return tf.clone(images);
    const n = chosen.length;
    const K = 2 * R + 1;
    const nc = n * C;
    // filter[t, 0, j·C + c, 0] = kernel_j[t − (R − r_j)] (zero outside image j's own taps)
    const filter = new Float32Array(K * nc);
    kernels.forEach((k, j) => {
      const shift = R - (k.length - 1) / 2;
      for (let t = 0; t < k.length; t++) {
        for (let c = 0; c < C; c++) filter[(t + shift) * nc + j * C + c] = k[t];
      }
    });
    const clampIdx = (len: number) => {
      const idx = new Int32Array(len + 2 * R);
      for (let i = 0; i < idx.length; i++) idx[i] = Math.min(Math.max(i - R, 0), len - 1);
      return tf.tensor1d(idx, 'int32');
    };
    // [n, H, W, C] → [1, H, W, n·C], channel j·C + c
    const x = tf.reshape(tf.transpose(takeRows(images, chosen), [1, 2, 0, 3]), [1, H, W, nc]) as tf.Tensor4D;
    const padded = tf.gather(tf.gather(x, clampIdx(H), 1), clampIdx(W), 2) as tf.Tensor4D;
    const rows = tf.depthwiseConv2d(padded, tf.tensor4d(filter, [K, 1, nc, 1]), 1, 'valid');
    const cols = tf.depthwiseConv2d(rows, tf.tensor4d(filter, [1, K, nc, 1]), 1, 'valid');
    const blurred = tf.transpose(tf.reshape(cols, [H, W, n, C]), [2, 0, 1, 3]) as tf.Tensor4D;
    return mergeRows(images, [{ indices: chosen, values: blurred }]);
  });
  return { images: out as tf.Tensor4D, applied, sigma };
}
