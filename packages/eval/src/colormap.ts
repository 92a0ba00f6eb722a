import { ValueError } from '@mmc/core';

/** Colormaps of the similarity-map reports. */
export type ColormapName = 'viridis' | 'jet' | 'gray';

export const COLORMAPS: readonly ColormapName[] = ['viridis', 'jet', 'gray'];

/** matplotlib viridis at t = 0, 0.1, …, 1 (interpolated linearly in between). */
const VIRIDIS = [
  0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
];

/** matplotlib `jet` segment data: (x, value) knots per channel. */
const JET: Record<'r' | 'g' | 'b', [number, number][]> = {
  r: [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  g: [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  b: [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
};

function piecewise(knots: [number, number][], t: number): number {
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i];
    if (t <= x1) {
      const [x0, y0] = knots[i - 1];
      return x1 === x0 ? y1 : y0 + ((t - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return knots[knots.length - 1][1];
}

/**
 * The colour of `t` ∈ [0, 1] (clamped; NaN gives black) in a colormap, as 0…255 integers:
 * `'viridis'` (matplotlib's, linear between its values at tenths, default), `'jet'`
 * (matplotlib's segment data) or `'gray'`.
 *
 * @example
 * ```ts
 * colormap(0, 'viridis'); // [68, 1, 84]
 * colormap(1, 'gray');    // [255, 255, 255]
 * ```
 */
export function colormap(t: number, name: ColormapName = 'viridis'): [number, number, number] {
  if (!COLORMAPS.includes(name)) {
    throw new ValueError(`colormap: name must be one of ${COLORMAPS.map((c) => `'${c}'`).join(', ')}, got ${String(name)}`);
  }
  if (Number.isNaN(t)) return [0, 0, 0];
  const x = Math.min(1, Math.max(0, t));
  if (name === 'gray') {
    const v = Math.round(x * 255);
    return [v, v, v];
  }
  if (name === 'jet') {
    return [Math.round(piecewise(JET.r, x) * 255), Math.round(piecewise(JET.g, x) * 255), Math.round(piecewise(JET.b, x) * 255)];
  }
  const pos = x * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  const ch = (shift: number) => Math.round(((a >> shift) & 255) * (1 - f) + ((b >> shift) & 255) * f);
  return [ch(16), ch(8), ch(0)];
}
