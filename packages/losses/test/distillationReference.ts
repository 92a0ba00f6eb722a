/**
 * Independent float64 loop references for the self-distillation losses (test-only): DINO,
 * iBOT (patch term and the official double loop), MSN (with a literal sharpen p^(1/T)) and
 * Sinkhorn-Knopp. Written from the official code's formulas (DESIGN §5) with explicit loops;
 * they share no code with packages/losses/src.
 */

/** softmax of v / T, max-shifted. */
export function softmax(v: ArrayLike<number>, T = 1): number[] {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i] / T);
  const e: number[] = [];
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    e.push(Math.exp(v[i] / T - m));
    s += e[i];
  }
  return e.map((x) => x / s);
}

/** log softmax of v / T. */
export function logSoftmax(v: ArrayLike<number>, T = 1): number[] {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i] / T);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] / T - m);
  const lse = m + Math.log(s);
  return Array.from(v, (x) => x / T - lse);
}

/** Row r of a flat [rows, K] array. */
const row = (x: Float64Array, r: number, K: number) => x.subarray(r * K, (r + 1) * K);

/** −Σ_k p_k log q_k with q = softmax(s / Ts), p = softmax((t − c) / Tt). */
function tokenCE(s: ArrayLike<number>, t: ArrayLike<number>, c: ArrayLike<number>, Ts: number, Tt: number): number {
  const centred = Array.from(t, (x, k) => x - c[k]);
  const p = softmax(centred, Tt);
  const lq = logSoftmax(s, Ts);
  let ce = 0;
  for (let k = 0; k < p.length; k++) ce -= p[k] * lq[k];
  return ce;
}

export interface DistillOptions {
  studentTemp: number;
  teacherTemp: number;
  centerMomentum: number;
}

/**
 * DINO: views are flat [B, K] arrays. Loss = mean over (q, v ≠ q) of the batch-mean CE;
 * center' = m·c + (1 − m)·mean of all teacher rows.
 */
export function refDino(
  student: Float64Array[],
  teacher: Float64Array[],
  center: Float64Array,
  B: number,
  K: number,
  o: DistillOptions,
): { loss: number; center: Float64Array } {
  let total = 0;
  let pairs = 0;
  for (let q = 0; q < teacher.length; q++) {
    for (let v = 0; v < student.length; v++) {
      if (v === q) continue;
      let sum = 0;
      for (let b = 0; b < B; b++) sum += tokenCE(row(student[v], b, K), row(teacher[q], b, K), center, o.studentTemp, o.teacherTemp);
      total += sum / B;
      pairs++;
    }
  }
  const next = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (const t of teacher) for (let b = 0; b < B; b++) s += t[b * K + k];
    next[k] = o.centerMomentum * center[k] + (1 - o.centerMomentum) * (s / (teacher.length * B));
  }
  return { loss: total / pairs, center: next };
}

/**
 * iBOT patch term for one view: flat [B, N, K] student/teacher, [B, N] mask. Per image
 * Σ ℓ·m / max(Σ m, 1), mean over images; center' from the mean over tokens then batch.
 */
export function refIbotPatch(
  s: Float64Array,
  t: Float64Array,
  mask: Float64Array,
  center: Float64Array,
  B: number,
  N: number,
  K: number,
  o: DistillOptions,
): { loss: number; center: Float64Array } {
  let total = 0;
  for (let b = 0; b < B; b++) {
    let num = 0;
    let den = 0;
    for (let n = 0; n < N; n++) {
      const i = b * N + n;
      num += tokenCE(row(s, i, K), row(t, i, K), center, o.studentTemp, o.teacherTemp) * mask[i];
      den += mask[i];
    }
    total += num / Math.max(den, 1);
  }
  const next = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let perBatch = 0;
    for (let b = 0; b < B; b++) {
      let perToken = 0;
      for (let n = 0; n < N; n++) perToken += t[(b * N + n) * K + k];
      perBatch += perToken / N;
    }
    next[k] = o.centerMomentum * center[k] + (1 - o.centerMomentum) * (perBatch / B);
  }
  return { loss: total / B, center: next };
}

export interface IbotRefOptions {
  studentTemp: number;
  teacherTemp: number;
  teacherPatchTemp: number;
  centerMomentum: number;
  centerMomentum2: number;
  lambda1: number;
  lambda2: number;
}

