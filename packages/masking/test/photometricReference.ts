/**
 * Float64 per-pixel references for the photometric augmentation tests (colorJitter, grayscale,
 * solarize, gaussianBlur), written from the definitions (PIL / torchvision / Python `colorsys`),
 * independently of the tensor code under test. Images are flat NHWC Float64Arrays. Test-only.
 */
import { createRng } from '@mmc/core';

/** Seeded uniform [0, 1) values that are exactly representable in float32. */
export function rand01(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rng.next());
  return out;
}

export const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/** ITU-R 601-2 luma (PIL `convert('L')` without the uint8 rounding). */
export const lumaOf = (r: number, g: number, b: number): number => (299 * r + 587 * g + 114 * b) / 1000;

/** Python `colorsys.rgb_to_hsv` semantics. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const v = maxc;
  if (minc === maxc) return [0, 0, v];
  const s = (maxc - minc) / maxc;
  const rc = (maxc - r) / (maxc - minc);
  const gc = (maxc - g) / (maxc - minc);
  const bc = (maxc - b) / (maxc - minc);
  let h: number;
  if (r === maxc) h = bc - gc;
  else if (g === maxc) h = 2 + rc - bc;
  else h = 4 + gc - rc;
  h = (((h / 6) % 1) + 1) % 1;
  return [h, s, v];
}

/** Python `colorsys.hsv_to_rgb` semantics (sextant cases). */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  if (s === 0) return [v, v, v];
  let i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  i = ((i % 6) + 6) % 6;
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

export interface JitterParamsRef {
  order: string[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** One image [H, W, C] (C = 3 or 1) through the adjustments in `p.order`, clamping after each. */
export function refJitter(img: Float64Array, H: number, W: number, C: number, p: JitterParamsRef): Float64Array {
  const x = Float64Array.from(img);
  const n = H * W;
  const lumaAt = (i: number) => (C === 1 ? x[i] : lumaOf(x[i * 3], x[i * 3 + 1], x[i * 3 + 2]));
  for (const op of p.order) {
    if (op === 'brightness') {
      for (let i = 0; i < x.length; i++) x[i] = clamp01(p.brightness * x[i]);
    } else if (op === 'contrast') {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += lumaAt(i);
      mean /= n;
      for (let i = 0; i < x.length; i++) x[i] = clamp01(p.contrast * x[i] + (1 - p.contrast) * mean);
    } else if (op === 'saturation') {
      if (C === 1) continue;
      for (let i = 0; i < n; i++) {
        const l = lumaAt(i);
        for (let c = 0; c < 3; c++) x[i * 3 + c] = clamp01(p.saturation * x[i * 3 + c] + (1 - p.saturation) * l);
      }
    } else if (op === 'hue') {
      if (C === 1) continue;
      for (let i = 0; i < n; i++) {
        const [h, s, v] = rgbToHsv(x[i * 3], x[i * 3 + 1], x[i * 3 + 2]);
        const rgb = hsvToRgb((((h + p.hue) % 1) + 1) % 1, s, v);
        for (let c = 0; c < 3; c++) x[i * 3 + c] = clamp01(rgb[c]);
      }
    } else {
      throw new Error(`unknown op ${op}`);
    }
  }
  return x;
}

/**
 * Naive 2-D convolution of one image [H, W, C] with the (2r+1)² Gaussian
 * exp(−(dy² + dx²)/(2σ²)) / Σ, pixels outside the image taken from the nearest edge pixel.
 */
export function refBlur(img: Float64Array, H: number, W: number, C: number, sigma: number, r: number): Float64Array {
  const w: number[][] = [];
  let sum = 0;
  for (let dy = -r; dy <= r; dy++) {
    const row: number[] = [];
    for (let dx = -r; dx <= r; dx++) {
      const v = Math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma));
      row.push(v);
      sum += v;
    }
    w.push(row);
  }
  const out = new Float64Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = Math.min(H - 1, Math.max(0, y + dy));
            const xx = Math.min(W - 1, Math.max(0, x + dx));
            acc += (w[dy + r][dx + r] / sum) * img[(yy * W + xx) * C + c];
          }
        }
        out[(y * W + x) * C + c] = acc;
      }
    }
  }
  return out;
}
