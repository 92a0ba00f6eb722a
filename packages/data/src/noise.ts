/**
 * Deterministic noise primitives of the scene generators: a counter-based 32-bit integer hash
 * (per-pixel noise and the speckle texture, with no state to advance) and the lattice coordinates of
 * smooth value noise (the low-frequency part of the backgrounds). Their seeds come from `createRng(seed)`
 * (`@mmc/core`), so every random choice still flows from the user's seed.
 */

/**
 * Integer hash of `(seed, a, b)` to an unsigned 32-bit value (a murmur3-style finaliser over a
 * combined key). Pure integer arithmetic: identical on every platform.
 */
export function hash3(seed: number, a: number, b: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (a + 0x7f4a7c15), 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h ^ (b + 0x165667b1), 0x27d4eb2f);
  h ^= h >>> 13;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform value in [0, 1) from `hash3(seed, a, b)`. */
export function hashUnit(seed: number, a: number, b: number): number {
  return hash3(seed, a, b) / 4294967296;
}

/** 3·t² − 2·t³, the C¹ interpolation weight of value noise. */
export function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/**
 * Fills `out` (length `size`) with the smooth interpolation coordinates of `size` pixel centres
 * over a lattice of `cells` cells: `out[i] = cell index + smoothstep(fraction)`. Computed once per
 * row/column so that value noise costs a few multiply-adds per pixel.
 */
export function latticeCoords(size: number, cells: number, out: Float64Array): void {
  for (let i = 0; i < size; i++) {
    const u = ((i + 0.5) / size) * cells;
    let c = Math.floor(u);
    if (c >= cells) c = cells - 1;
    out[i] = c + smoothstep(u - c);
  }
}

/**
 * A safe-integer seed for item `index` of a dataset generated from `seed`, so that each item has
 * its own `createRng` stream: item i is the same whatever `count` is (a dataset of 100 is the
 * first 100 items of a dataset of 10,000 with the same seed).
 */
export function deriveSeed(seed: number, index: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const a = hash3(lo, index, hi);
  const b = hash3(hi ^ 0x5bd1e995, index, lo) & 0x1fffff;
  return b * 4294967296 + a;
}
