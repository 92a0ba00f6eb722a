import * as tf from '@tensorflow/tfjs';
import { describe, formatShape, ShapeError } from '@mmc/core';

/**
 * Internal input plumbing of the video, probe and report functions of @mmc/eval (not exported
 * from the package index): they accept tensors, `{ data, shape }` arrays (the package-wide
 * convention, what `readNpy` returns), nested number arrays, or flat typed arrays where the shape
 * is known from elsewhere, and these helpers bring any of them to a flat host array plus a
 * shape, or to a tensor.
 */

/** A nested array of numbers of any depth (`number[][]`, `number[][][]`, …). */
export interface NestedNumbers extends ReadonlyArray<number | NestedNumbers> {}

/** `{ data, shape }`: row-major values and dimensions (what `readNpy` / `readSafetensors` return). */
export interface ShapedData {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** A flat row-major copy of an input with its shape (flat arrays get shape `[length]`). */
export interface HostArray {
  data: ArrayLike<number>;
  shape: number[];
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor || (x != null && typeof x === 'object' && 'dataSync' in x && 'shape' in x && 'rank' in x);
}

/**
 * Flattens a tensor (dataSync), a `{ data, shape }` object, a typed/plain flat array or a
 * rectangular nested array.
 * Throws a ShapeError naming `fn` and `arg` for ragged or non-numeric input.
 */
export function toHostArray(fn: string, arg: string, x: unknown): HostArray {
  if (isTensor(x)) return { data: x.dataSync() as ArrayLike<number>, shape: x.shape.slice() };
  if (x != null && typeof x === 'object' && !Array.isArray(x) && 'data' in x && 'shape' in x) {
    const { data, shape } = x as ShapedData;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(`${fn}: ${arg}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!(Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView)))) {
      throw new ShapeError(`${fn}: ${arg}.data must be a numeric array (Float32Array, number[], …), got ${describe(data)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new ShapeError(`${fn}: ${arg}.data has ${data.length} values but ${arg}.shape ${formatShape(shape)} needs ${size}`);
    return { data, shape: shape.slice() };
  }
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
    const a = x as unknown as ArrayLike<number>;
    return { data: a, shape: [a.length] };
  }
  if (Array.isArray(x)) {
    if (x.length === 0 || !Array.isArray(x[0])) {
      for (let i = 0; i < x.length; i++) {
        if (typeof x[i] !== 'number') {
          throw new ShapeError(`${fn}: ${arg} must be a tensor or a (nested) array of numbers, element ${i} is ${describe(x[i])}`);
        }
      }
      return { data: x as number[], shape: [x.length] };
    }
    const shape: number[] = [];
    let level: unknown = x;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    const out: number[] = [];
    const walk = (v: unknown, depth: number, path: string): void => {
      if (depth === shape.length) {
        if (typeof v !== 'number') throw new ShapeError(`${fn}: ${arg}${path} must be a number, got ${describe(v)}`);
        out.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) {
        throw new ShapeError(
          `${fn}: ${arg} must be a rectangular nested array of shape ${formatShape(shape)}, ${arg}${path} is ${describe(v)}`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
    };
    walk(x, 0, '');
    return { data: out, shape };
  }
  throw new ShapeError(`${fn}: ${arg} must be a tensor, a typed array or a nested array of numbers, got ${describe(x)}`);
}

/**
 * Like {@link toHostArray}, then checks the element count against `shape` (a flat input takes
 * that shape; −1 entries are inferred from a tensor's or nested array's own shape).
 */
export function toHostArrayShaped(fn: string, arg: string, x: unknown, shape: readonly number[], layout: string): HostArray {
  const host = toHostArray(fn, arg, x);
  const flat = host.shape.length === 1 && shape.length !== 1;
  if (flat) {
    if (shape.some((d) => d < 0)) {
      throw new ShapeError(`${fn}: ${arg} must be a tensor or nested array ${layout} (a flat array needs a known shape), got a flat array of length ${host.data.length}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (host.data.length !== n) {
      throw new ShapeError(`${fn}: ${arg} must have ${n} elements ${layout} = ${formatShape(shape)}, got a flat array of length ${host.data.length}`);
    }
    return { data: host.data, shape: shape.slice() };
  }
  const ok = host.shape.length === shape.length && shape.every((d, i) => d < 0 || d === host.shape[i]);
  if (!ok) {
    throw new ShapeError(
      `${fn}: ${arg} must have shape ${formatShape(shape.map((d) => (d < 0 ? NaN : d))).replace(/NaN/g, '*')} ${layout}, got ${formatShape(host.shape)}`,
    );
  }
  return host;
}

/**
 * A float32 tensor of the given rank from a tensor (returned as is when already float32; the
 * caller must not dispose what it did not create: `owned` says) or a nested array.
 */
export function asFloatTensor(fn: string, arg: string, x: unknown, rank: number, layout: string): { tensor: tf.Tensor; owned: boolean } {
  if (isTensor(x)) {
    if (x.rank !== rank) {
      throw new ShapeError(`${fn}: ${arg} must have rank ${rank} ${layout}, got rank ${x.rank} with shape ${formatShape(x.shape)}`);
    }
    if (x.dtype === 'float32') return { tensor: x, owned: false };
    return { tensor: tf.cast(x, 'float32'), owned: true };
  }
  const host = toHostArray(fn, arg, x);
  if (host.shape.length !== rank) {
    throw new ShapeError(`${fn}: ${arg} must have rank ${rank} ${layout}, got ${host.shape.length === 1 ? 'a flat array' : `shape ${formatShape(host.shape)}`}`);
  }
  return { tensor: tf.tensor(Float32Array.from(host.data), host.shape, 'float32'), owned: true };
}
