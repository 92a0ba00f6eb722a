import { ValueError, assertInRange, createRng, describe, type Rng } from '@mmc/core';
import { BackgroundPainter, type BackgroundMode } from './background.js';
import { SceneCanvas, Stamp } from './compositor.js';
import { FASHION_MNIST_CLASSES, type FashionMnist } from './fashionMnist.js';
import { deriveSeed } from './noise.js';
import { PALETTE, samplePaletteColor, scaleColor } from './palette.js';
import { createSceneDataset, type SceneDataset, type SceneObject } from './sceneDataset.js';
import { readCommonOptions } from './sceneOptions.js';

/** Options of {@link fashionScenes}. */
export interface FashionScenesOptions {
  /** Number of images. */
  count: number;
  /** The items to paste: the result of `fashionMnist` / `fashionMnistFromBytes` (or any such set). */
  source: Pick<FashionMnist, 'images' | 'labels' | 'count' | 'rows' | 'cols'> & { classNames?: string[] };
  /** Side of the square images in pixels (≥ 16). Default 64. */
  imageSize?: number;
  /** Items per image: a count or an inclusive `[min, max]` range drawn uniformly. Default [1, 3]. */
  items?: number | [number, number];
  /** Seed of `createRng`. Default 0. */
  seed?: number;
  /** `'textured'` (default) or `'flat'` background, as in `scenes`. */
  background?: BackgroundMode;
  /** Standard deviation of the per-pixel noise (0 disables). Default 0.02. */
  noise?: number;
  /** Pasted item side as a fraction of `imageSize`. Default [0.4, 0.75]. */
  sizeRange?: [number, number];
  /** Foreground = source pixels with grey value / 255 > threshold (after resampling). Default 0.1. */
  threshold?: number;
  /** Mirror items left–right with probability ½. Default true. */
  flip?: boolean;
  /** Source items to draw from (e.g. a class subset); default all `source.count`. */
  pool?: ArrayLike<number>;
}

const MAX_TRIES = 24;

/**
 * Real-object scenes with masks: Fashion-MNIST items pasted onto the textured backgrounds of
 * `scenes`. Per item: a uniform random source item (from `pool`), side U(sizeRange)·imageSize
 * (bilinear resampling of the 28 × 28 grey image), optional left–right flip, a position that may
 * cut up to 10 % of the item at the border, and a palette tint: pixel = tint·(0.25 + 0.75·g) for
 * grey level g ∈ [0, 1], so `colors = [tint, 0.25·tint]` with t = 1 − g. The foreground (the mask)
 * is the pixels with g > `threshold`. Occlusion and visibility rules, background and noise are
 * those of `scenes` (every listed item keeps ≥ 40 % of its pasted area visible). Class mask = label
 * + 1 (0 = background); `classNames[label + 1]` is the Fashion-MNIST name.
 *
 * Pure and browser-safe: the items come in as `source`. Deterministic per (seed, image index).
 *
 * @example
 * ```ts
 * import { fashionMnist, fashionScenes } from '@mmc/data';
 * const source = await fashionMnist({ split: 'test' });
 * const ds = fashionScenes({ count: 500, source, seed: 1 });
 * const o = ds.objects[0][0]; // { classId: label + 1, sourceIndex, centerRow, centerCol, … }
 * ```
 */
export function fashionScenes(options: FashionScenesOptions): SceneDataset {
  const fn = 'fashionScenes';
  const common = readCommonOptions(fn, options, 'items', options?.items ?? [1, 3], [0.4, 0.75], [0, 1]);
  const { source, threshold = 0.1, flip = true } = options;
  validateSource(fn, source);
  assertInRange(fn, 'threshold', threshold, 0, 1, 'high');
  if (typeof flip !== 'boolean') throw new ValueError(`${fn}: flip must be a boolean, got ${describe(flip)}`);
  const names = source.classNames ?? [...FASHION_MNIST_CLASSES];
  if (names.length < 1 || names.length > 254) throw new ValueError(`${fn}: source.classNames must have 1 … 254 names, got ${names.length}`);
  const pool = readPool(fn, options.pool, source.count);

  const { count, imageSize: S, range, seed, background, noise, sizeRange } = common;
  const pixels = S * S;
  const images = new Float32Array(count * pixels * 3);
  const classMasks = new Uint8Array(count * pixels);
  const instanceMasks = new Uint8Array(count * pixels);
  const minArea = Math.max(8, Math.round(0.005 * pixels));
  const canvas = new SceneCanvas(S, images, classMasks, instanceMasks, { minArea, keepFraction: 0.4 });
  const stamp = new Stamp(pixels);
  const painter = new BackgroundPainter(S);
  const objects: SceneObject[][] = [];
  const item = { source, S, sizeRange, threshold: threshold * 255, flip, canvas, stamp, names: names.length };

  for (let i = 0; i < count; i++) {
    const rng = createRng(deriveSeed(seed, i));
    const bgRng = rng.fork();
    const objRng = rng.fork();
    const noiseSeed = rng.int(4294967296);
    painter.paint(images, i, bgRng, background);
    canvas.begin(i);
    const n = range[0] + objRng.int(range[1] - range[0] + 1);
    for (let k = 0; k < n; k++) pasteItem(objRng, pool[objRng.int(pool.length)], item);
    objects.push(canvas.finish(noise, noiseSeed));
  }

  return createSceneDataset({
    count,
    imageSize: S,
    channels: 3,
    images,
    classMasks,
    instanceMasks,
    objects,
    numClasses: names.length,
    classNames: ['background', ...names],
  });
}

