import * as tf from '@tensorflow/tfjs';
import { assertFiniteRows, isTensor, type ArrayInput } from './ndarray.js';
import {
  preparePrompt,
  promptSimilarityTensor,
  readThreshold,
  thresholdSimilarity,
  type Prompt,
  type PromptSegmentOptions,
  type PromptSegmentResult,
} from './promptSegment.js';

/**
 * {@link promptSegment} with asynchronous read-backs (`await tensor.data()`), for the WebGPU and
 * WebGL backends, where a synchronous read stalls the page (WebGL) or, on WebGPU, goes through
 * a canvas copy that returns zeros on some adapters (seen with Chromium's SwiftShader). Same
 * inputs, checks, errors and result; on cpu and wasm both give identical values.
 *
 * @param patches `[h, w, D]` patch tokens of one image (tensor or `{ data, shape }`)
 * @param prompt `{ row, col }` patch cell or `{ x, y, imageSize }` pixel position
 * @param options `{ threshold, outputSize? }`
 * @returns a promise of `{ similarity, mask, shape, prompt }` (plain typed arrays)
 * @example
 * ```ts
 * const tokens = tf.reshape(vit.apply(image).patches, [8, 8, 64]);   // on WebGPU
 * const { mask } = await promptSegmentAsync(tokens, { x: 30, y: 20, imageSize: 64 }, { threshold: 0.3, outputSize: [64, 64] });
 * ```
 */
export async function promptSegmentAsync(patches: ArrayInput, prompt: Prompt, options: PromptSegmentOptions): Promise<PromptSegmentResult> {
  const fn = 'promptSegmentAsync';
  const threshold = readThreshold(fn, options);
  const r = preparePrompt(fn, patches, prompt, options.outputSize);
  const what = 'token (row-major over the h×w grid)';
  if (isTensor(patches)) {
    const ok = tf.tidy(() => tf.all(tf.isFinite(patches)));
    const finite = (await ok.data())[0] === 1;
    ok.dispose();
    if (!finite) assertFiniteRows(fn, 'patches', { data: (await patches.data()) as Float32Array, shape: patches.shape }, r.D, what);
  } else {
    assertFiniteRows(fn, 'patches', patches, r.D, what);
  }
  const sim = promptSimilarityTensor(patches, r);
  const similarity = Float32Array.from((await sim.data()) as Float32Array);
  sim.dispose();
  return { similarity, mask: thresholdSimilarity(similarity, threshold), shape: r.outputSize ?? [r.h, r.w], prompt: r.cell };
}
