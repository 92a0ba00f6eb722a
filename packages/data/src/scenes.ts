import { ValueError, assertInteger, createRng, type Rng } from '@mmc/core';
import { BackgroundPainter, type BackgroundMode } from './background.js';
import { SceneCanvas, Stamp } from './compositor.js';
import { deriveSeed } from './noise.js';
import { sampleObjectColors } from './palette.js';
import { createSceneDataset, type SceneDataset, type SceneObject } from './sceneDataset.js';
import { readCommonOptions } from './sceneOptions.js';
import { SHAPE_BOUND, SHAPE_NAMES, insideShape, sampleShapeParams, type ShapeName } from './shapes.js';
import { TEXTURE_NAMES, sampleTextureParams, textureValue, type TextureName } from './textures.js';

/** A class of the procedural scenes: one shape family with one texture family. */
export interface SceneClass {
  /** `'shape/texture'`, e.g. `'disc/stripes'`. */
  name: string;
  shape: ShapeName;
  texture: TextureName;
}

/** The classes of `scenes`, in class-id order (class id = index + 1; `classes: n` uses the first n). */
export const SCENE_CLASSES: readonly SceneClass[] = SHAPE_NAMES.map((shape, i) => ({
  name: `${shape}/${TEXTURE_NAMES[i]}`,
  shape,
  texture: TEXTURE_NAMES[i],
}));

/** Options of {@link scenes}. */
export interface ScenesOptions {
  /** Number of images. */
  count: number;
  /** Side of the square images in pixels (≥ 16). Default 64. */
  imageSize?: number;
  /** Objects per image: a count or an inclusive `[min, max]` range drawn uniformly. Default [1, 4]. */
  objects?: number | [number, number];
  /** Number of classes, 1 … 8 (the first n of `SCENE_CLASSES`). Default 6. */
  classes?: number;
  /** Seed of `createRng`. Default 0. */
  seed?: number;
  /** `'textured'` (gradient + low-frequency noise, default) or `'flat'` (one colour). */
  background?: BackgroundMode;
  /** Standard deviation of the per-pixel noise added at the end (0 disables). Default 0.02. */
  noise?: number;
  /** Object radius range as a fraction of `imageSize`. Default [0.12, 0.26]. */
  sizeRange?: [number, number];
}

/** Tries per object before it is skipped; each try shrinks the object a little. */
const MAX_TRIES = 24;

/**
 * Procedural multi-object scenes with per-pixel class and instance masks: the default data of
 * @mmc's demos and tests (no download). Each image has `objects` textured objects on a textured
 * background:
 *
 * - **classes** = shape family × texture family (`SCENE_CLASSES`): disc/stripes, square/checker,
 *   triangle/dots, ring/noise, cross/waves, star/grid, hexagon/zigzag, crescent/concentric;
 *   shape parameters, texture periods and phases vary per object;
 * - **colours** come from one palette shared by all classes (`PALETTE`; two colours per object,
 *   the second another palette colour or a shade of the first), so colour does not give the class
 *   away: shape and texture do;
 * - **pose**: radius U(sizeRange)·imageSize, rotation U(0, 2π), aspect ratio e^U(−0.2, 0.2), centre
 *   uniform within 0.7 radius of the border (objects may be clipped by it);
 * - **occlusion**: objects are painted in order, later ones on top; the masks record what is
 *   visible. A placement is redrawn (up to 24 times, shrinking 2.5 % per try; then the object is
 *   skipped, which needs a crowded small image) unless it covers ≥ max(8, 0.5 % of the image)
 *   pixels and every earlier object keeps ≥ 40 % of its painted area (and that minimum) visible;
 * - **background**: a gradient between two muted colours plus smooth low-frequency value noise
 *   (`BackgroundPainter`), different from every object texture; then per-pixel noise
 *   (std `noise`) over the whole image, clamped to [0, 1].
 *
 * Deterministic: image i depends only on (seed, i), through `createRng` streams, so a smaller
 * `count` gives a prefix of a larger one, and `background`/`noise` never change the geometry,
 * classes or colours. Pixels are hard-edged (no anti-aliasing), so masks are exact.
 * Memory: count·imageSize²·(3·4 + 2) bytes (10,000 × 64² ≈ 573 MB).
 *
 * @returns a {@link SceneDataset}: `images` (NHWC float32 in [0, 1]), `classMasks` (0 =
 *   background, 1 … numClasses), `instanceMasks` (0 = background, 1 … k), `objects` per image
 *   (class, instance, a centre pixel on the visible object, area, bbox, colours), `classNames`
 *   (`[0]` = 'background') and `batch(indices)`.
 * @example
 * ```ts
 * import { scenes } from '@mmc/data';
 * const ds = scenes({ count: 256, imageSize: 64, seed: 0 });
 * const { images, shape } = ds.batch([0, 1, 2, 3]);         // Float32Array, [4, 64, 64, 3]
 * const first = ds.objects[0][0];                           // { classId, centerRow, centerCol, … }
 * console.log(ds.classNames[first.classId], first.area);
 * ```
 */
