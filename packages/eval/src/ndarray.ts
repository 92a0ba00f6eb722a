import * as tf from '@tensorflow/tfjs';
import { describe, formatShape, ShapeError, ValueError } from '@mmc/core';

/**
 * The input convention of @mmc/eval: embeddings can come from anywhere (this library's models,
 * PyTorch via `.npy`, ONNX Runtime, a file), so every array argument accepts either
 *
 * - a `tf.Tensor`, or
 * - an {@link NdArrayLike}: `{ data, shape }` with row-major (C-order) `data` of any numeric
 *   array type (`Float32Array`, `Float64Array`, `Int32Array`, `Uint8Array`, `number[]`, …) and
 *   `data.length` equal to the product of `shape`. This is exactly what `readNpy` /
 *   `readSafetensors` return, and what `{ data: tensor.dataSync(), shape: tensor.shape }` gives.
 *
 * Label vectors (`[M]`) additionally accept a bare array (`Int32Array`, `number[]`, …). The
 * video, probe and report functions also take rectangular nested arrays ({@link NestedNumbers})
 * and, where the shape is known from elsewhere, flat typed arrays (`toHostArray`).
 * Features are computed in float32 on the active tfjs backend; counts on the host in float64.
 *
 * @example
 * ```ts
 * const feats: NdArrayLike = { data: new Float32Array(6), shape: [2, 3] };
 * knnClassify({ trainFeatures: feats, trainLabels: [0, 1], testFeatures: tf.ones([1, 3]), numClasses: 2, k: 1 });
 * ```
 */
export interface NdArrayLike {
  /** Row-major values; `data.length` = product of `shape`. */
  data: ArrayLike<number>;
  /** Dimensions, e.g. `[M, D]`. */
  shape: readonly number[];
}

/** A tensor or a `{ data, shape }` array (see {@link NdArrayLike}). */
export type ArrayInput = tf.Tensor | NdArrayLike;

/** A label vector: a tensor, a `{ data, shape }` array, or a bare numeric array. */
export type LabelsInput = ArrayInput | ArrayLike<number>;

/** A rectangular nested array of numbers of any depth (`number[][]`, `number[][][]`, …). */
export interface NestedNumbers extends ReadonlyArray<number | NestedNumbers> {}

/** A flat row-major copy of an input with its shape (flat arrays get shape `[length]`). */
export interface HostArray {
  data: ArrayLike<number>;
  shape: number[];
}

/** True for a tfjs tensor. */
export function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor || (x != null && typeof x === 'object' && 'dataSync' in x && 'rank' in x && 'shape' in x);
}

/** True for a plain array or a typed array (a `DataView` is not a numeric array). */
function isArrayLikeNumbers(x: unknown): x is ArrayLike<number> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/**
 * Validates `x` as an {@link ArrayInput} and returns its shape. `layout` (e.g. `'[M, D]'`) and
 * `rank` make the error messages name the expected layout.
 */
export function inputShape(fn: string, arg: string, x: unknown, rank?: number, layout?: string): number[] {
  let shape: number[];
  if (isTensor(x)) {
    shape = x.shape.slice();
  } else if (x != null && typeof x === 'object' && 'data' in x && 'shape' in x) {
    const nd = x as NdArrayLike;
    if (!Array.isArray(nd.shape) || !nd.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(`${fn}: ${arg}.shape must be an array of non-negative integers, got ${JSON.stringify(nd.shape)}`);
    }
    if (!isArrayLikeNumbers(nd.data)) {
      throw new ShapeError(`${fn}: ${arg}.data must be a numeric array (Float32Array, number[], …), got ${describe(nd.data)}`);
    }
    const size = nd.shape.reduce((a, b) => a * b, 1);
    if (nd.data.length !== size) {
      throw new ShapeError(
        `${fn}: ${arg}.data has ${nd.data.length} values but ${arg}.shape ${formatShape(nd.shape)} needs ${size}`,
      );
    }
    shape = nd.shape.slice();
  } else {
    throw new ShapeError(
      `${fn}: ${arg} must be a tf.Tensor or a { data, shape } array${layout ? ` ${layout}` : ''}, got ${describe(x)}`,
    );
  }
  if (rank !== undefined && shape.length !== rank) {
    throw new ShapeError(
      `${fn}: ${arg} must have rank ${rank}${layout ? ` ${layout}` : ''}, got shape ${formatShape(shape)}`,
    );
  }
  return shape;
}

