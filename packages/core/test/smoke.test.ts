import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cosineSimilarity } from '@mmc/core';

describe('setup', () => {
  it('runs on the requested backend', () => {
    expect(tf.getBackend()).toBe(process.env.MMC_TEST_BACKEND);
    const s = cosineSimilarity(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 2], [3, 0]]));
    expect(Array.from(s.dataSync())).toEqual([0, 1]);
  });
});
