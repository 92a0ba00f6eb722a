import { assertFinite, assertInteger } from './assert.js';
import { ValueError } from './errors.js';

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Value at the end of warm-up (the start of the cosine). */
  base: number;
  /** Value at the last step. */
  final: number;
  /** Number of values (iterations) in the schedule. */
  totalSteps: number;
  /** Linear warm-up steps from `warmupStart` to `base` (default 0). */
  warmupSteps?: number;
  /** Value at step 0 of the warm-up (default 0). */
  warmupStart?: number;
}

/**
 * DINO's `cosine_scheduler`, per iteration: `warmupSteps` values linear from `warmupStart` to
 * `base` (both ends included, as `np.linspace(start, base, warmup)`), then for i in [0, T) with
 * T = totalSteps − warmupSteps: `final + ½(base − final)(1 + cos(π·i/T))`.
 * Used for the learning rate, weight decay (0.04 → 0.4) and teacher momentum (0.996 → 1).
 *
 * @returns Float64Array of length `totalSteps`.
 * @example
 * ```ts
 * const momentum = cosineSchedule({ base: 0.996, final: 1, totalSteps: 1000 });
 * momentum[0]; // 0.996
 * ```
 */
export function cosineSchedule(opts: CosineScheduleOptions): Float64Array {
  const fn = 'cosineSchedule';
  const { base, final, totalSteps, warmupSteps = 0, warmupStart = 0 } = opts ?? ({} as CosineScheduleOptions);
  assertFinite(fn, 'base', base);
  assertFinite(fn, 'final', final);
  assertFinite(fn, 'warmupStart', warmupStart);
  assertInteger(fn, 'totalSteps', totalSteps, 1);
  assertInteger(fn, 'warmupSteps', warmupSteps, 0);
  if (warmupSteps > totalSteps) {
    throw new ValueError(`${fn}: warmupSteps must be <= totalSteps (${totalSteps}), got ${warmupSteps}`);
  }
  const out = new Float64Array(totalSteps);
  for (let i = 0; i < warmupSteps; i++) {
    // np.linspace(start, base, warmup) includes both ends: step = (base − start)/(warmup − 1)
    out[i] = warmupSteps === 1 ? warmupStart : warmupStart + ((base - warmupStart) * i) / (warmupSteps - 1);
  }
  const T = totalSteps - warmupSteps;
  for (let i = 0; i < T; i++) {
    out[warmupSteps + i] = final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / T));
  }
  return out;
}

/** Options of {@link linearSchedule}. */
export interface LinearScheduleOptions {
  base: number;
  final: number;
  totalSteps: number;
  /** The ramp spans stretch·totalSteps steps (MSN's momentum uses 1.25), default 1. */
  stretch?: number;
}

/**
 * Linear ramp: floor(stretch·totalSteps) + 1 values,
 * `values[i] = base + i·(final − base)/(stretch·totalSteps)` (MSN's momentum generator).
 *
 * @example
 * ```ts
 * linearSchedule({ base: 0.996, final: 1, totalSteps: 100, stretch: 1.25 }).length; // 126
 * ```
 */
export function linearSchedule(opts: LinearScheduleOptions): Float64Array {
  const fn = 'linearSchedule';
  const { base, final, totalSteps, stretch = 1 } = opts ?? ({} as LinearScheduleOptions);
  assertFinite(fn, 'base', base);
  assertFinite(fn, 'final', final);
  assertInteger(fn, 'totalSteps', totalSteps, 1);
  assertFinite(fn, 'stretch', stretch);
  if (stretch <= 0) throw new ValueError(`${fn}: stretch must be > 0, got ${stretch}`);
  const span = stretch * totalSteps;
  const n = Math.floor(span) + 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = base + (i * (final - base)) / span;
  return out;
}
