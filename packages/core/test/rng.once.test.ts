import { describe, expect, it } from 'vitest';
import { createRng, ValueError } from '@mmc/core';

/** Independent BigInt reference of xoshiro128** and splitmix32 (written from the published algorithm). */
function refXoshiro(seed: number) {
  const M = 0xffffffffn;
  let sm = BigInt(seed >>> 0);
  const hi = BigInt(Math.floor(seed / 4294967296) >>> 0);
  // seeding: splitmix32 over (lo ^ imul(hi, 0x27d4eb2d))
  sm = (sm ^ ((hi * 0x27d4eb2dn) & M)) & M;
  const mix = () => {
    sm = (sm + 0x9e3779b9n) & M;
    let z = sm;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
    return (z ^ (z >> 16n)) & M;
  };
  const s = [mix(), mix() ^ hi, mix(), mix()];
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const nextU32 = () => {
    const result = (rotl((s[1] * 5n) & M, 7n) * 9n) & M;
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return result;
  };
  return () => {
    const a = nextU32() >> 5n;
    const b = nextU32() >> 6n;
    return Number(a * 67108864n + b) / 9007199254740992;
  };
}

describe('createRng', () => {
  it('matches an independent BigInt xoshiro128** reference for several seeds', () => {
    for (const seed of [0, 1, 42, -7, 2 ** 40 + 3]) {
      const rng = createRng(seed);
      const ref = refXoshiro(seed);
      for (let i = 0; i < 200; i++) expect(rng.next()).toBe(ref());
    }
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 10 }, createRng(5).next.bind(createRng(5)));
    const r1 = createRng(5);
    const r2 = createRng(5);
    const r3 = createRng(6);
    const s1 = Array.from({ length: 10 }, () => r1.next());
    const s2 = Array.from({ length: 10 }, () => r2.next());
    const s3 = Array.from({ length: 10 }, () => r3.next());
    expect(s1).toEqual(s2);
    expect(s1).not.toEqual(s3);
    expect(a.length).toBe(10);
  });

  it('next() is uniform on [0, 1): mean, variance and bucket counts', () => {
    const rng = createRng(123);
    const n = 100_000;
    const buckets = new Array(10).fill(0);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      sq += x * x;
      buckets[Math.floor(x * 10)]++;
    }
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // sd of mean = 0.29/sqrt(1e5) ≈ 0.0009
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    // chi-square with 9 dof: 99.9th percentile ≈ 27.9
    const chi = buckets.reduce((acc, c) => acc + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi).toBeLessThan(27.9);
  });

  it('int(n) covers [0, n) uniformly and rejects bad n', () => {
    const rng = createRng(9);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    const chi = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(22.5); // 6 dof, 99.9th percentile
    expect(() => rng.int(0)).toThrow(ValueError);
    expect(() => rng.int(2.5)).toThrow(/n must be an integer/);
  });

  it('normal() has mean 0 and variance 1', () => {
    const rng = createRng(77);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.015);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });

  it('shuffle returns a permutation, fork gives an independent stream, state round-trips', () => {
    const rng = createRng(3);
    const arr = Array.from({ length: 50 }, (_, i) => i);
    const sh = rng.shuffle(arr.slice());
    expect(sh.slice().sort((a, b) => a - b)).toEqual(arr);
    expect(sh).not.toEqual(arr);

    const parent = createRng(11);
    const child = parent.fork();
    const p = Array.from({ length: 5 }, () => parent.next());
    const c = Array.from({ length: 5 }, () => child.next());
    expect(p).not.toEqual(c);
    // forking is itself deterministic
    const child2 = createRng(11).fork();
    expect(Array.from({ length: 5 }, () => child2.next())).toEqual(c);

    const st = parent.getState();
    const next3 = [parent.next(), parent.next(), parent.next()];
    const restored = createRng(0);
    restored.setState(st);
    expect([restored.next(), restored.next(), restored.next()]).toEqual(next3);
  });

  it('rejects bad seeds and states with ValueError naming the argument', () => {
    expect(() => createRng(NaN)).toThrow(/createRng: seed must be a safe integer/);
    expect(() => createRng(1.5)).toThrow(ValueError);
    expect(() => createRng('1' as unknown as number)).toThrow(ValueError);
    expect(() => createRng(0).setState([0, 0, 0, 0])).toThrow(/all-zero/);
    expect(() => createRng(0).setState([1, 2, 3])).toThrow(/state must be 4/);
  });
});
