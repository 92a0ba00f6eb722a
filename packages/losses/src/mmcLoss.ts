import * as tf from '@tensorflow/tfjs';
import { MmcError, ShapeError, ValueError, assertInRange, assertInteger, assertOneOf, assertPositive, describe } from '@mmc/core';
import { crossViewInfoNCE } from './crossViewInfoNCE.js';
import { mimL1Loss } from './mimL1Loss.js';
import { patchMomentumContrast } from './patchMomentumContrast.js';

/** Inputs of the masked-image-modelling term for one view (see `mimL1Loss`). */
export interface MimPart {
  /** `[B, H, W, C]` reconstruction of the corrupted view. */
  pred: tf.Tensor;
  /** `[B, H, W, C]` clean image. */
  target: tf.Tensor;
  /** `[B, H, W]` 1 = corrupted pixel. */
  pixelMask: tf.Tensor;
}

/** Inputs of the patch momentum-contrast term for one view (see `patchMomentumContrast`). */
export interface PatchPart {
  /** `[B, N, D]` student patch tokens of the masked view. */
  student: tf.Tensor;
  /** `[B, N, D]` teacher patch tokens of the clean view. */
  teacher: tf.Tensor;
  /** `[B, N]` token mask (1 = masked); omitted = all tokens. */
  mask?: tf.Tensor;
}

/** Inputs of the global (CLS) contrast term (see `crossViewInfoNCE`). */
export interface GlobalPart {
  /** `[B, D]` student CLS of masked view 1. */
  q1: tf.Tensor;
  /** `[B, D]` student CLS of masked view 2. */
  q2: tf.Tensor;
  /** `[B, D]` teacher CLS of clean view 1. */
  k1: tf.Tensor;
  /** `[B, D]` teacher CLS of clean view 2. */
  k2: tf.Tensor;
}

/** The three losses' inputs. A part whose weight is 0 may be omitted. */
export interface MmcLossParts {
  /** One entry per view; a list is averaged. */
  mim?: MimPart | MimPart[];
  /** One entry per view; a list is averaged. Never concatenate views along the batch axis. */
  patch?: PatchPart | PatchPart[];
  global?: GlobalPart;
}

/** Weights of the three terms. */
export interface MmcLossWeights {
  mim: number;
  patch: number;
  global: number;
}

/** Options of {@link mmcLoss}. */
export interface MmcLossOptions {
  /** Weights of the terms (each ≥ 0); missing keys default to 1. Default `{ mim: 1, patch: 1, global: 1 }`. */
  weights?: Partial<MmcLossWeights>;
  /** Temperature of both contrastive terms (> 0). Default 0.2 (MMC). */
  temperature?: number;
  /** Negative set of the patch term. Default `'other-images'` (MMC). */
  negatives?: 'other-images' | 'same-position';
  /** Query-row chunk size of the patch term (see `patchMomentumContrast`). Default 2048. */
  chunkSize?: number;
}

/**
 * Result of {@link mmcLoss}: all scalars, owned by the caller (a type alias, so it is a
 * `tf.TensorContainer`: `tf.dispose(result)` works).
 */
export type MmcLossResult = {
  /** w.mim·mim + w.patch·patch + w.global·global */
  loss: tf.Scalar;
  /** Unweighted MIM L1 term (mean over views); 0 when skipped. */
  mim: tf.Scalar;
  /** Unweighted patch momentum-contrast term (mean over views); 0 when skipped. */
  patch: tf.Scalar;
  /** Unweighted global cross-view InfoNCE term; 0 when skipped. */
  global: tf.Scalar;
};

/**
 * MMC's total objective ("Masked Momentum Contrastive Learning for Zero-shot Semantic
 * Understanding", the weighted sum of the reconstruction loss, eq. 2 and eq. 3):
 *
 *     mim    = mean over views v of mimL1Loss(pred_v, target_v, pixelMask_v)          (SiT / GMML L1)
 *     patch  = mean over views v of patchMomentumContrast(s_v, t_v, { mask_v, T, negatives })   (eq. 2)
 *     global = crossViewInfoNCE(q1, q2, k1, k2, { temperature: T, reduction: 'mean' })         (eq. 3)
 *     loss   = w.mim·mim + w.patch·patch + w.global·global
 *
 * There is no official MMC code; the terms follow DESIGN §5 and the official files their own
 * functions cite (SiT `main.py` for the L1 and the CLS contrast, MoCo v3 `moco/builder.py`).
 *
 * Views: pass one `PatchPart` per view. Do NOT concatenate the two views along the batch axis
 * for the patch term: the other view of the same image would then count as a negative (a
 * different image index). The list forms are averaged with equal weights.
 *
 * Weights: a term whose weight is 0 is skipped: it is not computed and its inputs are neither
 * required nor validated (so `parts.mim` may be omitted for `weights.mim = 0`); its entry in the
 * result is a 0 scalar. A term with a non-zero weight must be present. Errors from a term are
 * re-thrown with the same class and a `mmcLoss: parts.<term>[i]:` prefix.
 *
 * Gradients: differentiate `loss` w.r.t. the student only; teacher tokens/CLS and the clean
 * target are constants (EMA teacher). Inside `tf.variableGrads`/`optimizer.minimize`, keep the
 * parts you want to log with `tf.keep`.
 *
 * @param parts `{ mim, patch, global }` inputs (see {@link MmcLossParts})
 * @param options `{ weights = { mim: 1, patch: 1, global: 1 }, temperature = 0.2, negatives = 'other-images', chunkSize = 2048 }`
 * @returns `{ loss, mim, patch, global }` scalars (owned by the caller)
 * @throws ShapeError / ValueError naming `mmcLoss`, the part and the argument
 * @example
 * ```ts
 * const { loss, mim, patch, global } = mmcLoss({
 *   mim: [{ pred: rec1, target: img1, pixelMask: pm1 }, { pred: rec2, target: img2, pixelMask: pm2 }],
 *   patch: [{ student: s1, teacher: t1, mask: tm1 }, { student: s2, teacher: t2, mask: tm2 }],
 *   global: { q1: sCls1, q2: sCls2, k1: tCls1, k2: tCls2 },
 * });
 * ```
 */
