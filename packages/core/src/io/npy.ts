import { formatShape } from '../assert.js';
import { FormatError, ValueError } from '../errors.js';
import { float16ToFloat32 } from './halffloat.js';
import { checkInt64Mode, int64ToInt32, type Int64Mode } from './int64.js';
import { checkNdArray, copyBytes, DTYPE_INFO, shapeSize, type DType, type NdArray } from './ndarray.js';
import { describeLiteral, formatNpyPreamble, parsePyLiteral, type PyLiteral } from './npy-header.js';

/** Options of {@link readNpy}. */
export interface ReadNpyOptions {
  /** How `<i8` data is returned: `'bigint'` (default, dtype `'int64'`) or `'int32'` (range-checked). */
  int64?: Int64Mode;
  /**
   * Ignore bytes after the array's data (numpy's `np.load` does; a file written by several
   * `np.save` calls on one handle has them). Default `false`: trailing bytes are a FormatError,
   * since they usually mean a wrong header or a corrupted file.
   */
  allowTrailingBytes?: boolean;
}

/** The numpy `descr` of each dtype, as numpy writes it (little-endian, `|` for single bytes). */
const DESCR: Readonly<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  bool: '|b1',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** descr (byte-order character dropped) → dtype; `f2` is read into float32. */
const READABLE: Readonly<Record<string, DType | 'float16'>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  b1: 'bool',
};
const SUPPORTED = '<f2, <f4, <f8, |i1, <i2, <i4, <i8, |u1, <u2, <u4, |b1';

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Resolves a header `descr` to a dtype, or throws a FormatError that says why not. */
function dtypeOfDescr(fn: string, descr: PyLiteral): { dtype: DType | 'float16'; itemsize: number } {
  if (typeof descr !== 'string') {
    const structured = descr !== null && typeof descr === 'object' && descr.kind === 'list';
    throw new FormatError(
      `${fn}: unsupported dtype descr ${describeLiteral(descr)}` +
        (structured ? ' (structured arrays with named fields are not supported)' : '') +
        `; supported: ${SUPPORTED}`,
    );
  }
  const order = descr[0];
  const code = descr.slice(1);
  const dtype = READABLE[code];
  const itemsize = Number(code.slice(1));
  if (dtype !== undefined && '<>|='.includes(order)) {
    if (itemsize === 1 || order === '<') return { dtype, itemsize };
    if (order === '>') {
      throw new FormatError(
        `${fn}: big-endian data (descr '${descr}') is not supported; convert it in numpy with a.astype('<${code}')`,
      );
    }
  }
  throw new FormatError(`${fn}: unsupported dtype descr '${descr}'; supported: ${SUPPORTED}`);
}

/**
 * Parses a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0) into an {@link NdArray}.
 *
 * Reads little-endian C-order `<f4 <f8 <i8 <i4 <i2 |i1 |u1 <u2 <u4 |b1` into the matching dtype,
 * `<f2` (float16) into `'float32'` (exact), and `<i8` into `'int64'` (BigInt64Array) or, with
 * `{ int64: 'int32' }`, into a range-checked `'int32'`. The data are copied into a fresh,
 * aligned typed array (the input may be any slice of a larger buffer). `bool` values are 0/1.
 *
 * Throws FormatError for: a wrong magic string, an unknown version, a truncated preamble or
 * header, a header that is not a Python dict literal or lacks/adds keys (numpy requires exactly
 * `descr`, `fortran_order`, `shape`), an unsupported descr (structured, object, string,
 * uint64, ...), big-endian data, Fortran order (rank ≥ 2; for rank ≤ 1 it is the same layout and
 * is accepted), fewer data bytes than the shape needs (the message gives both counts), and
 * trailing bytes unless `allowTrailingBytes`. A ValueError when an int64 value does not fit in
 * int32 under `{ int64: 'int32' }`.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 * @param bytes the whole file
 * @example
 * ```ts
 * const x = readNpy(new Uint8Array(await (await fetch('features.npy')).arrayBuffer()));
 * x.dtype; x.shape; // 'float32', [1000, 384]
 * const labels = readNpy(labelBytes, { int64: 'int32' }); // int64 labels → Int32Array
 * ```
 */
