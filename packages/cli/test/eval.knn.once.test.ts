import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmcError, ValueError } from '@mmc/core';
import { knnClassify, knnSearch } from '@mmc/eval';
import { clusters, fixtureDir, runJson, runMmc } from './evalCli.js';

const fx = fixtureDir('knn');
afterAll(() => fx.cleanup());

const hasHnsw = (() => {
  try {
    createRequire(import.meta.url)('hnswlib-node');
    return true;
  } catch {
    return false;
  }
})();

const bin = fileURLToPath(new URL('../bin/mmc.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));

const N = 300;
const M = 60;
const D = 16;
const C = 5;
const tr = clusters(11, 12, N, D, C);
const te = clusters(11, 13, M, D, C);
const f: Record<string, string> = {};

beforeAll(async () => {
  f.trX = await fx.npy('train.npy', { dtype: 'float32', shape: [N, D], data: tr.data });
  // the three label dtypes users have: int64 (numpy's default), int32, uint8
  f.trY = await fx.npy('train_y.npy', { dtype: 'int64', shape: [N], data: BigInt64Array.from(tr.labels, (v) => BigInt(v)) });
  f.teX = await fx.npy('test.npy', { dtype: 'float64', shape: [M, D], data: Float64Array.from(te.data) });
  f.teY = await fx.npy('test_y.npy', { dtype: 'uint8', shape: [M], data: Uint8Array.from(te.labels) });
  f.teY32 = await fx.npy('test_y32.npy', { dtype: 'int32', shape: [M], data: te.labels });
  f.st = await fx.safetensors('feats.safetensors', {
    train: { dtype: 'float32', shape: [N, D], data: tr.data },
    test: { dtype: 'float32', shape: [M, D], data: te.data },
  });
});

const args = (o: Partial<Record<'trX' | 'trY' | 'teX' | 'teY', string>> = {}) => [
  'eval', 'knn',
  '--train-features', o.trX ?? f.trX,
  '--train-labels', o.trY ?? f.trY,
  '--test-features', o.teX ?? f.teX,
  '--test-labels', o.teY ?? f.teY,
];

/** Runs and expects an MmcError whose message matches every pattern, with nothing on stdout. */
async function expectCliError(argv: string[], ...patterns: RegExp[]): Promise<string> {
  const r = await runMmc([...argv, '--backend', 'cpu', '--quiet']);
  expect(r.error, `expected an error for ${argv.join(' ')}`).toBeInstanceOf(MmcError);
  for (const p of patterns) expect(r.error!.message).toMatch(p);
  expect(r.error!.message).toMatch(/^eval knn: /);
  expect(r.stdout).toBe('');
  return r.error!.message;
}

describe('mmc eval knn', () => {
  it('--json prints one object whose values equal knnClassify on the same arrays', async () => {
    const lib = knnClassify({
      trainFeatures: { data: tr.data, shape: [N, D] },
      trainLabels: tr.labels,
      testFeatures: { data: te.data, shape: [M, D] },
      testLabels: te.labels,
      numClasses: C,
      k: 7,
      temperature: 0.1,
    });
    const j = await runJson([...args(), '--k', '7', '--temperature', '0.1']);
    expect(j.command).toBe('eval knn');
    expect(j.top1).toBe(lib.top1);
    expect(j.top5).toBe(lib.top5);
    expect(j.top1).toBeGreaterThan(0.5); // separable clusters: the fixture is meaningful
    expect(j.top1).toBeLessThanOrEqual(1);
    expect(j).toMatchObject({ k: 7, temperature: 0.1, numClasses: C, trainCount: N, testCount: M, dim: D, backend: 'cpu' });
    expect(j.seconds).toBeGreaterThanOrEqual(0);
    // defaults k = 20, T = 0.07; int32 labels give the same as uint8 ones
    const lib20 = knnClassify({ trainFeatures: { data: tr.data, shape: [N, D] }, trainLabels: tr.labels, testFeatures: { data: te.data, shape: [M, D] }, testLabels: te.labels, numClasses: C });
    const j20 = await runJson(args({ teY: f.teY32 }));
    expect([j20.k, j20.temperature, j20.top1, j20.top5]).toEqual([20, 0.07, lib20.top1, lib20.top5]);
  });

  it('reads .safetensors tensors by file:name and by --key; prints a table; writes --report', async () => {
    const a = await runJson(args({ trX: `${f.st}:train`, teX: `${f.st}:test` }));
    const b = await runJson(args());
    expect([a.top1, a.top5]).toEqual([b.top1, b.top5]);
    const c = await runJson([...args({ trX: f.st, teX: `${f.st}:test` }), '--key', 'train']);
    expect(c.top1).toBe(b.top1);
    const report = fx.path('knn.html');
    const t = await runMmc([...args(), '--backend', 'cpu', '--report', report]);
    expect(t.error).toBeUndefined();
    expect(t.stdout).toMatch(/k-NN classification\nmetric\s+value\n-+\s+-+\ntop1\s+[0-9.]+\ntop5/);
    expect(t.stdout).toContain(`test rows    ${M}`);
    expect(t.stderr).toContain(`report written to ${report}`);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('k-NN classification');
    expect(html).toContain('Top-1 per class');
  });

  it('names the file and the problem for every bad input, exit through an error (no stdout)', async () => {
    // wrong label dtype
    const yf = await fx.npy('y_float.npy', { dtype: 'float32', shape: [N], data: Float32Array.from(tr.labels) });
    await expectCliError(args({ trY: yf }), /--train-labels \S*y_float\.npy: labels must have an integer dtype .* got float32/);
    // shape mismatch between features and labels, with both shapes
    const yShort = await fx.npy('y_short.npy', { dtype: 'int32', shape: [N - 1], data: tr.labels.slice(1) });
    await expectCliError(
      args({ trY: yShort }),
      /--train-labels \S*y_short\.npy has shape \[299\] but --train-features \S*train\.npy has shape \[300, 16\]: one label per feature row/,
    );
    // a NaN row, with its index
    const bad = tr.data.slice();
    bad[37 * D + 3] = NaN;
    const xNaN = await fx.npy('x_nan.npy', { dtype: 'float32', shape: [N, D], data: bad });
    await expectCliError(args({ trX: xNaN }), /--train-features \S*x_nan\.npy: row 37 \(column 3\) is NaN: features must be finite/);
    // train/test D mismatch
    const x8 = await fx.npy('x8.npy', { dtype: 'float32', shape: [M, 8], data: new Float32Array(M * 8).fill(1) });
    await expectCliError(args({ teX: x8 }), /--test-features \S*x8\.npy has shape \[60, 8\] but --train-features \S*train\.npy has shape \[300, 16\]/);
    // rank
    const x1 = await fx.npy('x1.npy', { dtype: 'float32', shape: [N * D], data: tr.data });
    await expectCliError(args({ trX: x1 }), /x1\.npy: features must have rank 2 \[N, D\], got shape \[4800\]/);
    // bool features
    const xb = await fx.npy('xb.npy', { dtype: 'bool', shape: [M, D], data: new Uint8Array(M * D) });
    await expectCliError(args({ teX: xb }), /xb\.npy: features must have a numeric dtype .* got bool/);
    // negative label
    const yNeg = tr.labels.slice();
    yNeg[5] = -1;
    const yn = await fx.npy('y_neg.npy', { dtype: 'int32', shape: [N], data: yNeg });
    await expectCliError(args({ trY: yn }), /y_neg\.npy: label -1 at index 5 is negative/);
    // label beyond --num-classes
    await expectCliError([...args(), '--num-classes', '2'], /train_y\.npy: label [2-4] at index \d+ is >= --num-classes 2/);
    // int64 labels out of the int32 range
    const big = BigInt64Array.from(tr.labels, (v) => BigInt(v));
    big[2] = 2n ** 40n;
    const yBig = await fx.npy('y_big.npy', { dtype: 'int64', shape: [N], data: big });
    await expectCliError(args({ trY: yBig }), /--train-labels \S*y_big\.npy: .*(int32|range)/);
    // missing file, unsupported type, corrupt file, k too large
    await expectCliError(args({ trX: fx.path('nope.npy') }), /--train-features \S*nope\.npy: cannot read \S*nope\.npy: no such file/);
    await expectCliError(args({ trX: fx.path('x.csv') }), /--train-features \S*x\.csv: unsupported file type \(expected a \.npy file or a \.safetensors file/);
    const junk = fx.path('junk.npy');
    writeFileSync(junk, 'not a numpy file at all');
    await expectCliError(args({ trX: junk }), /--train-features \S*junk\.npy: not a valid \.npy file: /);
    await expectCliError([...args(), '--k', '301'], /--k 301 is larger than the 300 train rows of --train-features/);
    // a .safetensors file with several tensors and no choice
    await expectCliError(args({ trX: f.st }), /feats\.safetensors: the file has tensors 'test', 'train'; pick one with \S+:NAME/);
    await expectCliError(args({ trX: `${f.st}:val` }), /the file has no tensor 'val'; it has 'test', 'train'/);
  });

  it('option errors come from commander (exit code 1 in the binary)', async () => {
    const missing = await runMmc(['eval', 'knn', '--train-features', f.trX]);
    expect((missing.error as { code?: string }).code).toBe('commander.missingMandatoryOptionValue');
    expect(missing.stderr).toMatch(/required option '--train-labels <file>' not specified/);
    const badK = await runMmc([...args(), '--k', '0']);
    expect((badK.error as { code?: string }).code).toBe('commander.invalidArgument');
    expect(badK.stderr).toMatch(/--k <n>' argument '0' is invalid. expected an integer >= 1/);
    const badBackend = await runMmc([...args(), '--backend', 'gpu']);
    expect(badBackend.stderr).toMatch(/Allowed choices are auto, cpu, wasm, tensorflow/);
  });

  it.runIf(hasHnsw)('--ann (hnswlib-node): annRecall against exact search; the vote on ANN neighbours', async () => {
    const j = await runJson([...args(), '--ann', '--k', '10']);
    expect(j.annRecall).toBeGreaterThan(0.95); // 300 points, ef = 64: HNSW is near exact
    expect(j.annRecall).toBeLessThanOrEqual(1);
    expect(j.annRecallQueries).toBe(M);
    expect(j.ann).toMatchObject({ library: 'hnswlib-node', M: 16, efConstruction: 200, ef: 64, seed: 0 });
    const exact = knnClassify({ trainFeatures: { data: tr.data, shape: [N, D] }, trainLabels: tr.labels, testFeatures: { data: te.data, shape: [M, D] }, testLabels: te.labels, numClasses: C, k: 10 });
    expect(Math.abs(j.top1 - exact.top1!)).toBeLessThanOrEqual(0.05);
    // deterministic per seed; --recall-queries samples a subset
    const again = await runJson([...args(), '--ann', '--k', '10', '--recall-queries', '17']);
    expect(again.top1).toBe(j.top1);
    expect(again.annRecallQueries).toBe(17);
    // a tiny graph and ef = k lowers the recall below exact's 1 but keeps it in [0, 1]
    const s = knnSearch({ data: tr.data, shape: [N, D] }, { data: te.data, shape: [M, D] }, { k: 10 });
    expect(s.indices.length).toBe(M * 10);
    const low = await runJson([...args(), '--ann', '--k', '10', '--ann-m', '2', '--ann-ef-construction', '10', '--ann-ef', '10']);
    expect(low.annRecall).toBeGreaterThanOrEqual(0);
    expect(low.annRecall).toBeLessThanOrEqual(1);
    await expectCliError([...args(), '--ann', '--k', '10', '--ann-ef', '5'], /--ann-ef 5 must be >= --k 10/);
  });

  it.skipIf(hasHnsw)('--ann without hnswlib-node says what to install', async () => {
    const r = await runMmc([...args(), '--ann', '--backend', 'cpu', '--quiet']);
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toMatch(/--ann needs the optional package hnswlib-node.*npm install hnswlib-node/);
    expect(r.error).not.toBeInstanceOf(ValueError);
  });

  it.skipIf(!built)('the built binary: --json stdout is one JSON line; a bad file exits 1 with one line on stderr (no stack)', () => {
    const ok = spawnSync(process.execPath, [bin, ...args(), '--backend', 'cpu', '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(ok.stdout).top1).toBeGreaterThan(0.5);
    const bad = spawnSync(process.execPath, [bin, ...args({ trY: f.teX }), '--backend', 'cpu', '--json'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    const lines = bad.stderr.split('\n').filter((l) => l.startsWith('mmc: ') || /^\s+at /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mmc: eval knn: --train-labels \S*test\.npy: labels must have an integer dtype .* got float64/);
  });
});
