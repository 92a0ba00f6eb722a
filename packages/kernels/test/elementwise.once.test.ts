import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FUSED_KERNELS, hasBackendKernel } from '@mmc/core';
import { registerWasmKernels, unregisterWasmKernels, WASM_FUSED_KERNELS } from '@mmc/kernels';
import { ELEMENTWISE_WASM_BASE64 } from '../src/elementwiseWasm';
import { applyElementwise, columnSums, elementwiseModule } from '../src/elementwise';
import { erf64 } from '../../models/test/reference';
import { compileWat } from '../scripts/compileWat.mjs';
import { randn } from '../../../test-setup/numeric';
import { useWasmForThisFile } from './wasmForThisFile';

// A *.once test: it selects the wasm backend itself and registers the kernels only inside this file.
useWasmForThisFile();

const FLT_EPS = 2 ** -23;
const FLT_MIN_NORMAL = 2 ** -126;

/** Runs the module's `fn` on host values (through applyElementwise's chunking). */
function simd(fn: 'exp' | 'erf', xs: ArrayLike<number>): Float32Array {
  const m = elementwiseModule();
  if (m == null) throw new Error('no wasm SIMD in this engine');
  const src = Float32Array.from(xs);
  const dst = new Float32Array(src.length);
  applyElementwise(m, fn, src, dst);
  return dst;
}

/** `n` float32 points evenly spread over [lo, hi]. */
const grid = (lo: number, hi: number, n: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

describe('the element-wise wasm module', () => {
  it('src/elementwiseWasm.ts is the compiled wasm/elementwise.wat (run npm run build:wasm -w @mmc/kernels after editing it)', async () => {
    const wat = readFileSync(fileURLToPath(new URL('../wasm/elementwise.wat', import.meta.url)), 'utf8');
    const bytes = await compileWat(wat, "elementwise.wat");
    expect(Buffer.from(bytes).toString('base64')).toBe(ELEMENTWISE_WASM_BASE64);
  });

  it('exp is within 1 ulp of float64 exp for normal results on [−87.3, 88.7]; overflows to ∞, underflows gradually to 0, keeps NaN', () => {
    const xs = grid(-87.3, 88.7, 200_003);
    const got = simd('exp', xs);
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const want = Math.exp(xs[i]);
      worst = Math.max(worst, Math.abs(got[i] - want) / want);
    }
    expect(worst).toBeLessThan(FLT_EPS); // measured 7.6e-8 ≈ 0.64 ulp
    // Subnormal results: absolute error within one subnormal step of float32's rounding of exp.
    const tiny = grid(-103.9, -87.4, 1001);
    const gotTiny = simd('exp', tiny);
    for (let i = 0; i < tiny.length; i++) expect(Math.abs(gotTiny[i] - Math.fround(Math.exp(tiny[i])))).toBeLessThanOrEqual(2 ** -149 * 2);
    const special = simd('exp', [Infinity, -Infinity, NaN, 0, -0, 88.73, 89, 1000, -104, -1000, 1, -1]);
    expect(Array.from(special.subarray(0, 2))).toEqual([Infinity, 0]);
    expect(special[2]).toBeNaN();
    expect(Array.from(special.subarray(3, 10))).toEqual([1, 1, Infinity, Infinity, Infinity, 0, 0]);
    expect(special[10]).toBeCloseTo(Math.E, 6);
    expect(special[11]).toBeCloseTo(1 / Math.E, 7);
    expect(FLT_MIN_NORMAL).toBeGreaterThan(gotTiny[500]); // the tiny range really is subnormal
  });

  it('erf is within 5e-7 of float64 erf on [−6, 6], exactly odd, ±1 beyond ±4, keeps NaN', () => {
    const xs = grid(-6, 6, 120_001);
    const got = simd('erf', xs);
    let worst = 0;
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(got[i] - erf64(xs[i])));
    // Measured 4.0e-7: the rational function is within 6.5e-8 of erf in exact arithmetic, the rest
    // is float32 rounding of its 13 multiply-adds and the division (no FMA in wasm SIMD).
    // tfjs' own wasm erf is more exact (≈ 5e-8, @mmc/models' gelu test).
    expect(worst).toBeLessThan(5e-7);
    const neg = simd('erf', Array.from(xs, (x) => -x));
    for (let i = 0; i < xs.length; i++) expect(neg[i]).toBe(-got[i]);
    const special = simd('erf', [Infinity, -Infinity, NaN, 0, 4, -4, 1e-30]);
    expect(Array.from(special.subarray(0, 2))).toEqual([1, -1]);
    expect(special[2]).toBeNaN();
    expect(Array.from(special.subarray(3, 6))).toEqual([0, 1, -1]);
    expect(special[6]).toBeCloseTo((2 / Math.sqrt(Math.PI)) * 1e-30, 36);
  });

  it('column sums over several row blocks equal float64 sums', () => {
    const m = elementwiseModule();
    if (m == null) throw new Error('no wasm SIMD in this engine');
    for (const [rows, cols] of [[1, 4], [3, 8], [70, 1000], [5, 65536], [2000, 12]] as const) {
      const x = Float32Array.from(randn(rows + cols, rows * cols));
      const out = new Float32Array(cols);
      columnSums(m, x, rows, cols, out);
      for (let c = 0; c < cols; c++) {
        let s = 0;
        let a = 0;
        for (let r = 0; r < rows; r++) {
          s += x[r * cols + c];
          a += Math.abs(x[r * cols + c]);
        }
        expect(Math.abs(out[c] - s)).toBeLessThanOrEqual(rows * FLT_EPS * a + 1e-30);
      }
    }
  });
});

