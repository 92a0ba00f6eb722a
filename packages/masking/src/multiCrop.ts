import * as tf from '@tensorflow/tfjs';
import { ValueError, assertInteger, assertRank, describe, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { randomResizedCrop, type CropBox } from './randomResizedCrop.js';

/** One group of crops of {@link multiCrop}. */
export interface CropGroupOptions {
  /** Number of crops of this group (global default 2, local default 0). */
  count?: number;
  /** Output side (square) or [height, width]; required when count > 0. */
  size?: number | [number, number];
  /** Area range as a fraction of the image (global default [0.25, 1], local [0.05, 0.25]). */
  scale?: [number, number];
  /** Aspect-ratio range w/h, log-uniform; default [3/4, 4/3]. */
  ratio?: [number, number];
}

/** Options of {@link multiCrop}. */
export interface MultiCropOptions {
  /** Generator from `createRng(seed)`. */
  rng: Rng;
  /** Global (teacher) crops: count ≥ 1 (default 2), size required, scale default [0.25, 1]. */
  global: CropGroupOptions;
  /** Local (student-only) crops: count default 0, size required when count > 0, scale default [0.05, 0.25]. */
  local?: CropGroupOptions;
}

/** Result of {@link multiCrop}; the caller owns (and disposes) the crops. */
export interface MultiCropResult {
  /** `[B, size, size, C]` per crop: the global crops first, then the local ones. */
  crops: tf.Tensor4D[];
  /** Per crop (same order), the box of each image. */
  boxes: CropBox[][];
  /** How many leading entries of `crops` are global (the teacher's views in DINO / iBOT). */
  numGlobal: number;
}

function validGroup(fn: string, name: string, g: CropGroupOptions, minCount: number, defaults: { count: number; scale: [number, number] }) {
  if (g == null || typeof g !== 'object') throw new ValueError(`${fn}: ${name} must be an object, got ${describe(g)}`);
  const { count = defaults.count, size, scale = defaults.scale, ratio = [3 / 4, 4 / 3] } = g;
  assertInteger(fn, `${name}.count`, count, minCount);
  if (count === 0) return { count, size: [1, 1] as [number, number], scale, ratio };
  const hw = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(hw) || hw.length !== 2) throw new ValueError(`${fn}: ${name}.size must be a number or [height, width], got ${describe(size)}`);
  assertInteger(fn, `${name}.size`, hw[0], 1);
  assertInteger(fn, `${name}.size`, hw[1], 1);
  if (!Array.isArray(scale) || !(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new ValueError(`${fn}: ${name}.scale must satisfy 0 < scale[0] <= scale[1] <= 1, got ${Array.isArray(scale) ? `[${scale.join(', ')}]` : describe(scale)}`);
  }
  if (!Array.isArray(ratio) || !(ratio[0] > 0 && ratio[0] <= ratio[1])) {
    throw new ValueError(`${fn}: ${name}.ratio must satisfy 0 < ratio[0] <= ratio[1], got ${Array.isArray(ratio) ? `[${ratio.join(', ')}]` : describe(ratio)}`);
  }
  return { count, size: hw as [number, number], scale, ratio };
}

/**
 * Multi-crop views (DINO / iBOT `DataAugmentationDINO`; SwAV's multi-crop): `global.count`
 * random resized crops of `global.size`, then `local.count` crops of `local.size`, each crop a
 * {@link randomResizedCrop} of the whole batch (torchvision box sampling, bilinear resampling;
 * DINO resamples bicubically). Only the crops: callers compose flips and the photometric
 * augmentations per view (DINO: flip + colorJitter + grayscale on every crop, blur 1.0 / 0.1 /
 * 0.5 and solarize 0 / 0.2 / 0 on global 1 / global 2 / locals).
 *
 * Draw order: the crops in output order, each drawing its B boxes in batch order (see
 * {@link sampleCropBox}). Defaults follow DESIGN §4 (iBOT-like scales; DINO's own defaults are
 * global [0.4, 1], local [0.05, 0.4] with 96 px locals for 224 px globals).
 *
 * @param images `[B, H, W, C]`
 * @returns `{ crops: Tensor4D[] (global first), boxes, numGlobal }`
 * @example
 * ```ts
 * const { crops, numGlobal } = multiCrop(batch, { rng, global: { size: 32 }, local: { count: 4, size: 16 } });
 * const teacherViews = crops.slice(0, numGlobal); // 2 × [B, 32, 32, C]; students see all 6
 * ```
 */
export function multiCrop(images: tf.Tensor4D, opts: MultiCropOptions): MultiCropResult {
  const fn = 'multiCrop';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const { rng, global, local = {} } = opts ?? ({} as MultiCropOptions);
  assertRng(fn, rng);
  const g = validGroup(fn, 'global', global, 1, { count: 2, scale: [0.25, 1] });
  const l = validGroup(fn, 'local', local, 0, { count: 0, scale: [0.05, 0.25] });
  const crops: tf.Tensor4D[] = [];
  const boxes: CropBox[][] = [];
  for (const group of [g, l]) {
    for (let i = 0; i < group.count; i++) {
      const r = randomResizedCrop(images, { rng, size: group.size, scale: group.scale, ratio: group.ratio });
      crops.push(r.images);
      boxes.push(r.boxes);
    }
  }
  return { crops, boxes, numGlobal: g.count };
}
