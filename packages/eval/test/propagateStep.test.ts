import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { propagateStep } from '../src/propagateStep.js';
import { expectClose, expectNoLeak, randn, largestErrorSeen } from '../../../test-setup/numeric.js';

interface Dims { h: number; w: number; T: number; C: number; D: number }

/**
 * Float64 loop reference of DINO's label_propagation, written from the official code's
 * statement order: aff = exp(f_tgt·f_src / temp) · mask; per target column keep entries ≥ the
 * k-th largest (all context frames together); divide by the column sum; soft = segs · aff.
 * Returns the soft map [C, h, w] and, per target, how many entries were kept.
 */
function refStep(
  tgt: Float64Array,
  ctx: Float64Array,
  soft: Float64Array,
  { h, w, T, C, D }: Dims,
  topk: number,
  nb: number,
  temp: number,
  rows?: number[],
): { out: Float64Array; kept: number[] } {
  const N = h * w;
  const norm = (a: Float64Array, off: number) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += a[off + d] ** 2;
    return Math.max(Math.sqrt(s), 1e-12);
  };
  const out = new Float64Array(C * N);
  const kept: number[] = [];
  for (const n of rows ?? Array.from({ length: N }, (_, i) => i)) {
    const ti = Math.floor(n / w);
    const tj = n % w;
    const tn = norm(tgt, n * D);
    const aff: number[] = [];
    for (let t = 0; t < T; t++) {
      for (let m = 0; m < N; m++) {
        const off = (t * N + m) * D;
        const cn = norm(ctx, off);
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (tgt[n * D + d] / tn) * (ctx[off + d] / cn);
        let a = Math.exp(dot / temp);
        if (nb > 0) {
          const ci = Math.floor(m / w);
          const cj = m % w;
          if (Math.abs(ci - ti) > nb || Math.abs(cj - tj) > nb) a = 0;
        }
        aff.push(a);
      }
    }
    const sorted = aff.slice().sort((a, b) => b - a);
    const kth = sorted[Math.min(topk, sorted.length) - 1];
    let sum = 0;
    let count = 0;
    for (let i = 0; i < aff.length; i++) {
      if (aff[i] < kth) aff[i] = 0;
      else count++;
      sum += aff[i];
    }
    kept.push(count);
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let t = 0; t < T; t++) for (let m = 0; m < N; m++) acc += soft[(t * C + c) * N + m] * (aff[t * N + m] / sum);
      out[c * N + n] = acc;
    }
  }
  return { out, kept };
}

