/**
 * `@mmc/kernels`: optional faster kernels for TensorFlow.js' wasm backend. `registerWasmKernels()`
 * swaps nine of tfjs-backend-wasm's kernels for ones that avoid its slow paths (batched and
 * transposed matMul, element-wise gather, copying Identity and Slice, scalar exp and erf,
 * transposing reductions) and adds fused GELU kernels for @mmc/models' blocks; everything
 * else, and every other backend, is left as it is.
 */
export { registerWasmKernels, unregisterWasmKernels, WASM_FUSED_KERNELS, WASM_KERNELS } from './registerWasmKernels.js';
