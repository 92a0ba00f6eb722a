#!/usr/bin/env node
/**
 * @mmc speed benchmark against PyTorch on the same machine (docs/benchmarks.md). `npm run bench`
 * builds the packages and runs this file; run it directly after `npm run build`:
 *
 *   node bench/run.mjs [--only train,knn,simdist,segment,leak] [--backends wasm,cpu]
 *     [--configs tiny32,tiny64,small32,small64] [--cpu-configs tiny32] [--batch 32] [--head-hidden 512]
 *     [--repeats 5] [--warmup 2] [--cpu-repeats 2] [--cpu-tasks train] [--kernels both|on|off] [--gemm on|off] [--threads 1,2] [--leak-steps 500]
 *     [--torch auto|off] [--json bench/results/latest.json] [--quick]
 *
 * Every tfjs measurement runs in its own process (bench/lib/tasks.mjs); PyTorch runs
 * bench/pytorch/mmc_bench.py with /usr/bin/python3 and 2 threads in the same sitting. Figures are
 * medians of `repeats` timed runs after `warmup` untimed ones (min – max), wall-clock seconds;
 * the tfjs side also reports process CPU seconds, which suffer less from other load on a shared
 * machine. The summary table goes to stdout, progress to stderr, everything to the JSON file.
 * `--quick` = tiny32 only, 3 repeats, 1 warm-up, 100 leak steps (a few minutes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIGS } from './lib/configs.mjs';
import { markdownTable } from './lib/table.mjs';

const { values: v } = parseArgs({
  options: {
    only: { type: 'string', default: 'train,knn,simdist,segment,leak' },
    backends: { type: 'string', default: 'wasm,cpu' },
    configs: { type: 'string', default: 'tiny32,tiny64,small32,small64' },
    'cpu-configs': { type: 'string', default: 'tiny32' },
    batch: { type: 'string', default: '32' },
    'head-hidden': { type: 'string', default: '512' },
    repeats: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'cpu-repeats': { type: 'string', default: '2' },
    'cpu-tasks': { type: 'string', default: 'train' },
    kernels: { type: 'string', default: 'both' },
    gemm: { type: 'string', default: 'on' },
    threads: { type: 'string', default: '1,2' },
    'leak-steps': { type: 'string', default: '500' },
    torch: { type: 'string', default: 'auto' },
    json: { type: 'string', default: 'bench/results/latest.json' },
    quick: { type: 'boolean', default: false },
  },
});
if (v.quick) Object.assign(v, { configs: 'tiny32', repeats: '3', warmup: '1', 'cpu-repeats': '1', 'leak-steps': '100' });
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const only = new Set(list(v.only));
// tfjs' cpu backend is plain JavaScript (a ViT-Tiny step takes minutes): by default it only runs `--cpu-configs` training.
const cpuTasks = new Set(list(v['cpu-tasks']));
const configs = list(v.configs);
for (const c of [...configs, ...list(v['cpu-configs'])]) {
  if (!CONFIGS[c]) throw new Error(`bench: unknown config ${c} (one of ${Object.keys(CONFIGS).join(', ')})`);
}
const num = (k) => Number(v[k]);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 60000).toFixed(1)} min`;

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, nodeFlags: process.execArgv, loadavg: loadavg() },
  options: v,
  minutes: 0,
  tfjs: [],
  torch: null,
};
/** Writes the report so far (after every measurement: a long run that is stopped keeps what it measured). */
function save() {
  report.minutes = (Date.now() - started) / 60000;
  report.machine.loadavg = loadavg();
  mkdirSync(dirname(v.json), { recursive: true });
  writeFileSync(v.json, JSON.stringify(report, null, 1));
}

/**
 * Runs one tfjs measurement in a child process (with this process' V8 flags, e.g.
 * `--experimental-wasm-relaxed-simd`), records its JSON line (or the error) in the report.
 */
function measure(opts) {
  process.stderr.write(`[${elapsed()}] ${JSON.stringify(opts)}\n`);
  const r = spawnSync(process.execPath, [...process.execArgv, '--max-old-space-size=8192', 'bench/lib/tasks.mjs', JSON.stringify(opts)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
  });
  let result;
  if (r.status !== 0) {
    result = { ...opts, error: (r.stderr ?? '').split('\n').filter(Boolean).slice(-3).join(' | ') };
    process.stderr.write(`  failed (exit ${r.status}): ${result.error}\n`);
  } else {
    result = JSON.parse(r.stdout.trim().split('\n').pop());
    process.stderr.write(`  ${JSON.stringify(result.result).slice(0, 300)}\n`);
  }
  report.tfjs.push(result);
  save();
}

report.torch = runTorch();
save();

// wasm runs with and without @mmc/kernels (--kernels; --gemm off keeps its matMuls on XNNPACK) and at each thread count (--threads: XNNPACK's pool, useBackend's `threads`).
const kernelVariants = v.kernels === 'both' ? [false, true] : [v.kernels === 'on'];
const variants = (backend) =>
  backend !== 'wasm' ? [{ kernels: false, threads: 1 }] : list(v.threads).map(Number).flatMap((threads) => kernelVariants.map((kernels) => ({ kernels, threads })));
for (const backend of list(v.backends)) {
  const cpu = backend === 'cpu';
  for (const { kernels, threads } of variants(backend)) {
    const base = { backend, kernels, ...(kernels && v.gemm === 'off' ? { gemm: false } : {}), threads, repeats: cpu ? num('cpu-repeats') : num('repeats') };
    if (only.has('train') && (!cpu || cpuTasks.has('train'))) {
      for (const config of cpu ? list(v['cpu-configs']) : configs) {
        measure({ ...base, task: 'train', config, batch: num('batch'), headHidden: num('head-hidden'), warmup: cpu ? 0 : num('warmup') });
      }
    }
    for (const task of ['knn', 'simdist', 'segment']) {
      if (only.has(task) && (!cpu || cpuTasks.has(task))) measure({ ...base, task, warmup: 0 });
    }
  }
}
if (only.has('leak')) measure({ task: 'leak', backend: list(v.backends)[0], kernels: false, threads: 1, steps: num('leak-steps') });

/** PyTorch in the same sitting: bench/pytorch/mmc_bench.py with Debian's python and torch. */
function runTorch() {
  const py = '/usr/bin/python3';
  if (v.torch === 'off' || !existsSync(py)) return null;
  const probe = spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    process.stderr.write('PyTorch not found for /usr/bin/python3 (apt-get install -y python3-torch libopenblas0-pthread): skipped\n');
    return null;
  }
  const tasks = ['train', 'knn', 'simdist', 'segment'].filter((t) => only.has(t));
  if (tasks.length === 0) return null;
  const out = join(tmpdir(), `mmc-torch-${process.pid}.json`);
  const args = ['bench/pytorch/mmc_bench.py', '--threads', '2', '--configs', configs.join(','), '--batch', v.batch,
    '--head-hidden', v['head-hidden'], '--repeats', v.repeats, '--warmup', v.warmup, '--only', tasks.join(','), '--json', out];
  process.stderr.write(`[${elapsed()}] ${py} ${args.join(' ')}\n`);
  const r = spawnSync(py, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) return null;
  const res = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  return res;
}
console.log(markdownTable(report));
process.stderr.write(`[${elapsed()}] wrote ${v.json}\n`);
