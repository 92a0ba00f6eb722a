import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertPositive, assertRank, formatShape, l2Normalize, ShapeError, transposeLast2, ValueError } from '@mmc/core';

/** Options of {@link propagateStep}. */
export interface PropagateStepOptions {
  /** Keep, for each target position, the context entries ≥ the k-th largest affinity (default 5). */
  topk?: number;
  /**
   * Only context positions with |Δrow| ≤ n and |Δcol| ≤ n of the target position count
   * (default 12, DINO's `size_mask_neighborhood`); 0 disables the restriction.
   */
  neighborhood?: number;
  /** Affinity temperature T in exp(f·f′/T) (default 0.1, hard-coded in DINO). */
  temperature?: number;
}

/** Rows of the affinity computed at once: about 4M floats per chunk. */
const CHUNK_ELEMENTS = 1 << 22;

/**
 * One step of DINO's video label propagation (Caron et al., "Emerging Properties in
 * Self-Supervised Vision Transformers", 2021; `facebookresearch/dino`
 * `eval_video_segmentation.py`, `label_propagation`, itself from UVC / Liusifei): the soft label
 * map of a target frame as an affinity-weighted average of the context frames' soft maps.
 *
 *     f  = target tokens, L2-normalised per token            [N, D],   N = h·w
 *     f′ = context tokens, L2-normalised per token           [M, D],   M = T·N (frame-major)
 *     A[m, n] = exp(f′_m · f_n / temperature) · mask[m, n]   mask = |Δrow| ≤ nb ∧ |Δcol| ≤ nb
 *     A[m, n] = 0 where A[m, n] < (k-th largest of A[·, n])  top-k over all T·N context
 *                                                            positions together, ties kept
 *     A[·, n] /= Σ_m A[m, n]                                 column-normalised
 *     soft[c, n] = Σ_m contextSoft[m, c] · A[m, n]
 *
 * Order as DINO: exp, then the neighbourhood mask (multiplied, so masked entries are 0 and still
 * take part in the top-k), then the top-k threshold (`aff[aff < min(topk)] = 0`, which keeps
 * every entry tied with the k-th value), then the column normalisation. For numerical safety
 * the exponent is shifted by the largest in-neighbourhood similarity of each target column,
 * exp((s − max)/T): the factor cancels in the normalisation and the top-k order is unchanged, so
 * the result equals DINO's (which would overflow float32 for temperatures below ~0.012).
 * The mask is DINO's `restrict_neighborhood`: a square window of side 2·nb + 1 around the
 * target position, clipped at the borders, the same for every context frame.
 * `topk` larger than T·N keeps every entry (DINO would fail). The affinity is computed in
 * chunks of target rows, so memory stays bounded for large grids.
 *
 * @param target `[h, w, D]` patch features of the target frame (any embeddings; CLS dropped)
 * @param contextFeatures `[T, h, w, D]` patch features of the T context frames
 * @param contextSoft `[T, C, h, w]` their soft label maps (one-hot for a labelled frame)
 * @param options `{ topk = 5, neighborhood = 12, temperature = 0.1 }`
 * @returns `[C, h, w]` soft label map of the target frame (each column a convex combination)
 * @example
 * ```ts
 * const soft = propagateStep(frame1, tf.stack([frame0]) as tf.Tensor4D, tf.stack([oneHot0]) as tf.Tensor4D);
 * const labels = tf.argMax(soft, 0); // [h, w]
 * ```
 */
