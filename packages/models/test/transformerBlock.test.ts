import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { transformerBlock, type BlockWeights } from '../src/transformerBlock.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** The same block written with plain tfjs ops, differentiated by tfjs' autodiff (the reference). */
function autodiffBlock(x: tf.Tensor, w: BlockWeights, heads: number, eps: number): tf.Tensor {
  const [B, T, D] = x.shape;
  const hd = D / heads;
  const ln = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, eps))), g), b);
  };
  const lin = (t: tf.Tensor, W: tf.Tensor, b?: tf.Tensor) => {
    const y = tf.matMul(tf.reshape(t, [-1, W.shape[0]]), W as tf.Tensor2D);
    return tf.reshape(b ? tf.add(y, b) : y, [B, T, W.shape[1] as number]);
  };
  const qkv = tf.reshape(lin(ln(x, w.norm1Weight, w.norm1Bias), w.qkvWeight, w.qkvBias), [B, T, 3, heads, hd]);
  const [q, k, v] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])); // [B, H, T, hd] each
  const P = tf.softmax(tf.matMul(tf.mul(q, hd ** -0.5), k, false, true), -1);
  const o = tf.reshape(tf.transpose(tf.matMul(P, v), [0, 2, 1, 3]), [B, T, D]);
  const x1 = tf.add(x, lin(o, w.projWeight, w.projBias));
  const u = lin(ln(x1, w.norm2Weight, w.norm2Bias), w.fc1Weight, w.fc1Bias);
  const g = tf.mul(tf.mul(u, 0.5), tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1));
  return tf.add(x1, lin(g, w.fc2Weight, w.fc2Bias));
}

function randomWeights(seed: number, D: number, hidden: number, qkvBias: boolean): BlockWeights {
  const t = (s: number, shape: number[], scale: number, offset = 0) =>
    tf.tensor(f32(randn(seed + s, shape.reduce((a, b) => a * b, 1), scale).map((v) => v + offset)), shape);
  return {
    norm1Weight: t(1, [D], 0.2, 1),
    norm1Bias: t(2, [D], 0.1),
    qkvWeight: t(3, [D, 3 * D], 0.3),
    qkvBias: qkvBias ? t(4, [3 * D], 0.1) : undefined,
    projWeight: t(5, [D, D], 0.3),
    projBias: t(6, [D], 0.1),
    norm2Weight: t(7, [D], 0.2, 1),
    norm2Bias: t(8, [D], 0.1),
    fc1Weight: t(9, [D, hidden], 0.3),
    fc1Bias: t(10, [hidden], 0.1),
    fc2Weight: t(11, [hidden, D], 0.3),
    fc2Bias: t(12, [D], 0.1),
  };
}

const names = (w: BlockWeights) => (Object.keys(w) as (keyof BlockWeights)[]).filter((k) => w[k] !== undefined);

describe('transformerBlock (hand-written backward pass)', () => {
  for (const qkvBias of [true, false]) {
    it(`value and every gradient equal tfjs autodiff of the same block (qkvBias ${qkvBias})`, () => {
      const [B, T, D, heads, hidden] = [2, 5, 8, 2, 16];
      const w = randomWeights(qkvBias ? 100 : 200, D, hidden, qkvBias);
      const x = tf.tensor3d(f32(randn(7, B * T * D)), [B, T, D]);
      const r = tf.tensor3d(f32(randn(8, B * T * D)), [B, T, D]); // random cotangent
      const keys = names(w);
      const loss = (f: typeof autodiffBlock) => (...ts: tf.Tensor[]) => {
        const ww = { ...w };
        keys.forEach((k, i) => (ww[k] = ts[i + 1]));
        return tf.sum(tf.mul(f(ts[0], ww, heads, 1e-6), r));
      };
      const args = [x, ...keys.map((k) => w[k] as tf.Tensor)];
      const mine = tf.valueAndGrads(loss(transformerBlock))(args);
      const ref = tf.valueAndGrads(loss(autodiffBlock))(args);
      expectClose(mine.value.dataSync(), ref.value.dataSync(), 1e-4, 1e-5);
      mine.grads.forEach((g, i) => {
        const want = ref.grads[i].dataSync();
        const got = g.dataSync();
        expect(got.some((v) => v !== 0), i === 0 ? 'x' : keys[i - 1]).toBe(true);
        expectClose(got, want, 1e-4, 1e-4);
      });
      tf.dispose([x, r, mine.value, ...mine.grads, ref.value, ...ref.grads, ...args]);
    });
  }

  it('leaks no tensor, forward alone or under a gradient', () => {
    const w = randomWeights(300, 8, 16, true);
    const x = tf.tensor3d(f32(randn(9, 2 * 3 * 8)), [2, 3, 8]);
    expectNoLeak(() => transformerBlock(x, w, 2, 1e-6));
    expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(transformerBlock(t, w, 2, 1e-6)))(x));
    tf.dispose([x, ...names(w).map((k) => w[k] as tf.Tensor)]);
  });
});
