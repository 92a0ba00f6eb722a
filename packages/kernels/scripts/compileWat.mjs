// wat → wasm bytes with wabt (SIMD, threads and relaxed SIMD on); shared by build-wasm.mjs and the staleness tests.
import wabtInit from 'wabt';

/** @param {string} source @param {string} [name] @returns {Promise<Uint8Array>} */
export async function compileWat(source, name = 'module.wat') {
  const wabt = await wabtInit();
  const features = { simd: true, threads: true, relaxed_simd: true };
  const mod = wabt.parseWat(name, source, features);
  try {
    mod.validate(features);
    return Uint8Array.from(mod.toBinary({ write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}