/** Random soft maps whose columns sum to 1 (like one-hot or propagated maps). */
function randomSoft(seed: number, T: number, C: number, N: number): Float64Array {
  const rng = createRng(seed);
  const s = new Float64Array(T * C * N);
  for (let t = 0; t < T; t++) {
    for (let m = 0; m < N; m++) {
      let tot = 0;
      for (let c = 0; c < C; c++) tot += s[(t * C + c) * N + m] = rng.next();
      for (let c = 0; c < C; c++) s[(t * C + c) * N + m] /= tot;
    }
  }
  return s;
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

function run(tgt: Float64Array, ctx: Float64Array, soft: Float64Array, d: Dims, opts: { topk?: number; neighborhood?: number; temperature?: number }) {
  const out = tf.tidy(() =>
    propagateStep(
      tf.tensor3d(Float32Array.from(tgt), [d.h, d.w, d.D]),
      tf.tensor4d(Float32Array.from(ctx), [d.T, d.h, d.w, d.D]),
      tf.tensor4d(Float32Array.from(soft), [d.T, d.C, d.h, d.w]),
      opts,
    ),
  );
  expect(out.shape).toEqual([d.C, d.h, d.w]);
  const data = Float64Array.from(out.dataSync());
  out.dispose();
  return data;
}

describe('propagateStep', () => {
  const cases: [Dims, number, number, number][] = [
    // dims, topk, neighborhood, temperature
    [{ h: 1, w: 1, T: 1, C: 1, D: 1 }, 5, 12, 0.1],
    [{ h: 3, w: 4, T: 1, C: 2, D: 5 }, 5, 12, 0.1],
    [{ h: 4, w: 5, T: 3, C: 3, D: 8 }, 5, 0, 0.1],
    [{ h: 4, w: 5, T: 3, C: 3, D: 8 }, 5, 1, 0.1],
    [{ h: 5, w: 3, T: 2, C: 4, D: 6 }, 1, 2, 0.1],
    [{ h: 2, w: 6, T: 4, C: 2, D: 3 }, 7, 1, 0.07],
    [{ h: 3, w: 3, T: 2, C: 3, D: 4 }, 100, 0, 0.1], // topk > T·N: everything kept
    [{ h: 3, w: 4, T: 2, C: 2, D: 6 }, 5, 0, 0.005], // tiny temperature: exp(1/T) overflows float32 without the shift
  ];
  for (const [d, topk, nb, temp] of cases) {
    for (const seed of [1, 2]) {
      it(`matches the float64 loop reference: ${JSON.stringify(d)} topk ${topk} nb ${nb} T ${temp} seed ${seed} (atol 2e-5)`, () => {
        const N = d.h * d.w;
        const tgt = f32(randn(seed, N * d.D));
        const ctx = f32(randn(seed + 100, d.T * N * d.D));
        const soft = f32(randomSoft(seed + 200, d.T, d.C, N));
        const ref = refStep(tgt, ctx, soft, d, topk, nb, temp);
        const got = run(tgt, ctx, soft, d, { topk, neighborhood: nb, temperature: temp });
        expectClose(got, ref.out, 2e-5);
        // Columns of a convex combination of probability columns sum to 1.
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let c = 0; c < d.C; c++) s += got[c * N + n];
          expect(s).toBeCloseTo(1, 5);
        }
      });
    }
  }

  it('keeps every entry tied with the k-th value (ties kept, as aff[aff < min(topk)] = 0)', () => {
    // Context features drawn from 3 distinct vectors: many exact ties in the affinity.
    const d: Dims = { h: 3, w: 4, T: 2, C: 3, D: 4 };
    const N = d.h * d.w;
    const protos = [
      [1, 0, 0, 0],
      [0, 2, 0, 0],
      [1, 1, 1, 0],
    ];
    const rng = createRng(7);
    const ctx = new Float64Array(d.T * N * d.D);
    for (let m = 0; m < d.T * N; m++) ctx.set(protos[rng.int(3)], m * d.D);
    const tgt = f32(randn(8, N * d.D));
    const soft = f32(randomSoft(9, d.T, d.C, N));
    for (const topk of [1, 2, 5]) {
      const ref = refStep(tgt, ctx, soft, d, topk, 0, 0.1);
      expect(Math.max(...ref.kept)).toBeGreaterThan(topk); // the test exercises ties
      const got = run(tgt, ctx, soft, d, { topk, neighborhood: 0 });
      expectClose(got, ref.out, 2e-5);
    }
  });

  it('differs from a strict top-k when ties exist (the kept ties matter)', () => {
    // One context frame, all context features equal: every entry ties; the result is the plain mean.
    const d: Dims = { h: 2, w: 3, T: 1, C: 2, D: 3 };
    const N = d.h * d.w;
    const ctx = new Float64Array(N * d.D);
    for (let m = 0; m < N; m++) ctx.set([0.3, -0.2, 0.9], m * d.D);
    const soft = f32(randomSoft(11, 1, d.C, N));
    const got = run(f32(randn(12, N * d.D)), ctx, soft, d, { topk: 1, neighborhood: 0 });
    for (let c = 0; c < d.C; c++) {
      let mean = 0;
      for (let m = 0; m < N; m++) mean += soft[c * N + m] / N;
      for (let n = 0; n < N; n++) expect(got[c * N + n]).toBeCloseTo(mean, 5);
    }
  });

  it('neighborhood: context outside the window has no influence on a target position', () => {
    const d: Dims = { h: 6, w: 7, T: 2, C: 2, D: 5 };
    const N = d.h * d.w;
    const nb = 1;
    const tgt = f32(randn(20, N * d.D));
    const ctx = f32(randn(21, d.T * N * d.D));
    const soft = f32(randomSoft(22, d.T, d.C, N));
    const base = run(tgt, ctx, soft, d, { neighborhood: nb });
    // Perturb everything outside the 3×3 window around target (2, 3), in both context frames.
    const ctx2 = Float64Array.from(ctx);
    const soft2 = Float64Array.from(soft);
    for (let t = 0; t < d.T; t++) {
      for (let m = 0; m < N; m++) {
        const i = Math.floor(m / d.w);
        const j = m % d.w;
        if (Math.abs(i - 2) > nb || Math.abs(j - 3) > nb) {
          for (let k = 0; k < d.D; k++) ctx2[(t * N + m) * d.D + k] = 5 * Math.sin(m + k + t);
          for (let c = 0; c < d.C; c++) soft2[(t * d.C + c) * N + m] = c === 0 ? 1 : 0;
        }
      }
    }
    const moved = run(tgt, ctx2, soft2, d, { neighborhood: nb });
    const n = 2 * d.w + 3;
    for (let c = 0; c < d.C; c++) expect(moved[c * N + n]).toBeCloseTo(base[c * N + n], 6);
    // With the restriction disabled, the same perturbation does change it.
    const free = run(tgt, ctx, soft, d, { neighborhood: 0 });
    const free2 = run(tgt, ctx2, soft2, d, { neighborhood: 0 });
    expect(Math.abs(free[n] - free2[n])).toBeGreaterThan(1e-4);
  });

  it('a window covering the whole grid equals no restriction', () => {
    const d: Dims = { h: 3, w: 5, T: 2, C: 3, D: 4 };
    const N = d.h * d.w;
    const tgt = f32(randn(30, N * d.D));
    const ctx = f32(randn(31, d.T * N * d.D));
    const soft = f32(randomSoft(32, d.T, d.C, N));
    expectClose(run(tgt, ctx, soft, d, { neighborhood: 4 }), run(tgt, ctx, soft, d, { neighborhood: 0 }), 1e-6);
  });

  it('computes large grids in chunks of target rows (matches the reference across the chunk boundary)', () => {
    // N·M > 2^22 forces 2 chunks (560 rows each): h = w = 24, T = 13.
    const d: Dims = { h: 24, w: 24, T: 13, C: 2, D: 4 };
    const N = d.h * d.w;
    const tgt = f32(randn(40, N * d.D));
    const ctx = f32(randn(41, d.T * N * d.D));
    const soft = f32(randomSoft(42, d.T, d.C, N));
    const got = run(tgt, ctx, soft, d, { neighborhood: 3 });
    // Reference on the rows around the boundary and at both ends only (cost).
    const rows = [0, 1, 558, 559, 560, 561, N - 1];
    const ref = refStep(tgt, ctx, soft, d, 5, 3, 0.1, rows);
    for (const n of rows) for (let c = 0; c < d.C; c++) expect(Math.abs(got[c * N + n] - ref.out[c * N + n])).toBeLessThan(2e-5);
  }, 120_000);

  it('does not leak tensors', () => {
    const t = tf.randomNormal([3, 4, 5]);
    const cf = tf.randomNormal([2, 3, 4, 5]);
    const cs = tf.randomUniform([2, 3, 3, 4]);
    expectNoLeak(() => propagateStep(t, cf, cs));
    expectNoLeak(() => propagateStep(t, cf, cs, { neighborhood: 1, topk: 2 }));
    tf.dispose([t, cf, cs]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const t = tf.zeros([3, 4, 5]);
    const cf = tf.zeros([2, 3, 4, 5]);
    const cs = tf.zeros([2, 3, 3, 4]);
    expect(() => propagateStep(tf.zeros([3, 4]), cf, cs)).toThrow(ShapeError);
    expect(() => propagateStep(tf.zeros([3, 4]), cf, cs)).toThrow(/target/);
    expect(() => propagateStep(t, tf.zeros([2, 3, 4, 6]), cs)).toThrow(/contextFeatures must have shape \[T, 3, 4, 5\]/);
    expect(() => propagateStep(t, cf, tf.zeros([3, 3, 3, 4]))).toThrow(/contextSoft must have shape \[2, C, 3, 4\]/);
    expect(() => propagateStep(t, cf, cs, { topk: 0 })).toThrow(ValueError);
    expect(() => propagateStep(t, cf, cs, { topk: 0 })).toThrow(/topk/);
    expect(() => propagateStep(t, cf, cs, { neighborhood: -1 })).toThrow(/neighborhood/);
    expect(() => propagateStep(t, cf, cs, { temperature: 0 })).toThrow(/temperature/);
    tf.dispose([t, cf, cs]);
  });
});

afterAll(() => {
  console.log(`propagateStep: largest error vs the float64 reference ${largestErrorSeen().toExponential(2)} (backend ${tf.getBackend()})`);
});
