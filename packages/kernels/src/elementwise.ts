import { BackendError, FUSED_KERNELS } from '@mmc/core';
import { ELEMENTWISE_WASM_BASE64 } from './elementwiseWasm.js';
import type { TensorInfo, WasmBackend } from './wasmBackend.js';

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo | TensorInfo[];

/** The functions of wasm/elementwise.wat (exp/erf: in place over `n` floats, a multiple of 4, at byte `p`). */
export interface ElementwiseModule {
  exp: (p: number, n: number) => void;
  erf: (p: number, n: number) => void;
  colsum: (acc: number, x: number, rows: number, cols: number) => void;
  gelu_fwd: (u: number, cdf: number, g: number, n: number) => void;
  gelu_bwd: (dy: number, u: number, cdf: number, n: number) => void;
  /** The module's own memory (1 MiB) as floats. */
  floats: Float32Array;
}

/** Floats per call and per region (64 KiB; regions 0, 1, 2 start at floats 0, CHUNK, 2·CHUNK). */
const CHUNK = 16384;
/** Column sums: accumulators at float ACC (up to MAX_COLS), row blocks of up to BLOCK floats at float DATA. */
const ACC = 16384;
const MAX_COLS = 65536;
const DATA = ACC + MAX_COLS;
const BLOCK = 65536;

let compiled: ElementwiseModule | null | undefined;

/**
 * The element-wise wasm SIMD module, instantiated once (synchronously: it is about 1 KB), or null
 * where the engine has no wasm SIMD (then the kernels keep tfjs' own).
 */
export function elementwiseModule(): ElementwiseModule | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = Uint8Array.from(atob(ELEMENTWISE_WASM_BASE64), (c) => c.charCodeAt(0));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const e = exports as unknown as Omit<ElementwiseModule, 'floats'> & { memory: WebAssembly.Memory };
    compiled = { exp: e.exp, erf: e.erf, colsum: e.colsum, gelu_fwd: e.gelu_fwd, gelu_bwd: e.gelu_bwd, floats: new Float32Array(e.memory.buffer) };
  } catch {
    compiled = null;
  }
  return compiled;
}

/**
 * Runs a function of {@link elementwiseModule} over `inputs` (equal lengths) a chunk at a time:
 * input j goes to region j (CHUNK floats each), `run(n)` computes on the first n floats of each
 * region (n rounded up to a multiple of 4: the padding lanes hold stale values, computed and
 * dropped), and output i is read from region `outRegions[i]`.
 */
function applyChunked(m: ElementwiseModule, inputs: Float32Array[], outputs: Float32Array[], outRegions: number[], run: (n: number) => void): void {
  const total = inputs[0].length;
  for (let o = 0; o < total; o += CHUNK) {
    const len = Math.min(CHUNK, total - o);
    inputs.forEach((x, j) => m.floats.set(x.subarray(o, o + len), j * CHUNK));
    run((len + 3) & ~3);
    outputs.forEach((y, i) => y.set(m.floats.subarray(outRegions[i] * CHUNK, outRegions[i] * CHUNK + len), o));
  }
}

/**
 * Applies `fn` of {@link elementwiseModule} to `src` into `dst` (same length), a chunk at a time:
 * copy in, compute in place, copy out. The copies cost ≈ 0.3 ns per element.
 */
export function applyElementwise(m: ElementwiseModule, fn: 'exp' | 'erf', src: Float32Array, dst: Float32Array): void {
  applyChunked(m, [src], [dst], [0], (n) => m[fn](0, n));
}

/**
 * A unary float32 kernel (`Exp` or `Erf`) on wasm SIMD polynomials: ≈ 4–5 ns per element with
 * the copies, against tfjs-backend-wasm's scalar `std::exp`/`erf` loops (≈ 11–20 ns here).
 * Accuracy, measured against float64 over [−6, 6] and [−104, 89] in
 * test/elementwise.once.test.ts: erf within 5e-7 absolute (tfjs' own wasm erf: ≈ 5e-8, @mmc/models'
 * gelu test; either is far below a Linear layer's float32 rounding), exp within 1 ulp relative,
 * with exp's overflow to ∞, gradual underflow to 0 and NaN as `expf`.
 * Other dtypes, and engines without wasm SIMD, use `original`.
 *
 * @param original tfjs-backend-wasm's own kernel function (the fallback)
 */
export function makeUnarySimd(fn: 'exp' | 'erf', original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    const m = x.dtype === 'float32' ? elementwiseModule() : null;
    if (m == null) return original(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(x.shape, 'float32');
    // Views are taken after makeOutput, which may grow the heap.
    applyElementwise(m, fn, backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array);
    return out;
  };
}

/**
 * Column sums of a `[rows, cols]` row-major block into `dst` (`cols` floats), each column summed in
 * row order in float32, as tfjs' own Sum. `cols` must be a multiple of 4 and at most 65,536.
 */
