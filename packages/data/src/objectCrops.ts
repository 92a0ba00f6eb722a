import { ValueError, assertInRange, assertInteger, describe } from '@mmc/core';
import type { SceneDataset } from './sceneDataset.js';

/** Options of {@link objectCrops}. */
export interface ObjectCropsOptions {
  /** Side of the square crops in pixels. Default 32. */
  size?: number;
  /** Margin added on each side of the object's box, as a fraction of its longer side. Default 0.15. */
  context?: number;
  /** Set pixels outside the object's instance mask to 0. Default false. */
  maskBackground?: boolean;
  /** Skip objects with fewer visible pixels. Default 1. */
  minArea?: number;
}

/** One crop per object, for k-NN / linear-probe evaluation. */
export interface ObjectCrops {
  /** `count·size·size·3` values, NHWC. */
  images: Float32Array;
  /** `[count, size, size, 3]`. */
  shape: [number, number, number, number];
  /** Class of each crop, 0-based: `classId − 1` (0 … numClasses − 1). */
  labels: Int32Array;
  /** Image each crop comes from. */
  imageIndex: Int32Array;
  /** Instance id of the object within its image. */
  instance: Int32Array;
  count: number;
  numClasses: number;
  /** `classNames[label]` (the background left out). */
  classNames: string[];
}

/**
 * Cuts one square crop around every visible object of a scene dataset, resized to `size × size`
 * by bilinear sampling (half-pixel centres, coordinates clamped at the image border): the box is
 * the object's visible bounding box made square around its centre and widened by `context` on each
 * side. Labels are 0-based class ids, ready for `knnClassify` / `linearProbe`.
 *
 * @example
 * ```ts
 * const ds = scenes({ count: 500, seed: 0 });
 * const crops = objectCrops(ds, { size: 32 });   // crops.shape [M, 32, 32, 3], crops.labels 0 … 5
 * ```
 */
export function objectCrops(dataset: SceneDataset, options: ObjectCropsOptions = {}): ObjectCrops {
  const fn = 'objectCrops';
  if (dataset == null || !(dataset.images instanceof Float32Array) || !Array.isArray(dataset.objects)) {
    throw new ValueError(`${fn}: dataset must be a SceneDataset (from scenes or fashionScenes), got ${describe(dataset)}`);
  }
  const { size = 32, context = 0.15, maskBackground = false, minArea = 1 } = options ?? {};
  assertInteger(fn, 'size', size, 1);
  assertInRange(fn, 'context', context, 0, 4, 'none');
  assertInteger(fn, 'minArea', minArea, 1);
  const S = dataset.imageSize;
  const list: { image: number; inst: number; label: number; cy: number; cx: number; side: number }[] = [];
  dataset.objects.forEach((objs, image) => {
    for (const o of objs) {
      if (o.area < minArea) continue;
      const { top, left, height, width } = o.bbox;
      const side = Math.max(height, width) * (1 + 2 * context);
      list.push({ image, inst: o.instance, label: o.classId - 1, cy: top + height / 2, cx: left + width / 2, side });
    }
  });
  const M = list.length;
  const images = new Float32Array(M * size * size * 3);
  const labels = new Int32Array(M);
  const imageIndex = new Int32Array(M);
  const instance = new Int32Array(M);
  const src = dataset.images;
  const inst = dataset.instanceMasks;
  const clamp = (v: number) => (v < 0 ? 0 : v > S - 1 ? S - 1 : v);
  list.forEach((c, m) => {
    labels[m] = c.label;
    imageIndex[m] = c.image;
    instance[m] = c.inst;
    const base = c.image * S * S;
    const step = c.side / size;
    const y0 = c.cy - c.side / 2;
    const x0 = c.cx - c.side / 2;
    for (let r = 0; r < size; r++) {
      const y = clamp(y0 + (r + 0.5) * step - 0.5);
      const yi = Math.min(Math.floor(y), S - 2 < 0 ? 0 : S - 2);
      const fy = y - yi;
      for (let q = 0; q < size; q++) {
        const x = clamp(x0 + (q + 0.5) * step - 0.5);
        const xi = Math.min(Math.floor(x), S - 2);
        const fx = x - xi;
        const o = ((m * size + r) * size + q) * 3;
        if (maskBackground && inst[base + Math.round(y) * S + Math.round(x)] !== c.inst) continue; // stays 0
        const p00 = (base + yi * S + xi) * 3;
        const p01 = p00 + 3;
        const p10 = p00 + 3 * S;
        const p11 = p10 + 3;
        for (let ch = 0; ch < 3; ch++) {
          const top = src[p00 + ch] * (1 - fx) + src[p01 + ch] * fx;
          const bottom = src[p10 + ch] * (1 - fx) + src[p11 + ch] * fx;
          images[o + ch] = top + (bottom - top) * fy;
        }
      }
    }
  });
  return {
    images,
    shape: [M, size, size, 3],
    labels,
    imageIndex,
    instance,
    count: M,
    numClasses: dataset.numClasses,
    classNames: dataset.classNames.slice(1),
  };
}
