import { formatStat, type StudyRow } from './aggregateRuns.js';
import { defaultStudyConfig, type StudyConfig } from './config.js';
import { PAPER_TABLE_1, PAPER_TABLE_5, paperValue, type PaperTable } from './paperTables.js';
import { rowLabel } from './studyFindings.js';
import type { StudyDataSummary, StudySummary } from './studySummary.js';

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');
const mdRow = (cells: (string | number)[]) => `| ${cells.map((c) => escapeCell(String(c))).join(' | ')} |`;
const mdTable = (header: string[], rows: (string | number)[][]) => [mdRow(header), mdRow(header.map(() => '---')), ...rows.map(mdRow)].join('\n');
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;

/** The configuration rows shared by the markdown and the HTML report. */
export function configurationRows(s: StudySummary): [string, string][] {
  const c = s.config;
  const tokens = (c.imageSize / c.patchSize) ** 2;
  const defaults = defaultStudyConfig();
  const changed = (Object.keys(defaults) as (keyof StudyConfig)[]).filter((k) => JSON.stringify(c[k]) !== JSON.stringify(defaults[k]));
  const origin = changed.length ? `differs from the defaults (\`DEMO_CONFIG\`) in ${changed.join(', ')}` : 'the demo\'s (`DEMO_CONFIG`)';
  const rows: [string, string][] = [
    ['command', `\`${s.command}\``],
    ['recipes', `${s.recipes.join(', ')} — \`recipeByName\` (packages/cli/src/recipeByName.ts): MLP heads ${c.headHidden} wide, 128 out; every other option the recipe's default`],
    ['steps', `${s.steps} per run, batch ${c.batchSize} (${s.steps * c.batchSize} images seen per run)`],
    ['backbone', `ViT, ${c.imageSize}×${c.imageSize} input, patch ${c.patchSize} (${tokens} tokens), dim ${c.dim}, depth ${c.depth}, ${c.heads} head${c.heads === 1 ? '' : 's'}; configuration: ${origin}`],
    ['optimisation', `AdamW, lr ${c.lr} (10 % warm-up, cosine to 1e-6), weight decay 0.04 → 0.4, teacher momentum ${c.momentum[0]} → ${c.momentum[1]}, gradient clip 3`],
    ['seeds', `${s.seeds.join(', ')}: initialisation, batch order, masks and crops; the data are the same for every seed (data seed ${c.dataSeed})`],
    ['data', s.datasets.map((d) => d.description).join('; ') || 'none'],
    ['zero-shot evaluation', `${c.evalCount} held-out scenes, every object prompted at its centre pixel, thresholds 0.1–0.4 (\`evaluateZeroShot\`); intra/inter-class histograms over the labelled patches of the same scenes`],
    ['k-NN evaluation', `weighted k-NN (k = ${c.k}, T = 0.07, \`knnClassify\`) of object crops (\`objectCrops\`, ${c.imageSize}×${c.imageSize}): bank = crops of the first ${c.knnBankScenes} training scenes, queries = crops of ${c.knnQueryScenes} further held-out scenes; heads 'cls', 'patch-mean', 'concat' (\`featureHead\`)`],
    ['network evaluated', 'the EMA teacher\'s backbone (the student\'s for MAE, which has no teacher); "random init" is the same ViT at initialisation for each seed'],
    ['backend', s.backends.join(', ')],
    ['code', `${s.code.join('; ')} (git commit of the runs)`],
    ['machine', `${s.machine}; shared with other processes while it ran, so times are noisy`],
    [
      'compute',
      `${s.runs} runs: ${minutes(s.trainSeconds)} training + ${minutes(s.evalSeconds)} evaluation` +
        (s.ranNow ? `; this invocation ran ${s.ranNow} of them in ${minutes(s.wallSeconds)} wall time` : '; this invocation only read their records and wrote the reports'),
    ],
    ['date', s.runDates[0] === s.runDates[1] ? s.runDates[0] : `runs finished ${s.runDates[0]} … ${s.runDates[1]}`],
  ];
  for (const k of s.skipped) rows.push([`skipped: ${k.name}`, k.reason]);
  return rows;
}

