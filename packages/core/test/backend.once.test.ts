import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError, useBackend, ValueError } from '@mmc/core';

describe('useBackend', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('starts cpu and wasm in Node and returns the name in use', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(y.dataSync()[0]).toBe(11);
  });

  it("'auto' in Node picks wasm when tfjs-node is not installed", async () => {
    expect(await useBackend('auto')).toBe('wasm');
  });

  it('names the npm package when a backend is not installed', async () => {
    const err = await useBackend('tensorflow').catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toMatch(/@tensorflow\/tfjs-node/);
    expect(err.packageName).toMatch(/tfjs-node/);
  });

  it('rejects unknown names with ValueError', async () => {
    await expect(useBackend('cuda' as never)).rejects.toThrow(ValueError);
  });
});
