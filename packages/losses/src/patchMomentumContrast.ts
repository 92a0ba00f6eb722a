import * as tf from '@tensorflow/tfjs';
import {
  ShapeError,
  ValueError,
  assertInteger,
  assertOneOf,
  assertPositive,
  assertRank,
  assertShape,
  describe,
  formatShape,
  l2Normalize,
  transposeLast2,
  transposedMatMul,
} from '@mmc/core';

/** Options of {@link patchMomentumContrast}. */
export interface PatchMomentumContrastOptions {
  /**
   * `[B, N]` token mask (1 = masked token, counts; 0 = ignored), float32, int32 or bool. When
   * given, the loss is Σ(loss·m)/max(Σm, 1) over the whole batch; when omitted, the mean over
   * all B·N tokens. Values other than 0/1 act as weights. The mask receives no gradient.
   */
  mask?: tf.Tensor;
  /** Softmax temperature T (> 0). Default 0.2 (MMC). */
  temperature?: number;
  /**
   * Negative set of token (b, p):
   * `'other-images'` (default, MMC): all N teacher tokens of each of the B − 1 other images;
   * `'same-position'`: the teacher tokens k(b′, p) of the other images at the same position.
   * Other tokens of the same image are never negatives.
   */
  negatives?: 'other-images' | 'same-position';
  /**
   * `'other-images'` only: the number of query rows (tokens) whose [rows, B·N] logits block is
   * materialised at once, in the forward pass and again in the backward pass. Default 2048.
   * The result does not depend on it (up to float32 summation order).
   */
  chunkSize?: number;
}

/** Large finite negative logit offset that removes an entry from a softmax (exp → 0). */
const EXCLUDED = -1e30;

/**
 * MMC's masked momentum contrast on patch tokens (eq. 2 of "Masked Momentum Contrastive
 * Learning for Zero-shot Semantic Understanding"): each student token of the masked view must
 * pick out the teacher token of the same image at the same position in the clean view, against
 * teacher tokens of other images:
 *
 *     q(b,p) = s(b,p)/‖s(b,p)‖,  k(b,p) = t(b,p)/‖t(b,p)‖
 *     ℓ(b,p) = −log [ exp(q(b,p)·k(b,p)/T) / ( exp(q(b,p)·k(b,p)/T) + Σ_{k⁻ ∈ neg(b,p)} exp(q(b,p)·k⁻/T) ) ]
 *     neg(b,p) = { k(b′,p′) : b′ ≠ b, all p′ }    ('other-images', default)
 *              | { k(b′,p)  : b′ ≠ b }             ('same-position')
 *     L = Σ_{b,p} ℓ(b,p)·m(b,p) / max(Σ m, 1)     (with mask: one global mean over masked tokens)
 *     L = (1/(B·N)) Σ_{b,p} ℓ(b,p)                 (without mask)
 *
 * The other tokens of the same image are left out of the denominator (they are neither
 * positives nor negatives). Semantics follow DESIGN §5; the paper's text is the source (no
 * official MMC code is public); the cross-entropy-with-positive form mirrors MoCo v3's
 * `ctr_loss` (facebookresearch/moco-v3 `moco/builder.py`) applied per token, and the
 * masked-tokens-only averaging mirrors iBOT's patch loss (bytedance/ibot `main_ibot.py`),
 * but as one global mean over the batch (not per image first).
 *
 * Edge cases: B = 1 has no negatives, so every ℓ = 0 and L = 0 (zero gradient); a mask with
 * no 1 gives 0 (never NaN) with zero gradient.
 *
 * Gradients: the student receives the gradient; the teacher tokens are constants in MMC (EMA
 * teacher, no gradient), so pass teacher outputs and differentiate w.r.t. the student only.
 * The function still returns the exact gradient w.r.t. `teacher` if asked.
 *
 * Memory ('other-images'): the logits of all B·N tokens against all B·N teacher tokens form a
 * [B·N, B·N] matrix (9408² floats = 354 MB for B = 48, N = 196). It is never materialised
 * whole: query rows are processed `chunkSize` at a time, and a custom gradient recomputes each
 * chunk's logits in the backward pass instead of keeping them on the tape, so peak memory is a
 * few [chunkSize, B·N] blocks in both passes. Same-image entries are removed with a −1e30
 * additive offset (no gather / stridedSlice, so it differentiates on every backend).
 * 'same-position' uses a batched [N, B, B] logits tensor (small) and ordinary autodiff.
 *
 * Do not concatenate two views along the batch axis: the other view of the same image would
 * become a negative. Call once per view (as `mmcLoss` does) and average.
 *
 * @param student `[B, N, D]` float32 student patch tokens (masked view), after the projection head
 * @param teacher `[B, N, D]` float32 teacher patch tokens (clean view of the same images)
 * @param options `{ mask?, temperature = 0.2, negatives = 'other-images', chunkSize = 2048 }`
 * @returns scalar loss (owned by the caller)
 * @throws ShapeError on wrong ranks or mismatched shapes (mask must be [B, N]); ValueError on bad options
 * @example
 * ```ts
 * const { corrupted, tokenMask } = gmmlCorrupt(images, { rng, patchSize: 16 });
 * const s = head.apply(vit.apply(corrupted).patches);   // [B, N, D]
 * const t = teacherHead.apply(teacher.apply(images).patches);
 * const loss = patchMomentumContrast(s, t, { mask: tokenMask }); // MMC default
 * ```
 */
