import { ValueError, describe, type Rng } from '@mmc/core';

/**
 * Throws a ValueError unless `rng` looks like an {@link Rng} from `createRng(seed)` (has `next`,
 * `int` and `normal`). Internal: every @mmc/masking function draws only through it.
 */
export function assertRng(fn: string, rng: unknown): asserts rng is Rng {
  const r = rng as Partial<Rng> | null | undefined;
  if (r == null || typeof r.next !== 'function' || typeof r.int !== 'function' || typeof r.normal !== 'function') {
    throw new ValueError(`${fn}: rng must be an Rng from createRng(seed) (with next, int, normal), got ${describe(rng)}`);
  }
}
