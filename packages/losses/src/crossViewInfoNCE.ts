import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertOneOf, describe, formatShape } from '@mmc/core';
import { infoNCE, resolveInfoNCEOptions, validatePair } from './infoNCE.js';

/** Options of {@link crossViewInfoNCE}. */
export interface CrossViewInfoNCEOptions {
  /** Softmax temperature T (> 0). Default 0.2 (MMC, MoCo v3 ViT, SiT). */
  temperature?: number;
  /** Multiplies each direction's loss. Default 1 (MMC); `2·T` for MoCo v3 / SiT. */
  scale?: number;
  /** How the two directions combine: `'mean'` (default, MMC) or `'sum'` (MoCo v3 / SiT). */
  reduction?: 'mean' | 'sum';
}

/**
 * Cross-view InfoNCE on global (CLS) embeddings of two views of the same B images: the query of
 * each view is contrasted with the key of the *other* view,
 *
 *     L = reduce( infoNCE(q1, k2), infoNCE(q2, k1) ),   reduce = mean (default) | sum
 *
 * with `infoNCE` rows L2-normalised, logits q̂·k̂ᵀ/T, the diagonal as target (see {@link infoNCE}).
 *
 * - MMC (eq. 3 of "Masked Momentum Contrastive Learning for Zero-shot Semantic Understanding"):
 *   q = student CLS of the masked views, k = teacher CLS of the clean views, T = 0.2, the two
 *   directions averaged (`reduction: 'mean'`, `scale: 1`, the defaults).
 * - MoCo v3 (facebookresearch/moco-v3 `moco/builder.py`, `ctr_loss(q1, k2) + ctr_loss(q2, k1)`)
 *   and SiT (Sara-Ahmed/SiT `main.py`, `SimCLR.contrastive_loss`):
 *   `{ scale: 2 * T, reduction: 'sum' }`.
 *
 * Keys are teacher outputs: differentiate w.r.t. the student only (no stop-gradient is applied
 * here; tfjs differentiates only what the caller asks for).
 *
 * @param q1 `[B, D]` query of view 1 (student, masked view 1)
 * @param q2 `[B, D]` query of view 2
 * @param k1 `[B, D]` key of view 1 (teacher, clean view 1)
 * @param k2 `[B, D]` key of view 2
 * @param options `{ temperature = 0.2, scale = 1, reduction = 'mean' }`
 * @returns scalar loss (owned by the caller)
 * @throws ShapeError unless all four are float32 `[B, D]` of one shape; ValueError on bad options
 * @example
 * ```ts
 * const loss = crossViewInfoNCE(studentCls1, studentCls2, teacherCls1, teacherCls2);
 * const mocoV3 = crossViewInfoNCE(q1, q2, k1, k2, { temperature: 0.2, scale: 0.4, reduction: 'sum' });
 * ```
 */
export function crossViewInfoNCE(
  q1: tf.Tensor,
  q2: tf.Tensor,
  k1: tf.Tensor,
  k2: tf.Tensor,
  options: CrossViewInfoNCEOptions = {},
): tf.Scalar {
  const fn = 'crossViewInfoNCE';
  validatePair(fn, 'q1', q1, 'k2', k2);
  validatePair(fn, 'q2', q2, 'k1', k1);
  if (q2.shape[0] !== q1.shape[0] || q2.shape[1] !== q1.shape[1]) {
    throw new ShapeError(`${fn}: q2 must have shape ${formatShape(q1.shape)} (like q1), got ${formatShape(q2.shape)}`);
  }
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { reduction = 'mean' } = options;
  const { temperature, scale } = resolveInfoNCEOptions(fn, { temperature: options.temperature, scale: options.scale });
  assertOneOf(fn, 'reduction', reduction, ['mean', 'sum'] as const);
  return tf.tidy(() => {
    const a = infoNCE(q1, k2, { temperature, scale });
    const b = infoNCE(q2, k1, { temperature, scale });
    const sum = tf.add(a, b);
    return (reduction === 'sum' ? sum : tf.mul(sum, 0.5)) as tf.Scalar;
  });
}
