import * as tf from '@tensorflow/tfjs';
import {
  ShapeError,
  ValueError,
  assertInRange,
  assertInteger,
  assertPositive,
  assertRank,
  assertShape,
  describe,
  formatShape,
  l2Normalize,
  transposeLast2,
} from '@mmc/core';
import { sinkhornBalance } from './sinkhorn.js';

/** Options of {@link msnLoss}. */
export interface MsnLossOptions {
  /** Temperature of the anchor predictions (> 0). Default 0.1 (MSN's `temperature`). */
  anchorTemp?: number;
  /**
   * Temperature of the targets (> 0). Default 0.025 = 0.1 · 0.25: MSN's softmax at 0.1 sharpened
   * with T = 0.25 (p^(1/T) renormalised) is exactly a softmax at 0.1 · 0.25.
   */
  targetTemp?: number;
  /** Weight of the mean-entropy-maximisation regulariser (≥ 0). Default 1 (MSN's `me_max: true`). */
  meMaxWeight?: number;
  /** Balance the targets with Sinkhorn-Knopp (see `sinkhorn`). Default false (MSN's `use_sinkhorn` is true in its configs). */
  sinkhorn?: boolean;
  /** Sinkhorn iterations (integer ≥ 1). Default 3 (MSN). */
  sinkhornIterations?: number;
}

/**
 * Result of {@link msnLoss}: scalars owned by the caller (a type alias, so it is a
 * `tf.TensorContainer`).
 */
export type MsnLossResult = {
  /** ce + meMaxWeight · meMax */
  loss: tf.Scalar;
  /** Mean cross-entropy H(targets, anchor predictions). */
  ce: tf.Scalar;
  /** Unweighted regulariser log K − H(mean anchor prediction), whatever `meMaxWeight` is. */
  meMax: tf.Scalar;
};

/**
 * MSN's loss ("Masked Siamese Networks for Label-Efficient Learning", Assran et al. 2022;
 * facebookresearch/msn `src/losses.py`, `init_msn_loss`): the prediction of each masked anchor
 * view over K learnable prototypes must match the sharpened prediction of the unmasked target
 * view of the same image, plus a mean-entropy-maximisation regulariser that spreads the batch
 * over the prototypes:
 *
 *     p̂ = prototypes/‖·‖,  â = anchor/‖·‖,  t̂ = target/‖·‖                     (row-wise)
 *     P = softmax(â·p̂ᵀ / anchorTemp)                                  [M·B, K]
 *     Y = softmax(t̂·p̂ᵀ / targetTemp)   (= sharpen(softmax(t̂·p̂ᵀ/0.1), T = 0.25) at the defaults)
 *     Y ← sinkhorn(Y, iterations)        (when `sinkhorn`)
 *     Y is constant: no gradient reaches `target` or, through Y, `prototypes` (torch.no_grad())
 *     ce    = (1/(M·B)) Σ_{j,b} −Σ_k Y[b, k] · log P[j·B + b, k]         (anchor view j of image b)
 *     P̄     = (1/(M·B)) Σ_i P[i, :]
 *     meMax = log K − H(P̄) = log K + Σ_k P̄_k log P̄_k
 *     loss  = ce + meMaxWeight · meMax
 *
 * Anchors are view-major: rows j·B .. j·B + B − 1 are anchor view j (M views, e.g. 1 random
 * mask + 10 focal crops in MSN) of images 0..B − 1, each compared with target row b (MSN's
 * `torch.cat([targets] * num_views)`). MSN's prototype labels are the identity (one label per
 * prototype), so its soft-nearest-neighbour classifier reduces to the softmax above. Numerics:
 * log P is a log-softmax and log P̄ a log-sum-exp over rows, so a prototype nobody picks gives
 * 0·log 0 = 0 (as the official `log(p^-p)`), never NaN. MSN's optional entropy term
 * (`use_entropy`) and the all-reduce of P̄ across devices are not included.
 *
 * Gradients: w.r.t. `anchor` and `prototypes` (through P only); `target` and the target branch
 * are wrapped in a zero-gradient op, so the prototypes' gradient matches MSN's even though the
 * same prototype tensor is used on both branches.
 *
 * @param anchor `[M·B, D]` float32 student (anchor) representations, view-major
 * @param target `[B, D]` float32 target-encoder representations of the unmasked view
 * @param prototypes `[K, D]` float32 learnable prototypes
 * @param options `{ anchorTemp = 0.1, targetTemp = 0.025, meMaxWeight = 1, sinkhorn = false, sinkhornIterations = 3 }`
 * @returns `{ loss, ce, meMax }` scalars (owned by the caller)
 * @throws ShapeError on wrong ranks/shapes (anchor rows not a multiple of B), ValueError on bad options or dtypes
 * @example
 * ```ts
 * const prototypes = tf.variable(tf.randomNormal([1024, 256]));
 * const { loss, ce, meMax } = msnLoss(anchorZ, targetZ, prototypes, { sinkhorn: true });
 * ```
 */
