import { FormatError, formatShape, ShapeError, ValueError, type NdArray } from '@mmc/core';
import { readNpyFile, readSafetensorsFile } from '@mmc/core/node';

/**
 * Reading the arrays of `mmc eval`: `.npy` files, and tensors of `.safetensors` files chosen by
 * `file.safetensors:tensorName` or `--key`. Every error names the flag and the file, and says
 * what is wrong (dtype, shape against the features, the first non-finite row).
 */

/** An array read from a file, with the words that name it in messages (`--train-labels y.npy`). */
export interface Loaded {
  /** `--flag path[:tensor]`, used as the subject of error messages. */
  where: string;
  array: NdArray;
}

/** Features as float32 on the host. */
export interface Features {
  where: string;
  data: Float32Array;
  shape: number[];
}

/** Integer labels (int32) on the host. */
export interface Labels {
  where: string;
  data: Int32Array;
  shape: number[];
}

const SAFETENSORS_SPEC = /^(.*\.safetensors):([^/\\]+)$/i;
const INTEGER_DTYPES = ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32'];

function fsProblem(e: unknown): string | undefined {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return undefined;
}

/**
 * Reads the array that `spec` names for option `flag`: `path.npy`, `path.safetensors:tensor`, or
 * `path.safetensors` with the tensor `key` (when the file has it) or the file's only tensor.
 * int64 data are read as int32 (range-checked). Errors name the flag and the file.
 */
export async function loadArray(flag: string, spec: string, key?: string): Promise<Loaded> {
  const m = SAFETENSORS_SPEC.exec(spec);
  const path = m ? m[1] : spec;
  const tensorName = m ? m[2] : undefined;
  const where = `${flag} ${spec}`;
  const lower = path.toLowerCase();
  const isNpy = lower.endsWith('.npy');
  const isSafetensors = lower.endsWith('.safetensors');
  if (!isNpy && !isSafetensors) {
    throw new ValueError(`${where}: unsupported file type (expected a .npy file or a .safetensors file, optionally as file.safetensors:tensorName)`);
  }
  const strip = (msg: string, fn: string) =>
    msg
      .replace(`${fn}: ${path}: `, '')
      .replace(/^(readNpy|readSafetensors): /, '')
      .replace(/; read it with \{ int64: 'bigint' \}.*$/, ' (labels and indices must fit in int32)');
  try {
    if (isNpy) {
      return { where, array: await readNpyFile(path, { int64: 'int32' }) };
    }
    const tensors = await readSafetensorsFile(path, { int64: 'int32' });
    const names = Object.keys(tensors);
    let name = tensorName;
    if (name === undefined && key !== undefined && names.includes(key)) name = key;
    if (name === undefined && names.length === 1) name = names[0];
    if (name === undefined) {
      const list = names.length === 0 ? 'no tensors' : `tensors ${names.map((n) => `'${n}'`).join(', ')}`;
      throw new ValueError(
        `${where}: the file has ${list}${key !== undefined ? ` (none named '${key}')` : ''}; pick one with ${path}:NAME (or --key / --labels-key NAME)`,
      );
    }
    if (!names.includes(name)) {
      throw new ValueError(`${where}: the file has no tensor '${name}'; it has ${names.map((n) => `'${n}'`).join(', ') || 'none'}`);
    }
    return { where: tensorName === undefined && names.length > 1 ? `${where} (tensor '${name}')` : where, array: tensors[name] };
  } catch (e) {
    const why = fsProblem(e);
    if (why) throw new ValueError(`${where}: cannot read ${path}: ${why}`);
    if (e instanceof FormatError) throw new FormatError(`${where}: not a valid ${isNpy ? '.npy' : '.safetensors'} file: ${strip(strip(e.message, 'readNpyFile'), 'readSafetensorsFile')}`);
    if (e instanceof ValueError && !e.message.startsWith(where)) {
      throw new ValueError(`${where}: ${strip(strip(e.message, 'readNpyFile'), 'readSafetensorsFile')}`);
    }
    throw e;
  }
}

/** "row 3" for rank 2, else the index tuple of the first dims, for messages. */
function position(shape: readonly number[], flat: number): string {
  const D = shape[shape.length - 1];
  let row = Math.floor(flat / D);
  const col = flat % D;
  if (shape.length <= 2) return `row ${row} (column ${col})`;
  const idx: number[] = [];
  for (let a = shape.length - 2; a >= 0; a--) {
    idx.unshift(row % shape[a]);
    row = Math.floor(row / shape[a]);
  }
  return `position [${idx.join(', ')}] (feature ${col})`;
}

/**
 * Float features of `rank` (or any rank ≥ 2 when `rank` is undefined) described by `layout`
 * (e.g. `'[N, D]'`): numeric dtype, at least one feature, every value finite (else the error names
 * the first bad row and column).
 */
