import { describe, expect, it } from 'vitest';
import { FormatError, ShapeError, ValueError } from '../src/errors.js';
import { ndarray, type NdArray } from '../src/io/ndarray.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { ALL_DTYPES, bytesOf, expectError, expectSameArray, expected, fixture, manifest, randomArray } from './io-fixtures.js';

/** An .npy file assembled by hand (independent of the writer): preamble + header text + body. */
function npyBytes(header: string, body: Uint8Array = new Uint8Array(0), major = 1, minor = 0): Uint8Array {
  const h = new TextEncoder().encode(header);
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, minor]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(body, pre + h.length);
  return out;
}
const f32Body = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const hdr = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

describe('readNpy / writeNpy against numpy fixtures', () => {
  it(`fixtures were made by numpy ${manifest.numpy}; every dtype is covered`, () => {
    expect(new Set(manifest.npy.map((c) => c.dtype))).toEqual(new Set(ALL_DTYPES));
  });

  for (const c of manifest.npy) {
    it(`reads ${c.file} (${c.dtype} ${JSON.stringify(c.shape)}) exactly`, () => {
      expectSameArray(readNpy(fixture(c.file)), expected(c), c.file);
    });
    it(`writes ${c.file} byte-identical to np.save`, () => {
      const want = fixture(c.file);
      const got = writeNpy(expected(c));
      expect(got.length).toBe(want.length);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    });
  }

  for (const c of manifest.npyRead) {
    it(`reads ${c.file} (other versions, float16, 1-D fortran flag)`, () => {
      expectSameArray(readNpy(fixture(c.file)), expected(c), c.file);
    });
  }

  for (const c of manifest.npyErrors) {
    it(`rejects ${c.file} with a FormatError mentioning ${c.error}`, () => {
      expectError(() => readNpy(fixture(c.file)), FormatError, 'readNpy:', c.error);
    });
  }

  it('the data of every numpy fixture starts at a multiple of 64 bytes, after a newline', () => {
    for (const c of manifest.npy) {
      const b = fixture(c.file);
      const start = 10 + (b[8] | (b[9] << 8));
      expect(start % 64).toBe(0);
      expect(b[start - 1]).toBe(0x0a);
    }
  });
});

describe('int64 handling', () => {
  const small = manifest.npy.find((c) => c.file.endsWith('i8_4.npy'))!;
  const big = manifest.npy.find((c) => c.file.endsWith('i8_big.npy'))!;

  it("keeps int64 as BigInt64Array by default, values beyond 2^53 exact", () => {
    const a = readNpy(fixture(big.file));
    expect(a.dtype).toBe('int64');
    expect(Array.from(a.data as BigInt64Array)).toEqual([5n, 2n ** 40n, -(2n ** 62n), 9007199254740993n]);
  });

  it("{ int64: 'int32' } converts when every value fits", () => {
    const a = readNpy(fixture(small.file), { int64: 'int32' });
    expect(a.dtype).toBe('int32');
    expect(a.data).toBeInstanceOf(Int32Array);
    expect(Array.from(a.data as Int32Array)).toEqual([0, -3, 2147483647, -2147483648]);
  });

  it("{ int64: 'int32' } throws a ValueError naming the first value out of range and its index", () => {
    expectError(() => readNpy(fixture(big.file), { int64: 'int32' }), ValueError, 'readNpy', '1099511627776', 'flat index 1', "int64: 'bigint'");
  });

  it('rejects an unknown int64 mode', () => {
    expectError(() => readNpy(fixture(small.file), { int64: 'number' as never }), ValueError, 'options.int64', '"number"');
  });

  it('int64 option does not affect other dtypes', () => {
    const c = manifest.npy.find((x) => x.file.endsWith('i4_5.npy'))!;
    expectSameArray(readNpy(fixture(c.file), { int64: 'int32' }), expected(c));
  });
});

