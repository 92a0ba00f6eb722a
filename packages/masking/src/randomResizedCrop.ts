import * as tf from '@tensorflow/tfjs';
import { assertRng } from './assertRng.js';
import { assertInteger, assertRank, ValueError, type Rng } from '@mmc/core';

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  rng: Rng;
  /** Output side length (square) or [height, width]. */
  size: number | [number, number];
  /** Range of the crop's area as a fraction of the image (default [0.08, 1], torchvision). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio w/h, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: [number, number];
}

/** One crop box in pixels: rows [top, top + height), cols [left, left + width). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * torchvision's `RandomResizedCrop.get_params` on the host: up to 10 attempts of
 * area = U(scale)·H·W, log-ratio = U(log ratio), w = round(√(area·r)), h = round(√(area/r));
 * the first that fits gives top = randint(0, H − h], left = randint(0, W − w]; otherwise the
 * central crop with the ratio clamped to the range.
 */
export function sampleCropBox(rng: Rng, height: number, width: number, scale: [number, number], ratio: [number, number]): CropBox {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.next());
    const r = Math.exp(logLo + (logHi - logLo) * rng.next());
    const w = Math.round(Math.sqrt(target * r));
    const h = Math.round(Math.sqrt(target / r));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * Random resized crop of every image (torchvision semantics for the box; bilinear resampling by
 * `tf.image.cropAndResize` with pixel-centre boxes). Boxes come from the rng on the host, so a seed
 * gives the same crops on every backend.
 *
 * @param images `[B, H, W, C]`
 * @returns `{ images: [B, size, size, C], boxes }`
 * @example
 * ```ts
 * const { images: view } = randomResizedCrop(batch, { rng, size: 32, scale: [0.25, 1] });
 * ```
 */
export function randomResizedCrop(
  images: tf.Tensor4D,
  opts: RandomResizedCropOptions,
): { images: tf.Tensor4D; boxes: CropBox[] } {
  const fn = 'randomResizedCrop';
  assertRank(fn, 'images', images, 4, '[B, H, W, C]');
  const { rng, size, scale = [0.08, 1], ratio = [3 / 4, 4 / 3] } = opts ?? ({} as RandomResizedCropOptions);
  assertRng(fn, rng);
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  assertInteger(fn, 'size', outH, 1);
  assertInteger(fn, 'size', outW, 1);
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new ValueError(`${fn}: scale must satisfy 0 < scale[0] <= scale[1] <= 1, got [${scale.join(', ')}]`);
  }
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new ValueError(`${fn}: ratio must satisfy 0 < ratio[0] <= ratio[1], got [${ratio.join(', ')}]`);
  const [B, H, W] = images.shape;
  const boxes: CropBox[] = [];
  const norm = new Float32Array(B * 4);
  for (let b = 0; b < B; b++) {
    const box = sampleCropBox(rng, H, W, scale, ratio);
    boxes.push(box);
    // Output pixel i samples the box at its half-pixel centre top + (i + ½)·h/outH − ½ (pixel-index
    // coordinates); cropAndResize samples y1·(H − 1) + i·(y2 − y1)(H − 1)/(outH − 1), hence:
    const ys = (box.height / outH) * 0.5 - 0.5;
    const xs = (box.width / outW) * 0.5 - 0.5;
    norm[b * 4] = (box.top + ys) / Math.max(H - 1, 1);
    norm[b * 4 + 1] = (box.left + xs) / Math.max(W - 1, 1);
    norm[b * 4 + 2] = (box.top + box.height - 1 - ys) / Math.max(H - 1, 1);
    norm[b * 4 + 3] = (box.left + box.width - 1 - xs) / Math.max(W - 1, 1);
  }
  const out = tf.tidy(() =>
    tf.image.cropAndResize(
      images,
      tf.tensor2d(norm, [B, 4]),
      tf.range(0, B, 1, 'int32') as tf.Tensor1D,
      [outH, outW],
      'bilinear',
    ),
  );
  return { images: out as tf.Tensor4D, boxes };
}
