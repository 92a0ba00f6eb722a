import { KNN_HEADS } from './knnByHead.js';
import type { RunRecord, StudyRowName } from './runRecord.js';

/** A column of the study's table. */
export interface StudyMetric {
  key: string;
  /** Reported ×100 (mIoU and k-NN accuracy, as the paper's Table 1) or as a fraction (Table 5's statistics). */
  percent: boolean;
  /** Which direction is better, where one is. */
  better?: 'higher' | 'lower';
  get(r: RunRecord): number;
}

/** Mean and sample standard deviation (n − 1; NaN for one value) over seeds. */
export interface Stat {
  mean: number;
  std: number;
  n: number;
}

/** One row of the study's table: a recipe (or the network at initialisation) over its seeds. */
export interface StudyRow {
  name: StudyRowName;
  seeds: number[];
  stats: Record<string, Stat>;
  /** Mean over seeds of the normalised intra/inter-class histograms (100 bins on [−1, 1]). */
  intra: number[];
  inter: number[];
  trainSeconds: number;
  evalSeconds: number;
  evaluated: RunRecord['evaluated'];
}

/** The table's columns: mIoU per threshold (the thresholds of `thresholds`), best, overlap, intra/inter means, k-NN per head. */
export function studyMetrics(thresholds: string[]): StudyMetric[] {
  return [
    ...thresholds.map((t): StudyMetric => ({ key: `mIoU@${t}`, percent: true, better: 'higher', get: (r) => r.zeroShot.miouByThreshold[t] })),
    { key: 'mIoU best', percent: true, better: 'higher', get: (r) => r.zeroShot.bestMiou },
    { key: 'overlap', percent: false, better: 'lower', get: (r) => r.zeroShot.overlap },
    { key: 'intra', percent: false, get: (r) => r.zeroShot.intraMean },
    { key: 'inter', percent: false, get: (r) => r.zeroShot.interMean },
    ...KNN_HEADS.map((h): StudyMetric => ({ key: `k-NN ${h}`, percent: true, better: 'higher', get: (r) => r.knn[h] })),
  ];
}

/** Mean and sample standard deviation of `xs`. */
export function meanStd(xs: number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, n };
}

/** Element-wise mean of histograms, each normalised to sum 1 first. */
function meanHistogram(hs: number[][]): number[] {
  const out = new Array<number>(hs[0].length).fill(0);
  for (const h of hs) {
    const total = h.reduce((s, x) => s + x, 0) || 1;
    h.forEach((x, i) => (out[i] += x / total / hs.length));
  }
  return out;
}

/**
 * Groups run records by row name (in order of first appearance) and reduces each metric to mean ±
 * sample standard deviation over the seeds.
 *
 * @example
 * ```ts
 * const rows = aggregateRuns(records, studyMetrics(['0.1', '0.2', '0.3', '0.4']));
 * rows[0].stats.overlap; // { mean: 0.93, std: 0.01, n: 2 }
 * ```
 */
export function aggregateRuns(records: RunRecord[], metrics: StudyMetric[]): StudyRow[] {
  const groups = new Map<StudyRowName, RunRecord[]>();
  for (const r of records) groups.set(r.recipe, [...(groups.get(r.recipe) ?? []), r]);
  return [...groups].map(([name, rs]) => ({
    name,
    seeds: rs.map((r) => r.seed),
    stats: Object.fromEntries(metrics.map((m) => [m.key, meanStd(rs.map(m.get))])),
    intra: meanHistogram(rs.map((r) => r.zeroShot.intra)),
    inter: meanHistogram(rs.map((r) => r.zeroShot.inter)),
    trainSeconds: rs.reduce((s, r) => s + r.trainSeconds, 0),
    evalSeconds: rs.reduce((s, r) => s + r.evalSeconds, 0),
    evaluated: rs[0].evaluated,
  }));
}

/** `mean ± std` in the metric's unit: ×100 with one decimal for percentages, three decimals otherwise; no `±` for one seed. */
export function formatStat(s: Stat, metric: Pick<StudyMetric, 'percent'>): string {
  const f = (x: number) => (metric.percent ? (100 * x).toFixed(1) : x.toFixed(3));
  return Number.isNaN(s.std) ? f(s.mean) : `${f(s.mean)} ± ${f(s.std)}`;
}
