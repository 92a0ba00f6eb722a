/**
 * Test-only helpers for the .npy / .safetensors tests: the fixtures made by
 * fixtures/make-npy-fixtures.py (numpy + a reference safetensors writer), decoded into
 * NdArrays independently of the code under test, and seeded random arrays of every dtype.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { createRng } from '../src/rng.js';
import type { DType, NdArray } from '../src/io/ndarray.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export type Value = number | string;
export interface ArrayCase {
  file: string;
  dtype: DType;
  shape: number[];
  values: Value[];
}
export interface TensorCase {
  dtype: DType;
  shape: number[];
  values: Value[];
}
export interface Manifest {
  numpy: string;
  npy: ArrayCase[];
  npyRead: ArrayCase[];
  npyErrors: { file: string; error: string }[];
  safetensors: {
    file: string;
    write: boolean;
    metadata: Record<string, string> | null;
    tensors: Record<string, TensorCase>;
    sourceDtypes?: Record<string, string>;
  }[];
}

export const manifest: Manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8'));

export function fixture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURES}${file}`));
}

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** Manifest values → NdArray (floats may be "nan"/"inf"/"-inf", int64 are decimal strings). */
export function expected(c: { dtype: DType; shape: number[]; values: Value[] }): NdArray {
  if (c.dtype === 'int64') {
    return { dtype: 'int64', shape: c.shape, data: BigInt64Array.from(c.values, (v) => BigInt(v)) };
  }
  const num = (v: Value) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));
  const ctor = CTORS[c.dtype] as Float64ArrayConstructor; // (any of them: same static `from`)
  return { dtype: c.dtype, shape: c.shape, data: ctor.from(c.values, num) } as unknown as NdArray;
}

/** Raw bytes of an array's data (compares floats bit for bit, NaN and −0 included). */
export function bytesOf(a: NdArray): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/** Asserts same dtype, shape and bit-identical data. */
export function expectSameArray(got: NdArray, want: NdArray, what = ''): void {
  expect(got.dtype, `${what} dtype`).toBe(want.dtype);
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  expect(got.data.constructor, `${what} data type`).toBe(want.data.constructor);
  expect(Array.from(bytesOf(got)), `${what} data bytes`).toEqual(Array.from(bytesOf(want)));
}

export const ALL_DTYPES: DType[] = ['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'bool'];

/** Seeded random array of any dtype, covering each type's extremes. */
export function randomArray(seed: number, dtype: DType, shape: number[]): NdArray {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const ints = (lo: number, hi: number) => Array.from({ length: n }, () => int(lo, hi));
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 1e3) };
    case 'float64':
      return { dtype, shape, data: Float64Array.from({ length: n }, () => (rng.next() - 0.5) * 1e-3) };
    case 'int8':
      return { dtype, shape, data: Int8Array.from(ints(-128, 127)) };
    case 'int16':
      return { dtype, shape, data: Int16Array.from(ints(-32768, 32767)) };
    case 'int32':
      return { dtype, shape, data: Int32Array.from(ints(-(2 ** 31), 2 ** 31 - 1)) };
    case 'int64':
      return {
        dtype,
        shape,
        data: BigInt64Array.from({ length: n }, () => (BigInt(int(-(2 ** 31), 2 ** 31 - 1)) << 32n) | BigInt(int(0, 2 ** 32 - 1))),
      };
    case 'uint8':
      return { dtype, shape, data: Uint8Array.from(ints(0, 255)) };
    case 'uint16':
      return { dtype, shape, data: Uint16Array.from(ints(0, 65535)) };
    case 'uint32':
      return { dtype, shape, data: Uint32Array.from(ints(0, 2 ** 32 - 1)) };
    case 'bool':
      return { dtype, shape, data: Uint8Array.from(ints(0, 1)) };
  }
}

/** Runs `fn`, expecting it to throw an instance of `cls` whose message matches every pattern. */
export function expectError(fn: () => unknown, cls: new (...a: never[]) => Error, ...patterns: (string | RegExp)[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(cls);
  const msg = (caught as Error).message;
  for (const p of patterns) {
    if (typeof p === 'string') expect(msg).toContain(p);
    else expect(msg).toMatch(p);
  }
  return caught as Error;
}
