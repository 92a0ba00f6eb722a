import { assertInteger, describe, formatShape, ShapeError, ValueError } from '@mmc/core';
import { hostData, inputShape, isTensor, type ArrayInput } from './ndarray.js';

/** One label map: a tensor, a `{ data, shape }` array, or a bare (flat) integer array. */
export type LabelMap = ArrayInput | ArrayLike<number>;

/** Options of {@link meanIoU}. */
export interface MeanIoUOptions {
  /** Number of classes C; valid labels are 0 … C − 1. Required. */
  numClasses: number;
  /** Target pixels with this label are left out of everything. Default 255 (mmsegmentation's). */
  ignoreIndex?: number;
}

/** Result of {@link meanIoU} (mmsegmentation's `IoUMetric` / `total_area_to_metrics`). */
export interface MeanIoUResult {
  /** Mean of `perClass` over the classes whose union is > 0 (NaN when there is none). */
  miou: number;
  /** IoU per class = ∩ / ∪ over all images; NaN for classes with union 0 (excluded from the mean). */
  perClass: Float64Array;
  /** Overall pixel accuracy = correct / valid (non-ignored) pixels (NaN when there is none). */
  aAcc: number;
  /** Per-class totals over all images (mmsegmentation's names): |pred ∧ target|. */
  areaIntersect: Float64Array;
  /** |pred ∨ target| = areaPred + areaLabel − areaIntersect. */
  areaUnion: Float64Array;
  /** Pixels predicted as the class (among valid pixels). */
  areaPred: Float64Array;
  /** Pixels labelled as the class (among valid pixels). */
  areaLabel: Float64Array;
}

function isList(x: unknown): x is unknown[] {
  return Array.isArray(x) && (x.length === 0 || (x[0] != null && typeof x[0] === 'object'));
}

function readMap(fn: string, arg: string, x: unknown): { data: ArrayLike<number>; shape: number[] } {
  if (Array.isArray(x) || ArrayBuffer.isView(x)) {
    const data = x as ArrayLike<number>;
    return { data, shape: [data.length] };
  }
  const shape = inputShape(fn, arg, x);
  return { data: hostData(x as ArrayInput), shape };
}

/**
 * Mean intersection-over-union of semantic label maps, following mmsegmentation's IoU metric
 * (`mmseg/evaluation/metrics/iou_metric.py`: `intersect_and_union`, `total_area_to_metrics`):
 *
 *     valid       = target ≠ ignoreIndex                    (those pixels leave pred and target)
 *     ∩_c = #{valid, pred = target = c},  P_c = #{valid, pred = c},  L_c = #{valid, target = c}
 *     ∪_c = P_c + L_c − ∩_c                                  (each summed over all images first)
 *     IoU_c = ∩_c / ∪_c        (NaN when ∪_c = 0: the class is excluded from the mean)
 *     mIoU = nanmean_c IoU_c,   aAcc = Σ_c ∩_c / Σ_c L_c
 *
 * A class that is only predicted (never in the target) has IoU 0 and counts in the mean. A
 * prediction equal to `ignoreIndex` on a valid pixel counts as a miss (no class predicted),
 * as mmsegmentation's `histc` drops it. Labels must be integers in [0, numClasses) or equal to
 * `ignoreIndex`; anything else raises a `ValueError` naming the map, the pixel and the value.
 *
 * `pred` and `target` are one label map each or equal-length lists of maps (pairwise equal
 * shapes; images may differ in size). A map is a tensor, a `{ data, shape }` array, or a flat
 * integer array (`Int32Array`, `Uint8Array`, `number[]`).
 *
 * @param pred predicted label map(s), e.g. `[H, W]` int32
 * @param target ground-truth label map(s), same shape(s) as `pred`
 * @param options `{ numClasses, ignoreIndex = 255 }`
 * @returns `{ miou, perClass, aAcc, areaIntersect, areaUnion, areaPred, areaLabel }`
 * @example
 * ```ts
 * const r = meanIoU({ data: new Int32Array([0, 1, 1, 2, 2, 2]), shape: [2, 3] },
 *                   { data: new Int32Array([0, 1, 2, 2, 2, 255]), shape: [2, 3] }, { numClasses: 3 });
 * r.miou; r.perClass; r.aAcc;
 * ```
 */
