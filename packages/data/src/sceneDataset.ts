import { ValueError, describe } from '@mmc/core';
import type { Rgb } from './palette.js';

/** Axis-aligned box of pixels: rows `top … top + height − 1`, columns `left … left + width − 1`. */
export interface PixelBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** One object of a scene, as it is visible in the final image. */
export interface SceneObject {
  /** Class of the object, 1 … numClasses (its value in the class mask). */
  classId: number;
  /** Instance index within the image, 1 … k in painting order (its value in the instance mask). */
  instance: number;
  /**
   * A pixel of the visible object: the visible pixel nearest to the visible pixels' centroid
   * (first in raster order on ties). Always on the object, so it is a valid segmentation prompt.
   */
  centerRow: number;
  centerCol: number;
  /** Visible pixels (after occlusion by later objects and clipping at the border). */
  area: number;
  /** Pixels the object covered when it was painted (before later objects occluded it). */
  fullArea: number;
  /** Bounding box of the visible pixels. */
  bbox: PixelBox;
  /**
   * The object's two colours: every pixel it painted is `colors[0]·(1 − t) + colors[1]·t` for a
   * texture weight t ∈ [0, 1], before the per-pixel noise.
   */
  colors: [Rgb, Rgb];
  /** `fashionScenes`: index of the pasted item in the Fashion-MNIST source. */
  sourceIndex?: number;
}

/** A batch of images (NHWC float32) gathered from a dataset. */
export interface ImageBatch {
  /** `shape[0]·shape[1]·shape[2]·shape[3]` values, NHWC. */
  images: Float32Array;
  /** `[B, H, W, C]`. */
  shape: [number, number, number, number];
}

/** Anything a training loop can draw image batches from. */
export interface ImageDataset {
  /** Number of images. */
  readonly count: number;
  /** Images are `imageSize × imageSize`. */
  readonly imageSize: number;
  /** Channels per pixel (3). */
  readonly channels: number;
  /** The images at `indices`, in that order (repeats allowed). */
  batch(indices: ArrayLike<number>): ImageBatch;
}

/** A batch of scenes: images plus their per-pixel masks and objects. */
export interface SceneBatch extends ImageBatch {
  /** `[B, H, W]` class ids (0 = background). */
  classMasks: Uint8Array;
  /** `[B, H, W]` instance ids (0 = background, 1 … k within each image). */
  instanceMasks: Uint8Array;
  /** The objects of each image of the batch. */
  objects: SceneObject[][];
  /** The dataset indices the batch was gathered from. */
  indices: number[];
}

/** Images with per-pixel class and instance masks (from `scenes` or `fashionScenes`). */
export interface SceneDataset extends ImageDataset {
  /** `count·H·W·3` values in [0, 1], NHWC. */
  readonly images: Float32Array;
  /** `count·H·W`: 0 = background, 1 … numClasses = object class. */
  readonly classMasks: Uint8Array;
  /** `count·H·W`: 0 = background, 1 … k = instance within the image. */
  readonly instanceMasks: Uint8Array;
  /** The visible objects of each image. */
  readonly objects: SceneObject[][];
  /** Number of object classes (the background excluded). */
  readonly numClasses: number;
  /** `classNames[classId]`, with `classNames[0] = 'background'` (length numClasses + 1). */
  readonly classNames: string[];
  batch(indices: ArrayLike<number>): SceneBatch;
}

/** The fields of a SceneDataset; `createSceneDataset` adds `batch`. */
export type SceneDatasetFields = Omit<SceneDataset, 'batch'>;

/**
 * Wraps generated arrays as a {@link SceneDataset}, adding `batch(indices)`, which copies the
 * images and masks at `indices` (integers in [0, count), repeats allowed) into new arrays.
 *
 * @example
 * ```ts
 * const ds = scenes({ count: 100, seed: 0 });
 * const { images, shape, classMasks } = ds.batch([0, 5, 7]); // shape [3, 64, 64, 3]
 * ```
 */
export function createSceneDataset(fields: SceneDatasetFields): SceneDataset {
  const { count, imageSize, channels } = fields;
  const pixels = imageSize * imageSize;
  return {
    ...fields,
    batch(indices: ArrayLike<number>): SceneBatch {
      const fn = 'SceneDataset.batch';
      if (indices == null || typeof indices.length !== 'number') {
        throw new ValueError(`${fn}: indices must be an array of image indices, got ${describe(indices)}`);
      }
      const B = indices.length;
      const images = new Float32Array(B * pixels * channels);
      const classMasks = new Uint8Array(B * pixels);
      const instanceMasks = new Uint8Array(B * pixels);
      const objects: SceneObject[][] = [];
      const list: number[] = [];
      for (let b = 0; b < B; b++) {
        const i = indices[b];
        if (!Number.isInteger(i) || i < 0 || i >= count) {
          throw new ValueError(`${fn}: indices[${b}] must be an integer in [0, ${count}), got ${describe(i)}`);
        }
        images.set(fields.images.subarray(i * pixels * channels, (i + 1) * pixels * channels), b * pixels * channels);
        classMasks.set(fields.classMasks.subarray(i * pixels, (i + 1) * pixels), b * pixels);
        instanceMasks.set(fields.instanceMasks.subarray(i * pixels, (i + 1) * pixels), b * pixels);
        objects.push(fields.objects[i]);
        list.push(i);
      }
      return { images, classMasks, instanceMasks, objects, indices: list, shape: [B, imageSize, imageSize, channels] };
    },
  };
}
