// @mmc/kernels: the register-tiled product module: the dot-product top-k (dotTopK.wat.mjs, the
// `MmcDotTopK` kernel) and the GEMM (gemm.wat.mjs, BatchMatMul and _FusedMatMul) in one module on
// one imported shared memory, so that one set of worker threads (src/tiledEngine.ts) runs either.
// Built in two variants by scripts/build-wasm.mjs into src/matmulWasm.ts.
import { dotTopKFuncs } from './dotTopK.wat.mjs';
import { gemmFuncs } from './gemm.wat.mjs';

/** @param {{ relaxed: boolean }} options @returns {string} the module's WebAssembly text */
export function matmulWat(options) {
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
${dotTopKFuncs(options)}
${gemmFuncs(options)})
`;
}
