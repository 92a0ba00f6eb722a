import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { createViT, vitTiny } from '@mmc/models';
it('bench', () => {
  const original = tf.getGradient('BatchMatMul');
  const vit = createViT(vitTiny({ imageSize: 32, patchSize: 4, depth: 2 }));
  const fast = tf.getGradient('BatchMatMul');
  const x = tf.randomNormal([8, 32, 32, 3]);
  const step = () => tf.tidy(() => { const { grads } = tf.variableGrads(() => tf.sum(vit.apply(x).patches.square()) as tf.Scalar, vit.trainableVariables()); Object.values(grads)[0].dataSync(); });
  const time = (label: string) => { step(); const t0 = performance.now(); for (let i = 0; i < 5; i++) step(); console.log(tf.getBackend(), label, ((performance.now() - t0) / 5).toFixed(1), 'ms/step'); };
  time('fast');
  tf.registerGradient(original); time('tfjs original');
  tf.registerGradient(fast); time('fast again');
  const fwd = () => tf.tidy(() => { vit.apply(x).cls.dataSync(); });
  fwd(); const t0 = performance.now(); for (let i = 0; i < 5; i++) fwd(); console.log(tf.getBackend(), 'forward', ((performance.now() - t0) / 5).toFixed(1), 'ms');
});
