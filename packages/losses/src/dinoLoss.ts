import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertInRange, assertPositive, assertRank, assertShape, describe, formatShape } from '@mmc/core';

/** Options of {@link dinoLoss}. */
export interface DinoLossOptions {
  /** Student softmax temperature (> 0). Default 0.1 (DINO). */
  studentTemp?: number;
  /**
   * Teacher softmax temperature (> 0). Default 0.04 (DINO's final value; DINO warms it up
   * linearly from 0.04 to `--teacher_temp` over 30 epochs: pass the scheduled value per step).
   */
  teacherTemp?: number;
  /** Momentum m of the center update center ← m·center + (1 − m)·mean, in [0, 1]. Default 0.9 (DINO). */
  centerMomentum?: number;
}

/**
 * Result of {@link dinoLoss} (a type alias, so it is a `tf.TensorContainer`: `tf.dispose(result)`
 * works). Both tensors are new and owned by the caller.
 */
export type DinoLossResult = {
  /** Scalar self-distillation loss. */
  loss: tf.Scalar;
  /** `[1, K]` updated center (the input center is not modified). */
  center: tf.Tensor2D;
};

/**
 * DINO's self-distillation loss ("Emerging Properties in Self-Supervised Vision Transformers",
 * Caron et al. 2021; facebookresearch/dino `main_dino.py`, `DINOLoss`): the student's
 * distribution over K prototypes for every crop must match the centred, sharpened teacher
 * distribution of every *other* crop:
 *
 *     P_q = softmax((t_q − c) / teacherTemp)            teacher view q ∈ [0, V_t)
 *     log S_v = log_softmax(s_v / studentTemp)          student view v ∈ [0, V_s)
 *     ℓ(q, v) = (1/B) Σ_b −Σ_k P_q[b, k] · log S_v[b, k]
 *     L = mean of ℓ(q, v) over all pairs with v ≠ q     (same-view pairs skipped)
 *     c' = m·c + (1 − m) · mean over the V_t·B rows of all teacher views
 *
 * Views are matched by position: `teacherCrops[i]` and `studentCrops[i]` must be the same crop
 * (DINO: the 2 global crops first, in the same order, then the student's local crops). There
 * must be at least one pair with different views (not 1 student crop and 1 teacher crop; the
 * official code divides by zero there): `ValueError`.
 *
 * The center is returned, never kept as hidden state: pass the returned `center` to the next
 * step and dispose the old one. The center used for the loss is the input one (the update
 * happens after the loss, as in DINO). Distributed training (DINO's all-reduce of the batch
 * mean) is out of scope: the mean is over the rows given.
 *
 * Gradients: the teacher outputs are constants in DINO (EMA teacher, `.detach()`): pass them as
 * `teacherCrops` and differentiate w.r.t. the student only (e.g. `tf.variableGrads(f,
 * studentVars)`); this function does not stop gradients itself. The center receives none in
 * DINO either.
 *
 * @param studentCrops non-empty list of `[B, K]` float32 student outputs (logits over K prototypes)
 * @param teacherCrops non-empty list of `[B, K]` float32 teacher outputs of the first views
 * @param center `[1, K]` float32 running center (zeros at the start, as DINO)
 * @param options `{ studentTemp = 0.1, teacherTemp = 0.04, centerMomentum = 0.9 }`
 * @returns `{ loss, center }` (owned by the caller)
 * @throws ShapeError on wrong ranks/shapes, ValueError on bad options, dtypes or no usable pair
 * @example
 * ```ts
 * let center = tf.zeros([1, K]);
 * const { loss, center: next } = dinoLoss([s1, s2, ...sLocal], [t1, t2], center);
 * center.dispose();
 * center = next;
 * ```
 */
