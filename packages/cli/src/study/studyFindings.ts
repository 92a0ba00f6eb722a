import { formatStat, type Stat, type StudyMetric, type StudyRow } from './aggregateRuns.js';
import { PAPER_TABLE_1, PAPER_TABLE_5, paperValue, type PaperTable } from './paperTables.js';
import { RANDOM_INIT } from './runRecord.js';

/** Names as the paper prints them. */
const LABEL: Record<string, string> = { [RANDOM_INIT]: 'random init', mmc: 'MMC', sit: 'SiT', dino: 'DINO', ibot: 'iBOT', mae: 'MAE', msn: 'MSN' };
/** The display name of a study row. */
export const rowLabel = (name: string): string => LABEL[name] ?? name;

/** Whether two means differ by more than the sum of their seed standard deviations (undefined with a single seed). */
function beyondSpread(a: Stat, b: Stat): boolean | undefined {
  if (Number.isNaN(a.std) || Number.isNaN(b.std)) return undefined;
  return Math.abs(a.mean - b.mean) > a.std + b.std;
}

/** "by 0.012, more than the seed spread (0.008)" — the gap between two means and how it compares with the spread. */
function gapWords(a: Stat, b: Stat, metric: StudyMetric): string {
  const f = (x: number) => (metric.percent ? `${(100 * x).toFixed(1)} points` : x.toFixed(3));
  const gap = `by ${f(Math.abs(a.mean - b.mean))}`;
  const beyond = beyondSpread(a, b);
  if (beyond === undefined) return `${gap} (one seed: no spread to compare with)`;
  return `${gap}, ${beyond ? 'more than' : 'within'} the seed spread (${f(a.std + b.std)})`;
}

/** Rows ordered best first for `metric`. */
function ranked(rows: StudyRow[], metric: StudyMetric): StudyRow[] {
  const sign = metric.better === 'lower' ? 1 : -1;
  return [...rows].sort((a, b) => sign * (a.stats[metric.key].mean - b.stats[metric.key].mean));
}

/** The trained rows on `metric`, best first, with their values. */
function orderSentence(trained: StudyRow[], metric: StudyMetric, what: string): string {
  return `${what}: ${ranked(trained, metric).map((r) => `${rowLabel(r.name)} ${formatStat(r.stats[metric.key], metric)}`).join(', ')} (best first).`;
}

/** Where MMC stands on `metric` and whether the paper's claim that it is best there holds (undefined without an MMC row or a second row). */
function claimSentence(trained: StudyRow[], metric: StudyMetric, claim: string): string | undefined {
  const order = ranked(trained, metric);
  const mmc = order.find((r) => r.name === 'mmc');
  if (!mmc || order.length < 2) return undefined;
  const other = order[0] === mmc ? order[1] : order[0];
  const a = mmc.stats[metric.key];
  const b = other.stats[metric.key];
  const beyond = beyondSpread(a, b);
  if (order[0] === mmc && a.mean !== b.mean) {
    const verdict = beyond ? 'holds here' : beyond === false ? 'holds in the means only' : 'holds in the means (one seed)';
    return `MMC leads ${rowLabel(other.name)} ${gapWords(a, b, metric)}: the paper's claim (${claim}) ${verdict}.`;
  }
  const verdict = beyond === false ? 'does not hold in the means, though the gap is within the seed spread' : 'does not hold here';
  return `MMC ranks ${order.indexOf(mmc) + 1} of ${order.length}, behind ${rowLabel(other.name)} ${gapWords(a, b, metric)}: the paper's claim (${claim}) ${verdict}.`;
}

/** Which trained rows differ from the network at initialisation on `metric` by more than the seed spread, and in which direction. */
function versusInit(trained: StudyRow[], init: StudyRow, metric: StudyMetric, what: string): string {
  const s0 = init.stats[metric.key];
  const better: string[] = [];
  const worse: string[] = [];
  const within: string[] = [];
  for (const r of trained) {
    const s = r.stats[metric.key];
    const beyond = beyondSpread(s, s0);
    const improved = metric.better === 'lower' ? s.mean < s0.mean : s.mean > s0.mean;
    (beyond === false || s.mean === s0.mean ? within : improved ? better : worse).push(rowLabel(r.name));
  }
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
  const rule = Number.isNaN(s0.std) ? ' (one seed: no spread, means compared as they are)' : '';
  return `${what} against the network at initialisation (${formatStat(s0, metric)})${rule}: better — ${list(better)}; worse — ${list(worse)}; ${rule ? 'equal' : 'within the seed spread'} — ${list(within)}.`;
}

