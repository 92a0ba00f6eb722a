import * as tf from '@tensorflow/tfjs';
import { assertInteger, describe, formatShape, l2Normalize, ShapeError, ValueError, type Rng } from '@mmc/core';
import { assertFiniteRows, inputShape, readLabels, toFloatTensor, type ArrayInput, type LabelsInput } from './ndarray.js';
import { thresholdKeys } from './thresholds.js';

/** Global (CLS) features with one integer class label per row. */
export interface LabeledFeatures {
  /** `[n, D]` features (tensor or `{ data, shape }`), e.g. CLS embeddings. */
  features: ArrayInput;
  /** `[n]` integer class labels. */
  labels: LabelsInput;
}

/** Options of {@link fewShotThreshold}. */
export interface FewShotThresholdOptions {
  /** Support images (the prompts), or the pool supports are drawn from in episodic mode. */
  support: LabeledFeatures;
  /**
   * Query images, or the pool queries are drawn from in episodic mode. Required without
   * `episodes`; in episodic mode it defaults to the support pool (queries are then drawn
   * disjoint from the episode's support images).
   */
  query?: LabeledFeatures;
  /** Thresholds t: a pair is predicted "same class" when cos > t. Default 0.1, 0.2, …, 0.9. */
  thresholds?: readonly number[];
  /**
   * Number of sampled N-way K-shot episodes (the paper's setting, e.g. 600). Omitted: one
   * evaluation of every (query, support) pair of the given sets, no sampling.
   */
  episodes?: number;
  /** Classes per episode. Default 5 (5-way). */
  ways?: number;
  /** Support images per class per episode. Default 1 (1-shot). */
  shots?: number;
  /** Query images per class per episode. Default 15 (the usual few-shot protocol). */
  queriesPerClass?: number;
  /** Seeded generator (`createRng(seed)`); required with `episodes`. */
  rng?: Rng;
  /**
   * Episodes (episodic mode) or query rows (fixed mode) per similarity step.
   * Default: ≈ 4M values per step. Results do not depend on it.
   */
  chunkSize?: number;
}

