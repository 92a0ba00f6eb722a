import { InvalidArgumentError } from 'commander';

/** Commander parser for an integer ≥ `min`. */
export function intArg(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

/** Commander parser for a finite number within optional bounds (`gt` / `ge` below, `lt` / `le` above). */
export function floatArg(bounds: { gt?: number; ge?: number; lt?: number; le?: number } = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
    if (bounds.gt !== undefined && !(n > bounds.gt)) throw new InvalidArgumentError(`expected a number > ${bounds.gt}`);
    if (bounds.ge !== undefined && !(n >= bounds.ge)) throw new InvalidArgumentError(`expected a number >= ${bounds.ge}`);
    if (bounds.lt !== undefined && !(n < bounds.lt)) throw new InvalidArgumentError(`expected a number < ${bounds.lt}`);
    if (bounds.le !== undefined && !(n <= bounds.le)) throw new InvalidArgumentError(`expected a number <= ${bounds.le}`);
    return n;
  };
}

/** Commander parser for a comma-separated list of distinct finite numbers (`0.1,0.2,0.3`). */
export function floatListArg(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((s) => s === '') || out.some((n) => !Number.isFinite(n))) {
    throw new InvalidArgumentError('expected comma-separated numbers, e.g. 0.1,0.2,0.3');
  }
  if (new Set(out).size !== out.length) throw new InvalidArgumentError('expected distinct numbers');
  return out;
}
