import * as tf from '@tensorflow/tfjs';
import { ValueError, assertInRange, assertPositive, describe } from '@mmc/core';
import { assertCenter, assertViewList, crossViewDistillation, movingCenter } from './dinoLoss.js';
import { assertTokenMask, maskedPatchDistillation } from './ibotPatchLoss.js';

/**
 * Inputs of {@link ibotLoss}. G = number of global views (teacher views), V ≥ G = number of
 * student views (the G global views first, in the same order, then the local crops).
 */
export interface IbotLossParts {
  /** V tensors `[B, K]`: student CLS outputs of the global views (masked), then the local crops. */
  studentCls: tf.Tensor[];
  /** G tensors `[B, K]`: teacher CLS outputs of the global views (unmasked). */
  teacherCls: tf.Tensor[];
  /** G tensors `[B, N, K2]`: student patch outputs of the (masked) global views. */
  studentPatch: tf.Tensor[];
  /** G tensors `[B, N, K2]`: teacher patch outputs of the (unmasked) global views. */
  teacherPatch: tf.Tensor[];
  /** G token masks `[B, N]` (1 = masked), float32, int32 or bool, one per global view. */
  masks: tf.Tensor[];
}

/** Options of {@link ibotLoss}. */
export interface IbotLossOptions {
  /** Student temperature of both terms (> 0). Default 0.1 (iBOT). */
  studentTemp?: number;
  /** Teacher temperature of the CLS term (> 0). Default 0.04 (iBOT's warm-up start; pass the scheduled value). */
  teacherTemp?: number;
  /** Teacher temperature of the patch term (> 0). Default 0.07 (iBOT's `--teacher_patch_temp`). */
  teacherPatchTemp?: number;
  /** Momentum of the CLS center, in [0, 1]. Default 0.9. */
  centerMomentum?: number;
  /** Momentum of the patch center, in [0, 1]. Default 0.9. */
  centerMomentum2?: number;
  /** Weight of the CLS term (≥ 0). Default 1. */
  lambda1?: number;
  /** Weight of the patch term (≥ 0). Default 1. */
  lambda2?: number;
}

/**
 * Result of {@link ibotLoss} (a type alias, so it is a `tf.TensorContainer`: `tf.dispose(result)`
 * works). All tensors are new and owned by the caller.
 */
export type IbotLossResult = {
  /** λ1·cls + λ2·patch */
  loss: tf.Scalar;
  /** Unweighted CLS self-distillation term (iBOT logs it multiplied by λ1). */
  cls: tf.Scalar;
  /** Unweighted masked-patch term (iBOT logs it multiplied by λ2). */
  patch: tf.Scalar;
  /** `[1, K]` updated CLS center. */
  center: tf.Tensor2D;
  /** `[1, 1, K2]` updated patch center. */
  center2: tf.Tensor3D;
};

/**
 * iBOT's objective ("iBOT: Image BERT Pre-Training with Online Tokenizer", Zhou et al. 2022;
 * bytedance/ibot `main_ibot.py`, `iBOTLoss.forward`): for every teacher (global) view q and
 * student view v,
 *
 *     v ≠ q:  CLS term  (1/B) Σ_b −Σ_k softmax((tc_q − c)/teacherTemp) · log_softmax(sc_v/studentTemp)
 *     v = q:  patch term (1/B) Σ_b [Σ_n ℓ[b, n]·m_q[b, n] / max(Σ_n m_q[b, n], 1)],
 *             ℓ = −Σ_k softmax((tp_q − c2)/teacherPatchTemp) · log_softmax(sp_q/studentTemp)
 *     cls   = mean of the CLS terms over the G·(V − 1) pairs        (= `dinoLoss` on the CLS outputs)
 *     patch = mean of the patch terms over the G global views       (= mean of `ibotPatchLoss`)
 *     loss  = λ1·cls + λ2·patch
 *     c'  = m1·c  + (1 − m1)·mean over all G·B teacher CLS rows
 *     c2' = m2·c2 + (1 − m2)·mean over tokens, then over the G·B teacher patch rows
 *
 * Both centers are returned, never kept as hidden state, and the loss uses the input centers
 * (iBOT updates after the loss). V ≥ 2 is required (with one view there is no CLS pair; the
 * official code divides by zero). `cls` and `patch` are returned unweighted (the official dict
 * holds them times λ1, λ2); `loss` is weighted as in iBOT. Distributed all-reduce of the centers
 * is out of scope. iBOT's `mim_start_epoch` and temperature warm-ups are the caller's schedule.
 *
 * Gradients: teacher outputs are constants (EMA teacher): differentiate w.r.t. the student only;
 * this function does not stop gradients itself. Masks receive no gradient.
 *
 * @param parts `{ studentCls, teacherCls, studentPatch, teacherPatch, masks }` (see {@link IbotLossParts})
 * @param center `[1, K]` float32 CLS center
 * @param center2 `[1, 1, K2]` float32 patch center
 * @param options `{ studentTemp = 0.1, teacherTemp = 0.04, teacherPatchTemp = 0.07, centerMomentum = 0.9,
 *   centerMomentum2 = 0.9, lambda1 = 1, lambda2 = 1 }`
 * @returns `{ loss, cls, patch, center, center2 }` (owned by the caller)
 * @throws ShapeError on wrong ranks/shapes, ValueError on bad options, dtypes or list lengths
 * @example
 * ```ts
 * const r = ibotLoss(
 *   { studentCls: [sc1, sc2, ...scLocal], teacherCls: [tc1, tc2], studentPatch: [sp1, sp2],
 *     teacherPatch: [tp1, tp2], masks: [m1, m2] },
 *   center, center2,
 * );
 * tf.dispose([center, center2]);
 * [center, center2] = [r.center, r.center2];
 * ```
 */