/** Binary "same class" confusion counts and metrics at one threshold. */
export interface FewShotMetrics {
  /** (TP + TN) / all pairs. */
  accuracy: number;
  /** TP / (TP + FP), 0 when nothing is predicted positive. */
  precision: number;
  /** TP / (TP + FN), 0 when there is no positive pair. */
  recall: number;
  /** 2TP / (2TP + FP + FN), 0 when that denominator is 0. */
  f1: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Result of {@link fewShotThreshold}. Record keys are `String(threshold)`, e.g. `"0.3"`. */
export interface FewShotThresholdResult {
  thresholds: number[];
  /** All metrics per threshold. */
  byThreshold: Record<string, FewShotMetrics>;
  /** Pairwise accuracy per threshold (same as `byThreshold[t].accuracy`). */
  accuracyByThreshold: Record<string, number>;
  /** F1 per threshold (same as `byThreshold[t].f1`). */
  f1ByThreshold: Record<string, number>;
  /** The threshold with the highest F1 (first on ties), as the paper reports. */
  best: { threshold: number; f1: number; accuracy: number };
  /**
   * Threshold-free N-way accuracy: each query takes the class of its most similar support image
   * (the nearest-neighbour baseline the paper compares with; ties → the lower class label).
   */
  nearestNeighborAccuracy: number;
  /** Episodes evaluated (1 without `episodes`). */
  episodes: number;
  /** (query, support) pairs counted in total. */
  pairs: number;
}

const DEFAULT_THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const CHUNK_ENTRIES = 1 << 22;

function readSet(fn: string, arg: string, set: unknown): { features: ArrayInput; labels: Int32Array; n: number; D: number } {
  if (set == null || typeof set !== 'object' || !('features' in set) || !('labels' in set)) {
    throw new ValueError(`${fn}: ${arg} must be { features [n, D], labels [n] }, got ${describe(set)}`);
  }
  const s = set as LabeledFeatures;
  const shape = inputShape(fn, `${arg}.features`, s.features, 2, '[n, D]');
  const [n, D] = shape;
  if (D === 0) throw new ShapeError(`${fn}: ${arg}.features must have D >= 1, got ${formatShape(shape)}`);
  const labels = readLabels(fn, `${arg}.labels`, s.labels, n, `(one per row of ${arg}.features ${formatShape(shape)})`);
  assertFiniteRows(fn, `${arg}.features`, s.features, D);
  return { features: s.features, labels, n, D };
}

/**
 * Few-shot classification by similarity thresholding (MMC paper, appendix "Classification",
 * Table 8): the CLS feature of a support image is a prompt; a query is predicted to share its
 * class when their cosine similarity exceeds t. Every (query, support image) pair is one binary
 * decision, counted as TP / FP / FN / TN against "same label", and per threshold
 *
 *     accuracy = (TP + TN) / pairs,  precision = TP / (TP + FP),  recall = TP / (TP + FN)
 *     F1 = 2TP / (2TP + FP + FN)          (0 where a denominator is 0)
 *
 * The paper sweeps t = 0.1 … 0.9 in 5-way 1-shot episodes and reports the best F1 (`best`).
 * Its "Accuracy" column is most likely the N-way nearest-neighbour accuracy, reported here as
 * `nearestNeighborAccuracy`; `byThreshold[t].accuracy` is the pairwise binary accuracy.
 *
 * Modes:
 * - without `episodes`: `support` and `query` are used as given, all pairs (no randomness;
 *   queries may carry labels absent from the support set: open-world negatives);
 * - with `episodes = E` (and `rng`): E episodes, each drawing `ways` distinct classes uniformly
 *   among the classes with enough images, then per class `shots` support images from the support
 *   pool and `queriesPerClass` query images from the query pool (without replacement; when the
 *   query pool is the support pool, disjoint from the supports). Each episode contributes
 *   ways·queriesPerClass × ways·shots pairs. Deterministic per seed.
 *
 * Similarities run on the tfjs backend (L2-normalised features, batched matMul per chunk of
 * episodes or queries); counting runs on the host.
 *
 * @param options `{ support: { features, labels }, query?, thresholds = [0.1 … 0.9], episodes?,
 *   ways = 5, shots = 1, queriesPerClass = 15, rng?, chunkSize? }`
 * @returns `{ thresholds, byThreshold, accuracyByThreshold, f1ByThreshold, best,
 *   nearestNeighborAccuracy, episodes, pairs }`
 * @example
 * ```ts
 * const r = fewShotThreshold({ support: { features: cls, labels }, episodes: 600, rng: createRng(0) });
 * r.best; // { threshold: 0.5, f1: 0.62, accuracy: 0.83 }
 * ```
 */
export function fewShotThreshold(options: FewShotThresholdOptions): FewShotThresholdResult {
  const fn = 'fewShotThreshold';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { support, query?, thresholds?, episodes?, rng? }, got ${describe(options)}`);
  }
  const { episodes, ways = 5, shots = 1, queriesPerClass = 15, rng, chunkSize } = options;
  if (chunkSize !== undefined) assertInteger(fn, 'chunkSize', chunkSize, 1);
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const keys = thresholdKeys(fn, thresholds);
  const episodic = episodes !== undefined;
  if (episodic) {
    assertInteger(fn, 'episodes', episodes, 1);
    assertInteger(fn, 'ways', ways, 1);
    assertInteger(fn, 'shots', shots, 1);
    assertInteger(fn, 'queriesPerClass', queriesPerClass, 1);
    if (rng == null || typeof rng.int !== 'function') {
      throw new ValueError(`${fn}: rng is required with episodes (pass rng: createRng(seed)), got ${describe(rng)}`);
    }
  } else if (options.query == null) {
    throw new ValueError(`${fn}: query is required without episodes (or pass episodes and rng to sample episodes from support)`);
  }
  const S = readSet(fn, 'support', options.support);
  const samePool = options.query == null;
  const Q = samePool ? S : readSet(fn, 'query', options.query);
  if (Q.D !== S.D) {
    throw new ShapeError(`${fn}: query.features must have D = ${S.D} (like support.features), got D = ${Q.D}`);
  }
  const D = S.D;
  const T = thresholds.length;
  const tp = new Float64Array(T);
  const fp = new Float64Array(T);
  const fnCount = new Float64Array(T);
  const tn = new Float64Array(T);
  let pairs = 0;
  let nnCorrect = 0;
  let nnTotal = 0;

  /** Counts one block of similarities sims[a·ns + b] for query labels ql and support labels sl. */
  const count = (sims: ArrayLike<number>, off: number, ql: ArrayLike<number>, sl: ArrayLike<number>) => {
    const nq = ql.length;
    const ns = sl.length;
    for (let a = 0; a < nq; a++) {
      let best = -Infinity;
      let bestLabel = 0;
      for (let b = 0; b < ns; b++) {
        const s = sims[off + a * ns + b];
        const same = ql[a] === sl[b];
        if (s > best || (s === best && sl[b] < bestLabel)) {
          best = s;
          bestLabel = sl[b];
        }
        for (let k = 0; k < T; k++) {
          if (s > thresholds[k]) {
            if (same) tp[k]++;
            else fp[k]++;
          } else if (same) fnCount[k]++;
          else tn[k]++;
        }
      }
      if (ns > 0) {
        nnTotal++;
        if (bestLabel === ql[a]) nnCorrect++;
      }
    }
    pairs += nq * ns;
  };

  const sN = tf.tidy(() => l2Normalize(toFloatTensor(S.features)));
  const qN = samePool ? sN : tf.tidy(() => l2Normalize(toFloatTensor(Q.features)));
  try {
    if (!episodic) {
      if (S.n > 0 && Q.n > 0) {
        const sT = tf.tidy(() => tf.transpose(sN));
        try {
          const rows = chunkSize ?? Math.max(1, Math.floor(CHUNK_ENTRIES / S.n));
          for (let r0 = 0; r0 < Q.n; r0 += rows) {
            const c = Math.min(rows, Q.n - r0);
            const simT = tf.tidy(() => tf.matMul(tf.slice(qN, [r0, 0], [c, D]), sT));
            const sims = simT.dataSync();
            simT.dispose();
            count(sims, 0, Q.labels.subarray(r0, r0 + c), S.labels);
          }
        } finally {
          sT.dispose();
        }
      }
    } else {
      // Per-class index lists; partial Fisher–Yates draws in place (uniform, deterministic per seed).
      const byClass = (labels: Int32Array) => {
        const m = new Map<number, number[]>();
        labels.forEach((y, i) => {
          const list = m.get(y);
          if (list) list.push(i);
          else m.set(y, [i]);
        });
        return m;
      };
      const sByClass = byClass(S.labels);
      const qByClass = samePool ? sByClass : byClass(Q.labels);
      const eligible = [...sByClass.keys()]
        .filter((c) =>
          samePool
            ? sByClass.get(c)!.length >= shots + queriesPerClass
            : sByClass.get(c)!.length >= shots && (qByClass.get(c)?.length ?? 0) >= queriesPerClass,
        )
        .sort((a, b) => a - b);
      if (eligible.length < ways) {
        throw new ValueError(
          `${fn}: ways = ${ways} needs ${ways} classes with at least ${samePool ? `shots + queriesPerClass = ${shots + queriesPerClass} images` : `${shots} support and ${queriesPerClass} query images`}, got ${eligible.length} such classes`,
        );
      }
      const r = rng as Rng;
      const draw = (list: number[], m: number, from = 0): void => {
        for (let i = from; i < from + m; i++) {
          const j = i + r.int(list.length - i);
          const tmp = list[i];
          list[i] = list[j];
          list[j] = tmp;
        }
      };
      const nq = ways * queriesPerClass;
      const ns = ways * shots;
      const perChunk = chunkSize ?? Math.max(1, Math.floor(CHUNK_ENTRIES / ((nq + ns) * D + nq * ns)));
      for (let e0 = 0; e0 < (episodes as number); e0 += perChunk) {
        const E = Math.min(perChunk, (episodes as number) - e0);
        const qIdx = new Int32Array(E * nq);
        const sIdx = new Int32Array(E * ns);
        for (let e = 0; e < E; e++) {
          const classes = eligible.slice();
          draw(classes, ways);
          for (let w = 0; w < ways; w++) {
            const c = classes[w];
            const sList = sByClass.get(c)!;
            draw(sList, shots);
            for (let k = 0; k < shots; k++) sIdx[e * ns + w * shots + k] = sList[k];
            const qList = qByClass.get(c)!;
            const from = samePool ? shots : 0;
            draw(qList, queriesPerClass, from);
            for (let k = 0; k < queriesPerClass; k++) qIdx[e * nq + w * queriesPerClass + k] = qList[from + k];
          }
        }
        const simT = tf.tidy(() => {
          const qg = tf.reshape(tf.gather(qN, tf.tensor1d(qIdx, 'int32')), [E, nq, D]);
          const sg = tf.reshape(tf.gather(sN, tf.tensor1d(sIdx, 'int32')), [E, ns, D]);
          return tf.matMul(qg, tf.transpose(sg, [0, 2, 1]));
        });
        const sims = simT.dataSync();
        simT.dispose();
        for (let e = 0; e < E; e++) {
          const ql = Int32Array.from(qIdx.subarray(e * nq, (e + 1) * nq), (i) => Q.labels[i]);
          const sl = Int32Array.from(sIdx.subarray(e * ns, (e + 1) * ns), (i) => S.labels[i]);
          count(sims, e * nq * ns, ql, sl);
        }
      }
    }
  } finally {
    sN.dispose();
    if (qN !== sN) qN.dispose();
  }

  const byThreshold: Record<string, FewShotMetrics> = {};
  const accuracyByThreshold: Record<string, number> = {};
  const f1ByThreshold: Record<string, number> = {};
  let best = { threshold: thresholds[0], f1: NaN, accuracy: NaN };
  thresholds.forEach((t, k) => {
    const P = tp[k] + fp[k];
    const A = tp[k] + fnCount[k];
    const f1Den = 2 * tp[k] + fp[k] + fnCount[k];
    const m: FewShotMetrics = {
      accuracy: pairs > 0 ? (tp[k] + tn[k]) / pairs : NaN,
      precision: P > 0 ? tp[k] / P : 0,
      recall: A > 0 ? tp[k] / A : 0,
      f1: f1Den > 0 ? (2 * tp[k]) / f1Den : 0,
      tp: tp[k],
      fp: fp[k],
      fn: fnCount[k],
      tn: tn[k],
    };
    byThreshold[keys[k]] = m;
    accuracyByThreshold[keys[k]] = m.accuracy;
    f1ByThreshold[keys[k]] = m.f1;
    if (Number.isNaN(best.f1) || m.f1 > best.f1) best = { threshold: t, f1: m.f1, accuracy: m.accuracy };
  });
  return {
    thresholds: thresholds.slice(),
    byThreshold,
    accuracyByThreshold,
    f1ByThreshold,
    best,
    nearestNeighborAccuracy: nnTotal > 0 ? nnCorrect / nnTotal : NaN,
    episodes: episodic ? (episodes as number) : 1,
    pairs,
  };
}
