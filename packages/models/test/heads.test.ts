import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MmcError, ShapeError, ValueError } from '@mmc/core';
import { mlpHead, pixelDecoder, type MlpHead } from '@mmc/models';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';
import { gelu64, linear64 } from './reference';

function read(v: tf.Tensor): Float64Array {
  return Float64Array.from(v.dataSync());
}

function randomise(vars: Record<string, tf.Variable>, seed: number): void {
  let s = seed;
  for (const v of Object.values(vars)) tf.tidy(() => v.assign(tf.tensor(f32(randn(++s, v.size, 0.5)), v.shape)));
}

function head64(h: MlpHead, x: Float64Array): Float64Array {
  const { inDim, hiddenDim, outDim, layers, normLast } = h.options;
  const names = layers === 1 ? ['mlp'] : Array.from({ length: layers }, (_, i) => `mlp.${2 * i}`);
  let y = x;
  let d = inDim;
  names.forEach((n, i) => {
    const o = i === names.length - 1 ? outDim : hiddenDim;
    y = linear64(y, d, read(h.variables[`${n}.weight`]), o, read(h.variables[`${n}.bias`]));
    if (i < names.length - 1) y = y.map(gelu64);
    d = o;
  });
  if (normLast) {
    for (let r = 0; r < y.length / outDim; r++) {
      let s = 0;
      for (let j = 0; j < outDim; j++) s += y[r * outDim + j] ** 2;
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let j = 0; j < outDim; j++) y[r * outDim + j] *= inv;
    }
  }
  return y;
}

