import type { ParityValues } from './suite.js';

/** How far one output of a backend is from the reference backend's. */
export interface KeyDiff {
  key: string;
  /** max_i |a_i − b_i| */
  maxAbs: number;
  /** maxAbs / max_i |b_i| (b = reference; 0/0 counts as 0). */
  relMax: number;
  /** ‖a − b‖₂ / ‖b‖₂ (0/0 counts as 0). */
  relL2: number;
  /** Fraction of entries with |a_i − b_i| > 1e-2 · max_j |b_j|. */
  fracOff: number;
}

/**
 * Tolerances of one case: every output must satisfy `relMax ≤ relMax`, except the outputs whose
 * key matches `robust.keys`, which must satisfy `fracOff ≤ robust.fracOff`.
 */
export interface Tolerance {
  relMax: number;
  robust?: { keys: RegExp; fracOff: number };
}

/**
 * Tolerances against the cpu backend (float32 everywhere; the backends differ in summation order,
 * fused kernels and transcendental functions).
 *
 * - losses: relative 1e-4 of the largest value of each output (value and input gradient);
 * - ViT-Tiny forward and backward (12 blocks, every weight's gradient): relative 1e-3;
 * - MMC training steps: loss parts and gradient norms of both steps relative 1e-3 (step 2's
 *   losses are computed with the weights after step 1, so they check the update too); the weight
 *   changes: at most 1 % of the entries may differ by more than 1 % of the largest change. AdamW's
 *   first steps move each weight by about ±lr·sign(g), so a weight whose gradient is ~0
 *   (e.g. a bias feeding a normalisation) moves by ±lr on the sign of float32 noise, which differs
 *   between backends; a max-norm tolerance would fail on those entries however exact the rest is.
 */
export const PARITY_TOLERANCES: Record<string, Tolerance> = {
  mimL1Loss: { relMax: 1e-4 },
  maeLoss: { relMax: 1e-4 },
  infoNCE: { relMax: 1e-4 },
  crossViewInfoNCE: { relMax: 1e-4 },
  patchMomentumContrast: { relMax: 1e-4 },
  mmcLoss: { relMax: 1e-4 },
  dinoLoss: { relMax: 1e-4 },
  ibotPatchLoss: { relMax: 1e-4 },
  msnLoss: { relMax: 1e-4 },
  vitTiny: { relMax: 1e-3 },
  mmcTrainStep: { relMax: 1e-3, robust: { keys: /^updates$/, fracOff: 1e-2 } },
};

/** Per-output differences of `values` from `reference` (same keys and lengths required). */
export function diffValues(values: ParityValues, reference: ParityValues): KeyDiff[] {
  const keys = Object.keys(reference);
  const missing = keys.filter((k) => !(k in values));
  if (missing.length > 0) throw new Error(`diffValues: outputs missing: ${missing.join(', ')}`);
  return keys.map((key) => {
    const a = values[key];
    const b = reference[key];
    if (a.length !== b.length) throw new Error(`diffValues: output '${key}' has ${a.length} values, the reference ${b.length}`);
    let maxAbs = 0;
    let maxRef = 0;
    let d2 = 0;
    let r2 = 0;
    for (let i = 0; i < b.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
      maxRef = Math.max(maxRef, Math.abs(b[i]));
      d2 += d * d;
      r2 += b[i] * b[i];
    }
    let off = 0;
    for (let i = 0; i < b.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-2 * maxRef)) off++;
    const ratio = (x: number, y: number) => (x === 0 ? 0 : x / y);
    return { key, maxAbs, relMax: ratio(maxAbs, maxRef), relL2: ratio(Math.sqrt(d2), Math.sqrt(r2)), fracOff: b.length ? off / b.length : 0 };
  });
}

/** Summary of one case on one backend against the reference. */
export interface CaseVerdict {
  name: string;
  /** Largest relMax over the outputs judged by it, and its key. */
  worstRelMax: number;
  worstRelMaxKey: string;
  /** Largest fracOff over the outputs judged by it (0 and '' when none is). */
  worstFracOff: number;
  worstFracOffKey: string;
  pass: boolean;
}

/** Judges one case with its tolerance (see {@link PARITY_TOLERANCES}). */
export function judgeCase(name: string, values: ParityValues, reference: ParityValues): CaseVerdict {
  const tol = PARITY_TOLERANCES[name];
  if (!tol) throw new Error(`judgeCase: no tolerance for case '${name}'`);
  const v: CaseVerdict = { name, worstRelMax: 0, worstRelMaxKey: '', worstFracOff: 0, worstFracOffKey: '', pass: true };
  for (const d of diffValues(values, reference)) {
    if (tol.robust?.keys.test(d.key)) {
      if (!(d.fracOff <= v.worstFracOff)) [v.worstFracOff, v.worstFracOffKey] = [d.fracOff, d.key];
      if (!(d.fracOff <= tol.robust.fracOff)) v.pass = false;
    } else {
      if (!(d.relMax <= v.worstRelMax)) [v.worstRelMax, v.worstRelMaxKey] = [d.relMax, d.key];
      if (!(d.relMax <= tol.relMax)) v.pass = false;
    }
  }
  return v;
}
