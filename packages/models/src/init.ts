import { createRng, type Rng } from '@mmc/core';

/**
 * Host-side weight initialisation. Every random weight comes from a seeded @mmc/core generator
 * in plain JavaScript, so a seed gives bit-identical weights on every tfjs backend.
 *
 * Each variable draws from its own stream, derived from the module seed and the variable's name
 * (`variableRng`), so weights do not depend on creation order: a depth-6 and a depth-12 ViT with
 * the same seed share blocks 0–5, and adding a variable never shifts the others.
 */

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The generator for variable `name` of a module seeded with `seed`: the state of `createRng(seed)`
 * XOR the state of `createRng(fnv1a32(name))`, word by word.
 *
 * @example
 * ```ts
 * const w = truncNormal(variableRng(0, 'blocks.0.attn.qkv.weight'), 32 * 96, 0.02);
 * ```
 */
export function variableRng(seed: number, name: string): Rng {
  const base = createRng(seed).getState();
  const salt = createRng(fnv1a32(name)).getState();
  const state: number[] = base.map((w, i) => (w ^ salt[i]) >>> 0);
  if (!state.some((w) => w !== 0)) state[0] = 1;
  const rng = createRng(0);
  rng.setState(state);
  return rng;
}

/**
 * `n` samples of N(0, std²) truncated to [a, b] by rejection, timm's `trunc_normal_(t, std, a=-2,
 * b=2)`. As in timm, the bounds are absolute values, not multiples of std: at std 0.02 they never
 * bind, so this is a plain normal (timm's behaviour, kept on purpose).
 */
export function truncNormal(rng: Rng, n: number, std: number, a = -2, b = 2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do {
      v = rng.normal() * std;
    } while (v < a || v > b);
    out[i] = v;
  }
  return out;
}

/**
 * `n = fanIn · fanOut` samples of U(−l, l), l = √(6 / (fanIn + fanOut)) (Glorot / torch
 * `xavier_uniform_`), MAE's init of the patch-embedding weight viewed as a [D, p·p·C] matrix.
 */
export function xavierUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.next() - 1) * limit;
  return out;
}
