import * as tf from '@tensorflow/tfjs';
import { assertInteger, assertPositive, describe, formatShape, l2Normalize, ShapeError, ValueError } from '@mmc/core';
import {
  assertFiniteRows,
  assertLabelsInRange,
  inputShape,
  readLabels,
  toFloatTensor,
  type ArrayInput,
  type LabelsInput,
} from './ndarray.js';

/** Options of {@link knnClassify}. */
export interface KnnClassifyOptions {
  /** `[Ntrain, D]` reference (train) features. */
  trainFeatures: ArrayInput;
  /** `[Ntrain]` integer labels in [0, numClasses). */
  trainLabels: LabelsInput;
  /** `[Ntest, D]` query (test) features. */
  testFeatures: ArrayInput;
  /** `[Ntest]` integer labels in [0, numClasses): when given, `top1` / `top5` are computed. */
  testLabels?: LabelsInput;
  /** Number of classes. Required. */
  numClasses: number;
  /** Neighbours per query. Default 20 (DINO's best of 10/20/100/200). */
  k?: number;
  /** Vote temperature T in exp(sim / T). Default 0.07 (DINO). */
  temperature?: number;
  /** Test rows per similarity step. Default: ≈ 16M similarity entries per step, between 1 and 1024 rows. */
  chunkSize?: number;
}

/** Result of {@link knnClassify}. */
export interface KnnClassifyResult {
  /** `[Ntest]` predicted class (the top-ranked class of the weighted vote). */
  predictions: Int32Array;
  /** Fraction of test rows whose label is the top-ranked class (with `testLabels`). */
  top1?: number;
  /** Fraction of test rows whose label is among the first min(5, k) ranked classes (with `testLabels`). */
  top5?: number;
}

/**
 * Weighted k-nearest-neighbour classification of frozen features, DINO's protocol
 * (`facebookresearch/dino` `eval_knn.py`, `knn_classifier`; also iBOT's):
 *
 *     x̂ = x / ‖x‖₂ (train and test),   sim = x̂_test · x̂_trainᵀ
 *     N_k(q) = the k train rows of highest sim
 *     score_c(q) = Σ_{i ∈ N_k(q), y_i = c} exp(sim_i / T)
 *     classes ranked by score (descending; equal scores → lower class index first)
 *     top1 = mean[y_q = rank₁],  top5 = mean[y_q ∈ rank₁ … rank_min(5,k)]
 *
 * (DINO's `correct.narrow(1, 0, min(5, k))`; fractions, not percentages.) The scores are
 * computed on the host in float64 as exp((sim − sim_max)/T), which ranks classes exactly as
 * exp(sim/T) but cannot overflow for small T. Similarities and the top-k run on the tfjs
 * backend in chunks of test rows against the train features (normalised and transposed once),
 * so 60,000 × 384 train features and 10,000 queries fit in memory; any number of test rows
 * (one included) works. Which of several train rows tied at the k-th similarity is kept follows
 * `tf.topk`.
 *
 * Errors: k > Ntrain, labels outside [0, numClasses), mismatched shapes, or non-finite feature
 * rows raise `ValueError`/`ShapeError` naming the argument (and the row).
 *
 * @param options `{ trainFeatures [Ntrain, D], trainLabels [Ntrain], testFeatures [Ntest, D],
 *   testLabels?, numClasses, k = 20, temperature = 0.07, chunkSize? }`
 * @returns `{ predictions: Int32Array [Ntest], top1?, top5? }`
 * @example
 * ```ts
 * const { predictions, top1, top5 } = knnClassify({
 *   trainFeatures, trainLabels, testFeatures, testLabels, numClasses: 10, k: 20, temperature: 0.07,
 * });
 * ```
 */
