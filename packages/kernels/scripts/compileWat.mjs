// wat → wasm bytes with wabt (SIMD on); shared by build-wasm.mjs and the staleness test.
import wabtInit from 'wabt';

/** @param {string} source @returns {Promise<Uint8Array>} */
export async function compileElementwiseWat(source) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('elementwise.wat', source, { simd: true });
  try {
    mod.validate();
    return Uint8Array.from(mod.toBinary({ write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}
