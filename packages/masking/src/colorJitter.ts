import * as tf from '@tensorflow/tfjs';
import { ShapeError, ValueError, assertInRange, assertRank, describe, formatShape, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { luma } from './luma.js';
import { mergeRows, takeRows, type RowPart } from './mergeRows.js';

/** One of the four adjustments of {@link colorJitter}. */
export type ColorJitterOp = 'brightness' | 'contrast' | 'saturation' | 'hue';

/** A strength s (factor range [max(0, 1 − s), 1 + s], hue [−s, s]) or an explicit range [min, max]. */
export type ColorJitterRange = number | [number, number];

/** Options of {@link colorJitter}. */
export interface ColorJitterOptions {
  /** Generator from `createRng(seed)`. */
  rng: Rng;
  /** Brightness factor range; default 0.4 (DINO) → U(0.6, 1.4). 0 disables. */
  brightness?: ColorJitterRange;
  /** Contrast factor range; default 0.4 (DINO) → U(0.6, 1.4). 0 disables. */
  contrast?: ColorJitterRange;
  /** Saturation factor range; default 0.2 (DINO) → U(0.8, 1.2). 0 disables. */
  saturation?: ColorJitterRange;
  /** Hue shift range in turns; s in [0, 0.5] or −0.5 ≤ min ≤ max ≤ 0.5; default 0.1 (DINO). 0 disables. */
  hue?: ColorJitterRange;
  /** Probability that an image is jittered (`RandomApply`). In [0, 1]; default 0.8 (DINO). */
  prob?: number;
}

/** The draws of one jittered image. */
export interface ColorJitterParams {
  /** The enabled adjustments in the order they were applied. */
  order: ColorJitterOp[];
  /** Factors (1, 1, 1, 0 for a disabled adjustment). */
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

const OPS: readonly ColorJitterOp[] = ['brightness', 'contrast', 'saturation', 'hue'];

/** Validated range of one adjustment, or null when it is disabled (torchvision's `None`). */
function jitterRange(fn: string, op: ColorJitterOp, value: unknown): [number, number] | null {
  const isHue = op === 'hue';
  const center = isHue ? 0 : 1;
  let lo: number;
  let hi: number;
  if (typeof value === 'number') {
    if (isHue) assertInRange(fn, op, value, 0, 0.5, 'none');
    else if (!(Number.isFinite(value) && value >= 0)) throw new ValueError(`${fn}: ${op} must be a finite number >= 0, got ${value}`);
    [lo, hi] = isHue ? [-value, value] : [Math.max(0, 1 - value), 1 + value];
  } else if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    [lo, hi] = value as [number, number];
    const ok = isHue ? -0.5 <= lo && lo <= hi && hi <= 0.5 : 0 <= lo && lo <= hi;
    if (!ok) {
      const want = isHue ? '-0.5 <= min <= max <= 0.5' : '0 <= min <= max';
      throw new ValueError(`${fn}: ${op} range must satisfy ${want}, got [${lo}, ${hi}]`);
    }
  } else {
    throw new ValueError(`${fn}: ${op} must be a number or a [min, max] pair, got ${describe(value)}`);
  }
  return lo === center && hi === center ? null : [lo, hi];
}

/** f·x + (1 − f)·other, clamped to [0, 1] (torchvision's `_blend` for float images). */
function blend(x: tf.Tensor4D, other: tf.Tensor, f: tf.Tensor4D): tf.Tensor4D {
  return tf.clipByValue(tf.add(tf.mul(f, x), tf.mul(tf.sub(1, f), other)), 0, 1) as tf.Tensor4D;
}

/**
 * Hue rotation of RGB images by `shift` turns ([g, 1, 1, 1]) through HSV, with elementwise ops:
 * V = max, D = max − min (= V·S), sextant hue h6 ∈ [0, 6) from the channel that holds the max
 * (R, then G, then B on ties), h6' = (h6 + 6·shift) mod 6, and back with
 * channel_n = V − D·clamp(min(k, 4 − k), 0, 1), k = (n + h6') mod 6, n = 5, 3, 1 for R, G, B.
 */
function shiftHue(x: tf.Tensor4D, shift: tf.Tensor4D): tf.Tensor4D {
  const v = tf.max(x, 3, true);
  const d = tf.sub(v, tf.min(x, 3, true));
  const safeD = tf.where(tf.greater(d, 0), d, tf.onesLike(d));
  const [r, g, b] = tf.split(x, 3, 3);
  const rc = tf.div(tf.sub(v, r), safeD);
  const gc = tf.div(tf.sub(v, g), safeD);
  const bc = tf.div(tf.sub(v, b), safeD);
  const h6 = tf.where(
    tf.equal(v, r),
    tf.sub(bc, gc),
    tf.where(tf.equal(v, g), tf.add(2, tf.sub(rc, bc)), tf.add(4, tf.sub(gc, rc))),
  );
  const shifted = tf.mod(tf.add(h6, tf.mul(shift, 6)), 6);
  const k = tf.mod(tf.add(shifted, tf.tensor1d([5, 3, 1])), 6);
  const ramp = tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1);
  return tf.clipByValue(tf.sub(v, tf.mul(d, ramp)), 0, 1) as tf.Tensor4D;
}

