import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { maeLoss } from '../src/maeLoss.js';
import { expectClose, expectNoLeak, numericGrad, randn } from '../../../test-setup/numeric.js';

interface Dims { B: number; H: number; W: number; C: number; p: number }

/** Float64 loop patchify: token n = i·(W/p) + j, element (r·p + c)·C + ch (MAE order). */
function refPatchify(img: Float64Array, { B, H, W, C, p }: Dims): Float64Array {
  const h = H / p;
  const w = W / p;
  const P = p * p * C;
  const out = new Float64Array(B * h * w * P);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let r = 0; r < p; r++)
          for (let c = 0; c < p; c++)
            for (let ch = 0; ch < C; ch++) {
              const n = i * w + j;
              out[(b * h * w + n) * P + (r * p + c) * C + ch] = img[((b * H + i * p + r) * W + j * p + c) * C + ch];
            }
  return out;
}

/** Float64 reference of MAE's forward_loss (unbiased per-patch variance, eps 1e-6; 0 when Σmask = 0). */
function refMae(pred: Float64Array, img: Float64Array, mask: Float64Array, d: Dims, normPix: boolean): number {
  const target = refPatchify(img, d);
  const P = d.p * d.p * d.C;
  const tokens = target.length / P;
  let num = 0;
  let msum = 0;
  for (let t = 0; t < tokens; t++) {
    let mean = 0;
    for (let k = 0; k < P; k++) mean += target[t * P + k];
    mean /= P;
    let ss = 0;
    for (let k = 0; k < P; k++) ss += (target[t * P + k] - mean) ** 2;
    const std = Math.sqrt(ss / (P - 1) + 1e-6);
    let l = 0;
    for (let k = 0; k < P; k++) {
      const y = normPix ? (target[t * P + k] - mean) / std : target[t * P + k];
      l += (pred[t * P + k] - y) ** 2;
    }
    num += (l / P) * mask[t];
    msum += mask[t];
  }
  return msum === 0 ? 0 : num / msum;
}

function randomMask(seed: number, n: number, ratio = 0.6): Float64Array {
  const rng = createRng(seed);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < ratio ? 1 : 0;
  if (!m.some((v) => v === 1)) m[rng.int(n)] = 1;
  return m;
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const T = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);

function data(seed: number, d: Dims) {
  const N = (d.H / d.p) * (d.W / d.p);
  const P = d.p * d.p * d.C;
  return {
    N,
    P,
    pred: f32(randn(seed, d.B * N * P)),
    img: f32(randn(seed + 1000, d.B * d.H * d.W * d.C)),
    mask: randomMask(seed + 2000, d.B * N),
  };
}

function run(pred: Float64Array, img: Float64Array, mask: Float64Array, d: Dims, normPix: boolean): number {
  const N = (d.H / d.p) * (d.W / d.p);
  const P = d.p * d.p * d.C;
  return tf.tidy(
    () =>
      maeLoss(T(pred, [d.B, N, P]), T(img, [d.B, d.H, d.W, d.C]), T(mask, [d.B, N]), { patchSize: d.p, normPix }).dataSync()[0],
  );
}

