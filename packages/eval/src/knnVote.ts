import { assertInteger, assertPositive, describe, formatShape, ShapeError, ValueError } from '@mmc/core';
import { assertLabelsInRange, hostData, inputShape, readLabels, type ArrayInput, type LabelsInput } from './ndarray.js';
import type { KnnClassifyResult } from './knnClassify.js';

/** Options of {@link knnVote}. */
export interface KnnVoteOptions {
  /** `[Ntest, k]` train-row indices of each query's neighbours (any order within a row). */
  neighbors: ArrayInput;
  /** `[Ntest, k]` cosine similarities of those neighbours. */
  similarities: ArrayInput;
  /** `[Ntrain]` integer labels in [0, numClasses) of the train rows. */
  trainLabels: LabelsInput;
  /** `[Ntest]` labels: when given, `top1` / `top5` are computed. */
  testLabels?: LabelsInput;
  /** Number of classes. Required. */
  numClasses: number;
  /** Vote temperature T in exp(sim / T). Default 0.07 (DINO). */
  temperature?: number;
}

/**
 * The weighted vote of `rows` queries whose `[rows, k]` neighbour similarities and indices are
 * `sims` / `idx` (row-major); writes `predictions[rowOffset + a]` and returns the top-1 / top-5
 * hit counts. Shared by `knnClassify` and {@link knnVote}; inputs already validated. Internal.
 */
export function voteRows(
  sims: ArrayLike<number>,
  idx: ArrayLike<number>,
  rows: number,
  k: number,
  yTrain: Int32Array,
  numClasses: number,
  temperature: number,
  yTest: Int32Array | undefined,
  rowOffset: number,
  predictions: Int32Array,
): { correct1: number; correct5: number } {
  const rankLen = Math.min(5, k, numClasses);
  const scores = new Float64Array(numClasses);
  const taken = new Uint8Array(numClasses);
  let correct1 = 0;
  let correct5 = 0;
  for (let a = 0; a < rows; a++) {
    scores.fill(0);
    const off = a * k;
    let top = -Infinity; // the row's largest similarity (the first one when sorted)
    for (let j = 0; j < k; j++) if (sims[off + j] > top) top = sims[off + j];
    for (let j = 0; j < k; j++) {
      scores[yTrain[idx[off + j]]] += Math.exp((sims[off + j] - top) / temperature);
    }
    // Rank the first `rankLen` classes: highest score, ties → lower class index.
    taken.fill(0);
    let hit5 = false;
    const label = yTest ? yTest[rowOffset + a] : -1;
    for (let r = 0; r < rankLen; r++) {
      let bestC = -1;
      for (let cl = 0; cl < numClasses; cl++) {
        if (!taken[cl] && (bestC < 0 || scores[cl] > scores[bestC])) bestC = cl;
      }
      taken[bestC] = 1;
      if (r === 0) {
        predictions[rowOffset + a] = bestC;
        if (bestC === label) correct1++;
      }
      if (bestC === label) hit5 = true;
    }
    if (hit5) correct5++;
  }
  return { correct1, correct5 };
}

/**
 * DINO's weighted k-NN vote (`facebookresearch/dino` `eval_knn.py`, `knn_classifier`) on
 * neighbours found elsewhere: an approximate index (HNSW, FAISS), a search sharded over
 * machines, or {@link knnSearch}. For each query q with neighbours N(q) and similarities s_i:
 *
 *     score_c(q) = Σ_{i ∈ N(q), y_i = c} exp(s_i / T)
 *     classes ranked by score (descending; equal scores → lower class index first)
 *     top1 = mean[y_q = rank₁],  top5 = mean[y_q ∈ rank₁ … rank_min(5,k)]
 *
 * Exactly `knnClassify`'s vote (scores computed in float64 as exp((s − max s)/T), which ranks
 * identically and cannot overflow); given exact neighbours it gives `knnClassify`'s result.
 *
 * @param options `{ neighbors [Ntest, k], similarities [Ntest, k], trainLabels [Ntrain],
 *   testLabels?, numClasses, temperature = 0.07 }`
 * @returns `{ predictions: Int32Array [Ntest], top1?, top5? }` (fractions)
 * @example
 * ```ts
 * const ann = myIndex.search(queries, 20); // { ids [Ntest·20], sims [Ntest·20] }
 * const { top1, top5 } = knnVote({ neighbors: { data: ann.ids, shape: [nTest, 20] },
 *   similarities: { data: ann.sims, shape: [nTest, 20] }, trainLabels, testLabels, numClasses: 10 });
 * ```
 */
export function knnVote(options: KnnVoteOptions): KnnClassifyResult {
  const fn = 'knnVote';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { neighbors, similarities, trainLabels, numClasses, ... }, got ${describe(options)}`);
  }
  const { neighbors, similarities, trainLabels, testLabels, numClasses, temperature = 0.07 } = options;
  assertInteger(fn, 'numClasses', numClasses, 1);
  assertPositive(fn, 'temperature', temperature);
  const nShape = inputShape(fn, 'neighbors', neighbors, 2, '[Ntest, k]');
  const sShape = inputShape(fn, 'similarities', similarities, 2, '[Ntest, k]');
  const [nTest, k] = nShape;
  if (sShape[0] !== nTest || sShape[1] !== k) {
    throw new ShapeError(`${fn}: similarities must have shape ${formatShape(nShape)} (like neighbors), got ${formatShape(sShape)}`);
  }
  if (k === 0 && nTest > 0) throw new ShapeError(`${fn}: neighbors must have k >= 1 columns, got shape ${formatShape(nShape)}`);
  const yTrain = readLabels(fn, 'trainLabels', trainLabels);
  assertLabelsInRange(fn, 'trainLabels', yTrain, numClasses);
  const idx = hostData(neighbors);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (!Number.isInteger(v) || v < 0 || v >= yTrain.length) {
      throw new ValueError(
        `${fn}: neighbors[${Math.floor(i / k)}][${i % k}] = ${v} is not a train row index in [0, ${yTrain.length})`,
      );
    }
  }
  const sims = hostData(similarities);
  for (let i = 0; i < sims.length; i++) {
    if (!Number.isFinite(sims[i])) {
      throw new ValueError(`${fn}: similarities row ${Math.floor(i / k)} contains a non-finite value (${sims[i]} at column ${i % k})`);
    }
  }
  let yTest: Int32Array | undefined;
  if (testLabels !== undefined && testLabels !== null) {
    yTest = readLabels(fn, 'testLabels', testLabels, nTest, `(one per row of neighbors ${formatShape(nShape)})`);
    assertLabelsInRange(fn, 'testLabels', yTest, numClasses);
  }
  const predictions = new Int32Array(nTest);
  const { correct1, correct5 } = voteRows(sims, idx, nTest, k, yTrain, numClasses, temperature, yTest, 0, predictions);
  const result: KnnClassifyResult = { predictions };
  if (yTest) {
    result.top1 = nTest > 0 ? correct1 / nTest : NaN;
    result.top5 = nTest > 0 ? correct5 / nTest : NaN;
  }
  return result;
}
