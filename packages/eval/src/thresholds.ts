import { describe, ValueError } from '@mmc/core';

/**
 * Validates a threshold list (non-empty, finite, distinct) and returns the record keys used in
 * results, `String(t)` per threshold (e.g. `"0.1"`). Shared by thresholdSweep and fewShotThreshold.
 */
export function thresholdKeys(fn: string, thresholds: unknown): string[] {
  if (!Array.isArray(thresholds) || thresholds.length === 0) {
    throw new ValueError(`${fn}: thresholds must be a non-empty array of numbers, got ${describe(thresholds)}`);
  }
  const keys = thresholds.map((t, i) => {
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new ValueError(`${fn}: thresholds[${i}] must be a finite number, got ${describe(t)}`);
    }
    return String(t);
  });
  if (new Set(keys).size !== keys.length) throw new ValueError(`${fn}: thresholds must be distinct, got [${keys.join(', ')}]`);
  return keys;
}
