import * as tf from '@tensorflow/tfjs';
import { assertFinite, describe, formatShape, l2Normalize, ShapeError, ValueError } from '@mmc/core';
import { assertFiniteRows, inputShape, toFloatTensor, type ArrayInput } from './ndarray.js';

/** A prompt given as a patch-grid cell: `row` in [0, h), `col` in [0, w). */
export interface PatchPrompt {
  row: number;
  col: number;
}

/**
 * A prompt given as a pixel position (a click) in the image the patches were computed from:
 * `x` (column) in [0, W), `y` (row) in [0, H); `imageSize` is `[H, W]` (height first, as the
 * NHWC layout) or one number for a square image. Fractional positions are allowed.
 * The patch is `row = floor(y·h/H)`, `col = floor(x·w/W)`.
 */
export interface PixelPrompt {
  x: number;
  y: number;
  imageSize: number | readonly [number, number];
}

/** A prompt: a patch cell or a pixel position. */
export type Prompt = PatchPrompt | PixelPrompt;

/** Options of {@link promptSegment}. */
export interface PromptSegmentOptions {
  /** Mask = similarity > threshold (strict). Required. Paper sweep: 0.1, 0.2, 0.3, 0.4. */
  threshold: number;
  /** `[H, W]`: upsample the similarity map bilinearly (half-pixel centres) before thresholding. */
  outputSize?: readonly [number, number];
}

/** Result of {@link promptSegment}: plain typed arrays, row-major over `shape`. */
export interface PromptSegmentResult {
  /** Cosine similarity of the prompt token to every token (upsampled when `outputSize` is given). */
  similarity: Float32Array;
  /** 1 where `similarity > threshold`, else 0. */
  mask: Uint8Array;
  /** `[h, w]`, or `[H, W]` = `outputSize`. */
  shape: [number, number];
  /** The prompt resolved to its patch-grid cell. */
  prompt: PatchPrompt;
}

/**
 * Resolves a prompt to its patch-grid cell, throwing a ValueError when it lies outside the grid
 * (or outside the image for a pixel prompt).
 */
export function resolvePrompt(fn: string, arg: string, prompt: unknown, h: number, w: number): PatchPrompt {
  if (prompt == null || typeof prompt !== 'object') {
    throw new ValueError(`${fn}: ${arg} must be { row, col } or { x, y, imageSize }, got ${describe(prompt)}`);
  }
  const p = prompt as Partial<PatchPrompt & PixelPrompt>;
  if ('row' in p || 'col' in p) {
    const { row, col } = p;
    if (!Number.isInteger(row) || !Number.isInteger(col)) {
      throw new ValueError(`${fn}: ${arg}.row and ${arg}.col must be integers, got row ${describe(row)}, col ${describe(col)}`);
    }
    if ((row as number) < 0 || (row as number) >= h || (col as number) < 0 || (col as number) >= w) {
      throw new ValueError(
        `${fn}: ${arg} { row: ${row}, col: ${col} } is outside the ${h}×${w} patch grid (row in [0, ${h}), col in [0, ${w}))`,
      );
    }
    return { row: row as number, col: col as number };
  }
  if ('x' in p || 'y' in p) {
    const { x, y, imageSize } = p;
    assertFinite(fn, `${arg}.x`, x);
    assertFinite(fn, `${arg}.y`, y);
    let H: number;
    let W: number;
    if (typeof imageSize === 'number') {
      H = imageSize;
      W = imageSize;
    } else if (Array.isArray(imageSize) && imageSize.length === 2) {
      [H, W] = imageSize as [number, number];
    } else {
      throw new ValueError(`${fn}: ${arg}.imageSize must be [H, W] or a number, got ${describe(imageSize)}`);
    }
    if (!(H > 0) || !(W > 0) || !Number.isFinite(H) || !Number.isFinite(W)) {
      throw new ValueError(`${fn}: ${arg}.imageSize must be positive, got [${H}, ${W}]`);
    }
    if (y < 0 || y >= H || x < 0 || x >= W) {
      throw new ValueError(
        `${fn}: ${arg} { x: ${x}, y: ${y} } is outside the image of size [H, W] = [${H}, ${W}] (x in [0, ${W}), y in [0, ${H}))`,
      );
    }
    return { row: Math.min(h - 1, Math.floor((y * h) / H)), col: Math.min(w - 1, Math.floor((x * w) / W)) };
  }
  throw new ValueError(`${fn}: ${arg} must be { row, col } or { x, y, imageSize }, got an object with keys ${Object.keys(p).join(', ') || '(none)'}`);
}

/** Validates `outputSize` ([H, W] of positive integers). */
function checkOutputSize(fn: string, outputSize: unknown): [number, number] {
  if (
    !Array.isArray(outputSize) ||
    outputSize.length !== 2 ||
    !outputSize.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new ValueError(`${fn}: outputSize must be [H, W] of positive integers, got ${describe(outputSize)}${Array.isArray(outputSize) ? ` ${JSON.stringify(outputSize)}` : ''}`);
  }
  return [outputSize[0], outputSize[1]];
}

/** A validated prompt-similarity request: grid `[h, w]`, token width D, prompt cell, output size. */
export interface PromptRequest {
  h: number;
  w: number;
  D: number;
  cell: PatchPrompt;
  outputSize?: [number, number];
}

