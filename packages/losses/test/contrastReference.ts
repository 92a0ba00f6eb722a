/**
 * Independent float64 loop references for the contrastive losses (test-only). Written from the
 * formulas (DESIGN §5), with explicit loops and a max-shifted log-sum-exp; they share no code
 * with packages/losses/src.
 */

/** Row-wise L2 normalisation of a flat [rows, D] array: x / max(‖x‖, 1e-12). */
export function normalizeRows(x: Float64Array, rows: number, D: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[r * D + d] * x[r * D + d];
    const n = Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < D; d++) out[r * D + d] = x[r * D + d] / n;
  }
  return out;
}

/** log Σ exp(v_i), shifted by the max. */
export function logSumExp(v: number[]): number {
  let m = -Infinity;
  for (const x of v) m = Math.max(m, x);
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

function dot(a: Float64Array, i: number, b: Float64Array, j: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[i * D + d] * b[j * D + d];
  return s;
}

/**
 * InfoNCE: mean over rows i of −log softmax_j(q̂_i·k̂_j/T)_i; `symmetric` averages it with the
 * same over columns; times `scale`.
 */
export function refInfoNCE(
  q: Float64Array,
  k: Float64Array,
  B: number,
  D: number,
  { temperature = 0.2, symmetric = false, scale = 1 } = {},
): number {
  const qn = normalizeRows(q, B, D);
  const kn = normalizeRows(k, B, D);
  const logits: number[][] = [];
  for (let i = 0; i < B; i++) {
    logits.push([]);
    for (let j = 0; j < B; j++) logits[i].push(dot(qn, i, kn, j, D) / temperature);
  }
  let rows = 0;
  for (let i = 0; i < B; i++) rows += logSumExp(logits[i]) - logits[i][i];
  rows /= B;
  if (!symmetric) return rows * scale;
  let cols = 0;
  for (let j = 0; j < B; j++) {
    const col: number[] = [];
    for (let i = 0; i < B; i++) col.push(logits[i][j]);
    cols += logSumExp(col) - logits[j][j];
  }
  cols /= B;
  return 0.5 * (rows + cols) * scale;
}

/**
 * Patch momentum contrast on flat [B, N, D] arrays: token (b, p) against its positive
 * t̂(b, p) and negatives t̂(b′, ·) ('other-images') or t̂(b′, p) ('same-position'), b′ ≠ b.
 * With a mask [B, N]: Σ ℓ·m / max(Σ m, 1); without: the mean over all tokens.
 */
export function refPatchContrast(
  s: Float64Array,
  t: Float64Array,
  B: number,
  N: number,
  D: number,
  { temperature = 0.2, negatives = 'other-images', mask }: { temperature?: number; negatives?: string; mask?: Float64Array } = {},
): number {
  const qn = normalizeRows(s, B * N, D);
  const kn = normalizeRows(t, B * N, D);
  let num = 0;
  let den = 0;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < N; p++) {
      const i = b * N + p;
      const pos = dot(qn, i, kn, i, D) / temperature;
      const all = [pos];
      for (let b2 = 0; b2 < B; b2++) {
        if (b2 === b) continue;
        if (negatives === 'other-images') {
          for (let p2 = 0; p2 < N; p2++) all.push(dot(qn, i, kn, b2 * N + p2, D) / temperature);
        } else {
          all.push(dot(qn, i, kn, b2 * N + p, D) / temperature);
        }
      }
      const loss = logSumExp(all) - pos;
      const m = mask ? mask[i] : 1;
      num += loss * m;
      den += m;
    }
  }
  return mask ? num / Math.max(den, 1) : num / (B * N);
}
