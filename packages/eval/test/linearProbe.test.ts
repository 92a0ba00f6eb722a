import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { linearProbe } from '../src/linearProbe.js';
import { expectClose, expectNoLeak, numericGrad, randn, largestErrorSeen } from '../../../test-setup/numeric.js';

/** Float64 softmax cross-entropy (mean over rows) of logits X·W + b; W row-major [D, C]. */
function refLoss(X: Float64Array, y: Int32Array, params: Float64Array, N: number, D: number, C: number): number {
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      z[c] = params[D * C + c];
      for (let d = 0; d < D; d++) z[c] += X[i * D + d] * params[d * C + c];
    }
    const m = Math.max(...z);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[c] - m);
    loss += -(z[y[i]] - m - Math.log(s));
  }
  return loss / N;
}

/** Its gradient by the loops of the chain rule: ∂/∂z = softmax − onehot, summed into W and b. */
function refGrad(X: Float64Array, y: Int32Array, params: Float64Array, N: number, D: number, C: number): Float64Array {
  const g = new Float64Array(params.length);
  for (let i = 0; i < N; i++) {
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      z[c] = params[D * C + c];
      for (let d = 0; d < D; d++) z[c] += X[i * D + d] * params[d * C + c];
    }
    const m = Math.max(...z);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[c] - m);
    for (let c = 0; c < C; c++) {
      const dz = (Math.exp(z[c] - m) / s - (c === y[i] ? 1 : 0)) / N;
      for (let d = 0; d < D; d++) g[d * C + c] += X[i * D + d] * dz;
      g[D * C + c] += dz;
    }
  }
  return g;
}

