import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { createRng, ValueError } from '@mmc/core';
import { bytesToBase64, imageDataUrl, sniffImageType } from '../src/dataUrl.js';
import { escapeXml } from '../src/escapeXml.js';
import { histogramSvg } from '../src/histogramSvg.js';
import { htmlReport } from '../src/htmlReport.js';
import { similarityMapPng, similarityMapSvg } from '../src/similarityMap.js';
import { wellFormed } from './wellFormed.js';

describe('escapeXml / bytesToBase64 / imageDataUrl', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;');
    expect(escapeXml(3.5)).toBe('3.5');
  });

  it('base64 equals Node Buffer encoding for every length 0…40 and a large buffer', () => {
    const rng = createRng(1);
    for (let n = 0; n <= 40; n++) {
      const b = Uint8Array.from({ length: n }, () => rng.int(256));
      expect(bytesToBase64(b)).toBe(Buffer.from(b).toString('base64'));
    }
    const big = Uint8Array.from({ length: 100_003 }, () => rng.int(256));
    expect(bytesToBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });

  it('sniffs PNG/JPEG/GIF/WebP and builds data URLs', () => {
    const png = similarityMapPng([[0, 1]], { scale: 1 });
    expect(sniffImageType(png)).toBe('image/png');
    expect(sniffImageType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Uint8Array.from([1, 2, 3]))).toBeUndefined();
    expect(imageDataUrl(png).startsWith('data:image/png;base64,iVBORw0KGgo')).toBe(true);
    expect(() => imageDataUrl(Uint8Array.from([1, 2, 3]))).toThrow(ValueError);
  });
});

describe('wellFormed (test helper)', () => {
  it('can fail: unbalanced tags, bare < & >, unquoted attributes', () => {
    expect(wellFormed('<svg><g></g></svg>')).toBeNull();
    expect(wellFormed('<svg><g></svg>')).not.toBeNull();
    expect(wellFormed('<svg><text>a < b</text></svg>')).not.toBeNull();
    expect(wellFormed('<svg><text>a & b</text></svg>')).not.toBeNull();
    expect(wellFormed('<svg><text>a > b</text></svg>')).not.toBeNull();
    expect(wellFormed('<svg width=3></svg>')).not.toBeNull();
    expect(wellFormed('<p><br><img src="x"></p>', 'html')).toBeNull();
  });
});

describe('htmlReport', () => {
  const png = similarityMapPng([[0, 0.5], [1, 0.2]], { scale: 2 });
  const report = () =>
    htmlReport({
      title: 'MMC <ViT-S/16> & friends',
      subtitle: 'seed "0"',
      sections: [
        { heading: 'Overlap', text: 'First paragraph with <b>tags</b>.\n\nSecond & last.', svg: histogramSvg({ intra: [1, 2, 3], inter: [3, 2, 1] }) },
        { heading: 'Prompts', images: [{ src: png, caption: 'prompt <1, 1>' }, { src: imageDataUrl(png), caption: 'again' }], svg: [similarityMapSvg([[0, 1]])] },
        { heading: 'Scores', table: [{ threshold: 0.1, mIoU: 0.412345, note: '<best>' }, { threshold: 0.2, mIoU: NaN }] },
        { heading: 'Raw table', table: { columns: ['a', 'b'], rows: [[1, 'x&y'], [2.5, null]], caption: 'cap <c>' } },
      ],
    });

  it('is a self-contained, well-formed HTML document', () => {
    const html = report();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(wellFormed(html, 'html')).toBeNull();
    // No external resources.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((html.match(/<section>/g) ?? []).length).toBe(4);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
  });

  it('escapes every text: title, subtitle, paragraphs, captions, table cells', () => {
    const html = report();
    expect(html).toContain('<h1>MMC &lt;ViT-S/16&gt; &amp; friends</h1>');
    expect(html).toContain('<title>MMC &lt;ViT-S/16&gt; &amp; friends</title>');
    expect(html).toContain('seed &quot;0&quot;');
    expect(html).toContain('<p>First paragraph with &lt;b&gt;tags&lt;/b&gt;.</p>');
    expect(html).toContain('<p>Second &amp; last.</p>');
    expect(html).toContain('<figcaption>prompt &lt;1, 1&gt;</figcaption>');
    expect(html).toContain('<td>&lt;best&gt;</td>');
    expect(html).toContain('<td>x&amp;y</td>');
    expect(html).toContain('<caption>cap &lt;c&gt;</caption>');
    expect(html).not.toContain('<b>');
  });

  it('formats tables: record keys as columns, numbers to 4 significant digits, NaN as a dash', () => {
    const html = report();
    expect(html).toContain('<thead><tr><th>threshold</th><th>mIoU</th><th>note</th></tr></thead>');
    expect(html).toContain('<td class="num">0.4123</td>');
    expect(html).toContain('<td class="num">–</td>');
    expect(html).toContain('<td class="num">2.5</td>');
    expect(html).toContain('<td></td>'); // null and missing cells are empty
  });

  it('inlines image bytes as data URLs that decode back to the same PNG', () => {
    const html = report();
    const urls = [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBe(2);
    for (const b64 of urls) {
      const bytes = Uint8Array.from(Buffer.from(b64, 'base64'));
      expect(Array.from(bytes)).toEqual(Array.from(png));
      const img = decode(bytes);
      expect([img.width, img.height]).toEqual([4, 4]);
    }
  });

  it('refuses non-self-contained or unsafe content with ValueErrors naming the argument', () => {
    const one = (s: object) => () => htmlReport({ title: 't', sections: [{ heading: 'h', ...s }] });
    expect(one({ images: [{ src: 'https://example.com/a.png' }] })).toThrow(ValueError);
    expect(one({ images: [{ src: 'https://example.com/a.png' }] })).toThrow(/sections\[0\]\.images\[0\]\.src/);
    expect(one({ images: [{ src: 'javascript:alert(1)' }] })).toThrow(/src/);
    expect(one({ images: [{ src: 'data:text/html;base64,PHNjcmlwdD4=' }] })).toThrow(/src/);
    expect(one({ images: [{ src: Uint8Array.from([1, 2, 3]) }] })).toThrow(/not a PNG/);
    expect(one({ svg: '<svg><script>alert(1)</script></svg>' })).toThrow(/scripts/);
    expect(one({ svg: '<svg onload="alert(1)"></svg>' })).toThrow(/event handlers/);
    expect(one({ svg: '<div>no</div>' })).toThrow(/svg\[0\]/);
    expect(one({ table: { rows: 'x' } })).toThrow(/table/);
    expect(() => htmlReport({ title: 't', sections: [{ heading: 3 as unknown as string }] })).toThrow(/sections\[0\]\.heading/);
    expect(() => htmlReport({ title: 5 as unknown as string, sections: [] })).toThrow(/title/);
  });
});
