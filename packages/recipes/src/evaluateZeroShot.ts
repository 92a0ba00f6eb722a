import * as tf from '@tensorflow/tfjs';
import { assertInteger, createRng } from '@mmc/core';
import type { SceneDataset } from '@mmc/data';
import { patchLabels, similarityDistributions, thresholdSweep, type SweepSample } from '@mmc/eval';
import type { ViT } from '@mmc/models';
import { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';

/** Options of {@link evaluateZeroShot}. */
export interface EvaluateZeroShotOptions {
  /** Thresholds of the sweep (default the paper's 0.1, 0.2, 0.3, 0.4). */
  thresholds?: number[];
  /** Images per forward pass (default 32). */
  batchSize?: number;
  /** Pairs sampled for the similarity distributions (default 200,000). */
  maxPairs?: number;
  /** Fraction of a patch's pixels that must share one class for the patch to be labelled (default 0.5). */
  minPurity?: number;
  normalization?: Normalization;
  seed?: number;
}

/** Result of {@link evaluateZeroShot}: the paper's two zero-shot measurements on labelled scenes. */
export interface ZeroShotResult {
  miouByThreshold: Record<string, number>;
  bestThreshold: number;
  bestMiou: number;
  overlap: number;
  intraMean: number;
  interMean: number;
  /** Histograms (100 bins on [−1, 1]) for plotting. */
  intra: Float64Array;
  inter: Float64Array;
  /** Number of prompted objects and labelled patches. */
  prompts: number;
  labelledPatches: number;
}

/**
 * Zero-shot evaluation of a backbone on scenes with masks (paper §Zero-shot Segmentation and
 * §Similarity Distribution): every visible object is prompted at its centre pixel; its
 * last-layer patch tokens give a cosine-similarity map that is upsampled (bilinear, half-pixel)
 * and thresholded; IoU against the object's class mask is accumulated per class (`thresholdSweep`).
 * Patches whose pixels are at least `minPurity` one object class are labelled with it (`patchLabels`;
 * background patches are left out) and the intra/inter-class similarity histograms and their overlap are
 * computed over the whole set (`similarityDistributions`).
 *
 * @example
 * ```ts
 * const r = await evaluateZeroShot(recipe.student, scenes({ count: 200, imageSize: 32, seed: 99 }));
 * console.log(r.bestMiou, r.overlap);
 * ```
 */
export async function evaluateZeroShot(backbone: ViT, data: SceneDataset, opts: EvaluateZeroShotOptions = {}): Promise<ZeroShotResult> {
  const { thresholds = [0.1, 0.2, 0.3, 0.4], batchSize = 32, maxPairs = 200_000, minPurity = 0.5, normalization = SCENES_NORMALIZATION, seed = 0 } = opts;
  assertInteger('evaluateZeroShot', 'batchSize', batchSize, 1);
  const { imageSize: H, patchSize: p, dim: D } = backbone.config;
  if (data.imageSize !== H) {
    throw new Error(`evaluateZeroShot: data.imageSize ${data.imageSize} differs from the backbone's imageSize ${H}`);
  }
  const h = H / p;
  const samples: SweepSample[] = [];
  const patchFeatures: Float32Array[] = [];
  const patchLabelList: number[] = [];
  for (let start = 0; start < data.count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, i) => start + i);
    const batch = data.batch(idx);
    const feats = tf.tidy(() => {
      const x = normalizeImages(tf.tensor4d(batch.images, batch.shape), normalization);
      return backbone.apply(x).patches;
    });
    const all = (await feats.data()) as Float32Array;
    feats.dispose();
    for (let b = 0; b < idx.length; b++) {
      const f = all.slice(b * h * h * D, (b + 1) * h * h * D);
      const classMask = batch.classMasks.subarray(b * H * H, (b + 1) * H * H);
      for (const obj of batch.objects[b]) {
        const target = new Uint8Array(H * H);
        for (let i = 0; i < target.length; i++) target[i] = classMask[i] === obj.classId ? 1 : 0;
        samples.push({
          patches: { data: f, shape: [h, h, D] },
          prompt: { x: obj.centerCol, y: obj.centerRow, imageSize: H },
          target: { data: target, shape: [H, H] },
          classId: obj.classId,
        });
      }
      const labels = patchLabels(classMask, [H, H], { patchSize: p, minPurity });
      labels.forEach((label, i) => {
        if (label < 0) return;
        patchFeatures.push(f.subarray(i * D, (i + 1) * D));
        patchLabelList.push(label);
      });
    }
  }
  const sweep = thresholdSweep(samples, { thresholds });
  const M = patchLabelList.length;
  const flat = new Float32Array(M * D);
  patchFeatures.forEach((f, i) => flat.set(f, i * D));
  const dist = similarityDistributions({ data: flat, shape: [M, D] }, Int32Array.from(patchLabelList), {
    maxPairs,
    rng: createRng(seed),
  });
  return {
    miouByThreshold: sweep.miouByThreshold,
    bestThreshold: sweep.best.threshold,
    bestMiou: sweep.best.miou,
    overlap: dist.overlap,
    intraMean: dist.intraMean,
    interMean: dist.interMean,
    intra: dist.intra,
    inter: dist.inter,
    prompts: samples.length,
    labelledPatches: M,
  };
}
