import { formatShape } from '../assert.js';
import { FormatError, ValueError } from '../errors.js';
import { bfloat16ToFloat32, float16ToFloat32 } from './halffloat.js';
import { checkInt64Mode, int64ToInt32, type Int64Mode } from './int64.js';
import { checkNdArray, copyBytes, DTYPE_INFO, shapeSize, type DType, type NdArray } from './ndarray.js';

/**
 * The .safetensors format (https://github.com/huggingface/safetensors, "Format"): an 8-byte
 * little-endian u64 N, N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin,
 * end] }, "__metadata__"?: { string: string } }`, then the byte buffer, little-endian, C order;
 * offsets are relative to the buffer's start.
 */

/** Element size in bytes of every dtype of the format (Rust `Dtype`, listed in its enum order). */
const ST_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
/** Rank of each dtype in the Rust enum (increasing alignment), which orders the writer's output. */
const ST_RANK = Object.fromEntries(Object.keys(ST_SIZE).map((k, i) => [k, i])) as Record<string, number>;

/** File dtype → NdArray dtype; F16 and BF16 are read into float32. */
const READ_AS: Readonly<Record<string, DType>> = {
  BOOL: 'bool',
  U8: 'uint8',
  I8: 'int8',
  I16: 'int16',
  U16: 'uint16',
  F16: 'float32',
  BF16: 'float32',
  I32: 'int32',
  U32: 'uint32',
  F32: 'float32',
  F64: 'float64',
  I64: 'int64',
};
const WRITE_AS: Readonly<Record<DType, string>> = {
  bool: 'BOOL',
  uint8: 'U8',
  int8: 'I8',
  int16: 'I16',
  uint16: 'U16',
  int32: 'I32',
  uint32: 'U32',
  float32: 'F32',
  float64: 'F64',
  int64: 'I64',
};

/** The format's own limit on the JSON header (Rust `MAX_HEADER_SIZE`). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsTensorInfo {
  /** The file's dtype string: `'F32'`, `'F16'`, `'BF16'`, `'I64'`, `'BOOL'`, ... */
  dtype: string;
  shape: number[];
  /** `[begin, end)` byte range within the data buffer (which starts after the header). */
  dataOffsets: [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /**
   * Every tensor, in the order of its data in the file (a JS object lists integer-like names
   * such as "0" first, whatever their insertion order).
   */
  tensors: Record<string, SafetensorsTensorInfo>;
  /** The `__metadata__` map (string → string), or `undefined` when the file has none. */
  metadata: Record<string, string> | undefined;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** How `I64` tensors are returned: `'bigint'` (default, dtype `'int64'`) or `'int32'` (range-checked). */
  int64?: Int64Mode;
}