/** Our table: one row per recipe (random init first), mean ± std over seeds. */
export function ourTable(d: StudyDataSummary): { header: string[]; rows: string[][] } {
  const header = ['recipe', 'n', ...d.metrics.map((m) => (m.percent ? `${m.key} (%)` : m.key))];
  const rows = d.rows.map((r) => [rowLabel(r.name), String(r.seeds.length), ...d.metrics.map((m) => formatStat(r.stats[m.key], m))]);
  return { header, rows };
}

/** Our best mIoU, overlap, intra and inter beside the paper's Table 1 "Opt." and Table 5. */
function besideThePaper(d: StudyDataSummary): string {
  const m = (k: string) => d.metrics.find((x) => x.key === k)!;
  const paper = (t: PaperTable, r: StudyRow, col: string) => {
    const v = paperValue(t, r.name, col);
    return v === undefined ? '—' : v.toFixed(t.decimals);
  };
  const rows = d.rows.map((r) => [
    rowLabel(r.name),
    formatStat(r.stats['mIoU best'], m('mIoU best')),
    paper(PAPER_TABLE_1, r, 'Opt.'),
    formatStat(r.stats.overlap, m('overlap')),
    paper(PAPER_TABLE_5, r, 'O'),
    formatStat(r.stats.intra, m('intra')),
    paper(PAPER_TABLE_5, r, 'Intra'),
    formatStat(r.stats.inter, m('inter')),
    paper(PAPER_TABLE_5, r, 'Inter'),
  ]);
  return mdTable(['recipe', 'best mIoU (%), ours', 'paper T1 Opt.', 'overlap, ours', 'paper T5 O', 'intra, ours', 'paper T5', 'inter, ours', 'paper T5'], rows);
}

function paperTable(t: PaperTable): string {
  return `${t.caption}:\n\n${mdTable(['method', ...t.columns], t.rows.map((r) => [r.method, ...r.values.map((v) => (v === null ? '—' : v.toFixed(t.decimals)))]))}`;
}

/**
 * docs/results.md of the study: the configuration, per data set our table (mean ± std over seeds,
 * n), the same numbers beside the paper's Tables 1 and 5, the generated "what it found" sentences,
 * and the paper's two tables as printed.
 */
export function resultsMarkdown(s: StudySummary): string {
  const parts = [
    '# Results: the recipe study',
    '',
    `Written by \`mmc study\` (packages/cli/src/study.ts) from the run records in its output folder (one JSON file per recipe, seed and data set). ` +
      'Every number and every sentence under "What it found" is generated from those records; re-running the command regenerates this file. ' +
      'What the numbers may mean, the control experiments and why they may differ from the paper: [results-discussion.md](results-discussion.md) (written by hand).',
    '',
    '## Configuration',
    '',
    mdTable(['', ''], configurationRows(s)),
  ];
  for (const d of s.datasets) {
    const t = ourTable(d);
    parts.push(
      '',
      `## ${d.name}`,
      '',
      `${d.description}. Zero-shot: ${d.prompts} prompted objects; k-NN: ${d.knnBank} bank crops, ${d.knnQueries} query crops of ${d.knnClasses} classes ` +
        `(the most frequent class is ${(100 * d.knnMajority).toFixed(1)} % of the queries). ` +
        'mIoU and k-NN top-1 in %, overlap and the intra/inter-class mean similarities as fractions; mean ± sample standard deviation over the n seeds.',
      '',
      mdTable(t.header, t.rows),
      '',
      `### ${d.name}: beside the paper`,
      '',
      'The paper\'s numbers are for ViT-B/16 pretrained on ImageNet-1k and evaluated on COCO (Table 1) — another scale and other data; MSN is not in its Table 5 and MC-SSL has no recipe here.',
      '',
      besideThePaper(d),
      '',
      `### ${d.name}: what it found`,
      '',
      ...d.findings.map((f) => `- ${f}`),
    );
  }
  parts.push('', '## The paper\'s tables', '', paperTable(PAPER_TABLE_1), '', paperTable(PAPER_TABLE_5), '');
  return parts.join('\n');
}
