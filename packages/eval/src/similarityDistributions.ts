import * as tf from '@tensorflow/tfjs';
import { assertInteger, describe, formatShape, l2Normalize, ShapeError, ValueError, type Rng } from '@mmc/core';
import { assertFiniteRows, inputShape, readLabels, toFloatTensor, type ArrayInput, type LabelsInput } from './ndarray.js';
import { hostValues } from './hostValues.js';

/** Options of {@link similarityDistributions}. */
export interface SimilarityDistributionsOptions {
  /** Number of equal bins on [−1, 1]. Default 100 (the paper's Figure/Table 5). */
  bins?: number;
  /**
   * Use at most this many pairs: when the number of labelled pairs M′(M′−1)/2 exceeds it,
   * `maxPairs` pairs are drawn uniformly (with replacement) from all pairs with i ≠ j, using
   * `rng` (required then). Default: all pairs.
   */
  maxPairs?: number;
  /** Seeded generator (`createRng(seed)`) for pair sampling; required when sampling happens. */
  rng?: Rng;
  /** Rows of the similarity matrix computed per step (all-pairs mode). Default: ≈ 4M entries per step. */
  chunkSize?: number;
}

/** Result of {@link similarityDistributions}. */
export interface SimilarityDistributionsResult {
  /** Histogram of same-label pair similarities, normalised to sum 1 (all zeros when no pair). */
  intra: Float64Array;
  /** Histogram of different-label pair similarities, normalised to sum 1 (all zeros when no pair). */
  inter: Float64Array;
  /** Number of same-label pairs counted. */
  intraCount: number;
  /** Number of different-label pairs counted. */
  interCount: number;
  /** Mean similarity of same-label pairs (NaN when none). */
  intraMean: number;
  /** Mean similarity of different-label pairs (NaN when none). */
  interMean: number;
  /** Σ_b min(intra_b, inter_b) ∈ [0, 1] (paper Table 5: MMC 0.55, DINO 0.66). */
  overlap: number;
  /** The `bins + 1` bin edges, −1 + 2b/bins. */
  edges: Float64Array;
  /** Whether pairs were sampled (`maxPairs` exceeded) rather than enumerated. */
  sampled: boolean;
}

const CHUNK_ENTRIES = 1 << 22;
const PAIR_CHUNK = 1 << 15;

/**
 * Intra- and inter-object similarity distributions of patch tokens (MMC paper, §"Similarity
 * distributions", Table 5): every pair i < j of labelled patches gives the cosine similarity
 * s = ⟨x̂_i, x̂_j⟩ of the L2-normalised tokens; pairs with the same label go to the intra
 * histogram, the others to the inter histogram. Histograms have `bins` equal bins on [−1, 1]
 * with numpy.histogram's convention (last bin closed) and values clamped into range:
 *
 *     bin(s) = clamp(floor((s + 1) · bins / 2), 0, bins − 1)
 *     intra, inter normalised to sum 1;   overlap = Σ_b min(intra_b, inter_b)
 *
 * Patches with a negative label are unlabelled and left out. The similarity matrix is computed
 * with tfjs in row chunks of the upper triangle and histogrammed on the host chunk by chunk, so
 * M ≈ 20k patches (2·10⁸ pairs) run in bounded memory. Above `maxPairs`, pairs (i, j) are drawn
 * uniformly with replacement among ordered pairs with i ≠ j (i = rng.int(M), j uniform over the
 * others), i.e. uniformly among unordered pairs; `rng` is then required and the result is
 * deterministic per seed. When one kind has no pair (e.g. every patch has its own label) its
 * count is 0, its histogram all zeros, its mean NaN, and the overlap 0.
 *
 * @param patches `[M, D]` patch tokens (tensor or `{ data, shape }`), e.g. all tokens of many images
 * @param labels `[M]` integer object/class label per patch (negative = unlabelled)
 * @param options `{ bins = 100, maxPairs?, rng?, chunkSize? }`
 * @returns `{ intra, inter, intraCount, interCount, intraMean, interMean, overlap, edges, sampled }`
 * @example
 * ```ts
 * const r = similarityDistributions(tokens, objectIds, { maxPairs: 1e6, rng: createRng(0) });
 * console.log(r.overlap, r.intraMean, r.interMean);
 * ```
 */
