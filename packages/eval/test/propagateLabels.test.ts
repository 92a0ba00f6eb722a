import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { propagateLabels } from '../src/propagateLabels.js';
import { expectClose, expectNoLeak, randn, largestErrorSeen } from '../../../test-setup/numeric.js';

/** Float64 reference of one DINO label_propagation step (exp, mask, top-k with ties, normalise). */
function refStep(tgt: Float64Array, ctx: Float64Array[], soft: Float64Array[], h: number, w: number, D: number, C: number, topk: number, nb: number, temp: number): Float64Array {
  const N = h * w;
  const unit = (a: Float64Array, i: number) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += a[i * D + d] ** 2;
    const n = Math.sqrt(s);
    return Array.from({ length: D }, (_, d) => a[i * D + d] / n);
  };
  const out = new Float64Array(C * N);
  for (let n = 0; n < N; n++) {
    const q = unit(tgt, n);
    const aff: number[] = [];
    ctx.forEach((f) => {
      for (let m = 0; m < N; m++) {
        const k = unit(f, m);
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[d] * k[d];
        const near = nb === 0 || (Math.abs(Math.floor(m / w) - Math.floor(n / w)) <= nb && Math.abs((m % w) - (n % w)) <= nb);
        aff.push(near ? Math.exp(dot / temp) : 0);
      }
    });
    const kth = aff.slice().sort((a, b) => b - a)[Math.min(topk, aff.length) - 1];
    let sum = 0;
    for (let i = 0; i < aff.length; i++) sum += aff[i] = aff[i] >= kth ? aff[i] : 0;
    for (let c = 0; c < C; c++) {
      let acc = 0;
      soft.forEach((s, t) => {
        for (let m = 0; m < N; m++) acc += s[c * N + m] * (aff[t * N + m] / sum);
      });
      out[c * N + n] = acc;
    }
  }
  return out;
}

/** PyTorch bilinear, align_corners=False, integer scale p: src = (dst + 0.5)/p − 0.5, clamped at 0. */
function refUpsample(soft: Float64Array, C: number, h: number, w: number, p: number): Float64Array {
  const H = h * p;
  const W = w * p;
  const out = new Float64Array(C * H * W);
  const coord = (dst: number, size: number) => {
    const src = Math.max(0, (dst + 0.5) / p - 0.5);
    const i0 = Math.min(Math.floor(src), size - 1);
    const i1 = Math.min(i0 + 1, size - 1);
    return [i0, i1, src - i0] as const;
  };
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const [y0, y1, fy] = coord(y, h);
      for (let x = 0; x < W; x++) {
        const [x0, x1, fx] = coord(x, w);
        const g = (i: number, j: number) => soft[(c * h + i) * w + j];
        out[(c * H + y) * W + x] = (1 - fy) * ((1 - fx) * g(y0, x0) + fx * g(y0, x1)) + fy * ((1 - fx) * g(y1, x0) + fx * g(y1, x1));
      }
    }
  }
  return out;
}

/** DINO norm_mask then argmax over channels; also returns the top-2 margin per pixel. */
function refLabels(up: Float64Array, C: number, HW: number): { labels: Int32Array; margin: Float64Array } {
  const v = Float64Array.from(up);
  for (let c = 0; c < C; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < HW; i++) {
      lo = Math.min(lo, v[c * HW + i]);
      hi = Math.max(hi, v[c * HW + i]);
    }
    if (hi > 0) for (let i = 0; i < HW; i++) v[c * HW + i] = hi > lo ? (v[c * HW + i] - lo) / (hi - lo) : 0;
  }
  const labels = new Int32Array(HW);
  const margin = new Float64Array(HW);
  for (let i = 0; i < HW; i++) {
    let best = -Infinity;
    let second = -Infinity;
    for (let c = 0; c < C; c++) {
      const x = v[c * HW + i];
      if (x > best) {
        second = best;
        best = x;
        labels[i] = c;
      } else if (x > second) second = x;
    }
    margin[i] = best - second;
  }
  return { labels, margin };
}

