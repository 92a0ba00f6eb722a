import * as tf from '@tensorflow/tfjs';
import { assertRank, assertShape, formatShape } from '@mmc/core';

/**
 * Masked-image-modelling L1 reconstruction loss (SiT / GMML, used by MMC): the mean absolute
 * error between the reconstruction and the clean image over the corrupted pixels only, all
 * channels included:
 *
 *     L = Σ_{b,h,w,c} |pred − target| · m_{b,h,w}  /  (C · Σ_{b,h,w} m_{b,h,w})
 *
 * Follows SiT's `F.l1_loss(recons, target, reduction='none')[mask == 1].mean()`
 * (Sara-Ahmed/SiT `main.py`), with two deliberate choices:
 * - an all-clean batch (Σm = 0) gives 0 with finite (zero) gradients, where the official code
 *   gives NaN;
 * - the gradient of |x| at x = 0 is 0, as in PyTorch (tfjs' own `abs` has gradient −1 there);
 *   |d| is computed as d · sign(d) with `sign` treated as a constant, so ∂|d|/∂d = sign(d).
 *
 * `pixelMask` may be float (0/1) or bool; it is broadcast over channels. Values other than 0/1
 * act as per-pixel weights (a weighted mean), which reduces to the above for 0/1 masks.
 * The mask receives no gradient.
 *
 * @param pred `[B, H, W, C]` reconstruction
 * @param target `[B, H, W, C]` clean image (same shape as `pred`)
 * @param pixelMask `[B, H, W]`, 1 = corrupted pixel (counts), 0 = clean pixel (ignored)
 * @returns scalar loss
 * @example
 * ```ts
 * const { corrupted, pixelMask } = gmmlCorrupt(images, { rng, patchSize: 16 });
 * const loss = mimL1Loss(decoder(vit(corrupted)), images, pixelMask);
 * ```
 */
export function mimL1Loss(pred: tf.Tensor, target: tf.Tensor, pixelMask: tf.Tensor): tf.Scalar {
  const fn = 'mimL1Loss';
  assertRank(fn, 'pred', pred, 4, '[B, H, W, C]');
  assertShape(fn, 'target', target, pred.shape, `(like pred ${formatShape(pred.shape)})`);
  const [B, H, W, C] = pred.shape;
  assertShape(fn, 'pixelMask', pixelMask, [B, H, W], `([B, H, W] of pred ${formatShape(pred.shape)})`);
  return tf.tidy(() => {
    const p = pred.dtype === 'float32' ? pred : tf.cast(pred, 'float32');
    const t = target.dtype === 'float32' ? target : tf.cast(target, 'float32');
    const m = pixelMask.dtype === 'float32' ? pixelMask : tf.cast(pixelMask, 'float32');
    const d = tf.sub(p, t);
    // |d| with derivative sign(d) (0 at d = 0): sign's registered gradient is 0.
    const absD = tf.mul(d, tf.sign(d));
    const perPixel = tf.sum(absD, -1); // [B, H, W]
    const num = tf.sum(tf.mul(perPixel, m));
    const den = tf.mul(tf.sum(m), C);
    const safeDen = tf.where(tf.greater(den, 0), den, tf.onesLike(den));
    return tf.div(num, safeDen) as tf.Scalar;
  });
}
