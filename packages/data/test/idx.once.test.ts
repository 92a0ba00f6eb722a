import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { FormatError } from '@mmc/core';
import { formatMagic, parseIdx } from '@mmc/data';

/** Builds IDX bytes by hand: magic 0x0000TTDD, big-endian uint32 dims, big-endian values. */
function idx(type: number, dims: number[], values: number[]): Uint8Array {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[type] ?? 1;
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + values.length * size);
  const v = new DataView(bytes.buffer);
  bytes[0] = 0;
  bytes[1] = 0;
  bytes[2] = type;
  bytes[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => {
    const o = header + i * size;
    if (type === 0x08) v.setUint8(o, x);
    else if (type === 0x09) v.setInt8(o, x);
    else if (type === 0x0b) v.setInt16(o, x, false);
    else if (type === 0x0c) v.setInt32(o, x, false);
    else if (type === 0x0d) v.setFloat32(o, x, false);
    else v.setFloat64(o, x, false);
  });
  return bytes;
}

describe('parseIdx', () => {
  it('reads uint8 images (0x00000803) with big-endian dims', () => {
    const values = Array.from({ length: 2 * 3 * 300 }, (_, i) => (i * 7) % 256);
    const bytes = idx(0x08, [2, 3, 300], values); // 300 > 255: needs the big-endian high byte
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    expect(Array.from(bytes.subarray(12, 16))).toEqual([0, 0, 1, 44]);
    const a = parseIdx(bytes);
    expect(a.magic).toBe(0x00000803);
    expect(formatMagic(a.magic)).toBe('0x00000803');
    expect(a.dtype).toBe('uint8');
    expect(a.shape).toEqual([2, 3, 300]);
    expect(a.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(a.data)).toEqual(values);
    // also from an ArrayBuffer, and from a view with a byte offset
    expect(Array.from(parseIdx(bytes.slice().buffer).data)).toEqual(values);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect(Array.from(parseIdx(padded.subarray(5)).data)).toEqual(values);
  });

  it('reads uint8 labels (0x00000801), including 70000 = 0x00011170 entries', () => {
    const labels = Array.from({ length: 70000 }, (_, i) => i % 10);
    const bytes = idx(0x08, [70000], labels);
    expect(Array.from(bytes.subarray(4, 8))).toEqual([0x00, 0x01, 0x11, 0x70]);
    const a = parseIdx(bytes);
    expect(a.magic).toBe(0x00000801);
    expect(a.shape).toEqual([70000]);
    expect(a.data[69999]).toBe(9);
    expect(parseIdx(idx(0x08, [0], [])).shape).toEqual([0]);
  });

  it('reads the other IDX types big-endian', () => {
    const cases: [number, string, number[]][] = [
      [0x09, 'int8', [-128, -1, 0, 127]],
      [0x0b, 'int16', [-32768, -2, 258, 32767]],
      [0x0c, 'int32', [-2147483648, -3, 16909060, 2147483647]],
      [0x0d, 'float32', [-1.5, 0, 3.25, 1e-3]],
      [0x0e, 'float64', [-1.5, 0, Math.PI, 1e-300]],
    ];
    for (const [type, dtype, values] of cases) {
      const a = parseIdx(idx(type, [2, 2], values));
      expect(a.dtype).toBe(dtype);
      expect(a.shape).toEqual([2, 2]);
      const want = type === 0x0d ? values.map(Math.fround) : values;
      expect(Array.from(a.data)).toEqual(want);
    }
  });

  it('rejects truncated and over-long data with expected vs actual bytes', () => {
    const bytes = idx(0x08, [2, 28, 28], new Array(2 * 28 * 28).fill(1));
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 10), 'x.idx')).toThrow(FormatError);
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 10), 'x.idx')).toThrow(
      /x\.idx is truncated: expected 1584 bytes \(16-byte header \+ 1568 uint8 values of shape \[2, 28, 28\]\), got 1574/,
    );
    const long = new Uint8Array(bytes.length + 3);
    long.set(bytes);
    expect(() => parseIdx(long)).toThrow(/too long: expected 1584 bytes .*got 1587/);
    expect(() => parseIdx(bytes.subarray(0, 10))).toThrow(/truncated: expected a 16-byte header for 3 dimensions, got 10 bytes/);
    expect(() => parseIdx(bytes.subarray(0, 3))).toThrow(/truncated: expected at least 4 bytes/);
    const int32 = idx(0x0c, [3], [1, 2, 3]);
    expect(() => parseIdx(int32.subarray(0, int32.length - 1))).toThrow(/expected 20 bytes .*got 19/);
  });

  it('rejects a wrong magic, an unknown type, 0 dims and gzip bytes', () => {
    const good = idx(0x08, [1], [5]);
    const wrong = good.slice();
    wrong[0] = 1;
    expect(() => parseIdx(wrong)).toThrow(FormatError);
    expect(() => parseIdx(wrong)).toThrow(/wrong magic number 0x01000801/);
    const badType = good.slice();
    badType[2] = 0x07;
    expect(() => parseIdx(badType)).toThrow(/wrong magic number 0x00000701/);
    const noDims = new Uint8Array([0, 0, 8, 0]);
    expect(() => parseIdx(noDims)).toThrow(/0 dimensions/);
    expect(() => parseIdx(gzipSync(good))).toThrow(/gzip-compressed.*gunzip/);
    expect(() => parseIdx('nope' as never)).toThrow(FormatError);
  });
});
