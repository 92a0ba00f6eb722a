/**
 * `@mmc/kernels`: optional faster kernels for TensorFlow.js' wasm backend. `registerWasmKernels()`
 * swaps ten of tfjs-backend-wasm's kernels for ones that avoid its slow paths (matMul on our own
 * register-tiled SIMD GEMM, element-wise gather, copying Identity and Slice, scalar exp and erf,
 * transposing reductions) and adds fused GELU kernels for @mmc/models' blocks and a fused
 * product + top-k for the k-NN; everything else, and every other backend, is left as it is.
 */
export { registerWasmKernels, unregisterWasmKernels, WASM_FUSED_KERNELS, WASM_KERNELS } from './registerWasmKernels.js';
