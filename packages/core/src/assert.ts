import type { Tensor } from '@tensorflow/tfjs';
import { ShapeError, ValueError } from './errors.js';

/**
 * Input validation helpers used at the public boundary of every @mmc function. Each names the
 * calling function and the argument, and states the expected and the actual value, e.g.
 * `infoNCE: key must have shape [4, 128] (like query), got [4, 64]`.
 */

/** `[2, 3]` → `'[2, 3]'`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws a ShapeError unless `x` is a tensor of rank `rank`. */
export function assertRank(fn: string, arg: string, x: Tensor, rank: number, layout?: string): void {
  if (x == null || typeof (x as Tensor).rank !== 'number') {
    throw new ShapeError(`${fn}: ${arg} must be a tf.Tensor${layout ? ` ${layout}` : ''}, got ${describe(x)}`);
  }
  if (x.rank !== rank) {
    throw new ShapeError(
      `${fn}: ${arg} must have rank ${rank}${layout ? ` ${layout}` : ''}, got rank ${x.rank} with shape ${formatShape(x.shape)}`,
    );
  }
}

/** Throws a ShapeError unless `x.shape` equals `expected` (−1 matches any size). */
export function assertShape(fn: string, arg: string, x: Tensor, expected: readonly number[], hint = ''): void {
  if (x == null || typeof (x as Tensor).rank !== 'number') {
    throw new ShapeError(`${fn}: ${arg} must be a tf.Tensor of shape ${formatShape(expected)}, got ${describe(x)}`);
  }
  const ok = x.rank === expected.length && expected.every((d, i) => d === -1 || d === x.shape[i]);
  if (!ok) {
    throw new ShapeError(
      `${fn}: ${arg} must have shape ${formatShape(expected.map((d) => (d === -1 ? NaN : d))).replace(/NaN/g, '*')}${hint ? ` ${hint}` : ''}, got ${formatShape(x.shape)}`,
    );
  }
}

/** Throws a ValueError unless `value` is a finite number. */
export function assertFinite(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${fn}: ${arg} must be a finite number, got ${describe(value)}`);
  }
}

/** Throws a ValueError unless `value` is a finite number > 0. */
export function assertPositive(fn: string, arg: string, value: unknown): asserts value is number {
  assertFinite(fn, arg, value);
  if (value <= 0) throw new ValueError(`${fn}: ${arg} must be > 0, got ${value}`);
}

/** Throws a ValueError unless `value` is an integer ≥ `min` (default 1). */
export function assertInteger(fn: string, arg: string, value: unknown, min = 1): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(`${fn}: ${arg} must be an integer >= ${min}, got ${describe(value)}`);
  }
}

/**
 * Throws a ValueError unless `lo (<|≤) value (<|≤) hi`. `open` selects which ends are excluded:
 * `'both'` (default) for (lo, hi), `'none'` for [lo, hi], `'low'` for (lo, hi], `'high'` for [lo, hi).
 */
export function assertInRange(
  fn: string,
  arg: string,
  value: unknown,
  lo: number,
  hi: number,
  open: 'both' | 'none' | 'low' | 'high' = 'both',
): asserts value is number {
  assertFinite(fn, arg, value);
  const loOk = open === 'both' || open === 'low' ? value > lo : value >= lo;
  const hiOk = open === 'both' || open === 'high' ? value < hi : value <= hi;
  if (!loOk || !hiOk) {
    const l = open === 'both' || open === 'low' ? '(' : '[';
    const r = open === 'both' || open === 'high' ? ')' : ']';
    throw new ValueError(`${fn}: ${arg} must be in ${l}${lo}, ${hi}${r}, got ${value}`);
  }
}

/** Throws a ValueError unless `value` is one of `choices`. */
export function assertOneOf<T extends string>(fn: string, arg: string, value: unknown, choices: readonly T[]): asserts value is T {
  if (!choices.includes(value as T)) {
    throw new ValueError(`${fn}: ${arg} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
}

/** Short description of an arbitrary value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && 'shape' in (value as object) && 'dtype' in (value as object)) {
    const t = value as Tensor;
    return `tensor ${t.dtype} ${formatShape(t.shape)}`;
  }
  if (Array.isArray(value)) return `array of length ${value.length}`;
  return typeof value;
}