const DIMS: Dims[] = [
  { B: 1, H: 1, W: 1, C: 1, p: 1 },
  { B: 2, H: 4, W: 4, C: 3, p: 2 },
  { B: 1, H: 6, W: 4, C: 1, p: 2 },
  { B: 3, H: 2, W: 2, C: 3, p: 1 },
  { B: 2, H: 4, W: 6, C: 1, p: 2 },
  { B: 1, H: 4, W: 4, C: 3, p: 4 },
];
const SEEDS = [1, 2, 3];

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`maeLoss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

describe('maeLoss', () => {
  it('matches the float64 loop reference (normPix off and on, several shapes and seeds)', () => {
    for (const d of DIMS) {
      for (const normPix of [false, true]) {
        if (normPix && d.p * d.p * d.C === 1) continue;
        for (const seed of SEEDS) {
          const { pred, img, mask } = data(seed, d);
          // O(1) values, float32 means of ≤ 48 terms and a sqrt: atol 1e-5 + rtol 1e-5.
          const err = expectClose([run(pred, img, mask, d, normPix)], [refMae(pred, img, mask, d, normPix)], 1e-5, 1e-5);
          largestValueErr = Math.max(largestValueErr, err);
        }
      }
    }
  });

  it('gradients w.r.t. predPatches (and images under normPix) match central differences', () => {
    for (const d of [DIMS[0], DIMS[1], DIMS[3]]) {
      for (const normPix of [false, true]) {
        if (normPix && d.p * d.p * d.C === 1) continue;
        for (const seed of SEEDS) {
          const { N, P, pred, img, mask } = data(seed + 50, d);
          const [gp, gi] = tf.tidy(() => {
            const m = T(mask, [d.B, N]);
            const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => maeLoss(a, b, m, { patchSize: d.p, normPix }));
            return g([T(pred, [d.B, N, P]), T(img, [d.B, d.H, d.W, d.C])]).map((x) => x.dataSync());
          });
          const np = numericGrad((x) => refMae(x, img, mask, d, normPix), pred, 1e-5);
          const ni = numericGrad((x) => refMae(pred, x, mask, d, normPix), img, 1e-5);
          // Smooth function, central FD error O(h²) ≈ 1e-10; float32 gradients of O(1/Σm·P) with
          // normalisation chains: atol 1e-5 + rtol 1e-4 of the largest gradient.
          largestGradErr = Math.max(largestGradErr, expectClose(gp, np, 1e-5, 1e-4), expectClose(gi, ni, 1e-5, 1e-4));
        }
      }
    }
  });

  it('normPix uses the unbiased variance: patch [a, b] → var = (a − b)²/2', () => {
    // p = 1, C = 2: one token whose patch is [a, b] = [3, 1]; mean 2, unbiased var 2 (biased: 1).
    // target = [1, −1]/sqrt(2 + 1e-6); pred = 0 → loss = 1/(2 + 1e-6) (biased would give ≈ 1).
    const got = tf.tidy(() =>
      maeLoss(tf.zeros([1, 1, 2]), tf.tensor4d([3, 1], [1, 1, 1, 2]), tf.ones([1, 1]), { patchSize: 1, normPix: true }).dataSync()[0],
    );
    largestValueErr = Math.max(largestValueErr, expectClose([got], [1 / (2 + 1e-6)], 1e-6));
    // and with a pred equal to the hand-derived target the loss is 0
    const s = 1 / Math.sqrt(2 + 1e-6);
    const zero = tf.tidy(() =>
      maeLoss(tf.tensor3d([s, -s], [1, 1, 2]), tf.tensor4d([3, 1], [1, 1, 1, 2]), tf.ones([1, 1]), { patchSize: 1, normPix: true }).dataSync()[0],
    );
    expect(zero).toBeLessThan(1e-12);
  });

  it('defaults to normPix = false (raw pixels as the target)', () => {
    const d = DIMS[1];
    const { N, P, pred, img, mask } = data(9, d);
    const got = tf.tidy(() =>
      maeLoss(T(pred, [d.B, N, P]), T(img, [d.B, d.H, d.W, d.C]), T(mask, [d.B, N]), { patchSize: d.p }).dataSync()[0],
    );
    expect(got).toBe(run(pred, img, mask, d, false));
    expect(Math.abs(got - refMae(pred, img, mask, d, true))).toBeGreaterThan(1e-3);
  });

  it('no masked token → 0 with finite zero gradients; all masked → mean over all tokens', () => {
    const d = DIMS[1];
    const { N, P, pred, img } = data(17, d);
    const none = new Float64Array(d.B * N);
    const all = new Float64Array(d.B * N).fill(1);
    expect(run(pred, img, none, d, true)).toBe(0);
    const g = tf.tidy(() => {
      const m = T(none, [d.B, N]);
      return tf.grad((a: tf.Tensor) => maeLoss(a, T(img, [d.B, d.H, d.W, d.C]), m, { patchSize: d.p, normPix: true }))(
        T(pred, [d.B, N, P]),
      ).dataSync();
    });
    expect(Array.from(g).every((v) => v === 0)).toBe(true);
    const err = expectClose([run(pred, img, all, d, false)], [refMae(pred, img, all, d, false)], 1e-5, 1e-5);
    largestValueErr = Math.max(largestValueErr, err);
  });

  it('is invariant to permuting the tokens consistently (pred rows, mask entries, image patches)', () => {
    const d: Dims = { B: 2, H: 4, W: 6, C: 3, p: 2 };
    const { N, P, pred, img, mask } = data(23, d);
    const perm = createRng(5).shuffle(Array.from({ length: N }, (_, i) => i));
    const target = refPatchify(img, d);
    const pred2 = new Float64Array(pred.length);
    const mask2 = new Float64Array(mask.length);
    const img2 = new Float64Array(img.length);
    const w = d.W / d.p;
    for (let b = 0; b < d.B; b++) {
      for (let n = 0; n < N; n++) {
        const src = b * N + perm[n];
        mask2[b * N + n] = mask[src];
        for (let k = 0; k < P; k++) pred2[(b * N + n) * P + k] = pred[src * P + k];
        // write source patch perm[n] into grid position n of the new image
        const i = Math.floor(n / w);
        const j = n % w;
        for (let r = 0; r < d.p; r++)
          for (let c = 0; c < d.p; c++)
            for (let ch = 0; ch < d.C; ch++)
              img2[((b * d.H + i * d.p + r) * d.W + j * d.p + c) * d.C + ch] = target[src * P + (r * d.p + c) * d.C + ch];
      }
    }
    for (const normPix of [false, true]) {
      const a = run(pred, img, mask, d, normPix);
      const b = run(pred2, img2, mask2, d, normPix);
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(a)));
    }
  });

  it('accepts a bool tokenMask', () => {
    const d = DIMS[2];
    const { N, P, pred, img, mask } = data(31, d);
    const b = tf.tidy(() =>
      maeLoss(T(pred, [d.B, N, P]), T(img, [d.B, d.H, d.W, d.C]), tf.tensor2d(Array.from(mask, (v) => v === 1), [d.B, N], 'bool'), {
        patchSize: d.p,
      }).dataSync()[0],
    );
    expect(b).toBe(run(pred, img, mask, d, false));
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const img = tf.zeros([2, 4, 4, 3]);
      const pred = tf.zeros([2, 4, 12]);
      const m = tf.ones([2, 4]);
      expect(() => maeLoss(tf.zeros([2, 4, 11]), img, m, { patchSize: 2 })).toThrow(ShapeError);
      expect(() => maeLoss(tf.zeros([2, 4, 11]), img, m, { patchSize: 2 })).toThrow(/maeLoss: predPatches.*\[2, 4, 12\].*got \[2, 4, 11\]/);
      expect(() => maeLoss(tf.zeros([2, 5, 12]), img, m, { patchSize: 2 })).toThrow(/predPatches/);
      expect(() => maeLoss(pred, img, tf.ones([2, 5]), { patchSize: 2 })).toThrow(ShapeError);
      expect(() => maeLoss(pred, img, tf.ones([2, 5]), { patchSize: 2 })).toThrow(/tokenMask/);
      expect(() => maeLoss(pred, img, m, { patchSize: 3 })).toThrow(ShapeError);
      expect(() => maeLoss(pred, img, m, { patchSize: 3 })).toThrow(/images/);
      expect(() => maeLoss(pred, tf.zeros([2, 4, 4]), m, { patchSize: 2 })).toThrow(/images/);
      expect(() => maeLoss(pred, img, m, { patchSize: 0 })).toThrow(ValueError);
      expect(() => maeLoss(pred, img, m, { patchSize: 0 })).toThrow(/patchSize/);
      expect(() => maeLoss(pred, img, m, { patchSize: 1.5 })).toThrow(/patchSize/);
      expect(() => maeLoss(pred, img, m, undefined as unknown as { patchSize: number })).toThrow(/options/);
      // unbiased variance of a single value is undefined (torch: NaN) → ValueError
      const one = () => maeLoss(tf.zeros([1, 4, 1]), tf.zeros([1, 2, 2, 1]), tf.ones([1, 4]), { patchSize: 1, normPix: true });
      expect(one).toThrow(ValueError);
      expect(one).toThrow(/normPix/);
    });
  });

  it('leaks no tensors (forward and gradient)', () => {
    const img = tf.randomNormal([2, 4, 4, 3]);
    const pred = tf.randomNormal([2, 4, 12]);
    const m = tf.tensor2d([[1, 0, 1, 0], [0, 0, 1, 1]]);
    expectNoLeak(() => maeLoss(pred, img, m, { patchSize: 2, normPix: true }));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => maeLoss(a, img, m, { patchSize: 2, normPix: true }))(pred));
    tf.dispose([img, pred, m]);
  });
});
