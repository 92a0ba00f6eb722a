import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { featureHead } from '../src/featureHead.js';
import { expectClose, expectNoLeak, f32, randn } from '../../../test-setup/numeric';

/** Float64 reference: iBOT avgpool 0 / 1 / 2. */
function refHead(cls: Float64Array, patches: Float64Array, B: number, N: number, D: number, mode: string): Float64Array {
  const mean = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += patches[(b * N + n) * D + d];
      mean[b * D + d] = s / N;
    }
  }
  if (mode === 'cls') return cls;
  if (mode === 'patch-mean') return mean;
  const out = new Float64Array(B * 2 * D);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) {
      out[b * 2 * D + d] = cls[b * D + d];
      out[b * 2 * D + D + d] = mean[b * D + d];
    }
  }
  return out;
}

describe('featureHead', () => {
  it("matches iBOT's avgpool 0/1/2 ('cls' / 'patch-mean' / 'concat' = [cls, mean])", () => {
    for (const [seed, B, N, D] of [[1, 1, 1, 1], [2, 3, 5, 4], [3, 2, 49, 16]]) {
      const cls = randn(seed, B * D);
      const patches = randn(seed + 50, B * N * D);
      const tc = tf.tensor2d(f32(cls), [B, D]);
      const tp = tf.tensor3d(f32(patches), [B, N, D]);
      for (const mode of ['cls', 'patch-mean', 'concat'] as const) {
        const out = featureHead(tc, tp, mode);
        expect(out.shape).toEqual([B, mode === 'concat' ? 2 * D : D]);
        expect(out.dtype).toBe('float32');
        expectClose(out.dataSync(), refHead(cls, patches, B, N, D, mode), 1e-6);
        out.dispose();
      }
      tf.dispose([tc, tp]);
    }
  });

  it("defaults to 'cls'; accepts { data, shape } and null for the unused input", () => {
    const cls = { data: [1, 2, 3, 4], shape: [2, 2] };
    const patches = { data: new Float64Array([1, 1, 3, 3, 0, 2, 2, 0]), shape: [2, 2, 2] };
    const a = featureHead(cls, patches);
    expect(Array.from(a.dataSync())).toEqual([1, 2, 3, 4]);
    const b = featureHead(null, patches, 'patch-mean');
    expect(Array.from(b.dataSync())).toEqual([2, 2, 1, 1]);
    const c = featureHead(cls, null, 'cls');
    const d = featureHead(cls, patches, 'concat');
    expect(Array.from(d.dataSync())).toEqual([1, 2, 2, 2, 3, 4, 1, 1]);
    tf.dispose([a, b, c, d]);
  });

  it('returns a new tensor: disposing it leaves the input alive; no leaks', () => {
    const cls = tf.randomNormal([2, 3]);
    const patches = tf.randomNormal([2, 4, 3]);
    for (const mode of ['cls', 'patch-mean', 'concat'] as const) expectNoLeak(() => featureHead(cls, patches, mode));
    expect(cls.isDisposed).toBe(false);
    expect(cls.dataSync().length).toBe(6);
    tf.dispose([cls, patches]);
  });

  it('rejects bad inputs naming the argument', () => tf.tidy(() => {
    const cls = tf.zeros([2, 3]);
    const patches = tf.zeros([2, 4, 3]);
    expect(() => featureHead(cls, patches, 'max' as never)).toThrow(ValueError);
    expect(() => featureHead(cls, patches, 'max' as never)).toThrow(/mode must be one of 'cls', 'patch-mean', 'concat'/);
    expect(() => featureHead(cls, tf.zeros([2, 4, 5]), 'concat')).toThrow(ShapeError);
    expect(() => featureHead(cls, tf.zeros([3, 4, 3]), 'concat')).toThrow(/patches must have shape \[2, N, 3\] \(B and D of cls \[2, 3\]\), got \[3, 4, 3\]/);
    expect(() => featureHead(tf.zeros([2, 3, 1]), patches, 'cls')).toThrow(/cls must have rank 2 \[B, D\]/);
    expect(() => featureHead(null, patches, 'concat')).toThrow(/cls must be a tf.Tensor or a \{ data, shape \} array/);
    expect(() => featureHead(cls, null, 'patch-mean')).toThrow(/patches must be a tf.Tensor/);
    expect(() => featureHead(cls, tf.zeros([2, 0, 3]), 'patch-mean')).toThrow(/at least one token/);
  }));
});
