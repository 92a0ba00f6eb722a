import { wasmThreadCount } from '@mmc/core';
import { gemm, productDims, type ProductDims } from './gemm.js';
import { canStartWorkers, type TiledEngine } from './tiledEngine.js';
import { asWasmBackend, heapOffset, registerView, type TensorInfo, type WasmBackend } from './wasmBackend.js';

/** Below this many multiply-adds per batch element the per-call overhead outweighs XNNPACK. */
const MIN_WORK = 8192;
/**
 * Below this many multiply-adds a single plain product stays on XNNPACK even where our GEMM runs:
 * there the copies and waking a worker thread cost what the faster tile saves (measured here at 2
 * threads: `[2080, 64]·[64, 64]` 0.83 ms ours against 0.57 ms, parity at `[2080, 64]·[64, 256]`).
 */
const MIN_GEMM_WORK = 2 ** 25;

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo | TensorInfo[];
type WasmMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, ta: boolean, tb: boolean, outId: number) => void;

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** A `[batch, rows, cols]` matrix stack: `x` itself, or its last two axes swapped by wasm's Transpose kernel (`owned`). */
function asRowMajor(backend: WasmBackend, transpose: KernelFunc, x: TensorInfo, batch: number, rows: number, cols: number, transposed: boolean) {
  if (!transposed) return { info: { dataId: x.dataId, shape: [batch, rows, cols], dtype: x.dtype }, owned: false };
  const info = transpose({ inputs: { x: { dataId: x.dataId, shape: [batch, cols, rows], dtype: x.dtype } }, attrs: { perm: [0, 2, 1] }, backend }) as TensorInfo;
  return { info, owned: true };
}

/**
 * Relative cost, per float, of the work around one XNNPACK product besides the multiply-adds:
 * packing the right operand (tfjs builds a fresh XNNPACK operator for every new operand id, and
 * packs it from `[K, N]`: 7–12 ns per float measured here) against a transpose by wasm's
 * Transpose kernel (≈ 2 ns per float).
 */
const PACK_COST = 5;

/** The least saving, in those units (≈ 2^20 transposed floats, a few ms), that moves a plain single product off tfjs' cached XNNPACK call. */
const MIN_SAVING = 2 ** 20;

/**
 * How {@link makeBatchMatMul} runs `C = op(A)·op(B)` (`[M, K]·[K, N]` per batch element):
 * `'direct'` packs op(B) (K·N floats); `'swapped'` computes `Cᵀ = op(B)ᵀ·op(A)ᵀ` and transposes
 * the `[N, M]` result, packing op(A) (K·M floats) instead. It picks the one with less transposing
 * and packing: for a weight gradient `xᵀ·dy` with x `[4160, 192]`, dy `[4160, 768]` that is
 * `'swapped'` (62 → 37 ms measured at 2 threads), for `hᵀ·dy` with h `[4160, 768]`, dy
 * `[4160, 192]` `'direct'`. A single product without transposes (`cached`) is tfjs' own XNNPACK
 * call, whose operator cache makes repeated products with the same right operand skip packing:
 * it is swapped only when that saves at least {@link MIN_SAVING} (the blocks' explicit-transpose
 * weight gradient `(xᵀ)·dy` of fc1: 46 → 35 ms).
 */
export function matMulPlan(M: number, K: number, N: number, transposeA: boolean, transposeB: boolean, cached = false): 'direct' | 'swapped' {
  const direct = (transposeA ? M * K : 0) + (transposeB ? K * N : 0) + PACK_COST * K * N;
  const swapped = (transposeA ? 0 : M * K) + (transposeB ? 0 : K * N) + PACK_COST * K * M + M * N;
  return swapped + (cached ? MIN_SAVING : 0) < direct ? 'swapped' : 'direct';
}

/**
 * Whether products go to our GEMM: where the module exists, and either worker threads can run it
 * (Node) or tfjs runs one thread (a browser page, where only the calling thread runs it and
 * XNNPACK on tfjs' thread pool is faster).
 */
function gemmRuns(engine: TiledEngine | null): engine is TiledEngine {
  return engine != null && (canStartWorkers() || wasmThreadCount() === 1);
}

/** The product on our GEMM into a new output tensor. */
function runProduct(engine: TiledEngine, backend: WasmBackend, a: TensorInfo, b: TensorInfo, bias: TensorInfo | null, dims: ProductDims): TensorInfo {
  const out = backend.makeOutput([...dims.outBatch, dims.M, dims.N], 'float32');
  const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array; // after makeOutput: the heap may have moved
  gemm(engine, heap(a), heap(b), bias == null ? null : heap(bias), dims, wasmThreadCount(), heap(out));
  return out;
}

/**
 * A `BatchMatMul` kernel for tfjs' wasm backend. Where the product module exists (`engine`: wasm
 * SIMD and shared memory) and {@link gemmRuns}, every float32 product except single plain ones
 * below {@link MIN_GEMM_WORK} multiply-adds runs on its register-tiled GEMM ({@link gemm}:
 * transposes as strides, worker threads), 1.2–1.6× XNNPACK's speed on a thread and far faster
 * than tfjs on batched products. Otherwise each case runs on XNNPACK's SIMD GEMM:
 * tfjs 4.22 sends only a single non-transposed product (batch 1) to XNNPACK; batched products
 * (attention's q·kᵀ and P·v) and any product with transposeA/transposeB go to a scalar triple
 * loop that is 7–20× slower. Here transposed operands are first transposed by wasm's Transpose
 * kernel (linear time), and each batch element's product is a separate XNNPACK call on views of
 * the operands' heap memory (tensor ids registered at offsets: no copies), as `A·B` or as
 * `(Bᵀ·Aᵀ)ᵀ`, whichever {@link matMulPlan} finds cheaper. Broadcasting of a batch of one
 * against a batch is supported; other broadcasts, non-float32 operands and tiny products fall
 * back to `original`.
 *
 * @param original tfjs-backend-wasm's own kernel function (the fallback)
 * @param transpose tfjs-backend-wasm's Transpose kernel function
 * @param engine the product module, or null where it does not exist
 */
