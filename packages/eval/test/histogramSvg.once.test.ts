import { describe, expect, it } from 'vitest';
import { createRng, ValueError } from '@mmc/core';
import { histogramSvg } from '../src/histogramSvg.js';
import { wellFormed } from './wellFormed.js';

/** Two overlapping Gaussian-ish histograms on 100 bins over [−1, 1]. */
function hist(mean: number, sd: number, bins = 100): Float64Array {
  const h = new Float64Array(bins);
  for (let b = 0; b < bins; b++) {
    const x = -1 + (2 * (b + 0.5)) / bins;
    h[b] = Math.exp(-(((x - mean) / sd) ** 2) / 2);
  }
  return h;
}

function overlapOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    sa += a[i];
    sb += b[i];
  }
  let o = 0;
  for (let i = 0; i < a.length; i++) o += Math.min(a[i] / sa, b[i] / sb);
  return o;
}

describe('histogramSvg', () => {
  it('is well-formed SVG with both distributions, the shaded overlap, ticks, legend and the overlap value', () => {
    const intra = hist(0.5, 0.2);
    const inter = hist(0.1, 0.25);
    const svg = histogramSvg({ intra, inter, title: 'MMC ViT-S/16' });
    expect(wellFormed(svg)).toBeNull();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const ov = overlapOf(intra, inter);
    expect(ov).toBeGreaterThan(0.2);
    expect(ov).toBeLessThan(0.8);
    expect(svg).toContain(`overlap = ${ov.toFixed(3)}`);
    expect(svg).toContain('MMC ViT-S/16');
    for (const t of ['-1.0', '-0.5', '0.0', '0.5', '1.0']) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain('intra-class (same label)');
    expect(svg).toContain('inter-class (different labels)');
    expect(svg).toContain('url(#mmc-hatch)');
    // Three step paths (intra, inter, min), each with 2 points per bin.
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths.length).toBe(3);
    for (const d of paths) expect((d.match(/L/g) ?? []).length).toBe(2 * 100 + 1);
  });

  it('the overlap area is the bin-wise minimum: its path lies under both curves', () => {
    const intra = hist(0.3, 0.3, 20);
    const inter = hist(-0.2, 0.2, 20);
    const svg = histogramSvg({ intra, inter });
    const ys = (d: string) => [...d.matchAll(/L[\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    const [pi, pe, pm] = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => ys(m[1]));
    // SVG y grows downwards: the min curve is at or below (larger y) both.
    for (let k = 0; k < pm.length; k++) {
      expect(pm[k]).toBeGreaterThanOrEqual(pi[k] - 0.011);
      expect(pm[k]).toBeGreaterThanOrEqual(pe[k] - 0.011);
      expect(Math.min(Math.abs(pm[k] - pi[k]), Math.abs(pm[k] - pe[k]))).toBeLessThan(0.011);
    }
  });

  it('bins raw similarities with numpy.histogram semantics when samples: true', () => {
    const rng = createRng(3);
    const a = Array.from({ length: 500 }, () => Math.tanh(rng.normal() * 0.5 + 0.4));
    const b = Array.from({ length: 800 }, () => Math.tanh(rng.normal() * 0.5 - 0.1));
    a.push(1, -1, 1.5, NaN); // edges kept (1 → last bin), out of range and NaN dropped
    const bins = 40;
    const count = (v: number[]) => {
      const h = new Float64Array(bins);
      for (const x of v) if (x >= -1 && x <= 1) h[Math.min(bins - 1, Math.floor(((x + 1) * bins) / 2))]++;
      return h;
    };
    const svg = histogramSvg({ intra: a, inter: b, samples: true, bins });
    expect(wellFormed(svg)).toBeNull();
    expect(svg).toContain(`overlap = ${overlapOf(count(a), count(b)).toFixed(3)}`);
    expect(svg).toBe(histogramSvg({ intra: count(a), inter: count(b) }));
  });

  it('identical distributions overlap 1, disjoint ones 0', () => {
    const h = hist(0, 0.3, 10);
    expect(histogramSvg({ intra: h, inter: h })).toContain('overlap = 1.000');
    const a = new Float64Array(10);
    const b = new Float64Array(10);
    a[1] = 3;
    b[8] = 2;
    expect(histogramSvg({ intra: a, inter: b })).toContain('overlap = 0.000');
  });

  it('escapes title and labels', () => {
    const svg = histogramSvg({ intra: [1, 2], inter: [2, 1], title: '<script>alert("x")</script> & co', labels: { intra: 'a<b', inter: "it's" } });
    expect(wellFormed(svg)).toBeNull();
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('it&#39;s');
  });

  it('rejects bad inputs with ValueErrors naming the argument', () => {
    expect(() => histogramSvg({ intra: [1, 2], inter: [1, 2, 3] })).toThrow(ValueError);
    expect(() => histogramSvg({ intra: [1, 2], inter: [1, 2, 3] })).toThrow(/inter must have as many bins as intra/);
    expect(() => histogramSvg({ intra: [1, -2], inter: [1, 2] })).toThrow(/intra must hold finite counts/);
    expect(() => histogramSvg({ intra: [], inter: [] })).toThrow(/intra/);
    expect(() => histogramSvg({ intra: [1], inter: [1], range: [1, -1] })).toThrow(/range/);
    expect(() => histogramSvg({ intra: [1], inter: [1], width: 10 })).toThrow(/width/);
    expect(() => histogramSvg({ intra: [0.5], inter: [0.5], samples: true, bins: 0 })).toThrow(/bins/);
  });
});
