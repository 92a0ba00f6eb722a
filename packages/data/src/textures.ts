import type { Rng } from '@mmc/core';
import { hashUnit } from './noise.js';

/**
 * Texture families of the procedural scenes. A texture maps an object-local point, in pixels
 * (rotated with the object, not scaled with it, so the pattern keeps a visible period on small
 * and large objects alike), to a mix weight t ∈ [0, 1] between the object's two colours:
 * `colour = colors[0]·(1 − t) + colors[1]·t`. Periods and phases vary per instance.
 */
export const TEXTURE_NAMES = ['stripes', 'checker', 'dots', 'noise', 'waves', 'grid', 'zigzag', 'concentric'] as const;

/** A texture family name. */
export type TextureName = (typeof TEXTURE_NAMES)[number];

const TAU = 2 * Math.PI;
const frac = (v: number) => v - Math.floor(v);

/**
 * Per-instance parameters of texture `kind` (index into `TEXTURE_NAMES`) as 6 numbers:
 * p[0] = period in pixels, p[1], p[2] = phases, p[3] = a second period, p[4] = amplitude,
 * p[5] = an integer hash seed. Always draws 6 values, whatever the kind.
 *
 * Periods: stripes 5–8 px (hard bands); checker 4–7 px cells; dots 5–8 px lattice with dots of
 * radius 0.3·period; noise 2 px blotches of uniform random weight (high frequency, full contrast:
 * unlike the smooth low-frequency background); waves 6–10 px smooth sinusoidal bands bent by a
 * 10–16 px sine; grid 5–8 px lines 1.4 px wide; zigzag 6–9 px chevrons; concentric 4–7 px rings
 * around the object's centre.
 */
export function sampleTextureParams(kind: number, rng: Rng): Float64Array {
  const a = rng.next();
  const b = rng.next();
  const c = rng.next();
  const d = rng.next();
  const e = rng.next();
  const seed = rng.int(4294967296);
  const p = new Float64Array(6);
  p[1] = b;
  p[2] = c;
  p[5] = seed;
  switch (kind) {
    case 0:
    case 2:
    case 5:
      p[0] = 5 + 3 * a;
      break;
    case 1:
    case 7:
      p[0] = 4 + 3 * a;
      break;
    case 3:
      p[0] = 2;
      break;
    case 4:
      p[0] = 6 + 4 * a;
      p[3] = 10 + 6 * d;
      p[4] = 0.2 + 0.15 * e;
      break;
    case 6:
      p[0] = 6 + 3 * a;
      p[3] = 5 + 3 * d;
      p[4] = 0.8 + 0.6 * e;
      break;
    default:
      break;
  }
  return p;
}

/** Mix weight t ∈ [0, 1] of texture `kind` at the object-local pixel offset `(u, v)`. */
export function textureValue(kind: number, u: number, v: number, p: Float64Array): number {
  switch (kind) {
    case 0: // stripes
      return frac(u / p[0] + p[1]) < 0.5 ? 0 : 1;
    case 1: // checker
      return (Math.floor(u / p[0] + p[1]) + Math.floor(v / p[0] + p[2])) & 1 ? 1 : 0;
    case 2: {
      // dots
      const dx = frac(u / p[0] + p[1]) - 0.5;
      const dy = frac(v / p[0] + p[2]) - 0.5;
      return dx * dx + dy * dy < 0.09 ? 1 : 0;
    }
    case 3: // noise: 2-px blotches of random weight
      return hashUnit(p[5], Math.floor(u / p[0] + 4096), Math.floor(v / p[0] + 4096));
    case 4: // waves
      return 0.5 + 0.5 * Math.sin(TAU * (u / p[0] + p[1] + p[4] * Math.sin(TAU * (v / p[3] + p[2]))));
    case 5: {
      // grid
      const w = 1.4 / p[0];
      return frac(u / p[0] + p[1]) < w || frac(v / p[0] + p[2]) < w ? 1 : 0;
    }
    case 6: {
      // zigzag: bands across v, displaced by a triangle wave along u
      const tri = Math.abs(2 * frac(u / p[3] + p[1]) - 1);
      return frac((v + p[4] * p[0] * tri) / p[0] + p[2]) < 0.5 ? 0 : 1;
    }
    case 7: // concentric rings
      return frac(Math.sqrt(u * u + v * v) / p[0] + p[1]) < 0.5 ? 0 : 1;
    default:
      return 0;
  }
}