/** The whole protocol in float64: first-frame nearest sampling, queue, propagation, labels. */
function refPropagate(frames: Float64Array[], first: Int32Array, h: number, w: number, D: number, p: number, C: number, o: { topk: number; n: number; nb: number; temp: number }) {
  const N = h * w;
  const W = w * p;
  const oneHot = new Float64Array(C * N);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) oneHot[first[(i * p + Math.floor(p / 2)) * W + j * p + Math.floor(p / 2)] * N + i * w + j] = 1;
  const queue: { f: Float64Array; s: Float64Array }[] = [];
  const softs: Float64Array[] = [];
  const labels: { labels: Int32Array; margin: Float64Array }[] = [];
  for (let t = 1; t < frames.length; t++) {
    const s = refStep(frames[t], [frames[0], ...queue.map((q) => q.f)], [oneHot, ...queue.map((q) => q.s)], h, w, D, C, o.topk, o.nb, o.temp);
    softs.push(s);
    labels.push(refLabels(refUpsample(s, C, h, w, p), C, N * p * p));
    queue.push({ f: frames[t], s });
    if (queue.length > o.n) queue.shift();
  }
  return { softs, labels };
}

/** Circular shift of a [h, w, D] (or [h, w]) grid by (dy, dx). */
function roll(a: ArrayLike<number>, h: number, w: number, D: number, dy: number, dx: number): Float64Array {
  const out = new Float64Array(h * w * D);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let d = 0; d < D; d++) out[((((i + dy) % h) + h) % h * w + ((((j + dx) % w) + w) % w)) * D + d] = a[(i * w + j) * D + d];
  return out;
}

/** Nearest upsampling of a patch label grid to pixels. */
function toPixels(grid: ArrayLike<number>, h: number, w: number, p: number): Int32Array {
  const out = new Int32Array(h * p * w * p);
  for (let y = 0; y < h * p; y++) for (let x = 0; x < w * p; x++) out[y * w * p + x] = grid[Math.floor(y / p) * w + Math.floor(x / p)];
  return out;
}

function iou(a: Int32Array, b: Int32Array, c: number): number {
  let i = 0;
  let u = 0;
  for (let k = 0; k < a.length; k++) {
    i += +(a[k] === c && b[k] === c);
    u += +(a[k] === c || b[k] === c);
  }
  return u === 0 ? 1 : i / u;
}

/** A video whose frames are circular shifts of frame 0's random features, and its label grid. */
function shiftedVideo(seed: number, T: number, h: number, w: number, D: number) {
  const f0 = randn(seed, h * w * D);
  const grid = new Int32Array(h * w);
  for (let i = 1; i < 4; i++) for (let j = 1; j < 4; j++) grid[i * w + j] = 1; // a 3×3 object
  for (let i = 3; i < h; i++) grid[i * w + w - 1] = 2; // a thin one at the right edge
  const frames = Array.from({ length: T }, (_, t) => roll(f0, h, w, D, t, 2 * t));
  const grids = Array.from({ length: T }, (_, t) => Int32Array.from(roll(grid, h, w, 1, t, 2 * t)));
  return { frames, grids };
}

