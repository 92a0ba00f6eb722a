import * as tf from '@tensorflow/tfjs';
import { BackendError } from '@mmc/core';
import { DESCRIPTOR_AT, ensureWorkers, FN, PAGE, reserve, runJobs, type TiledEngine, type TiledJob } from './tiledEngine.js';
import type { TensorInfo } from './wasmBackend.js';

/** Bytes of packed op(B) columns per block (≈ 384 KiB: they stay in a Zen 3 core's 512 KiB L2 while rows of op(A) stream by). */
const PANEL_BYTES = 393216;
/** Below this many multiply-adds a product runs on the calling thread only (waking a worker costs tens of µs). */
const MIN_THREADED_WORK = 2 ** 19;

const align64 = (n: number) => Math.ceil(n / 64) * 64;
const product = (xs: number[]) => xs.reduce((p, d) => p * d, 1);

/** The sizes of `op(A)·op(B)` for a batch of products: `[M, K]·[K, N]` per batch element. */
export interface ProductDims {
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Batch elements of A and B: each equals `batch` or 1 (broadcast). */
  batchA: number;
  batchB: number;
  batch: number;
  /** The output's leading axes (the broadcast of A's and B's). */
  outBatch: number[];
}

/**
 * The sizes of tfjs' `BatchMatMul` of float32 `a`, `b` (rank ≥ 2) with the given transposes, or
 * null where they do not match, a dtype is not float32, or the batches broadcast other than a
 * batch of one against a batch (the kernels then hand the product to tfjs' own).
 */
export function productDims(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): ProductDims | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return null;
  const batchA = product(a.shape.slice(0, -2));
  const batchB = product(b.shape.slice(0, -2));
  let outBatch: number[];
  try {
    outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batch = product(outBatch);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return { M, K, N, transposeA, transposeB, batchA, batchB, batch, outBatch };
}

/** Blocks of four rows per work item: small enough to balance two threads, large enough to keep the item counter cold. */
const ROW_BLOCKS_PER_ITEM = 8;

/** How {@link gemm} splits a batch of products: columns packed per block, threads, scratch bytes per thread. */
function gemmPlan(e: TiledEngine, dims: ProductDims, threads: number) {
  const { M, K, N, batch } = dims;
  const N8 = Math.ceil(N / 8) * 8;
  const nc = Math.min(N8, Math.max(8, Math.floor(PANEL_BYTES / (4 * K) / 8) * 8));
  const items = batch * Math.ceil(N / nc) * Math.ceil(Math.ceil(M / 4) / ROW_BLOCKS_PER_ITEM);
  const T = M * N * K * batch < MIN_THREADED_WORK ? 1 : ensureWorkers(e, Math.min(threads, items));
  return { N8, nc, T, scratchBytes: align64((nc * K + 32) * 4) };
}

const gemmName = ({ batch, M, K, N }: ProductDims) => `@mmc/kernels GEMM [${batch}, ${M}, ${K}]·[${K}, ${N}]`;

/**
 * `C = op(A)·op(B) (+ bias)` for a batch of products on the product module's register-tiled
 * SIMD GEMM (wasm/gemm.wat.mjs: op(B) packed into `[K, 8]` panels, 4 × 8 tiles of C in
 * registers, fused multiply-add where the engine has relaxed SIMD) on this thread and
 * `threads − 1` worker threads, which take work items (32 rows of one block of columns) from a
 * shared counter, so a worker that wakes late leaves its share to the others. Operands and
 * result are copied into and out of the engine's memory (linear time); a transposed B is read
 * through strides while it is packed, a transposed A is transposed in that memory first (the
 * module's `transpose`, ≈ 1 ns per float; read in place it made `[2048, 4096]ᵀ·[2048, 2048]`
 * 2.7× slower). Measured here (AMD EPYC Zen 3, one thread, ViT-Tiny's shapes):
 * 29–33 GFLOP/s baseline, 44–47 relaxed, against 20–26 for XNNPACK.
 *
 * @param a op(A) of every batch element, `[batchA, M, K]` (`[batchA, K, M]` when transposed), row-major
 * @param b `[batchB, K, N]` (`[batchB, N, K]` when transposed)
 * @param bias `[N]`, added to every row, or null
 * @param out `[batch, M, N]`, written
 */
export function gemm(e: TiledEngine, a: Float32Array, b: Float32Array, bias: Float32Array | null, dims: ProductDims, threads: number, out: Float32Array): void {
  const { M, K, N, batchA, batchB, batch } = dims;
  const plan = gemmPlan(e, dims, threads);
  const aAt = PAGE;
  const bAt = align64(aAt + batchA * M * K * 4);
  const biasAt = align64(bAt + batchB * K * N * 4);
  const cAt = align64(biasAt + plan.N8 * 4);
  const scratchAt = align64(cAt + batch * M * N * 4);
  const stagingAt = align64(scratchAt + plan.T * plan.scratchBytes); // a transposed A as given, before its transpose
  let f: Float32Array;
  try {
    f = reserve(e, stagingAt + (dims.transposeA ? batchA * M * K * 4 : 0), gemmName(dims));
  } catch (err) {
    throw new BackendError((err as Error).message, 'wasm');
  }
  if (dims.transposeA) {
    f.set(a.subarray(0, batchA * M * K), stagingAt / 4);
    for (let i = 0; i < batchA; i++) e.transpose(stagingAt + i * M * K * 4, aAt + i * M * K * 4, K, M);
  } else {
    f.set(a.subarray(0, batchA * M * K), aAt / 4);
  }
  f.set(b.subarray(0, batchB * K * N), bAt / 4);
  f.fill(0, biasAt / 4, biasAt / 4 + plan.N8);
  if (bias) f.set(bias.subarray(0, N), biasAt / 4);
  const strides = [
    K * 4, 4, // op(A)[i, k] (row-major here): rows, k
    dims.transposeB ? 4 : N * 4, dims.transposeB ? K * 4 : 4, // op(B)[k, n]: k, columns
    N * 4, 4, // C rows, columns
    batchA === 1 ? 0 : M * K * 4, batchB === 1 ? 0 : K * N * 4, M * N * 4,
  ];
  new Int32Array(e.memory.buffer).set([aAt, bAt, cAt, biasAt, M, K, N, ...strides, ROW_BLOCKS_PER_ITEM, 0, plan.nc, scratchAt, plan.scratchBytes, batch], DESCRIPTOR_AT / 4);
  const jobs: TiledJob[] = Array.from({ length: plan.T }, (_, t) => ({ fn: FN.gemm, args: [DESCRIPTOR_AT, t] }));
  try {
    runJobs(e, jobs);
  } catch (err) {
    throw new BackendError(`${gemmName(dims)}: ${(err as Error).message}`, 'wasm');
  }
  out.set(f.subarray(cAt / 4, cAt / 4 + batch * M * N));
}