export function columnSums(m: ElementwiseModule, src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  const acc = m.floats.subarray(ACC, ACC + cols);
  acc.fill(0);
  const step = Math.max(1, Math.floor(BLOCK / cols));
  for (let r = 0; r < rows; r += step) {
    const n = Math.min(step, rows - r);
    m.floats.set(src.subarray(r * cols, (r + n) * cols), DATA);
    m.colsum(ACC * 4, DATA * 4, n, cols);
  }
  dst.set(acc);
}

/**
 * A `Sum` or `Mean` kernel for reductions over the *leading* axes of a float32 tensor (the bias and
 * LayerNorm gradients' `sum(dy, 0)`, BatchNorm's batch mean): wasm SIMD column sums read in
 * place, where tfjs-backend-wasm first transposes the reduced axes to the end (a full copy) and
 * then reduces. Other axes, dtypes, inner sizes that are not a multiple of 4 or above 65,536
 * use `original`.
 *
 * @param original tfjs-backend-wasm's own kernel function (the fallback)
 */
export function makeLeadingReduce(kind: 'sum' | 'mean', original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    const rank = x.shape.length;
    const raw = args.attrs?.axis as number | number[] | undefined;
    const axes = raw == null ? [] : (Array.isArray(raw) ? raw : [raw]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    const k = axes.length;
    const leading = k > 0 && k < rank && axes.every((a, i) => a === i);
    const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
    const cols = x.shape.slice(k).reduce((p, d) => p * d, 1);
    const m = leading && x.dtype === 'float32' && cols % 4 === 0 && cols <= MAX_COLS && rows > 0 ? elementwiseModule() : null;
    if (m == null) return original(args);
    const backend = args.backend as WasmBackend;
    const shape = args.attrs?.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    const out = backend.makeOutput(shape, 'float32');
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    columnSums(m, backend.typedArrayFromHeap(x) as Float32Array, rows, cols, dst);
    if (kind === 'mean') for (let c = 0; c < cols; c++) dst[c] /= rows;
    return out;
  };
}

const assertFloat32 = (kernel: string, xs: TensorInfo[]) => {
  for (const x of xs) {
    if (x.dtype !== 'float32') throw new BackendError(`${kernel}: float32 inputs only, got ${x.dtype}`, '@tensorflow/tfjs-backend-wasm');
  }
};

/**
 * The `FUSED_KERNELS.geluForward` kernel (`@mmc/core`): `{ x }` → `[Φ(x), x·Φ(x)]` in one pass on
 * wasm SIMD (tfjs ops take five passes and a scalar erf). Φ's erf as {@link makeUnarySimd}'s.
 * Registered only where {@link elementwiseModule} exists (elsewhere the blocks use tfjs ops).
 */
export const geluForwardKernel: KernelFunc = (args) => {
  const { x } = args.inputs;
  assertFloat32(FUSED_KERNELS.geluForward, [x]);
  const m = elementwiseModule() as ElementwiseModule; // registered only where it exists
  const backend = args.backend as WasmBackend;
  const cdf = backend.makeOutput(x.shape, 'float32');
  const g = backend.makeOutput(x.shape, 'float32');
  const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array; // after the allocations
  applyChunked(m, [view(x)], [view(cdf), view(g)], [1, 2], (n) => m.gelu_fwd(0, CHUNK * 4, 2 * CHUNK * 4, n));
  return [cdf, g];
};

/**
 * The `FUSED_KERNELS.geluBackward` kernel (`@mmc/core`): `{ dy, x, cdf }` → `dy·(Φ(x) + x·φ(x))`
 * in one pass on wasm SIMD (tfjs ops take seven passes and a scalar exp). φ's exp as
 * {@link makeUnarySimd}'s.
 */
export const geluBackwardKernel: KernelFunc = (args) => {
  const { dy, x, cdf } = args.inputs;
  assertFloat32(FUSED_KERNELS.geluBackward, [dy, x, cdf]);
  const size = x.shape.reduce((p, d) => p * d, 1);
  for (const [name, t] of [['dy', dy], ['cdf', cdf]] as const) {
    if (t.shape.reduce((p, d) => p * d, 1) !== size) {
      throw new BackendError(`${FUSED_KERNELS.geluBackward}: ${name} must have the shape of x [${x.shape}], got [${t.shape}]`, '@tensorflow/tfjs-backend-wasm');
    }
  }
  const m = elementwiseModule() as ElementwiseModule; // registered only where it exists
  const backend = args.backend as WasmBackend;
  const du = backend.makeOutput(x.shape, 'float32');
  const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  applyChunked(m, [view(dy), view(x), view(cdf)], [view(du)], [0], (n) => m.gelu_bwd(0, CHUNK * 4, 2 * CHUNK * 4, n));
  return du;
};