export function mmcLoss(parts: MmcLossParts, options: MmcLossOptions = {}): MmcLossResult {
  const fn = 'mmcLoss';
  if (parts == null || typeof parts !== 'object') throw new ValueError(`${fn}: parts must be an object { mim, patch, global }, got ${describe(parts)}`);
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(options)}`);
  const { weights = {}, temperature = 0.2, negatives = 'other-images', chunkSize = 2048 } = options;
  if (weights == null || typeof weights !== 'object') throw new ValueError(`${fn}: weights must be an object, got ${describe(weights)}`);
  const w: MmcLossWeights = { mim: weights.mim ?? 1, patch: weights.patch ?? 1, global: weights.global ?? 1 };
  for (const key of ['mim', 'patch', 'global'] as const) assertInRange(fn, `weights.${key}`, w[key], 0, Infinity, 'high');
  assertPositive(fn, 'temperature', temperature);
  assertOneOf(fn, 'negatives', negatives, ['other-images', 'same-position'] as const);
  assertInteger(fn, 'chunkSize', chunkSize, 1);

  const mimList = w.mim === 0 ? [] : partList(fn, 'mim', parts.mim);
  const patchList = w.patch === 0 ? [] : partList(fn, 'patch', parts.patch);
  const global = w.global === 0 ? undefined : parts.global;
  if (w.global !== 0 && (global == null || typeof global !== 'object')) {
    throw new ValueError(`${fn}: parts.global { q1, q2, k1, k2 } is required when weights.global is ${w.global}, got ${describe(global)}`);
  }

  return tf.tidy(() => {
    const mim = meanOf(
      mimList.map((p, i) => rethrow(fn, `parts.mim${index(parts.mim, i)}`, () => mimL1Loss(p.pred, p.target, p.pixelMask))),
    );
    const patch = meanOf(
      patchList.map((p, i) =>
        rethrow(fn, `parts.patch${index(parts.patch, i)}`, () =>
          patchMomentumContrast(p.student, p.teacher, { mask: p.mask, temperature, negatives, chunkSize }),
        ),
      ),
    );
    const glob =
      global === undefined
        ? tf.scalar(0)
        : rethrow(fn, 'parts.global', () => crossViewInfoNCE(global.q1, global.q2, global.k1, global.k2, { temperature, reduction: 'mean' }));
    let loss: tf.Scalar = tf.scalar(0);
    if (w.mim !== 0) loss = tf.add(loss, tf.mul(mim, w.mim));
    if (w.patch !== 0) loss = tf.add(loss, tf.mul(patch, w.patch));
    if (w.global !== 0) loss = tf.add(loss, tf.mul(glob, w.global));
    return { loss, mim, patch, global: glob };
  });
}

/** A single part or a non-empty list of parts → list (validated to be objects). */
function partList<P extends object>(fn: string, name: string, part: P | P[] | undefined): P[] {
  if (part == null) throw new ValueError(`${fn}: parts.${name} is required when weights.${name} is not 0, got ${describe(part)}`);
  const list = Array.isArray(part) ? part : [part];
  if (list.length === 0) throw new ValueError(`${fn}: parts.${name} must be a part or a non-empty list of parts, got an empty array`);
  list.forEach((p, i) => {
    if (p == null || typeof p !== 'object') {
      throw new ValueError(`${fn}: parts.${name}${index(part, i)} must be an object, got ${describe(p)}`);
    }
  });
  return list;
}

const index = (part: unknown, i: number) => (Array.isArray(part) ? `[${i}]` : '');

/** Mean of scalars (0 for none). */
function meanOf(xs: tf.Scalar[]): tf.Scalar {
  if (xs.length === 0) return tf.scalar(0);
  if (xs.length === 1) return xs[0];
  return tf.div(tf.addN(xs), xs.length) as tf.Scalar;
}

/** Runs `f`; an MmcError it throws is re-thrown (same class) with a `mmcLoss: <where>:` prefix. */
function rethrow<T>(fn: string, where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${fn}: ${where}: ${e.message}`);
    if (e instanceof ValueError) throw new ValueError(`${fn}: ${where}: ${e.message}`);
    if (e instanceof MmcError) throw new MmcError(`${fn}: ${where}: ${e.message}`, e.code);
    throw e;
  }
}
