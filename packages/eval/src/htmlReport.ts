import { ValueError } from '@mmc/core';
import { imageDataUrl } from './dataUrl.js';
import { escapeXml } from './escapeXml.js';

/** An image of a report section: PNG/JPEG/GIF/WebP bytes or an `data:image/…` URL. */
export interface ReportImage {
  src: Uint8Array | string;
  caption?: string;
  /** Alternative text (default the caption). */
  alt?: string;
  /** Display width in CSS pixels (default the image's own). */
  width?: number;
}

/** A table: column headers and rows of cells; numbers are formatted to 4 significant digits. */
export interface ReportTable {
  columns?: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>;
  caption?: string;
}

export interface ReportSection {
  heading: string;
  /** Plain text; blank lines separate paragraphs. Escaped. */
  text?: string;
  /** A table, or an array of records (columns = the union of their keys, in order of appearance). */
  table?: ReportTable | ReadonlyArray<Record<string, string | number | boolean | null | undefined>>;
  /** Inline SVG figure(s) from the report functions (trusted markup, inserted as is; no scripts). */
  svg?: string | readonly string[];
  images?: readonly ReportImage[];
}

export interface HtmlReportOptions {
  title: string;
  /** A line under the title (escaped). */
  subtitle?: string;
  sections: readonly ReportSection[];
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.subtitle{color:#555;margin-top:0}table{border-collapse:collapse;margin:.8em 0}caption{text-align:left;color:#555;padding-bottom:.3em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}figure{margin:0}figcaption{font-size:.9em;color:#555;text-align:center}
img{image-rendering:pixelated;max-width:100%}`;

/**
 * A self-contained HTML report (one file, no external resources): a title and sections of
 * text, tables, inline SVG figures ({@link histogramSvg}, {@link similarityMapSvg}) and images
 * (PNG bytes from {@link similarityMapPng}, inlined as base64 `data:` URLs). Every text, caption
 * and table cell is HTML-escaped; image sources must be bytes of a known image format or a
 * `data:image/…` URL (anything else would not be self-contained and is refused); SVG strings
 * must start with `<svg` and contain no `<script` or `<foreignObject` (they are inserted as
 * markup, so pass only SVG you produced).
 *
 * @param options `{ title, subtitle?, sections: [{ heading, text?, table?, svg?, images? }] }`
 * @returns the HTML document as a string (UTF-8, `<!DOCTYPE html>`)
 * @example
 * ```ts
 * const html = htmlReport({
 *   title: 'MMC ViT-S/16 on scenes',
 *   sections: [
 *     { heading: 'Overlap', svg: histogramSvg({ intra, inter }) },
 *     { heading: 'Prompts', images: [{ src: similarityMapPng(sim, { image }), caption: 'prompt (3, 5)' }] },
 *     { heading: 'Scores', table: [{ threshold: 0.1, mIoU: 0.41 }, { threshold: 0.2, mIoU: 0.47 }] },
 *   ],
 * });
 * ```
 */
export function htmlReport(options: HtmlReportOptions): string {
  const fn = 'htmlReport';
  if (options == null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object { title, sections }, got ${String(options)}`);
  const { title, subtitle, sections } = options;
  if (typeof title !== 'string') throw new ValueError(`${fn}: title must be a string, got ${typeof title}`);
  if (!Array.isArray(sections)) throw new ValueError(`${fn}: sections must be an array of { heading, … }, got ${typeof sections}`);
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeXml(title)}</h1>`,
  ];
  if (subtitle !== undefined) out.push(`<p class="subtitle">${escapeXml(subtitle)}</p>`);
  sections.forEach((s, si) => {
    const at = `sections[${si}]`;
    if (s == null || typeof s !== 'object') throw new ValueError(`${fn}: ${at} must be an object { heading, … }, got ${String(s)}`);
    if (typeof s.heading !== 'string') throw new ValueError(`${fn}: ${at}.heading must be a string, got ${typeof s.heading}`);
    out.push('<section>', `<h2>${escapeXml(s.heading)}</h2>`);
    if (s.text !== undefined) {
      if (typeof s.text !== 'string') throw new ValueError(`${fn}: ${at}.text must be a string, got ${typeof s.text}`);
      for (const para of s.text.split(/\n\s*\n/)) {
        if (para.trim()) out.push(`<p>${escapeXml(para.trim()).replace(/\n/g, '<br>')}</p>`);
      }
    }
    if (s.table !== undefined) out.push(renderTable(fn, `${at}.table`, s.table));
    const figures: string[] = [];
    if (s.svg !== undefined) {
      const list = typeof s.svg === 'string' ? [s.svg] : s.svg;
      if (!Array.isArray(list)) throw new ValueError(`${fn}: ${at}.svg must be an SVG string or an array of them`);
      list.forEach((svg, k) => {
        if (typeof svg !== 'string' || !/^\s*(<\?xml[^>]*\?>\s*)?<svg[\s>]/i.test(svg)) {
          throw new ValueError(`${fn}: ${at}.svg[${k}] must be an SVG string starting with <svg`);
        }
        if (/<script|<foreignObject|\son[a-z]+\s*=/i.test(svg)) {
          throw new ValueError(`${fn}: ${at}.svg[${k}] must not contain scripts, event handlers or foreignObject`);
        }
        figures.push(`<figure>${svg.replace(/^\s*<\?xml[^>]*\?>\s*/i, '')}</figure>`);
      });
    }
    if (s.images !== undefined) {
      const images: readonly ReportImage[] = s.images;
      if (!Array.isArray(images)) throw new ValueError(`${fn}: ${at}.images must be an array of { src, caption? }`);
      images.forEach((img: ReportImage, k: number) => {
        const arg = `${at}.images[${k}]`;
        if (img == null || typeof img !== 'object') throw new ValueError(`${fn}: ${arg} must be an object { src, caption? }`);
        let src: string;
        if (img.src instanceof Uint8Array) {
          try {
            src = imageDataUrl(img.src);
          } catch {
            throw new ValueError(`${fn}: ${arg}.src bytes are not a PNG, JPEG, GIF or WebP image`);
          }
        } else if (typeof img.src === 'string' && /^data:image\/[a-z0-9.+-]+(;[a-z0-9=.+-]+)*(;base64)?,[a-z0-9+/=%._~-]*$/i.test(img.src.trim())) {
          src = img.src.trim();
        } else {
          throw new ValueError(`${fn}: ${arg}.src must be image bytes (Uint8Array) or a data:image/… URL, got ${typeof img.src === 'string' ? `'${img.src.slice(0, 40)}'` : typeof img.src}`);
        }
        const width = img.width !== undefined ? ` width="${Math.round(Number(img.width))}"` : '';
        const alt = escapeXml(img.alt ?? img.caption ?? '');
        const caption = img.caption !== undefined ? `<figcaption>${escapeXml(img.caption)}</figcaption>` : '';
        figures.push(`<figure><img src="${escapeXml(src)}" alt="${alt}"${width}>${caption}</figure>`);
      });
    }
    if (figures.length) out.push(`<div class="figures">${figures.join('')}</div>`);
    out.push('</section>');
  });
  out.push('</body>', '</html>', '');
  return out.join('\n');
}

function renderTable(fn: string, arg: string, table: ReportSection['table']): string {
  let columns: string[] | undefined;
  let rows: ReadonlyArray<ReadonlyArray<unknown>>;
  let caption: string | undefined;
  if (Array.isArray(table)) {
    const keys: string[] = [];
    for (const r of table) {
      if (r == null || typeof r !== 'object') throw new ValueError(`${fn}: ${arg} records must be objects`);
      for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
    }
    columns = keys;
    rows = table.map((r) => keys.map((k) => (r as Record<string, unknown>)[k]));
  } else if (table && typeof table === 'object' && Array.isArray((table as ReportTable).rows)) {
    const t = table as ReportTable;
    columns = t.columns ? t.columns.slice() : undefined;
    rows = t.rows;
    caption = t.caption;
    rows.forEach((r, i) => {
      if (!Array.isArray(r)) throw new ValueError(`${fn}: ${arg}.rows[${i}] must be an array of cells`);
    });
  } else {
    throw new ValueError(`${fn}: ${arg} must be { columns?, rows } or an array of records`);
  }
  const out: string[] = ['<table>'];
  if (caption !== undefined) out.push(`<caption>${escapeXml(caption)}</caption>`);
  if (columns) out.push(`<thead><tr>${columns.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr></thead>`);
  out.push('<tbody>');
  for (const r of rows) {
    out.push(`<tr>${r.map((c) => (typeof c === 'number' ? `<td class="num">${escapeXml(formatCell(c))}</td>` : `<td>${escapeXml(c ?? '')}</td>`)).join('')}</tr>`);
  }
  out.push('</tbody>', '</table>');
  return out.join('');
}

/** Integers as they are; other finite numbers to 4 significant digits; NaN as '–'. */
function formatCell(v: number): string {
  if (Number.isNaN(v)) return '–';
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}
