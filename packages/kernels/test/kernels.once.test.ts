import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendError, FUSED_KERNELS, hasBackendKernel } from '@mmc/core';
import { registerWasmKernels, unregisterWasmKernels, WASM_KERNELS } from '@mmc/kernels';
import { expectClose, f32, randn } from '../../../test-setup/numeric';
import { matMulPlan } from '../src/batchMatMul';
import { dimsOf, gemm64 } from './gemm64';
import { useWasmForThisFile } from './wasmForThisFile';

// A *.once test: it selects the wasm backend itself and registers the kernels only inside this file.
useWasmForThisFile();

/** float64 C = op(A)·op(B) for [batch, ., .] stacks (a batch of 1 broadcasts). */
function matMul64(a: Float64Array, aShape: number[], tA: boolean, b: Float64Array, bShape: number[], tB: boolean) {
  const [ba, a1, a2] = aShape;
  const [bb, b1, b2] = bShape;
  return gemm64(a, b, null, dimsOf(tA ? a2 : a1, tA ? a1 : a2, tB ? b1 : b2, tA, tB, ba, bb));
}

describe('registerWasmKernels', () => {
  it('swaps the kernels and unregisterWasmKernels puts tfjs-backend-wasm’s back', () => {
    const before = WASM_KERNELS.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    expect(registerWasmKernels()).toBe(true);
    expect(registerWasmKernels()).toBe(false);
    WASM_KERNELS.forEach((n, i) => expect(tf.getKernel(n, 'wasm')?.kernelFunc, n).not.toBe(before[i]));
    expect(unregisterWasmKernels()).toBe(true);
    expect(unregisterWasmKernels()).toBe(false);
    WASM_KERNELS.forEach((n, i) => expect(tf.getKernel(n, 'wasm')?.kernelFunc, n).toBe(before[i]));
  });

  it('throws a BackendError naming the package when the wasm kernels are not registered', () => {
    const saved = tf.getKernel('Slice', 'wasm') as tf.KernelConfig;
    tf.unregisterKernel('Slice', 'wasm');
    try {
      expect(() => registerWasmKernels()).toThrow(BackendError);
      expect(() => registerWasmKernels()).toThrow(/tfjs-backend-wasm/);
    } finally {
      tf.registerKernel(saved);
    }
    expect(unregisterWasmKernels()).toBe(false); // nothing half-registered
  });
});