/**
 * The values of `x` on the host (a tensor is read with `dataSync`; an NdArrayLike is returned as is).
 */
export function hostData(x: ArrayInput): ArrayLike<number> {
  return isTensor(x) ? (x.dataSync() as ArrayLike<number>) : x.data;
}

/**
 * `x` as a float32 tensor of shape `shape`. For a float32 tensor input this is the input itself
 * (reshaped if needed); otherwise a new tensor. Call inside `tf.tidy` (or dispose what you own).
 */
export function toFloatTensor(x: ArrayInput, shape?: readonly number[]): tf.Tensor {
  let t: tf.Tensor;
  if (isTensor(x)) {
    t = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  } else {
    const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
    t = tf.tensor(data, x.shape.slice(), 'float32');
  }
  if (shape && (shape.length !== t.rank || !shape.every((d, i) => d === t.shape[i]))) t = tf.reshape(t, shape.slice());
  return t;
}

/**
 * Throws a ValueError naming the argument, the row and the column of the first non-finite value
 * of `x` viewed as rows of `rowSize` values. Tensors are checked on the device first and read
 * back only when a non-finite value exists.
 */
export function assertFiniteRows(fn: string, arg: string, x: ArrayInput, rowSize: number, what = 'row'): void {
  if (isTensor(x)) {
    if (x.size === 0) return;
    const ok = tf.tidy(() => tf.all(tf.isFinite(x)));
    const allFinite = ok.dataSync()[0] === 1;
    ok.dispose();
    if (allFinite) return;
  }
  const data = hostData(x);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      const row = rowSize > 0 ? Math.floor(i / rowSize) : 0;
      const col = rowSize > 0 ? i % rowSize : i;
      throw new ValueError(`${fn}: ${arg} ${what} ${row} contains a non-finite value (${v} at column ${col})`);
    }
  }
}

/**
 * Reads a label vector as an Int32Array, checking its length (when `n` is given) and that every
 * entry is an integer. Accepts a tensor `[n]`, a `{ data, shape: [n] }` array, or a bare array.
 */
export function readLabels(fn: string, arg: string, x: unknown, n?: number, hint = ''): Int32Array {
  let data: ArrayLike<number>;
  if (isArrayLikeNumbers(x)) {
    data = x as ArrayLike<number>;
  } else {
    const shape = inputShape(fn, arg, x);
    if (shape.length !== 1) {
      throw new ShapeError(`${fn}: ${arg} must be a vector [${n ?? 'M'}]${hint ? ` ${hint}` : ''}, got shape ${formatShape(shape)}`);
    }
    data = hostData(x as ArrayInput);
  }
  if (n !== undefined && data.length !== n) {
    throw new ShapeError(`${fn}: ${arg} must have length ${n}${hint ? ` ${hint}` : ''}, got ${data.length}`);
  }
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2147483647) {
      throw new ValueError(`${fn}: ${arg}[${i}] must be an integer label, got ${describe(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** Throws a ValueError naming the first label outside [0, numClasses). */
export function assertLabelsInRange(fn: string, arg: string, labels: Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0 || labels[i] >= numClasses) {
      throw new ValueError(`${fn}: ${arg}[${i}] = ${labels[i]} is outside [0, numClasses) = [0, ${numClasses})`);
    }
  }
}

/**
 * Flattens a tensor (dataSync), a `{ data, shape }` object, a typed/plain flat array or a
 * rectangular nested array.
 * Throws a ShapeError naming `fn` and `arg` for ragged or non-numeric input.
 */
export function toHostArray(fn: string, arg: string, x: unknown): HostArray {
  if (isTensor(x)) return { data: x.dataSync() as ArrayLike<number>, shape: x.shape.slice() };
  if (x != null && typeof x === 'object' && !Array.isArray(x) && 'data' in x && 'shape' in x) {
    const shape = inputShape(fn, arg, x);
    return { data: (x as NdArrayLike).data, shape };
  }
  if (isArrayLikeNumbers(x) && !Array.isArray(x)) {
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
 * Like `toHostArray`, then checks the element count against `shape` (a flat input takes
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
