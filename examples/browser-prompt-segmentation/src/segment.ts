import * as tf from '@tensorflow/tfjs';
import { promptSegmentAsync, type PromptSegmentResult } from '@mmc/eval';
import type { ViT } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION } from '@mmc/recipes';

/**
 * The last-layer patch tokens `[h, w, D]` of one image `[H, W, 3]` (values in [0, 1], H = W =
 * the model's imageSize), normalised as in training (`SCENES_NORMALIZATION`). The tensor stays on
 * the backend; the caller disposes it.
 *
 * @example
 * ```ts
 * const tokens = patchTokens(vit, rgb); // [8, 8, 64] for the demo ViT on 64×64
 * ```
 */
export function patchTokens(vit: ViT, rgb: Float32Array): tf.Tensor3D {
  const { imageSize: S, patchSize: p, dim } = vit.config;
  return tf.tidy(() => {
    const x = normalizeImages(tf.tensor4d(rgb, [1, S, S, 3]), SCENES_NORMALIZATION);
    return tf.reshape(vit.apply(x).patches, [S / p, S / p, dim]) as tf.Tensor3D;
  });
}

/**
 * Zero-shot segmentation from the clicked pixel `(x, y)` of the model-size image:
 * `promptSegmentAsync` of @mmc/eval on the tokens (cosine similarity of the clicked patch's token
 * to every token, computed on the current backend and read back asynchronously), upsampled
 * bilinearly to the image size and thresholded (`similarity > threshold`).
 */
export function segmentAt(tokens: tf.Tensor3D, imageSize: number, x: number, y: number, threshold: number): Promise<PromptSegmentResult> {
  return promptSegmentAsync(tokens, { x, y, imageSize }, { threshold, outputSize: [imageSize, imageSize] });
}

/** `similarity > threshold` per pixel (the slider re-thresholds the last map without recomputing it). */
export function thresholdMap(similarity: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(similarity.length);
  for (let i = 0; i < similarity.length; i++) mask[i] = similarity[i] > threshold ? 1 : 0;
  return mask;
}
