import { assertInteger, ValueError } from '@mmc/core';
import { escapeXml } from './escapeXml.js';

/** Options of {@link histogramSvg}. */
export interface HistogramSvgOptions {
  /** Intra-class histogram (equal bins over `range`), or raw similarities with `samples: true`. */
  intra: ArrayLike<number>;
  /** Inter-class histogram, or raw similarities with `samples: true`. */
  inter: ArrayLike<number>;
  /** `intra`/`inter` are raw values to bin (default false: they are histograms). */
  samples?: boolean;
  /** Bins for raw values (default 100); histograms keep their own length. */
  bins?: number;
  /** Value range of the x axis and of the bins (default [−1, 1], cosine similarity). */
  range?: [number, number];
  title?: string;
  /** Pixel size of the SVG (default 640 × 360). */
  width?: number;
  height?: number;
  /** Legend labels (default 'intra-class (same label)', 'inter-class (different labels)'). */
  labels?: { intra?: string; inter?: string };
  /** x-axis label (default 'cosine similarity'). */
  xLabel?: string;
}

/** Colours of the two distributions and the overlap (colour-blind-safe blue/orange). */
const INTRA = '#1f77b4';
const INTER = '#ff7f0e';
const OVERLAP = '#444444';

/**
 * An SVG plot of the intra-class and inter-class similarity distributions of patch embeddings
 * with their overlap Σ_b min(intra_b, inter_b) hatched and printed (MMC paper, Table 5 and its
 * histogram figure: lower overlap = better separated classes; the values come from
 * `similarityDistributions`). Both histograms are normalised to sum 1 and drawn as filled step
 * curves over the range; raw values are binned with numpy.histogram's convention (equal bins,
 * the right edge in the last bin, values outside the range and NaN dropped). Hand-written SVG,
 * no dependency; every text is XML-escaped.
 *
 * @param options `{ intra, inter, samples = false, bins = 100, range = [−1, 1], title?,
 *   width = 640, height = 360, labels?, xLabel? }`
 * @returns a standalone `<svg>` string (UTF-8, `xmlns` set), with axis ticks, a legend and the
 *   text `overlap = 0.xxx`
 * @example
 * ```ts
 * const d = similarityDistributions(patches, labels);
 * const svg = histogramSvg({ intra: d.intra, inter: d.inter, title: 'MMC ViT-S/16' });
 * ```
 */
