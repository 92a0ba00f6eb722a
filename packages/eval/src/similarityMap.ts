import * as tf from '@tensorflow/tfjs';
import { assertInRange, assertInteger, formatShape, ShapeError, ValueError } from '@mmc/core';
import { encode } from 'fast-png';
import { colormap, COLORMAPS, type ColormapName } from './colormap.js';
import { imageDataUrl } from './dataUrl.js';
import { escapeXml } from './escapeXml.js';
import { toHostArray, type NestedNumbers, type NdArrayLike } from './ndarray.js';

/** An RGB(A) image: `[H, W, 3|4]` tensor, `{ data, shape }` or nested array, or `{ data, width, height }` (e.g. a DOM ImageData). */
export type ImageInput =
  | tf.Tensor
  | NdArrayLike
  | NestedNumbers
  | { data: ArrayLike<number>; width: number; height: number; channels?: number };

/** Options of {@link similarityMapPng} and {@link similarityMapSvg}. */
export interface SimilarityMapOptions {
  /** `[h, w]` of the similarity map when it is given as a flat array. */
  shape?: readonly [number, number];
  /** Image under the map, `[H, W, 3]` (or 4 channels, alpha ignored), values in [0, 1] or 0…255. */
  image?: ImageInput;
  /** Scale of the image values (default: 255 for 8-bit arrays and int tensors, else 255 if any value > 1, else 1). */
  imageRange?: 1 | 255;
  /** Binary mask (non-zero = inside) at output resolution or on the `[h, w]` grid. */
  mask?: tf.Tensor | NdArrayLike | ArrayLike<number> | NestedNumbers;
  /** `'outline'` (default), `'tint'` or `'both'`. */
  maskStyle?: 'outline' | 'tint' | 'both';
  /** Mask colour, 0…255 (default [255, 48, 48]). */
  maskColor?: readonly [number, number, number];
  /** Colormap (default 'viridis'). */
  colormap?: ColormapName;
  /** Values mapped to the two ends of the colormap (default the map's min and max). */
  range?: readonly [number, number];
  /** Opacity of the heat map over the image (default 0.5 with an image, 1 without). */
  alpha?: number;
  /** Upsampling of the map: `'nearest'` (default, shows the patch grid) or `'bilinear'` (half-pixel centres). */
  interpolation?: 'nearest' | 'bilinear';
  /** Output `[H, W]` (default the image's size, else `[h·scale, w·scale]`). */
  outputSize?: readonly [number, number];
  /** Pixels per patch without image or outputSize (default 16). */
  scale?: number;
  /** SVG only: draw a colour bar with the range on the right (default true). */
  colorbar?: boolean;
  /** SVG only: `<title>` text. */
  title?: string;
}

/** Everything both renderers need, at output resolution. */
interface Prepared {
  h: number;
  w: number;
  H: number;
  W: number;
  /** The map normalised to [0, 1] by the range, `[h, w]`. */
  grid: Float64Array;
  lo: number;
  hi: number;
  cmap: ColormapName;
  alpha: number;
  /** `[H, W, 3]` 0…255, or undefined. */
  image?: Uint8Array;
  imageSize?: [number, number];
  /** Mask on its own grid `[mh, mw]`. */
  mask?: { data: Uint8Array; mh: number; mw: number };
  maskStyle: 'outline' | 'tint' | 'both';
  maskColor: [number, number, number];
  interpolation: 'nearest' | 'bilinear';
}

