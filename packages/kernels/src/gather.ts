import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, WasmBackend } from './wasmBackend.js';

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo | TensorInfo[];

/**
 * A `GatherV2` kernel that copies whole slices between heap views. tfjs-backend-wasm 4.22's
 * C++ gather computes every element's index separately: gathering 32,768 rows of 384 floats
 * takes ~430 ms (similarityDistributions' pair sampling does 62 of those per 10^6 pairs); here
 * it is a row copy each. Same index validation and output shape as tfjs'; string tensors use
 * `original`.
 */
export function makeGatherV2(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs;
    if (x.dtype === 'string') return original(args);
    const backend = args.backend as WasmBackend;
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
    const batchDims = (args.attrs?.batchDims as number | undefined) ?? 0;
    const idx = backend.typedArrayFromHeap(indices);
    const axisDim = x.shape[axis];
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (!(v >= 0 && v <= axisDim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${axisDim - 1}]`);
    }
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as unknown as tf.Tensor, indices as unknown as tf.Tensor, axis, batchDims);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const perBatch = idx.length / batchSize;
    const out = backend.makeOutput(info.outputShape, x.dtype);
    if (out.shape.reduce((p, d) => p * d, 1) === 0) return out;
    // Views after makeOutput, which may grow the heap.
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const ind = backend.typedArrayFromHeap(indices);
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let r = 0; r < outerSize; r++) {
        const base = (b * outerSize + r) * dimSize;
        for (let j = 0; j < perBatch; j++) {
          const s = (base + ind[b * perBatch + j]) * sliceSize;
          if (sliceSize >= 16) dst.set(src.subarray(s, s + sliceSize), o);
          else for (let k = 0; k < sliceSize; k++) dst[o + k] = src[s + k];
          o += sliceSize;
        }
      }
    }
    return out;
  };
}