export function knnClassify(options: KnnClassifyOptions): KnnClassifyResult {
  const fn = 'knnClassify';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { trainFeatures, trainLabels, testFeatures, numClasses, ... }, got ${describe(options)}`);
  }
  const { trainFeatures, trainLabels, testFeatures, testLabels, numClasses, k = 20, temperature = 0.07, chunkSize } = options;
  assertInteger(fn, 'numClasses', numClasses, 1);
  assertInteger(fn, 'k', k, 1);
  assertPositive(fn, 'temperature', temperature);
  if (chunkSize !== undefined) assertInteger(fn, 'chunkSize', chunkSize, 1);
  const trShape = inputShape(fn, 'trainFeatures', trainFeatures, 2, '[Ntrain, D]');
  const teShape = inputShape(fn, 'testFeatures', testFeatures, 2, '[Ntest, D]');
  const [nTrain, D] = trShape;
  const nTest = teShape[0];
  if (D === 0) throw new ShapeError(`${fn}: trainFeatures must have D >= 1 features, got shape ${formatShape(trShape)}`);
  if (teShape[1] !== D) {
    throw new ShapeError(`${fn}: testFeatures must have shape [Ntest, ${D}] (D of trainFeatures ${formatShape(trShape)}), got ${formatShape(teShape)}`);
  }
  if (nTrain === 0) throw new ShapeError(`${fn}: trainFeatures must have at least one row, got shape ${formatShape(trShape)}`);
  if (k > nTrain) {
    throw new ValueError(`${fn}: k must be <= the number of train rows ${nTrain}, got k = ${k}`);
  }
  const yTrain = readLabels(fn, 'trainLabels', trainLabels, nTrain, `(one per row of trainFeatures ${formatShape(trShape)})`);
  assertLabelsInRange(fn, 'trainLabels', yTrain, numClasses);
  let yTest: Int32Array | undefined;
  if (testLabels !== undefined && testLabels !== null) {
    yTest = readLabels(fn, 'testLabels', testLabels, nTest, `(one per row of testFeatures ${formatShape(teShape)})`);
    assertLabelsInRange(fn, 'testLabels', yTest, numClasses);
  }
  assertFiniteRows(fn, 'trainFeatures', trainFeatures, D);
  assertFiniteRows(fn, 'testFeatures', testFeatures, D);

  const predictions = new Int32Array(nTest);
  const rankLen = Math.min(5, k, numClasses);
  let correct1 = 0;
  let correct5 = 0;
  if (nTest > 0) {
    const rows = chunkSize ?? Math.max(1, Math.min(1024, Math.floor((1 << 24) / nTrain)));
    const trainT = tf.tidy(() => tf.transpose(l2Normalize(toFloatTensor(trainFeatures))));
    const test = tf.tidy(() => toFloatTensor(testFeatures).clone());
    const scores = new Float64Array(numClasses);
    const taken = new Uint8Array(numClasses);
    try {
      for (let r0 = 0; r0 < nTest; r0 += rows) {
        const c = Math.min(rows, nTest - r0);
        const [valT, idxT] = tf.tidy(() => {
          const q = l2Normalize(tf.slice(test, [r0, 0], [c, D]));
          const { values, indices } = tf.topk(tf.matMul(q, trainT), k, true);
          return [values, indices];
        });
        const vals = valT.dataSync();
        const idx = idxT.dataSync();
        tf.dispose([valT, idxT]);
        for (let a = 0; a < c; a++) {
          scores.fill(0);
          const off = a * k;
          const top = vals[off]; // sorted: the largest similarity
          for (let j = 0; j < k; j++) {
            scores[yTrain[idx[off + j]]] += Math.exp((vals[off + j] - top) / temperature);
          }
          // Rank the first `rankLen` classes: highest score, ties → lower class index.
          taken.fill(0);
          let hit5 = false;
          const label = yTest ? yTest[r0 + a] : -1;
          for (let r = 0; r < rankLen; r++) {
            let bestC = -1;
            for (let cl = 0; cl < numClasses; cl++) {
              if (!taken[cl] && (bestC < 0 || scores[cl] > scores[bestC])) bestC = cl;
            }
            taken[bestC] = 1;
            if (r === 0) {
              predictions[r0 + a] = bestC;
              if (bestC === label) correct1++;
            }
            if (bestC === label) hit5 = true;
          }
          if (hit5) correct5++;
        }
      }
    } finally {
      tf.dispose([trainT, test]);
    }
  }
  const result: KnnClassifyResult = { predictions };
  if (yTest) {
    result.top1 = nTest > 0 ? correct1 / nTest : NaN;
    result.top5 = nTest > 0 ? correct5 / nTest : NaN;
  }
  return result;
}
