import { histogramSvg, htmlReport, type ReportSection } from '@mmc/eval';
import { formatStat } from './aggregateRuns.js';
import { configurationRows, ourTable } from './resultsMarkdown.js';
import { rowLabel } from './studyFindings.js';
import type { StudySummary } from './studySummary.js';

/**
 * The study's HTML report: the configuration, and per data set our table, the generated findings
 * and the intra/inter-class similarity histograms of every recipe (mean over seeds), one
 * `histogramSvg` each.
 */
export function studyReportHtml(s: StudySummary, date: string): string {
  const sections: ReportSection[] = [
    { heading: 'Configuration', table: { columns: ['', ''], rows: configurationRows(s).map(([k, v]) => [k, v.replace(/`/g, '')]) } },
  ];
  for (const d of s.datasets) {
    const t = ourTable(d);
    const overlap = d.metrics.find((m) => m.key === 'overlap')!;
    sections.push(
      { heading: `${d.name}: mean ± std over seeds`, text: d.description, table: { columns: t.header, rows: t.rows } },
      { heading: `${d.name}: what it found`, text: d.findings.join('\n\n') },
      {
        heading: `${d.name}: intra- vs inter-class patch similarity (mean histogram over seeds)`,
        svg: d.rows.map((r) =>
          histogramSvg({ intra: r.intra, inter: r.inter, title: `${rowLabel(r.name)} · overlap ${formatStat(r.stats.overlap, overlap)} (n = ${r.seeds.length})`, width: 520, height: 300 }),
        ),
      },
    );
  }
  return htmlReport({ title: 'mmc study: every recipe, same backbone, data and budget', subtitle: `${s.command} · ${date}`, sections });
}