/**
 * Validates the inputs of a prompt-similarity computation (shape, prompt, `outputSize`), without
 * reading the tokens (the finiteness check is the caller's: sync or async).
 */
export function preparePrompt(
  fn: string,
  patches: ArrayInput,
  prompt: Prompt,
  outputSize?: readonly [number, number],
  arg = 'patches',
  promptArg = 'prompt',
): PromptRequest {
  const shape = inputShape(fn, arg, patches, 3, '[h, w, D]');
  const [h, w, D] = shape;
  if (h === 0 || w === 0 || D === 0) {
    throw new ShapeError(`${fn}: ${arg} must have non-empty dimensions [h, w, D], got ${formatShape(shape)}`);
  }
  const cell = resolvePrompt(fn, promptArg, prompt, h, w);
  return { h, w, D, cell, outputSize: outputSize === undefined ? undefined : checkOutputSize(fn, outputSize) };
}

/** The similarity map `[h, w, 1]` (or `[H, W, 1]`) of a validated request on the current backend; tidy, the caller disposes it. */
export function promptSimilarityTensor(patches: ArrayInput, r: PromptRequest): tf.Tensor3D {
  return tf.tidy(() => {
    const tokens = l2Normalize(toFloatTensor(patches, [r.h * r.w, r.D]));
    const query = tf.slice(tokens, [r.cell.row * r.w + r.cell.col, 0], [1, r.D]);
    const map = tf.reshape(tf.matMul(tokens, tf.transpose(query)), [r.h, r.w, 1]) as tf.Tensor3D;
    return r.outputSize ? tf.image.resizeBilinear(map, r.outputSize, false, true) : map;
  });
}

/** `similarity > threshold` (strict) as 0/1. */
export function thresholdSimilarity(similarity: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(similarity.length);
  for (let i = 0; i < similarity.length; i++) mask[i] = similarity[i] > threshold ? 1 : 0;
  return mask;
}

/** Validates `options` of promptSegment(Async) and returns the threshold. */
export function readThreshold(fn: string, options: PromptSegmentOptions): number {
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { threshold, outputSize? }, got ${describe(options)}`);
  }
  assertFinite(fn, 'threshold', options.threshold);
  return options.threshold;
}

/**
 * The similarity map of {@link promptSegment} without thresholding (used by `thresholdSweep`,
 * which thresholds one map at several thresholds). Validates its inputs.
 */
export function promptSimilarityMap(
  fn: string,
  patches: ArrayInput,
  prompt: Prompt,
  outputSize?: readonly [number, number],
  arg = 'patches',
  promptArg = 'prompt',
): { similarity: Float32Array; shape: [number, number]; prompt: PatchPrompt } {
  const r = preparePrompt(fn, patches, prompt, outputSize, arg, promptArg);
  assertFiniteRows(fn, arg, patches, r.D, 'token (row-major over the h×w grid)');
  const sim = promptSimilarityTensor(patches, r);
  const similarity = Float32Array.from(sim.dataSync() as Float32Array);
  sim.dispose();
  return { similarity, shape: r.outputSize ?? [r.h, r.w], prompt: r.cell };
}

/**
 * Zero-shot segmentation from one prompt patch (MMC paper, §"Zero-shot Segmentation from
 * Prompts"): the patch tokens of the last layer (CLS dropped) are L2-normalised, the cosine
 * similarity of the prompt token to every token gives a map, and the mask is
 *
 *     mask = similarity > threshold          (strict)
 *
 * With `outputSize = [H, W]` the `[h, w]` similarity map is first upsampled bilinearly with
 * half-pixel centres (PyTorch `F.interpolate(mode='bilinear', align_corners=False)` =
 * `tf.image.resizeBilinear(map, [H, W], false, true)`), then thresholded.
 *
 * A pixel prompt `{ x, y, imageSize }` selects the patch `row = floor(y·h/H)`,
 * `col = floor(x·w/W)`, where `imageSize` is `[H, W]` (or one number for a square image).
 * A prompt outside the grid/image raises a `ValueError`; a non-finite token raises one naming it.
 * Zero tokens stay zero after normalisation (similarity 0).
 *
 * Inputs follow @mmc/eval's convention (a tensor or a `{ data, shape }` array, see `NdArrayLike`).
 * The result is plain typed arrays (no tensors to dispose).
 *
 * @param patches `[h, w, D]` patch tokens of one image (row-major patch grid)
 * @param prompt `{ row, col }` patch cell or `{ x, y, imageSize }` pixel position
 * @param options `{ threshold, outputSize? }`
 * @returns `{ similarity: Float32Array, mask: Uint8Array, shape: [h, w] | [H, W], prompt: { row, col } }`
 * @example
 * ```ts
 * const patches = tf.randomNormal([14, 14, 384]);            // e.g. ViT-S/16 on 224×224
 * const { mask, shape } = promptSegment(patches, { x: 100, y: 60, imageSize: [224, 224] },
 *   { threshold: 0.3, outputSize: [224, 224] });
 * ```
 */
export function promptSegment(patches: ArrayInput, prompt: Prompt, options: PromptSegmentOptions): PromptSegmentResult {
  const fn = 'promptSegment';
  const threshold = readThreshold(fn, options);
  const { similarity, shape, prompt: cell } = promptSimilarityMap(fn, patches, prompt, options.outputSize);
  return { similarity, mask: thresholdSimilarity(similarity, threshold), shape, prompt: cell };
}
