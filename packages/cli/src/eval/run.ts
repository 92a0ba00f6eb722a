import { MmcError, useBackend } from '@mmc/core';
import { writeFileAtomic } from '@mmc/core/node';
import { htmlReport, type ReportSection } from '@mmc/eval';
import type { CommonOptions } from './options.js';
import { formatTable, type TextTable } from './table.js';

/** What a subcommand computed: the JSON object, the tables to print, extra report sections. */
export interface EvalOutput {
  /** The `--json` object (the subcommand's results; `command`, `backend`, `seconds` are added). */
  json: Record<string, unknown>;
  /** Printed as text tables, and as tables of the HTML report. */
  tables: TextTable[];
  /** Figures (SVG, PNG) for the HTML report, after the tables. */
  figures?: ReportSection[];
}

/** Handed to a subcommand: the backend in use and a logger to stderr (silent with --quiet). */
export interface EvalContext {
  backend: string;
  log: (message: string) => void;
  /** Seconds since the command started (after the backend was set). */
  elapsed: () => number;
}

/** NaN and ±Infinity as null (JSON has no such numbers), typed arrays as arrays. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** The one JSON line printed by `--json`. */
export function toJsonLine(obj: Record<string, unknown>): string {
  return `${JSON.stringify(obj, jsonValue)}\n`;
}

/** Rounds seconds to milliseconds. */
export function secondsSince(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}

/**
 * Wraps a subcommand's work into a commander action: sets the backend, runs `work`, prints the
 * tables (or with `--json` one JSON object and nothing else on stdout), writes `--report`.
 * An MmcError gets the command's name in front (`eval knn: ...`); the `mmc` binary prints
 * errors as one line on stderr and exits with code 1.
 */
export function evalAction<O extends CommonOptions>(
  name: string,
  work: (options: O, ctx: EvalContext) => Promise<EvalOutput>,
): (options: O) => Promise<void> {
  return async (options: O) => {
    const log = (message: string) => {
      if (!options.quiet) process.stderr.write(`mmc eval ${name}: ${message}\n`);
    };
    try {
      const backend = await useBackend(options.backend ?? 'auto', { threads: options.threads });
      const t0 = performance.now();
      const out = await work(options, { backend, log, elapsed: () => secondsSince(t0) });
      const json = { command: `eval ${name}`, ...out.json, backend, seconds: out.json.seconds ?? secondsSince(t0) };
      if (options.json) {
        process.stdout.write(toJsonLine(json));
      } else {
        process.stdout.write(out.tables.map(formatTable).join('\n'));
      }
      if (options.report) {
        const html = htmlReport({
          title: `mmc eval ${name}`,
          subtitle: `${new Date().toISOString()} · backend ${backend}`,
          sections: [
            ...out.tables.map((t) => ({
              heading: t.title ?? 'Results',
              table: { columns: t.columns, rows: t.rows.map((r) => r.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(4)) : v))) },
            })),
            ...(out.figures ?? []),
          ],
        });
        await writeFileAtomic(options.report, html);
        log(`report written to ${options.report}`);
      }
    } catch (e) {
      if (e instanceof MmcError && !e.message.startsWith(`eval ${name}`)) e.message = `eval ${name}: ${e.message}`;
      throw e;
    }
  };
}