export function dinoLoss(
  studentCrops: tf.Tensor[],
  teacherCrops: tf.Tensor[],
  center: tf.Tensor,
  options: DinoLossOptions = {},
): DinoLossResult {
  const fn = 'dinoLoss';
  const shape = assertViewList(fn, 'studentCrops', studentCrops, 2, '[B, K]');
  assertViewList(fn, 'teacherCrops', teacherCrops, 2, '[B, K]', shape, 'studentCrops[0]');
  if (studentCrops.length === 1 && teacherCrops.length === 1) {
    throw new ValueError(
      `${fn}: studentCrops and teacherCrops have 1 view each, so every pair is a same-view pair (skipped): pass at least 2 student or 2 teacher crops`,
    );
  }
  const K = shape[1];
  assertCenter(fn, 'center', center, [1, K], `([1, K] with K = ${K} of studentCrops)`);
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { studentTemp = 0.1, teacherTemp = 0.04, centerMomentum = 0.9 } = options;
  assertPositive(fn, 'studentTemp', studentTemp);
  assertPositive(fn, 'teacherTemp', teacherTemp);
  assertInRange(fn, 'centerMomentum', centerMomentum, 0, 1, 'none');

  return tf.tidy(() => {
    const loss = crossViewDistillation(studentCrops, teacherCrops, center, studentTemp, teacherTemp);
    return { loss, center: movingCenter(center, teacherCrops, [0], centerMomentum) as tf.Tensor2D };
  });
}

/**
 * Mean over pairs (q, v), v ≠ q, of (1/B) Σ_b −Σ_k softmax((t_q − c)/Tt) · log_softmax(s_v/Ts).
 * Unvalidated (shared with `ibotLoss`); call inside a tidy. Computed per student view v as
 * Σ_k W_v ⊙ log S_v with W_v = Σ_{q ≠ v} P_q, so each log-softmax is taken once.
 */
export function crossViewDistillation(
  student: tf.Tensor[],
  teacher: tf.Tensor[],
  center: tf.Tensor,
  studentTemp: number,
  teacherTemp: number,
): tf.Scalar {
  const B = student[0].shape[0];
  const P = teacher.map((t) => tf.softmax(tf.div(tf.sub(t, center), teacherTemp)));
  const terms: tf.Tensor[] = [];
  let pairs = 0;
  student.forEach((s, v) => {
    const others = P.filter((_, q) => q !== v);
    if (others.length === 0) return;
    pairs += others.length;
    const W = others.length === 1 ? others[0] : tf.addN(others);
    terms.push(tf.sum(tf.mul(W, tf.logSoftmax(tf.div(s, studentTemp)))));
  });
  const total = terms.length === 1 ? terms[0] : tf.addN(terms);
  return tf.div(tf.neg(total), B * pairs) as tf.Scalar;
}

/**
 * m·c + (1 − m)·mean of the teacher outputs over `axes` of every view (all views have the same
 * shape, so this is the mean over all their rows / tokens), keeping c's shape.
 */
export function movingCenter(center: tf.Tensor, teacher: tf.Tensor[], axes: number[], momentum: number): tf.Tensor {
  const all = teacher.length === 1 ? teacher[0] : tf.concat(teacher, 0);
  const mean = tf.reshape(tf.mean(all, axes), center.shape);
  return tf.add(tf.mul(center, momentum), tf.mul(mean, 1 - momentum));
}

/**
 * Validates a non-empty list of float32 tensors of rank `rank` and equal shapes (the first
 * one's, or `like` when given, −1 = any) with every dimension ≥ 1; returns the first's shape.
 */
export function assertViewList(
  fn: string,
  arg: string,
  list: unknown,
  rank: number,
  layout: string,
  like?: readonly number[],
  likeName?: string,
): number[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new ValueError(`${fn}: ${arg} must be a non-empty array of ${layout} tensors, got ${Array.isArray(list) ? 'an empty array' : describe(list)}`);
  }
  const first = list[0] as tf.Tensor;
  assertRank(fn, `${arg}[0]`, first, rank, layout);
  if (like !== undefined) assertShape(fn, `${arg}[0]`, first, like, `(like ${likeName})`);
  if (first.shape.some((d) => d < 1)) throw new ShapeError(`${fn}: ${arg}[0] must have every dimension >= 1, got ${formatShape(first.shape)}`);
  list.forEach((x: tf.Tensor, i: number) => {
    if (i > 0) assertShape(fn, `${arg}[${i}]`, x, first.shape, `(like ${arg}[0])`);
    if (x.dtype !== 'float32') throw new ValueError(`${fn}: ${arg}[${i}] must be float32, got ${describe(x)}`);
  });
  return first.shape;
}

/** Validates a float32 center tensor of the given shape. */
export function assertCenter(fn: string, arg: string, center: unknown, shape: number[], hint: string): void {
  assertShape(fn, arg, center as tf.Tensor, shape, hint);
  if ((center as tf.Tensor).dtype !== 'float32') throw new ValueError(`${fn}: ${arg} must be float32, got ${describe(center)}`);
}
