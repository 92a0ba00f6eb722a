import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, heapOffset, registerView, type TensorInfo, type WasmBackend } from './wasmBackend.js';

/** Below this many multiply-adds per batch element the per-call overhead outweighs XNNPACK. */
const MIN_WORK = 8192;

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo | TensorInfo[];
type WasmMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, ta: boolean, tb: boolean, outId: number) => void;

const product = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** A `[batch, rows, cols]` matrix stack: `x` itself, or its last two axes swapped by wasm's Transpose kernel (`owned`). */
function asRowMajor(backend: WasmBackend, transpose: KernelFunc, x: TensorInfo, batch: number, rows: number, cols: number, transposed: boolean) {
  if (!transposed) return { info: { dataId: x.dataId, shape: [batch, rows, cols], dtype: x.dtype }, owned: false };
  const info = transpose({ inputs: { x: { dataId: x.dataId, shape: [batch, cols, rows], dtype: x.dtype } }, attrs: { perm: [0, 2, 1] }, backend }) as TensorInfo;
  return { info, owned: true };
}

/**
 * A `BatchMatMul` kernel for tfjs' wasm backend that runs every case on XNNPACK's SIMD GEMM.
 * tfjs 4.22 sends only a single non-transposed product (batch 1) to XNNPACK; batched products
 * (attention's q·kᵀ and P·v) and any product with transposeA/transposeB go to a scalar triple
 * loop that is 7–20× slower. Here transposed operands are first transposed by wasm's Transpose
 * kernel (linear time), and each batch element's product is a separate XNNPACK call on views of
 * the operands' heap memory (tensor ids registered at offsets: no copies). Broadcasting of a
 * batch of one against a batch is supported; other broadcasts, non-float32 operands and tiny
 * products fall back to `original`.
 *
 * @param original tfjs-backend-wasm's own kernel function (the fallback)
 * @param transpose tfjs-backend-wasm's Transpose kernel function
 */
export function makeBatchMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  let matMul: WasmMatMul | undefined;
  return (args) => {
    const { a, b } = args.inputs;
    const transposeA = Boolean(args.attrs?.transposeA);
    const transposeB = Boolean(args.attrs?.transposeB);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return original(args);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = product(a.shape.slice(0, -2));
    const batchB = product(b.shape.slice(0, -2));
    if (K !== Kb || M * N * K < MIN_WORK || M === 0 || N === 0 || K === 0) return original(args);
    const outBatch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = product(outBatch);
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return original(args);
    if (batch === 1 && !transposeA && !transposeB) return original(args); // already XNNPACK
    const backend = asWasmBackend('BatchMatMul', args.backend);
    matMul ??= backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as unknown as WasmMatMul;
    const A = asRowMajor(backend, transpose, a, batchA, M, K, transposeA);
    const B = asRowMajor(backend, transpose, b, batchB, K, N, transposeB);
    const out = backend.makeOutput([...outBatch, M, N], 'float32');
    // Offsets are read after makeOutput: an allocation may grow (and move the views of) the heap.
    const offA = heapOffset(backend, A.info);
    const offB = heapOffset(backend, B.info);
    const offOut = heapOffset(backend, out);
    const sa = shapeBytes([1, M, K]);
    const sb = shapeBytes([1, K, N]);
    for (let i = 0; i < batch; i++) {
      const ia = registerView(backend, offA + (batchA === 1 ? 0 : i * M * K * 4), M * K);
      const ib = registerView(backend, offB + (batchB === 1 ? 0 : i * K * N * 4), K * N);
      const io = registerView(backend, offOut + i * M * N * 4, M * N);
      matMul(ia, sa, 3, ib, sb, 3, false, false, io);
      backend.wasm.tfjs.disposeData(ia);
      backend.wasm.tfjs.disposeData(ib);
      backend.wasm.tfjs.disposeData(io);
    }
    if (A.owned) backend.disposeData(A.info.dataId);
    if (B.owned) backend.disposeData(B.info.dataId);
    return out;
  };
}
