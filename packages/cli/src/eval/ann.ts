import { MmcError, ValueError } from '@mmc/core';

/**
 * Approximate k-NN for `mmc eval knn --ann`: an HNSW graph (Malkov & Yashunin, "Efficient and
 * robust approximate nearest neighbor search using Hierarchical Navigable Small World graphs")
 * from the optional package `hnswlib-node` (native bindings of nmslib/hnswlib, built by node-gyp
 * at install; when the build fails or is skipped, `--ann` says so and exact search still works).
 * Rows are L2-normalised on the host and indexed in the inner-product space, so the similarity of
 * a neighbour is 1 − distance = cosine similarity, as in the exact search.
 */

/** Default HNSW parameters (hnswlib's recommended M = 16, efConstruction = 200; ef ≥ k). */
export const ANN_DEFAULTS = { M: 16, efConstruction: 200, ef: 64 } as const;

/** The part of hnswlib-node's `HierarchicalNSW` used here. */
interface HnswIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}
interface HnswModule {
  HierarchicalNSW: new (space: 'l2' | 'ip' | 'cosine', dim: number) => HnswIndex;
}

/** Raised when `--ann` is asked for and hnswlib-node cannot be loaded. */
export class AnnUnavailableError extends MmcError {
  constructor(message: string) {
    super(message, 'E_ANN_UNAVAILABLE');
    this.name = 'AnnUnavailableError';
  }
}

/** Loads hnswlib-node (a variable specifier: bundlers leave the optional native package alone). */
export async function loadHnswlib(): Promise<HnswModule> {
  const specifier = 'hnswlib-node';
  try {
    const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as HnswModule & { default?: HnswModule };
    const lib = mod.HierarchicalNSW ? mod : mod.default;
    if (!lib || typeof lib.HierarchicalNSW !== 'function') throw new Error('the module has no HierarchicalNSW');
    return lib;
  } catch (e) {
    throw new AnnUnavailableError(
      `--ann needs the optional package hnswlib-node, which is not installed or whose native addon did not build ` +
        `(${(e as Error).message.split('\n')[0]}); install it with \`npm install hnswlib-node\` ` +
        '(node-gyp: python3, make and a C++ compiler), or leave out --ann for exact search',
    );
  }
}

/** Row `r` of `x` ([n, D]) as a unit-norm number[] (zero rows stay zero). */
function unitRow(x: Float32Array, r: number, D: number): number[] {
  let n = 0;
  for (let d = 0; d < D; d++) n += x[r * D + d] * x[r * D + d];
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Array<number>(D);
  for (let d = 0; d < D; d++) out[d] = x[r * D + d] * s;
  return out;
}

/** Result of {@link annSearch}: `[nTest, k]` row-major neighbours, most similar first. */
export interface AnnResult {
  indices: Int32Array;
  similarities: Float32Array;
  buildSeconds: number;
  searchSeconds: number;
}

/**
 * Builds an HNSW index over the train rows and returns each test row's k approximate nearest
 * neighbours by cosine similarity. Progress goes to `log` every 10 %.
 */
export async function annSearch(
  train: Float32Array,
  nTrain: number,
  test: Float32Array,
  nTest: number,
  D: number,
  k: number,
  params: { M: number; efConstruction: number; ef: number; seed: number },
  log: (message: string) => void,
): Promise<AnnResult> {
  const lib = await loadHnswlib();
  const index = new lib.HierarchicalNSW('ip', D);
  index.initIndex(nTrain, params.M, params.efConstruction, params.seed);
  const t0 = performance.now();
  const step = Math.max(1, Math.ceil(nTrain / 10));
  for (let i = 0; i < nTrain; i++) {
    index.addPoint(unitRow(train, i, D), i);
    if ((i + 1) % step === 0 && i + 1 < nTrain) log(`HNSW index: ${i + 1} / ${nTrain} rows`);
  }
  const buildSeconds = Math.round(performance.now() - t0) / 1000;
  log(`HNSW index of ${nTrain} rows built in ${buildSeconds} s`);
  index.setEf(params.ef);
  const t1 = performance.now();
  const indices = new Int32Array(nTest * k);
  const similarities = new Float32Array(nTest * k);
  for (let q = 0; q < nTest; q++) {
    const { distances, neighbors } = index.searchKnn(unitRow(test, q, D), k);
    if (neighbors.length < k) {
      throw new ValueError(`the HNSW index returned ${neighbors.length} < k = ${k} neighbours for test row ${q}; raise --ann-ef or --ann-m`);
    }
    for (let j = 0; j < k; j++) {
      indices[q * k + j] = neighbors[j];
      similarities[q * k + j] = 1 - distances[j];
    }
  }
  const searchSeconds = Math.round(performance.now() - t1) / 1000;
  return { indices, similarities, buildSeconds, searchSeconds };
}

/**
 * recall@k of approximate neighbours against exact ones: the mean over the sampled queries of
 * |ANN(q) ∩ exact(q)| / k. `rows[i]` is the test row of the i-th exact result row. (Train rows
 * tied with the k-th exact similarity may be swapped for one another and count as misses.)
 */
export function annRecall(annIndices: Int32Array, rows: readonly number[], exactIndices: Int32Array, k: number): number {
  let hits = 0;
  for (let i = 0; i < rows.length; i++) {
    const exact = new Set(exactIndices.subarray(i * k, (i + 1) * k));
    const a = annIndices.subarray(rows[i] * k, (rows[i] + 1) * k);
    for (let j = 0; j < k; j++) if (exact.has(a[j])) hits++;
  }
  return rows.length > 0 ? hits / (rows.length * k) : Number.NaN;
}