/** iBOT's double loop over teacher views q and student views v (patch when v = q, CLS otherwise). */
export function refIbot(
  p: { sc: Float64Array[]; tc: Float64Array[]; sp: Float64Array[]; tp: Float64Array[]; masks: Float64Array[] },
  center: Float64Array,
  center2: Float64Array,
  B: number,
  K: number,
  N: number,
  K2: number,
  o: IbotRefOptions,
): { loss: number; cls: number; patch: number; center: Float64Array; center2: Float64Array } {
  let cls = 0;
  let n1 = 0;
  let patch = 0;
  let n2 = 0;
  for (let q = 0; q < p.tc.length; q++) {
    for (let v = 0; v < p.sc.length; v++) {
      if (v === q) {
        let imgs = 0;
        for (let b = 0; b < B; b++) {
          let num = 0;
          let den = 0;
          for (let n = 0; n < N; n++) {
            const i = b * N + n;
            num += p.masks[v][i] * tokenCE(row(p.sp[v], i, K2), row(p.tp[q], i, K2), center2, o.studentTemp, o.teacherPatchTemp);
            den += p.masks[v][i];
          }
          imgs += num / Math.max(den, 1);
        }
        patch += imgs / B;
        n2++;
      } else {
        let sum = 0;
        for (let b = 0; b < B; b++) sum += tokenCE(row(p.sc[v], b, K), row(p.tc[q], b, K), center, o.studentTemp, o.teacherTemp);
        cls += sum / B;
        n1++;
      }
    }
  }
  cls /= n1;
  patch /= n2;
  const G = p.tc.length;
  const c1 = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (const t of p.tc) for (let b = 0; b < B; b++) s += t[b * K + k];
    c1[k] = o.centerMomentum * center[k] + (1 - o.centerMomentum) * (s / (G * B));
  }
  const c2 = new Float64Array(K2);
  for (let k = 0; k < K2; k++) {
    let s = 0;
    for (const t of p.tp) {
      for (let b = 0; b < B; b++) {
        let tok = 0;
        for (let n = 0; n < N; n++) tok += t[(b * N + n) * K2 + k];
        s += tok / N;
      }
    }
    c2[k] = o.centerMomentum2 * center2[k] + (1 - o.centerMomentum2) * (s / (G * B));
  }
  return { loss: o.lambda1 * cls + o.lambda2 * patch, cls, patch, center: c1, center2: c2 };
}

/** Row-wise x / max(‖x‖, 1e-12) of a flat [rows, D] array. */
function normalize(x: Float64Array, rows: number, D: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[r * D + d] ** 2;
    const n = Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < D; d++) out[r * D + d] = x[r * D + d] / n;
  }
  return out;
}

/** Cosine similarities of rows of a [R, D] against rows of p [K, D]: [R][K]. */
function cosines(a: Float64Array, R: number, p: Float64Array, K: number, D: number): number[][] {
  const an = normalize(a, R, D);
  const pn = normalize(p, K, D);
  const out: number[][] = [];
  for (let r = 0; r < R; r++) {
    out.push([]);
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += an[r * D + d] * pn[k * D + d];
      out[r].push(s);
    }
  }
  return out;
}

/** Sinkhorn-Knopp exactly as MSN's distributed_sinkhorn on one device, Q: [B][K]. */
export function refSinkhorn(Q: number[][], iterations = 3): number[][] {
  const B = Q.length;
  const K = Q[0].length;
  // Work on the transpose [K][B] as the official code.
  let T: number[][] = [];
  for (let k = 0; k < K; k++) T.push(Q.map((r) => r[k]));
  let sum = 0;
  for (const r of T) for (const x of r) sum += x;
  T = T.map((r) => r.map((x) => x / sum));
  for (let it = 0; it < iterations; it++) {
    T = T.map((r) => {
      const s = r.reduce((a, x) => a + x, 0);
      return r.map((x) => x / s / K);
    });
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += T[k][b];
      for (let k = 0; k < K; k++) T[k][b] = T[k][b] / s / B;
    }
  }
  const out: number[][] = [];
  for (let b = 0; b < B; b++) out.push(T.map((r) => r[b] * B));
  return out;
}

export interface MsnRefOptions {
  tau: number;
  sharpenT: number;
  meMaxWeight: number;
  sinkhorn: boolean;
  /** When given, the targets use these prototypes (held constant) instead of `protos`. */
  targetProtos?: Float64Array;
}

/**
 * MSN as the official code: probs = softmax(cos(anchor, protos)/tau); targets =
 * sharpen(softmax(cos(target, protos)/tau), T) = p^(1/T) / Σ p^(1/T); optional sinkhorn;
 * ce = mean_i Σ_k −t log p; meMax = log K − H(mean p).
 */
export function refMsn(
  anchor: Float64Array,
  target: Float64Array,
  protos: Float64Array,
  M: number,
  B: number,
  D: number,
  K: number,
  o: MsnRefOptions,
): { loss: number; ce: number; meMax: number } {
  const probs = cosines(anchor, M * B, protos, K, D).map((r) => softmax(r, o.tau));
  let targets = cosines(target, B, o.targetProtos ?? protos, K, D).map((r) => {
    const sharp = softmax(r, o.tau).map((x) => x ** (1 / o.sharpenT));
    const s = sharp.reduce((a, x) => a + x, 0);
    return sharp.map((x) => x / s);
  });
  if (o.sinkhorn) targets = refSinkhorn(targets);
  let ce = 0;
  for (let j = 0; j < M; j++) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) ce -= targets[b][k] * Math.log(probs[j * B + b][k]);
    }
  }
  ce /= M * B;
  let H = 0;
  for (let k = 0; k < K; k++) {
    let avg = 0;
    for (let i = 0; i < M * B; i++) avg += probs[i][k];
    avg /= M * B;
    if (avg > 0) H -= avg * Math.log(avg);
  }
  const meMax = Math.log(K) - H;
  return { loss: ce + o.meMaxWeight * meMax, ce, meMax };
}