describe('Exp, Erf, Sum and Mean kernels', () => {
  it('tf.exp and tf.erf of tensors (sizes not a multiple of 4, several chunks) equal float64 references, keep shapes, leak nothing', () => {
    const n = 7 * 7027; // 49,189 = 3 chunks of 16,384 + 37
    const host = Float32Array.from(randn(11, n, 3));
    const x = tf.tensor3d(host, [7, 1, n / 7]);
    registerWasmKernels();
    const before = tf.memory().numTensors;
    const e = tf.exp(x);
    const r = tf.erf(x);
    expect(tf.memory().numTensors).toBe(before + 2);
    unregisterWasmKernels();
    expect(e.shape).toEqual(x.shape);
    expect(r.shape).toEqual(x.shape);
    const ev = e.dataSync();
    const rv = r.dataSync();
    for (let i = 0; i < n; i++) {
      expect(Math.abs(ev[i] - Math.exp(host[i])) / Math.exp(host[i])).toBeLessThan(FLT_EPS);
      expect(Math.abs(rv[i] - erf64(host[i]))).toBeLessThan(5e-7);
    }
    tf.dispose([x, e, r]);
  });

  it('GELU’s gradient through tf.erf and tf.exp is the same with and without the kernels (2e-6)', () => {
    const x = tf.tensor1d(Float32Array.from(randn(12, 1000, 2)));
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1)));
    const plain = tf.grad(f)(x);
    registerWasmKernels();
    const fast = tf.grad(f)(x);
    unregisterWasmKernels();
    const a = plain.dataSync();
    const b = fast.dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(2e-6);
    tf.dispose([x, plain, fast]);
  });

  it('sum and mean over leading axes equal float64 sums; other axes fall back to tfjs’ kernel with the same results', () => {
    const shape = [6, 5, 12];
    const host = Float32Array.from(randn(13, 360));
    const x = tf.tensor3d(host, shape as [number, number, number]);
    const odd = tf.tensor2d(Float32Array.from(randn(14, 70)), [10, 7]); // 7 columns: not a multiple of 4
    const cases: [string, () => tf.Tensor][] = [
      ['sum axis 0', () => tf.sum(x, 0)],
      ['sum axes [0, 1]', () => tf.sum(x, [1, 0])],
      ['sum axis −3, keepDims', () => tf.sum(x, -3, true)],
      ['mean axis 0', () => tf.mean(x, 0)],
      ['mean axes [0, 1], keepDims', () => tf.mean(x, [0, 1], true)],
      ['sum axis 1 (not leading)', () => tf.sum(x, 1)],
      ['sum axis −1', () => tf.sum(x, -1)],
      ['sum of all axes', () => tf.sum(x)],
      ['mean axis 0 of 7 columns', () => tf.mean(odd, 0)],
    ];
    const plain = cases.map(([, f]) => f());
    registerWasmKernels();
    const before = tf.memory().numTensors;
    const fast = cases.map(([, f]) => f());
    expect(tf.memory().numTensors).toBe(before + cases.length);
    unregisterWasmKernels();
    cases.forEach(([name], i) => {
      expect(fast[i].shape, name).toEqual(plain[i].shape);
      const a = plain[i].dataSync();
      const b = fast[i].dataSync();
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j] - b[j]), name).toBeLessThan(1e-5);
    });
    // An independent float64 check of the leading-axis cases.
    const colSum = (k: number) => {
      const inner = shape.slice(k).reduce((p, d) => p * d, 1);
      const rows = host.length / inner;
      return Array.from({ length: inner }, (_, c) => Array.from({ length: rows }, (_, r) => host[r * inner + c]).reduce((s, v) => s + v, 0));
    };
    const s0 = colSum(1);
    const s01 = colSum(2);
    fast[0].dataSync().forEach((v, c) => expect(Math.abs(v - s0[c])).toBeLessThan(1e-5));
    fast[1].dataSync().forEach((v, c) => expect(Math.abs(v - s01[c])).toBeLessThan(1e-5));
    fast[3].dataSync().forEach((v, c) => expect(Math.abs(v - s0[c] / 6)).toBeLessThan(1e-6));
    fast[4].dataSync().forEach((v, c) => expect(Math.abs(v - s01[c] / 30)).toBeLessThan(1e-6));
    expect(fast[2].shape).toEqual([1, 5, 12]);
    expect(fast[4].shape).toEqual([1, 1, 12]);
    tf.dispose([x, odd, ...plain, ...fast]);
  });
});

