import { ValueError } from './errors.js';

/**
 * A seeded pseudo-random generator (xoshiro128**, seeded through splitmix32). It is pure
 * JavaScript integer arithmetic, so a seed gives the same sequence on every platform and backend.
 * All random choices of `@mmc` (masks, crops, initialisation, episode sampling) flow from one.
 */
export interface Rng {
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer in [0, n); `n` a positive integer ≤ 2^32. */
  int(n: number): number;
  /** Standard normal sample (Box–Muller; consumes two uniforms, caches nothing). */
  normal(): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(arr: T[]): T[];
  /** A new, independent generator seeded from this one's next outputs (advances this one). */
  fork(): Rng;
  /** The four 32-bit words of the state, for checkpoints. */
  getState(): [number, number, number, number];
  /** Restores a state returned by `getState()`. */
  setState(state: readonly number[]): void;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

class Xoshiro128 implements Rng {
  private s = new Uint32Array(4);

  constructor(words: readonly number[]) {
    this.setState(words.map((w) => w >>> 0));
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new ValueError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  fork(): Rng {
    const mix = splitmix32(this.nextUint32() ^ 0x5bd1e995);
    return new Xoshiro128([mix() ^ this.nextUint32(), mix(), mix() ^ this.nextUint32(), mix()]);
  }

  getState(): [number, number, number, number] {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)) {
      throw new ValueError(`Rng.setState: state must be 4 unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => w === 0)) throw new ValueError('Rng.setState: the all-zero state is invalid for xoshiro128**');
    this.s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Creates a seeded generator. The same integer seed gives the same sequence everywhere.
 *
 * @param seed a safe integer (negative allowed).
 * @example
 * ```ts
 * const rng = createRng(0);
 * rng.next();      // 0 <= x < 1
 * rng.int(10);     // 0..9
 * rng.normal();    // ~ N(0, 1)
 * const child = rng.fork(); // independent stream
 * ```
 */
export function createRng(seed: number): Rng {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`createRng: seed must be a safe integer, got ${String(seed)}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const mix = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d));
  const words = [mix(), mix() ^ hi, mix(), mix()];
  if (!words.some((w) => w !== 0)) words[0] = 1;
  return new Xoshiro128(words);
}
