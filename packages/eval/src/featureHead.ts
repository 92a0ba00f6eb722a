import * as tf from '@tensorflow/tfjs';
import { assertOneOf, formatShape, ShapeError } from '@mmc/core';
import { inputShape, toFloatTensor, type ArrayInput } from './ndarray.js';

/** Which global feature {@link featureHead} builds. */
export type FeatureHeadMode = 'cls' | 'patch-mean' | 'concat';

/**
 * The global image feature used by the k-NN / linear / few-shot protocols, from a ViT's
 * last-layer outputs (iBOT `evaluation/eval_knn.py` / `eval_linear.py`, `avgpool_patchtokens`):
 *
 *     'cls'        → cls                                  [B, D]   (avgpool 0, DINO's default)
 *     'patch-mean' → mean over N of patches               [B, D]   (avgpool 1, e.g. BEiT/MAE)
 *     'concat'     → [cls, mean over N of patches]        [B, 2D]  (avgpool 2: CLS first)
 *
 * Only the input the mode needs is required: `patches` may be `null` for 'cls', `cls` may be
 * `null` for 'patch-mean'. Returns a new float32 tensor owned by the caller (tidy).
 *
 * @param cls `[B, D]` CLS embeddings (tensor or `{ data, shape }`)
 * @param patches `[B, N, D]` patch tokens, N ≥ 1
 * @param mode `'cls'` (default) | `'patch-mean'` | `'concat'`
 * @returns `[B, D]`, or `[B, 2D]` for 'concat'
 * @example
 * ```ts
 * const { cls, patches } = vit.forward(images);
 * const feats = featureHead(cls, patches, 'concat'); // [B, 2D]
 * ```
 */
export function featureHead(
  cls: ArrayInput | null,
  patches: ArrayInput | null,
  mode: FeatureHeadMode = 'cls',
): tf.Tensor2D {
  const fn = 'featureHead';
  assertOneOf(fn, 'mode', mode, ['cls', 'patch-mean', 'concat'] as const);
  const needCls = mode !== 'patch-mean';
  const needPatches = mode !== 'cls';
  const cShape = needCls || cls != null ? inputShape(fn, 'cls', cls, 2, '[B, D]') : undefined;
  const pShape = needPatches || patches != null ? inputShape(fn, 'patches', patches, 3, '[B, N, D]') : undefined;
  if (cShape && pShape && (cShape[0] !== pShape[0] || cShape[1] !== pShape[2])) {
    throw new ShapeError(
      `${fn}: patches must have shape [${cShape[0]}, N, ${cShape[1]}] (B and D of cls ${formatShape(cShape)}), got ${formatShape(pShape)}`,
    );
  }
  if (needPatches && pShape![1] === 0) {
    throw new ShapeError(`${fn}: patches must have at least one token (N >= 1) for mode '${mode}', got ${formatShape(pShape!)}`);
  }
  return tf.tidy(() => {
    if (mode === 'cls') return tf.clone(toFloatTensor(cls as ArrayInput)) as tf.Tensor2D;
    const mean = tf.mean(toFloatTensor(patches as ArrayInput), 1) as tf.Tensor2D;
    if (mode === 'patch-mean') return mean;
    return tf.concat([toFloatTensor(cls as ArrayInput), mean], 1) as tf.Tensor2D;
  });
}
