import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertInteger, assertRank, describe, formatShape } from '@mmc/core';

/** Options of {@link sinkhorn}. */
export interface SinkhornOptions {
  /** Number of Sinkhorn-Knopp iterations (integer ≥ 1). Default 3 (MSN, SwAV). */
  iterations?: number;
}

/** Sums are clamped at this value so an all-zero row or column stays 0 instead of NaN. */
const TINY = 1e-30;

/**
 * Sinkhorn-Knopp balancing of soft assignments of B samples to K prototypes, as MSN's
 * `distributed_sinkhorn` (facebookresearch/msn `src/losses.py`; SwAV's algorithm) on one
 * device: with Q ≥ 0 of shape [B, K],
 *
 *     Q ← Q / ΣQ
 *     repeat `iterations` times:
 *       Q[:, k] ← Q[:, k] / (K · Σ_b Q[b, k])     each prototype gets total weight 1/K
 *       Q[b, :] ← Q[b, :] / (B · Σ_k Q[b, k])     each sample gets total weight 1/B
 *     return B·Q
 *
 * so every row of the result sums to 1 (exactly, up to rounding: the last step normalises
 * rows) and every column sums to ≈ B/K (exactly in the limit of many iterations): the batch
 * spreads evenly over the prototypes. MSN applies it to the sharpened targets, without
 * gradient (`msnLoss({ sinkhorn: true })`); here it is an ordinary differentiable tfjs function.
 *
 * Inputs must be non-negative (not checked: it would need a device read). Differences from the
 * official code: sums are clamped at 1e-30, so an all-zero prototype column stays 0 instead of
 * turning the output into NaN; no all-reduce across devices.
 *
 * @param scores `[B, K]` float32 non-negative assignment weights (e.g. softmax probabilities)
 * @param options `{ iterations = 3 }`
 * @returns `[B, K]` balanced assignments, rows summing to 1 (owned by the caller)
 * @throws ShapeError on a wrong rank or an empty dimension, ValueError on bad options or dtype
 * @example
 * ```ts
 * const q = sinkhorn(tf.softmax(logits));              // [B, K], rows sum to 1, columns ≈ B/K
 * ```
 */
export function sinkhorn(scores: tf.Tensor, options: SinkhornOptions = {}): tf.Tensor2D {
  const fn = 'sinkhorn';
  assertRank(fn, 'scores', scores, 2, '[B, K]');
  const [B, K] = scores.shape;
  if (B < 1 || K < 1) throw new ShapeError(`${fn}: scores must have B, K >= 1, got ${formatShape(scores.shape)}`);
  if (scores.dtype !== 'float32') throw new ValueError(`${fn}: scores must be float32, got ${describe(scores)}`);
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { iterations = 3 } = options;
  assertInteger(fn, 'iterations', iterations, 1);
  return tf.tidy(() => sinkhornBalance(scores, iterations) as tf.Tensor2D);
}

/** The iterations of {@link sinkhorn}, unvalidated (shared with `msnLoss`); call inside a tidy. */
export function sinkhornBalance(scores: tf.Tensor, iterations: number): tf.Tensor {
  const [B, K] = scores.shape;
  const safeDiv = (x: tf.Tensor, s: tf.Tensor) => tf.div(x, tf.maximum(s, TINY));
  let Q = safeDiv(scores, tf.sum(scores));
  for (let it = 0; it < iterations; it++) {
    Q = tf.div(safeDiv(Q, tf.sum(Q, 0, true)), K);
    Q = tf.div(safeDiv(Q, tf.sum(Q, 1, true)), B);
  }
  return tf.mul(Q, B);
}
