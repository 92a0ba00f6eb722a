import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { ibotLoss, type IbotLossOptions, type IbotLossParts } from '../src/ibotLoss.js';
import { dinoLoss } from '../src/dinoLoss.js';
import { ibotPatchLoss } from '../src/ibotPatchLoss.js';
import { expectClose, expectNoLeak, f32, numericGrad, randn } from '../../../test-setup/numeric.js';
import { refIbot, type IbotRefOptions } from './distillationReference.js';

const DEFAULTS: IbotRefOptions = {
  studentTemp: 0.1,
  teacherTemp: 0.04,
  teacherPatchTemp: 0.07,
  centerMomentum: 0.9,
  centerMomentum2: 0.9,
  lambda1: 1,
  lambda2: 1,
};
const CUSTOM: IbotRefOptions = {
  studentTemp: 0.2,
  teacherTemp: 0.06,
  teacherPatchTemp: 0.05,
  centerMomentum: 0.5,
  centerMomentum2: 0.7,
  lambda1: 0.7,
  lambda2: 1.3,
};

/** Host data of one problem: V student CLS views, G global views. */
interface Host {
  sc: Float64Array[];
  tc: Float64Array[];
  sp: Float64Array[];
  tp: Float64Array[];
  masks: Float64Array[];
  c: Float64Array;
  c2: Float64Array;
}
type Dims = [B: number, K: number, N: number, K2: number, V: number, G: number];

function makeHost(seed: number, [B, K, N, K2, V, G]: Dims, scale = 2): Host {
  const rng = createRng(seed + 7);
  const mask = () => {
    const m = new Float64Array(B * N);
    for (let i = 0; i < B * N; i++) m[i] = rng.next() < 0.5 ? 1 : 0;
    m[0] = 1;
    if (B > 1) m.fill(0, N, 2 * N); // image 1 has no masked token
    return m;
  };
  const list = (n: number, size: number, off: number) => Array.from({ length: n }, (_, i) => randn(seed * 1000 + off + i, size, scale));
  return {
    sc: list(V, B * K, 0),
    tc: list(G, B * K, 100),
    sp: list(G, B * N * K2, 200),
    tp: list(G, B * N * K2, 300),
    masks: Array.from({ length: G }, mask),
    c: randn(seed * 1000 + 400, K, 0.5),
    c2: randn(seed * 1000 + 500, K2, 0.5),
  };
}

function toParts(h: Host, [B, K, N, K2]: Dims): IbotLossParts {
  return {
    studentCls: h.sc.map((x) => tf.tensor2d(f32(x), [B, K])),
    teacherCls: h.tc.map((x) => tf.tensor2d(f32(x), [B, K])),
    studentPatch: h.sp.map((x) => tf.tensor3d(f32(x), [B, N, K2])),
    teacherPatch: h.tp.map((x) => tf.tensor3d(f32(x), [B, N, K2])),
    masks: h.masks.map((x) => tf.tensor2d(f32(x), [B, N])),
  };
}

function run(h: Host, d: Dims, o: IbotLossOptions = {}) {
  return tf.tidy(() => {
    const [, K, , K2] = d;
    const r = ibotLoss(toParts(h, d), tf.tensor2d(f32(h.c), [1, K]), tf.tensor3d(f32(h.c2), [1, 1, K2]), o);
    expect(r.center.shape).toEqual([1, K]);
    expect(r.center2.shape).toEqual([1, 1, K2]);
    return {
      loss: r.loss.dataSync()[0],
      cls: r.cls.dataSync()[0],
      patch: r.patch.dataSync()[0],
      center: Array.from(r.center.dataSync()),
      center2: Array.from(r.center2.dataSync()),
    };
  });
}

const ref = (h: Host, [B, K, N, K2]: Dims, o: IbotRefOptions) =>
  refIbot({ sc: h.sc, tc: h.tc, sp: h.sp, tp: h.tp, masks: h.masks }, h.c, h.c2, B, K, N, K2, o);

let largestValueErr = 0;
let largestGradErr = 0;
afterAll(() => {
  console.log(`ibotLoss: largest value error ${largestValueErr.toExponential(2)}, gradient error ${largestGradErr.toExponential(2)}`);
});

const CASES: Dims[] = [
  [1, 3, 2, 4, 2, 2],
  [2, 4, 3, 3, 4, 2],
  [3, 5, 2, 2, 2, 1],
  [2, 3, 4, 5, 3, 1],
  [1, 2, 1, 2, 5, 2],
];