export function msnLoss(anchor: tf.Tensor, target: tf.Tensor, prototypes: tf.Tensor, options: MsnLossOptions = {}): MsnLossResult {
  const fn = 'msnLoss';
  assertRank(fn, 'target', target, 2, '[B, D]');
  const [B, D] = target.shape;
  if (B < 1 || D < 1) throw new ShapeError(`${fn}: target must have B, D >= 1, got ${formatShape(target.shape)}`);
  assertShape(fn, 'anchor', anchor, [-1, D], `([M·B, D] with D = ${D} of target)`);
  const MB = anchor.shape[0];
  if (MB < B || MB % B !== 0) {
    throw new ShapeError(`${fn}: anchor must have M·B rows (M >= 1 views of the B = ${B} target images, view-major), got ${formatShape(anchor.shape)}`);
  }
  assertShape(fn, 'prototypes', prototypes, [-1, D], `([K, D] with D = ${D} of target)`);
  const K = prototypes.shape[0];
  if (K < 1) throw new ShapeError(`${fn}: prototypes must have K >= 1, got ${formatShape(prototypes.shape)}`);
  for (const [name, t] of [['anchor', anchor], ['target', target], ['prototypes', prototypes]] as const) {
    if (t.dtype !== 'float32') throw new ValueError(`${fn}: ${name} must be float32, got ${describe(t)}`);
  }
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { anchorTemp = 0.1, targetTemp = 0.025, meMaxWeight = 1, sinkhorn = false, sinkhornIterations = 3 } = options;
  assertPositive(fn, 'anchorTemp', anchorTemp);
  assertPositive(fn, 'targetTemp', targetTemp);
  assertInRange(fn, 'meMaxWeight', meMaxWeight, 0, Infinity, 'high');
  if (typeof sinkhorn !== 'boolean') throw new ValueError(`${fn}: sinkhorn must be a boolean, got ${describe(sinkhorn)}`);
  assertInteger(fn, 'sinkhornIterations', sinkhornIterations, 1);
  const M = MB / B;

  return tf.tidy(() => {
    const protoT = transposeLast2(l2Normalize(prototypes)); // [D, K]
    const logP = tf.logSoftmax(tf.div(tf.matMul(l2Normalize(anchor), protoT), anchorTemp)); // [M·B, K]
    const Y = constantTargets(target, prototypes, targetTemp, sinkhorn ? sinkhornIterations : 0); // [B, K]
    const ce = tf.div(tf.neg(tf.sum(tf.mul(tf.reshape(logP, [M, B, K]), Y))), MB) as tf.Scalar;
    const logMean = tf.sub(tf.logSumExp(logP, 0), Math.log(MB)); // log P̄, [K]
    const meMax = tf.add(tf.sum(tf.mul(tf.exp(logMean), logMean)), Math.log(K)) as tf.Scalar;
    const loss = (meMaxWeight === 0 ? tf.add(ce, 0) : tf.add(ce, tf.mul(meMax, meMaxWeight))) as tf.Scalar;
    return { loss, ce, meMax };
  });
}

/**
 * Y = softmax(t̂·p̂ᵀ/T) (Sinkhorn-balanced when `iterations` > 0) as an op whose gradient w.r.t.
 * both inputs is zero (MSN computes its targets under torch.no_grad()).
 */
function constantTargets(target: tf.Tensor, prototypes: tf.Tensor, T: number, iterations: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, p] = args as [tf.Tensor2D, tf.Tensor2D];
    const probs = tf.softmax(tf.div(tf.matMul(l2Normalize(t), transposeLast2(l2Normalize(p))), T));
    return {
      value: iterations > 0 ? sinkhornBalance(probs, iterations) : probs,
      gradFunc: () => [tf.zeros(t.shape), tf.zeros(p.shape)],
    };
  }) as (t: tf.Tensor, p: tf.Tensor) => tf.Tensor2D;
  return op(target, prototypes);
}