export function makeBatchMatMul(original: KernelFunc, transpose: KernelFunc, engine: TiledEngine | null): KernelFunc {
  let matMul: WasmMatMul | undefined;
  return (args) => {
    const { a, b } = args.inputs;
    const transposeA = Boolean(args.attrs?.transposeA);
    const transposeB = Boolean(args.attrs?.transposeB);
    const dims = productDims(a, b, transposeA, transposeB);
    if (dims == null) return original(args);
    const { M, K, N, batchA, batchB, batch, outBatch } = dims;
    if (M * N * K < MIN_WORK || M === 0 || N === 0 || K === 0) return original(args);
    const backend = asWasmBackend('BatchMatMul', args.backend);
    const single = batch === 1 && !transposeA && !transposeB; // tfjs' own XNNPACK call, with its operator cache
    if (gemmRuns(engine) && !(single && M * N * K < MIN_GEMM_WORK)) {
      return runProduct(engine, backend, a, b, null, dims);
    }
    const swapped = matMulPlan(M, K, N, transposeA, transposeB, single) === 'swapped';
    if (single && !swapped) return original(args);
    matMul ??= backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as unknown as WasmMatMul;
    // The product run is left·right = [rows, inner]·[inner, cols] per batch element.
    const [left, right, rows, cols, batchL, batchR] = swapped
      ? [asRowMajor(backend, transpose, b, batchB, N, K, !transposeB), asRowMajor(backend, transpose, a, batchA, K, M, !transposeA), N, M, batchB, batchA]
      : [asRowMajor(backend, transpose, a, batchA, M, K, transposeA), asRowMajor(backend, transpose, b, batchB, K, N, transposeB), M, N, batchA, batchB];
    const result = backend.makeOutput(swapped ? [batch, N, M] : [...outBatch, M, N], 'float32');
    // Offsets are read after makeOutput: an allocation may grow (and move the views of) the heap.
    const offL = heapOffset(backend, left.info);
    const offR = heapOffset(backend, right.info);
    const offOut = heapOffset(backend, result);
    const sl = shapeBytes([1, rows, K]);
    const sr = shapeBytes([1, K, cols]);
    for (let i = 0; i < batch; i++) {
      const il = registerView(backend, offL + (batchL === 1 ? 0 : i * rows * K * 4), rows * K);
      const ir = registerView(backend, offR + (batchR === 1 ? 0 : i * K * cols * 4), K * cols);
      const io = registerView(backend, offOut + i * rows * cols * 4, rows * cols);
      matMul(il, sl, 3, ir, sr, 3, false, false, io);
      backend.wasm.tfjs.disposeData(il);
      backend.wasm.tfjs.disposeData(ir);
      backend.wasm.tfjs.disposeData(io);
    }
    if (left.owned) backend.disposeData(left.info.dataId);
    if (right.owned) backend.disposeData(right.info.dataId);
    if (!swapped) return result;
    const out = transpose({ inputs: { x: result }, attrs: { perm: [0, 2, 1] }, backend }) as TensorInfo;
    backend.disposeData(result.dataId);
    return { ...out, shape: [...outBatch, M, N] };
  };
}

/**
 * A `_FusedMatMul` kernel (`tf.fused.matMul`) for tfjs' wasm backend on the product module's
 * GEMM ({@link gemm}) for float32 products with a bias of `[N]` (or none) and no activation
 * (the bias is where the tile's accumulators start), except single plain products below
 * {@link MIN_GEMM_WORK} multiply-adds. Everything else (activations, PReLU weights, other bias
 * shapes) goes to `original`, tfjs' XNNPACK kernel. Transposed products always run here: tfjs'
 * own kernel gets `transposeA` with a bias wrong.
 *
 * @param original tfjs-backend-wasm's own kernel function
 * @param engine the product module, or null where it does not exist (then every call goes to `original`)
 */
export function makeFusedMatMul(original: KernelFunc, engine: TiledEngine | null): KernelFunc {
  return (args) => {
    if (!gemmRuns(engine)) return original(args);
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs?.activation as string | undefined) ?? 'linear';
    const transposeA = Boolean(args.attrs?.transposeA);
    const transposeB = Boolean(args.attrs?.transposeB);
    const dims = productDims(a, b, transposeA, transposeB);
    if (dims == null || activation !== 'linear' || preluActivationWeights != null) return original(args);
    const { M, K, N } = dims;
    if (bias != null && (bias.dtype !== 'float32' || bias.shape.length > 1 || bias.shape.reduce((p, d) => p * d, 1) !== N)) return original(args);
    const single = dims.batch === 1 && !transposeA && !transposeB;
    if (M === 0 || N === 0 || K === 0 || (single && M * N * K < MIN_GEMM_WORK)) return original(args);
    return runProduct(engine, asWasmBackend('_FusedMatMul', args.backend), a, b, bias ?? null, dims);
  };
}
