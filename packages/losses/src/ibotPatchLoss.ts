import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertInRange, assertPositive, assertRank, assertShape, describe, formatShape } from '@mmc/core';
import { assertCenter, movingCenter } from './dinoLoss.js';

/** Options of {@link ibotPatchLoss}. */
export interface IbotPatchLossOptions {
  /** Student softmax temperature (> 0). Default 0.1 (iBOT). */
  studentTemp?: number;
  /**
   * Teacher softmax temperature of the patch tokens (> 0). Default 0.07 (iBOT's
   * `--teacher_patch_temp`; iBOT warms it up from 0.04 over 30 epochs: pass the scheduled value).
   */
  teacherTemp?: number;
  /** Momentum m of center ← m·center + (1 − m)·mean, in [0, 1]. Default 0.9 (iBOT's `center_momentum2`). */
  centerMomentum?: number;
}

/**
 * Result of {@link ibotPatchLoss} (a type alias, so it is a `tf.TensorContainer`). Both tensors
 * are new and owned by the caller.
 */
export type IbotPatchLossResult = {
  /** Scalar masked-patch distillation loss. */
  loss: tf.Scalar;
  /** `[1, 1, K]` updated patch center (the input center is not modified). */
  center: tf.Tensor3D;
};

/**
 * iBOT's masked image modelling by self-distillation on patch tokens ("iBOT: Image BERT
 * Pre-Training with Online Tokenizer", Zhou et al. 2022; bytedance/ibot `main_ibot.py`,
 * `iBOTLoss`, the `v == q` branch), for one global view: every masked student token (the
 * student saw the masked image) must match the centred, sharpened teacher distribution of the
 * same token of the same view (the teacher saw the unmasked image):
 *
 *     P[b, n] = softmax((t[b, n] − c) / teacherTemp),  log S[b, n] = log_softmax(s[b, n] / studentTemp)
 *     ℓ[b, n] = −Σ_k P[b, n, k] · log S[b, n, k]
 *     L_b = Σ_n ℓ[b, n]·m[b, n] / max(Σ_n m[b, n], 1)        per image
 *     L = (1/B) Σ_b L_b                                        (an image with no masked token counts 0)
 *     c' = m·c + (1 − m) · (mean over tokens, then over the batch, of t)
 *
 * Unmasked tokens do not enter the loss (their student outputs get zero gradient). Mask values
 * other than 0/1 act as weights (the denominator is still clamped at 1, as iBOT's
 * `clamp(min=1.0)`). The center update uses every teacher token, masked or not, and happens
 * after the loss (the loss uses the input center). Use {@link ibotLoss} for iBOT's full
 * objective over several views (CLS + patch terms, both centers).
 *
 * Gradients: teacher outputs are constants (EMA teacher): differentiate w.r.t. the student
 * only; this function does not stop gradients itself. The mask receives no gradient.
 *
 * @param student `[B, N, K]` float32 student patch-token outputs of the masked view
 * @param teacher `[B, N, K]` float32 teacher patch-token outputs of the same (unmasked) view
 * @param mask `[B, N]` token mask (1 = masked), float32, int32 or bool
 * @param center `[1, 1, K]` float32 running patch center (iBOT's `center2`; zeros at the start)
 * @param options `{ studentTemp = 0.1, teacherTemp = 0.07, centerMomentum = 0.9 }`
 * @returns `{ loss, center }` (owned by the caller)
 * @throws ShapeError on wrong ranks/shapes, ValueError on bad options or dtypes
 * @example
 * ```ts
 * let center2 = tf.zeros([1, 1, K]);
 * const { loss, center } = ibotPatchLoss(studentPatches, teacherPatches, tokenMask, center2);
 * center2.dispose();
 * center2 = center;
 * ```
 */
export function ibotPatchLoss(
  student: tf.Tensor,
  teacher: tf.Tensor,
  mask: tf.Tensor,
  center: tf.Tensor,
  options: IbotPatchLossOptions = {},
): IbotPatchLossResult {
  const fn = 'ibotPatchLoss';
  assertRank(fn, 'student', student, 3, '[B, N, K]');
  const [B, N, K] = student.shape;
  if (B < 1 || N < 1 || K < 1) throw new ShapeError(`${fn}: student must have B, N, K >= 1, got ${formatShape(student.shape)}`);
  assertShape(fn, 'teacher', teacher, student.shape, '(like student)');
  for (const [name, t] of [['student', student], ['teacher', teacher]] as const) {
    if (t.dtype !== 'float32') throw new ValueError(`${fn}: ${name} must be float32, got ${describe(t)}`);
  }
  assertTokenMask(fn, 'mask', mask, B, N, `([B, N] of student ${formatShape(student.shape)})`);
  assertCenter(fn, 'center', center, [1, 1, K], `([1, 1, K] with K = ${K} of student)`);
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { studentTemp = 0.1, teacherTemp = 0.07, centerMomentum = 0.9 } = options;
  assertPositive(fn, 'studentTemp', studentTemp);
  assertPositive(fn, 'teacherTemp', teacherTemp);
  assertInRange(fn, 'centerMomentum', centerMomentum, 0, 1, 'none');

  return tf.tidy(() => ({
    loss: maskedPatchDistillation(student, teacher, mask, center, studentTemp, teacherTemp),
    center: movingCenter(center, [teacher], [0, 1], centerMomentum) as tf.Tensor3D,
  }));
}

/**
 * (1/B) Σ_b Σ_n ℓ[b, n]·m[b, n] / max(Σ_n m[b, n], 1) with ℓ the token cross-entropy between
 * softmax((t − c)/Tt) and log_softmax(s/Ts). Unvalidated (shared with `ibotLoss`); call inside a tidy.
 */
export function maskedPatchDistillation(
  student: tf.Tensor,
  teacher: tf.Tensor,
  mask: tf.Tensor,
  center: tf.Tensor,
  studentTemp: number,
  teacherTemp: number,
): tf.Scalar {
  const P = tf.softmax(tf.div(tf.sub(teacher, center), teacherTemp));
  const perToken = tf.neg(tf.sum(tf.mul(P, tf.logSoftmax(tf.div(student, studentTemp))), -1)); // [B, N]
  const m = mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
  const perImage = tf.div(tf.sum(tf.mul(perToken, m), -1), tf.maximum(tf.sum(m, -1), 1)); // [B]
  return tf.mean(perImage) as tf.Scalar;
}

/** Validates a `[B, N]` numeric or bool token mask. */
export function assertTokenMask(fn: string, arg: string, mask: unknown, B: number, N: number, hint: string): void {
  assertShape(fn, arg, mask as tf.Tensor, [B, N], hint);
  if ((mask as tf.Tensor).dtype === 'string' || (mask as tf.Tensor).dtype === 'complex64') {
    throw new ValueError(`${fn}: ${arg} must be float32, int32 or bool, got ${describe(mask)}`);
  }
}
