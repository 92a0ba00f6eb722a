import type { Rng } from '@mmc/core';

/** An RGB colour with channels in [0, 1]. */
export type Rgb = [number, number, number];

/**
 * The object palette shared by every class of `scenes` (and the tints of `fashionScenes`).
 * Colours are drawn from it independently of the class, so colour alone does not identify a
 * class: the texture and the shape do.
 */
export const PALETTE: readonly Rgb[] = [
  [0.86, 0.16, 0.15], // red
  [0.96, 0.56, 0.1], // orange
  [0.95, 0.86, 0.2], // yellow
  [0.22, 0.68, 0.25], // green
  [0.1, 0.64, 0.64], // teal
  [0.16, 0.36, 0.86], // blue
  [0.56, 0.26, 0.76], // purple
  [0.95, 0.46, 0.7], // pink
  [0.52, 0.32, 0.16], // brown
  [0.93, 0.93, 0.9], // white
  [0.13, 0.13, 0.16], // near black
];

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** `c` with each channel scaled by `s` and clamped to [0, 1]. */
export function scaleColor(c: Rgb, s: number): Rgb {
  return [clamp01(c[0] * s), clamp01(c[1] * s), clamp01(c[2] * s)];
}

/** A palette colour (index `< limit`) with a random brightness jitter of ±12 %. */
export function samplePaletteColor(rng: Rng, limit = PALETTE.length): Rgb {
  const base = PALETTE[rng.int(limit)];
  return scaleColor(base, 0.88 + 0.24 * rng.next());
}

/**
 * The two colours of a textured object, independent of its class: a palette colour, and with
 * probability ½ a second palette colour, else a darker (×0.3–0.55) or lighter (towards white)
 * shade of the first. Both get a brightness jitter. Always draws the same number of values.
 */
export function sampleObjectColors(rng: Rng): [Rgb, Rgb] {
  const i = rng.int(PALETTE.length);
  const j = (i + 1 + rng.int(PALETTE.length - 1)) % PALETTE.length; // ≠ i
  const mode = rng.next();
  const shade = rng.next();
  const jitterA = 0.88 + 0.24 * rng.next();
  const jitterB = 0.88 + 0.24 * rng.next();
  const a = scaleColor(PALETTE[i], jitterA);
  let b: Rgb;
  if (mode < 0.5) {
    b = scaleColor(PALETTE[j], jitterB);
  } else if (mode < 0.75) {
    b = scaleColor(a, 0.3 + 0.25 * shade);
  } else {
    const w = 0.45 + 0.3 * shade;
    b = [a[0] + (1 - a[0]) * w, a[1] + (1 - a[1]) * w, a[2] + (1 - a[2]) * w];
  }
  return [a, b];
}
