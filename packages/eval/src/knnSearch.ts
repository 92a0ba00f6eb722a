import * as tf from '@tensorflow/tfjs';
import { assertInteger, describe, formatShape, FUSED_KERNELS, hasBackendKernel, l2Normalize, ShapeError, ValueError } from '@mmc/core';
import { columnTopK } from './columnTopK.js';
import { hostValues } from './hostValues.js';
import { assertFiniteRows, inputShape, toFloatTensor, type ArrayInput } from './ndarray.js';

/** Options of {@link knnSearch}. */
export interface KnnSearchOptions {
  /** Neighbours per query. Default 20. */
  k?: number;
  /**
   * Test rows per similarity step. Default: ≈ 16M similarity entries per step, between 1 and 1024
   * rows; all test rows in one step where the backend has `@mmc/core`'s `FUSED_KERNELS.dotTopK`
   * (`@mmc/kernels` on wasm), which never stores the similarity matrix.
   */
  chunkSize?: number;
}

/** Result of {@link knnSearch}: row q holds query q's neighbours, most similar first. */
export interface KnnSearchResult {
  /** `[Ntest·k]` row-major train-row indices. */
  indices: Int32Array;
  /** `[Ntest·k]` row-major cosine similarities, descending within a row. */
  similarities: Float32Array;
  /** `[Ntest, k]`. */
  shape: [number, number];
}

/**
 * Validates the train/test feature pair of a k-NN call (rank 2, equal D ≥ 1, at least one train
 * row, k ≤ Ntrain) and returns the sizes. Internal (not exported from the package index).
 */
export function knnShapes(fn: string, trainFeatures: ArrayInput, testFeatures: ArrayInput, k: number): { nTrain: number; nTest: number; D: number } {
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
  return { nTrain, nTest, D };
}

/**
 * The exact cosine top-k loop shared by {@link knnSearch} and `knnClassify` (inputs already
 * validated): train features are L2-normalised once; for each chunk of `rows` test
 * rows, `onChunk(r0, c, values, indices)` receives the `[c, k]` top-k similarities (descending)
 * and train indices. Internal (not exported from the package index).
 */
export function exactTopK(
  trainFeatures: ArrayInput,
  testFeatures: ArrayInput,
  sizes: { nTrain: number; nTest: number; D: number },
  k: number,
  chunkSize: number | undefined,
  onChunk: (r0: number, c: number, values: Float32Array, indices: Int32Array) => void,
): void {
  const { nTrain, nTest, D } = sizes;
  if (nTest === 0) return;
  if (hasBackendKernel(FUSED_KERNELS.dotTopK)) {
    fusedTopK(trainFeatures, testFeatures, nTest, D, k, chunkSize ?? nTest, onChunk);
    return;
  }
  const rows = chunkSize ?? Math.max(1, Math.min(1024, Math.floor((1 << 24) / nTrain)));
  // Backends whose tensors live in host memory: similarities as train · queryᵀ (the small query
  // block is the GEMM's packed operand: ~15 % faster on wasm) and the top-k on the host in one
  // pass over the backend's memory (columnTopK; wasm's TopK kernel takes ~1.2× as long). Others (GPU, tfjs-node): tf.topk
  // on the device, so only [c, k] comes back.
  const host = ['cpu', 'wasm'].includes(tf.getBackend());
  const train = tf.tidy(() => {
    const x = l2Normalize(toFloatTensor(trainFeatures));
    return host ? x : tf.transpose(x);
  });
  const test = tf.tidy(() => toFloatTensor(testFeatures).clone());
  try {
    for (let r0 = 0; r0 < nTest; r0 += rows) {
      const c = Math.min(rows, nTest - r0);
      if (host) {
        const simT = tf.tidy(() => tf.matMul(train, tf.transpose(l2Normalize(tf.slice(test, [r0, 0], [c, D])))));
        try {
          const { values, indices } = columnTopK(hostValues(simT), nTrain, c, k);
          onChunk(r0, c, values, indices);
        } finally {
          simT.dispose();
        }
        continue;
      }
      const topk = tf.tidy(() => {
        const q = l2Normalize(tf.slice(test, [r0, 0], [c, D]));
        const { values, indices } = tf.topk(tf.matMul(q, train), k, true);
        return [values, indices];
      });
      deliver(r0, c, topk, onChunk);
    }
  } finally {
    tf.dispose([train, test]);
  }
}