export function similarityDistributions(
  patches: ArrayInput,
  labels: LabelsInput,
  options: SimilarityDistributionsOptions = {},
): SimilarityDistributionsResult {
  const fn = 'similarityDistributions';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { bins?, maxPairs?, rng?, chunkSize? }, got ${describe(options)}`);
  }
  const { bins = 100, maxPairs, rng, chunkSize } = options;
  assertInteger(fn, 'bins', bins, 1);
  if (maxPairs !== undefined) assertInteger(fn, 'maxPairs', maxPairs, 1);
  if (chunkSize !== undefined) assertInteger(fn, 'chunkSize', chunkSize, 1);
  const shape = inputShape(fn, 'patches', patches, 2, '[M, D]');
  const [M, D] = shape;
  if (D === 0) throw new ShapeError(`${fn}: patches must have D >= 1 features, got shape ${formatShape(shape)}`);
  const lab = readLabels(fn, 'labels', labels, M, `(one per row of patches ${formatShape(shape)})`);
  assertFiniteRows(fn, 'patches', patches, D);

  const keep: number[] = [];
  for (let i = 0; i < M; i++) if (lab[i] >= 0) keep.push(i);
  const n = keep.length;
  const kept = Int32Array.from(keep, (i) => lab[i]);
  const totalPairs = (n * (n - 1)) / 2;
  const sampled = maxPairs !== undefined && totalPairs > maxPairs;
  if (sampled && (rng == null || typeof rng.int !== 'function')) {
    throw new ValueError(
      `${fn}: rng is required when the ${totalPairs} pairs exceed maxPairs = ${maxPairs} (pass rng: createRng(seed)), got ${describe(rng)}`,
    );
  }

  const intraHist = new Float64Array(bins);
  const interHist = new Float64Array(bins);
  let intraSum = 0;
  let interSum = 0;
  const half = bins / 2;
  const add = (s: number, same: boolean) => {
    let b = Math.floor((s + 1) * half);
    if (b < 0) b = 0;
    else if (b > bins - 1) b = bins - 1;
    if (same) {
      intraHist[b]++;
      intraSum += s;
    } else {
      interHist[b]++;
      interSum += s;
    }
  };

  if (n >= 2) {
    const normed = tf.tidy(() => {
      let x = toFloatTensor(patches);
      if (n !== M) x = tf.gather(x, tf.tensor1d(Int32Array.from(keep), 'int32'));
      return l2Normalize(x);
    });
    try {
      if (sampled) {
        const count = maxPairs as number;
        const r = rng as Rng;
        for (let p0 = 0; p0 < count; p0 += PAIR_CHUNK) {
          const c = Math.min(PAIR_CHUNK, count - p0);
          const I = new Int32Array(c);
          const J = new Int32Array(c);
          for (let q = 0; q < c; q++) {
            const i = r.int(n);
            let j = r.int(n - 1);
            if (j >= i) j++;
            I[q] = i;
            J[q] = j;
          }
          const simT = tf.tidy(() =>
            tf.sum(tf.mul(tf.gather(normed, tf.tensor1d(I, 'int32')), tf.gather(normed, tf.tensor1d(J, 'int32'))), 1),
          );
          const sims = simT.dataSync();
          simT.dispose();
          for (let q = 0; q < c; q++) add(sims[q], kept[I[q]] === kept[J[q]]);
        }
      } else {
        const normedT = tf.tidy(() => tf.transpose(normed));
        try {
          const rows = chunkSize ?? Math.max(1, Math.floor(CHUNK_ENTRIES / n));
          // The last row has no partner j > i: rows 0 … n − 2 suffice.
          for (let r0 = 0; r0 < n - 1; r0 += rows) {
            const c = Math.min(rows, n - 1 - r0);
            const width = n - r0;
            const simT = tf.tidy(() =>
              tf.matMul(tf.slice(normed, [r0, 0], [c, D]), tf.slice(normedT, [0, r0], [D, width])),
            );
            try {
              const sims = hostValues(simT);
              for (let a = 0; a < c; a++) {
                const i = r0 + a;
                const li = kept[i];
                const base = a * width - r0;
                for (let j = i + 1; j < n; j++) add(sims[base + j], li === kept[j]);
              }
            } finally {
              simT.dispose();
            }
          }
        } finally {
          normedT.dispose();
        }
      }
    } finally {
      normed.dispose();
    }
  }

  let intraCount = 0;
  let interCount = 0;
  for (let b = 0; b < bins; b++) {
    intraCount += intraHist[b];
    interCount += interHist[b];
  }
  let overlap = 0;
  for (let b = 0; b < bins; b++) {
    if (intraCount > 0) intraHist[b] /= intraCount;
    if (interCount > 0) interHist[b] /= interCount;
    overlap += Math.min(intraHist[b], interHist[b]);
  }
  const edges = new Float64Array(bins + 1);
  for (let b = 0; b <= bins; b++) edges[b] = -1 + (2 * b) / bins;
  return {
    intra: intraHist,
    inter: interHist,
    intraCount,
    interCount,
    intraMean: intraCount > 0 ? intraSum / intraCount : NaN,
    interMean: interCount > 0 ? interSum / interCount : NaN,
    overlap,
    edges,
    sampled,
  };
}
