import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, ValueError } from '../src/errors.js';
import type { NdArray } from '../src/io/ndarray.js';
import { readSafetensorsHeader } from '../src/io/safetensors.js';
import { readNpyFile, readSafetensorsFile, writeFileAtomic, writeNpyFile, writeSafetensorsFile } from '../src/node.js';
import { expectSameArray, FIXTURES, randomArray } from './io-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mmc-node-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tempFiles = (d = dir) => readdirSync(d).filter((f) => f.endsWith('.tmp'));

describe('file helpers', () => {
  it('writeNpyFile / readNpyFile round trip; a numpy file reads as numpy wrote it', async () => {
    const x = randomArray(1, 'float32', [3, 4]);
    const p = join(dir, 'x.npy');
    await writeNpyFile(p, x);
    expectSameArray(await readNpyFile(p), x);
    const labels = await readNpyFile(join(FIXTURES, 'npy/i8_4.npy'), { int64: 'int32' });
    expect(Array.from(labels.data as Int32Array)).toEqual([0, -3, 2147483647, -2147483648]);
  });

  it('writeSafetensorsFile / readSafetensorsFile round trip with metadata', async () => {
    const t: Record<string, NdArray> = { w: randomArray(2, 'float64', [2, 2]), y: randomArray(3, 'int64', [5]) };
    const p = join(dir, 'w.safetensors');
    await writeSafetensorsFile(p, t, { step: '7' });
    const back = await readSafetensorsFile(p);
    expectSameArray(back.w, t.w);
    expectSameArray(back.y, t.y);
    expect(readSafetensorsHeader(readFileSync(p)).metadata).toEqual({ step: '7' });
  });

  it('format errors name the file path and keep their class', async () => {
    const p = join(dir, 'bad.npy');
    writeFileSync(p, 'not numpy at all');
    const e = await readNpyFile(p).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(FormatError);
    expect((e as Error).message).toContain(`readNpyFile: ${p}: readNpy: not an .npy file`);
    expect((e as Error).cause).toBeInstanceOf(FormatError);
    const q = join(dir, 'bad.safetensors');
    writeFileSync(q, new Uint8Array(4));
    await expect(readSafetensorsFile(q)).rejects.toThrow(`readSafetensorsFile: ${q}: readSafetensors: file is truncated`);
    const big = await readNpyFile(join(FIXTURES, 'npy/i8_big.npy'), { int64: 'int32' }).catch((err: unknown) => err);
    expect(big).toBeInstanceOf(ValueError);
    expect((big as Error).message).toContain('i8_big.npy: readNpy:');
  });

  it('a missing file rejects with the Node error (ENOENT, naming the path); bad paths → ValueError', async () => {
    const p = join(dir, 'missing.npy');
    await expect(readNpyFile(p)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining(p) });
    await expect(readNpyFile('' as never)).rejects.toThrow(ValueError);
    await expect(writeNpyFile(3 as never, randomArray(1, 'uint8', [1]))).rejects.toThrow(/writeNpyFile: path must be a non-empty string/);
  });

  it('an invalid array is rejected before anything is written', async () => {
    const p = join(dir, 'never.npy');
    await expect(writeNpyFile(p, { dtype: 'float32', shape: [2], data: new Float32Array(1) })).rejects.toThrow(/writeNpy: array.shape/);
    expect(() => statSync(p)).toThrow();
    expect(tempFiles()).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('creates a new file and replaces an existing one, leaving no temporary file', async () => {
    const p = join(dir, 'a.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(p))).toEqual([1, 2, 3]);
    await writeFileAtomic(p, 'hello ✓');
    expect(readFileSync(p, 'utf8')).toBe('hello ✓');
    await writeFileAtomic(p, new Uint8Array(0));
    expect(readFileSync(p).length).toBe(0);
    expect(tempFiles()).toEqual([]);
  });

  it('keeps the permission bits of the file it replaces', async () => {
    const p = join(dir, 'mode.txt');
    writeFileSync(p, 'old');
    chmodSync(p, 0o640);
    await writeFileAtomic(p, 'new');
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(readFileSync(p, 'utf8')).toBe('new');
  });

  it('concurrent writes to one path all succeed and leave one complete version', async () => {
    const p = join(dir, 'race.bin');
    const versions = Array.from({ length: 8 }, (_, i) => new Uint8Array(4096).fill(i + 1));
    await Promise.all(versions.map((v) => writeFileAtomic(p, v)));
    const got = readFileSync(p);
    expect(got.length).toBe(4096);
    expect(new Set(got).size).toBe(1);
    expect(tempFiles()).toEqual([]);
  });

  it('a missing directory fails with ENOENT naming the target, and creates nothing', async () => {
    const p = join(dir, 'no-such-dir', 'f.bin');
    const e = await writeFileAtomic(p, new Uint8Array([1])).catch((err: unknown) => err);
    expect((e as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((e as Error).message).toContain(`writeFileAtomic: cannot write ${p}`);
    expect(tempFiles()).toEqual([]);
  });

  it('when the rename fails (target is a non-empty directory) the temporary file is removed and the target survives', async () => {
    const target = join(dir, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'keep');
    await expect(writeFileAtomic(target, new Uint8Array([1, 2]))).rejects.toThrow(/writeFileAtomic: cannot write/);
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('keep');
    expect(tempFiles()).toEqual([]);
  });

  it('rejects bad data with a ValueError', async () => {
    await expect(writeFileAtomic(join(dir, 'x'), [1, 2] as never)).rejects.toThrow(/writeFileAtomic: data must be a Uint8Array or a string/);
    await expect(writeFileAtomic(join(dir, 'x'), null as never)).rejects.toThrow(ValueError);
  });
});
