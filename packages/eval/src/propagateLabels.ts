import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertPositive, formatShape, ShapeError, ValueError } from '@mmc/core';
import { asFloatTensor, toHostArrayShaped, type NestedNumbers, type NdArrayLike } from './ndarray.js';
import { propagateStep } from './propagateStep.js';

/** Options of {@link propagateLabels}. */
export interface PropagateLabelsOptions {
  /** Patch size p: the label maps are (h·p) × (w·p) pixels. Required. */
  patchSize: number;
  /** Number of classes C (default: max of `firstLabels` + 1, as DINO's `to_one_hot`). */
  numClasses?: number;
  /** Top-k context entries per target position (default 5). */
  topk?: number;
  /** Predicted frames kept as context besides the first one (default 7; 0 = first frame only). */
  nLastFrames?: number;
  /** Spatial window |Δrow|, |Δcol| ≤ n in patches (default 12; 0 disables). */
  neighborhood?: number;
  /** Affinity temperature (default 0.1). */
  temperature?: number;
}

/** Result of {@link propagateLabels}. */
export interface PropagateLabelsResult {
  /** Pixel label maps of frames 1 … T−1, each (h·p)·(w·p) values, row-major. */
  labels: Int32Array[];
  /** Soft patch-level label maps `[C, h, w]` of frames 1 … T−1 (the caller disposes them). */
  soft: tf.Tensor3D[];
  /** `[h·p, w·p]`, the shape of every entry of `labels`. */
  shape: [number, number];
  /** C, the number of classes used. */
  numClasses: number;
}

/**
 * Semi-supervised video object segmentation by label propagation, DINO's DAVIS-2017 protocol
 * (`facebookresearch/dino` `eval_video_segmentation.py`, `eval_video_tracking_davis`,
 * `read_seg`, `to_one_hot`, `norm_mask`):
 *
 * 1. Frame 0's pixel label map is taken to patch resolution by nearest sampling — PIL's
 *    `resize(…, NEAREST)` by an integer factor reads pixel (i·p + ⌊p/2⌋, j·p + ⌊p/2⌋) — and
 *    one-hot encoded: `[C, h, w]`.
 * 2. For t = 1 … T−1, the context is frame 0 (features + one-hot) and the last `nLastFrames`
 *    predicted frames (their features and their soft, not-yet-upsampled `[C, h, w]` maps, a
 *    FIFO queue); {@link propagateStep} gives frame t's soft map, which then joins the queue.
 * 3. Pixel labels: the soft map is upsampled bilinearly by p (PyTorch
 *    `F.interpolate(scale_factor=p, mode='bilinear', align_corners=False)`, i.e. half-pixel
 *    centres = tfjs `resizeBilinear(…, alignCorners=false, halfPixelCenters=true)`), each
 *    channel with max > 0 is min-max normalised to [0, 1] (`norm_mask`), then argmax over
 *    channels (first index on ties).
 *
 * Differences from DINO, all at edges: `numClasses` defaults to max(firstLabels) + 1 on the
 * full-resolution map (DINO counts on the downsampled map, so an object too small to survive the
 * sampling would drop its id); a channel that is constant and positive becomes 0 after
 * `norm_mask` (DINO divides 0 by 0 and gets NaN); `nLastFrames = 0` means frame 0 alone (in DINO
 * `queue.Queue(0)` is unbounded and the loop blocks). Features are L2-normalised per token inside
 * {@link propagateStep}, as DINO does.
 *
 * @param frames T ≥ 1 frames of patch features, each `[h, w, D]` (tensors, `{ data, shape }`
 *   arrays or nested arrays), or one `[T, h, w, D]` tensor
 * @param firstLabels frame 0's pixel label map `[h·p, w·p]` with ids 0 … C−1 (tensor,
 *   `{ data, shape }`, nested array, or a flat row-major array of length h·p·w·p)
 * @param options `{ patchSize, numClasses?, topk = 5, nLastFrames = 7, neighborhood = 12,
 *   temperature = 0.1 }`
 * @returns `{ labels, soft, shape, numClasses }` for frames 1 … T−1
 * @example
 * ```ts
 * const { labels, soft } = propagateLabels(frames, firstLabels, { patchSize: 16 });
 * const score = davisJF([firstLabels, ...labels], groundTruth, { shape: [480, 864] });
 * tf.dispose(soft);
 * ```
 */
