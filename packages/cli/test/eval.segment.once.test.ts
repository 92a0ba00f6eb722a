import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmcError } from '@mmc/core';
import { thresholdSweep, type SweepSample } from '@mmc/eval';
import { fixtureDir, runJson, runMmc, uniform } from './evalCli.js';

const fx = fixtureDir('segment');
afterAll(() => fx.cleanup());

// 4 images of 4×4 patches (patch 4 px → 16×16 targets), D = 8. Image i has an object of class
// CLS[i] on patch rows R0..R1, cols C0..C1 (background 0). Object patches lie near a per-class
// centre, background patches near another one, plus noise: similarities spread over [-1, 1].
const n = 4;
const h = 4;
const w = 4;
const p = 4;
const H = h * p;
const W = w * p;
const D = 8;
const CLS = [1, 2, 1, 3];
const BOX = [[0, 1, 0, 2], [1, 3, 1, 2], [2, 3, 0, 3], [0, 0, 3, 3]]; // r0, r1, c0, c1 (inclusive)
const PROMPT = [[1, 1], [2, 2], [3, 0], [0, 3]]; // a patch inside each box
const rand = uniform(5);
const centre = (k: number) => Array.from({ length: D }, (_, d) => Math.cos(1.7 * k + d) + (d === k ? 1 : 0));
const feats = new Float32Array(n * h * w * D);
const maps = new Uint8Array(n * H * W);
for (let i = 0; i < n; i++) {
  const [r0, r1, c0, c1] = BOX[i];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const inside = r >= r0 && r <= r1 && c >= c0 && c <= c1;
      const ctr = centre(inside ? CLS[i] : 0);
      for (let d = 0; d < D; d++) feats[((i * h + r) * w + c) * D + d] = ctr[d] + 0.9 * (rand() - 0.5);
      if (inside) for (let y = r * p; y < (r + 1) * p; y++) for (let x = c * p; x < (c + 1) * p; x++) maps[(i * H + y) * W + x] = CLS[i];
    }
  }
}
const f: Record<string, string> = {};
beforeAll(async () => {
  f.x = await fx.npy('patches.npy', { dtype: 'float32', shape: [n, h, w, D], data: feats });
  f.t = await fx.npy('targets.npy', { dtype: 'uint8', shape: [n, H, W], data: maps });
  f.p = await fx.npy('prompts.npy', { dtype: 'int64', shape: [n, 2], data: BigInt64Array.from(PROMPT.flat(), (v) => BigInt(v)) });
});

/** The samples the protocol defines, built here from the fixture's known classes. */
function expectedSamples(): SweepSample[] {
  return Array.from({ length: n }, (_, i) => ({
    patches: { data: feats.subarray(i * h * w * D, (i + 1) * h * w * D), shape: [h, w, D] },
    prompt: { row: PROMPT[i][0], col: PROMPT[i][1] },
    target: { data: Uint8Array.from(maps.subarray(i * H * W, (i + 1) * H * W), (v) => (v === CLS[i] ? 1 : 0)), shape: [H, W] },
    classId: CLS[i],
  }));
}

