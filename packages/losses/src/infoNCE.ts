import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertFinite, assertPositive, assertRank, assertShape, describe, formatShape, l2Normalize, transposeLast2 } from '@mmc/core';

/** Options of {@link infoNCE}. */
export interface InfoNCEOptions {
  /** Softmax temperature T (> 0). Default 0.2 (MMC; MoCo v3 uses 0.2 for ViTs, SiT 0.2). */
  temperature?: number;
  /**
   * `false` (default): cross-entropy over the rows of the logits (each query against all keys).
   * `true`: ½·(CE over the rows + CE over the columns of the same logits), CLIP-style.
   */
  symmetric?: boolean;
  /** Multiplies the result. Default 1; `2·temperature` gives MoCo v3's / SiT's `ctr_loss`. */
  scale?: number;
}

/**
 * InfoNCE contrastive loss between two batches of embeddings where row i of `query` and row i
 * of `key` are the positive pair and every other row of `key` is a negative:
 *
 *     q̂ = q / ‖q‖,  k̂ = k / ‖k‖,  ℓ_ij = q̂_i · k̂_j / T
 *     L = scale · (1/B) Σ_i −log softmax_j(ℓ_i·)_i          (symmetric: false)
 *     L = scale · ½ (1/B) Σ_i [−log softmax_j(ℓ_i·)_i − log softmax_j(ℓ_·i)_i]   (symmetric: true)
 *
 * This is MMC's global-contrast objective (eq. 3 of "Masked Momentum Contrastive Learning for
 * Zero-shot Semantic Understanding"; q = student CLS of a masked view, k = teacher CLS of an
 * unmasked view) and MoCo v3's `ctr_loss` (facebookresearch/moco-v3 `moco/builder.py`: logits
 * `einsum('nc,mc->nm', q, k) / T`, labels the diagonal, `CrossEntropyLoss() * (2 * T)`) when
 * `scale = 2·T`. Use {@link crossViewInfoNCE} for the two-view form.
 *
 * Gradients: tfjs only differentiates what the caller asks for, so pass the teacher's outputs as
 * `key` and differentiate w.r.t. the student's parameters only (MoCo v3 computes k under
 * `torch.no_grad()`); the function itself does not stop gradients, so both sides learn when
 * both are differentiated (e.g. CLIP-style with `symmetric: true`).
 *
 * Numerics: log-softmax is computed with a max-shifted log-sum-exp. With B = 1 the logits are
 * 1 × 1, there is no negative, and the loss is exactly 0 (zero gradient). Zero rows stay zero
 * after normalisation (eps 1e-12, as `F.normalize`).
 *
 * @param query `[B, D]` float32 (e.g. student CLS projections)
 * @param key `[B, D]` float32, same shape as `query` (e.g. teacher CLS projections)
 * @param options `{ temperature = 0.2, symmetric = false, scale = 1 }`
 * @returns scalar loss (owned by the caller)
 * @throws ShapeError on wrong ranks/shapes, ValueError on bad options or non-float32 inputs
 * @example
 * ```ts
 * const q = tf.randomNormal([8, 128]);
 * const k = tf.randomNormal([8, 128]);
 * const loss = infoNCE(q, k);                                   // MMC
 * const moco = infoNCE(q, k, { temperature: 0.2, scale: 0.4 }); // MoCo v3 ctr_loss
 * ```
 */
export function infoNCE(query: tf.Tensor, key: tf.Tensor, options: InfoNCEOptions = {}): tf.Scalar {
  const fn = 'infoNCE';
  validatePair(fn, 'query', query, 'key', key);
  const { temperature, symmetric, scale } = resolveInfoNCEOptions(fn, options);
  return tf.tidy(() => {
    const B = query.shape[0];
    const q = l2Normalize(query);
    const k = l2Normalize(key);
    // No transposeB: wasm's transposed matMul is much slower than an explicit transpose.
    const logits = tf.div(tf.matMul(q, transposeLast2(k)), temperature); // [B, B]
    const eye = tf.eye(B);
    let ce = diagonalCrossEntropy(logits, eye, B);
    if (symmetric) ce = tf.mul(tf.add(ce, diagonalCrossEntropy(transposeLast2(logits), eye, B)), 0.5);
    return (scale === 1 ? ce : tf.mul(ce, scale)) as tf.Scalar;
  });
}

/**
 * mean_i (logsumexp_j ℓ_ij − ℓ_ii) for a [B, B] logits matrix: the cross-entropy with the
 * diagonal as target. The diagonal is read with an identity mask (no gather, so it has a
 * gradient on every backend). For B = 1 this is exactly 0.
 */
function diagonalCrossEntropy(logits: tf.Tensor, eye: tf.Tensor, B: number): tf.Scalar {
  const lse = tf.logSumExp(logits, -1); // [B]
  const diag = tf.sum(tf.mul(logits, eye), -1); // [B]
  return tf.div(tf.sum(tf.sub(lse, diag)), B) as tf.Scalar;
}

/**
 * Validates a (query, key) pair of `[B, D]` float32 tensors with equal shapes (B, D ≥ 1).
 * @internal shared with crossViewInfoNCE; not exported from the package.
 */
export function validatePair(fn: string, qName: string, q: tf.Tensor, kName: string, k: tf.Tensor): void {
  assertRank(fn, qName, q, 2, '[B, D]');
  const [B, D] = q.shape as [number, number];
  if (B < 1 || D < 1) {
    throw new ShapeError(`${fn}: ${qName} must have B >= 1 rows and D >= 1 columns, got ${formatShape(q.shape)}`);
  }
  assertShape(fn, kName, k, q.shape, `(like ${qName})`);
  for (const [name, t] of [[qName, q], [kName, k]] as const) {
    if (t.dtype !== 'float32') throw new ValueError(`${fn}: ${name} must be float32, got ${describe(t)}`);
  }
}

/**
 * Checks and fills the infoNCE options.
 * @internal shared with crossViewInfoNCE; not exported from the package.
 */
export function resolveInfoNCEOptions(fn: string, options: InfoNCEOptions): Required<InfoNCEOptions> {
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { temperature = 0.2, symmetric = false, scale = 1 } = options;
  assertPositive(fn, 'temperature', temperature);
  if (typeof symmetric !== 'boolean') throw new ValueError(`${fn}: symmetric must be a boolean, got ${describe(symmetric)}`);
  assertFinite(fn, 'scale', scale);
  return { temperature, symmetric, scale };
}
