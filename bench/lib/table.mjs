import { CONFIGS } from './configs.mjs';

const f = (s) => (s == null ? '–' : `${s.median.toFixed(s.median < 1 ? 3 : 2)} (${s.min.toFixed(s.min < 1 ? 3 : 2)} – ${s.max.toFixed(s.max < 1 ? 3 : 2)})`);

/** The PyTorch figure for a task/config, from mmc_bench.py's JSON. */
function torchFigure(torch, task, config) {
  const r = torch?.results.find((x) => x.task === task && x.config === config);
  return r?.seconds;
}

/** Backend label: `wasm`, `wasm + @mmc/kernels`, `…, 2 threads`. */
const backendLabel = (run) => `${run.backend}${run.kernels ? ` + @mmc/kernels${run.gemm === false ? ' (matMul on XNNPACK)' : ''}` : ''}${(run.threads ?? 1) > 1 ? `, ${run.threads} threads` : ''}`;

const ratio = (a, b) => (a && b ? `${(a.median / b.median).toFixed(2)}×` : '–');

/** One row per figure: what, backend, tfjs wall and CPU seconds, PyTorch wall and CPU seconds, ratios tfjs / PyTorch. */
function rows(report) {
  const out = [];
  const push = (what, run, wall, cpu, torch) =>
    out.push([what, backendLabel(run), f(wall), f(cpu), f(torch), f(torch?.cpu), ratio(wall, torch), ratio(cpu, torch?.cpu)]);
  for (const run of report.tfjs) {
    if (run.error) {
      out.push([`${run.task} ${run.config ?? ''}`, run.backend, `failed: ${run.error.slice(0, 80)}`, '', '', '', '', '']);
      continue;
    }
    const r = run.result;
    if (run.task === 'train') {
      const label = `${CONFIGS[run.config].label}, batch ${run.batch}`;
      push(`train step, ${label}`, run, r.train.seconds, r.train.cpuSeconds, torchFigure(report.torch, 'train', run.config));
      push(`forward, ${label}`, run, r.forward.seconds, r.forward.cpuSeconds, torchFigure(report.torch, 'forward', run.config));
    } else if (run.task === 'knn') {
      push('k-NN 10,000 × 60,000 × 384, k 20', run, r.seconds, r.cpuSeconds, torchFigure(report.torch, 'knn', '10k x 60k x 384, k 20'));
    } else if (run.task === 'simdist') {
      push('similarityDistributions, all pairs of 1,415 × 384', run, r.allPairs.seconds, r.allPairs.cpuSeconds, torchFigure(report.torch, 'simdist', 'all pairs of 1,415 x 384'));
      push('similarityDistributions, 10^6 pairs of 100,000 × 384', run, r.sampled.seconds, r.sampled.cpuSeconds, torchFigure(report.torch, 'simdist', '1e6 sampled pairs of 100,000 x 384'));
    } else if (run.task === 'segment') {
      push('promptSegment, 1,000 × (30×30 × 384) → 480×480', run, r.seconds, r.cpuSeconds, torchFigure(report.torch, 'segment', '1,000 images, 30x30 x 384 -> 480x480'));
    }
  }
  return out;
}

/** The summary as a Markdown table (plus the memory and leak lines). */
export function markdownTable(report) {
  const lines = [
    `@mmc benchmark, ${report.date}, ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}, ` +
      `load average at the end ${report.machine.loadavg.map((x) => x.toFixed(1)).join(' ')}; ${report.minutes.toFixed(1)} min` +
      (report.torch ? `; PyTorch ${report.torch.meta.torch}, ${report.torch.meta.threads} threads` : '; no PyTorch run'),
    '',
    '| what | tfjs backend | tfjs s, median (min – max) | tfjs CPU s | PyTorch s | PyTorch CPU s | ratio | CPU ratio |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows(report).map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
  for (const run of report.tfjs.filter((x) => x.task === 'train' && !x.error)) {
    lines.push(
      `memory ${run.config} ${backendLabel(run)}: peak RSS ${run.peakRssMB.toFixed(0)} MB, wasm heap ${run.wasmHeapMB.toFixed(0)} MB, ` +
        `numTensors ${run.result.numTensorsBefore} before / ${run.result.numTensorsAfter} after training`,
    );
  }
  for (const run of report.tfjs.filter((x) => x.task === 'leak' && !x.error)) {
    const t = run.result.trace;
    lines.push(
      `leak run (${run.result.steps} steps, ${run.result.seconds.toFixed(0)} s): ${run.result.flat ? 'flat' : 'NOT FLAT'}; numTensors ` +
        `${t.map((p) => p.numTensors).join(' ')}; wasm heap MB ${t.map((p) => p.wasmHeapMB.toFixed(0)).join(' ')}; RSS MB ${t.map((p) => p.rssMB.toFixed(0)).join(' ')}`,
    );
  }
  return lines.join('\n');
}