export function propagateStep(
  target: tf.Tensor,
  contextFeatures: tf.Tensor,
  contextSoft: tf.Tensor,
  options: PropagateStepOptions = {},
): tf.Tensor3D {
  const fn = 'propagateStep';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { topk?, neighborhood?, temperature? }, got ${String(options)}`);
  }
  const { topk = 5, neighborhood = 12, temperature = 0.1 } = options;
  assertInteger(fn, 'topk', topk, 1);
  assertInteger(fn, 'neighborhood', neighborhood, 0);
  assertPositive(fn, 'temperature', temperature);
  assertRank(fn, 'target', target, 3, '[h, w, D]');
  assertRank(fn, 'contextFeatures', contextFeatures, 4, '[T, h, w, D]');
  assertRank(fn, 'contextSoft', contextSoft, 4, '[T, C, h, w]');
  const [h, w, D] = target.shape;
  const [T, ch, cw, cD] = contextFeatures.shape;
  if (ch !== h || cw !== w || cD !== D) {
    throw new ShapeError(
      `${fn}: contextFeatures must have shape [T, ${h}, ${w}, ${D}] (like target ${formatShape(target.shape)}), got ${formatShape(contextFeatures.shape)}`,
    );
  }
  const [sT, C, sh, sw] = contextSoft.shape;
  if (sT !== T || sh !== h || sw !== w) {
    throw new ShapeError(
      `${fn}: contextSoft must have shape [${T}, C, ${h}, ${w}] (T from contextFeatures, h and w from target), got ${formatShape(contextSoft.shape)}`,
    );
  }
  if (T < 1 || h < 1 || w < 1 || D < 1 || C < 1) {
    throw new ShapeError(`${fn}: every dimension must be >= 1, got target ${formatShape(target.shape)}, contextSoft ${formatShape(contextSoft.shape)}`);
  }
  const N = h * w;
  const M = T * N;
  const k = Math.min(topk, M);
  // A window covering the whole grid restricts nothing.
  const restrict = neighborhood > 0 && (neighborhood < h - 1 || neighborhood < w - 1);

  return tf.tidy(() => {
    const f32 = (x: tf.Tensor) => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));
    const tgt = l2Normalize(tf.reshape(f32(target), [N, D]));
    const ctxT = transposeLast2(l2Normalize(tf.reshape(f32(contextFeatures), [M, D]))); // [D, M]
    // [T, C, N] → [C, T, N] → [C, M], frame-major like the context rows.
    const segs = tf.reshape(tf.transpose(tf.reshape(f32(contextSoft), [T, C, N]), [1, 0, 2]), [C, M]);
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / M));
    const parts: tf.Tensor[] = [];
    for (let r0 = 0; r0 < N; r0 += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, N - r0);
      const part = tf.tidy(() => {
        const s = tf.matMul(tf.slice(tgt, [r0, 0], [n, D]), ctxT); // [n, M] cosine similarities
        let aff: tf.Tensor;
        if (restrict) {
          const mask = tf.tensor2d(neighbourhoodMask(r0, n, h, w, T, neighborhood), [n, M]);
          const inside = tf.greater(mask, 0);
          const top = tf.max(tf.where(inside, s, tf.fill([n, M], -Infinity)), 1, true);
          aff = tf.mul(tf.exp(tf.div(tf.sub(s, top), temperature)), mask);
        } else {
          aff = tf.exp(tf.div(tf.sub(s, tf.max(s, 1, true)), temperature));
        }
        const kth = tf.min(tf.topk(aff, k).values, 1, true); // [n, 1]
        const kept = tf.mul(aff, tf.cast(tf.greaterEqual(aff, kth), 'float32'));
        const norm = tf.div(kept, tf.sum(kept, 1, true)); // [n, M], rows sum to 1
        return tf.matMul(segs, transposeLast2(norm)); // [C, n]
      });
      parts.push(part);
    }
    const out = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    return tf.reshape(out, [C, h, w]) as tf.Tensor3D;
  });
}

/** Rows r0 … r0+n−1 (target positions) × M = T·h·w context positions: 1 inside the window. */
function neighbourhoodMask(r0: number, n: number, h: number, w: number, T: number, nb: number): Float32Array {
  const N = h * w;
  const M = T * N;
  const out = new Float32Array(n * M);
  for (let r = 0; r < n; r++) {
    const i = Math.floor((r0 + r) / w);
    const j = (r0 + r) % w;
    const i0 = Math.max(0, i - nb);
    const i1 = Math.min(h - 1, i + nb);
    const j0 = Math.max(0, j - nb);
    const j1 = Math.min(w - 1, j + nb);
    for (let t = 0; t < T; t++) {
      const base = r * M + t * N;
      for (let ii = i0; ii <= i1; ii++) out.fill(1, base + ii * w + j0, base + ii * w + j1 + 1);
    }
  }
  return out;
}