export function patchMomentumContrast(
  student: tf.Tensor,
  teacher: tf.Tensor,
  options: PatchMomentumContrastOptions = {},
): tf.Scalar {
  const fn = 'patchMomentumContrast';
  assertRank(fn, 'student', student, 3, '[B, N, D]');
  const [B, N, D] = student.shape;
  if (B < 1 || N < 1 || D < 1) throw new ShapeError(`${fn}: student must have B, N, D >= 1, got ${formatShape(student.shape)}`);
  assertShape(fn, 'teacher', teacher, student.shape, '(like student)');
  for (const [name, t] of [['student', student], ['teacher', teacher]] as const) {
    if (t.dtype !== 'float32') throw new ValueError(`${fn}: ${name} must be float32, got ${describe(t)}`);
  }
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { mask, temperature = 0.2, negatives = 'other-images', chunkSize = 2048 } = options;
  if (mask !== undefined) assertShape(fn, 'mask', mask, [B, N], `([B, N] of student ${formatShape(student.shape)})`);
  if (mask !== undefined && mask.dtype === 'string') throw new ValueError(`${fn}: mask must be numeric or bool, got ${describe(mask)}`);
  assertPositive(fn, 'temperature', temperature);
  assertOneOf(fn, 'negatives', negatives, ['other-images', 'same-position'] as const);
  assertInteger(fn, 'chunkSize', chunkSize, 1);

  return tf.tidy(() => {
    const q = l2Normalize(student);
    const k = l2Normalize(teacher);
    const perToken =
      negatives === 'other-images'
        ? otherImagesCrossEntropy(B, N, temperature, chunkSize)(tf.reshape(q, [B * N, D]), tf.reshape(k, [B * N, D]))
        : samePositionCrossEntropy(q, k, temperature); // [B·N], row b·N + p
    if (mask === undefined) return tf.mean(perToken) as tf.Scalar;
    const m = tf.reshape(mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32'), [B * N]);
    return tf.div(tf.sum(tf.mul(perToken, m)), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}

/**
 * Per-token cross-entropy for `negatives: 'other-images'`, with a custom gradient, chunked over
 * query rows. Inputs are the normalised tokens flattened to [B·N, D] (row b·N + p); output
 * ℓ [B·N]. For a chunk of rows R:
 *   S = Q_R·Kᵀ/T viewed as [|R|, B, N], plus −1e30 on the row's own image block;
 *   pos_i = q_i·k_i/T;  lse_i = log(exp(pos_i) + Σ_j exp(S_ij));  ℓ_i = lse_i − pos_i.
 * Backward (dy = ∂L/∂ℓ): P_ij = exp(S_ij − lse_i), σ_i = exp(pos_i − lse_i),
 *   ∂L/∂q_i = (Σ_j dy_i P_ij k_j + dy_i(σ_i − 1) k_i)/T,
 *   ∂L/∂k_j = (Σ_i dy_i P_ij q_i)/T + dy_j(σ_j − 1) q_j/T.
 */
function otherImagesCrossEntropy(B: number, N: number, T: number, chunkSize: number) {
  const rows = B * N;
  // Chunk boundaries are whole rows; row i belongs to image floor(i / N).
  const chunks: [number, number][] = [];
  for (let r0 = 0; r0 < rows; r0 += chunkSize) chunks.push([r0, Math.min(chunkSize, rows - r0)]);
  /** [rc, B, 1] offsets: EXCLUDED on the query row's own image, 0 elsewhere (built on the host). */
  const imageBias = (r0: number, rc: number): tf.Tensor3D => {
    const data = new Float32Array(rc * B);
    for (let r = 0; r < rc; r++) data[r * B + Math.floor((r0 + r) / N)] = EXCLUDED;
    return tf.tensor3d(data, [rc, B, 1]);
  };
  /** Logits of rows [r0, r0 + rc) against all teacher tokens, own image excluded: [rc, B, N]. */
  const chunkLogits = (Q: tf.Tensor2D, Kt: tf.Tensor2D, r0: number, rc: number): tf.Tensor3D => {
    const Qc = tf.slice(Q, [r0, 0], [rc, -1]);
    const S = tf.reshape(tf.div(tf.matMul(Qc, Kt), T), [rc, B, N]);
    return tf.add(S, imageBias(r0, rc));
  };

  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [Q, K] = args as [tf.Tensor2D, tf.Tensor2D];
    const save = args[2] as tf.GradSaveFunc;
    const Kt = transposeLast2(K) as tf.Tensor2D; // [D, B·N]
    const pos = tf.div(tf.sum(tf.mul(Q, K), -1), T) as tf.Tensor1D; // [B·N]
    const lseParts = chunks.map(([r0, rc]) =>
      tf.tidy(() => {
        const S = chunkLogits(Q, Kt, r0, rc);
        const p = tf.slice(pos, [r0], [rc]);
        // Stable log(exp(p) + Σ exp(S)): shift by the larger of the row max and the positive.
        const m = tf.maximum(tf.max(S, [1, 2]), p);
        const total = tf.add(tf.sum(tf.exp(tf.sub(S, tf.reshape(m, [rc, 1, 1]))), [1, 2]), tf.exp(tf.sub(p, m)));
        return tf.add(m, tf.log(total));
      }),
    );
    const lse = lseParts.length === 1 ? lseParts[0] : tf.concat(lseParts);
    save([Q, K, lse, pos]);
    const value = tf.sub(lse, pos);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [Qs, Ks, lseS, posS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const KtS = transposeLast2(Ks) as tf.Tensor2D;
        const dyF = tf.reshape(dy, [rows]);
        // Positive term: dy_i (σ_i − 1) / T.
        const dpos = tf.div(tf.mul(dyF, tf.sub(tf.exp(tf.sub(posS, lseS)), 1)), T);
        const dposCol = tf.reshape(dpos, [rows, 1]);
        const dQParts: tf.Tensor[] = [];
        let dK: tf.Tensor = tf.mul(dposCol, Qs);
        for (const [r0, rc] of chunks) {
          const [dQc, dKNext] = tf.tidy(() => {
            const S = chunkLogits(Qs, KtS, r0, rc);
            const l = tf.reshape(tf.slice(lseS, [r0], [rc]), [rc, 1, 1]);
            const w = tf.reshape(tf.div(tf.slice(dyF, [r0], [rc]), T), [rc, 1, 1]);
            const G = tf.reshape(tf.mul(tf.exp(tf.sub(S, l)), w), [rc, rows]); // dy_i P_ij / T
            const Qc = tf.slice(Qs, [r0, 0], [rc, -1]);
            return [tf.matMul(G, Ks), tf.add(dK, transposedMatMul(G, Qc, true, false))];
          });
          dK.dispose();
          dK = dKNext;
          dQParts.push(dQc);
        }
        const dQ = tf.add(dQParts.length === 1 ? dQParts[0] : tf.concat(dQParts), tf.mul(dposCol, Ks));
        return [dQ, dK];
      },
    };
  }) as (Q: tf.Tensor, K: tf.Tensor) => tf.Tensor1D;
}

/**
 * Per-token cross-entropy for `negatives: 'same-position'` (ordinary autodiff): tokens are
 * regrouped position-major ([N, B, D]); per position a [B, B] logits block whose diagonal (the
 * positive) is excluded from the negatives and prepended as its own column. Returns ℓ [B·N] in
 * row b·N + p order.
 */
function samePositionCrossEntropy(q: tf.Tensor, k: tf.Tensor, T: number): tf.Tensor1D {
  const [B, N] = q.shape;
  const qp = tf.transpose(q, [1, 0, 2]); // [N, B, D]
  const kp = tf.transpose(k, [1, 0, 2]);
  const S = tf.div(tf.matMul(qp, transposeLast2(kp)), T); // [N, B, B]
  const negatives = tf.add(S, tf.mul(tf.eye(B), EXCLUDED)); // own image excluded
  const pos = tf.div(tf.sum(tf.mul(qp, kp), -1, true), T); // [N, B, 1]
  const lse = tf.logSumExp(tf.concat([pos, negatives], -1), -1, true); // [N, B, 1]
  const ce = tf.reshape(tf.sub(lse, pos), [N, B]);
  return tf.reshape(tf.transpose(ce), [B * N]) as tf.Tensor1D;
}
