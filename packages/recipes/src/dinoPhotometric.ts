import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@mmc/core';
import { colorJitter, gaussianBlur, grayscale, solarize } from '@mmc/masking';

/** Blur and solarize probabilities of DINO's views: global 1, global 2, every local crop. */
const BLUR_SOLARIZE: readonly [number, number][] = [
  [1, 0],
  [0.1, 0.2],
  [0.5, 0],
];

/**
 * DINO's photometric augmentation of one view (`DataAugmentationDINO`, also SiT's and MMC's):
 * `colorJitter` (brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1) with p 0.8, `grayscale`
 * p 0.2, `gaussianBlur` p 1.0 / 0.1 / 0.5 and `solarize` p 0 / 0.2 / 0 for global view 1 / global
 * view 2 / local crops (`view` 0, 1, ≥ 2). Random draws come from `rng` in that order.
 *
 * @param images [B, H, W, C] in [0, 1] (before normalisation); not disposed.
 * @returns a new [B, H, W, C] tensor in [0, 1].
 * @example
 * ```ts
 * const v1 = dinoPhotometric(crops, createRng(0), 0);
 * ```
 */
export function dinoPhotometric(images: tf.Tensor4D, rng: Rng, view: number): tf.Tensor4D {
  const [blurP, solarizeP] = BLUR_SOLARIZE[Math.min(view, 2)];
  const steps = [
    (t: tf.Tensor4D) => colorJitter(t, { rng, prob: 0.8 }).images,
    (t: tf.Tensor4D) => grayscale(t, { rng, prob: 0.2 }).images,
    (t: tf.Tensor4D) => gaussianBlur(t, { rng, prob: blurP }).images,
    (t: tf.Tensor4D) => solarize(t, { rng, prob: solarizeP }).images,
  ];
  let x = images;
  for (const step of steps) {
    const y = step(x);
    if (x !== images) x.dispose();
    x = y;
  }
  return x;
}
