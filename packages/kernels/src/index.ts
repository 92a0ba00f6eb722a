/**
 * `@mmc/kernels`: optional faster kernels for TensorFlow.js' wasm backend. `registerWasmKernels()`
 * swaps five of tfjs-backend-wasm's kernels for ones that avoid its slow paths (batched and
 * transposed matMul, element-wise gather, copying Identity and Slice); everything else, and every other backend, is
 * left as it is.
 */
export { registerWasmKernels, unregisterWasmKernels, WASM_KERNELS } from './registerWasmKernels.js';