export function readNpy(bytes: Uint8Array, options: ReadNpyOptions = {}): NdArray {
  const fn = 'readNpy';
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`${fn}: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const int64 = checkInt64Mode(fn, options.int64);
  const head = bytes.subarray(0, 6);
  if (head.length < 6 || MAGIC.some((m, i) => head[i] !== m)) {
    if (head.length > 0 && head.length < 6 && MAGIC.slice(0, head.length).every((m, i) => head[i] === m)) {
      throw new FormatError(`${fn}: file is truncated: ${bytes.length} bytes, shorter than the 10-byte .npy preamble`);
    }
    throw new FormatError(
      `${fn}: not an .npy file: expected the magic string \\x93NUMPY (93 4e 55 4d 50 59) at byte 0, got ${hex(head) || 'an empty buffer'}`,
    );
  }
  if (bytes.length < 8) {
    throw new FormatError(`${fn}: file is truncated: ${bytes.length} bytes, shorter than the 10-byte .npy preamble`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw new FormatError(`${fn}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) {
    throw new FormatError(
      `${fn}: file is truncated: ${bytes.length} bytes, shorter than the ${headerStart}-byte preamble of format version ${major}.0`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw new FormatError(
      `${fn}: header is truncated: the preamble declares ${headerLength} header bytes, ` +
        `but only ${bytes.length - headerStart} bytes follow it`,
    );
  }
  const rawHeader = bytes.subarray(headerStart, dataStart);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(rawHeader);
    } catch {
      throw new FormatError(`${fn}: the version 3.0 header is not valid UTF-8`);
    }
  } else {
    text = '';
    for (let i = 0; i < rawHeader.length; i += 4096) text += String.fromCharCode(...rawHeader.subarray(i, i + 4096)); // latin-1
  }
  const header = parsePyLiteral(fn, text);
  if (header === null || typeof header !== 'object' || header.kind !== 'dict') {
    throw new FormatError(`${fn}: header is not a Python dict literal: ${describeLiteral(header).slice(0, 160)}`);
  }
  const fields = new Map<string, PyLiteral>();
  for (const [k, v] of header.entries) {
    if (typeof k !== 'string' || !['descr', 'fortran_order', 'shape'].includes(k)) {
      throw new FormatError(
        `${fn}: header has the unexpected key ${describeLiteral(k)}; an .npy header has exactly 'descr', 'fortran_order' and 'shape'`,
      );
    }
    fields.set(k, v);
  }
  for (const k of ['descr', 'fortran_order', 'shape']) {
    if (!fields.has(k)) throw new FormatError(`${fn}: header lacks the key '${k}': ${text.trim()}`);
  }
  const shapeLit = fields.get('shape')!;
  if (
    shapeLit === null ||
    typeof shapeLit !== 'object' ||
    shapeLit.kind !== 'tuple' ||
    !shapeLit.items.every((d) => typeof d === 'number' && d >= 0)
  ) {
    throw new FormatError(`${fn}: header 'shape' must be a tuple of non-negative integers, got ${describeLiteral(shapeLit)}`);
  }
  const shape = shapeLit.items as number[];
  const fortran = fields.get('fortran_order');
  if (typeof fortran !== 'boolean') {
    throw new FormatError(`${fn}: header 'fortran_order' must be True or False, got ${describeLiteral(fortran!)}`);
  }
  const { dtype, itemsize } = dtypeOfDescr(fn, fields.get('descr')!);
  const descr = fields.get('descr') as string;
  if (fortran && shape.length > 1) {
    throw new FormatError(
      `${fn}: Fortran-order (column-major) arrays are not supported (shape ${formatShape(shape)}); ` +
        `save a C-order copy with np.save(path, np.ascontiguousarray(a))`,
    );
  }
  const n = shapeSize(shape);
  const nbytes = n * itemsize;
  if (!Number.isSafeInteger(nbytes)) {
    throw new FormatError(`${fn}: shape ${formatShape(shape)} is too large`);
  }
  const present = bytes.length - dataStart;
  if (present < nbytes) {
    throw new FormatError(
      `${fn}: data is truncated: shape ${formatShape(shape)} of '${descr}' needs ${nbytes} bytes, only ${present} present`,
    );
  }
  if (present > nbytes && options.allowTrailingBytes !== true) {
    throw new FormatError(
      `${fn}: ${present - nbytes} unexpected bytes after the data (shape ${formatShape(shape)} of '${descr}' ` +
        `needs ${nbytes}); pass { allowTrailingBytes: true } to ignore them`,
    );
  }
  // A copy with its own ArrayBuffer, so the typed array is aligned whatever the input offset.
  const buf = copyBytes(bytes, dataStart, dataStart + nbytes);
  if (dtype === 'float16') return { dtype: 'float32', shape, data: float16ToFloat32(new Uint16Array(buf)) };
  if (dtype === 'int64') {
    const data = new BigInt64Array(buf);
    return int64 === 'int32'
      ? { dtype: 'int32', shape, data: int64ToInt32(fn, `data of shape ${formatShape(shape)}`, data) }
      : { dtype, shape, data };
  }
  const data = new DTYPE_INFO[dtype].ctor(buf);
  if (dtype === 'bool') {
    const b = data as Uint8Array;
    for (let i = 0; i < b.length; i++) b[i] = b[i] !== 0 ? 1 : 0;
  }
  return { dtype, shape, data } as NdArray;
}

/**
 * Serialises an {@link NdArray} as a NumPy `.npy` file (format 1.0; 2.0 only for headers over
 * 64 KiB), byte-identical to `np.save` of the same C-order array in numpy 1.x/2.x: the same
 * header text (including numpy's spare spaces for in-place growth) padded so the data start at a
 * multiple of 64 bytes. Every dtype is written with its little-endian descr
 * (`'float32'` → `<f4`, `'bool'` → `|b1`, `'int64'` → `<i8`, ...); `bool` data are written as
 * 0/1 (any non-zero byte counts as true).
 *
 * Throws ValueError/ShapeError (naming `array`) when `array` is not a consistent NdArray.
 *
 * @example
 * ```ts
 * const bytes = writeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
 * // python: np.load(io.BytesIO(bytes)) → array of shape (2, 3), float32
 * ```
 */
export function writeNpy(array: NdArray): Uint8Array {
  const fn = 'writeNpy';
  checkNdArray(fn, 'array', array);
  const preamble = formatNpyPreamble(DESCR[array.dtype], array.shape);
  const data = array.data;
  const out = new Uint8Array(preamble.length + data.byteLength);
  out.set(preamble, 0);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (array.dtype === 'bool') {
    for (let i = 0; i < body.length; i++) out[preamble.length + i] = body[i] !== 0 ? 1 : 0;
  } else {
    out.set(body, preamble.length);
  }
  return out;
}