export function histogramSvg(options: HistogramSvgOptions): string {
  const fn = 'histogramSvg';
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object { intra, inter, … }, got ${String(options)}`);
  const { samples = false, bins = 100, range = [-1, 1], title, width = 640, height = 360, labels = {}, xLabel = 'cosine similarity' } = options;
  const [lo, hi] = range;
  if (!Array.isArray(range) || !Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new ValueError(`${fn}: range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
  }
  assertInteger(fn, 'width', width, 160);
  assertInteger(fn, 'height', height, 120);
  const check = (arg: string, a: unknown): ArrayLike<number> => {
    if (a == null || typeof (a as ArrayLike<number>).length !== 'number' || typeof a === 'string') {
      throw new ValueError(`${fn}: ${arg} must be an array of numbers, got ${typeof a}`);
    }
    return a as ArrayLike<number>;
  };
  let intra = check('intra', options.intra);
  let inter = check('inter', options.inter);
  if (samples) {
    assertInteger(fn, 'bins', bins, 1);
    intra = binValues(intra, bins, lo, hi);
    inter = binValues(inter, bins, lo, hi);
  } else {
    if (intra.length < 1) throw new ValueError(`${fn}: intra must be a histogram with at least 1 bin, got length 0`);
    if (inter.length !== intra.length) {
      throw new ValueError(`${fn}: inter must have as many bins as intra (${intra.length}), got ${inter.length}`);
    }
    for (const [arg, a] of [['intra', intra], ['inter', inter]] as const) {
      for (let i = 0; i < a.length; i++) {
        if (!(a[i] >= 0) || !Number.isFinite(a[i])) throw new ValueError(`${fn}: ${arg} must hold finite counts >= 0, got ${a[i]} at bin ${i}`);
      }
    }
  }
  const p = normalise(intra);
  const q = normalise(inter);
  const nb = p.length;
  const low = new Float64Array(nb);
  let overlap = 0;
  let yMax = 0;
  for (let i = 0; i < nb; i++) {
    low[i] = Math.min(p[i], q[i]);
    overlap += low[i];
    yMax = Math.max(yMax, p[i], q[i]);
  }
  if (yMax === 0) yMax = 1;

  const m = { left: 60, right: 16, top: title ? 36 : 16, bottom: 48 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const yStep = niceStep(yMax / 5);
  const yTop = Math.ceil((yMax * 1.08) / yStep) * yStep;
  const X = (v: number) => m.left + ((v - lo) / (hi - lo)) * pw;
  const Y = (v: number) => m.top + ph - (v / yTop) * ph;
  const n = (v: number) => (Math.round(v * 100) / 100).toString();
  const step = (h: Float64Array) => {
    let d = `M${n(X(lo))},${n(Y(0))}`;
    for (let i = 0; i < nb; i++) {
      const x0 = lo + ((hi - lo) * i) / nb;
      const x1 = lo + ((hi - lo) * (i + 1)) / nb;
      d += `L${n(X(x0))},${n(Y(h[i]))}L${n(X(x1))},${n(Y(h[i]))}`;
    }
    return `${d}L${n(X(hi))},${n(Y(0))}Z`;
  };

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title ?? 'Similarity distributions')}</title>`,
    `<defs><pattern id="mmc-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<line x1="0" y1="0" x2="0" y2="6" stroke="${OVERLAP}" stroke-width="2"/></pattern></defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (title) out.push(`<text x="${n(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  // Grid and y ticks.
  for (let k = 0; k * yStep <= yTop + yStep / 2; k++) {
    const v = k * yStep;
    const y = n(Y(v));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(v, yStep)}</text>`);
  }
  // x ticks: 5 evenly spaced values over the range ( −1, −0.5, 0, 0.5, 1 by default).
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    const x = n(X(v));
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#000000"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${formatTick(v, (hi - lo) / 4)}</text>`);
  }
  out.push(
    `<path d="${step(p)}" fill="${INTRA}" fill-opacity="0.3" stroke="${INTRA}" stroke-width="1.5"/>`,
    `<path d="${step(q)}" fill="${INTER}" fill-opacity="0.3" stroke="${INTER}" stroke-width="1.5"/>`,
    `<path d="${step(low)}" fill="url(#mmc-hatch)" fill-opacity="0.6" stroke="none"/>`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#000000"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#000000"/>`,
    `<text x="${n(m.left + pw / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${n(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">fraction of pairs</text>`,
  );
  // Legend (top left, where cosine-similarity histograms are usually empty).
  const lx = m.left + 10;
  const ly = m.top + 8;
  const entries: [string, string][] = [
    [`fill="${INTRA}" fill-opacity="0.5" stroke="${INTRA}"`, labels.intra ?? 'intra-class (same label)'],
    [`fill="${INTER}" fill-opacity="0.5" stroke="${INTER}"`, labels.inter ?? 'inter-class (different labels)'],
    [`fill="url(#mmc-hatch)" stroke="${OVERLAP}"`, `overlap = ${overlap.toFixed(3)}`],
  ];
  entries.forEach(([style, label], i) => {
    const y = ly + i * 18;
    out.push(`<rect x="${lx}" y="${y}" width="14" height="12" ${style}/>`);
    out.push(`<text x="${lx + 20}" y="${y + 6}" dominant-baseline="middle">${escapeXml(label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** numpy.histogram counts of `values` in `bins` equal bins over [lo, hi]. */
function binValues(values: ArrayLike<number>, bins: number, lo: number, hi: number): Float64Array {
  const h = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) continue;
    h[Math.min(bins - 1, Math.floor(((v - lo) * bins) / (hi - lo)))] += 1;
  }
  return h;
}

function normalise(a: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = s > 0 ? a[i] / s : 0;
  return out;
}

/** 1, 2 or 5 times a power of ten, ≥ raw. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const s = v.toFixed(decimals);
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}
