import * as tf from '@tensorflow/tfjs';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { colormap } from '../src/colormap.js';
import { similarityMapPng, similarityMapSvg } from '../src/similarityMap.js';
import { wellFormed } from './wellFormed.js';

/** Decoded RGB pixel (y, x). */
function px(png: ReturnType<typeof decode>, y: number, x: number): number[] {
  const c = png.channels;
  return Array.from(png.data.slice((y * png.width + x) * c, (y * png.width + x) * c + 3));
}

describe('colormap', () => {
  it("has matplotlib's end colours and is monotone in lightness for viridis and gray", () => {
    expect(colormap(0, 'viridis')).toEqual([68, 1, 84]);
    expect(colormap(1, 'viridis')).toEqual([253, 231, 37]);
    expect(colormap(0.5, 'viridis')).toEqual([33, 145, 140]);
    expect(colormap(0, 'jet')).toEqual([0, 0, 128]);
    expect(colormap(1, 'jet')).toEqual([128, 0, 0]);
    expect(colormap(0.5, 'jet')).toEqual([123, 255, 123]);
    expect(colormap(0.5, 'gray')).toEqual([128, 128, 128]);
    expect(colormap(-3)).toEqual(colormap(0));
    expect(colormap(7)).toEqual(colormap(1));
    let prev = -1;
    for (let t = 0; t <= 1; t += 0.05) {
      const [r, g, b] = colormap(t, 'viridis');
      const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      expect(lum).toBeGreaterThan(prev);
      prev = lum;
    }
    expect(() => colormap(0.5, 'rainbow' as 'jet')).toThrow(ValueError);
  });
});