describe('mlpHead', () => {
  it("uses DINO's names and defaults (hidden 2048, out 256, 3 layers)", () => {
    const h = mlpHead({ inDim: 8 });
    expect(h.options).toEqual({ inDim: 8, hiddenDim: 2048, outDim: 256, layers: 3, normLast: false, batchNorm: false, seed: 0 });
    expect(Object.fromEntries(Object.entries(h.variables).map(([k, v]) => [k, v.shape]))).toEqual({
      'mlp.0.weight': [8, 2048],
      'mlp.0.bias': [2048],
      'mlp.2.weight': [2048, 2048],
      'mlp.2.bias': [2048],
      'mlp.4.weight': [2048, 256],
      'mlp.4.bias': [256],
    });
    expect(h.numParams).toBe(8 * 2048 + 2048 + 2048 * 2048 + 2048 + 2048 * 256 + 256);
    h.dispose();
    const one = mlpHead({ inDim: 4, outDim: 3, layers: 1 });
    expect(Object.keys(one.variables)).toEqual(['mlp.weight', 'mlp.bias']);
    one.dispose();
  });

  it('matches float64 loops on [B, D] and [B, N, D], with and without normLast (atol 1e-5)', () => {
    let seed = 10;
    for (const [layers, normLast, shape] of [
      [1, false, [3, 6]],
      [2, true, [2, 6]],
      [3, false, [2, 3, 6]],
      [4, true, [1, 2, 6]],
    ] as Array<[number, boolean, number[]]>) {
      const h = mlpHead({ inDim: 6, hiddenDim: 7, outDim: 5, layers, normLast, seed });
      randomise(h.variables, seed * 10);
      const xd = randn(seed++, shape.reduce((a, b) => a * b, 1));
      const x = tf.tensor(f32(xd), shape);
      const y = h.apply(x);
      expect(y.shape).toEqual([...shape.slice(0, -1), 5]);
      expectClose(y.dataSync(), head64(h, xd), 1e-5, 1e-6);
      tf.dispose([x, y]);
      h.dispose();
    }
  });

  it("batchNorm: MoCo v3's layout and names; each output column has batch mean 0, variance 1 (float64 loops, atol 1e-4)", () => {
    const h = mlpHead({ inDim: 4, hiddenDim: 6, outDim: 3, layers: 2, batchNorm: true, seed: 2 });
    expect(Object.keys(h.variables).sort()).toEqual(['mlp.0.bias', 'mlp.0.weight', 'mlp.1.bias', 'mlp.1.weight', 'mlp.3.bias', 'mlp.3.weight']);
    randomise(h.variables, 40);
    const [B, N] = [3, 4];
    const xd = randn(41, B * N * 4);
    const x = tf.tensor(f32(xd), [B, N, 4]);
    const y = h.apply(x);
    // independent reference: Linear → BN(batch stats over B·N rows, biased var, eps 1e-5, affine) → GELU → Linear → BN (no affine)
    const bn64 = (z: Float64Array, rows: number, cols: number, w?: Float64Array, b?: Float64Array) => {
      const out = new Float64Array(z.length);
      for (let c = 0; c < cols; c++) {
        let m = 0;
        for (let r = 0; r < rows; r++) m += z[r * cols + c] / rows;
        let v = 0;
        for (let r = 0; r < rows; r++) v += (z[r * cols + c] - m) ** 2 / rows;
        for (let r = 0; r < rows; r++) out[r * cols + c] = ((z[r * cols + c] - m) / Math.sqrt(v + 1e-5)) * (w ? w[c] : 1) + (b ? b[c] : 0);
      }
      return out;
    };
    let z = linear64(xd, 4, read(h.variables['mlp.0.weight']), 6, read(h.variables['mlp.0.bias']));
    z = bn64(z, B * N, 6, read(h.variables['mlp.1.weight']), read(h.variables['mlp.1.bias'])).map(gelu64);
    z = bn64(linear64(z, 6, read(h.variables['mlp.3.weight']), 3, read(h.variables['mlp.3.bias'])), B * N, 3);
    expectClose(y.dataSync(), z, 1e-4);
    const col = tf.moments(y.reshape([B * N, 3]), 0);
    expectClose(col.mean.dataSync(), [0, 0, 0], 1e-5);
    expectClose(col.variance.dataSync(), [1, 1, 1], 1e-3);
    const g = tf.variableGrads(() => tf.sum(tf.square(tf.sub(h.apply(x), 0.3))) as tf.Scalar, h.trainableVariables());
    expect(Object.keys(g.grads).length).toBe(6);
    tf.dispose([x, y, col.mean, col.variance, g.value, Object.values(g.grads)]);
    h.dispose();
  });

  it('gradients reach every weight; clone copies; no leaks', () => {
    const h = mlpHead({ inDim: 4, hiddenDim: 8, outDim: 3, normLast: true, seed: 2 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(h.apply(x), tf.range(0, 3))) as tf.Scalar, h.trainableVariables());
    expect(Object.keys(grads)).toHaveLength(6);
    for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    const c = h.clone();
    expect(Object.keys(c.variables)).toEqual(Object.keys(h.variables));
    expect(Array.from(c.variables['mlp.2.weight'].dataSync())).toEqual(Array.from(h.variables['mlp.2.weight'].dataSync()));
    expect(c.trainableVariables()).toHaveLength(6);
    c.dispose();
    expectNoLeak(() => h.apply(x));
    expectNoLeak(() => {
      const r = tf.variableGrads(() => tf.sum(h.apply(x)) as tf.Scalar, h.trainableVariables());
      return [r.value, ...Object.values(r.grads)];
    });
    x.dispose();
    h.dispose();
    expect(() => h.apply(tf.zeros([1, 4]))).toThrow(MmcError);
  });

  it('validates options and inputs', () => {
    expect(() => mlpHead({ inDim: 0 })).toThrow(/mlpHead: inDim must be an integer >= 1, got 0/);
    expect(() => mlpHead({ inDim: 4, layers: 0 })).toThrow(ValueError);
    expect(() => mlpHead({ inDim: 4, hiddenDim: 2.5 })).toThrow(/hiddenDim/);
    expect(() => mlpHead({ inDim: 4, normLast: 1 as unknown as boolean })).toThrow(/normLast must be a boolean/);
    const h = mlpHead({ inDim: 4, hiddenDim: 4, outDim: 2 });
    const x = tf.zeros([2, 5]);
    expect(() => h.apply(x)).toThrow(ShapeError);
    expect(() => h.apply(x)).toThrow(/MlpHead\.apply: x must be a tf\.Tensor of shape \[\.\.\., 4\] \(inDim\), got \[2, 5\]/);
    x.dispose();
    h.dispose();
  });
});