export function ibotLoss(parts: IbotLossParts, center: tf.Tensor, center2: tf.Tensor, options: IbotLossOptions = {}): IbotLossResult {
  const fn = 'ibotLoss';
  if (parts == null || typeof parts !== 'object') {
    throw new ValueError(`${fn}: parts must be an object { studentCls, teacherCls, studentPatch, teacherPatch, masks }, got ${describe(parts)}`);
  }
  const { studentCls, teacherCls, studentPatch, teacherPatch, masks } = parts;
  const [B, K] = assertViewList(fn, 'studentCls', studentCls, 2, '[B, K]');
  assertViewList(fn, 'teacherCls', teacherCls, 2, '[B, K]', [B, K], 'studentCls[0]');
  const G = teacherCls.length;
  const V = studentCls.length;
  if (V < G) {
    throw new ValueError(`${fn}: studentCls must hold at least the ${G} global views of teacherCls (then the local crops), got ${V} views`);
  }
  if (V < 2) throw new ValueError(`${fn}: studentCls must hold at least 2 views (no CLS pair of different views otherwise), got ${V}`);
  const [, N, K2] = assertViewList(fn, 'studentPatch', studentPatch, 3, '[B, N, K2]', [B, -1, -1], 'studentCls[0] in B');
  assertViewList(fn, 'teacherPatch', teacherPatch, 3, '[B, N, K2]', [B, N, K2], 'studentPatch[0]');
  for (const [name, list] of [['studentPatch', studentPatch], ['teacherPatch', teacherPatch], ['masks', masks]] as const) {
    if (!Array.isArray(list) || list.length !== G) {
      throw new ValueError(`${fn}: ${name} must hold one entry per global view (${G}, like teacherCls), got ${Array.isArray(list) ? list.length : describe(list)}`);
    }
  }
  masks.forEach((m, i) => assertTokenMask(fn, `masks[${i}]`, m, B, N, `([B, N] of studentPatch[0])`));
  assertCenter(fn, 'center', center, [1, K], `([1, K] with K = ${K} of studentCls)`);
  assertCenter(fn, 'center2', center2, [1, 1, K2], `([1, 1, K2] with K2 = ${K2} of studentPatch)`);
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const {
    studentTemp = 0.1,
    teacherTemp = 0.04,
    teacherPatchTemp = 0.07,
    centerMomentum = 0.9,
    centerMomentum2 = 0.9,
    lambda1 = 1,
    lambda2 = 1,
  } = options;
  assertPositive(fn, 'studentTemp', studentTemp);
  assertPositive(fn, 'teacherTemp', teacherTemp);
  assertPositive(fn, 'teacherPatchTemp', teacherPatchTemp);
  assertInRange(fn, 'centerMomentum', centerMomentum, 0, 1, 'none');
  assertInRange(fn, 'centerMomentum2', centerMomentum2, 0, 1, 'none');
  assertInRange(fn, 'lambda1', lambda1, 0, Infinity, 'high');
  assertInRange(fn, 'lambda2', lambda2, 0, Infinity, 'high');

  return tf.tidy(() => {
    const cls = crossViewDistillation(studentCls, teacherCls, center, studentTemp, teacherTemp);
    const patchTerms = studentPatch.map((s, q) =>
      maskedPatchDistillation(s, teacherPatch[q], masks[q], center2, studentTemp, teacherPatchTemp),
    );
    const patch = (G === 1 ? patchTerms[0] : tf.div(tf.addN(patchTerms), G)) as tf.Scalar;
    const loss = tf.add(tf.mul(cls, lambda1), tf.mul(patch, lambda2)) as tf.Scalar;
    return {
      loss,
      cls,
      patch,
      center: movingCenter(center, teacherCls, [0], centerMomentum) as tf.Tensor2D,
      center2: movingCenter(center2, teacherPatch, [0, 1], centerMomentum2) as tf.Tensor3D,
    };
  });
}
