/** wat → wasm bytes with wabt (SIMD on). */
export function compileElementwiseWat(source: string): Promise<Uint8Array>;