function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  // defineProperty: a tensor may be called "__proto__".
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates the header; `dataStart` is the byte offset of the data buffer in `bytes`. */
function parseHeader(fn: string, bytes: Uint8Array): SafetensorsHeader & { dataStart: number } {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`${fn}: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (bytes.length < 8) {
    throw new FormatError(`${fn}: file is truncated: ${bytes.length} bytes, shorter than the 8-byte header-length prefix`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER_BYTES) {
    throw new FormatError(
      `${fn}: header length ${(BigInt(hi) << 32n) | BigInt(lo)} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes (not a safetensors file?)`,
    );
  }
  if (8 + n > bytes.length) {
    throw new FormatError(
      `${fn}: header is truncated: the prefix declares a ${n}-byte header, but only ${bytes.length - 8} bytes follow it`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new FormatError(`${fn}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${fn}: header is not valid JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 120))}`);
  }
  if (!isRecord(json)) {
    throw new FormatError(`${fn}: header must be a JSON object, got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  }

  let metadata: Record<string, string> | undefined;
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors: Record<string, SafetensorsTensorInfo> = {};
  const infos = new Map<string, SafetensorsTensorInfo>();
  for (const name of Object.keys(json)) {
    const entry = json[name];
    if (name === METADATA_KEY) {
      if (entry === null) continue;
      if (!isRecord(entry)) throw new FormatError(`${fn}: ${METADATA_KEY} must be an object of strings, got ${JSON.stringify(entry)}`);
      metadata = {};
      for (const k of Object.keys(entry)) {
        const v = entry[k];
        if (typeof v !== 'string') {
          throw new FormatError(`${fn}: ${METADATA_KEY} values must be strings; '${k}' is ${JSON.stringify(v)}`);
        }
        setEntry(metadata, k, v);
      }
      continue;
    }
    const where = `${fn}: tensor '${name}'`;
    if (!isRecord(entry)) throw new FormatError(`${where}: entry must be an object with dtype, shape and data_offsets, got ${JSON.stringify(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || !(dtype in ST_SIZE)) {
      throw new FormatError(`${where}: unknown dtype ${JSON.stringify(dtype)} (the format has ${Object.keys(ST_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new FormatError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw new FormatError(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const nbytes = shapeSize(shape) * ST_SIZE[dtype];
    if (end - begin !== nbytes) {
      throw new FormatError(
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} × shape ${formatShape(shape)} needs ${nbytes}`,
      );
    }
    infos.set(name, { dtype, shape: [...shape], dataOffsets: [begin, end] });
    spans.push({ name, begin, end });
  }

  // The tensors must tile the data buffer exactly: contiguous from 0, no overlap, no gap, no tail.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev = '';
  for (const s of spans) {
    if (s.begin < pos) {
      throw new FormatError(`${fn}: tensor '${s.name}': data_offsets [${s.begin}, ${s.end}] overlap those of tensor '${prev}' (which ends at ${pos})`);
    }
    if (s.begin > pos) {
      throw new FormatError(
        `${fn}: tensor '${s.name}': data_offsets start at ${s.begin}, but the previous tensor ends at ${pos} ` +
          `(a gap of ${s.begin - pos} bytes; offsets must be contiguous from 0)`,
      );
    }
    pos = s.end;
    prev = s.name;
    setEntry(tensors, s.name, infos.get(s.name)!);
  }
  const dataStart = 8 + n;
  const present = bytes.length - dataStart;
  if (pos > present) {
    const first = spans.find((s) => s.end > present)!;
    throw new FormatError(
      `${fn}: data is truncated: tensor '${first.name}' ends at byte ${first.end} of the data buffer, ` +
        `but only ${present} data bytes are present (the header needs ${pos})`,
    );
  }
  if (pos < present) {
    throw new FormatError(`${fn}: ${present - pos} unexpected bytes after the last tensor's data (the header accounts for ${pos})`);
  }
  return { tensors, metadata, dataStart };
}

/**
 * Parses and validates the header of a `.safetensors` file (tensor names, dtypes, shapes, byte
 * ranges, and the `__metadata__` map) without decoding any tensor. Same validation as
 * {@link readSafetensors} except that dtypes it cannot decode (U64, F8_*) are reported, not
 * rejected.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensorsHeader(bytes);
 * tensors['blocks.0.attn.qkv.weight']; // { dtype: 'F16', shape: [1152, 384], dataOffsets: [...] }
 * metadata?.format; // 'pt'
 * ```
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  const { tensors, metadata } = parseHeader('readSafetensorsHeader', bytes);
  return { tensors, metadata };
}

/**
 * Parses a `.safetensors` file into `{ name: NdArray }`, in the order of the data in the file
 * (integer-like names first, as JS objects list them).
 *
 * Reads F32, F64, I8, I16, I32, I64, U8, U16, U32 and BOOL into the matching dtype (BOOL as 0/1),
 * F16 and BF16 into `'float32'` (exact: PyTorch fp16/bf16 checkpoints load directly), and I64
 * into `'int64'` or, with `{ int64: 'int32' }`, a range-checked `'int32'`. Each tensor is
 * copied into a fresh, aligned typed array (offsets in the file need not be aligned). Read the
 * `__metadata__` map with {@link readSafetensorsHeader}.
 *
 * Validation as in the reference Rust implementation, with FormatErrors naming the tensor and
 * the problem: a file shorter than 8 bytes, a header length beyond the file (or over 100 MB),
 * a header that is not UTF-8 JSON object, a non-string metadata value, an unknown dtype, a bad
 * shape or `data_offsets`, a byte range that does not match dtype × shape, ranges that overlap
 * or leave gaps (they must tile the buffer from 0), data shorter than the header says, bytes
 * after the last tensor; and U64 / F8 tensors, which it does not decode.
 *
 * @example
 * ```ts
 * const weights = readSafetensors(bytes);
 * weights['head.weight'].shape; // [1000, 384]
 * ```
 */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): Record<string, NdArray> {
  const fn = 'readSafetensors';
  const int64 = checkInt64Mode(fn, options.int64);
  const { tensors, dataStart } = parseHeader(fn, bytes);
  for (const name of Object.keys(tensors)) {
    const { dtype } = tensors[name];
    if (!(dtype in READ_AS)) {
      throw new FormatError(`${fn}: tensor '${name}': dtype ${dtype} is not supported (readable: ${Object.keys(READ_AS).join(', ')})`);
    }
  }
  const out: Record<string, NdArray> = {};
  for (const name of Object.keys(tensors)) {
    const { dtype, shape, dataOffsets } = tensors[name];
    // A copy with its own ArrayBuffer: aligned whatever the offset in the file.
    const buf = copyBytes(bytes, dataStart + dataOffsets[0], dataStart + dataOffsets[1]);
    let nd: NdArray;
    if (dtype === 'F16') nd = { dtype: 'float32', shape, data: float16ToFloat32(new Uint16Array(buf)) };
    else if (dtype === 'BF16') nd = { dtype: 'float32', shape, data: bfloat16ToFloat32(new Uint16Array(buf)) };
    else if (dtype === 'I64' && int64 === 'int32') {
      nd = { dtype: 'int32', shape, data: int64ToInt32(fn, `tensor '${name}'`, new BigInt64Array(buf)) };
    } else {
      const as = READ_AS[dtype];
      nd = { dtype: as, shape, data: new DTYPE_INFO[as].ctor(buf) } as NdArray;
      if (as === 'bool') {
        const b = nd.data as Uint8Array;
        for (let i = 0; i < b.length; i++) b[i] = b[i] !== 0 ? 1 : 0;
      }
    }
    setEntry(out, name, nd);
  }
  return out;
}

/** Compares strings by Unicode code point (= UTF-8 byte order, as Rust's `String` `Ord`). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Serialises named {@link NdArray}s (and optional string metadata) as a `.safetensors` file,
 * byte-identical to the reference implementation (`safetensors.serialize`, which the Python
 * package calls): tensors ordered by descending dtype (I64, F64, F32, U32, I32, U16, I16, I8,
 * U8, BOOL, the Rust enum's alignment order) and then by name, so each tensor's data is aligned
 * to its element size; compact JSON with `__metadata__` first (its keys sorted — Rust leaves them
 * in hash order), entries `{"dtype", "shape", "data_offsets"}`; the header padded with spaces to
 * a multiple of 8 bytes; offsets contiguous from 0. dtypes: float32 → F32, float64 → F64, int8 →
 * I8, int16 → I16, int32 → I32, int64 → I64, uint8 → U8, uint16 → U16, uint32 → U32, bool → BOOL
 * (written as 0/1). `metadata` omitted means no `__metadata__` entry; `{}` writes an empty one.
 *
 * Throws ValueError for a tensor named `__metadata__`, a non-string metadata value, or a value of
 * `tensors` that is not a consistent NdArray (ShapeError for a shape/data mismatch).
 *
 * @example
 * ```ts
 * const bytes = writeSafetensors({ 'head.weight': w, 'head.bias': b }, { format: 'pt' });
 * // python: safetensors.numpy.load(bytes)
 * ```
 */
export function writeSafetensors(tensors: Record<string, NdArray>, metadata?: Record<string, string>): Uint8Array {
  const fn = 'writeSafetensors';
  if (!isRecord(tensors)) {
    throw new ValueError(`${fn}: tensors must be an object mapping names to NdArrays, got ${tensors === null ? 'null' : typeof tensors}`);
  }
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === METADATA_KEY) throw new ValueError(`${fn}: a tensor cannot be named '${METADATA_KEY}' (reserved by the format)`);
    checkNdArray(fn, `tensors['${name}']`, tensors[name]);
  }
  if (metadata !== undefined) {
    if (!isRecord(metadata)) throw new ValueError(`${fn}: metadata must be an object of strings, got ${metadata === null ? 'null' : typeof metadata}`);
    for (const k of Object.keys(metadata)) {
      if (typeof metadata[k] !== 'string') {
        throw new ValueError(`${fn}: metadata['${k}'] must be a string, got ${typeof metadata[k]}`);
      }
    }
  }
  const order = names
    .map((name) => ({ name, nd: tensors[name], st: WRITE_AS[tensors[name].dtype] }))
    .sort((a, b) => ST_RANK[b.st] - ST_RANK[a.st] || compareCodePoints(a.name, b.name));

  // Build the JSON by hand: JSON.stringify of an object would move integer-like keys first.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    parts.push(`"${METADATA_KEY}":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, nd, st } of order) {
    const end = offset + nd.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${st}","shape":[${nd.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const { nd } of order) {
    const body = new Uint8Array(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);
    if (nd.dtype === 'bool') for (let i = 0; i < body.length; i++) out[pos + i] = body[i] !== 0 ? 1 : 0;
    else out.set(body, pos);
    pos += body.length;
  }
  return out;
}
