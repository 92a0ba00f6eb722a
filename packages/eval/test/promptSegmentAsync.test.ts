import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@mmc/core';
import { promptSegment } from '../src/promptSegment.js';
import { promptSegmentAsync } from '../src/promptSegmentAsync.js';
import { f32, randn } from '../../../test-setup/numeric';

describe('promptSegmentAsync', () => {
  const [h, w, D] = [5, 7, 6];
  const data = f32(randn(11, h * w * D));

  it('gives promptSegment’s result for tensor and array inputs, with and without outputSize', async () => {
    const x = tf.tensor3d(data, [h, w, D]);
    for (const [prompt, options] of [
      [{ row: 2, col: 3 }, { threshold: 0.1 }],
      [{ x: 40.5, y: 9, imageSize: [20, 70] as [number, number] }, { threshold: -0.2, outputSize: [20, 70] as [number, number] }],
    ] as const) {
      const sync = promptSegment(x, prompt, options);
      for (const input of [x, { data, shape: [h, w, D] }]) {
        const before = tf.memory().numTensors;
        const r = await promptSegmentAsync(input, prompt, options);
        expect(tf.memory().numTensors).toBe(before);
        expect(r.shape).toEqual(sync.shape);
        expect(r.prompt).toEqual(sync.prompt);
        expect(Array.from(r.similarity)).toEqual(Array.from(sync.similarity));
        expect(Array.from(r.mask)).toEqual(Array.from(sync.mask));
      }
    }
    x.dispose();
  });

  it('names a non-finite token on tensors read asynchronously', async () => {
    const bad = Float32Array.from(data);
    bad[(2 * w + 4) * D + 1] = NaN;
    const x = tf.tensor3d(bad, [h, w, D]);
    await expect(promptSegmentAsync(x, { row: 0, col: 0 }, { threshold: 0 })).rejects.toThrow(ValueError);
    await expect(promptSegmentAsync(x, { row: 0, col: 0 }, { threshold: 0 })).rejects.toThrow(/promptSegmentAsync: patches token \(row-major over the h×w grid\) 18 contains a non-finite value \(NaN at column 1\)/);
    x.dispose();
  });

  it('rejects bad shapes, prompts and options with typed errors naming the argument', async () => {
    const x = { data, shape: [h, w, D] };
    await expect(promptSegmentAsync({ data, shape: [h * w, D] }, { row: 0, col: 0 }, { threshold: 0 })).rejects.toThrow(ShapeError);
    await expect(promptSegmentAsync(x, { row: h, col: 0 }, { threshold: 0 })).rejects.toThrow(/promptSegmentAsync: prompt \{ row: 5, col: 0 \} is outside the 5×7 patch grid/);
    await expect(promptSegmentAsync(x, { row: 0, col: 0 }, { threshold: NaN })).rejects.toThrow(/promptSegmentAsync: threshold/);
    await expect(promptSegmentAsync(x, { row: 0, col: 0 }, { threshold: 0, outputSize: [0, 3] })).rejects.toThrow(/promptSegmentAsync: outputSize must be \[H, W\] of positive integers/);
  });
});
