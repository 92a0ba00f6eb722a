import type { TensorInfo, WasmBackend } from './wasmBackend.js';

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: unknown }) => TensorInfo | TensorInfo[];

/**
 * An `Identity` kernel that shares the input's memory (reference counted) instead of copying it,
 * as tfjs' cpu backend does. tfjs calls Identity for `tf.clone` and for every tensor a gradient
 * saves while a tape records, so on wasm a training step copies most of its activations once more;
 * tensors are immutable (a Variable's `assign` swaps its memory), so sharing is safe.
 *
 * @param original tfjs-backend-wasm's Identity (used for string tensors)
 */
export function makeIdentity(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
