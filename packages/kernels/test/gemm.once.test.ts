import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerWasmKernels, unregisterWasmKernels } from '@mmc/kernels';
import { expectClose, f32, randn } from '../../../test-setup/numeric';
import { MATMUL_RELAXED_WASM_BASE64, MATMUL_WASM_BASE64 } from '../src/matmulWasm';
import { gemm, type ProductDims } from '../src/gemm';
import { dimsOf, gemm64 } from './gemm64';
import { engineFromBytes, type TiledEngine } from '../src/tiledEngine';
import { useWasmForThisFile } from './wasmForThisFile';

// A *.once test: it selects the wasm backend itself and registers the kernels only inside this file.
useWasmForThisFile();

// Node 20 validates relaxed SIMD only behind this flag (Node ≥ 22 by default): both builds are tested.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const engineOf = (base64: string, relaxed: boolean): TiledEngine => engineFromBytes(Uint8Array.from(Buffer.from(base64, 'base64')), relaxed);
const builds: [string, () => TiledEngine][] = [
  ['baseline SIMD', () => engineOf(MATMUL_WASM_BASE64, false)],
  ['relaxed SIMD', () => engineOf(MATMUL_RELAXED_WASM_BASE64, true)],
];

/** Values on a grid of 1/8 in [−1, 1]: every product sum of K ≤ 64 of them (plus a bias on the grid) is exact in float32. */
function coarse(seed: number, n: number): Float32Array {
  return Float32Array.from(randn(seed, n), (v) => Math.max(-8, Math.min(8, Math.round(v * 3))) / 8);
}

function run(e: TiledEngine, d: ProductDims, seed: number, withBias: boolean, threads: number, values = coarse) {
  const a = values(seed, d.batchA * d.M * d.K);
  const b = values(seed + 1, d.batchB * d.K * d.N);
  const bias = withBias ? values(seed + 2, d.N) : null;
  const out = new Float32Array(d.batch * d.M * d.N).fill(Number.NaN);
  gemm(e, a, b, bias, d, threads, out);
  return { out, want: gemm64(a, b, bias, d) };
}

describe('the GEMM of the product module (wasm/gemm.wat.mjs)', () => {
  // M, N not multiples of 4 / 8 (partial tiles), K from 1; every transpose; broadcast batches.
  const shapes: [number, number, number, boolean, boolean, number, number][] = [
    [1, 1, 1, false, false, 1, 1],
    [5, 9, 13, false, false, 1, 1],
    [13, 9, 21, true, false, 2, 2],
    [13, 64, 21, false, true, 3, 3],
    [7, 33, 8, true, true, 2, 2],
    [4, 17, 16, false, false, 1, 4], // A broadcast over the batch
    [9, 40, 11, true, false, 3, 1], // B broadcast over the batch
    [66, 31, 70, false, false, 1, 1], // several blocks of rows and panels
    [70, 66, 9, true, false, 2, 2], // a transposed A of 66 rows (not a multiple of 4) and 70 columns (past one block of 64)
  ];
  for (const [name, build] of builds) {
    it(`${name}: every shape, transpose and broadcast, with and without bias, equals float64 loops exactly on exact values`, () => {
      const e = build();
      let seed = 1;
      for (const [M, K, N, tA, tB, bA, bB] of shapes) {
        for (const withBias of [false, true]) {
          const { out, want } = run(e, dimsOf(M, K, N, tA, tB, bA, bB), (seed += 3), withBias, 1);
          expect(Array.from(out), `[${M}, ${K}]·[${K}, ${N}] ${tA}/${tB} batch ${bA}/${bB} bias ${withBias}`).toEqual(Array.from(want));
        }
      }
    });

    it(`${name}: K larger than one panel block (several column blocks of op(B)) on random normal values, within 2e-6 of float64 relative to Σ|a·b|`, () => {
      const e = build();
      const normal = (seed: number, n: number) => Float32Array.from(randn(seed, n));
      // K 1500: 64 columns per packed block, so N 150 takes three blocks (the last one partial)
      for (const d of [dimsOf(37, 1500, 150, false, false), dimsOf(37, 1500, 150, true, true)]) {
        const { out, want } = run(e, d, 11, true, 1, normal);
        const a = normal(11, d.M * d.K);
        const b = normal(12, d.K * d.N);
        const bias = normal(13, d.N);
        const scale = gemm64(a.map(Math.abs), b.map(Math.abs), bias.map(Math.abs), d);
        for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - want[i])).toBeLessThanOrEqual(2e-6 * scale[i]);
      }
    });
  }

  it('2 and 3 threads give what 1 thread gives, bit for bit (rows split in blocks of four, batches split across threads)', () => {
    const e = builds[0][1]();
    const normal = (seed: number, n: number) => Float32Array.from(randn(seed, n));
    for (const d of [dimsOf(203, 96, 70, false, false), dimsOf(65, 64, 65, true, false, 12, 12), dimsOf(150, 300, 40, false, true)]) {
      const one = run(e, d, 5, true, 1, normal).out;
      for (const threads of [2, 3]) expect(Array.from(run(e, d, 5, true, threads, normal).out)).toEqual(Array.from(one));
    }
    expect(e.workers).toBe(2);
  });
});

