import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, ShapeError, ValueError } from '@mmc/core';
import { colorJitter } from '@mmc/masking';
import { expectClose, expectNoLeak, f32, largestErrorSeen } from '../../../test-setup/numeric';
import { rand01, refJitter } from './photometricReference';

// float32 tensor ops vs the float64 per-pixel reference on [0, 1] data: values are O(1), errors
// come from float32 rounding (a few ulp per op, hue's divisions included; ~7e-7 observed).
const ATOL = 5e-6;

function check(seed: number, B: number, H: number, W: number, C: number, opts: Record<string, unknown>) {
  const x = rand01(seed, B * H * W * C);
  const images = tf.tensor4d(f32(x), [B, H, W, C]);
  const { images: out, applied, params } = colorJitter(images, { rng: createRng(seed + 100), ...opts });
  expect(out.shape).toEqual([B, H, W, C]);
  const got = out.dataSync();
  const n = H * W * C;
  for (let b = 0; b < B; b++) {
    const img = x.subarray(b * n, (b + 1) * n);
    const p = params[b];
    expect(applied[b]).toBe(p ? 1 : 0);
    const want = p ? refJitter(img, H, W, C, p) : img;
    expectClose(got.subarray(b * n, (b + 1) * n), want, p ? ATOL : 0);
  }
  tf.dispose([images, out]);
  return { applied, params };
}

