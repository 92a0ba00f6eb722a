import * as tf from '@tensorflow/tfjs';
import { assertInRange, describe, formatShape, ShapeError, ValueError } from '@mmc/core';

/**
 * Exponential-moving-average (momentum) update of a teacher from a student, in place:
 *
 *     θt ← m · θt + (1 − m) · θs
 *
 * as DINO / iBOT / SiT / MoCo v3 (`param_k.data.mul_(m).add_((1 - m) * param_q.detach().data)`,
 * facebookresearch/dino `main_dino.py`). The student is only read (no gradient flows); each
 * teacher variable is `assign`ed, keeping its name and trainability (teachers are usually
 * non-trainable; this function does not change that). No tensor is leaked.
 *
 * - `teacher` and `student` are both arrays (matched by position) or both records (matched by
 *   key); counts, keys and shapes must match exactly, checked before any variable is written.
 * - `momentum` ∈ [0, 1]. m = 1 leaves the teacher untouched (no arithmetic at all, so it stays
 *   bit-identical even if the student holds NaN); m = 0 copies the student exactly.
 * - A student of another dtype is cast to the teacher's dtype.
 *
 * The momentum usually follows `cosineSchedule({ base: 0.996, final: 1, totalSteps })` per
 * iteration (DINO/iBOT/SiT); MSN's `linearSchedule({ …, stretch: 1.25 })` is an alternative.
 *
 * @param teacher `tf.Variable[]` or `Record<string, tf.Variable>` updated in place
 * @param student `tf.Tensor[]` or `Record<string, tf.Tensor>` (Variables included), same shapes
 * @param momentum m in [0, 1]
 * @example
 * ```ts
 * const teacherVars = studentVars.map((v) => tf.variable(v.clone(), false, `teacher/${v.name}`));
 * emaUpdate(teacherVars, studentVars, 0.996);
 * ```
 */
export function emaUpdate(
  teacher: tf.Variable[] | Record<string, tf.Variable>,
  student: tf.Tensor[] | Record<string, tf.Tensor>,
  momentum: number,
): void {
  const fn = 'emaUpdate';
  assertInRange(fn, 'momentum', momentum, 0, 1, 'none');
  const pairs = matchPairs(fn, teacher, student);
  for (const [name, t, s] of pairs) {
    if (t == null || typeof (t as tf.Variable).assign !== 'function') {
      throw new ValueError(`${fn}: teacher${name} must be a tf.Variable, got ${describe(t)}`);
    }
    if (s == null || typeof (s as tf.Tensor).rank !== 'number') {
      throw new ValueError(`${fn}: student${name} must be a tf.Tensor, got ${describe(s)}`);
    }
    const same = t.rank === s.rank && t.shape.every((d, i) => d === s.shape[i]);
    if (!same) {
      throw new ShapeError(
        `${fn}: student${name} must have shape ${formatShape(t.shape)} (like teacher${name}), got ${formatShape(s.shape)}`,
      );
    }
  }
  if (momentum === 1) return;
  for (const [, t, s] of pairs) {
    tf.tidy(() => {
      const sv = s.dtype === t.dtype ? s : tf.cast(s, t.dtype);
      if (momentum === 0) {
        t.assign(tf.clone(sv));
      } else {
        t.assign(tf.add(tf.mul(t, momentum), tf.mul(sv, 1 - momentum)));
      }
    });
  }
}

/** Pairs teacher and student entries by position or key; `name` is `[i]` or `['key']`. */
function matchPairs(
  fn: string,
  teacher: tf.Variable[] | Record<string, tf.Variable>,
  student: tf.Tensor[] | Record<string, tf.Tensor>,
): Array<[string, tf.Variable, tf.Tensor]> {
  if (teacher == null || typeof teacher !== 'object') {
    throw new ValueError(`${fn}: teacher must be an array or a record of tf.Variable, got ${describe(teacher)}`);
  }
  if (student == null || typeof student !== 'object') {
    throw new ValueError(`${fn}: student must be an array or a record of tf.Tensor, got ${describe(student)}`);
  }
  const tArr = Array.isArray(teacher);
  const sArr = Array.isArray(student);
  if (tArr !== sArr) {
    throw new ValueError(
      `${fn}: teacher and student must both be arrays or both be records, got teacher ${tArr ? 'array' : 'record'} and student ${sArr ? 'array' : 'record'}`,
    );
  }
  if (tArr) {
    const ta = teacher as tf.Variable[];
    const sa = student as tf.Tensor[];
    if (ta.length !== sa.length) {
      throw new ShapeError(`${fn}: student must have ${ta.length} tensors (like teacher), got ${sa.length}`);
    }
    return ta.map((t, i) => [`[${i}]`, t, sa[i]]);
  }
  const tr = teacher as Record<string, tf.Variable>;
  const sr = student as Record<string, tf.Tensor>;
  const tKeys = Object.keys(tr);
  const sKeys = new Set(Object.keys(sr));
  const missing = tKeys.filter((k) => !sKeys.has(k));
  const extra = [...sKeys].filter((k) => !Object.prototype.hasOwnProperty.call(tr, k));
  if (missing.length > 0 || extra.length > 0) {
    const list = (ks: string[]) => (ks.length > 5 ? `${ks.slice(0, 5).join(', ')}, … (${ks.length})` : ks.join(', '));
    const parts = [];
    if (missing.length > 0) parts.push(`missing ${list(missing)}`);
    if (extra.length > 0) parts.push(`extra ${list(extra)}`);
    throw new ShapeError(`${fn}: student must have the same names as teacher: ${parts.join('; ')}`);
  }
  return tKeys.map((k) => [`['${k}']`, tr[k], sr[k]]);
}
