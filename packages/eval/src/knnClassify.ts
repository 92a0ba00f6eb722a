import { assertInteger, assertPositive, describe, formatShape, ValueError } from '@mmc/core';
import { assertFiniteRows, assertLabelsInRange, readLabels, type ArrayInput, type LabelsInput } from './ndarray.js';
import { exactTopK, knnShapes, type knnSearch } from './knnSearch.js';
import { voteRows, type knnVote } from './knnVote.js';

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
 * backend in chunks of test rows against the train features (normalised once),
 * so 60,000 × 384 train features and 10,000 queries fit in memory; any number of test rows
 * (one included) works. Which of several train rows tied at the k-th similarity is kept follows
 * `tf.topk`.
 *
 * It is {@link knnSearch} (the exact neighbours) followed by {@link knnVote} (the vote), fused
 * per chunk so that no `[Ntest, k]` neighbour table is kept; use those two directly to vote on
 * neighbours from an approximate index.
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
  const { nTrain, nTest, D } = knnShapes(fn, trainFeatures, testFeatures, k);
  const trShape = [nTrain, D];
  const teShape = [nTest, D];
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
  let correct1 = 0;
  let correct5 = 0;
  exactTopK(trainFeatures, testFeatures, { nTrain, nTest, D }, k, chunkSize, (r0, c, vals, idx) => {
    const hits = voteRows(vals, idx, c, k, yTrain, numClasses, temperature, yTest, r0, predictions);
    correct1 += hits.correct1;
    correct5 += hits.correct5;
  });
  const result: KnnClassifyResult = { predictions };
  if (yTest) {
    result.top1 = nTest > 0 ? correct1 / nTest : NaN;
    result.top5 = nTest > 0 ? correct5 / nTest : NaN;
  }
  return result;
}
