import { FormatError, describe } from '@mmc/core';

/** Element types of the IDX format, by type code (the third magic byte). */
const IDX_TYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** Element type of an IDX array. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A parsed IDX array. */
export interface IdxArray {
  dtype: IdxDtype;
  /** Dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  shape: number[];
  /** The 4-byte magic number, e.g. 0x00000803 (uint8, 3 dims). */
  magic: number;
  /** Row-major values; for uint8 a view on the input bytes (no copy). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** `0x803` → `'0x00000803'`. */
export function formatMagic(magic: number): string {
  return `0x${(magic >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Parses the IDX format of (Fashion-)MNIST (LeCun et al., "THE MNIST DATABASE"): a big-endian
 * magic `0x0000TTDD` (two zero bytes, type code TT: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
 * 0x0D float32, 0x0E float64; DD = number of dimensions), DD big-endian uint32 sizes, then the
 * values, row-major and big-endian. Images are `0x00000803` (n, rows, cols), labels `0x00000801`.
 * Pure and browser-safe; it does not decompress: gzip input raises a FormatError pointing to
 * `gunzip`.
 *
 * @param bytes the file's bytes (already decompressed).
 * @param name how errors refer to the bytes (e.g. a file path).
 * @throws FormatError for gzip input, a wrong magic, an unknown type, or a size that does not
 *   match the header (with the expected and actual byte counts).
 * @example
 * ```ts
 * const { shape, data } = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]));
 * // shape [2], data Uint8Array [7, 9]
 * ```
 */
export function parseIdx(bytes: Uint8Array | ArrayBuffer, name = 'IDX bytes'): IdxArray {
  const fn = 'parseIdx';
  const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(u8 instanceof Uint8Array)) {
    throw new FormatError(`${fn}: ${name} must be a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  }
  if (u8.length >= 2 && u8[0] === 0x1f && u8[1] === 0x8b) {
    throw new FormatError(`${fn}: ${name} is gzip-compressed; decompress it first (await gunzip(bytes))`);
  }
  if (u8.length < 4) {
    throw new FormatError(`${fn}: ${name} is truncated: expected at least 4 bytes of magic number, got ${u8.length}`);
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const magic = view.getUint32(0, false);
  const type = IDX_TYPES[u8[2]];
  if (u8[0] !== 0 || u8[1] !== 0 || type === undefined) {
    throw new FormatError(
      `${fn}: ${name} has a wrong magic number ${formatMagic(magic)}: expected 0x0000TTDD with type TT in ` +
        `08, 09, 0B, 0C, 0D, 0E (e.g. 0x00000803 for images, 0x00000801 for labels)`,
    );
  }
  const ndim = u8[3];
  if (ndim < 1) throw new FormatError(`${fn}: ${name} has magic ${formatMagic(magic)} with 0 dimensions`);
  const header = 4 + 4 * ndim;
  if (u8.length < header) {
    throw new FormatError(`${fn}: ${name} is truncated: expected a ${header}-byte header for ${ndim} dimensions, got ${u8.length} bytes`);
  }
  const shape: number[] = [];
  let elements = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    shape.push(size);
    elements *= size;
  }
  const expected = header + elements * type.size;
  if (u8.length !== expected) {
    throw new FormatError(
      `${fn}: ${name} is ${u8.length < expected ? 'truncated' : 'too long'}: expected ${expected} bytes ` +
        `(${header}-byte header + ${elements} ${type.dtype} values of shape [${shape.join(', ')}]), got ${u8.length}`,
    );
  }
  let data: IdxArray['data'];
  const n = elements;
  switch (type.dtype) {
    case 'uint8':
      data = u8.subarray(header, header + n);
      break;
    case 'int8':
      data = new Int8Array(u8.buffer, u8.byteOffset + header, n).slice();
      break;
    case 'int16': {
      const a = new Int16Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt16(header + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt32(header + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat32(header + 4 * i, false);
      data = a;
      break;
    }
    default: {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat64(header + 8 * i, false);
      data = a;
    }
  }
  return { dtype: type.dtype, shape, magic, data };
}