export function toFeatures(loaded: Loaded, rank: number | undefined, layout: string, noun = 'features'): Features {
  const { where, array } = loaded;
  if (array.dtype === 'bool' || array.dtype === 'int64') {
    throw new ValueError(`${where}: ${noun} must have a numeric dtype (float32, float64, float16 or an integer type), got ${array.dtype}`);
  }
  const shape = array.shape.slice();
  if (rank !== undefined ? shape.length !== rank : shape.length < 2) {
    throw new ShapeError(`${where}: ${noun} must have ${rank !== undefined ? `rank ${rank}` : 'rank >= 2'} ${layout}, got shape ${formatShape(shape)}`);
  }
  if (shape[shape.length - 1] === 0) throw new ShapeError(`${where}: ${noun} must have at least one feature (last dimension), got shape ${formatShape(shape)}`);
  const data = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data as ArrayLike<number>);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const v = (array.data as ArrayLike<number>)[i];
      const what = Number.isFinite(v) ? `${v} (beyond the float32 range)` : String(v);
      throw new ValueError(`${where}: ${position(shape, i)} is ${what}: ${noun} must be finite`);
    }
  }
  return { where, data, shape };
}

/**
 * Integer labels: an integer dtype (int64 is read as int32), shape `expected` (`-1` = any) when
 * given — the message then names `against`, the array it must match, with both shapes.
 * A trailing dimension of 1 (`[N, 1]`, as some tools save) is dropped.
 */
export function toLabels(
  loaded: Loaded,
  expected?: readonly number[],
  against?: { where: string; shape: readonly number[]; what: string },
  noun = 'labels',
): Labels {
  const { where, array } = loaded;
  if (!INTEGER_DTYPES.includes(array.dtype)) {
    const hint = array.dtype.startsWith('float') ? ' (convert them, e.g. numpy x.astype(np.int64))' : '';
    throw new ValueError(`${where}: ${noun} must have an integer dtype (int8, int16, int32, int64, uint8, uint16, uint32), got ${array.dtype}${hint}`);
  }
  let shape = array.shape.slice();
  if (expected && shape.length === expected.length + 1 && shape[shape.length - 1] === 1) shape = shape.slice(0, -1);
  if (expected) {
    const ok = shape.length === expected.length && expected.every((d, i) => d < 0 || d === shape[i]);
    if (!ok) {
      const want = formatShape(expected.map((d) => (d < 0 ? NaN : d))).replace(/NaN/g, '*');
      throw new ShapeError(
        against
          ? `${where} has shape ${formatShape(array.shape)} but ${against.where} has shape ${formatShape(against.shape)}: ${against.what} (expected ${want})`
          : `${where}: ${noun} must have shape ${want}, got ${formatShape(array.shape)}`,
      );
    }
  }
  const src = array.data as ArrayLike<number>;
  let data: Int32Array;
  if (src instanceof Int32Array) data = src;
  else {
    data = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      if (src[i] > 2147483647) throw new ValueError(`${where}: label ${src[i]} at index ${i} does not fit in int32`);
      data[i] = src[i];
    }
  }
  return { where, data, shape };
}

/** Throws naming the file and the index when a label is negative or ≥ `numClasses` (when given). */
export function checkLabelRange(labels: Labels, numClasses?: number, numClassesSource = '--num-classes'): void {
  for (let i = 0; i < labels.data.length; i++) {
    const v = labels.data[i];
    if (v < 0) throw new ValueError(`${labels.where}: label ${v} at index ${i} is negative (class labels are 0 … C−1)`);
    if (numClasses !== undefined && v >= numClasses) {
      throw new ValueError(`${labels.where}: label ${v} at index ${i} is >= ${numClassesSource} ${numClasses}`);
    }
  }
}

/** max label + 1 over the given label arrays (≥ 1). */
export function inferNumClasses(...labels: Labels[]): number {
  let max = -1;
  for (const l of labels) for (let i = 0; i < l.data.length; i++) if (l.data[i] > max) max = l.data[i];
  return Math.max(1, max + 1);
}

/** Features `[N, D]` and labels `[N]` from two files, checked against each other. */
export async function loadLabelled(
  featureFlag: string,
  featureSpec: string,
  labelFlag: string,
  labelSpec: string,
  keys: { key?: string; labelsKey?: string },
): Promise<{ features: Features; labels: Labels }> {
  const features = toFeatures(await loadArray(featureFlag, featureSpec, keys.key), 2, '[N, D]');
  const labels = toLabels(await loadArray(labelFlag, labelSpec, keys.labelsKey), [features.shape[0]], {
    where: features.where,
    shape: features.shape,
    what: 'one label per feature row is needed',
  });
  return { features, labels };
}