describe('pixelDecoder', () => {
  it('is a per-token Linear D → p·p·C followed by unpatchify (float64 loops, atol 1e-5)', () => {
    const p = 2;
    const C = 3;
    const D = 5;
    const B = 2;
    const Hh = 4;
    const Ww = 6; // grid 2 × 3, N = 6
    const dec = pixelDecoder({ inDim: D, patchSize: p, channels: C, seed: 4 });
    expect(Object.fromEntries(Object.entries(dec.variables).map(([k, v]) => [k, v.shape]))).toEqual({
      'decoder_pred.weight': [D, p * p * C],
      'decoder_pred.bias': [p * p * C],
    });
    randomise(dec.variables, 40);
    const N = (Hh / p) * (Ww / p);
    const xd = randn(41, B * N * D);
    const x = tf.tensor3d(f32(xd), [B, N, D]);
    const out = dec.apply(x, { height: Hh, width: Ww });
    expect(out.shape).toEqual([B, Hh, Ww, C]);
    const tok = linear64(xd, D, read(dec.variables['decoder_pred.weight']), p * p * C, read(dec.variables['decoder_pred.bias']));
    const want = new Float64Array(B * Hh * Ww * C);
    for (let b = 0; b < B; b++)
      for (let y = 0; y < Hh; y++)
        for (let xx = 0; xx < Ww; xx++)
          for (let c = 0; c < C; c++) {
            const n = Math.floor(y / p) * (Ww / p) + Math.floor(xx / p);
            want[((b * Hh + y) * Ww + xx) * C + c] = tok[(b * N + n) * p * p * C + ((y % p) * p + (xx % p)) * C + c];
          }
    expectClose(out.dataSync(), want, 1e-5, 1e-6);
    tf.dispose([x, out]);
    dec.dispose();
  });

  it('defaults to a square grid, has gradients, clones, leaks nothing', () => {
    const dec = pixelDecoder({ inDim: 4, patchSize: 4 });
    expect(dec.options).toEqual({ inDim: 4, patchSize: 4, channels: 3, seed: 0 });
    const x = tf.randomNormal([1, 9, 4]);
    const out = dec.apply(x);
    expect(out.shape).toEqual([1, 12, 12, 3]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(dec.apply(x))) as tf.Scalar, dec.trainableVariables());
    expect(Object.keys(grads)).toHaveLength(2);
    tf.dispose([out, value, ...Object.values(grads)]);
    const frozen = dec.clone({ trainable: false });
    expect(frozen.trainableVariables()).toHaveLength(0);
    frozen.dispose();
    expectNoLeak(() => dec.apply(x));
    x.dispose();
    dec.dispose();
  });

  it('validates options and inputs', () => {
    expect(() => pixelDecoder({ inDim: 4, patchSize: 0 })).toThrow(/pixelDecoder: patchSize must be an integer >= 1/);
    expect(() => pixelDecoder({ inDim: 4, patchSize: 2, channels: -1 })).toThrow(ValueError);
    const dec = pixelDecoder({ inDim: 4, patchSize: 2, channels: 1 });
    const x = tf.zeros([1, 6, 4]);
    const y = tf.zeros([1, 4, 3]);
    expect(() => dec.apply(x)).toThrow(/height and options\.width are required for a non-square grid of N=6/);
    expect(() => dec.apply(x, { height: 4, width: 4 })).toThrow(ShapeError);
    expect(() => dec.apply(x, { height: 4 })).toThrow(/give both options\.height and options\.width/);
    expect(() => dec.apply(y)).toThrow(/patches must have shape \[B, N, 4\] \(inDim\), got \[1, 4, 3\]/);
    expect(() => dec.apply(tf.zeros([4, 4]) as unknown as tf.Tensor3D)).toThrow(/rank 3/);
    tf.dispose([x, y]);
    dec.dispose();
  });
});
