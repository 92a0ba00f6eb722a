import * as tf from '@tensorflow/tfjs';
import type { ObjectCrops } from '@mmc/data';
import { featureHead, knnClassify, type FeatureHeadMode } from '@mmc/eval';
import type { ViT } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION } from '@mmc/recipes';

/** The three global features of the k-NN protocol (`featureHead` modes), in table order. */
export const KNN_HEADS: readonly FeatureHeadMode[] = ['cls', 'patch-mean', 'concat'];

/** `[M, D]` (`[M, 2D]` for 'concat') features of every crop for each head, from one forward pass per batch. */
async function cropFeatures(vit: ViT, crops: ObjectCrops, batchSize: number): Promise<Record<FeatureHeadMode, Float32Array>> {
  const [M, S, , C] = crops.shape;
  const parts = Object.fromEntries(KNN_HEADS.map((h) => [h, [] as Float32Array[]])) as Record<FeatureHeadMode, Float32Array[]>;
  for (let start = 0; start < M; start += batchSize) {
    const n = Math.min(batchSize, M - start);
    const feats = tf.tidy(() => {
      const x = tf.tensor4d(crops.images.subarray(start * S * S * C, (start + n) * S * S * C), [n, S, S, C]);
      const { cls, patches } = vit.apply(normalizeImages(x, SCENES_NORMALIZATION));
      return KNN_HEADS.map((h) => featureHead(cls, patches, h));
    });
    for (let i = 0; i < KNN_HEADS.length; i++) parts[KNN_HEADS[i]].push((await feats[i].data()) as Float32Array);
    tf.dispose(feats);
  }
  const out = {} as Record<FeatureHeadMode, Float32Array>;
  for (const h of KNN_HEADS) {
    const all = new Float32Array(parts[h].reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts[h]) {
      all.set(p, o);
      o += p.length;
    }
    out[h] = all;
  }
  return out;
}

/**
 * Weighted k-NN top-1 accuracy (`knnClassify`: cosine, T = 0.07, DINO's protocol) of `queries`
 * against the `bank` crops for each of the three global features of a ViT ('cls', 'patch-mean',
 * 'concat'), as fractions in [0, 1]. `k` is capped at the bank size.
 *
 * @example
 * ```ts
 * const acc = await knnByHead(vit, objectCrops(trainScenes, { size: 64 }), objectCrops(heldOut, { size: 64 }), 20);
 * // { cls: 0.61, 'patch-mean': 0.66, concat: 0.65 }
 * ```
 */
export async function knnByHead(vit: ViT, bank: ObjectCrops, queries: ObjectCrops, k: number, batchSize = 64): Promise<Record<FeatureHeadMode, number>> {
  const train = await cropFeatures(vit, bank, batchSize);
  const test = await cropFeatures(vit, queries, batchSize);
  const out = {} as Record<FeatureHeadMode, number>;
  for (const h of KNN_HEADS) {
    const D = train[h].length / bank.count;
    const { top1 } = knnClassify({
      trainFeatures: { data: train[h], shape: [bank.count, D] },
      trainLabels: bank.labels,
      testFeatures: { data: test[h], shape: [queries.count, D] },
      testLabels: queries.labels,
      numClasses: bank.numClasses,
      k: Math.min(k, bank.count),
    });
    out[h] = top1!;
  }
  return out;
}
