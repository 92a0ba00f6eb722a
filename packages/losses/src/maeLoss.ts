import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertRank, assertShape, formatShape, patchify, ShapeError, ValueError } from '@mmc/core';

/** Options of {@link maeLoss}. */
export interface MaeLossOptions {
  /** Patch size p of the ViT (the target is `patchify(images, p)`). Required. */
  patchSize: number;
  /**
   * Normalise each target patch by its own mean and unbiased standard deviation
   * (MAE's `norm_pix_loss`). Default `false` (MAE's default; MAE's released models use `true`).
   */
  normPix?: boolean;
}

/**
 * MAE's pixel reconstruction loss (He et al., "Masked Autoencoders Are Scalable Vision
 * Learners", 2022; `facebookresearch/mae` `models_mae.py`, `forward_loss`):
 *
 *     target = patchify(images, p)                                   [B, N, P], P = p·p·C
 *     if normPix: target = (target − mean) / sqrt(var + 1e-6)        per patch, over P
 *     loss[b, n] = mean_P (pred − target)²
 *     L = Σ loss · mask / Σ mask
 *
 * `var` is the *unbiased* per-patch variance (denominator P − 1), as `torch.Tensor.var`'s
 * default; `tf.moments` would give the biased one. With `normPix` and P = 1 the unbiased variance
 * is undefined (PyTorch returns NaN): this function throws a `ValueError` instead.
 * When no token is masked (Σmask = 0) the loss is 0 with zero gradients, where the official code
 * gives NaN. Non-0/1 mask values act as per-token weights. The mask receives no gradient.
 *
 * Patch vectors are ordered (row in patch, column in patch, channel), as MAE's `patchify`
 * and `@mmc/core`'s {@link patchify}; tokens are row-major over the patch grid.
 *
 * @param predPatches `[B, N, P]` decoder output, N = (H/p)·(W/p), P = p·p·C
 * @param images `[B, H, W, C]` clean images (H, W divisible by p)
 * @param tokenMask `[B, N]` (0/1 float or bool), 1 = masked (removed) token, the ones that count
 * @param options `{ patchSize, normPix = false }`
 * @returns scalar loss
 * @example
 * ```ts
 * const images = tf.randomNormal([1, 32, 32, 3]);
 * const tokenMask = tf.tensor2d([[1, 0, 1, 0]]);              // 2×2 grid of 16×16 patches
 * const pred = tf.randomNormal([1, 4, 16 * 16 * 3]);
 * const loss = maeLoss(pred, images, tokenMask, { patchSize: 16, normPix: true });
 * ```
 */
export function maeLoss(
  predPatches: tf.Tensor,
  images: tf.Tensor,
  tokenMask: tf.Tensor,
  options: MaeLossOptions,
): tf.Scalar {
  const fn = 'maeLoss';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { patchSize, normPix? }, got ${String(options)}`);
  }
  const { patchSize, normPix = false } = options;
  assertInteger(fn, 'patchSize', patchSize, 1);
  if (typeof normPix !== 'boolean') throw new ValueError(`${fn}: normPix must be a boolean, got ${String(normPix)}`);
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const [B, H, W, C] = images.shape;
  if (H % patchSize !== 0 || W % patchSize !== 0) {
    throw new ShapeError(
      `${fn}: images height and width must be divisible by patchSize=${patchSize}, got images ${formatShape(images.shape)}`,
    );
  }
  const N = (H / patchSize) * (W / patchSize);
  const P = patchSize * patchSize * C;
  assertShape(
    fn,
    'predPatches',
    predPatches,
    [B, N, P],
    `([B, N, p·p·C] for images ${formatShape(images.shape)} and patchSize=${patchSize})`,
  );
  assertShape(fn, 'tokenMask', tokenMask, [B, N], `([B, N] for images ${formatShape(images.shape)} and patchSize=${patchSize})`);
  if (normPix && P === 1) {
    throw new ValueError(
      `${fn}: normPix needs at least 2 values per patch (unbiased variance), got patchSize=${patchSize} with ${C} channel(s)`,
    );
  }
  return tf.tidy(() => {
    const pred = predPatches.dtype === 'float32' ? predPatches : tf.cast(predPatches, 'float32');
    const img = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    const mask = tokenMask.dtype === 'float32' ? tokenMask : tf.cast(tokenMask, 'float32');
    let target: tf.Tensor = patchify(img, patchSize);
    if (normPix) {
      const mean = tf.mean(target, -1, true);
      const centred = tf.sub(target, mean);
      const variance = tf.div(tf.sum(tf.square(centred), -1, true), P - 1); // unbiased
      target = tf.div(centred, tf.sqrt(tf.add(variance, 1e-6)));
    }
    const perPatch = tf.mean(tf.square(tf.sub(pred, target)), -1); // [B, N]
    const num = tf.sum(tf.mul(perPatch, mask));
    const den = tf.sum(mask);
    const safeDen = tf.where(tf.greater(den, 0), den, tf.onesLike(den));
    return tf.div(num, safeDen) as tf.Scalar;
  });
}
