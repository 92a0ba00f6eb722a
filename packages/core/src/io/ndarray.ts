import { formatShape } from '../assert.js';
import { ShapeError, ValueError } from '../errors.js';

/**
 * Host-side n-dimensional arrays: the tensor-free currency of the .npy and .safetensors readers
 * and writers, so the file formats work without a tfjs backend (and in a browser without fs).
 * Data are dense, row-major (C order), one typed array per dtype.
 */

/** The typed array that holds each dtype. `bool` is stored as 0/1 bytes. */
export interface DTypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  bool: Uint8Array;
}

/** Element types an {@link NdArray} can have. */
export type DType = keyof DTypeArrays;

/** An {@link NdArray} of one known dtype. */
export interface NdArrayOf<D extends DType> {
  dtype: D;
  /** Row-major dimensions; `[]` is a scalar (one element), a 0 anywhere means no elements. */
  shape: number[];
  /** `shape.reduce(×, 1)` elements in C order. */
  data: DTypeArrays[D];
}

/**
 * A dense row-major array on the host. A discriminated union on `dtype`, so checking `dtype`
 * narrows `data` (e.g. `if (a.dtype === 'int64') a.data` is a `BigInt64Array`).
 */
export type NdArray = { [D in DType]: NdArrayOf<D> }[DType];

interface DTypeInfo {
  bytes: number;
  ctor: {
    new (length: number): DTypeArrays[DType];
    new (buffer: ArrayBuffer): DTypeArrays[DType];
    readonly name: string;
  };
}

/** Element size and typed-array constructor of every dtype (internal). */
export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  float32: { bytes: 4, ctor: Float32Array },
  float64: { bytes: 8, ctor: Float64Array },
  int8: { bytes: 1, ctor: Int8Array },
  int16: { bytes: 2, ctor: Int16Array },
  int32: { bytes: 4, ctor: Int32Array },
  int64: { bytes: 8, ctor: BigInt64Array },
  uint8: { bytes: 1, ctor: Uint8Array },
  uint16: { bytes: 2, ctor: Uint16Array },
  uint32: { bytes: 4, ctor: Uint32Array },
  bool: { bytes: 1, ctor: Uint8Array },
};

/** All dtypes, in a stable order (for messages). */
export const DTYPES = Object.keys(DTYPE_INFO) as DType[];

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  bool: [0, 1],
};

/** Number of elements of a shape (1 for `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describeData(data: unknown): string {
  if (data == null) return String(data);
  const name = (data as object).constructor?.name;
  return typeof data === 'object' ? (name ?? 'object') : typeof data;
}

/**
 * Throws unless `x` is a well-formed {@link NdArray}: a known dtype (ValueError), `data` of that
 * dtype's typed array (ValueError), a shape of non-negative integers whose product is
 * `data.length` (ShapeError). Used by the writers and `toTensor` (internal).
 */
export function checkNdArray(fn: string, arg: string, x: unknown): asserts x is NdArray {
  if (x == null || typeof x !== 'object') {
    throw new ValueError(`${fn}: ${arg} must be an NdArray { dtype, shape, data }, got ${describeData(x)}`);
  }
  const { dtype, shape, data } = x as { dtype: unknown; shape: unknown; data: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_INFO)) {
    throw new ValueError(`${fn}: ${arg}.dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  }
  const info = DTYPE_INFO[dtype as DType];
  if (!(data instanceof info.ctor)) {
    throw new ValueError(`${fn}: ${arg}.data must be a ${info.ctor.name} for dtype '${dtype}', got ${describeData(data)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${fn}: ${arg}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const n = shapeSize(shape);
  if (n !== (data as ArrayLike<unknown>).length) {
    throw new ShapeError(
      `${fn}: ${arg}.shape ${formatShape(shape)} implies ${n} elements, but ${arg}.data has ${(data as ArrayLike<unknown>).length}`,
    );
  }
}

/**
 * Builds a validated {@link NdArray}. `data` may be the dtype's typed array (used as is, not
 * copied), a plain array of numbers (converted; integers are range-checked, `bool` takes 0/1),
 * `bigint`s for `int64`, or omitted (zeros).
 *
 * @param dtype element type
 * @param shape row-major dimensions (`[]` = scalar)
 * @param data values in C order, `shape`'s product of them
 * @example
 * ```ts
 * const labels = ndarray('int64', [3], [0n, 2n, 1n]);
 * const x = ndarray('float32', [2, 2], [1, 2, 3, 4]);
 * writeNpy(x); // Uint8Array of a .npy file
 * ```
 */
export function ndarray<D extends DType>(
  dtype: D,
  shape: readonly number[],
  data?: DTypeArrays[D] | ArrayLike<number | bigint>,
): NdArrayOf<D> {
  const fn = 'ndarray';
  if (typeof dtype !== 'string' || !(dtype in DTYPE_INFO)) {
    throw new ValueError(`${fn}: dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${fn}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const info = DTYPE_INFO[dtype];
  const n = shapeSize(shape);
  let typed: DTypeArrays[D];
  if (data == null) {
    typed = new info.ctor(n) as DTypeArrays[D];
  } else if (data instanceof info.ctor) {
    typed = data as DTypeArrays[D];
  } else if (ArrayBuffer.isView(data)) {
    throw new ValueError(`${fn}: data for dtype '${dtype}' must be a ${info.ctor.name} or a plain array, got ${describeData(data)}`);
  } else {
    const src = data as ArrayLike<number | bigint>;
    const out = new info.ctor(src.length);
    const range = INT_RANGE[dtype];
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (dtype === 'int64') {
        if (typeof v === 'bigint') {
          if (BigInt.asIntN(64, v) !== v) throw new ValueError(`${fn}: data[${i}] = ${v} does not fit in int64`);
          (out as BigInt64Array)[i] = v;
        } else if (Number.isSafeInteger(v)) {
          (out as BigInt64Array)[i] = BigInt(v);
        } else {
          throw new ValueError(`${fn}: data[${i}] must be an integer (number within ±2^53, or bigint) for dtype 'int64', got ${v}`);
        }
      } else if (typeof v !== 'number') {
        throw new ValueError(`${fn}: data[${i}] must be a number for dtype '${dtype}', got ${typeof v}`);
      } else if (range != null) {
        if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
          throw new ValueError(`${fn}: data[${i}] must be an integer in [${range[0]}, ${range[1]}] for dtype '${dtype}', got ${v}`);
        }
        (out as Int32Array)[i] = v;
      } else {
        (out as Float32Array)[i] = v;
      }
    }
    typed = out as DTypeArrays[D];
  }
  if (typed.length !== n) {
    throw new ShapeError(`${fn}: shape ${formatShape(shape)} implies ${n} elements, but data has ${typed.length}`);
  }
  if (dtype === 'bool') {
    const b = typed as Uint8Array;
    for (let i = 0; i < b.length; i++) {
      if (b[i] > 1) throw new ValueError(`${fn}: bool data must be 0 or 1, got ${b[i]} at index ${i}`);
    }
  }
  return { dtype, shape: [...shape], data: typed } as NdArrayOf<D>;
}

/**
 * A fresh ArrayBuffer holding `bytes[begin, end)`, so a typed array over it is aligned whatever
 * the source offset. (Not `bytes.slice`: on a Node Buffer that returns a view, not a copy.)
 * Internal to the readers.
 */
export function copyBytes(bytes: Uint8Array, begin: number, end: number): ArrayBuffer {
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out.buffer;
}