/** Full-batch AdamW (PyTorch order; decay on W only) from zeros, in float64. */
function refAdamW(X: Float64Array, y: Int32Array, N: number, D: number, C: number, o: { epochs: number; lr: number; wd: number }) {
  const p = new Float64Array(D * C + C);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const losses: number[] = [];
  for (let t = 1; t <= o.epochs; t++) {
    losses.push(refLoss(X, y, p, N, D, C));
    const g = refGrad(X, y, p, N, D, C);
    for (let i = 0; i < p.length; i++) {
      if (i < D * C) p[i] -= o.lr * o.wd * p[i];
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const mh = m[i] / (1 - 0.9 ** t);
      const vh = v[i] / (1 - 0.999 ** t);
      p[i] -= (o.lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return { params: p, losses };
}

/** C well-separated Gaussian blobs in D dimensions: centres from `seed`, samples from `noiseSeed`. */
function blobs(seed: number, n: number, D: number, C: number, noiseSeed = seed + 1000, spread = 0.5) {
  const crng = createRng(seed);
  const centres = Array.from({ length: C }, () => Array.from({ length: D }, () => crng.normal() * 3));
  const rng = createRng(noiseSeed);
  const X = new Float32Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % C;
    for (let d = 0; d < D; d++) X[i * D + d] = centres[y[i]][d] + spread * rng.normal();
  }
  return { X, y };
}

describe('linearProbe', () => {
  it('the float64 reference gradient matches central finite differences (checks the reference)', () => {
    const [N, D, C] = [7, 3, 4];
    const X = randn(1, N * D);
    const y = Int32Array.from({ length: N }, (_, i) => (i * 3) % C);
    const p = randn(2, D * C + C, 0.5);
    const g = refGrad(X, y, p, N, D, C);
    expectClose(g, numericGrad((q) => refLoss(X, y, q, N, D, C), p), 1e-8);
  });

  for (const [N, D, C, wd] of [[12, 3, 2, 0], [20, 5, 4, 0.05], [1, 2, 3, 0.01]] as const) {
    it(`full-batch training matches a float64 AdamW loop: N=${N} D=${D} C=${C} wd=${wd} (atol 1e-4 on weights, 1e-5 on losses)`, () => {
      const X = Float64Array.from(Float32Array.from(randn(N + D, N * D)));
      // Unbalanced labels: with balanced ones the first bias gradient is exactly 0 in float64 and
      // ~1e-9 in float32, which Adam's m/√v turns into a full step (a conditioning artefact).
      const rng = createRng(N * 31 + C);
      const y = Int32Array.from({ length: N }, () => (rng.next() < 0.6 ? 0 : 1 + rng.int(C - 1)));
      for (let c = 0; c < C && N > 1; c++) expect(y.filter((v) => v === c).length).not.toBe(N / C);
      const epochs = 25;
      const lr = 0.05;
      const ref = refAdamW(X, y, N, D, C, { epochs, lr, wd });
      const res = linearProbe({
        trainFeatures: tf.tensor2d(Float32Array.from(X), [N, D]),
        trainLabels: y,
        testFeatures: { data: Float32Array.from(X), shape: [N, D] },
        testLabels: y,
        numClasses: C,
        epochs,
        lr,
        weightDecay: wd,
        batchSize: 256,
        valFraction: 0,
      });
      expect(res.epochsRun).toBe(epochs);
      expect(res.bestEpoch).toBe(epochs - 1);
      expect(res.weights.shape).toEqual([D, C]);
      expect(res.bias.shape).toEqual([C]);
      expect(res.history.trainLoss[0]).toBeCloseTo(Math.log(C), 6); // zeros init
      expectClose(res.history.trainLoss, ref.losses, 1e-5);
      expectClose(res.weights.dataSync(), ref.params.subarray(0, D * C), 1e-4);
      expectClose(res.bias.dataSync(), ref.params.subarray(D * C), 1e-4);
      expect(res.history.valLoss).toEqual([]);
      tf.dispose([res.weights, res.bias]);
    });
  }

  it('learns a linearly separable problem to 100 % with the default options', () => {
    for (const seed of [3, 4]) {
      const train = blobs(seed, 300, 6, 4);
      const test = blobs(seed, 120, 6, 4, seed + 2000); // same centres, new samples
      const res = linearProbe({
        trainFeatures: { data: train.X, shape: [300, 6] },
        trainLabels: train.y,
        testFeatures: { data: test.X, shape: [120, 6] },
        testLabels: test.y,
        numClasses: 4,
        seed,
      });
      expect(res.top1).toBe(1);
      expect(res.predictions.length).toBe(120);
      expect(res.history.valAccuracy[res.bestEpoch]).toBe(1);
      tf.dispose([res.weights, res.bias]);
    }
  });

  it('mini-batches and a held-out split: deterministic per seed, early stopping restores the best epoch', () => {
    // Random labels: nothing to learn, the validation loss rises, training stops early.
    const [N, D, C] = [200, 20, 3];
    const X = Float32Array.from(randn(9, N * D));
    const rng = createRng(10);
    const y = Int32Array.from({ length: N }, () => rng.int(C));
    const run = (seed: number) =>
      linearProbe({ trainFeatures: { data: X, shape: [N, D] }, trainLabels: y, testFeatures: { data: X, shape: [N, D] }, numClasses: C, lr: 0.05, batchSize: 32, patience: 5, epochs: 200, seed });
    const a = run(1);
    const b = run(1);
    const c = run(2);
    expect(Array.from(a.weights.dataSync())).toEqual(Array.from(b.weights.dataSync()));
    expect(a.history.valLoss).toEqual(b.history.valLoss);
    expect(Array.from(a.weights.dataSync())).not.toEqual(Array.from(c.weights.dataSync()));
    expect(a.epochsRun).toBeLessThan(200);
    expect(a.epochsRun).toBe(a.bestEpoch + 5 + 1);
    const minVal = Math.min(...a.history.valLoss);
    expect(a.history.valLoss[a.bestEpoch]).toBe(minVal);
    expect(a.history.valLoss.length).toBe(a.epochsRun);
    expect(a.history.trainLoss.length).toBe(a.epochsRun);
    tf.dispose([a.weights, a.bias, b.weights, b.bias, c.weights, c.bias]);
  });

  it('does not leak tensors', () => {
    const { X, y } = blobs(5, 40, 4, 3);
    const feats = tf.tensor2d(X, [40, 4]);
    const labels = tf.tensor1d(y, 'int32');
    expectNoLeak(() => {
      const r = linearProbe({ trainFeatures: feats, trainLabels: y, testFeatures: feats, testLabels: y, numClasses: 3, epochs: 5, batchSize: 16 });
      return [r.weights, r.bias];
    });
    expectNoLeak(() => {
      const r = linearProbe({ trainFeatures: { data: X, shape: [40, 4] }, trainLabels: labels, testFeatures: feats, numClasses: 3, epochs: 3, valFraction: 0 });
      return [r.weights, r.bias];
    });
    tf.dispose([feats, labels]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const X = { data: new Float32Array(12), shape: [4, 3] };
    const y = [0, 1, 0, 1];
    const base = { trainFeatures: X, trainLabels: y, testFeatures: X, numClasses: 2 };
    expect(() => linearProbe({ ...base, trainLabels: [0, 1, 2, 1] })).toThrow(ValueError);
    expect(() => linearProbe({ ...base, trainLabels: [0, 1, 2, 1] })).toThrow(/trainLabels/);
    expect(() => linearProbe({ ...base, trainLabels: [0, 1] })).toThrow(ShapeError);
    expect(() => linearProbe({ ...base, testFeatures: { data: new Float32Array(8), shape: [4, 2] } })).toThrow(/testFeatures must have shape \[M, 3\]/);
    expect(() => linearProbe({ ...base, testLabels: [0] })).toThrow(/testLabels/);
    expect(() => linearProbe({ ...base, valFraction: 1 })).toThrow(/valFraction/);
    expect(() => linearProbe({ ...base, lr: 0 })).toThrow(/lr/);
    expect(() => linearProbe({ ...base, numClasses: 1 })).toThrow(/numClasses/);
    expect(() => linearProbe({ ...base, trainFeatures: { data: new Float32Array(4), shape: [4] } })).toThrow(/trainFeatures/);
  });
});

afterAll(() => {
  console.log(`linearProbe: largest error vs the float64 reference ${largestErrorSeen().toExponential(2)} (backend ${tf.getBackend()})`);
});
