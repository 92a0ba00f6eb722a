import { describe, expect, it } from 'vitest';
import { cosineSchedule, linearSchedule, ValueError } from '@mmc/core';

describe('cosineSchedule (DINO cosine_scheduler)', () => {
  it('matches hand-derived values without warm-up', () => {
    // 0.5·(1 + cos(π i / 4)) for i = 0..3, base 1, final 0
    const s = cosineSchedule({ base: 1, final: 0, totalSteps: 4 });
    const expected = [1, 0.5 * (1 + Math.SQRT1_2), 0.5, 0.5 * (1 - Math.SQRT1_2)];
    expected.forEach((v, i) => expect(s[i]).toBeCloseTo(v, 14));
  });

  it('warms up linearly with both ends included (np.linspace), then decays from base', () => {
    const s = cosineSchedule({ base: 1e-3, final: 1e-6, totalSteps: 10, warmupSteps: 5, warmupStart: 0 });
    expect(Array.from(s.slice(0, 5))).toEqual([0, 0.25e-3, 0.5e-3, 0.75e-3, 1e-3].map((v, i) => (i === 0 ? 0 : v)));
    expect(s[5]).toBeCloseTo(1e-3, 15);
    expect(s.length).toBe(10);
    for (let i = 6; i < 10; i++) expect(s[i]).toBeLessThan(s[i - 1]);
    expect(s[9]).toBeGreaterThan(1e-6);
  });

  it('teacher momentum 0.996 → 1 is monotone and starts at 0.996', () => {
    const m = cosineSchedule({ base: 0.996, final: 1, totalSteps: 1000 });
    expect(m[0]).toBe(0.996);
    for (let i = 1; i < m.length; i++) expect(m[i]).toBeGreaterThanOrEqual(m[i - 1]);
    expect(m[999]).toBeLessThan(1);
    expect(m[999]).toBeGreaterThan(0.99999);
  });

  it('rejects bad options', () => {
    expect(() => cosineSchedule({ base: NaN, final: 0, totalSteps: 3 })).toThrow(/base must be a finite number/);
    expect(() => cosineSchedule({ base: 1, final: 0, totalSteps: 0 })).toThrow(ValueError);
    expect(() => cosineSchedule({ base: 1, final: 0, totalSteps: 3, warmupSteps: 4 })).toThrow(/warmupSteps must be <= totalSteps/);
  });
});

describe('linearSchedule (MSN momentum generator)', () => {
  it('gives floor(stretch·T) + 1 values on the stated line', () => {
    const s = linearSchedule({ base: 0.996, final: 1, totalSteps: 100, stretch: 1.25 });
    expect(s.length).toBe(126);
    expect(s[0]).toBe(0.996);
    expect(s[125]).toBeCloseTo(1, 15);
    expect(s[100]).toBeCloseTo(0.996 + (100 * 0.004) / 125, 15);
  });
  it('rejects stretch <= 0', () => {
    expect(() => linearSchedule({ base: 0, final: 1, totalSteps: 10, stretch: 0 })).toThrow(/stretch must be > 0/);
  });
});
