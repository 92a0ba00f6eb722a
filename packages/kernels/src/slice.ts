import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, WasmBackend } from './wasmBackend.js';

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo | TensorInfo[];

/** Runs shorter than this many elements are copied in a loop rather than by `TypedArray.set`. */
const SHORT_RUN = 16;

/** Copies the box `begin`/`size` of `x` into a new tensor, reading the heap in place (runs of the last axis). */
function sliceCopy(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // Views are taken after makeOutput, which may grow the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  const total = dst.length;
  if (total === 0) return out;
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const off = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(off, off + total));
    return out;
  }
  const run = size[rank - 1];
  // Short runs (a channel split of images) element by element: a subarray + set costs ≈ 60 ns.
  const short = run < SHORT_RUN;
  const idx = new Array(rank - 1).fill(0); // odometer over the leading axes of the box
  for (let o = 0; o < total; o += run) {
    let off = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (begin[d] + idx[d]) * strides[d];
    if (short) for (let j = 0; j < run; j++) dst[o + j] = src[off + j];
    else dst.set(src.subarray(off, off + run), o);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * A `Slice` kernel that copies straight from the wasm heap. tfjs-backend-wasm 4.22 first copies
 * the whole input out of the heap (`readSync`) for every slice, so slicing a column block off a
 * [4160, 576] activation costs ~40 ms instead of ~1 ms. String tensors use `original`.
 */
export function makeSlice(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs?.begin as number[], args.attrs?.size as number[]);
    return sliceCopy(args.backend as WasmBackend, x, begin, size);
  };
}

/** A `SplitV` kernel made of {@link makeSlice}'s copies (tfjs-backend-wasm's calls its own slow slice). */
export function makeSplitV(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs?.numOrSizeSplits as number | number[], axis);
    const begin = new Array(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = sliceCopy(args.backend as WasmBackend, x, [...begin], size);
      begin[axis] += s;
      return part;
    });
  };
}
