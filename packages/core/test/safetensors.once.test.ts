import { describe, expect, it } from 'vitest';
import { FormatError, ShapeError, ValueError } from '../src/errors.js';
import { bfloat16ToFloat32, float16ToFloat32 } from '../src/io/halffloat.js';
import type { NdArray } from '../src/io/ndarray.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/io/safetensors.js';
import { createRng } from '../src/rng.js';
import { ALL_DTYPES, expectError, expectSameArray, expected, fixture, manifest, randomArray } from './io-fixtures.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A safetensors file assembled by hand (independent of the writer). */
function stBytes(header: string | object, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let h = utf8(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && h.length % 8 !== 0) h = utf8((typeof header === 'string' ? header : JSON.stringify(header)) + ' '.repeat(8 - (h.length % 8)));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}
const f32 = (shape: number[], b: number, e: number) => ({ dtype: 'F32', shape, data_offsets: [b, e] });

describe('readSafetensors / writeSafetensors against the reference fixtures', () => {
  for (const c of manifest.safetensors) {
    it(`reads ${c.file} exactly (names, dtypes, shapes, values, metadata)`, () => {
      const bytes = fixture(c.file);
      const got = readSafetensors(bytes);
      expect(Object.keys(got).sort()).toEqual(Object.keys(c.tensors).sort());
      for (const [name, t] of Object.entries(c.tensors)) expectSameArray(got[name], expected(t), `${c.file}:${name}`);
      const header = readSafetensorsHeader(bytes);
      expect(header.metadata).toEqual(c.metadata ?? undefined);
      if (c.sourceDtypes) {
        for (const [name, dt] of Object.entries(c.sourceDtypes)) expect(header.tensors[name].dtype).toBe(dt);
      }
    });
    if (c.write) {
      it(`writes ${c.file} byte-identical to the reference writer (from tensors given in reverse order)`, () => {
        const names = Object.keys(c.tensors).reverse();
        const tensors: Record<string, NdArray> = {};
        for (const n of names) tensors[n] = expected(c.tensors[n]);
        const got = writeSafetensors(tensors, c.metadata ?? undefined);
        const want = fixture(c.file);
        expect(new TextDecoder().decode(got.subarray(8, 8 + Number(new DataView(got.buffer).getUint32(0, true))))).toBe(
          new TextDecoder().decode(want.subarray(8, 8 + new DataView(want.buffer, want.byteOffset).getUint32(0, true))),
        );
        expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      });
    }
  }

  it('the fixture writer tests cover every writable dtype', () => {
    const mixed = manifest.safetensors.find((c) => c.file.endsWith('mixed.safetensors'))!;
    expect(new Set(Object.values(mixed.tensors).map((t) => t.dtype))).toEqual(new Set(ALL_DTYPES));
  });

  it('returns tensors (and header entries) in the order of their data: I64 first, BOOL last', () => {
    const bytes = fixture('safetensors/mixed.safetensors');
    const { tensors } = readSafetensorsHeader(bytes);
    const names = Object.keys(tensors);
    expect(Object.keys(readSafetensors(bytes))).toEqual(names);
    const begins = names.map((n) => tensors[n].dataOffsets[0]);
    expect(begins).toEqual([...begins].sort((a, b) => a - b));
    expect(tensors[names[0]].dtype).toBe('I64');
    expect(tensors[names[names.length - 1]].dtype).toBe('BOOL');
  });

  it('matches the byte vectors of the Rust implementation’s own tests', () => {
    // safetensors/src/tensor.rs test_serialization: F32 "attn.0" [1, 2, 3] = 0..5 → header of exactly 64 bytes.
    const t = writeSafetensors({ 'attn.0': { dtype: 'float32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64);
    expect(Array.from(t.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(t.subarray(8, 72))).toBe(json);
    expect(Array.from(t.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 128, 63]);
    // test_empty: no tensors → "{}" + 6 spaces; with {framework: pt} → 40-byte header.
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const m = writeSafetensors({}, { framework: 'pt' });
    expect(m[0]).toBe(40);
    expect(new TextDecoder().decode(m.subarray(8))).toBe('{"__metadata__":{"framework":"pt"}}     ');
    // test_serialization_forced_alignement: "attn0" [1, 1, 2, 3] → 66 JSON bytes padded to 72.
    const a = writeSafetensors({ attn0: { dtype: 'float32', shape: [1, 1, 2, 3], data: new Float32Array(6) } });
    expect(a[0]).toBe(72);
    expect(new TextDecoder().decode(a.subarray(8, 80)).endsWith('}}       ')).toBe(true);
  });
});

describe('float16 / bfloat16 decoding', () => {
  /** Independent float64 formulas for the two formats. */
  const half = (h: number) => {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 31;
    const m = h & 1023;
    if (e === 0) return s * m * 2 ** -24;
    if (e === 31) return m ? NaN : s * Infinity;
    return s * 2 ** (e - 15) * (1 + m / 1024);
  };
  const bf = (h: number) => {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 7) & 255;
    const m = h & 127;
    if (e === 0) return s * m * 2 ** -133;
    if (e === 255) return m ? NaN : s * Infinity;
    return s * 2 ** (e - 127) * (1 + m / 128);
  };

  it('all 65536 bit patterns of each decode exactly (signed zeros, subnormals, Inf, NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const h = float16ToFloat32(all);
    const b = bfloat16ToFloat32(all);
    let bad = 0;
    for (let i = 0; i < 65536; i++) {
      if (!Object.is(h[i], half(i)) && !(Number.isNaN(h[i]) && Number.isNaN(half(i)))) bad++;
      if (!Object.is(b[i], bf(i)) && !(Number.isNaN(b[i]) && Number.isNaN(bf(i)))) bad++;
    }
    expect(bad).toBe(0);
    expect(Object.is(h[0x8000], -0)).toBe(true);
    expect(h[0x7bff]).toBe(65504);
    expect(h[1]).toBe(2 ** -24);
  });

  it('F16 and BF16 tensors read as float32 (fixture written with numpy float16 and rounded bfloat16)', () => {
    const got = readSafetensors(fixture('safetensors/half.safetensors'));
    expect(got['z.half'].dtype).toBe('float32');
    expect(Array.from(got['bf'].data as Float32Array).slice(0, 3)).toEqual([1, -2, 0.10009765625]);
  });
});

describe('round trips', () => {
  it('every dtype × shapes (scalar, zero-size, 1-D, 4-D), with and without metadata', () => {
    const shapes = [[], [0], [1], [5], [2, 0, 3], [2, 3, 1, 2]];
    let seed = 100;
    const tensors: Record<string, NdArray> = {};
    for (const dtype of ALL_DTYPES) {
      for (const shape of shapes) tensors[`${dtype}/${shape.join('x')}`] = randomArray(seed++, dtype, shape);
    }
    const metas: (Record<string, string> | undefined)[] = [undefined, {}, { epoch: '3', note: 'ü\n"' }];
    for (const metadata of metas) {
      const bytes = writeSafetensors(tensors, metadata);
      const back = readSafetensors(bytes);
      expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
      for (const k of Object.keys(tensors)) expectSameArray(back[k], tensors[k], k);
      expect(readSafetensorsHeader(bytes).metadata).toEqual(metadata);
      // Re-writing what was read gives the same bytes.
      expect(Buffer.from(writeSafetensors(back, metadata)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('every tensor’s data is aligned to its element size in the written file', () => {
    const tensors: Record<string, NdArray> = {};
    ALL_DTYPES.forEach((dtype, i) => (tensors[`t${i}`] = randomArray(i, dtype, [3 + i])));
    const bytes = writeSafetensors(tensors, { k: 'abc' });
    const { tensors: info } = readSafetensorsHeader(bytes);
    const start = 8 + new DataView(bytes.buffer).getUint32(0, true);
    expect(start % 8).toBe(0);
    const size: Record<string, number> = { I64: 8, F64: 8, F32: 4, U32: 4, I32: 4, U16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1 };
    for (const t of Object.values(info)) expect((start + t.dataOffsets[0]) % size[t.dtype]).toBe(0);
  });

  it('names: integer-like keys keep the sorted order, "__proto__" is an ordinary name, code-point order beyond the BMP', () => {
    const one = (v: number): NdArray => ({ dtype: 'int32', shape: [], data: new Int32Array([v]) });
    const tensors: Record<string, NdArray> = {};
    for (const [k, v] of [['10', 10], ['2', 2], ['b', 3], ['\u{1F600}', 4], ['\uFFFF', 5]] as const) tensors[k] = one(v);
    Object.defineProperty(tensors, '__proto__', { value: one(6), enumerable: true });
    const bytes = writeSafetensors(tensors);
    const h = readSafetensorsHeader(bytes);
    // Data order by UTF-8 bytes (Rust String order): "10" < "2" < "__proto__" < "b" < U+FFFF < U+1F600.
    const byOffset = Object.keys(h.tensors).sort((a, b) => h.tensors[a].dataOffsets[0] - h.tensors[b].dataOffsets[0]);
    expect(byOffset).toEqual(['10', '2', '__proto__', 'b', '\uFFFF', '\u{1F600}']);
    expect(new TextDecoder().decode(bytes).indexOf('"10"')).toBeLessThan(new TextDecoder().decode(bytes).indexOf('"2"'));
    const back = readSafetensors(bytes);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Array.from(back['__proto__'].data as Int32Array)).toEqual([6]);
    expect(Array.from(back['\u{1F600}'].data as Int32Array)).toEqual([4]);
  });

  it('reads from an unaligned view and from a pooled Node Buffer; results own their data', () => {
    const x = { w: randomArray(1, 'float64', [3]), i: randomArray(2, 'int64', [2]) };
    const bytes = writeSafetensors(x);
    const big = new Uint8Array(bytes.length + 5);
    big.set(bytes, 3);
    const got = readSafetensors(big.subarray(3, 3 + bytes.length));
    expectSameArray(got.w, x.w);
    expectSameArray(readSafetensors(Buffer.concat([Buffer.from([9]), Buffer.from(bytes)]).subarray(1)).i, x.i);
    big.fill(0);
    expectSameArray(got.i, x.i);
  });

  it('writes only the viewed part of a typed array with an offset; bool non-zero → 1', () => {
    const bytes = writeSafetensors({
      v: { dtype: 'int16', shape: [2], data: new Int16Array([7, 1, 2, 7]).subarray(1, 3) },
      m: { dtype: 'bool', shape: [3], data: new Uint8Array([0, 9, 1]) },
    });
    const back = readSafetensors(bytes);
    expect(Array.from(back.v.data as Int16Array)).toEqual([1, 2]);
    expect(Array.from(bytes.subarray(bytes.length - 3))).toEqual([0, 1, 1]);
  });

  it("{ int64: 'int32' } converts I64 tensors when they fit and names the tensor when not", () => {
    const ok = writeSafetensors({ y: { dtype: 'int64', shape: [3], data: new BigInt64Array([0n, -1n, 2147483647n]) } });
    const y = readSafetensors(ok, { int64: 'int32' }).y;
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.data as Int32Array)).toEqual([0, -1, 2147483647]);
    expectError(
      () => readSafetensors(fixture('safetensors/mixed.safetensors'), { int64: 'int32' }),
      ValueError,
      "readSafetensors: tensor 'labels' holds the int64 value 1099511627776 at flat index 1",
    );
  });
});

describe('malformed files → FormatError naming the tensor and the problem', () => {
  const good = writeSafetensors(
    { a: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }, b: { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) } },
    { m: 'x' },
  );

  it('every truncation of a valid file is a FormatError', () => {
    const n = new DataView(good.buffer).getUint32(0, true);
    for (let cut = 0; cut < good.length; cut++) {
      const e = expectError(() => readSafetensors(good.subarray(0, cut)), FormatError, 'readSafetensors:');
      if (cut < 8) expect(e.message).toContain(`${cut} bytes, shorter than the 8-byte header-length prefix`);
      else if (cut < 8 + n) expect(e.message).toContain(`declares a ${n}-byte header, but only ${cut - 8} bytes follow it`);
      else expect(e.message).toMatch(/data is truncated: tensor '(a|b)' ends at byte \d+ of the data buffer, but only \d+ data bytes are present \(the header needs 11\)/);
    }
  });

  it('header length beyond the format limit or the file', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, 1, true);
    expectError(() => readSafetensors(b), FormatError, 'header length 4294967', "format's limit");
    const c = good.slice();
    new DataView(c.buffer).setUint32(0, 200_000_000, true);
    expectError(() => readSafetensors(c), FormatError, 'header length 200000000');
    const d = good.slice();
    new DataView(d.buffer).setUint32(0, good.length, true);
    expectError(() => readSafetensors(d), FormatError, `declares a ${good.length}-byte header`);
  });

  it('header that is not UTF-8, not JSON, or not an object', () => {
    const b = good.slice();
    b[9] = 0xff;
    expectError(() => readSafetensors(b), FormatError, 'not valid UTF-8');
    expectError(() => readSafetensors(stBytes('{"a": ')), FormatError, 'not valid JSON');
    expectError(() => readSafetensors(stBytes('[1, 2]')), FormatError, 'must be a JSON object, got an array');
    expectError(() => readSafetensors(stBytes('null')), FormatError, 'must be a JSON object, got null');
    expectError(() => readSafetensors(stBytes('  ')), FormatError, 'not valid JSON');
  });

  it('bad __metadata__', () => {
    expectError(() => readSafetensors(stBytes({ __metadata__: { n: 3 } })), FormatError, "__metadata__ values must be strings; 'n' is 3");
    expectError(() => readSafetensorsHeader(stBytes({ __metadata__: 'x' })), FormatError, '__metadata__ must be an object');
    expect(readSafetensorsHeader(stBytes({ __metadata__: null })).metadata).toBeUndefined();
  });

  it('bad entries: not an object, unknown dtype, bad shape, bad data_offsets', () => {
    expectError(() => readSafetensors(stBytes({ w: [1] })), FormatError, "tensor 'w': entry must be an object");
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'Q7', shape: [], data_offsets: [0, 4] } }, 4)), FormatError, "tensor 'w': unknown dtype \"Q7\"");
    expectError(() => readSafetensors(stBytes({ w: { shape: [], data_offsets: [0, 4] } }, 4)), FormatError, "tensor 'w': unknown dtype undefined");
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)), FormatError, "tensor 'w': shape must be");
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }, 8)), FormatError, "tensor 'w': shape must be");
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, 8)), FormatError, 'shape must be');
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4)), FormatError, "tensor 'w': data_offsets must be [begin, end]");
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4)), FormatError, 'data_offsets must be');
    expectError(() => readSafetensors(stBytes({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 4)), FormatError, 'data_offsets must be');
  });

  it('offsets that do not match dtype × shape', () => {
    expectError(
      () => readSafetensors(stBytes({ w: f32([2, 3], 0, 20) }, 20)),
      FormatError,
      "tensor 'w': data_offsets [0, 20] span 20 bytes, but F32 × shape [2, 3] needs 24",
    );
  });

  it('overlapping, gapped, not-from-zero offsets, and bytes after the last tensor', () => {
    expectError(() => readSafetensors(stBytes({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12)), FormatError, "tensor 'b': data_offsets [4, 12] overlap those of tensor 'a'");
    expectError(() => readSafetensors(stBytes({ a: f32([2], 0, 8), b: f32([2], 12, 20) }, 20)), FormatError, "tensor 'b'", 'a gap of 4 bytes');
    expectError(() => readSafetensors(stBytes({ a: f32([1], 4, 8) }, 8)), FormatError, "tensor 'a': data_offsets start at 4", 'gap of 4');
    expectError(() => readSafetensors(stBytes({ a: f32([1], 0, 4) }, 6)), FormatError, "2 unexpected bytes after the last tensor's data");
    // The same offsets twice (two views of one buffer) overlap, too.
    expectError(() => readSafetensors(stBytes({ a: f32([1], 0, 4), b: f32([1], 0, 4) }, 4)), FormatError, 'overlap');
  });

  it('valid without padding or with entries out of order in the JSON, zero-size tensors anywhere', () => {
    const data = new Uint8Array([...new Uint8Array(new Float32Array([5]).buffer), 7]);
    const got = readSafetensors(
      stBytes({ u: { dtype: 'U8', shape: [1], data_offsets: [4, 5] }, e: f32([0, 2], 4, 4), a: f32([], 0, 4), z: f32([0], 0, 0) }, data, false),
    );
    expect(Object.keys(got)).toEqual(['z', 'a', 'e', 'u']);
    expect(Array.from(got.a.data as Float32Array)).toEqual([5]);
    expect(Array.from(got.u.data as Uint8Array)).toEqual([7]);
    expect(got.e.shape).toEqual([0, 2]);
  });

  it('U64 and F8 tensors: the header reports them, readSafetensors refuses naming the tensor', () => {
    const b = stBytes({ big: { dtype: 'U64', shape: [1], data_offsets: [0, 8] }, f8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [8, 10] } }, 10);
    expect(readSafetensorsHeader(b).tensors.big.dtype).toBe('U64');
    expectError(() => readSafetensors(b), FormatError, "tensor 'big': dtype U64 is not supported", 'readable: BOOL');
  });

  it('random corruption of header bytes gives a FormatError or a valid parse, never another error', () => {
    const rng = createRng(5);
    const n = new DataView(good.buffer).getUint32(0, true);
    let formatErrors = 0;
    for (let trial = 0; trial < 400; trial++) {
      const b = good.slice();
      const pos = 8 + rng.int(n);
      b[pos] = rng.int(256);
      try {
        readSafetensors(b);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
        formatErrors++;
      }
    }
    expect(formatErrors).toBeGreaterThan(100);
  });

  it('non-Uint8Array input and bad option → ValueError', () => {
    expectError(() => readSafetensors('abc' as never), ValueError, 'readSafetensors: bytes must be a Uint8Array');
    expectError(() => readSafetensorsHeader(null as never), ValueError, 'readSafetensorsHeader: bytes must be a Uint8Array, got null');
    expectError(() => readSafetensors(good, { int64: 'big' as never }), ValueError, 'options.int64');
  });
});

describe('writeSafetensors input validation', () => {
  const w: NdArray = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
  it('names the tensor or metadata key and the problem', () => {
    expectError(() => writeSafetensors(null as never), ValueError, 'writeSafetensors: tensors must be an object');
    expectError(() => writeSafetensors({ __metadata__: w }), ValueError, "cannot be named '__metadata__'");
    expectError(() => writeSafetensors({ w }, { step: 3 } as never), ValueError, "metadata['step'] must be a string, got number");
    expectError(() => writeSafetensors({ w }, 'x' as never), ValueError, 'metadata must be an object');
    expectError(() => writeSafetensors({ 'x.y': { dtype: 'float32', shape: [2], data: new Float32Array(1) } }), ShapeError, "tensors['x.y'].shape [2] implies 2 elements");
    expectError(() => writeSafetensors({ q: { dtype: 'int32', shape: [1], data: new Float32Array(1) } as never }), ValueError, "tensors['q'].data must be a Int32Array");
    expectError(() => writeSafetensors({ q: [1, 2] as never }), ValueError, "tensors['q'].dtype");
  });
});