describe('BatchMatMul', () => {
  const cases: [number[], boolean, number[], boolean][] = [
    [[5, 33, 40], false, [5, 40, 29], false], // batched (attention)
    [[5, 40, 33], true, [5, 40, 29], false],
    [[5, 33, 40], false, [5, 29, 40], true],
    [[5, 40, 33], true, [5, 29, 40], true],
    [[1, 33, 40], false, [4, 40, 29], false], // a batch of one broadcasts
    [[4, 33, 40], false, [1, 29, 40], true],
    [[1, 70, 50], true, [1, 70, 60], false], // 2-D transposed (weight gradients)
    [[1, 50, 70], false, [1, 60, 70], true],
    [[3, 2, 2], false, [3, 2, 2], false], // tiny: tfjs' own kernel
    // run as (op(B)ᵀ·op(A)ᵀ)ᵀ: the swapped plan (asserted below)
    [[1, 70, 20], true, [1, 70, 90], false], // weight gradient xᵀ·dy with N > M
    [[5, 40, 13], true, [5, 40, 29], false],
    [[1, 20, 50], false, [1, 90, 50], true],
    [[4, 40, 10], true, [1, 40, 60], false], // swapped, with a broadcast right operand
    [[1, 20, 2000], false, [1, 2000, 300], false], // a single plain product taken off tfjs' call (swapped)
  ];

  it('matMulPlan swaps when packing op(A) instead of op(B) saves work, and only then', () => {
    // [M, K, N, tA, tB] of the cases above: cost = transposed floats + 5 × packed floats (+ M·N when swapped)
    expect(matMulPlan(20, 70, 90, true, false)).toBe('swapped'); // direct 1400 + 31500, swapped 6300 + 7000 + 1800
    expect(matMulPlan(13, 40, 29, true, false)).toBe('swapped');
    expect(matMulPlan(20, 50, 90, false, true)).toBe('swapped');
    expect(matMulPlan(10, 40, 60, true, false)).toBe('swapped');
    expect(matMulPlan(33, 40, 29, true, false)).toBe('direct'); // direct 1320 + 5800, swapped 1160 + 6600 + 957
    expect(matMulPlan(50, 70, 60, true, false)).toBe('direct');
    expect(matMulPlan(33, 40, 29, false, false)).toBe('direct');
    // the ViT-Tiny weight gradients: fc1's xᵀ·dy swaps, fc2's hᵀ·dy does not
    expect(matMulPlan(192, 4160, 768, true, false)).toBe('swapped');
    expect(matMulPlan(768, 4160, 192, true, false)).toBe('direct');
    // single plain products (tfjs' cached call) swap only when that saves ≥ 2^20 units
    expect(matMulPlan(20, 2000, 300, false, false, true)).toBe('swapped'); // direct 3.0e6, swapped 0.85e6
    expect(matMulPlan(20, 70, 90, false, false, true)).toBe('direct'); // direct 31500, swapped 14700: too little
    expect(matMulPlan(192, 4160, 768, false, false, true)).toBe('swapped');
    expect(matMulPlan(192, 4160, 192, false, false, true)).toBe('direct');
  });
  for (const [aShape, tA, bShape, tB] of cases) for (const gemm of [true, false]) {
    it(`[${aShape}]${tA ? 'ᵀ' : ''} · [${bShape}]${tB ? 'ᵀ' : ''} equals float64 loops and tfjs' kernel (${gemm ? 'our GEMM' : 'XNNPACK'})`, () => {
      const a64 = randn(aShape.reduce((p, d) => p * d), aShape.reduce((p, d) => p * d));
      const b64 = randn(7 + bShape[1], bShape.reduce((p, d) => p * d));
      const a = tf.tensor3d(f32(a64), aShape as [number, number, number]);
      const b = tf.tensor3d(f32(b64), bShape as [number, number, number]);
      const plain = tf.matMul(a, b, tA, tB);
      registerWasmKernels({ gemm });
      const numBefore = tf.memory().numTensors;
      const fast = tf.matMul(a, b, tA, tB);
      expect(tf.memory().numTensors).toBe(numBefore + 1);
      unregisterWasmKernels();
      expect(fast.shape).toEqual(plain.shape);
      const want = matMul64(a64, aShape, tA, b64, bShape, tB);
      expectClose(fast.dataSync(), want, 1e-4, 1e-5);
      expectClose(fast.dataSync(), plain.dataSync(), 1e-4, 1e-5);
      tf.dispose([a, b, plain, fast]);
    });
  }

  for (const gemm of [true, false]) it(`rank-4 batches and rank-2 operands keep their output shapes (${gemm ? 'our GEMM' : 'XNNPACK'})`, () => {
    const a = tf.randomNormal([2, 3, 17, 19], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 3, 19, 23], 0, 1, 'float32', 2);
    const w = tf.randomNormal([19, 23], 0, 1, 'float32', 3);
    const x = tf.randomNormal([70, 20], 0, 1, 'float32', 4);
    const dy = tf.randomNormal([70, 90], 0, 1, 'float32', 5);
    // the last product is a rank-2 one on the swapped plan: its result [20, 90] is transposed back
    const products = () => [tf.matMul(a, b), tf.matMul(w, tf.reshape(tf.slice(a, [0, 0, 0, 0], [1, 1, 17, 19]), [17, 19]), true, true), tf.matMul(x, dy, true)];
    const plain = products();
    registerWasmKernels({ gemm });
    const fast = products();
    unregisterWasmKernels();
    fast.forEach((f, i) => {
      expect(f.shape).toEqual(plain[i].shape);
      expectClose(f.dataSync(), plain[i].dataSync(), 1e-4, 1e-5);
    });
    tf.dispose([a, b, w, x, dy, ...plain, ...fast]);
  });
});