describe('colorJitter', () => {
  it('matches the float64 per-pixel reference (DINO defaults), several seeds and sizes', () => {
    let jittered = 0;
    for (const [seed, B, H, W] of [
      [1, 6, 5, 4],
      [2, 1, 1, 1],
      [3, 8, 3, 7],
    ]) {
      const { applied } = check(seed, B, H, W, 3, {});
      jittered += applied.reduce((a, v) => a + v, 0);
    }
    expect(jittered).toBeGreaterThan(5);
  });

  it('matches the reference with strong factors (clamps active) and every image jittered', () => {
    for (const seed of [4, 5]) {
      const { params } = check(seed, 10, 4, 4, 3, { brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5, prob: 1 });
      expect(params.every((p) => p !== null && p.order.length === 4)).toBe(true);
    }
    // explicit ranges, including factors above 1 only
    check(6, 5, 3, 3, 3, { brightness: [1.2, 1.5], contrast: [0, 0.5], saturation: [1.5, 2], hue: [-0.5, -0.25], prob: 1 });
  });

  it('1-channel images get brightness and contrast only', () => {
    const { params } = check(7, 6, 4, 5, 1, { prob: 1, saturation: 0.9, hue: 0.5 });
    expect(params.every((p) => p !== null && p.order.length === 4)).toBe(true);
  });

  it('draws coin, order (= rng.shuffle) and enabled factors per image, in batch order', () => {
    const B = 12;
    const images = tf.fill([B, 2, 2, 3], 0.5) as tf.Tensor4D;
    const { images: out, params } = colorJitter(images, { rng: createRng(11), contrast: 0, prob: 0.6 });
    const r = createRng(11);
    for (let b = 0; b < B; b++) {
      if (!(r.next() < 0.6)) {
        expect(params[b]).toBeNull();
        continue;
      }
      const perm = r.shuffle(['brightness', 'contrast', 'saturation', 'hue']).filter((op) => op !== 'contrast');
      // uniform on [max(0, 1 − s), 1 + s] (hue [−s, s]) as lo + (hi − lo)·u
      const uni = (lo: number, hi: number) => lo + (hi - lo) * r.next();
      const br = uni(1 - 0.4, 1 + 0.4);
      const sat = uni(1 - 0.2, 1 + 0.2);
      const hue = uni(-0.1, 0.1);
      expect(params[b]).toEqual({ order: perm, brightness: br, contrast: 1, saturation: sat, hue });
    }
    tf.dispose([images, out]);
  });

  it('hue shifts known colours (red + 1/3 turn = green, ...) and keeps grays', () => {
    const cases: [number[], number, number[]][] = [
      [[1, 0, 0], 1 / 3, [0, 1, 0]],
      [[0, 1, 0], 1 / 3, [0, 0, 1]],
      [[0, 0, 1], 1 / 3, [1, 0, 0]],
      [[1, 0, 0], -1 / 6, [1, 0, 1]],
      [[1, 1, 0], 0.5, [0, 0, 1]],
      [[0.5, 0.25, 0.25], 1 / 3, [0.25, 0.5, 0.25]],
      [[0.3, 0.3, 0.3], 0.25, [0.3, 0.3, 0.3]],
      [[0, 0, 0], 0.4, [0, 0, 0]],
    ];
    for (const [rgb, shift, want] of cases) {
      const x = tf.tensor4d(rgb, [1, 1, 1, 3]);
      const { images: out } = colorJitter(x, { rng: createRng(0), brightness: 0, contrast: 0, saturation: 0, hue: [shift, shift], prob: 1 });
      expectClose(out.dataSync(), want, 1e-6);
      tf.dispose([x, out]);
    }
  });

  it('saturation 0 gives the luma image, contrast 0 its mean luma, brightness f scales', () => {
    const x = rand01(21, 2 * 3 * 3 * 3);
    const images = tf.tensor4d(f32(x), [2, 3, 3, 3]);
    const only = (o: Record<string, unknown>) =>
      colorJitter(images, { rng: createRng(1), brightness: 0, contrast: 0, saturation: 0, hue: 0, prob: 1, ...o });
    const sat = only({ saturation: [0, 0] });
    const con = only({ contrast: [0, 0] });
    const bri = only({ brightness: [0.5, 0.5] });
    const lum = new Float64Array(x.length);
    const mean = new Float64Array(x.length);
    for (let b = 0; b < 2; b++) {
      let m = 0;
      for (let i = 0; i < 9; i++) {
        const o = (b * 9 + i) * 3;
        const l = 0.299 * x[o] + 0.587 * x[o + 1] + 0.114 * x[o + 2];
        lum.fill(l, o, o + 3);
        m += l / 9;
      }
      mean.fill(m, b * 27, (b + 1) * 27);
    }
    expectClose(sat.images.dataSync(), lum, 1e-6);
    expectClose(con.images.dataSync(), mean, 1e-6);
    expectClose(bri.images.dataSync(), x.map((v) => v / 2), 1e-7);
    tf.dispose([images, sat.images, con.images, bri.images]);
  });

  it('respects prob over many images, leaves the others bit-identical, stays in [0, 1], is deterministic', () => {
    const B = 400;
    const x = rand01(31, B * 3);
    const images = tf.tensor4d(f32(x), [B, 1, 1, 3]);
    const a = colorJitter(images, { rng: createRng(9), brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5 });
    const b = colorJitter(images, { rng: createRng(9), brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5 });
    const count = a.applied.reduce((s, v) => s + v, 0);
    expect(Math.abs(count - 0.8 * B)).toBeLessThan(4 * Math.sqrt(B * 0.8 * 0.2)); // 4σ
    const got = a.images.dataSync();
    const xs = f32(x);
    for (let i = 0; i < B; i++) {
      if (!a.applied[i]) for (let c = 0; c < 3; c++) expect(got[i * 3 + c]).toBe(xs[i * 3 + c]);
    }
    for (const v of got) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(Array.from(b.images.dataSync())).toEqual(Array.from(got));
    const none = colorJitter(images, { rng: createRng(9), prob: 0 });
    expect(Array.from(none.images.dataSync())).toEqual(Array.from(xs));
    expect(none.applied.every((v) => v === 0)).toBe(true);
    tf.dispose([images, a.images, b.images, none.images]);
  });

  it('is tidy', () => {
    const images = tf.tensor4d(f32(rand01(3, 5 * 4 * 4 * 3)), [5, 4, 4, 3]);
    expectNoLeak(() => colorJitter(images, { rng: createRng(1) }).images);
    expectNoLeak(() => colorJitter(images, { rng: createRng(1), prob: 0 }).images);
    expectNoLeak(() => colorJitter(images, { rng: createRng(1), brightness: 0, contrast: 0, saturation: 0, hue: 0 }).images);
    images.dispose();
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
    const rng = createRng(0);
    expect(() => colorJitter(tf.zeros([4, 4, 3]) as never, { rng })).toThrow(ShapeError);
    expect(() => colorJitter(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D, { rng })).toThrow(/colorJitter: images must have 3 \(RGB\) or 1 channels/);
    expect(() => colorJitter(x, { rng: {} as never })).toThrow(/rng must be an Rng/);
    expect(() => colorJitter(x, { rng, prob: 1.2 })).toThrow(/prob must be in \[0, 1\]/);
    expect(() => colorJitter(x, { rng, brightness: -0.1 })).toThrow(/brightness must be a finite number >= 0/);
    expect(() => colorJitter(x, { rng, contrast: NaN })).toThrow(/contrast/);
    expect(() => colorJitter(x, { rng, saturation: [0.5, 0.2] })).toThrow(/saturation range must satisfy/);
    expect(() => colorJitter(x, { rng, hue: 0.6 })).toThrow(/hue must be in \[0, 0.5\]/);
    expect(() => colorJitter(x, { rng, hue: [-0.7, 0] })).toThrow(/hue range/);
    expect(() => colorJitter(x, { rng, brightness: 'a' as never })).toThrow(ValueError);
    x.dispose();
  });
});

afterAll(() => {
  console.log(`[masking/colorJitter ${tf.getBackend()}] max |error| vs float64 reference: ${largestErrorSeen().toExponential(2)}`);
});
