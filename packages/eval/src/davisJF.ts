import type * as tf from '@tensorflow/tfjs';
import { assertPositive, formatShape, ShapeError, ValueError } from '@mmc/core';
import { toHostArray, type NestedNumbers, type NdArrayLike } from './ndarray.js';

/** A label map `[H, W]`: tensor, `{ data, shape }`, nested array, or flat row-major array (then `options.shape` is needed). */
export type LabelMapInput = tf.Tensor | NdArrayLike | ArrayLike<number> | NestedNumbers;

/** Options of {@link davisJF}. */
export interface DavisJFOptions {
  /** `[H, W]` of every map; required when the maps are flat arrays, checked otherwise. */
  shape?: readonly [number, number];
  /**
   * Frames scored: `'davis'` (default) = 1 … T−2, as the DAVIS 2017 semi-supervised evaluation
   * (the given first frame and the last frame are left out); `'all'` = 0 … T−1; or explicit indices.
   */
  frames?: 'davis' | 'all' | readonly number[];
  /** Object ids scored (default 1 … max(gt[0]), as DAVIS: the objects of the first annotation). */
  objectIds?: readonly number[];
  /** Boundary tolerance: a fraction of the image diagonal if < 1, else pixels (default 0.008). */
  boundThreshold?: number;
}

/** Scores of one object of {@link davisJF}. */
export interface DavisObjectScore {
  id: number;
  /** Mean region similarity (IoU) over the scored frames. */
  J: number;
  /** Mean boundary F-measure over the scored frames. */
  F: number;
  /** (J + F) / 2. */
  JF: number;
  /** Per scored frame IoU. */
  jPerFrame: Float64Array;
  /** Per scored frame boundary F-measure. */
  fPerFrame: Float64Array;
}

/** Result of {@link davisJF}. */
export interface DavisJFResult {
  /** Mean over objects of the per-object mean J ("J-Mean"). */
  J: number;
  /** Mean over objects of the per-object mean F ("F-Mean"). */
  F: number;
  /** (J + F) / 2 ("J&F-Mean"). */
  JF: number;
  perObject: DavisObjectScore[];
  /** The frame indices scored. */
  frames: number[];
}

/**
 * DAVIS region (J) and boundary (F) measures of a multi-object video segmentation
 * (Pont-Tuset et al., "The 2017 DAVIS Challenge on Video Object Segmentation";
 * `davisvideochallenge/davis2017-evaluation` `davis2017/metrics.py` `db_eval_iou`,
 * `db_eval_boundary`/`f_measure`, `_seg2bmap`; `evaluation.py`, semi-supervised task):
 *
 * - objects: ids 1 … max(gt[0]) (the first annotation); GT pixels 255 (void) count as background,
 *   as DAVIS' reader sets them to 0; predicted ids outside the object list are background.
 * - J(frame, object) = |pred ∧ gt| / |pred ∨ gt|, 1 when both masks are empty.
 * - F: boundaries by `seg2bmap` (a pixel is on the boundary when it differs from its right,
 *   lower or lower-right neighbour; the last row compares only with the right neighbour, the last
 *   column only with the lower one, the bottom-right pixel is never a boundary); each boundary
 *   is dilated by a disk of radius r = ceil(0.008 · √(H² + W²)) (skimage `disk`: x² + y² ≤ r²,
 *   OpenCV `dilate`, nothing beyond the image); precision = matched predicted boundary pixels /
 *   predicted boundary pixels, recall likewise for the GT; no predicted boundary and some GT
 *   boundary gives P = 1, R = 0; the reverse P = 0, R = 1; none at all P = R = 1;
 *   F = 2PR / (P + R), 0 when P + R = 0.
 * - frames: 1 … T−2 by default (DAVIS 2017 semi-supervised: `all_gt_masks[:, 1:-1]`, the
 *   first frame is given and the last is left out); per object, the mean over those frames;
 *   J, F = means over objects, JF = (J + F) / 2 (DAVIS' J&F-Mean on one sequence; over a
 *   dataset, average `perObject` of all sequences).
 *
 * @param pred predicted label maps, T frames `[H, W]` (frame 0 may be the given annotation)
 * @param gt ground-truth label maps, the same T frames
 * @param options `{ shape?, frames = 'davis', objectIds?, boundThreshold = 0.008 }`
 * @returns `{ J, F, JF, perObject, frames }`
 * @example
 * ```ts
 * const { labels, shape } = propagateLabels(frames, gt[0], { patchSize: 8 });
 * const { JF } = davisJF([gt[0], ...labels], gt, { shape });
 * ```
 */
