/**
 * The other direction: files written by writeNpy / writeSafetensors are read by numpy's np.load
 * and by the independent reference safetensors reader of fixtures/make-npy-fixtures.py, which
 * also re-serialises them and compares bytes. Skipped where no Python with numpy is installed
 * (set MMC_PYTHON to choose the interpreter).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DType, NdArray } from '../src/io/ndarray.js';
import { writeNpy } from '../src/io/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { ALL_DTYPES, FIXTURES, randomArray } from './io-fixtures.js';

const python = process.env.MMC_PYTHON ?? 'python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** NdArray → manifest-style values (independent of the code under test). */
function values(a: NdArray): (number | string)[] {
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => {
    if (typeof v === 'bigint') return v.toString();
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    if (Object.is(v, -0)) return '-0'; // JSON.stringify(-0) is "0"
    return v;
  });
}

describe.skipIf(!hasNumpy)(`numpy (${python}) reads what we write`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-pyverify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('np.load and the reference safetensors reader agree on every dtype and shape', () => {
    const npy: { file: string; dtype: DType; shape: number[]; values: (number | string)[] }[] = [];
    const tensors: Record<string, NdArray> = {};
    let seed = 7;
    for (const dtype of ALL_DTYPES) {
      for (const shape of [[], [0], [1], [6], [2, 0], [3, 2], [2, 1, 3, 2]]) {
        const a = randomArray(seed++, dtype, shape);
        const file = `${dtype}-${shape.join('x') || 'scalar'}.npy`;
        writeFileSync(join(dir, file), writeNpy(a));
        npy.push({ file, dtype, shape, values: values(a) });
        tensors[`${dtype}.${shape.join('x')}`] = a;
      }
    }
    tensors.special = { dtype: 'float32', shape: [5], data: new Float32Array([NaN, Infinity, -Infinity, -0, 1e-45]) };
    const safetensors = [
      { file: 'all.safetensors', metadata: { format: 'pt', 'ü': 'quote " and \\ and \n' } as Record<string, string> | null, names: Object.keys(tensors) },
      { file: 'nometa.safetensors', metadata: null, names: ['float32.3x2', 'int64.6', 'bool.1'] },
    ];
    for (const s of safetensors) {
      const subset = Object.fromEntries(s.names.map((n) => [n, tensors[n]]));
      writeFileSync(join(dir, s.file), writeSafetensors(subset, s.metadata ?? undefined));
    }
    const expectedJson = {
      npy,
      safetensors: safetensors.map((s) => ({
        file: s.file,
        metadata: s.metadata,
        tensors: Object.fromEntries(s.names.map((n) => [n, { dtype: tensors[n].dtype, shape: tensors[n].shape, values: values(tensors[n]) }])),
      })),
    };
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expectedJson));
    const r = spawnSync(python, [join(FIXTURES, 'make-npy-fixtures.py'), '--verify', dir], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toContain(`ok: ${npy.length} npy, 2 safetensors`);
    expect(r.status).toBe(0);
  });
});