describe('mmc eval segment', () => {
  it('--json equals thresholdSweep on the same samples (class = the label under the prompt)', async () => {
    const lib = thresholdSweep(expectedSamples());
    const j = await runJson(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', f.p]);
    expect(j.command).toBe('eval segment');
    expect(j.miouByThreshold).toEqual(lib.miouByThreshold);
    expect(j.best).toEqual(lib.best);
    expect(j.thresholds).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(j.classes).toEqual([1, 2, 3]);
    expect(j).toMatchObject({ samples: n, patchGrid: [h, w], targetSize: [H, W], dim: D });
    expect(j.best.miou).toBeGreaterThan(0.3); // the fixture is segmentable
    const libT = thresholdSweep(expectedSamples(), { thresholds: [0, 0.5, 0.9] });
    const jT = await runJson(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', f.p, '--thresholds', '0,0.5,0.9']);
    expect(jT.miouByThreshold).toEqual(libT.miouByThreshold);
  });

  it('--pixel-prompts, --classes and --binary-targets give the same sweep', async () => {
    const base = await runJson(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', f.p]);
    // (y, x) pixels inside the prompt patches, fractional
    const pix = Float32Array.from(PROMPT.flatMap(([r, c]) => [r * p + 1.5, c * p + 2.25]));
    const pp = await fx.npy('pixels.npy', { dtype: 'float32', shape: [n, 2], data: pix });
    const a = await runJson(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', pp, '--pixel-prompts']);
    expect(a.miouByThreshold).toEqual(base.miouByThreshold);
    const cls = await fx.npy('classes.npy', { dtype: 'int32', shape: [n], data: Int32Array.from(CLS) });
    const b = await runJson(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', f.p, '--classes', cls]);
    expect(b.miouByThreshold).toEqual(base.miouByThreshold);
    const bin = await fx.npy('binary.npy', { dtype: 'uint8', shape: [n, H, W], data: Uint8Array.from(maps, (v) => (v > 0 ? 1 : 0)) });
    const c = await runJson(['eval', 'segment', '--features', f.x, '--targets', bin, '--prompts', f.p, '--classes', cls, '--binary-targets']);
    expect(c.miouByThreshold).toEqual(base.miouByThreshold);
  });

  it('prints the per-threshold table and writes a report with similarity maps', async () => {
    const report = fx.path('seg.html');
    const r = await runMmc(['eval', 'segment', '--features', f.x, '--targets', f.t, '--prompts', f.p, '--backend', 'cpu', '--quiet', '--report', report]);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/threshold\s+mIoU\n-+\s+-+\n0\.1\s+\d\.\d{4}\n0\.2/);
    expect(r.stdout).toMatch(/best \(0\.\d\)\s+\d\.\d{4}/);
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<img /g)).toHaveLength(4);
    expect(html).toContain('data:image/png;base64,');
  });

  it('names the file and the problem for bad prompts and targets', async () => {
    const run = (...a: string[]) => runMmc(['eval', 'segment', '--features', f.x, '--backend', 'cpu', '--quiet', ...a]);
    const out = await fx.npy('p_out.npy', { dtype: 'int32', shape: [n, 2], data: Int32Array.from([0, 0, 4, 1, 0, 0, 0, 0]) });
    let r = await run('--targets', f.t, '--prompts', out);
    expect(r.error).toBeInstanceOf(MmcError);
    expect(r.error!.message).toMatch(/^eval segment: --prompts \S*p_out\.npy: prompt 1 = \(row 4, col 1\) is outside the 4×4 patch grid/);
    const p3 = await fx.npy('p3.npy', { dtype: 'int32', shape: [3, 2], data: new Int32Array(6) });
    r = await run('--targets', f.t, '--prompts', p3);
    expect(r.error!.message).toMatch(/--prompts \S*p3\.npy has shape \[3, 2\] but --features \S*patches\.npy has shape \[4, 4, 4, 8\]: one \(row, col\) prompt per sample is needed \(expected \[4, 2\]\)/);
    const pf = await fx.npy('pf.npy', { dtype: 'float32', shape: [n, 2], data: new Float32Array(8) });
    r = await run('--targets', f.t, '--prompts', pf);
    expect(r.error!.message).toMatch(/pf\.npy: patch prompts \(row, col\) must have an integer dtype/);
    const tf32 = await fx.npy('tf.npy', { dtype: 'float32', shape: [n, H, W], data: new Float32Array(n * H * W) });
    r = await run('--targets', tf32, '--prompts', f.p);
    expect(r.error!.message).toMatch(/--targets \S*tf\.npy: targets must have an integer dtype/);
    const t3 = await fx.npy('t3.npy', { dtype: 'uint8', shape: [n - 1, H, W], data: new Uint8Array((n - 1) * H * W) });
    r = await run('--targets', t3, '--prompts', f.p);
    expect(r.error!.message).toMatch(/--targets \S*t3\.npy has shape \[3, 16, 16\] but --features \S*patches\.npy has shape \[4, 4, 4, 8\]: one \[H, W\] target per sample/);
    r = await run('--targets', f.t, '--prompts', f.p, '--binary-targets');
    expect(r.error!.message).toMatch(/--targets \S*targets\.npy: --binary-targets needs 0\/1 masks, sample 1 has 2 at pixel \(4, 4\)/);
    expect(r.stdout).toBe('');
  });
});