export function scenes(options: ScenesOptions): SceneDataset {
  const fn = 'scenes';
  const common = readCommonOptions(fn, options, 'objects', options?.objects ?? [1, 4], [0.12, 0.26], [0, 0.5]);
  const { classes = 6 } = options;
  assertInteger(fn, 'classes', classes, 1);
  if (classes > SCENE_CLASSES.length) {
    throw new ValueError(`${fn}: classes must be an integer in [1, ${SCENE_CLASSES.length}], got ${classes}`);
  }
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

  for (let i = 0; i < count; i++) {
    const rng = createRng(deriveSeed(seed, i));
    const bgRng = rng.fork();
    const objRng = rng.fork();
    const noiseSeed = rng.int(4294967296);
    painter.paint(images, i, bgRng, background);
    canvas.begin(i);
    const n = range[0] + objRng.int(range[1] - range[0] + 1);
    for (let k = 0; k < n; k++) placeObject(objRng, classes, S, sizeRange, canvas, stamp);
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
    numClasses: classes,
    classNames: ['background', ...SCENE_CLASSES.slice(0, classes).map((c) => c.name)],
  });
}

/** Draws one object and paints it at the first placement the canvas accepts (or skips it). */
function placeObject(rng: Rng, classes: number, S: number, sizeRange: [number, number], canvas: SceneCanvas, stamp: Stamp): void {
  const kind = rng.int(classes); // shape kind = texture kind = class id − 1
  const shape = sampleShapeParams(kind, rng);
  const texture = sampleTextureParams(kind, rng);
  const colors = sampleObjectColors(rng);
  const angle = 2 * Math.PI * rng.next();
  const aspect = Math.exp(0.4 * (rng.next() - 0.5));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const r = (sizeRange[0] + (sizeRange[1] - sizeRange[0]) * rng.next()) * S * (1 - 0.025 * attempt);
    const cx = 0.7 * r + (S - 1.4 * r) * rng.next();
    const cy = 0.7 * r + (S - 1.4 * r) * rng.next();
    const rx = r * aspect;
    const ry = r / aspect;
    const bound = SHAPE_BOUND * Math.max(rx, ry);
    const r0 = Math.max(0, Math.floor(cy - bound));
    const r1 = Math.min(S - 1, Math.ceil(cy + bound));
    const c0 = Math.max(0, Math.floor(cx - bound));
    const c1 = Math.min(S - 1, Math.ceil(cx + bound));
    stamp.clear();
    for (let row = r0; row <= r1; row++) {
      const dy = row + 0.5 - cy;
      for (let col = c0; col <= c1; col++) {
        const dx = col + 0.5 - cx;
        const u = cos * dx + sin * dy;
        const v = -sin * dx + cos * dy;
        if (insideShape(kind, u / rx, v / ry, shape)) stamp.push(row * S + col, textureValue(kind, u, v, texture));
      }
    }
    if (canvas.fits(stamp)) {
      canvas.commit(stamp, kind + 1, colors);
      return;
    }
  }
}
