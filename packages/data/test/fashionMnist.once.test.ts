import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError, MmcError } from '@mmc/core';
import { DatasetNotFoundError, FASHION_MNIST_CLASSES, fashionMnist, fashionMnistFromBytes, gunzip, isGzip } from '@mmc/data';

const REAL_DIR = '/usr/share/datasets/fashion-mnist';
const haveReal = existsSync(REAL_DIR);

/** Hand-built IDX files of n images `rows × cols` with pixel (i, r, c) = (i + r·cols + c) mod 256. */
function fakeFiles(n: number, rows: number, cols: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(16 + n * rows * cols);
  const iv = new DataView(images.buffer);
  iv.setUint32(0, 0x803);
  iv.setUint32(4, n);
  iv.setUint32(8, rows);
  iv.setUint32(12, cols);
  for (let i = 0; i < n; i++) for (let p = 0; p < rows * cols; p++) images[16 + i * rows * cols + p] = (i + p) % 256;
  const labels = new Uint8Array(8 + n);
  const lv = new DataView(labels.buffer);
  lv.setUint32(0, 0x801);
  lv.setUint32(4, n);
  for (let i = 0; i < n; i++) labels[8 + i] = (i * 3) % 10;
  return { images, labels };
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mmc-fmnist-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('fashionMnistFromBytes', () => {
  it('reads images and labels and checks them', () => {
    const { images, labels } = fakeFiles(5, 4, 3);
    const ds = fashionMnistFromBytes(images, labels);
    expect(ds.count).toBe(5);
    expect(ds.rows).toBe(4);
    expect(ds.cols).toBe(3);
    expect(ds.images.length).toBe(60);
    expect(ds.images[2 * 12 + 7]).toBe(9);
    expect(Array.from(ds.labels)).toEqual([0, 3, 6, 9, 2]);
    expect(ds.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    expect(ds.classNames[9]).toBe('Ankle boot');
  });

  it('rejects swapped files, mismatched counts, bad labels and gzip bytes', () => {
    const { images, labels } = fakeFiles(5, 4, 3);
    expect(() => fashionMnistFromBytes(labels, images)).toThrow(FormatError);
    expect(() => fashionMnistFromBytes(labels, images)).toThrow(/images must be IDX uint8 images .*0x00000803.*got magic 0x00000801/);
    const other = fakeFiles(4, 4, 3);
    expect(() => fashionMnistFromBytes(images, other.labels)).toThrow(/4 labels but images has 5 images/);
    const badLabels = labels.slice();
    badLabels[8 + 2] = 10;
    expect(() => fashionMnistFromBytes(images, badLabels)).toThrow(/labels\[2\] = 10/);
    expect(() => fashionMnistFromBytes(gzipSync(images), labels)).toThrow(/gzip-compressed/);
    expect(() => fashionMnistFromBytes(images.subarray(0, 40), labels)).toThrow(/truncated: expected 76 bytes .*got 40/);
  });
});

describe('gunzip', () => {
  it('decompresses gzip and passes other bytes through', async () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 31) % 251);
    const gz = new Uint8Array(gzipSync(data));
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(data)).toBe(false);
    expect(Array.from(await gunzip(gz))).toEqual(Array.from(data));
    expect(await gunzip(data)).toBe(data);
    await expect(gunzip(gz.subarray(0, 30))).rejects.toThrow(FormatError);
  });
});

describe('fashionMnist (Node files)', () => {
  it('reads plain and .gz files from a directory, for both splits', async () => {
    const train = fakeFiles(7, 28, 28);
    const test = fakeFiles(3, 28, 28);
    writeFileSync(join(tmp, 'train-images-idx3-ubyte.gz'), gzipSync(train.images));
    writeFileSync(join(tmp, 'train-labels-idx1-ubyte.gz'), gzipSync(train.labels));
    writeFileSync(join(tmp, 't10k-images-idx3-ubyte'), test.images);
    writeFileSync(join(tmp, 't10k-labels-idx1-ubyte'), test.labels);
    const a = await fashionMnist({ dir: tmp });
    const b = await fashionMnist({ dir: tmp + '/', split: 'test' });
    expect(a.count).toBe(7);
    expect(b.count).toBe(3);
    expect(Array.from(a.images)).toEqual(Array.from(train.images.subarray(16)));
    expect(Array.from(b.labels)).toEqual(Array.from(test.labels.subarray(8)));
  });

  it('names the path and the apt package when the directory or a file is missing', async () => {
    const missing = join(tmp, 'does-not-exist');
    const err = await fashionMnist({ dir: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect(err).toBeInstanceOf(MmcError);
    expect((err as MmcError).code).toBe('E_NOT_FOUND');
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('apt-get install dataset-fashion-mnist');
    expect((err as DatasetNotFoundError).aptPackage).toBe('dataset-fashion-mnist');

    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const err2 = await fashionMnist({ dir: empty, split: 'test' }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(DatasetNotFoundError);
    expect((err2 as Error).message).toContain(join(empty, 't10k-images-idx3-ubyte'));
    expect((err2 as Error).message).toContain('apt-get install dataset-fashion-mnist');
    await expect(fashionMnist({ dir: tmp, split: 'val' as never })).rejects.toThrow(/split/);
  });

  it('reports corrupt gzip and truncated files as FormatError naming the file', async () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir);
    const { images, labels } = fakeFiles(4, 28, 28);
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images).subarray(0, 50));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
    await expect(fashionMnist({ dir })).rejects.toThrow(FormatError);
    await expect(fashionMnist({ dir })).rejects.toThrow(/train-images-idx3-ubyte\.gz is not valid gzip/);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images.subarray(0, 1000));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), labels);
    await expect(fashionMnist({ dir, split: 'test' })).rejects.toThrow(/t10k-images-idx3-ubyte is truncated: expected 3152 bytes .*got 1000/);
  });

  it.skipIf(!haveReal)(`reads the real files in ${REAL_DIR} (skipped when absent: apt-get install dataset-fashion-mnist)`, async () => {
    for (const [split, n] of [['train', 60000], ['test', 10000]] as const) {
      const ds = await fashionMnist({ split });
      expect(ds.count).toBe(n);
      expect(ds.rows).toBe(28);
      expect(ds.cols).toBe(28);
      expect(ds.images.length).toBe(n * 784);
      const freq = new Array(10).fill(0);
      for (const l of ds.labels) freq[l]++;
      expect(freq).toEqual(new Array(10).fill(n / 10)); // balanced: 6000 / 1000 per class
      let max = 0;
      for (let i = 0; i < 784; i++) max = Math.max(max, ds.images[i]);
      expect(max).toBeGreaterThan(200);
    }
    const test = await fashionMnist({ split: 'test' });
    expect(test.labels[0]).toBe(9); // the first test image is an ankle boot
  });
});