describe('BatchMatMul and _FusedMatMul on the GEMM', () => {
  it('tf.fused.matMul with a bias, with transposes, equals float64 loops; other activations go to tfjs and still agree', () => {
    // (float64 is the reference: tfjs-backend-wasm 4.22's own _FusedMatMul gets transposeA with a bias wrong, errors of ≈ 2.)
    // M·K·N ≥ 2^25: single plain products below that stay on XNNPACK.
    const [M, K, N] = [520, 256, 256];
    const a = f32(randn(1, M * K));
    const b = f32(randn(2, K * N));
    const bias = f32(randn(3, N));
    const bT = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bT[n * K + k] = b[k * N + n];
    const want = gemm64(a, b, bias, dimsOf(M, K, N, false, false));
    const ta = tf.tensor2d(a, [M, K]);
    const taT = tf.tensor2d(a, [K, M]); // the same floats stored as Aᵀ: another product
    const tb = tf.tensor2d(b, [K, N]);
    const tbT = tf.tensor2d(bT, [N, K]);
    const tbias = tf.tensor1d(bias);
    registerWasmKernels();
    try {
      const before = tf.memory().numTensors;
      const got = [
        tf.fused.matMul({ a: ta, b: tb, bias: tbias }),
        tf.fused.matMul({ a: ta, b: tbT, bias: tbias, transposeB: true }),
        tf.fused.matMul({ a: taT, b: tb, bias: tbias, transposeA: true }),
        tf.fused.matMul({ a: ta, b: tb, bias: tbias, activation: 'relu' }),
        tf.fused.matMul({ a: ta, b: tb }),
      ];
      expect(tf.memory().numTensors).toBe(before + got.length);
      expectClose(got[0].dataSync(), want, 1e-4, 1e-5);
      expectClose(got[1].dataSync(), want, 1e-4, 1e-5);
      expectClose(got[2].dataSync(), gemm64(a, b, bias, dimsOf(M, K, N, true, false)), 1e-4, 1e-5);
      expectClose(got[3].dataSync(), want.map((v) => Math.max(0, v)), 1e-4, 1e-5);
      expectClose(got[4].dataSync(), gemm64(a, b, null, dimsOf(M, K, N, false, false)), 1e-4, 1e-5);
      // a small transposed product with a bias also runs here (tfjs' own kernel is wrong for it)
      const [m, k, n] = [30, 20, 10];
      const small = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(a.subarray(0, k * m), [k, m]), b: tf.tensor2d(b.subarray(0, k * n), [k, n]), bias: tf.tensor1d(bias.subarray(0, n)), transposeA: true }));
      expectClose(small.dataSync(), gemm64(a.subarray(0, k * m), b.subarray(0, k * n), bias.subarray(0, n), dimsOf(m, k, n, true, false)), 1e-4, 1e-5);
      tf.dispose([...got, small]);
    } finally {
      unregisterWasmKernels();
      tf.dispose([ta, taT, tb, tbT, tbias]);
    }
  });

  it('the gradient through tf.fused.matMul with the GEMM registered equals the exact gradient of a linear loss (float64 loops)', () => {
    registerWasmKernels();
    try {
      const x = tf.tensor2d(f32(randn(4, 9 * 20)), [9, 20]);
      const w0 = f32(randn(5, 20 * 12));
      const c = tf.tensor2d(f32(randn(6, 9 * 12)), [9, 12]);
      const loss = (w: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: tf.ones([12]) }), c));
      const g = tf.tidy(() => tf.grad(loss)(tf.tensor2d(w0, [20, 12])));
      // d loss / d w[k, n] = Σ_m x[m, k]·c[m, n] (linear in w: the exact gradient)
      const xs = x.dataSync();
      const cs = c.dataSync();
      const want = new Float64Array(20 * 12);
      for (let k = 0; k < 20; k++) for (let n = 0; n < 12; n++) for (let m = 0; m < 9; m++) want[k * 12 + n] += xs[m * 20 + k] * cs[m * 12 + n];
      expectClose(g.dataSync(), want, 1e-4, 1e-5);
      tf.dispose([x, c, g]);
    } finally {
      unregisterWasmKernels();
    }
  });
});