describe('round trips', () => {
  const shapes = [[], [0], [1], [7], [3, 0, 2], [2, 3], [2, 1, 3, 2], [1, 1, 1, 1, 1, 5]];
  it('readNpy(writeNpy(x)) == x for every dtype and shape (scalar, zero-size, 1-D .. 6-D)', () => {
    let seed = 1;
    for (const dtype of ALL_DTYPES) {
      for (const shape of shapes) {
        const x = randomArray(seed++, dtype, shape);
        const bytes = writeNpy(x);
        expect(bytes.length % 64, `${dtype} ${shape}`).toBe(x.data.byteLength % 64);
        expectSameArray(readNpy(bytes), x, `${dtype} ${JSON.stringify(shape)}`);
      }
    }
  });

  it('large dimensions keep the 64-byte alignment (header length varies with the digits)', () => {
    for (const shape of [[123456789012, 0], [0, 99999999999999], [0, 1, 22, 333, 4444, 55555, 666666], new Array(60).fill(1)]) {
      const b = writeNpy(ndarray('uint8', shape));
      const start = 10 + (b[8] | (b[9] << 8));
      expect(start % 64).toBe(0);
      expect(readNpy(b).shape).toEqual(shape);
    }
  });

  it('reads from a Uint8Array view at an odd offset and from a pooled Node Buffer', () => {
    const x = randomArray(7, 'float64', [3, 5]);
    const bytes = writeNpy(x);
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    expectSameArray(readNpy(big.subarray(3, 3 + bytes.length)), x);
    const pooled = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    expectSameArray(readNpy(pooled), x);
  });

  it('the result owns its data (changing the input afterwards changes nothing)', () => {
    const x = randomArray(3, 'int32', [4]);
    const bytes = writeNpy(x);
    const a = readNpy(bytes);
    bytes.fill(0);
    expectSameArray(a, x);
  });

  it('writes only the viewed part of a typed array with an offset', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const x: NdArray = { dtype: 'float32', shape: [3], data: backing.subarray(1, 4) };
    expect(Array.from(readNpy(writeNpy(x)).data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('bool: writes non-zero bytes as 1, reads any non-zero byte as 1', () => {
    const x: NdArray = { dtype: 'bool', shape: [4], data: new Uint8Array([0, 2, 255, 1]) };
    const b = writeNpy(x);
    expect(Array.from(b.subarray(b.length - 4))).toEqual([0, 1, 1, 1]);
    b[b.length - 1] = 7;
    expect(Array.from(readNpy(b).data as Uint8Array)).toEqual([0, 1, 1, 1]);
  });
});

describe('tolerated header variants', () => {
  it('accepts double quotes, no trailing comma, Python 2 long suffixes, other key order, no newline', () => {
    const body = f32Body(1, 2, 3, 4, 5, 6);
    for (const h of [
      `{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}`,
      `{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f4'}   \n`,
      `{'descr':'<f4','fortran_order':False,'shape':(2,3,),}`,
    ]) {
      const a = readNpy(npyBytes(h, body));
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('accepts any byte-order character on single-byte types (<u1, >i1, =b1)', () => {
    expect(readNpy(npyBytes(hdr('<u1', '(2,)'), new Uint8Array([1, 2]))).dtype).toBe('uint8');
    expect(Array.from(readNpy(npyBytes(hdr('>i1', '(1,)'), new Uint8Array([255]))).data as Int8Array)).toEqual([-1]);
    expect(readNpy(npyBytes(hdr('=b1', '()'), new Uint8Array([1]))).dtype).toBe('bool');
  });

  it('trailing bytes are an error by default and ignored with allowTrailingBytes', () => {
    const b = npyBytes(hdr('<f4', '(2,)'), new Uint8Array([...f32Body(1, 2), 0xde, 0xad, 0xbe]));
    expectError(() => readNpy(b), FormatError, '3 unexpected bytes after the data', 'needs 8', 'allowTrailingBytes');
    expect(Array.from(readNpy(b, { allowTrailingBytes: true }).data as Float32Array)).toEqual([1, 2]);
  });
});

describe('malformed input → FormatError saying what and why', () => {
  const good = writeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });

  it('every truncation of a valid file is a FormatError (never a RangeError or a wrong array)', () => {
    for (let cut = 0; cut < good.length; cut++) {
      const e = expectError(() => readNpy(good.subarray(0, cut)), FormatError, 'readNpy:');
      if (cut >= 6 && cut < 10) expect(e.message).toContain('truncated');
      if (cut >= 10 && cut < 128) expect(e.message).toMatch(/header is truncated: the preamble declares 118 header bytes, but only \d+ bytes follow/);
      if (cut >= 128) expect(e.message).toContain(`needs 24 bytes, only ${cut - 128} present`);
    }
  });

  it('bad magic: names the expected magic string and shows the bytes found', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expectError(() => readNpy(png), FormatError, 'not an .npy file', '\\x93NUMPY', '89 50 4e 47 0d 0a');
    expectError(() => readNpy(new Uint8Array(0)), FormatError, 'not an .npy file', 'empty buffer');
    const b = good.slice();
    b[1] = 0x6e; // 'nUMPY'
    expectError(() => readNpy(b), FormatError, 'magic');
  });

  it('unsupported format version', () => {
    expectError(() => readNpy(npyBytes(hdr('<f4', '()'), f32Body(1), 4)), FormatError, 'version 4.0', '1.0, 2.0, 3.0');
    expectError(() => readNpy(npyBytes(hdr('<f4', '()'), f32Body(1), 1, 1)), FormatError, 'version 1.1');
  });

  it('version 3.0 header that is not UTF-8', () => {
    const b = npyBytes(hdr('<f4', '()'), f32Body(1), 3);
    b[12 + 2] = 0xff;
    expectError(() => readNpy(b), FormatError, 'not valid UTF-8');
  });

  it('header that is not a Python literal / not a dict', () => {
    expectError(() => readNpy(npyBytes(`{'descr': '<f4', 'shape': (2,`)), FormatError, 'not a valid Python literal');
    expectError(() => readNpy(npyBytes(`{'descr': '<f4' 'shape': ()}`)), FormatError, 'not a valid Python literal', "expected ',' or '}'");
    expectError(() => readNpy(npyBytes(`{'descr': <f4}`)), FormatError, 'not a valid Python literal', 'unexpected character');
    expectError(() => readNpy(npyBytes(`{'shape': (1.5,)}`)), FormatError, 'floats are not supported');
    expectError(() => readNpy(npyBytes(`{} extra`)), FormatError, 'unexpected text after the literal');
    expectError(() => readNpy(npyBytes(`['descr', '<f4']`)), FormatError, 'not a Python dict literal', "['descr', '<f4']");
    expectError(() => readNpy(npyBytes(`42`)), FormatError, 'not a Python dict literal');
    expectError(() => readNpy(npyBytes(``)), FormatError, 'unexpected end');
  });

  it('missing and unexpected keys', () => {
    expectError(() => readNpy(npyBytes(`{'descr': '<f4', 'shape': ()}`)), FormatError, "lacks the key 'fortran_order'");
    expectError(() => readNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False}`)), FormatError, "lacks the key 'shape'");
    expectError(() => readNpy(npyBytes(`{'fortran_order': False, 'shape': ()}`)), FormatError, "lacks the key 'descr'");
    expectError(
      () => readNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}`)),
      FormatError,
      "unexpected key 'extra'",
    );
    expectError(() => readNpy(npyBytes(`{1: 2}`)), FormatError, 'unexpected key 1');
  });

  it('bad values of shape and fortran_order', () => {
    expectError(() => readNpy(npyBytes(hdr('<f4', '[2, 3]'))), FormatError, "'shape' must be a tuple", '[2, 3]');
    expectError(() => readNpy(npyBytes(hdr('<f4', '(2, -1)'))), FormatError, "'shape' must be a tuple of non-negative", '(2, -1)');
    expectError(() => readNpy(npyBytes(hdr('<f4', "('2',)"))), FormatError, "'shape'");
    expectError(() => readNpy(npyBytes(hdr('<f4', '(2,)', '0'))), FormatError, "'fortran_order' must be True or False, got 0");
  });

  it('unsupported descr: big-endian (with the fix), complex, native-order, non-string', () => {
    expectError(() => readNpy(npyBytes(hdr('>i4', '(1,)'))), FormatError, "big-endian data (descr '>i4')", "a.astype('<i4')");
    expectError(() => readNpy(npyBytes(hdr('<c8', '(1,)'))), FormatError, "unsupported dtype descr '<c8'", 'supported: <f2, <f4');
    expectError(() => readNpy(npyBytes(hdr('=f4', '(1,)'))), FormatError, "unsupported dtype descr '=f4'");
    expectError(() => readNpy(npyBytes(`{'descr': 4, 'fortran_order': False, 'shape': ()}`)), FormatError, 'unsupported dtype descr 4');
    expectError(
      () => readNpy(npyBytes(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}`)),
      FormatError,
      'structured arrays',
    );
  });

  it('Fortran order is rejected for rank >= 2 with the way out', () => {
    expectError(
      () => readNpy(npyBytes(hdr('<f4', '(2, 2)', 'True'), f32Body(1, 2, 3, 4))),
      FormatError,
      'Fortran-order (column-major) arrays are not supported (shape [2, 2])',
      'np.ascontiguousarray',
    );
    expect(readNpy(npyBytes(hdr('<f4', '()', 'True'), f32Body(5))).shape).toEqual([]);
  });

  it('data shorter than the shape implies: says how many bytes are needed and present', () => {
    expectError(() => readNpy(npyBytes(hdr('<f8', '(2, 3)'), new Uint8Array(40))), FormatError, "shape [2, 3] of '<f8' needs 48 bytes, only 40 present");
    expectError(() => readNpy(npyBytes(hdr('|b1', '(5,)'))), FormatError, 'needs 5 bytes, only 0 present');
  });

  it('rejects a non-Uint8Array input with a ValueError', () => {
    expectError(() => readNpy([1, 2, 3] as never), ValueError, 'readNpy: bytes must be a Uint8Array');
    expectError(() => readNpy(new ArrayBuffer(8) as never), ValueError, 'bytes must be a Uint8Array');
  });
});

describe('writeNpy input validation', () => {
  it('names the argument and the problem', () => {
    expectError(() => writeNpy(null as never), ValueError, 'writeNpy: array must be an NdArray');
    expectError(() => writeNpy({ dtype: 'float16', shape: [1], data: new Uint16Array(1) } as never), ValueError, 'array.dtype must be one of', '"float16"');
    expectError(() => writeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) } as never), ValueError, 'array.data must be a Float32Array', 'Float64Array');
    expectError(() => writeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), ShapeError, 'array.shape [2, 2] implies 4 elements, but array.data has 3');
    expectError(() => writeNpy({ dtype: 'int32', shape: [-1], data: new Int32Array(0) }), ShapeError, 'non-negative integers');
    expectError(() => writeNpy({ dtype: 'int32', shape: [1.5], data: new Int32Array(1) }), ShapeError, 'non-negative integers');
    expectError(() => writeNpy({ dtype: 'bool', shape: [1], data: [1] } as never), ValueError, 'Uint8Array');
  });
});

describe('ndarray()', () => {
  it('zeros, typed arrays (shared), plain numbers, bigints', () => {
    const z = ndarray('float64', [2, 0]);
    expect(z.data).toBeInstanceOf(Float64Array);
    expect(z.data.length).toBe(0);
    const t = new Int16Array([1, 2]);
    expect(ndarray('int16', [2], t).data).toBe(t);
    expect(Array.from(ndarray('float32', [2, 2], [1, 2, 3, 4.5]).data)).toEqual([1, 2, 3, 4.5]);
    expect(Array.from(ndarray('int64', [3], [1n, -2, 2n ** 62n]).data)).toEqual([1n, -2n, 2n ** 62n]);
    expect(ndarray('bool', [], [1]).shape).toEqual([]);
  });

  it('range and consistency checks', () => {
    expectError(() => ndarray('uint8', [1], [256]), ValueError, 'data[0] must be an integer in [0, 255]', '256');
    expectError(() => ndarray('int32', [1], [0.5]), ValueError, 'data[0]');
    expectError(() => ndarray('bool', [1], [2]), ValueError, '[0, 1]');
    expectError(() => ndarray('bool', [1], new Uint8Array([3])), ValueError, 'bool data must be 0 or 1');
    expectError(() => ndarray('int64', [1], [2 ** 60]), ValueError, "dtype 'int64'");
    expectError(() => ndarray('int64', [1], [2n ** 63n]), ValueError, 'does not fit in int64');
    expectError(() => ndarray('float32', [3], [1, 2]), ShapeError, 'shape [3] implies 3 elements, but data has 2');
    expectError(() => ndarray('float32', [2], new Float64Array(2) as never), ValueError, 'must be a Float32Array or a plain array');
    expectError(() => ndarray('complex' as never, [1]), ValueError, 'dtype must be one of');
    expectError(() => ndarray('float32', [NaN]), ShapeError, 'shape must be');
  });

  it('an NdArray made by ndarray() writes like a literal one', () => {
    const a = ndarray('int32', [2], [7, -7]);
    expect(bytesOf(readNpy(writeNpy(a)))).toEqual(bytesOf(a));
  });
});
