import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertRank, formatShape } from './assert.js';
import { ShapeError } from './errors.js';

/**
 * Cuts NHWC images into non-overlapping p×p patches, row-major over the patch grid; each patch
 * vector is ordered (row in patch, column in patch, channel), as MAE's `patchify`.
 *
 * @param images `[B, H, W, C]`, H and W divisible by `p`
 * @returns `[B, N, p·p·C]`, N = (H/p)·(W/p)
 * @example
 * ```ts
 * patchify(tf.zeros([2, 32, 32, 3]), 4).shape; // [2, 64, 48]
 * ```
 */
export function patchify(images: tf.Tensor, p: number): tf.Tensor3D {
  const fn = 'patchify';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  assertInteger(fn, 'p', p, 1);
  const [B, H, W, C] = images.shape;
  if (H % p !== 0 || W % p !== 0) {
    throw new ShapeError(`${fn}: image height and width must be divisible by p=${p}, got images ${formatShape(images.shape)}`);
  }
  const h = H / p;
  const w = W / p;
  return tf.tidy(() =>
    tf.reshape(tf.transpose(tf.reshape(images, [B, h, p, w, p, C]), [0, 1, 3, 2, 4, 5]), [B, h * w, p * p * C]),
  ) as tf.Tensor3D;
}

/**
 * Inverse of {@link patchify}.
 *
 * @param patches `[B, N, p·p·C]` with N = (H/p)·(W/p)
 * @returns `[B, H, W, C]`
 * @example
 * ```ts
 * unpatchify(patchify(x, 4), 4, 32, 32); // equals x
 * ```
 */
export function unpatchify(patches: tf.Tensor, p: number, H: number, W: number): tf.Tensor4D {
  const fn = 'unpatchify';
  assertRank(fn, 'patches', patches, 3, '[B, N, p*p*C]');
  assertInteger(fn, 'p', p, 1);
  assertInteger(fn, 'H', H, 1);
  assertInteger(fn, 'W', W, 1);
  if (H % p !== 0 || W % p !== 0) throw new ShapeError(`${fn}: H=${H} and W=${W} must be divisible by p=${p}`);
  const [B, N, P] = patches.shape;
  const h = H / p;
  const w = W / p;
  if (N !== h * w || P % (p * p) !== 0) {
    throw new ShapeError(
      `${fn}: patches must have shape [B, ${h * w}, p*p*C] for H=${H}, W=${W}, p=${p}, got ${formatShape(patches.shape)}`,
    );
  }
  const C = P / (p * p);
  return tf.tidy(() =>
    tf.reshape(tf.transpose(tf.reshape(patches, [B, h, w, p, p, C]), [0, 1, 3, 2, 4, 5]), [B, H, W, C]),
  ) as tf.Tensor4D;
}