describe('fused GELU kernels', () => {
  const gelu64 = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
  const cdf64 = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
  const pdf64 = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

  it('are registered with the others and removed by unregisterWasmKernels', () => {
    registerWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.geluForward)).toBe(true);
    expect(hasBackendKernel(FUSED_KERNELS.geluBackward)).toBe(true);
    expect([...WASM_FUSED_KERNELS]).toEqual([FUSED_KERNELS.geluForward, FUSED_KERNELS.geluBackward, FUSED_KERNELS.dotTopK, FUSED_KERNELS.stridedMatMul]);
    unregisterWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.geluForward)).toBe(false);
    expect(hasBackendKernel(FUSED_KERNELS.geluBackward)).toBe(false);
  });

  it('forward gives Φ(u) and u·Φ(u), backward dy·(Φ(u) + u·φ(u)), against float64 (several chunks, odd size), no leak', () => {
    const n = 5 * 8191; // 40,955: three chunks and an odd tail
    const u = Float32Array.from(randn(21, n, 3));
    const dyHost = Float32Array.from(randn(22, n));
    const ut = tf.tensor2d(u, [5, 8191]);
    const dyt = tf.tensor2d(dyHost, [5, 8191]);
    registerWasmKernels();
    const before = tf.memory().numTensors;
    const [cdf, g] = tf.engine().runKernel(FUSED_KERNELS.geluForward, { x: ut }) as unknown as tf.Tensor[];
    const du = tf.engine().runKernel(FUSED_KERNELS.geluBackward, { dy: dyt, x: ut, cdf }) as tf.Tensor;
    expect(tf.memory().numTensors).toBe(before + 3);
    unregisterWasmKernels();
    expect([cdf.shape, g.shape, du.shape]).toEqual([[5, 8191], [5, 8191], [5, 8191]]);
    const [c, gv, d] = [cdf.dataSync(), g.dataSync(), du.dataSync()];
    let worst = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const x = u[i];
      const cw = cdf64(x);
      const dw = dyHost[i] * (cw + x * pdf64(x));
      worst = [Math.max(worst[0], Math.abs(c[i] - cw)), Math.max(worst[1], Math.abs(gv[i] - gelu64(x)) / Math.max(1, Math.abs(x))), Math.max(worst[2], Math.abs(d[i] - dw) / Math.max(1, Math.abs(dyHost[i])))];
    }
    // Measured 1.9e-7, 2.3e-7, 2.8e-7: erf's float32 error (≤ 5e-7 of erf, halved in Φ) and rounding.
    expect(worst[0]).toBeLessThan(3e-7);
    expect(worst[1]).toBeLessThan(4e-7);
    expect(worst[2]).toBeLessThan(4e-7);
    tf.dispose([ut, dyt, cdf, g, du]);
  });

  it('a ViT-Tiny-shaped forward and backward through @mmc/models’ blocks agrees with tfjs’ own ops (value 1e-5, gradients 1e-5 of the largest)', async () => {
    const { createViT, vitTiny } = await import('@mmc/models');
    const vit = createViT(vitTiny({ imageSize: 16, patchSize: 4, dim: 24, depth: 2, heads: 2, seed: 3 }));
    const x = tf.tensor4d(Float32Array.from(randn(23, 2 * 16 * 16 * 3)), [2, 16, 16, 3]);
    const run = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(vit.apply(x).patches)) as tf.Scalar);
      const out = { value: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float32Array.from(g.dataSync())])) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const plain = run();
    registerWasmKernels();
    const before = tf.memory().numTensors;
    const fast = run();
    expect(tf.memory().numTensors).toBe(before);
    unregisterWasmKernels();
    expect(Math.abs(fast.value - plain.value) / Math.abs(plain.value)).toBeLessThan(1e-5);
    // Rounding differences scale with the activations, not with each variable's own gradient (the
    // CLS token's is ~1e-6 here), so every difference is measured against the largest gradient
    // entry of the network. Measured: at most 3.7e-8 of it.
    const scale = Math.max(...Object.values(plain.grads).map((g) => Math.max(...Array.from(g, Math.abs))));
    for (const [name, g] of Object.entries(plain.grads)) {
      const h = fast.grads[name];
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(h[i] - g[i]));
      expect(worst / scale, name).toBeLessThan(1e-5);
    }
    vit.dispose();
    x.dispose();
  });
});
