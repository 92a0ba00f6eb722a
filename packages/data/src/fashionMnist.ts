import { FormatError, ValueError, assertOneOf, describe } from '@mmc/core';
import { DatasetNotFoundError } from './errors.js';
import { isGzip } from './gunzip.js';
import { formatMagic, parseIdx, type IdxArray } from './idx.js';

/** Fashion-MNIST's label names (Xiao et al. 2017), label 0 … 9. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The Debian/Ubuntu package with the Fashion-MNIST files. */
export const FASHION_MNIST_APT_PACKAGE = 'dataset-fashion-mnist';

/**
 * Imports a Node built-in at run time. The specifier is a variable (and marked for webpack and
 * Vite), so browser bundlers neither resolve nor warn about it: importing @mmc/data in a browser
 * bundle stays safe, and only calling `fashionMnist` needs Node.
 */
function importNodeBuiltin<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/** Fashion-MNIST images and labels. */
export interface FashionMnist {
  /** `count·rows·cols` grey values 0 … 255 (0 = background), row-major per image. */
  images: Uint8Array;
  /** `count` labels 0 … 9 (see `classNames`). */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
  /** `classNames[label]`. */
  classNames: string[];
}

/** Options of {@link fashionMnist}. */
export interface FashionMnistOptions {
  /** Directory with the IDX files (plain or `.gz`). Default `/usr/share/datasets/fashion-mnist`. */
  dir?: string;
  /** `'train'` (60,000 images) or `'test'` (10,000). Default 'train'. */
  split?: 'train' | 'test';
}

function expectIdx(fn: string, arr: IdxArray, name: string, magic: number, what: string): void {
  if (arr.magic !== magic) {
    throw new FormatError(`${fn}: ${name} must be IDX ${what} (magic ${formatMagic(magic)}), got magic ${formatMagic(arr.magic)}`);
  }
}

/**
 * Fashion-MNIST from the bytes of its two IDX files (decompressed: see `gunzip`). Pure and
 * browser-safe. Checks the magics (0x00000803 images, 0x00000801 labels), that the counts match
 * and that labels are in 0 … 9.
 *
 * @throws FormatError for gzip input, a wrong magic, truncated data, mismatched counts or labels
 *   out of range.
 * @example
 * ```ts
 * const get = async (f: string) => gunzip(new Uint8Array(await (await fetch(f)).arrayBuffer()));
 * const test = fashionMnistFromBytes(await get('t10k-images-idx3-ubyte.gz'), await get('t10k-labels-idx1-ubyte.gz'));
 * ```
 */
export function fashionMnistFromBytes(
  images: Uint8Array,
  labels: Uint8Array,
  names: { images?: string; labels?: string } = {},
): FashionMnist {
  const fn = 'fashionMnistFromBytes';
  const imagesName = names.images ?? 'images';
  const labelsName = names.labels ?? 'labels';
  for (const [bytes, name] of [
    [images, imagesName],
    [labels, labelsName],
  ] as const) {
    if (!(bytes instanceof Uint8Array)) throw new FormatError(`${fn}: ${name} must be a Uint8Array, got ${describe(bytes)}`);
    if (isGzip(bytes)) throw new FormatError(`${fn}: ${name} is gzip-compressed; decompress it first (await gunzip(bytes))`);
  }
  const img = parseIdx(images, imagesName);
  expectIdx(fn, img, imagesName, 0x00000803, 'uint8 images [n, rows, cols]');
  const lab = parseIdx(labels, labelsName);
  expectIdx(fn, lab, labelsName, 0x00000801, 'uint8 labels [n]');
  const [count, rows, cols] = img.shape;
  if (lab.shape[0] !== count) {
    throw new FormatError(`${fn}: ${labelsName} has ${lab.shape[0]} labels but ${imagesName} has ${count} images`);
  }
  const labelData = lab.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (labelData[i] > 9) throw new FormatError(`${fn}: ${labelsName}[${i}] = ${labelData[i]} is not a Fashion-MNIST label 0 … 9`);
  }
  return { images: img.data as Uint8Array, labels: labelData, count, rows, cols, classNames: [...FASHION_MNIST_CLASSES] };
}

/**
 * Loads Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from `dir` in Node: the files
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` (split 'train', 60,000 images) or
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` ('test', 10,000), each plain or with `.gz`
 * (as Debian's `dataset-fashion-mnist` package installs them in `/usr/share/datasets/fashion-mnist`).
 * `node:fs/promises` and `node:zlib` are imported lazily inside the call (hidden from bundlers),
 * so importing @mmc/data in a browser bundle stays safe; in a browser use `gunzip` + `fashionMnistFromBytes`.
 *
 * @throws DatasetNotFoundError (an MmcError, code 'E_NOT_FOUND') naming the path and
 *   `apt-get install dataset-fashion-mnist` when the directory or a file is missing;
 *   FormatError for corrupt files.
 * @example
 * ```ts
 * import { fashionMnist } from '@mmc/data';
 * const test = await fashionMnist({ split: 'test' });   // { images, labels, count: 10000, rows: 28, cols: 28, … }
 * console.log(test.classNames[test.labels[0]]);        // 'Ankle boot'
 * ```
 */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnist> {
  const fn = 'fashionMnist';
  const { dir = FASHION_MNIST_DIR, split = 'train' } = options ?? {};
  if (typeof dir !== 'string' || dir.length === 0) throw new ValueError(`${fn}: dir must be a directory path, got ${describe(dir)}`);
  assertOneOf(fn, 'split', split, ['train', 'test'] as const);
  const fs = await importNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises');
  const install = `install it with \`apt-get install ${FASHION_MNIST_APT_PACKAGE}\` (Debian/Ubuntu; files go to ${FASHION_MNIST_DIR}) or pass dir`;
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    throw new DatasetNotFoundError(`${fn}: Fashion-MNIST directory ${dir} does not exist or cannot be read; ${install}`, dir, FASHION_MNIST_APT_PACKAGE);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const join = (f: string) => (dir.endsWith('/') ? dir + f : `${dir}/${f}`);
  const read = async (base: string): Promise<{ bytes: Uint8Array; path: string }> => {
    const file = entries.includes(`${base}.gz`) ? `${base}.gz` : entries.includes(base) ? base : undefined;
    if (file === undefined) {
      throw new DatasetNotFoundError(
        `${fn}: ${join(base)}(.gz) not found (the ${split} split needs ${prefix}-images-idx3-ubyte and ${prefix}-labels-idx1-ubyte, plain or .gz); ${install}`,
        join(base),
        FASHION_MNIST_APT_PACKAGE,
      );
    }
    const path = join(file);
    const raw = new Uint8Array(await fs.readFile(path));
    if (!isGzip(raw)) return { bytes: raw, path };
    const zlib = await importNodeBuiltin<typeof import('node:zlib')>('node:zlib');
    try {
      const out = zlib.gunzipSync(raw);
      return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), path };
    } catch (e) {
      throw new FormatError(`${fn}: ${path} is not valid gzip data (${(e as Error).message})`);
    }
  };
  const images = await read(`${prefix}-images-idx3-ubyte`);
  const labels = await read(`${prefix}-labels-idx1-ubyte`);
  const ds = fashionMnistFromBytes(images.bytes, labels.bytes, { images: images.path, labels: labels.path });
  return ds;
}
