/**
 * Decoding of 16-bit floats stored in files (PyTorch fp16/bf16 checkpoints, numpy `<f2`) to
 * float32, which represents every float16 and bfloat16 value exactly (subnormals, ±0, ±Inf;
 * NaN payloads are kept). Internal to the readers.
 */

/** IEEE 754 binary16 bit patterns → float32 values (exact). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      // Zero or subnormal: mant · 2^−24, exact in float32.
      out[i] = (sign ? -mant : mant) * 5.960464477539063e-8;
      if (mant === 0) outBits[i] = sign;
    } else if (exp === 31) {
      outBits[i] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else {
      outBits[i] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  return out;
}

/** bfloat16 bit patterns (the top half of a float32) → float32 values (exact). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}