/** Host gather along `axis` of a row-major array (batchDims 0 or 1), the reference for GatherV2. */
function gather64(x: ArrayLike<number>, shape: number[], idx: number[][], axis: number, batchDims: number): number[] {
  const outer = shape.slice(batchDims, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const batches = batchDims ? shape[0] : 1;
  const out: number[] = [];
  for (let b = 0; b < batches; b++) {
    for (let r = 0; r < outer; r++) {
      for (const i of idx[b]) {
        const start = ((b * outer + r) * shape[axis] + i) * inner;
        for (let k = 0; k < inner; k++) out.push(x[start + k]);
      }
    }
  }
  return out;
}

describe('GatherV2', () => {
  it('every axis, batchDims 0 and 1, short and long rows, equal host indexing; bad indices throw', () => {
    // (tfjs-backend-wasm 4.22's own gather gets batchDims 1 wrong, so the reference is host-side.)
    const shape = [2, 5, 40];
    const data = Float32Array.from({ length: 400 }, (_, i) => i * 0.5);
    const x = tf.tensor(data, shape);
    const cases: [number[], number, number][] = [
      [[4, 0, 4, 2], 1, 0],
      [[1, 0], 0, 0],
      [[39, 0, 7], 2, 0],
      [[3, 1, 1], 1, 1],
    ];
    registerWasmKernels();
    for (const [idx, axis, batchDims] of cases) {
      const rows = batchDims ? [idx, [...idx].reverse()] : [idx];
      const ind = batchDims ? tf.tensor2d(rows, [2, idx.length], 'int32') : tf.tensor1d(idx, 'int32');
      const got = tf.gather(x, ind, axis, batchDims);
      const wantShape = [...shape.slice(0, axis), ...(batchDims ? [idx.length] : ind.shape), ...shape.slice(axis + 1)];
      expect(got.shape).toEqual(wantShape);
      expect(Array.from(got.dataSync())).toEqual(gather64(data, shape, rows, axis, batchDims));
      expect(() => tf.gather(x, tf.tensor1d([0, shape[axis]], 'int32'), axis)).toThrow(/not in/);
      tf.dispose([ind, got]);
    }
    const xi = tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
    const gi = tf.gather(xi, [2, 0], 1);
    expect(gi.dtype).toBe('int32');
    expect(Array.from(gi.dataSync())).toEqual([3, 1, 6, 4]);
    unregisterWasmKernels();
    tf.dispose([x, xi, gi]);
  });
});

describe('Identity, Slice, SplitV', () => {
  it('tf.clone shares memory safely: the clone outlives its source', () => {
    registerWasmKernels();
    const x = tf.tensor1d([1, 2, 3, 4]);
    const c = tf.clone(x);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    const v = tf.variable(c);
    v.assign(tf.tensor1d([5, 6, 7, 8]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([c, v]);
    unregisterWasmKernels();
  });

  it('slices of every rank, continuous or not, and splits equal host-side indexing (float32, int32, bool)', () => {
    registerWasmKernels();
    const shape = [3, 4, 5, 6];
    const n = shape.reduce((p, d) => p * d);
    const host = Float32Array.from({ length: n }, (_, i) => i);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const vals = dtype === 'bool' ? host.map((v) => v % 3 === 0 ? 1 : 0) : host;
      const x = tf.tensor(dtype === 'float32' ? vals : Int32Array.from(vals), shape, dtype);
      const boxes: [number[], number[]][] = [
        [[1, 0, 0, 0], [2, 4, 5, 6]], // continuous
        [[0, 1, 2, 3], [3, 2, 3, 2]],
        [[2, 3, 4, 5], [1, 1, 1, 1]],
        [[0, 0, 0, 1], [3, 4, 5, 4]],
      ];
      for (const [begin, size] of boxes) {
        const got = tf.slice(x, begin, size);
        const want: number[] = [];
        for (let a = 0; a < size[0]; a++)
          for (let b = 0; b < size[1]; b++)
            for (let c = 0; c < size[2]; c++)
              for (let d = 0; d < size[3]; d++) {
                want.push(vals[(((begin[0] + a) * 4 + begin[1] + b) * 5 + begin[2] + c) * 6 + begin[3] + d]);
              }
        expect(got.dtype).toBe(dtype);
        expect(Array.from(got.dataSync())).toEqual(want);
        got.dispose();
      }
      const parts = tf.split(x, [2, 4], 3);
      expect(parts.map((p) => p.shape)).toEqual([[3, 4, 5, 2], [3, 4, 5, 4]]);
      expect(Array.from(tf.concat(parts, 3).dataSync())).toEqual(Array.from(vals));
      tf.dispose([x, ...parts]);
    }
    // Runs of the last axis at least 16 long take TypedArray.set, shorter ones a loop: both here.
    const wide = tf.tensor2d(Float32Array.from({ length: 4 * 37 }, (_, i) => i), [4, 37]);
    for (const [begin, size] of [[[1, 2], [2, 33]], [[0, 5], [4, 3]], [[1, 0], [3, 16]], [[0, 21], [4, 15]]]) {
      const want = Array.from({ length: size[0] * size[1] }, (_, i) => (begin[0] + Math.floor(i / size[1])) * 37 + begin[1] + (i % size[1]));
      const got = tf.slice(wide, begin, size);
      expect(Array.from(got.dataSync())).toEqual(want);
      got.dispose();
    }
    wide.dispose();
    const r1 = tf.slice(tf.range(0, 10), [3], [4]);
    expect(Array.from(r1.dataSync())).toEqual([3, 4, 5, 6]);
    r1.dispose();
    unregisterWasmKernels();
  });
});

describe('transposed products (FUSED_KERNELS.stridedMatMul)', () => {
  it("a ViT's gradient runs no 2-D or 3-D Transpose with the kernels (flags on the GEMM) and equals the gradient without them", async () => {
    const { createViT, vitTiny } = await import('@mmc/models');
    const vit = createViT(vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 2, heads: 2, seed: 4 }));
    const x = tf.tensor4d(f32(randn(8, 4 * 16 * 16 * 3)), [4, 16, 16, 3]);
    const r = tf.tensor3d(f32(randn(9, 4 * 16 * 32)), [4, 16, 32]);
    const run = async () => {
      let grads: tf.Tensor[] = [];
      const info = await tf.profile(() => {
        grads = Object.values(tf.variableGrads(() => tf.sum(tf.mul(vit.apply(x).patches, r)) as tf.Scalar, vit.trainableVariables()).grads);
      });
      const ranks = info.kernels.filter((k) => k.name === 'Transpose').map((k) => k.inputShapes[0]?.length ?? 0);
      const values = grads.flatMap((g) => Array.from(g.dataSync()));
      tf.dispose(grads);
      return { ranks, values };
    };
    const plain = await run();
    registerWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.stridedMatMul)).toBe(true);
    const fast = await run();
    unregisterWasmKernels();
    expect(hasBackendKernel(FUSED_KERNELS.stridedMatMul)).toBe(false);
    // Without: the weight gradients' and attention's transposes; with: only patchify's (rank 6) and the head split/merge (rank 4).
    expect(plain.ranks.filter((n) => n === 2 || n === 3).length).toBeGreaterThan(0);
    expect(fast.ranks.filter((n) => n === 2 || n === 3)).toEqual([]);
    expect(fast.ranks.length).toBeGreaterThan(0);
    expectClose(fast.values, plain.values, 1e-5, 1e-4);
    tf.dispose([x, r]);
    vit.dispose();
  });
});

describe('a training run', () => {
  it('an MMC run with the kernels logs the same losses as without them (1e-4), and leaks nothing', async () => {
    const { mmcRecipe, train } = await import('@mmc/recipes');
    const { scenes } = await import('@mmc/data');
    const { vitTiny } = await import('@mmc/models');
    const run = async () => {
      const before = tf.memory().numTensors;
      const recipe = mmcRecipe({ vit: vitTiny({ imageSize: 32, patchSize: 8, dim: 16, depth: 2, heads: 2 }), headHidden: 32, headOut: 16 });
      const data = scenes({ count: 8, imageSize: 32, seed: 3 });
      const r = await train(recipe, data, { steps: 3, batchSize: 4, seed: 1 });
      recipe.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return r.history.flatMap((h) => [h.losses.loss, h.losses.mim, h.losses.patch, h.losses.global]);
    };
    const plain = await run();
    registerWasmKernels();
    const fast = await run();
    unregisterWasmKernels();
    expect(plain.every(Number.isFinite)).toBe(true);
    expectClose(fast, plain, 1e-4, 1e-4);
  });
});
