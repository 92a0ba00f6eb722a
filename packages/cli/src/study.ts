import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ValueError } from '@mmc/core';
import { writeFileAtomic } from '@mmc/core/node';
import { assertRecipeName, RECIPE_NAMES } from './recipeByName.js';
import { aggregateRuns, studyMetrics } from './study/aggregateRuns.js';
import { codeVersion } from './study/codeVersion.js';
import { defaultStudyConfig, type StudyConfig } from './study/config.js';
import { ourTable, resultsMarkdown } from './study/resultsMarkdown.js';
import { RANDOM_INIT, readRunRecord, runPath, type RunKey, type RunRecord, type StudyRowName } from './study/runRecord.js';
import { loadStudyData, STUDY_DATA_NAMES, type StudyDataName } from './study/studyData.js';
import { studyFindings } from './study/studyFindings.js';
import { studyReportHtml } from './study/studyReportHtml.js';
import { studyRun } from './study/studyRun.js';
import type { StudyDataSummary, StudySummary } from './study/studySummary.js';
import { intArg } from './options.js';
import { addBackendOptions, startBackend, type BackendOptions } from './backendOptions.js';

/** Options of {@link runStudy} (the `mmc study` flags). */
export interface StudyOptions extends BackendOptions {
  steps: number;
  seeds: number[];
  /** Recipe names (default all of `RECIPE_NAMES`). */
  recipes: string[];
  /** `'scenes'` and/or `'fashion'`; `'fashion'` is skipped with a note when Fashion-MNIST is not installed. */
  data: string[];
  /** Folder of the run records and report.html. */
  out: string;
  /** Markdown file to write (docs/results.md), or false. */
  docs: string | false;
  /** Overrides of the configuration (default `DEMO_CONFIG` + the k-NN sizes, `defaultStudyConfig()`). */
  config?: Partial<StudyConfig>;
  quiet?: boolean;
}

/** The command line that reproduces a study of these options with the default configuration. */
function commandLine(o: StudyOptions): string {
  const docs = o.docs === false ? ' --no-docs' : o.docs !== 'docs/results.md' ? ` --docs ${o.docs}` : '';
  return `npm run study -- --steps ${o.steps} --seeds ${o.seeds.join(',')} --recipes ${o.recipes.join(',')} --data ${o.data.join(',')} --out ${o.out}${docs}`;
}

function validate(o: StudyOptions): void {
  const fn = 'mmc study';
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new ValueError(`${fn}: --steps must be an integer >= 1, got ${o.steps}`);
  if (!Array.isArray(o.seeds) || o.seeds.length === 0 || o.seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new ValueError(`${fn}: --seeds must be one or more integers >= 0, got ${JSON.stringify(o.seeds)}`);
  }
  if (!Array.isArray(o.recipes) || o.recipes.length === 0) throw new ValueError(`${fn}: --recipes must name at least one recipe`);
  for (const r of o.recipes) assertRecipeName(r, `${fn}: --recipes`);
  if (!Array.isArray(o.data) || o.data.length === 0) throw new ValueError(`${fn}: --data must name at least one data set`);
  for (const d of o.data) {
    if (!(STUDY_DATA_NAMES as readonly string[]).includes(d)) throw new ValueError(`${fn}: --data must list ${STUDY_DATA_NAMES.join(', ')}, got '${d}'`);
  }
}

/**
 * The study (`npm run study`): every recipe on the same ViT, data and step budget, several seeds.
 * Per data set and seed it measures the network at initialisation once ("random init"), then per
 * recipe trains it (`train`) and measures the network it releases (the EMA teacher's backbone, the
 * student for MAE): zero-shot prompt mIoU per threshold, the intra/inter-class means and overlap on
 * held-out scenes (`evaluateZeroShot`), k-NN top-1 with the 'cls', 'patch-mean' and 'concat'
 * features on held-out object crops (`knnByHead`). Each run is saved as
 * `<out>/<data>/<recipe>-seed<seed>.json` as soon as it finishes, and a run whose record exists is
 * read instead of re-run, so an interrupted study resumes. At the end it aggregates mean ± std
 * over the seeds, writes `<out>/summary.json`, `<out>/report.html` (tables and histograms) and the
 * markdown `docs` (our table beside the paper's Tables 1 and 5, the configuration, and generated
 * findings). Frees every tensor it made.
 *
 * @example
 * ```ts
 * const summary = await runStudy({ steps: 300, seeds: [0, 1], recipes: ['mmc', 'dino'], data: ['scenes'],
 *   out: 'runs/study', docs: 'docs/results.md', backend: 'auto' });
 * ```
 */