export function propagateLabels(
  frames: tf.Tensor | ReadonlyArray<tf.Tensor | NdArrayLike | NestedNumbers>,
  firstLabels: tf.Tensor | NdArrayLike | ArrayLike<number> | NestedNumbers,
  options: PropagateLabelsOptions,
): PropagateLabelsResult {
  const fn = 'propagateLabels';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { patchSize, numClasses?, topk?, nLastFrames?, neighborhood?, temperature? }, got ${String(options)}`);
  }
  const { patchSize, numClasses, topk = 5, nLastFrames = 7, neighborhood = 12, temperature = 0.1 } = options;
  assertInteger(fn, 'patchSize', patchSize, 1);
  assertInteger(fn, 'topk', topk, 1);
  assertInteger(fn, 'nLastFrames', nLastFrames, 0);
  assertInteger(fn, 'neighborhood', neighborhood, 0);
  assertPositive(fn, 'temperature', temperature);
  if (numClasses !== undefined) assertInteger(fn, 'numClasses', numClasses, 1);

  // Frames → float32 [h, w, D] tensors (created ones are disposed at the end).
  const owned: tf.Tensor[] = [];
  const feats: tf.Tensor[] = [];
  const soft: tf.Tensor3D[] = [];
  try {
    if (frames instanceof tf.Tensor) {
      if (frames.rank !== 4) {
        throw new ShapeError(`${fn}: frames must be an array of [h, w, D] frames or a [T, h, w, D] tensor, got shape ${formatShape(frames.shape)}`);
      }
      const list = tf.tidy(() => tf.unstack(frames.dtype === 'float32' ? frames : tf.cast(frames, 'float32')));
      owned.push(...list);
      feats.push(...list);
    } else if (Array.isArray(frames)) {
      frames.forEach((f, t) => {
        const { tensor, owned: mine } = asFloatTensor(fn, `frames[${t}]`, f, 3, '[h, w, D]');
        if (mine) owned.push(tensor);
        feats.push(tensor);
      });
    } else {
      throw new ShapeError(`${fn}: frames must be an array of [h, w, D] frames or a [T, h, w, D] tensor, got ${typeof frames}`);
    }
    if (feats.length < 1) throw new ShapeError(`${fn}: frames must hold at least 1 frame, got 0`);
    const [h, w, D] = feats[0].shape;
    feats.forEach((f, t) => {
      if (f.shape[0] !== h || f.shape[1] !== w || f.shape[2] !== D) {
        throw new ShapeError(`${fn}: frames[${t}] must have shape [${h}, ${w}, ${D}] (like frames[0]), got ${formatShape(f.shape)}`);
      }
    });
    const H = h * patchSize;
    const W = w * patchSize;
    const lab = toHostArrayShaped(fn, 'firstLabels', firstLabels, [H, W], `[h·p, w·p] for frames of ${h}×${w} patches and patchSize=${patchSize}`);
    let maxId = 0;
    for (let i = 0; i < lab.data.length; i++) {
      const v = lab.data[i];
      if (!Number.isInteger(v) || v < 0) throw new ValueError(`${fn}: firstLabels must hold integer class ids >= 0, got ${v} at index ${i}`);
      if (v > maxId) maxId = v;
    }
    const C = numClasses ?? maxId + 1;
    if (maxId >= C) throw new ValueError(`${fn}: firstLabels holds class id ${maxId}, which needs numClasses >= ${maxId + 1}, got numClasses=${C}`);

    // Patch-level one-hot of frame 0 (PIL NEAREST by an integer factor: the centre-ish pixel).
    const off = Math.floor(patchSize / 2);
    const oneHot = new Float32Array(C * h * w);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const c = lab.data[(i * patchSize + off) * W + j * patchSize + off];
        oneHot[(c * h + i) * w + j] = 1;
      }
    }
    const first = tf.tensor3d(oneHot, [C, h, w]);
    owned.push(first);

    const labels: Int32Array[] = [];
    const queue: { feat: tf.Tensor; soft: tf.Tensor3D }[] = [];
    for (let t = 1; t < feats.length; t++) {
      const s = tf.tidy(() =>
        propagateStep(
          feats[t],
          tf.stack([feats[0], ...queue.map((q) => q.feat)]),
          tf.stack([first, ...queue.map((q) => q.soft)]),
          { topk, neighborhood, temperature },
        ),
      );
      soft.push(s);
      const pixel = tf.tidy(() => {
        const up = tf.image.resizeBilinear(tf.transpose(s, [1, 2, 0]) as tf.Tensor3D, [H, W], false, true); // [H, W, C]
        const lo = tf.min(up, [0, 1]);
        const hi = tf.max(up, [0, 1]);
        const range = tf.sub(hi, lo);
        const scaled = tf.div(tf.sub(up, lo), tf.where(tf.greater(range, 0), range, tf.onesLike(range)));
        const normed = tf.where(tf.broadcastTo(tf.greater(hi, 0), up.shape), scaled, up); // norm_mask
        return tf.argMax(normed, 2);
      });
      labels.push(Int32Array.from(pixel.dataSync()));
      pixel.dispose();
      queue.push({ feat: feats[t], soft: s });
      if (queue.length > nLastFrames) queue.shift();
    }
    return { labels, soft, shape: [H, W], numClasses: C };
  } catch (err) {
    tf.dispose(soft);
    throw err;
  } finally {
    tf.dispose(owned);
  }
}
