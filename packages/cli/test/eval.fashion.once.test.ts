import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR, fashionMnist } from '@mmc/data';
import { fixtureDir, runJson } from './evalCli.js';

// The real-data check of `mmc eval knn` on a subset (the full 60,000/10,000 run is
// bench/fashion-knn.mjs). Needs Debian's dataset-fashion-mnist.
const present = ['train', 't10k'].every((s) =>
  ['images-idx3-ubyte', 'labels-idx1-ubyte'].some((f) => existsSync(`${FASHION_MNIST_DIR}/${s}-${f}.gz`) || existsSync(`${FASHION_MNIST_DIR}/${s}-${f}`)),
);
const reason = present ? '' : ` (skipped: Fashion-MNIST is not installed in ${FASHION_MNIST_DIR}; apt-get install dataset-fashion-mnist)`;

const fx = fixtureDir('fashion');
afterAll(() => fx.cleanup());

describe('mmc eval knn on Fashion-MNIST raw pixels', () => {
  it.skipIf(!present)(`2,000 train / 500 test images, k = 20, T = 0.07: top-1 > 0.7${reason}`, async () => {
    const [train, test] = await Promise.all([fashionMnist({ split: 'train' }), fashionMnist({ split: 'test' })]);
    const write = async (name: string, ds: typeof train, n: number) => {
      const x = new Float32Array(n * 784);
      for (let i = 0; i < x.length; i++) x[i] = ds.images[i] / 255;
      return [
        await fx.npy(`${name}_x.npy`, { dtype: 'float32', shape: [n, 784], data: x }),
        await fx.npy(`${name}_y.npy`, { dtype: 'uint8', shape: [n], data: ds.labels.slice(0, n) }),
      ];
    };
    const [trX, trY] = await write('train', train, 2000);
    const [teX, teY] = await write('test', test, 500);
    const j = await runJson(['eval', 'knn', '--train-features', trX, '--train-labels', trY, '--test-features', teX, '--test-labels', teY]);
    expect(j).toMatchObject({ trainCount: 2000, testCount: 500, dim: 784, numClasses: 10, k: 20 });
    expect(j.top1).toBeGreaterThan(0.7);
    expect(j.top5).toBeGreaterThan(j.top1);
  });
});
