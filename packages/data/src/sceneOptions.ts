import { ValueError, assertInRange, assertInteger, assertOneOf, describe } from '@mmc/core';
import type { BackgroundMode } from './background.js';

/**
 * Validation of the options shared by `scenes` and `fashionScenes` (count, imageSize, object
 * count range, seed, background, noise, size range). Internal.
 */
export interface CommonSceneOptions {
  count: number;
  imageSize: number;
  range: [number, number];
  seed: number;
  background: BackgroundMode;
  noise: number;
  sizeRange: [number, number];
}

/** Reads `[min, max]` (or a single count) from `value`, checking 0 ≤ min ≤ max ≤ 255. */
export function readRange(fn: string, arg: string, value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new ValueError(`${fn}: ${arg} must be a count or a [min, max] pair of counts, got ${describe(value)}`);
  }
  const [lo, hi] = pair as unknown[];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || (lo as number) < 0 || (lo as number) > (hi as number) || (hi as number) > 255) {
    throw new ValueError(`${fn}: ${arg} must be integers with 0 <= min <= max <= 255, got [${String(lo)}, ${String(hi)}]`);
  }
  return [lo as number, hi as number];
}

/** Validates the common options, filling defaults. */
export function readCommonOptions(
  fn: string,
  opts: {
    count: number;
    imageSize?: number;
    seed?: number;
    background?: BackgroundMode;
    noise?: number;
    sizeRange?: [number, number];
  },
  rangeArg: string,
  rangeValue: unknown,
  defaultSizeRange: [number, number],
  sizeBounds: [number, number],
): CommonSceneOptions {
  if (opts == null || typeof opts !== 'object') throw new ValueError(`${fn}: options must be an object, got ${describe(opts)}`);
  const { count, imageSize = 64, seed = 0, background = 'textured', noise = 0.02, sizeRange = defaultSizeRange } = opts;
  assertInteger(fn, 'count', count, 1);
  assertInteger(fn, 'imageSize', imageSize, 16);
  if (imageSize > 4096) throw new ValueError(`${fn}: imageSize must be <= 4096, got ${imageSize}`);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`${fn}: seed must be a safe integer, got ${describe(seed)}`);
  }
  assertOneOf(fn, 'background', background, ['textured', 'flat'] as const);
  assertInRange(fn, 'noise', noise, 0, 0.5, 'none');
  if (!Array.isArray(sizeRange) || sizeRange.length !== 2) {
    throw new ValueError(`${fn}: sizeRange must be a [min, max] pair, got ${describe(sizeRange)}`);
  }
  const [lo, hi] = sizeRange;
  assertInRange(fn, 'sizeRange[0]', lo, sizeBounds[0], sizeBounds[1], 'low');
  assertInRange(fn, 'sizeRange[1]', hi, sizeBounds[0], sizeBounds[1], 'low');
  if (lo > hi) throw new ValueError(`${fn}: sizeRange must have min <= max, got [${lo}, ${hi}]`);
  const range = readRange(fn, rangeArg, rangeValue);
  return { count, imageSize, range, seed, background, noise, sizeRange: [lo, hi] };
}