describe('similarityMapPng', () => {
  it('decodes back to the expected size and colours (gray, fixed range, 1 pixel per patch)', () => {
    const png = decode(similarityMapPng([[-1, 1], [0, 0.5]], { colormap: 'gray', range: [-1, 1], scale: 1 }));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([2, 1 + 1, 3, 8]);
    expect(px(png, 0, 0)).toEqual([0, 0, 0]);
    expect(px(png, 0, 1)).toEqual([255, 255, 255]);
    expect(px(png, 1, 0)).toEqual([128, 128, 128]);
    expect(px(png, 1, 1)).toEqual([191, 191, 191]);
  });

  it('upsamples by nearest sampling (patch blocks) with the default min–max range and viridis', () => {
    const sim = tf.tensor2d([[0.2, 0.4, 0.6], [0.8, 0.3, 0.5]]);
    const png = decode(similarityMapPng(sim, { scale: 4 }));
    expect([png.width, png.height]).toEqual([12, 8]);
    const t = (v: number) => (v - 0.2) / 0.6;
    for (const [i, j, v] of [[0, 0, 0.2], [0, 2, 0.6], [1, 0, 0.8], [1, 1, 0.3]] as const) {
      for (const [dy, dx] of [[0, 0], [3, 3], [1, 2]]) expect(px(png, i * 4 + dy, j * 4 + dx)).toEqual(colormap(t(v)));
    }
    sim.dispose();
  });

  it('bilinear upsampling uses half-pixel centres (PyTorch align_corners=False)', () => {
    // 1×2 map [0, 1] → 1×4 output: sources x = −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
    const png = decode(similarityMapPng({ data: [0, 1], shape: [1, 2] }, { colormap: 'gray', range: [0, 1], interpolation: 'bilinear', outputSize: [1, 4] }));
    expect([0, 1, 2, 3].map((x) => px(png, 0, x)[0])).toEqual([0, 64, 191, 255]);
  });

  it('blends over an image (floats in [0, 1] or 0…255 bytes) with opacity alpha', () => {
    const image = tf.tensor3d([[[1, 0, 0], [0, 0, 1]]]); // [1, 2, 3], red and blue
    const png = decode(similarityMapPng([[1]], { image, colormap: 'gray', range: [0, 1], alpha: 0.25 }));
    expect([png.width, png.height]).toEqual([2, 1]); // the image's size
    expect(px(png, 0, 0)).toEqual([255, 64, 64]); // 0.75·(255, 0, 0) + 0.25·255
    expect(px(png, 0, 1)).toEqual([64, 64, 255]);
    // The same image as RGBA bytes (a DOM ImageData-like object).
    const rgba = { data: new Uint8ClampedArray([255, 0, 0, 255, 0, 0, 255, 255]), width: 2, height: 1 };
    const png2 = decode(similarityMapPng([[1]], { image: rgba, colormap: 'gray', range: [0, 1], alpha: 0.25 }));
    expect(Array.from(png2.data)).toEqual(Array.from(png.data));
    image.dispose();
  });

  it('draws a mask outline (4-neighbour edge pixels) and a tint', () => {
    // 6×6 output from a 3×3 map (scale 2); mask = the output pixels of grid cell (1, 1), rows/cols 2–3.
    const sim = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    const mask = [[0, 0, 0], [0, 1, 0], [0, 0, 0]];
    const red = [255, 0, 0] as const;
    const png = decode(similarityMapPng(sim, { mask, scale: 2, colormap: 'gray', range: [0, 1], maskColor: red }));
    // A 2×2 inside: every mask pixel touches the outside → all 4 are outline.
    for (const [y, x] of [[2, 2], [2, 3], [3, 2], [3, 3]]) expect(px(png, y, x)).toEqual([255, 0, 0]);
    expect(px(png, 1, 2)).toEqual([0, 0, 0]);
    // A bigger mask at output resolution: the centre is not outline; tint blends 40 %.
    const big = Array.from({ length: 6 }, (_, y) => Array.from({ length: 6 }, (_, x) => (y >= 1 && y <= 4 && x >= 1 && x <= 4 ? 1 : 0)));
    const both = decode(similarityMapPng(sim, { mask: big, scale: 2, colormap: 'gray', range: [0, 1], maskColor: red, maskStyle: 'both' }));
    expect(px(both, 1, 1)).toEqual([255, 0, 0]);
    expect(px(both, 2, 2)).toEqual([102, 0, 0]); // 0.6·0 + 0.4·255
    const tint = decode(similarityMapPng(sim, { mask: big, scale: 2, colormap: 'gray', range: [0, 1], maskColor: red, maskStyle: 'tint' }));
    expect(px(tint, 1, 1)).toEqual([102, 0, 0]);
    expect(px(tint, 0, 0)).toEqual([0, 0, 0]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    expect(() => similarityMapPng(new Float32Array(6))).toThrow(ShapeError);
    expect(() => similarityMapPng(new Float32Array(6))).toThrow(/similarity/);
    expect(() => similarityMapPng(new Float32Array(6), { shape: [2, 2] })).toThrow(/similarity must have 4 values/);
    expect(() => similarityMapPng([[0, 1]], { image: [[[1, 2]]] })).toThrow(/image must have shape \[H, W, 3\]/);
    expect(() => similarityMapPng([[0, 1]], { mask: [1, 0, 1] })).toThrow(/mask must be/);
    expect(() => similarityMapPng([[0, 1]], { alpha: 2 })).toThrow(/alpha/);
    expect(() => similarityMapPng([[0, 1]], { range: [1, 1] })).toThrow(/range/);
    expect(() => similarityMapPng([[0, 1]], { colormap: 'hot' as 'jet' })).toThrow(/colormap/);
    expect(() => similarityMapPng([[0, 1]], { scale: 0 })).toThrow(/scale/);
  });
});

describe('similarityMapSvg', () => {
  it('is well-formed SVG: one rect per patch, colour bar, mask paths, embedded image', () => {
    const sim = [[0.1, 0.9], [0.5, 0.3], [0.7, 0.2]];
    const image = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => [0.2, 0.4, 0.6]));
    const svg = similarityMapSvg(sim, { image, mask: [[0, 1], [1, 1], [0, 0]], maskStyle: 'both', title: 'prompt <3, 5>' });
    expect(wellFormed(svg)).toBeNull();
    const cells = svg.slice(svg.indexOf('<g fill-opacity'), svg.indexOf('</g>'));
    expect((cells.match(/<rect /g) ?? []).length).toBe(6);
    const hex = (c: number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    expect(cells).toContain(`fill="${hex(colormap(0))}"`); // 0.1 is the minimum
    expect(cells).toContain(`fill="${hex(colormap(1))}"`); // 0.9 the maximum
    expect(svg).toContain('href="data:image/png;base64,');
    expect(svg).toContain('fill-opacity="0.5"');
    expect(svg).toContain('<title>prompt &lt;3, 5&gt;</title>');
    expect(svg).toContain('stroke="#ff3030"');
    expect(svg).toContain('>0.9</text>');
    expect(svg).toContain('>0.1</text>');
    // The outline: 3 mask cells on a 4×6 output (2 px per cell) → 8 unit edges on the border.
    const outline = /<path d="([^"]+)" fill="none"/.exec(svg)?.[1] ?? '';
    expect((outline.match(/M/g) ?? []).length).toBe(8);
  });

  it('embeds the bilinear heat map as a PNG; colorbar can be turned off', () => {
    const svg = similarityMapSvg([[0, 1], [1, 0]], { interpolation: 'bilinear', colorbar: false, scale: 3 });
    expect(wellFormed(svg)).toBeNull();
    expect(svg).toContain('width="6" height="6"');
    expect(svg).not.toContain('linearGradient');
    const b64 = /href="data:image\/png;base64,([^"]+)"/.exec(svg)?.[1] ?? '';
    const png = decode(Uint8Array.from(Buffer.from(b64, 'base64')));
    expect([png.width, png.height]).toEqual([6, 6]);
  });
});