export function davisJF(
  pred: readonly LabelMapInput[],
  gt: readonly LabelMapInput[],
  options: DavisJFOptions = {},
): DavisJFResult {
  const fn = 'davisJF';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { shape?, frames?, objectIds?, boundThreshold? }, got ${String(options)}`);
  }
  if (!Array.isArray(pred)) throw new ShapeError(`${fn}: pred must be an array of [H, W] label maps (one per frame), got ${typeof pred}`);
  if (!Array.isArray(gt)) throw new ShapeError(`${fn}: gt must be an array of [H, W] label maps (one per frame), got ${typeof gt}`);
  if (pred.length !== gt.length) {
    throw new ShapeError(`${fn}: pred must hold one label map per gt frame (${gt.length}), got ${pred.length}`);
  }
  if (gt.length < 1) throw new ShapeError(`${fn}: gt must hold at least 1 frame, got 0`);
  const { frames = 'davis', boundThreshold = 0.008 } = options;
  assertPositive(fn, 'boundThreshold', boundThreshold);
  let shape = options.shape ? [options.shape[0], options.shape[1]] : undefined;
  if (shape && !(Number.isInteger(shape[0]) && Number.isInteger(shape[1]) && shape[0] >= 1 && shape[1] >= 1)) {
    throw new ValueError(`${fn}: shape must be [H, W] with positive integers, got ${formatShape(shape)}`);
  }
  const T = gt.length;
  const read = (arg: string, x: unknown): ArrayLike<number> => {
    const host = toHostArray(fn, arg, x);
    if (host.shape.length === 1) {
      if (!shape) throw new ShapeError(`${fn}: ${arg} is a flat array of length ${host.data.length}: pass options.shape = [H, W]`);
      if (host.data.length !== shape[0] * shape[1]) {
        throw new ShapeError(`${fn}: ${arg} must have ${shape[0] * shape[1]} elements for shape ${formatShape(shape)}, got ${host.data.length}`);
      }
      return host.data;
    }
    if (host.shape.length !== 2) throw new ShapeError(`${fn}: ${arg} must be an [H, W] label map, got shape ${formatShape(host.shape)}`);
    if (!shape) shape = host.shape;
    else if (host.shape[0] !== shape[0] || host.shape[1] !== shape[1]) {
      throw new ShapeError(`${fn}: ${arg} must have shape ${formatShape(shape)}, got ${formatShape(host.shape)}`);
    }
    return host.data;
  };

  let frameIds: number[];
  if (frames === 'davis') {
    if (T < 3) throw new ValueError(`${fn}: frames='davis' scores frames 1 … T−2 and needs T >= 3 frames, got ${T}; pass frames: 'all' or a list`);
    frameIds = Array.from({ length: T - 2 }, (_, i) => i + 1);
  } else if (frames === 'all') {
    frameIds = Array.from({ length: T }, (_, i) => i);
  } else if (Array.isArray(frames)) {
    if (frames.length === 0 || !frames.every((f) => Number.isInteger(f) && f >= 0 && f < T)) {
      throw new ValueError(`${fn}: frames must be 'davis', 'all' or a non-empty list of frame indices in [0, ${T - 1}], got ${JSON.stringify(frames)}`);
    }
    frameIds = frames.slice();
  } else {
    throw new ValueError(`${fn}: frames must be 'davis', 'all' or a list of frame indices, got ${String(frames)}`);
  }

  const gt0 = read('gt[0]', gt[0]);
  let objectIds: number[];
  if (options.objectIds !== undefined) {
    if (!Array.isArray(options.objectIds) || options.objectIds.length === 0 || !options.objectIds.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ValueError(`${fn}: objectIds must be a non-empty list of integer ids >= 1, got ${JSON.stringify(options.objectIds)}`);
    }
    objectIds = options.objectIds.slice();
  } else {
    let maxId = 0;
    for (let i = 0; i < gt0.length; i++) if (gt0[i] !== 255 && gt0[i] > maxId) maxId = gt0[i];
    if (maxId < 1) throw new ValueError(`${fn}: gt[0] holds no object (ids >= 1); pass objectIds to score anyway`);
    objectIds = Array.from({ length: maxId }, (_, i) => i + 1);
  }

  const jf = objectIds.map(() => ({ j: new Float64Array(frameIds.length), f: new Float64Array(frameIds.length) }));
  frameIds.forEach((t, fi) => {
    const g = t === 0 ? gt0 : read(`gt[${t}]`, gt[t]);
    const p = read(`pred[${t}]`, pred[t]);
    const [H, W] = shape as number[];
    const radius = boundThreshold >= 1 ? boundThreshold : Math.ceil(boundThreshold * Math.sqrt(H * H + W * W));
    const disk = diskOffsets(radius);
    objectIds.forEach((id, oi) => {
      const gm = new Uint8Array(H * W);
      const pm = new Uint8Array(H * W);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < H * W; i++) {
        gm[i] = g[i] === id && g[i] !== 255 ? 1 : 0;
        pm[i] = p[i] === id ? 1 : 0;
        inter += gm[i] & pm[i];
        union += gm[i] | pm[i];
      }
      jf[oi].j[fi] = union === 0 ? 1 : inter / union;
      jf[oi].f[fi] = boundaryF(pm, gm, H, W, disk);
    });
  });

  const mean = (a: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s / a.length;
  };
  const perObject: DavisObjectScore[] = objectIds.map((id, oi) => {
    const J = mean(jf[oi].j);
    const F = mean(jf[oi].f);
    return { id, J, F, JF: (J + F) / 2, jPerFrame: jf[oi].j, fPerFrame: jf[oi].f };
  });
  const J = mean(perObject.map((o) => o.J));
  const F = mean(perObject.map((o) => o.F));
  return { J, F, JF: (J + F) / 2, perObject, frames: frameIds };
}

/** DAVIS `_seg2bmap` on a binary [H, W] mask (same size output). */
function seg2bmap(seg: Uint8Array, H: number, W: number): Uint8Array {
  const b = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = seg[y * W + x];
      let out: number;
      if (y === H - 1 && x === W - 1) out = 0;
      else if (y === H - 1) out = v ^ seg[y * W + x + 1]; // last row: right neighbour only
      else if (x === W - 1) out = v ^ seg[(y + 1) * W + x]; // last column: lower neighbour only
      else out = (v ^ seg[y * W + x + 1]) | (v ^ seg[(y + 1) * W + x]) | (v ^ seg[(y + 1) * W + x + 1]);
      b[y * W + x] = out;
    }
  }
  return b;
}

/** Offsets (dy, dx) of skimage `disk(r)`: dx² + dy² ≤ r². */
function diskOffsets(r: number): Int32Array {
  const R = Math.floor(r);
  const out: number[] = [];
  for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) if (dx * dx + dy * dy <= r * r) out.push(dy, dx);
  return Int32Array.from(out);
}

/** Binary dilation of `b` by the disk, nothing outside the image (OpenCV's default border). */
function dilate(b: Uint8Array, H: number, W: number, disk: Int32Array): Uint8Array {
  const out = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!b[y * W + x]) continue;
      for (let k = 0; k < disk.length; k += 2) {
        const yy = y + disk[k];
        const xx = x + disk[k + 1];
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) out[yy * W + xx] = 1;
      }
    }
  }
  return out;
}

/** DAVIS `f_measure` (no void pixels). */
function boundaryF(fg: Uint8Array, gtMask: Uint8Array, H: number, W: number, disk: Int32Array): number {
  const fgB = seg2bmap(fg, H, W);
  const gtB = seg2bmap(gtMask, H, W);
  let nFg = 0;
  let nGt = 0;
  for (let i = 0; i < H * W; i++) {
    nFg += fgB[i];
    nGt += gtB[i];
  }
  let precision: number;
  let recall: number;
  if (nFg === 0 && nGt > 0) {
    precision = 1;
    recall = 0;
  } else if (nFg > 0 && nGt === 0) {
    precision = 0;
    recall = 1;
  } else if (nFg === 0 && nGt === 0) {
    precision = 1;
    recall = 1;
  } else {
    const fgDil = dilate(fgB, H, W, disk);
    const gtDil = dilate(gtB, H, W, disk);
    let fgMatch = 0;
    let gtMatch = 0;
    for (let i = 0; i < H * W; i++) {
      fgMatch += fgB[i] & gtDil[i];
      gtMatch += gtB[i] & fgDil[i];
    }
    precision = fgMatch / nFg;
    recall = gtMatch / nGt;
  }
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}
