import * as tf from '@tensorflow/tfjs';
import { PAGE_BACKENDS, startBackend, type PageBackend } from '../backend.js';
import { judgeCase, PARITY_TOLERANCES, type CaseVerdict } from './compare.js';
import { PARITY_CASES, type ParityValues } from './suite.js';

/** What the parity page exposes as `window.mmcParity` (the e2e test reads it). */
export interface ParityReport {
  done: boolean;
  /** Backends run, the reference (cpu) first. */
  backends: string[];
  /** Backend → case → verdict against cpu. */
  verdicts: Record<string, Record<string, CaseVerdict>>;
  /** Backend → case → seconds. */
  seconds: Record<string, Record<string, number>>;
  /** Backend → case → first value of each scalar output (e.g. 'value', 'step 2 loss'). */
  scalars: Record<string, Record<string, Record<string, number>>>;
  /** Backend → why it could not run. */
  errors: Record<string, string>;
}

declare global {
  interface Window {
    mmcParity?: ParityReport;
  }
}

const report: ParityReport = { done: false, backends: [], verdicts: {}, seconds: {}, scalars: {}, errors: {} };
window.mmcParity = report;

function wanted(): PageBackend[] {
  const q = new URLSearchParams(location.search).get('backends');
  const list = (q ? q.split(',') : ['cpu', 'wasm', 'webgl', 'webgpu']).filter((b): b is PageBackend => (PAGE_BACKENDS as readonly string[]).includes(b));
  return ['cpu', ...list.filter((b) => b !== 'cpu')];
}

/** `?cases=a,b` runs only those cases (default: all). */
function cases() {
  const q = new URLSearchParams(location.search).get('cases');
  return q ? PARITY_CASES.filter((c) => q.split(',').includes(c.name)) : PARITY_CASES;
}

function render() {
  const table = document.getElementById('table') as HTMLTableElement;
  const others = report.backends.slice(1);
  const rows = [`<tr><th>case</th><th>tolerance</th>${others.map((b) => `<th>${b}</th>`).join('')}</tr>`];
  for (const c of cases()) {
    const t = PARITY_TOLERANCES[c.name];
    const tol = `rel ${t.relMax}${t.robust ? `; updates ≤ ${t.robust.fracOff * 100} % off` : ''}`;
    const cells = others.map((b) => {
      const v = report.verdicts[b]?.[c.name];
      if (!v) return `<td>${report.errors[b] ? 'error' : '…'}</td>`;
      const robust = v.worstFracOffKey ? `; ${(v.worstFracOff * 100).toFixed(2)} % off` : '';
      return `<td class="${v.pass ? 'pass' : 'fail'}">${v.worstRelMax.toExponential(1)}${robust}</td>`;
    });
    rows.push(`<tr><th>${c.name}</th><td>${tol}</td>${cells.join('')}</tr>`);
  }
  table.innerHTML = rows.join('');
}

async function run() {
  const progress = document.getElementById('progress') as HTMLElement;
  let reference: Record<string, ParityValues> | undefined;
  for (const backend of wanted()) {
    try {
      await startBackend(backend);
    } catch (e) {
      report.errors[backend] = (e as Error).message;
      continue;
    }
    report.backends.push(backend);
    const values: Record<string, ParityValues> = {};
    report.seconds[backend] = {};
    report.scalars[backend] = {};
    report.verdicts[backend] = {};
    for (const c of cases()) {
      progress.textContent = `${backend}: ${c.name}…`;
      const t0 = performance.now();
      values[c.name] = await c.run();
      report.seconds[backend][c.name] = (performance.now() - t0) / 1000;
      report.scalars[backend][c.name] = Object.fromEntries(Object.entries(values[c.name]).filter(([, v]) => v.length === 1).map(([k, v]) => [k, v[0]]));
      if (reference) report.verdicts[backend][c.name] = judgeCase(c.name, values[c.name], reference[c.name]);
      render();
    }
    reference ??= values;
  }
  progress.textContent = `done (tensors left: ${tf.memory().numTensors})`;
  report.done = true;
  document.body.dataset.state = 'ready';
}

run().catch((e) => {
  report.errors.page = String(e);
  report.done = true;
  document.body.dataset.state = 'error';
});