export async function runStudy(o: StudyOptions): Promise<StudySummary> {
  validate(o);
  const t0 = performance.now();
  const log = (s: string) => o.quiet || process.stderr.write(`${s}\n`);
  const backend = await startBackend(o);
  const code = codeVersion();
  const config: StudyConfig = { ...defaultStudyConfig(), ...o.config };
  const datasets: StudyDataSummary[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const records: RunRecord[] = [];
  let ranNow = 0;
  for (const name of o.data as StudyDataName[]) {
    const data = await loadStudyData(name, config);
    if ('skipped' in data) {
      log(`mmc study: skipping ${name}: ${data.skipped}`);
      skipped.push({ name, reason: data.skipped });
      continue;
    }
    const rowsOf: RunRecord[] = [];
    for (const seed of o.seeds) {
      for (const recipe of [RANDOM_INIT, ...o.recipes] as StudyRowName[]) {
        const key: RunKey = { recipe, data: name, seed, steps: recipe === RANDOM_INIT ? 0 : o.steps, config };
        let rec = await readRunRecord(o.out, key);
        if (rec) {
          log(`mmc study: ${name} · ${recipe} · seed ${seed}: reusing ${runPath(o.out, key)}`);
        } else {
          log(`mmc study: ${name} · ${recipe} · seed ${seed}: ${recipe === RANDOM_INIT ? 'evaluating the network at initialisation' : `training ${o.steps} steps on ${backend}`}`);
          rec = await studyRun(key, data, { backend, code, quiet: o.quiet });
          await mkdir(dirname(runPath(o.out, key)), { recursive: true });
          await writeFileAtomic(runPath(o.out, key), `${JSON.stringify(rec)}\n`);
          ranNow++;
          log(`mmc study: ${name} · ${recipe} · seed ${seed}: best mIoU ${rec.zeroShot.bestMiou.toFixed(3)}, overlap ${rec.zeroShot.overlap.toFixed(3)}, k-NN cls ${rec.knn.cls.toFixed(3)} (${rec.trainSeconds.toFixed(0)} s + ${rec.evalSeconds.toFixed(0)} s)`);
        }
        rowsOf.push(rec);
      }
    }
    const metrics = studyMetrics(Object.keys(rowsOf[0].zeroShot.miouByThreshold));
    const rows = aggregateRuns(rowsOf, metrics);
    const counts = new Map<number, number>();
    for (const y of data.queries.labels) counts.set(y, (counts.get(y) ?? 0) + 1);
    const knnMajority = Math.max(...counts.values()) / data.queries.count;
    datasets.push({
      name,
      description: data.description,
      rows,
      metrics,
      findings: studyFindings(rows, metrics, knnMajority),
      knnBank: data.bank.count,
      knnQueries: data.queries.count,
      knnClasses: data.queries.numClasses,
      knnMajority,
      prompts: rowsOf[0].zeroShot.prompts,
    });
    records.push(...rowsOf);
  }
  const dates = records.map((r) => r.date).sort();
  const cpu = cpus();
  const summary: StudySummary = {
    command: commandLine(o),
    steps: o.steps,
    seeds: o.seeds,
    recipes: o.recipes,
    config,
    datasets,
    skipped,
    backends: [...new Set(records.map((r) => r.backend))],
    code: [...new Set(records.map((r) => r.code))],
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    runDates: [dates[0] ?? '', dates.at(-1) ?? ''],
    trainSeconds: records.reduce((s, r) => s + r.trainSeconds, 0),
    evalSeconds: records.reduce((s, r) => s + r.evalSeconds, 0),
    runs: records.length,
    ranNow,
    wallSeconds: (performance.now() - t0) / 1000,
  };
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, 'summary.json'), `${JSON.stringify(summary, (k, v) => (k === 'intra' || k === 'inter' ? undefined : v), 2)}\n`);
  await writeFile(join(o.out, 'report.html'), studyReportHtml(summary, new Date().toISOString()));
  if (o.docs !== false) {
    await mkdir(dirname(o.docs), { recursive: true });
    await writeFile(o.docs, resultsMarkdown(summary));
  }
  return summary;
}

/** Commander parser for a comma-separated list of names. */
function nameList(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => s === '')) throw new InvalidArgumentError('expected comma-separated names, e.g. mmc,dino');
  return parts;
}

/** Commander parser for a comma-separated list of distinct seeds. */
function seedList(value: string): number[] {
  const seeds = nameList(value).map(intArg(0));
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError('expected distinct seeds');
  return seeds;
}

/** Registers `mmc study`. */
export function registerStudy(program: Command): void {
  addBackendOptions(program.command('study'))
    .description('train every recipe on the same ViT, data and budget over several seeds; zero-shot mIoU, overlap and k-NN beside the paper (docs/results.md)')
    .option('--steps <n>', 'training steps per run', intArg(1), 300)
    .option('--seeds <list>', 'comma-separated seeds', seedList, [0, 1])
    .option('--recipes <list>', `comma-separated recipes (${RECIPE_NAMES.join(', ')})`, nameList, [...RECIPE_NAMES])
    .option('--data <list>', "comma-separated data sets: 'scenes', 'fashion' (skipped when Fashion-MNIST is not installed)", nameList, [...STUDY_DATA_NAMES])
    .option('--out <dir>', 'folder of the run records (resumable), summary.json and report.html', 'runs/study')
    .option('--docs <file>', 'markdown results to write', 'docs/results.md')
    .option('--no-docs', 'do not write the markdown results')
    .option('--quiet', 'no progress output', false)
    .action(async (o: StudyOptions) => {
      const s = await runStudy(o);
      for (const d of s.datasets) {
        const t = ourTable(d);
        process.stdout.write(`\n${d.name}\n${[t.header, ...t.rows].map((r) => r.join('\t')).join('\n')}\n`);
      }
      for (const k of s.skipped) process.stdout.write(`skipped ${k.name}: ${k.reason}\n`);
      process.stdout.write(`\n${s.runs} runs (${s.ranNow} now) in ${(s.wallSeconds / 60).toFixed(1)} min; wrote ${join(o.out, 'report.html')}${o.docs === false ? '' : ` and ${o.docs}`}\n`);
    });
}
