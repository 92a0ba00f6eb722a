import { describe, formatShape, ShapeError, ValueError } from '@mmc/core';
import { hostData, inputShape, type ArrayInput } from './ndarray.js';
import { thresholdKeys } from './thresholds.js';
import { promptSimilarityMap, type Prompt } from './promptSegment.js';

/** One image of a prompt-segmentation benchmark (see {@link thresholdSweep}). */
export interface SweepSample {
  /** `[h, w, D]` patch tokens of the image. */
  patches: ArrayInput;
  /** The prompt patch `{ row, col }` or pixel `{ x, y, imageSize }` on the object. */
  prompt: Prompt;
  /** `[H, W]` binary mask (0/1 or bool) of the prompted object's class; sets the output size. */
  target: ArrayInput;
  /** Class of the prompted object (an integer): IoU sums are kept per class. */
  classId: number;
}

/** Options of {@link thresholdSweep}. */
export interface ThresholdSweepOptions {
  /** Thresholds to sweep. Default `[0.1, 0.2, 0.3, 0.4]` (the paper's Table 1). */
  thresholds?: readonly number[];
}

/** Result of {@link thresholdSweep}. Keys of the records are `String(threshold)`, e.g. `"0.1"`. */
export interface ThresholdSweepResult {
  /** The thresholds, in the order given. */
  thresholds: number[];
  /** mIoU (mean over the classes that occur) per threshold. */
  miouByThreshold: Record<string, number>;
  /** Per threshold, IoU = Σ∩ / Σ∪ per class id (NaN where Σ∪ = 0). */
  perClassByThreshold: Record<string, Record<number, number>>;
  /** The class ids that occur in the samples, ascending. */
  classes: number[];
  /** The threshold with the highest mIoU (the first one on ties) — the paper's "Opt." column. */
  best: { threshold: number; miou: number };
}

const DEFAULT_THRESHOLDS = [0.1, 0.2, 0.3, 0.4];

/**
 * The prompt-segmentation benchmark of the MMC paper (Table 1): for every sample the similarity
 * map of its prompt token ({@link promptSegment}) is upsampled to the target's `[H, W]`
 * (bilinear, half-pixel centres) once, then thresholded at every threshold `t`
 * (`pred = sim > t`, strict). Per threshold and class c, over all samples of class c:
 *
 *     IoU_c(t) = Σ |pred ∧ target| / Σ |pred ∨ target|
 *     mIoU(t)  = mean of IoU_c(t) over the classes that occur
 *     best     = argmax_t mIoU(t)              (first threshold on ties)
 *
 * A class whose Σ|pred ∨ target| is 0 (empty targets and empty predictions) has IoU NaN and is
 * left out of that threshold's mean (as mmsegmentation does); an mIoU with no class left is NaN,
 * and `best` skips NaN values (it is `{ threshold: thresholds[0], miou: NaN }` when all are).
 * `target` values must be 0 or 1 (booleans read as 0/1).
 *
 * @param samples `{ patches [h, w, D], prompt, target [H, W], classId }[]` (at least one)
 * @param options `{ thresholds = [0.1, 0.2, 0.3, 0.4] }`
 * @returns `{ thresholds, miouByThreshold, perClassByThreshold, classes, best }`
 * @example
 * ```ts
 * const r = thresholdSweep([{ patches, prompt: { row: 3, col: 4 }, target: { data: mask, shape: [64, 64] }, classId: 2 }]);
 * r.miouByThreshold['0.2']; r.best; // { threshold, miou }
 * ```
 */
export function thresholdSweep(samples: readonly SweepSample[], options: ThresholdSweepOptions = {}): ThresholdSweepResult {
  const fn = 'thresholdSweep';
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new ValueError(`${fn}: samples must be a non-empty array of { patches, prompt, target, classId }, got ${describe(samples)}`);
  }
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { thresholds? }, got ${describe(options)}`);
  }
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const keys = thresholdKeys(fn, thresholds);
  const T = thresholds.length;
  const sums = new Map<number, { inter: Float64Array; union: Float64Array }>();

  samples.forEach((sample, s) => {
    const arg = `samples[${s}]`;
    if (sample == null || typeof sample !== 'object') {
      throw new ValueError(`${fn}: ${arg} must be { patches, prompt, target, classId }, got ${describe(sample)}`);
    }
    const { classId } = sample;
    if (typeof classId !== 'number' || !Number.isInteger(classId)) {
      throw new ValueError(`${fn}: ${arg}.classId must be an integer, got ${describe(classId)}`);
    }
    const tShape = inputShape(fn, `${arg}.target`, sample.target, 2, '[H, W]');
    if (tShape[0] === 0 || tShape[1] === 0) {
      throw new ShapeError(`${fn}: ${arg}.target must be a non-empty [H, W] mask, got ${formatShape(tShape)}`);
    }
    const target = hostData(sample.target);
    for (let i = 0; i < target.length; i++) {
      const v = Number(target[i]);
      if (v !== 0 && v !== 1) {
        throw new ValueError(`${fn}: ${arg}.target must be a binary mask (0/1), got ${target[i]} at pixel ${i}`);
      }
    }
    const { similarity } = promptSimilarityMap(
      fn,
      sample.patches,
      sample.prompt,
      [tShape[0], tShape[1]],
      `${arg}.patches`,
      `${arg}.prompt`,
    );
    let acc = sums.get(classId);
    if (!acc) {
      acc = { inter: new Float64Array(T), union: new Float64Array(T) };
      sums.set(classId, acc);
    }
    const inter = new Float64Array(T);
    const union = new Float64Array(T);
    for (let i = 0; i < similarity.length; i++) {
      const sim = similarity[i];
      const gt = Number(target[i]) === 1;
      for (let k = 0; k < T; k++) {
        const pred = sim > thresholds[k];
        if (pred && gt) inter[k]++;
        if (pred || gt) union[k]++;
      }
    }
    for (let k = 0; k < T; k++) {
      acc.inter[k] += inter[k];
      acc.union[k] += union[k];
    }
  });

  const classes = [...sums.keys()].sort((a, b) => a - b);
  const miouByThreshold: Record<string, number> = {};
  const perClassByThreshold: Record<string, Record<number, number>> = {};
  let best = { threshold: thresholds[0], miou: NaN };
  thresholds.forEach((t, k) => {
    const perClass: Record<number, number> = {};
    let total = 0;
    let count = 0;
    for (const c of classes) {
      const { inter, union } = sums.get(c)!;
      const iou = union[k] > 0 ? inter[k] / union[k] : NaN;
      perClass[c] = iou;
      if (!Number.isNaN(iou)) {
        total += iou;
        count++;
      }
    }
    const miou = count > 0 ? total / count : NaN;
    miouByThreshold[keys[k]] = miou;
    perClassByThreshold[keys[k]] = perClass;
    if (!Number.isNaN(miou) && (Number.isNaN(best.miou) || miou > best.miou)) best = { threshold: t, miou };
  });
  return { thresholds: thresholds.slice(), miouByThreshold, perClassByThreshold, classes, best };
}