describe('propagateLabels', () => {
  it('labels follow a shifting video exactly at patch level and match the float64 reference at pixels', () => {
    const [T, h, w, D, p] = [6, 6, 7, 24, 4];
    for (const seed of [1, 2]) {
      const { frames, grids } = shiftedVideo(seed, T, h, w, D);
      const first = toPixels(grids[0], h, w, p);
      const res = propagateLabels(
        frames.map((f) => tf.tensor3d(Float32Array.from(f), [h, w, D])),
        first,
        { patchSize: p },
      );
      expect(res.shape).toEqual([h * p, w * p]);
      expect(res.numClasses).toBe(3);
      expect(res.labels.length).toBe(T - 1);
      const ref = refPropagate(frames.map((f) => Float64Array.from(Float32Array.from(f))), first, h, w, D, p, 3, { topk: 5, n: 7, nb: 12, temp: 0.1 });
      for (let t = 1; t < T; t++) {
        const soft = res.soft[t - 1];
        expect(soft.shape).toEqual([3, h, w]);
        const sd = soft.dataSync();
        expectClose(sd, ref.softs[t - 1], 1e-4);
        // Patch level: argmax of the soft map is the shifted label grid.
        const arg = tf.tidy(() => tf.argMax(soft, 0).dataSync());
        expect(Array.from(arg)).toEqual(Array.from(grids[t]));
        // Pixel level: identical to the reference wherever the reference is not a near-tie.
        const { labels, margin } = ref.labels[t - 1];
        let compared = 0;
        for (let i = 0; i < labels.length; i++) {
          if (margin[i] > 1e-3) {
            compared++;
            expect(res.labels[t - 1][i]).toBe(labels[i]);
          }
        }
        expect(compared).toBeGreaterThan(0.95 * labels.length);
        // And close to the shifted ground truth (bilinear upsampling rounds concave corners).
        const gt = toPixels(grids[t], h, w, p);
        for (const c of [0, 1, 2]) expect(iou(res.labels[t - 1], gt, c)).toBeGreaterThan(0.85);
        expect(iou(res.labels[t - 1], gt, 1)).toBeGreaterThan(0.95);
      }
      tf.dispose(res.soft);
    }
  });

  it('uses frame 0 plus the last nLastFrames predictions as context (queue semantics)', () => {
    const [T, h, w, D, p] = [5, 3, 4, 6, 2];
    // Unrelated random frames, so every context frame matters.
    const frames = Array.from({ length: T }, (_, t) => Float64Array.from(Float32Array.from(randn(50 + t, h * w * D))));
    const rng = createRng(5);
    const first = new Int32Array(h * p * w * p).map(() => rng.int(3));
    for (const n of [0, 1, 2, 7]) {
      const res = propagateLabels(frames.map((f) => tf.tensor3d(Float32Array.from(f), [h, w, D])), first, { patchSize: p, nLastFrames: n, neighborhood: 1, topk: 3 });
      const ref = refPropagate(frames, first, h, w, D, p, Math.max(...first) + 1, { topk: 3, n, nb: 1, temp: 0.1 });
      res.soft.forEach((s, i) => expectClose(s.dataSync(), ref.softs[i], 1e-4));
      tf.dispose(res.soft);
    }
  });

  it('samples the first label map at the patch centre pixel (PIL NEAREST), one-hot', () => {
    const [h, w, D, p] = [2, 2, 8, 4];
    const f = tf.randomNormal([h, w, D], 0, 1, 'float32', 3);
    const first = new Int32Array(h * p * w * p);
    first[2 * (w * p) + 2] = 2; // pixel (2, 2) = ⌊p/2⌋ offset of patch (0, 0)
    first[0] = 1; // the patch's corner pixel is ignored
    const res = propagateLabels([f, f], first, { patchSize: p, topk: 1 });
    expect(res.numClasses).toBe(3);
    const soft = res.soft[0].arraySync() as number[][][];
    expect(soft[2][0][0]).toBeCloseTo(1, 5); // identical frame, top-1: the label copies over
    expect(soft[1][0][0]).toBeCloseTo(0, 6);
    expect(soft[0][1][1]).toBeCloseTo(1, 5);
    tf.dispose([f, ...res.soft]);
  });

  it('accepts a [T, h, w, D] tensor, an array of tensors, or nested arrays alike', () => {
    const [T, h, w, D, p] = [3, 2, 3, 4, 2];
    const stack = tf.randomNormal([T, h, w, D], 0, 1, 'float32', 9);
    const list = tf.unstack(stack);
    const nested = list.map((t) => t.arraySync() as number[][][]);
    const first = Array.from({ length: h * p }, (_, y) => Array.from({ length: w * p }, (_, x) => (x < 3 ? 0 : 1 + (y % 2))));
    const a = propagateLabels(stack, first, { patchSize: p });
    const b = propagateLabels(list, first, { patchSize: p, numClasses: 3 });
    const c = propagateLabels(nested, { data: first.flat(), shape: [h * p, w * p] }, { patchSize: p });
    for (let t = 0; t < T - 1; t++) {
      expect(Array.from(b.labels[t])).toEqual(Array.from(a.labels[t]));
      expect(Array.from(c.labels[t])).toEqual(Array.from(a.labels[t]));
      expectClose(b.soft[t].dataSync(), a.soft[t].dataSync(), 1e-6);
    }
    tf.dispose([stack, ...list, ...a.soft, ...b.soft, ...c.soft]);
  });

  it('a single frame gives no predictions', () => {
    const res = propagateLabels([tf.zeros([2, 2, 3])], new Int32Array(16), { patchSize: 2 });
    expect(res.labels).toEqual([]);
    expect(res.soft).toEqual([]);
  });

  it('does not leak tensors (beyond the returned soft maps)', () => {
    const frames = [0, 1, 2, 3].map((s) => tf.randomNormal([3, 3, 5], 0, 1, 'float32', s));
    const stack = tf.stack(frames);
    const first = new Int32Array(36).map((_, i) => i % 3);
    expectNoLeak(() => propagateLabels(frames, first, { patchSize: 2, nLastFrames: 2 }).soft);
    expectNoLeak(() => propagateLabels(stack, first, { patchSize: 2 }).soft);
    expectNoLeak(() => propagateLabels(frames.map((f) => f.arraySync() as number[][][]), first, { patchSize: 2 }).soft);
    // Errors leave nothing behind either.
    expectNoLeak(() => {
      expect(() => propagateLabels([frames[0], [[[1, 2, 3, 4, 5]]]], first, { patchSize: 2 })).toThrow(ShapeError);
      expect(() => propagateLabels(frames, new Int32Array(36).fill(7), { patchSize: 2, numClasses: 3 })).toThrow(ValueError);
    });
    tf.dispose([...frames, stack]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const f = tf.zeros([2, 3, 4]);
    const good = new Int32Array(4 * 6);
    expect(() => propagateLabels([f, f], new Int32Array(5), { patchSize: 2 })).toThrow(ShapeError);
    expect(() => propagateLabels([f, f], new Int32Array(5), { patchSize: 2 })).toThrow(/firstLabels/);
    expect(() => propagateLabels([f, f], tf.zeros([4, 5]), { patchSize: 2 })).toThrow(/firstLabels must have shape \[4, 6\]/);
    expect(() => propagateLabels([f, tf.zeros([2, 3, 5])], good, { patchSize: 2 })).toThrow(/frames\[1\] must have shape \[2, 3, 4\]/);
    expect(() => propagateLabels([f, f], good.map(() => -1), { patchSize: 2 })).toThrow(ValueError);
    expect(() => propagateLabels([f, f], good.map(() => 3), { patchSize: 2, numClasses: 2 })).toThrow(/numClasses/);
    expect(() => propagateLabels([f, f], good, { patchSize: 0 })).toThrow(/patchSize/);
    expect(() => propagateLabels([f, f], good, { patchSize: 2, nLastFrames: -1 })).toThrow(/nLastFrames/);
    expect(() => propagateLabels([], good, { patchSize: 2 })).toThrow(/at least 1 frame/);
    expect(() => propagateLabels(tf.zeros([2, 3, 4]), good, { patchSize: 2 })).toThrow(/\[T, h, w, D\]/);
    f.dispose();
  });
});

afterAll(() => {
  console.log(`propagateLabels: largest error vs the float64 reference ${largestErrorSeen().toExponential(2)} (backend ${tf.getBackend()})`);
});