/** How many pairs of the rows both we and the paper rank are ordered the same way by `metric` and the paper's `column`. */
function agreement(trained: StudyRow[], metric: StudyMetric, table: PaperTable, column: string): string | undefined {
  const both = trained.filter((r) => paperValue(table, r.name, column) !== undefined);
  let same = 0;
  let pairs = 0;
  for (let i = 0; i < both.length; i++) {
    for (let j = i + 1; j < both.length; j++) {
      const ours = both[i].stats[metric.key].mean - both[j].stats[metric.key].mean;
      const theirs = paperValue(table, both[i].name, column)! - paperValue(table, both[j].name, column)!;
      if (ours === 0 || theirs === 0) continue;
      pairs++;
      if (Math.sign(ours) === Math.sign(theirs)) same++;
    }
  }
  if (pairs === 0) return undefined;
  const sign = metric.better === 'lower' ? 1 : -1;
  const paperOrder = [...both].sort((a, b) => sign * (paperValue(table, a.name, column)! - paperValue(table, b.name, column)!));
  return `${same} of ${pairs} pairs of ${both.map((r) => rowLabel(r.name)).join(', ')} are ordered by our ${metric.key} as by ${table.name}'s ${column} (the paper's order, best first: ${paperOrder.map((r) => rowLabel(r.name)).join(', ')}).`;
}

/**
 * The "what it found" sentences of one data set, generated from the aggregated rows only: the
 * order of the recipes on best mIoU, overlap and each k-NN head, where MMC stands and whether the
 * paper's claims (lowest overlap, highest zero-shot mIoU) hold, which recipes differ from the
 * network at initialisation by more than the seed spread, and how many recipe pairs are ordered
 * as in the paper's Tables 1 and 5; with `knnMajority` (the most frequent class's share of the k-NN
 * queries), the range of the k-NN accuracies beside that baseline. "Beyond the seed spread" means two means differ by more than
 * the sum of their sample standard deviations — a rough rule, not a significance test.
 */
export function studyFindings(rows: StudyRow[], metrics: StudyMetric[], knnMajority?: number): string[] {
  const trained = rows.filter((r) => r.name !== RANDOM_INIT);
  const init = rows.find((r) => r.name === RANDOM_INIT);
  const byKey = (k: string) => metrics.find((m) => m.key === k)!;
  const best = byKey('mIoU best');
  const overlap = byKey('overlap');
  const seeds = [...new Set(rows.map((r) => r.seeds.length))].join(' or ');
  const out: (string | undefined)[] = [
    seeds === '1'
      ? 'One seed per row: the numbers have no spread, and the comparisons below are of single runs.'
      : `Every number is a mean over ${seeds} seeds ± the sample standard deviation; "more than the seed spread" means two means differ by more than the sum of their standard deviations, a rough rule and not a significance test.`,
  ];
  if (trained.length === 0) return out as string[];
  out.push(orderSentence(trained, best, 'Zero-shot mIoU at the best threshold (%)'));
  out.push(claimSentence(trained, best, 'Table 1: MMC has the highest zero-shot mIoU'));
  out.push(orderSentence(trained, overlap, 'Intra/inter overlap (lower is better)'));
  out.push(claimSentence(trained, overlap, 'Table 5: MMC has the lowest overlap'));
  const knn = metrics.filter((x) => x.key.startsWith('k-NN'));
  for (const m of knn) out.push(orderSentence(trained, m, `${m.key} top-1 (%)`));
  if (knnMajority !== undefined) {
    const means = rows.flatMap((r) => knn.map((m) => r.stats[m.key].mean));
    const pct = (x: number) => (100 * x).toFixed(1);
    out.push(`k-NN top-1 of every row and head lies in ${pct(Math.min(...means))}–${pct(Math.max(...means))} %; always answering the most frequent class of the queries scores ${pct(knnMajority)} %.`);
  }
  if (init) {
    out.push(versusInit(trained, init, best, 'Best mIoU'));
    out.push(versusInit(trained, init, overlap, 'Overlap'));
    for (const m of metrics.filter((x) => x.key.startsWith('k-NN'))) out.push(versusInit(trained, init, m, m.key));
  }
  out.push(agreement(trained, best, PAPER_TABLE_1, 'Opt.'), agreement(trained, overlap, PAPER_TABLE_5, 'O'));
  return out.filter((x): x is string => x !== undefined);
}
