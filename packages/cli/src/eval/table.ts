/** A plain-text table: a title line, a header, a rule, then right-aligned numeric and left-aligned text cells. */
export interface TextTable {
  title?: string;
  columns: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>;
}

/** A fraction or score for a table: 4 decimals (`1.0000`, not `1`), `n/a` when missing or NaN. */
export function frac(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(4);
}

const NUMERIC_TEXT = /^(-?\d+(\.\d+)?|n\/a)$/;

/** A table cell as text: fractions with 4 decimals, integers as they are, NaN/null as `n/a`. */
export function cellText(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'n/a' : String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(4);
}

/**
 * Formats `table` for a terminal (hand-formatted: two spaces between columns, numbers
 * right-aligned). Ends with a newline.
 *
 * @example
 * ```ts
 * formatTable({ columns: ['metric', 'value'], rows: [['top1', 0.85]] });
 * // metric   value\n------  ------\ntop1    0.8500\n
 * ```
 */
export function formatTable(table: TextTable): string {
  const text = table.rows.map((r) => table.columns.map((_, c) => cellText(r[c])));
  const numeric = table.columns.map((_, c) => text.length > 0 && text.every((r) => NUMERIC_TEXT.test(r[c])));
  const width = table.columns.map((h, c) => Math.max(h.length, ...text.map((r) => r[c].length)));
  const pad = (s: string, c: number) => (numeric[c] ? s.padStart(width[c]) : s.padEnd(width[c]));
  const line = (cells: string[]) => cells.map((s, c) => pad(s, c)).join('  ').trimEnd();
  const out: string[] = [];
  if (table.title) out.push(table.title);
  out.push(line(table.columns.slice()));
  out.push(width.map((w) => '-'.repeat(w)).join('  '));
  for (const r of text) out.push(line(r));
  return `${out.join('\n')}\n`;
}