/**
 * Random color jitter (torchvision `RandomApply([ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8)`, as in
 * DINO's `DataAugmentationDINO` `flip_and_color_jitter`; BYOL/iBOT use the same).
 *
 * Per image b, in batch order (host-side draws, so a seed gives the same result on every backend):
 * 1. the coin `rng.next() < prob`; if it fails nothing else is drawn and the image is unchanged;
 * 2. a random order of the four adjustments: Fisher–Yates on [brightness, contrast, saturation,
 *    hue] with `rng.int(i + 1)` for i = 3, 2, 1 (= `rng.shuffle`; torchvision's `torch.randperm(4)`);
 * 3. one factor per *enabled* adjustment, in the order brightness, contrast, saturation, hue:
 *    lo + (hi − lo)·rng.next(), with [lo, hi] = [max(0, 1 − s), 1 + s] (hue [−s, s]).
 *
 * The adjustments, applied in the drawn order, each clamped to [0, 1] (torchvision's float path):
 * - brightness f: f·x (blend with black);
 * - contrast f: f·x + (1 − f)·mean(L), mean of the image's luma L over all pixels;
 * - saturation f: f·x + (1 − f)·L, per pixel;
 * - hue h: rotate the hue by h turns in HSV (V and S kept).
 * Luma is ITU-R 601-2, L = 0.299·R + 0.587·G + 0.114·B (PIL). Float arithmetic throughout, where
 * DINO's PIL path rounds to uint8 after each step. A 1-channel batch gets brightness and contrast
 * only (saturation and hue leave gray images unchanged, as in torchvision; their factors are still
 * drawn).
 *
 * Cost: images are grouped by their order (at most 24 groups + the untouched ones); each group is
 * gathered and adjusted with per-image factors, so the arithmetic is one pass over the batch
 * (about 40 elementwise ops per pixel for hue, a few for the others) plus ≤ 24·(≈45) kernel launches
 * and one final gather. Forward only; no gradient is needed for augmentation.
 *
 * @param images `[B, H, W, 3]` (or `[B, H, W, 1]`) with values in [0, 1] — jitter before normalising
 * @returns `{ images: [B, H, W, C] in [0, 1] for jittered images, applied: Uint8Array(B), params: (ColorJitterParams | null)[] }`
 * @example
 * ```ts
 * const { images: out, applied, params } = colorJitter(batch, { rng }); // DINO's defaults
 * ```
 */
export function colorJitter(
  images: tf.Tensor4D,
  opts: ColorJitterOptions,
): { images: tf.Tensor4D; applied: Uint8Array; params: (ColorJitterParams | null)[] } {
  const fn = 'colorJitter';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const C = images.shape[3];
  if (C !== 3 && C !== 1) throw new ShapeError(`${fn}: images must have 3 (RGB) or 1 channels [B, H, W, C], got shape ${formatShape(images.shape)}`);
  const { rng, brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1, prob = 0.8 } = opts ?? ({} as ColorJitterOptions);
  assertRng(fn, rng);
  assertInRange(fn, 'prob', prob, 0, 1, 'none');
  const ranges: Record<ColorJitterOp, [number, number] | null> = {
    brightness: jitterRange(fn, 'brightness', brightness),
    contrast: jitterRange(fn, 'contrast', contrast),
    saturation: jitterRange(fn, 'saturation', saturation),
    hue: jitterRange(fn, 'hue', hue),
  };
  const B = images.shape[0];
  const applied = new Uint8Array(B);
  const params: (ColorJitterParams | null)[] = [];
  const groups = new Map<string, number[]>();
  for (let b = 0; b < B; b++) {
    if (!(rng.next() < prob)) {
      params.push(null);
      continue;
    }
    applied[b] = 1;
    const perm = [...OPS]; // Fisher–Yates from the top, as rng.shuffle
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const p: ColorJitterParams = { order: perm.filter((op) => ranges[op] !== null), brightness: 1, contrast: 1, saturation: 1, hue: 0 };
    for (const op of OPS) {
      const range = ranges[op];
      if (range) p[op] = range[0] + (range[1] - range[0]) * rng.next();
    }
    params.push(p);
    // Ops that cannot change a 1-channel image are left out of its computation.
    const effective = C === 1 ? p.order.filter((op) => op === 'brightness' || op === 'contrast') : p.order;
    if (effective.length === 0) continue;
    const key = effective.join(',');
    const list = groups.get(key);
    if (list) list.push(b);
    else groups.set(key, [b]);
  }
  const out = tf.tidy(() => {
    const parts: RowPart[] = [];
    for (const [key, indices] of groups) {
      let x = takeRows(images, indices);
      for (const op of key.split(',') as ColorJitterOp[]) {
        const f = tf.tensor4d(Float32Array.from(indices, (b) => params[b]![op]), [indices.length, 1, 1, 1]);
        if (op === 'brightness') x = tf.clipByValue(tf.mul(f, x), 0, 1) as tf.Tensor4D;
        else if (op === 'contrast') x = blend(x, tf.mean(luma(x), [1, 2, 3], true), f);
        else if (op === 'saturation') x = blend(x, luma(x), f);
        else x = shiftHue(x, f);
      }
      parts.push({ indices, values: x });
    }
    return mergeRows(images, parts);
  });
  return { images: out as tf.Tensor4D, applied, params };
}