function prepare(fn: string, similarity: unknown, options: SimilarityMapOptions): Prepared {
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${String(options)}`);
  const sim = toHostArray(fn, 'similarity', similarity);
  let h: number;
  let w: number;
  if (sim.shape.length === 2) {
    [h, w] = sim.shape;
    if (options.shape && (options.shape[0] !== h || options.shape[1] !== w)) {
      throw new ShapeError(`${fn}: similarity has shape ${formatShape(sim.shape)} but options.shape is ${formatShape(options.shape)}`);
    }
  } else if (sim.shape.length === 1 && options.shape) {
    [h, w] = options.shape;
    if (h * w !== sim.data.length) throw new ShapeError(`${fn}: similarity must have ${h * w} values for shape ${formatShape(options.shape)}, got ${sim.data.length}`);
  } else {
    throw new ShapeError(`${fn}: similarity must be an [h, w] map (a flat array needs options.shape), got shape ${formatShape(sim.shape)}`);
  }
  if (!(h >= 1 && w >= 1)) throw new ShapeError(`${fn}: similarity must be non-empty, got [${h}, ${w}]`);
  const { maskStyle = 'outline', colormap: cmap = 'viridis', interpolation = 'nearest', scale = 16 } = options;
  if (!COLORMAPS.includes(cmap)) throw new ValueError(`${fn}: colormap must be one of ${COLORMAPS.join(', ')}, got ${String(cmap)}`);
  if (!['outline', 'tint', 'both'].includes(maskStyle)) throw new ValueError(`${fn}: maskStyle must be 'outline', 'tint' or 'both', got ${String(maskStyle)}`);
  if (!['nearest', 'bilinear'].includes(interpolation)) throw new ValueError(`${fn}: interpolation must be 'nearest' or 'bilinear', got ${String(interpolation)}`);
  assertInteger(fn, 'scale', scale, 1);
  const maskColor = (options.maskColor ?? [255, 48, 48]).map((v) => Math.round(Math.min(255, Math.max(0, v)))) as [number, number, number];

  let lo: number;
  let hi: number;
  if (options.range) {
    [lo, hi] = options.range;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new ValueError(`${fn}: range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(options.range)}`);
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < sim.data.length; i++) {
      const v = sim.data[i];
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  }
  const grid = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) grid[i] = hi > lo ? (sim.data[i] - lo) / (hi - lo) : 0.5;

  let image: Uint8Array | undefined;
  let imageSize: [number, number] | undefined;
  if (options.image !== undefined) {
    const img = readImage(fn, options.image, options.imageRange);
    image = img.rgb;
    imageSize = [img.height, img.width];
  }
  const alpha = options.alpha ?? (image ? 0.5 : 1);
  assertInRange(fn, 'alpha', alpha, 0, 1, 'none');
  let H: number;
  let W: number;
  if (options.outputSize) {
    [H, W] = options.outputSize;
    assertInteger(fn, 'outputSize[0]', H, 1);
    assertInteger(fn, 'outputSize[1]', W, 1);
  } else if (imageSize) {
    [H, W] = imageSize;
  } else {
    [H, W] = [h * scale, w * scale];
  }

  let mask: Prepared['mask'];
  if (options.mask !== undefined) {
    const m = toHostArray(fn, 'mask', options.mask);
    let mh: number;
    let mw: number;
    if (m.shape.length === 2) [mh, mw] = m.shape;
    else if (m.data.length === H * W) [mh, mw] = [H, W];
    else if (m.data.length === h * w) [mh, mw] = [h, w];
    else throw new ShapeError(`${fn}: mask must be [${H}, ${W}] (output) or [${h}, ${w}] (grid), got ${formatShape(m.shape)}`);
    if (!((mh === H && mw === W) || (mh === h && mw === w))) {
      throw new ShapeError(`${fn}: mask must be [${H}, ${W}] (output) or [${h}, ${w}] (grid), got [${mh}, ${mw}]`);
    }
    const data = new Uint8Array(mh * mw);
    for (let i = 0; i < data.length; i++) data[i] = m.data[i] ? 1 : 0;
    mask = { data, mh, mw };
  }
  return { h, w, H, W, grid, lo, hi, cmap, alpha, image, imageSize, mask, maskStyle, maskColor, interpolation };
}

function readImage(fn: string, x: ImageInput, range?: 1 | 255): { rgb: Uint8Array; height: number; width: number } {
  let data: ArrayLike<number>;
  let height: number;
  let width: number;
  let channels: number;
  let eightBit = false;
  if (x instanceof tf.Tensor || Array.isArray(x) || (x != null && typeof x === 'object' && 'shape' in x)) {
    const host = toHostArray(fn, 'image', x);
    if (host.shape.length !== 3 || (host.shape[2] !== 3 && host.shape[2] !== 4)) {
      throw new ShapeError(`${fn}: image must have shape [H, W, 3] (or 4 channels), got ${formatShape(host.shape)}`);
    }
    [height, width, channels] = host.shape;
    data = host.data;
    eightBit = x instanceof tf.Tensor && x.dtype === 'int32';
  } else if (x && typeof x === 'object' && 'data' in x && 'width' in x && 'height' in x) {
    ({ data, width, height } = x);
    assertInteger(fn, 'image.width', width, 1);
    assertInteger(fn, 'image.height', height, 1);
    channels = x.channels ?? data.length / (width * height);
    if ((channels !== 3 && channels !== 4) || data.length !== width * height * channels) {
      throw new ShapeError(`${fn}: image.data must hold ${width}×${height}×(3 or 4) values, got ${data.length}`);
    }
    eightBit = data instanceof Uint8Array || data instanceof Uint8ClampedArray;
  } else {
    throw new ShapeError(`${fn}: image must be an [H, W, 3] tensor or nested array, or { data, width, height }, got ${typeof x}`);
  }
  let scale = range;
  if (scale === undefined) {
    if (eightBit) scale = 255;
    else {
      scale = 1;
      for (let i = 0; i < data.length; i++) if (data[i] > 1) scale = 255;
    }
  }
  if (scale !== 1 && scale !== 255) throw new ValueError(`${fn}: imageRange must be 1 or 255, got ${String(scale)}`);
  const rgb = new Uint8Array(height * width * 3);
  for (let p = 0; p < height * width; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (data[p * channels + c] * 255) / scale;
      rgb[p * 3 + c] = Math.round(Math.min(255, Math.max(0, Number.isFinite(v) ? v : 0)));
    }
  }
  return { rgb, height, width };
}

/** The normalised map at output resolution, `[H, W]`. */
function upsample(P: Prepared): Float64Array {
  const { h, w, H, W, grid } = P;
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (P.interpolation === 'nearest') {
        out[y * W + x] = grid[Math.min(h - 1, Math.floor((y * h) / H)) * w + Math.min(w - 1, Math.floor((x * w) / W))];
      } else {
        // Half-pixel centres, edges clamped (PyTorch align_corners=False).
        const sy = Math.max(0, ((y + 0.5) * h) / H - 0.5);
        const sx = Math.max(0, ((x + 0.5) * w) / W - 0.5);
        const y0 = Math.min(h - 1, Math.floor(sy));
        const x0 = Math.min(w - 1, Math.floor(sx));
        const y1 = Math.min(h - 1, y0 + 1);
        const x1 = Math.min(w - 1, x0 + 1);
        const fy = Math.min(1, sy - y0);
        const fx = Math.min(1, sx - x0);
        const top = grid[y0 * w + x0] * (1 - fx) + grid[y0 * w + x1] * fx;
        const bottom = grid[y1 * w + x0] * (1 - fx) + grid[y1 * w + x1] * fx;
        out[y * W + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** Mask value at output pixel (y, x) (nearest sampling of a grid mask). */
function maskAt(P: Prepared, y: number, x: number): number {
  const m = P.mask;
  if (!m) return 0;
  if (y < 0 || x < 0 || y >= P.H || x >= P.W) return 0;
  return m.data[Math.floor((y * m.mh) / P.H) * m.mw + Math.floor((x * m.mw) / P.W)];
}

/** Image pixel under output pixel (y, x), nearest sampling when the sizes differ. */
function imageAt(P: Prepared, y: number, x: number, c: number): number {
  const [ih, iw] = P.imageSize as [number, number];
  const yy = Math.floor((y * ih) / P.H);
  const xx = Math.floor((x * iw) / P.W);
  return (P.image as Uint8Array)[(yy * iw + xx) * 3 + c];
}

const TINT = 0.4;

/**
 * Renders a similarity map (e.g. `promptSegment(...).similarity`, `[h, w]`) in a colormap as a
 * PNG (8-bit RGB, encoded with `fast-png`, pure JavaScript, Node and browsers): optionally over
 * an image (heat map blended with opacity `alpha`) and with a mask drawn as an outline (mask
 * pixels with a 4-neighbour outside the mask or the image), a tint (blended 40 %) or both.
 * The map is upsampled to the output size by nearest sampling (default; each patch a block) or
 * bilinearly with half-pixel centres; values map linearly from `range` (default the map's min
 * and max; a constant map is drawn at the colormap's middle) onto the colormap, clamped.
 *
 * @param similarity `[h, w]` tensor, `{ data, shape }` or nested array (or a flat array with `options.shape`)
 * @param options `{ image?, imageRange?, mask?, maskStyle = 'outline', maskColor, colormap =
 *   'viridis', range?, alpha, interpolation = 'nearest', outputSize?, scale = 16 }`
 * @returns PNG file bytes
 * @example
 * ```ts
 * const { similarity, mask } = promptSegment(patches, { row: 3, col: 5 }, { threshold: 0.3 });
 * const png = similarityMapPng(similarity, { image, mask });  // Uint8Array
 * ```
 */
export function similarityMapPng(similarity: tf.Tensor | NdArrayLike | ArrayLike<number> | NestedNumbers, options: SimilarityMapOptions = {}): Uint8Array {
  const P = prepare('similarityMapPng', similarity, options);
  const { H, W, alpha } = P;
  const up = upsample(P);
  const rgb = new Uint8Array(H * W * 3);
  const tint = P.maskStyle !== 'outline';
  const outline = P.maskStyle !== 'tint';
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const col = colormap(up[i], P.cmap);
      const inside = maskAt(P, y, x) === 1;
      const edge =
        outline && inside && (!maskAt(P, y - 1, x) || !maskAt(P, y + 1, x) || !maskAt(P, y, x - 1) || !maskAt(P, y, x + 1));
      for (let c = 0; c < 3; c++) {
        let v = P.image ? (1 - alpha) * imageAt(P, y, x, c) + alpha * col[c] : alpha * col[c] + (1 - alpha) * 255;
        if (inside && tint) v = (1 - TINT) * v + TINT * P.maskColor[c];
        if (edge) v = P.maskColor[c];
        rgb[i * 3 + c] = Math.round(Math.min(255, Math.max(0, v)));
      }
    }
  }
  return encode({ width: W, height: H, data: rgb, channels: 3, depth: 8 });
}

/**
 * The same picture as {@link similarityMapPng} as an SVG string: the image (if any) embedded as
 * a PNG data URL, the heat map as one `<rect>` per patch (nearest) or an embedded PNG
 * (bilinear), with opacity `alpha`; the mask as vector paths along its pixel edges (outline:
 * stroked; tint: filled, 40 % opacity); and a colour bar labelled with the range (default on).
 * Text is XML-escaped.
 *
 * @param similarity `[h, w]` tensor, `{ data, shape }` or nested array (or a flat array with `options.shape`)
 * @param options as {@link similarityMapPng}, plus `colorbar = true`, `title?`
 * @returns a standalone `<svg>` string
 * @example
 * ```ts
 * const svg = similarityMapSvg(similarity, { mask, range: [-1, 1], title: 'prompt (3, 5)' });
 * ```
 */
export function similarityMapSvg(similarity: tf.Tensor | NdArrayLike | ArrayLike<number> | NestedNumbers, options: SimilarityMapOptions = {}): string {
  const P = prepare('similarityMapSvg', similarity, options);
  const { h, w, H, W, alpha } = P;
  const bar = options.colorbar ?? true;
  const barW = bar ? 64 : 0;
  const n = (v: number) => (Math.round(v * 1000) / 1000).toString();
  const hex = (c: number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W + barW}" height="${H}" viewBox="0 0 ${W + barW} ${H}" font-family="sans-serif" font-size="11">`,
  ];
  if (options.title !== undefined) out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  if (P.image) {
    const [ih, iw] = P.imageSize as [number, number];
    const png = encode({ width: iw, height: ih, data: P.image, channels: 3, depth: 8 });
    out.push(`<image x="0" y="0" width="${W}" height="${H}" preserveAspectRatio="none" href="${imageDataUrl(png)}"/>`);
  }
  if (P.interpolation === 'nearest') {
    out.push(`<g fill-opacity="${n(alpha)}" shape-rendering="crispEdges">`);
    const cw = W / w;
    const chh = H / h;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        // Cell edges on the nearest-sampling boundaries of the PNG renderer.
        const x0 = Math.ceil(j * cw);
        const x1 = Math.ceil((j + 1) * cw);
        const y0 = Math.ceil(i * chh);
        const y1 = Math.ceil((i + 1) * chh);
        out.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="${hex(colormap(P.grid[i * w + j], P.cmap))}"/>`);
      }
    }
    out.push('</g>');
  } else {
    const up = upsample(P);
    const rgb = new Uint8Array(H * W * 3);
    for (let i = 0; i < H * W; i++) rgb.set(colormap(up[i], P.cmap), i * 3);
    const png = encode({ width: W, height: H, data: rgb, channels: 3, depth: 8 });
    out.push(`<image x="0" y="0" width="${W}" height="${H}" opacity="${n(alpha)}" preserveAspectRatio="none" href="${imageDataUrl(png)}"/>`);
  }
  if (P.mask) {
    const { data, mh, mw } = P.mask;
    const sx = W / mw;
    const sy = H / mh;
    const inside = (y: number, x: number) => y >= 0 && x >= 0 && y < mh && x < mw && data[y * mw + x] === 1;
    const colour = hex(P.maskColor);
    if (P.maskStyle !== 'outline') {
      // Filled row runs.
      let d = '';
      for (let y = 0; y < mh; y++) {
        for (let x = 0; x < mw; x++) {
          if (!inside(y, x)) continue;
          let e = x;
          while (e + 1 < mw && inside(y, e + 1)) e++;
          d += `M${n(x * sx)},${n(y * sy)}h${n((e - x + 1) * sx)}v${n(sy)}h${n(-(e - x + 1) * sx)}Z`;
          x = e;
        }
      }
      if (d) out.push(`<path d="${d}" fill="${colour}" fill-opacity="${TINT}" stroke="none"/>`);
    }
    if (P.maskStyle !== 'tint') {
      let d = '';
      for (let y = 0; y < mh; y++) {
        for (let x = 0; x < mw; x++) {
          if (!inside(y, x)) continue;
          if (!inside(y - 1, x)) d += `M${n(x * sx)},${n(y * sy)}h${n(sx)}`;
          if (!inside(y + 1, x)) d += `M${n(x * sx)},${n((y + 1) * sy)}h${n(sx)}`;
          if (!inside(y, x - 1)) d += `M${n(x * sx)},${n(y * sy)}v${n(sy)}`;
          if (!inside(y, x + 1)) d += `M${n((x + 1) * sx)},${n(y * sy)}v${n(sy)}`;
        }
      }
      if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linecap="square"/>`);
    }
  }
  if (bar) {
    const top = 8;
    const bh = Math.max(10, H - 16);
    out.push(`<defs><linearGradient id="mmc-cbar-${P.cmap}" x1="0" y1="1" x2="0" y2="0">`);
    for (let k = 0; k <= 10; k++) out.push(`<stop offset="${k / 10}" stop-color="${hex(colormap(k / 10, P.cmap))}"/>`);
    out.push('</linearGradient></defs>');
    out.push(`<rect x="${W + 8}" y="${top}" width="12" height="${bh}" fill="url(#mmc-cbar-${P.cmap})" stroke="#000000" stroke-width="0.5"/>`);
    out.push(`<text x="${W + 24}" y="${top + 4}" dominant-baseline="middle">${escapeXml(formatValue(P.hi))}</text>`);
    out.push(`<text x="${W + 24}" y="${top + bh - 4}" dominant-baseline="middle">${escapeXml(formatValue(P.lo))}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function formatValue(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : (Math.round(v * 1000) / 1000).toString();
}
