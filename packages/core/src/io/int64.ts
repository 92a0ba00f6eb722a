import { ValueError } from '../errors.js';

/**
 * How readers return 64-bit integer data: `'bigint'` (default) keeps dtype `'int64'` in a
 * BigInt64Array, exactly; `'int32'` returns dtype `'int32'` in an Int32Array and throws a
 * ValueError naming the first value outside [−2^31, 2^31 − 1] (tfjs has no int64, and labels
 * saved by numpy/PyTorch are int64 by default).
 */
export type Int64Mode = 'bigint' | 'int32';

/** Checks an `int64` option value (internal). */
export function checkInt64Mode(fn: string, mode: unknown): Int64Mode {
  if (mode === undefined) return 'bigint';
  if (mode !== 'bigint' && mode !== 'int32') {
    throw new ValueError(`${fn}: options.int64 must be 'bigint' or 'int32', got ${JSON.stringify(mode)}`);
  }
  return mode;
}

/**
 * int64 → int32 with a range check: ValueError naming `what`, the value and its flat index when
 * one does not fit (internal).
 */
export function int64ToInt32(fn: string, what: string, src: BigInt64Array): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < -2147483648n || v > 2147483647n) {
      throw new ValueError(
        `${fn}: ${what} holds the int64 value ${v} at flat index ${i}, outside the int32 range ` +
          `[-2147483648, 2147483647]; read it with { int64: 'bigint' } to keep 64-bit values`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}