describe('ibotLoss', () => {
  it("matches the float64 reference of iBOT's double loop (loss, cls, patch, both centers)", () => {
    for (const d of CASES) {
      for (const seed of [1, 2]) {
        const h = makeHost(seed, d);
        for (const o of [DEFAULTS, CUSTOM]) {
          const got = run(h, d, o);
          const want = ref(h, d, o);
          // CE values up to ~60: atol 1e-5 + rtol 1e-5.
          for (const key of ['loss', 'cls', 'patch'] as const) {
            largestValueErr = Math.max(largestValueErr, expectClose([got[key]], [want[key]], 1e-5, 1e-5));
          }
          largestValueErr = Math.max(largestValueErr, expectClose(got.center, want.center, 1e-6, 1e-6));
          largestValueErr = Math.max(largestValueErr, expectClose(got.center2, want.center2, 1e-6, 1e-6));
        }
      }
    }
  });

  it('gradients w.r.t. student CLS and patch outputs match central differences of the reference', () => {
    for (const d of [[2, 3, 2, 3, 3, 2], [1, 3, 3, 2, 2, 1]] as Dims[]) {
      const [, K, , K2, V, G] = d;
      for (const seed of [3, 4]) {
        const h = makeHost(seed, d, 1);
        for (const o of [DEFAULTS, CUSTOM]) {
          // With G = 1, student CLS view 0 enters no CLS pair: hold it constant (tf.grads
          // refuses an unused input).
          const clsIdx = Array.from({ length: V }, (_, v) => v).filter((v) => G > 1 || v !== 0);
          const got = tf.tidy(() => {
            const p = toParts(h, d);
            const c = tf.tensor2d(f32(h.c), [1, K]);
            const c2 = tf.tensor3d(f32(h.c2), [1, 1, K2]);
            const g = tf.grads((...xs: tf.Tensor[]) => {
              const studentCls = p.studentCls.map((x, v) => (clsIdx.includes(v) ? xs[clsIdx.indexOf(v)] : x));
              return ibotLoss({ ...p, studentCls, studentPatch: xs.slice(clsIdx.length) }, c, c2, o).loss;
            });
            return g([...clsIdx.map((v) => p.studentCls[v]), ...p.studentPatch]).map((x) => x.dataSync());
          });
          clsIdx.forEach((v, i) => {
            const num = numericGrad((x) => ref({ ...h, sc: h.sc.map((y, j) => (j === v ? x : y)) }, d, o).loss, h.sc[v], 1e-6);
            // float32 tf.grad vs float64 central differences (h = 1e-6): atol 1e-5 + rtol 1e-4.
            largestGradErr = Math.max(largestGradErr, expectClose(got[i], num, 1e-5, 1e-4));
          });
          for (let q = 0; q < G; q++) {
            const num = numericGrad((x) => ref({ ...h, sp: h.sp.map((y, j) => (j === q ? x : y)) }, d, o).loss, h.sp[q], 1e-6);
            largestGradErr = Math.max(largestGradErr, expectClose(got[clsIdx.length + q], num, 1e-5, 1e-4));
          }
        }
      }
    }
  });

  it('is dinoLoss on the CLS outputs plus the mean of ibotPatchLoss over the global views', () => {
    const d: Dims = [2, 4, 3, 5, 4, 2];
    const [, K, , K2, , G] = d;
    const h = makeHost(9, d);
    const got = run(h, d, CUSTOM);
    const want = tf.tidy(() => {
      const p = toParts(h, d);
      const c = tf.tensor2d(f32(h.c), [1, K]);
      const c2 = tf.tensor3d(f32(h.c2), [1, 1, K2]);
      const dino = dinoLoss(p.studentCls, p.teacherCls, c, {
        studentTemp: CUSTOM.studentTemp,
        teacherTemp: CUSTOM.teacherTemp,
        centerMomentum: CUSTOM.centerMomentum,
      });
      const patches = p.studentPatch.map((s, q) =>
        ibotPatchLoss(s, p.teacherPatch[q], p.masks[q], c2, {
          studentTemp: CUSTOM.studentTemp,
          teacherTemp: CUSTOM.teacherPatchTemp,
          centerMomentum: CUSTOM.centerMomentum2,
        }),
      );
      const patch = tf.div(tf.addN(patches.map((x) => x.loss)), G);
      return {
        cls: dino.loss.dataSync()[0],
        patch: patch.dataSync()[0],
        center: Array.from(dino.center.dataSync()),
        center2: Array.from(tf.div(tf.addN(patches.map((x) => x.center)), G).dataSync()),
      };
    });
    expectClose([got.cls], [want.cls], 1e-6, 1e-6);
    expectClose([got.patch], [want.patch], 1e-6, 1e-6);
    expectClose(got.center, want.center, 1e-6, 1e-6);
    expectClose(got.center2, want.center2, 1e-6, 1e-6);
    expectClose([got.loss], [CUSTOM.lambda1 * want.cls + CUSTOM.lambda2 * want.patch], 1e-5, 1e-6);
  });

  it('returns cls and patch unweighted; lambda 0 removes a term from the loss', () => {
    const d: Dims = [2, 3, 2, 3, 3, 2];
    const h = makeHost(11, d);
    const base = run(h, d);
    const w = run(h, d, { lambda1: 0, lambda2: 2.5 });
    expect(w.cls).toBe(base.cls);
    expect(w.patch).toBe(base.patch);
    expectClose([w.loss], [2.5 * base.patch], 1e-6, 1e-6);
    expectClose([run(h, d, { lambda2: 0 }).loss], [base.cls], 1e-6, 1e-6);
  });

  it('leaks no tensors (forward and gradient)', () => {
    const d: Dims = [2, 3, 2, 4, 3, 2];
    const h = makeHost(12, d);
    const p = toParts(h, d);
    const c = tf.zeros([1, 3]);
    const c2 = tf.zeros([1, 1, 4]);
    expectNoLeak(() => ibotLoss(p, c, c2));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => ibotLoss({ ...p, studentCls: [a, ...p.studentCls.slice(1)], studentPatch: [b, p.studentPatch[1]] }, c, c2).loss)([p.studentCls[0], p.studentPatch[0]]));
    tf.dispose([p as unknown as tf.TensorContainer, c, c2]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    tf.tidy(() => {
      const d: Dims = [2, 3, 4, 5, 3, 2];
      const p = toParts(makeHost(13, d), d);
      const c = tf.zeros([1, 3]);
      const c2 = tf.zeros([1, 1, 5]);
      expect(() => ibotLoss(null as unknown as IbotLossParts, c, c2)).toThrow(/ibotLoss: parts must be an object/);
      expect(() => ibotLoss({ ...p, studentCls: [] }, c, c2)).toThrow(/ibotLoss: studentCls must be a non-empty array/);
      expect(() => ibotLoss({ ...p, teacherCls: [] }, c, c2)).toThrow(/ibotLoss: teacherCls must be a non-empty array/);
      expect(() => ibotLoss({ ...p, studentCls: [p.studentCls[0]] }, c, c2)).toThrow(ValueError);
      expect(() => ibotLoss({ ...p, studentCls: [p.studentCls[0]] }, c, c2)).toThrow(/ibotLoss: studentCls must hold at least the 2 global views/);
      expect(() => ibotLoss({ ...p, studentCls: [p.studentCls[0]], teacherCls: [p.teacherCls[0]], studentPatch: [p.studentPatch[0]], teacherPatch: [p.teacherPatch[0]], masks: [p.masks[0]] }, c, c2)).toThrow(/ibotLoss: studentCls must hold at least 2 views/);
      expect(() => ibotLoss({ ...p, studentCls: [p.studentCls[0], tf.zeros([2, 4])] }, c, c2)).toThrow(/ibotLoss: studentCls\[1\] must have shape \[2, 3\]/);
      expect(() => ibotLoss({ ...p, teacherCls: [p.teacherCls[0], tf.zeros([3, 3])] }, c, c2)).toThrow(/ibotLoss: teacherCls\[1\]/);
      expect(() => ibotLoss({ ...p, studentPatch: [tf.zeros([3, 4, 5]), p.studentPatch[1]] }, c, c2)).toThrow(/ibotLoss: studentPatch\[0\] must have shape \[2, \*, \*\]/);
      expect(() => ibotLoss({ ...p, studentPatch: [p.studentPatch[0]] }, c, c2)).toThrow(/ibotLoss: studentPatch must hold one entry per global view \(2, like teacherCls\), got 1/);
      expect(() => ibotLoss({ ...p, teacherPatch: [p.teacherPatch[0], tf.zeros([2, 4, 6])] }, c, c2)).toThrow(ShapeError);
      expect(() => ibotLoss({ ...p, teacherPatch: [p.teacherPatch[0], tf.zeros([2, 4, 6])] }, c, c2)).toThrow(/ibotLoss: teacherPatch\[1\]/);
      expect(() => ibotLoss({ ...p, masks: [p.masks[0]] }, c, c2)).toThrow(/ibotLoss: masks must hold one entry per global view/);
      expect(() => ibotLoss({ ...p, masks: [p.masks[0], tf.ones([2, 5])] }, c, c2)).toThrow(/ibotLoss: masks\[1\] must have shape \[2, 4\]/);
      expect(() => ibotLoss(p, tf.zeros([1, 4]), c2)).toThrow(/ibotLoss: center must have shape \[1, 3\]/);
      expect(() => ibotLoss(p, c, tf.zeros([1, 5]))).toThrow(/ibotLoss: center2 must have shape \[1, 1, 5\]/);
      expect(() => ibotLoss(p, c, c2, { teacherPatchTemp: 0 })).toThrow(/ibotLoss: teacherPatchTemp must be > 0/);
      expect(() => ibotLoss(p, c, c2, { studentTemp: -1 })).toThrow(/ibotLoss: studentTemp/);
      expect(() => ibotLoss(p, c, c2, { teacherTemp: NaN })).toThrow(/ibotLoss: teacherTemp/);
      expect(() => ibotLoss(p, c, c2, { centerMomentum2: 2 })).toThrow(/ibotLoss: centerMomentum2 must be in \[0, 1\]/);
      expect(() => ibotLoss(p, c, c2, { centerMomentum: -1 })).toThrow(/ibotLoss: centerMomentum must be in \[0, 1\]/);
      expect(() => ibotLoss(p, c, c2, { lambda1: -1 })).toThrow(/ibotLoss: lambda1/);
      expect(() => ibotLoss(p, c, c2, { lambda2: Infinity })).toThrow(/ibotLoss: lambda2/);
    });
  });
});