function validateSource(fn: string, source: FashionScenesOptions['source']): void {
  if (source == null || typeof source !== 'object') {
    throw new ValueError(`${fn}: source must be the result of fashionMnist() ({ images, labels, count, rows, cols }), got ${describe(source)}`);
  }
  const { images, labels, count, rows, cols } = source;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new ValueError(`${fn}: source.count, source.rows, source.cols must be positive integers, got ${describe(count)}, ${describe(rows)}, ${describe(cols)}`);
  }
  if (!(images instanceof Uint8Array) || images.length !== count * rows * cols) {
    throw new ValueError(
      `${fn}: source.images must be a Uint8Array of count·rows·cols = ${count * rows * cols} values, got ${images instanceof Uint8Array ? `length ${images.length}` : describe(images)}`,
    );
  }
  if (!(labels instanceof Uint8Array) || labels.length !== count) {
    throw new ValueError(`${fn}: source.labels must be a Uint8Array of ${count} labels, got ${labels instanceof Uint8Array ? `length ${labels.length}` : describe(labels)}`);
  }
}

function readPool(fn: string, pool: ArrayLike<number> | undefined, count: number): ArrayLike<number> {
  if (pool === undefined) {
    const all = new Int32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    return all;
  }
  if (pool == null || typeof pool.length !== 'number' || pool.length < 1) {
    throw new ValueError(`${fn}: pool must be a non-empty array of source indices, got ${describe(pool)}`);
  }
  for (let i = 0; i < pool.length; i++) {
    if (!Number.isInteger(pool[i]) || pool[i] < 0 || pool[i] >= count) {
      throw new ValueError(`${fn}: pool[${i}] must be an integer in [0, ${count}), got ${describe(pool[i])}`);
    }
  }
  return pool;
}

interface ItemContext {
  source: FashionScenesOptions['source'];
  S: number;
  sizeRange: [number, number];
  threshold: number;
  flip: boolean;
  canvas: SceneCanvas;
  stamp: Stamp;
  names: number;
}

/** Pastes source item `index` at the first placement the canvas accepts (or skips it). */
function pasteItem(rng: Rng, index: number, ctx: ItemContext): void {
  const { source, S, sizeRange, threshold, canvas, stamp } = ctx;
  const { rows, cols, images } = source;
  const label = source.labels[index];
  if (label >= ctx.names) {
    throw new ValueError(`fashionScenes: source.labels[${index}] = ${label} has no class name (${ctx.names} classes)`);
  }
  const mirrored = rng.next() < 0.5 && ctx.flip;
  const tint = samplePaletteColor(rng, PALETTE.length - 1); // no near-black tint
  const colors: [typeof tint, typeof tint] = [tint, scaleColor(tint, 0.25)];
  const off = index * rows * cols;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const side = (sizeRange[0] + (sizeRange[1] - sizeRange[0]) * rng.next()) * S * (1 - 0.025 * attempt);
    const top = -0.1 * side + (S - 0.8 * side) * rng.next();
    const left = -0.1 * side + (S - 0.8 * side) * rng.next();
    const sy = rows / side;
    const sx = cols / side;
    const r0 = Math.max(0, Math.floor(top));
    const r1 = Math.min(S - 1, Math.ceil(top + side));
    const c0 = Math.max(0, Math.floor(left));
    const c1 = Math.min(S - 1, Math.ceil(left + side));
    stamp.clear();
    for (let row = r0; row <= r1; row++) {
      const y = (row + 0.5 - top) * sy - 0.5;
      if (y <= -1 || y >= rows) continue;
      const yi = Math.floor(y);
      const fy = y - yi;
      for (let col = c0; col <= c1; col++) {
        let x = (col + 0.5 - left) * sx - 0.5;
        if (x <= -1 || x >= cols) continue;
        if (mirrored) x = cols - 1 - x;
        const xi = Math.floor(x);
        const fx = x - xi;
        const g =
          (grey(images, off, rows, cols, yi, xi) * (1 - fx) + grey(images, off, rows, cols, yi, xi + 1) * fx) * (1 - fy) +
          (grey(images, off, rows, cols, yi + 1, xi) * (1 - fx) + grey(images, off, rows, cols, yi + 1, xi + 1) * fx) * fy;
        if (g > threshold) stamp.push(row * S + col, 1 - g / 255);
      }
    }
    if (canvas.fits(stamp)) {
      canvas.commit(stamp, label + 1, colors, index);
      return;
    }
  }
}

/** Grey value of source pixel (r, c) of the item at `off`; 0 outside the item. */
function grey(images: Uint8Array, off: number, rows: number, cols: number, r: number, c: number): number {
  return r < 0 || r >= rows || c < 0 || c >= cols ? 0 : images[off + r * cols + c];
}
