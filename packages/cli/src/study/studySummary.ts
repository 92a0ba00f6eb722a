import type { StudyMetric, StudyRow } from './aggregateRuns.js';
import type { StudyConfig } from './config.js';
import type { StudyDataName } from './studyData.js';

/** The aggregated study of one data set. */
export interface StudyDataSummary {
  name: StudyDataName;
  description: string;
  /** The network at initialisation first, then the recipes in the requested order. */
  rows: StudyRow[];
  metrics: StudyMetric[];
  /** Generated "what it found" sentences (`studyFindings`). */
  findings: string[];
  knnBank: number;
  knnQueries: number;
  knnClasses: number;
  /** Share of the k-NN queries in their most frequent class (what always answering it scores). */
  knnMajority: number;
  prompts: number;
}

/** Everything the study's markdown and HTML reports are written from. */
export interface StudySummary {
  /** The command line that reproduces the study. */
  command: string;
  steps: number;
  seeds: number[];
  recipes: string[];
  config: StudyConfig;
  datasets: StudyDataSummary[];
  /** Data sets left out, with the reason (e.g. Fashion-MNIST not installed). */
  skipped: { name: string; reason: string }[];
  backends: string[];
  /** The code versions the runs were made with (`codeVersion`). */
  code: string[];
  /** CPU model × cores, memory, Node version. */
  machine: string;
  /** First and last time a run finished (ISO). */
  runDates: [string, string];
  /** Training and evaluation seconds summed over every run of the tables. */
  trainSeconds: number;
  evalSeconds: number;
  runs: number;
  /** Runs done by this invocation (the others were read from earlier ones) and its wall time. */
  ranNow: number;
  wallSeconds: number;
}