/** Reads a chunk's `[values, indices]` top-k tensors, disposes them and hands them to `onChunk`. */
function deliver(r0: number, c: number, [valT, idxT]: tf.Tensor[], onChunk: (r0: number, c: number, values: Float32Array, indices: Int32Array) => void): void {
  const vals = valT.dataSync() as Float32Array;
  const idx = idxT.dataSync() as Int32Array;
  tf.dispose([valT, idxT]);
  onChunk(r0, c, vals, idx);
}

/** {@link exactTopK} on the backend's `FUSED_KERNELS.dotTopK` kernel over L2-normalised rows, `rows` test rows per call. */
function fusedTopK(
  trainFeatures: ArrayInput,
  testFeatures: ArrayInput,
  nTest: number,
  D: number,
  k: number,
  rows: number,
  onChunk: (r0: number, c: number, values: Float32Array, indices: Int32Array) => void,
): void {
  const train = tf.tidy(() => l2Normalize(toFloatTensor(trainFeatures)));
  const test = tf.tidy(() => l2Normalize(toFloatTensor(testFeatures)));
  try {
    for (let r0 = 0; r0 < nTest; r0 += rows) {
      const c = Math.min(rows, nTest - r0);
      const topk = tf.tidy(() => {
        const queries = c === nTest ? test : tf.slice(test, [r0, 0], [c, D]);
        return tf.engine().runKernel(FUSED_KERNELS.dotTopK, { train, queries }, { k }) as tf.Tensor[];
      });
      deliver(r0, c, topk, onChunk);
    }
  } finally {
    tf.dispose([train, test]);
  }
}

/**
 * Exact cosine k-nearest-neighbour search, the neighbour step of DINO's `knn_classifier`
 * (`facebookresearch/dino` `eval_knn.py`):
 *
 *     x̂ = x / ‖x‖₂ (train and test),   sim = x̂_test · x̂_trainᵀ,   N_k(q) = top-k of sim(q, ·)
 *
 * Runs on the tfjs backend in chunks of test rows (as `knnClassify`), so 60,000 × 384 train
 * features and 10,000 queries fit in memory. Use it with {@link knnVote} to classify from the
 * neighbours, or to measure the recall of an approximate index against exact search. Which of
 * several train rows tied at the k-th similarity is kept follows `tf.topk`.
 *
 * @param trainFeatures `[Ntrain, D]` (tensor or `{ data, shape }`)
 * @param testFeatures `[Ntest, D]`
 * @param options `{ k = 20, chunkSize? }`
 * @returns `{ indices: Int32Array, similarities: Float32Array, shape: [Ntest, k] }`, row-major,
 *   most similar first
 * @example
 * ```ts
 * const { indices, similarities } = knnSearch(trainFeatures, testFeatures, { k: 20 });
 * const { top1 } = knnVote({ neighbors: { data: indices, shape: [nTest, 20] },
 *   similarities: { data: similarities, shape: [nTest, 20] }, trainLabels, testLabels, numClasses: 10 });
 * ```
 */
export function knnSearch(trainFeatures: ArrayInput, testFeatures: ArrayInput, options: KnnSearchOptions = {}): KnnSearchResult {
  const fn = 'knnSearch';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { k?, chunkSize? }, got ${describe(options)}`);
  }
  const { k = 20, chunkSize } = options;
  assertInteger(fn, 'k', k, 1);
  if (chunkSize !== undefined) assertInteger(fn, 'chunkSize', chunkSize, 1);
  const sizes = knnShapes(fn, trainFeatures, testFeatures, k);
  assertFiniteRows(fn, 'trainFeatures', trainFeatures, sizes.D);
  assertFiniteRows(fn, 'testFeatures', testFeatures, sizes.D);
  const indices = new Int32Array(sizes.nTest * k);
  const similarities = new Float32Array(sizes.nTest * k);
  exactTopK(trainFeatures, testFeatures, sizes, k, chunkSize, (r0, _c, values, idx) => {
    indices.set(idx, r0 * k);
    similarities.set(values, r0 * k);
  });
  return { indices, similarities, shape: [sizes.nTest, k] };
}