export function meanIoU(pred: LabelMap | LabelMap[], target: LabelMap | LabelMap[], options: MeanIoUOptions): MeanIoUResult {
  const fn = 'meanIoU';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { numClasses, ignoreIndex? }, got ${describe(options)}`);
  }
  const { numClasses, ignoreIndex = 255 } = options;
  assertInteger(fn, 'numClasses', numClasses, 1);
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) {
    throw new ValueError(`${fn}: ignoreIndex must be an integer, got ${describe(ignoreIndex)}`);
  }
  const predList = isList(pred) && !isTensor(pred);
  const targetList = isList(target) && !isTensor(target);
  if (predList !== targetList) {
    throw new ValueError(
      `${fn}: pred and target must both be one label map or both be lists of maps, got ${predList ? 'a list' : 'one map'} for pred and ${targetList ? 'a list' : 'one map'} for target`,
    );
  }
  const preds = (predList ? pred : [pred]) as unknown[];
  const targets = (targetList ? target : [target]) as unknown[];
  if (preds.length !== targets.length) {
    throw new ValueError(`${fn}: pred and target must list the same number of maps, got ${preds.length} and ${targets.length}`);
  }
  const C = numClasses;
  const areaIntersect = new Float64Array(C);
  const areaPred = new Float64Array(C);
  const areaLabel = new Float64Array(C);
  const validLabel = (v: number) => Number.isInteger(v) && ((v >= 0 && v < C) || v === ignoreIndex);

  for (let m = 0; m < preds.length; m++) {
    const pArg = predList ? `pred[${m}]` : 'pred';
    const tArg = targetList ? `target[${m}]` : 'target';
    const p = readMap(fn, pArg, preds[m]);
    const t = readMap(fn, tArg, targets[m]);
    const sameShape = p.shape.length === t.shape.length && p.shape.every((d, i) => d === t.shape[i]);
    if (!sameShape) {
      throw new ShapeError(`${fn}: ${pArg} must have the shape of ${tArg} ${formatShape(t.shape)}, got ${formatShape(p.shape)}`);
    }
    const pd = p.data;
    const td = t.data;
    for (let i = 0; i < td.length; i++) {
      const tv = Number(td[i]);
      const pv = Number(pd[i]);
      if (!validLabel(tv)) {
        throw new ValueError(
          `${fn}: ${tArg} has label ${td[i]} at pixel ${i}; labels must be integers in [0, ${C}) or the ignoreIndex ${ignoreIndex}`,
        );
      }
      if (!validLabel(pv)) {
        throw new ValueError(
          `${fn}: ${pArg} has label ${pd[i]} at pixel ${i}; labels must be integers in [0, ${C}) or the ignoreIndex ${ignoreIndex}`,
        );
      }
      if (tv === ignoreIndex) continue;
      areaLabel[tv]++;
      if (pv >= 0 && pv < C) {
        areaPred[pv]++;
        if (pv === tv) areaIntersect[pv]++;
      }
    }
  }

  const areaUnion = new Float64Array(C);
  const perClass = new Float64Array(C);
  let total = 0;
  let count = 0;
  let correct = 0;
  let valid = 0;
  for (let c = 0; c < C; c++) {
    areaUnion[c] = areaPred[c] + areaLabel[c] - areaIntersect[c];
    perClass[c] = areaUnion[c] > 0 ? areaIntersect[c] / areaUnion[c] : NaN;
    if (!Number.isNaN(perClass[c])) {
      total += perClass[c];
      count++;
    }
    correct += areaIntersect[c];
    valid += areaLabel[c];
  }
  return {
    miou: count > 0 ? total / count : NaN,
    perClass,
    aAcc: valid > 0 ? correct / valid : NaN,
    areaIntersect,
    areaUnion,
    areaPred,
    areaLabel,
  };
}
