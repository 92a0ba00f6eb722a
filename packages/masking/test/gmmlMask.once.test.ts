import { describe, expect, it } from 'vitest';
import { ValueError, createRng } from '@mmc/core';
import { gmmlMask } from '@mmc/masking';
import { pyRound, refGmmlMask } from './reference.js';

const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

/**
 * Invariants of one mask: alignment, size limits, pixel mask = union of blocks, token mask =
 * fully covered patches. Returns the first violation (plain loops: expect() per pixel is slow).
 */
function violation(m: ReturnType<typeof gmmlMask>, H: number, W: number, p: number, maxBlock: number, align = p): string | null {
  const mxH = Math.trunc(maxBlock * H);
  const mxW = Math.trunc(maxBlock * W);
  const union = new Uint8Array(H * W);
  for (const b of m.blocks) {
    const s = JSON.stringify(b);
    if (b.row % align || b.col % align || b.height % align || b.width % align) return `unaligned ${s}`;
    if (b.height < align || b.width < align) return `block below align ${s}`;
    if (b.height > pyRound((mxH - 1) / align) * align || b.width > pyRound((mxW - 1) / align) * align) return `block too big ${s}`;
    if (b.row + b.height > H || b.col + b.width > W) return `block outside ${s}`;
    if (b.row > H - 2 * align || b.col > W - 2 * align) return `start beyond H − 2·align ${s}`;
    for (let y = b.row; y < b.row + b.height; y++) for (let x = b.col; x < b.col + b.width; x++) union[y * W + x] = 1;
  }
  for (let i = 0; i < H * W; i++) if (m.pixelMask[i] !== union[i]) return `pixel ${i} is not the union of the blocks`;
  const tw = W / p;
  for (let t = 0; t < m.tokenMask.length; t++) {
    const ti = Math.floor(t / tw);
    const tj = t % tw;
    let all = 1;
    for (let y = ti * p; y < (ti + 1) * p; y++) for (let x = tj * p; x < (tj + 1) * p; x++) all &= m.pixelMask[y * W + x];
    if (m.tokenMask[t] !== all) return `token ${t} is ${m.tokenMask[t]}, its patch says ${all}`;
  }
  return null;
}

describe('gmmlMask', () => {
  it('matches the naive GMML_drop_rand_patches reference draw for draw', () => {
    const configs = [
      { H: 32, W: 32, p: 4, r: 0.75, mb: 0.3 },
      { H: 48, W: 64, p: 8, r: 0.75, mb: 0.3 },
      { H: 40, W: 40, p: 4, r: 0.6, mb: 0.3 }, // raw sides 4..11 → 6 and 10 hit the .5 ties
      { H: 24, W: 36, p: 2, r: 0.3, mb: 0.5 },
      { H: 224, W: 224, p: 16, r: 0.75, mb: 0.3 },
      { H: 20, W: 30, p: 5, r: 0.75, mb: 0.3, align: 1 },
    ];
    for (const c of configs) {
      for (const seed of [0, 1, 7, 123]) {
        const got = gmmlMask(createRng(seed), { height: c.H, width: c.W, patchSize: c.p, maskRatio: c.r, maxBlock: c.mb, align: c.align });
        const ref = refGmmlMask(createRng(seed), c.H, c.W, c.p, c.r, c.mb, c.align ?? c.p);
        expect(got.blocks).toEqual(ref.blocks);
        expect(Array.from(got.pixelMask)).toEqual(Array.from(ref.mask));
        expect(Array.from(got.tokenMask)).toEqual(Array.from(ref.tokens));
        expect(got.target).toBeCloseTo(ref.nDrop, 9);
      }
    }
  });

  it('rounds block sides half to even (Python round), seen through the 1.5·align and 2.5·align ties', () => {
    // H = 40, align 4, maxBlock 0.3 → raw side randint[4, 12); 6 → 8 (1.5 → 2), 10 → 8 (2.5 → 2),
    // so a side of 12 only comes from raw 11 and sides are 4, 8 or 12 with probabilities 2/8, 5/8, 1/8.
    const counts = new Map<number, number>();
    const rng = createRng(5);
    for (let i = 0; i < 400; i++) {
      for (const b of gmmlMask(rng, { height: 40, width: 40, patchSize: 4, maxBlock: 0.3 }).blocks) {
        if (b.row <= 40 - 12) counts.set(b.height, (counts.get(b.height) ?? 0) + 1); // not clipped by H − row
      }
    }
    const total = [...counts.values()].reduce((s, v) => s + v, 0);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([4, 8, 12]);
    expect((counts.get(4) ?? 0) / total).toBeCloseTo(2 / 8, 1);
    expect((counts.get(8) ?? 0) / total).toBeCloseTo(5 / 8, 1);
    expect((counts.get(12) ?? 0) / total).toBeCloseTo(1 / 8, 1);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const o = { height: 64, width: 64, patchSize: 8 };
    const a = gmmlMask(createRng(42), o);
    const b = gmmlMask(createRng(42), o);
    const c = gmmlMask(createRng(43), o);
    expect(Array.from(a.pixelMask)).toEqual(Array.from(b.pixelMask));
    expect(a.blocks).toEqual(b.blocks);
    expect(Array.from(a.pixelMask)).not.toEqual(Array.from(c.pixelMask));
  });

  it('1,000 draws: masked fraction within [target, target + one block), aligned blocks, exact token masks', () => {
    const H = 32;
    const W = 32;
    const p = 4;
    const r = 0.75;
    const rng = createRng(2024);
    const maxBlockArea = 8 * 8; // sides ≤ round(8/4)·4 = 8
    let meanFrac = 0;
    let minFrac = 1;
    let maxFrac = 0;
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      const m = gmmlMask(rng, { height: H, width: W, patchSize: p, maskRatio: r });
      const n = sum(m.pixelMask);
      expect(m.target).toBeGreaterThanOrEqual(0.5 * H * W);
      expect(m.target).toBeLessThanOrEqual(r * H * W);
      expect(n).toBeGreaterThanOrEqual(m.target);
      expect(n).toBeLessThan(m.target + maxBlockArea);
      expect(sum(m.tokenMask) * p * p).toBe(n); // align = p: pixel mask is a union of patches
      const v = violation(m, H, W, p, 0.3);
      if (v) expect.fail(`draw ${i}: ${v}`);
      const f = n / (H * W);
      meanFrac += f / 1000;
      minFrac = Math.min(minFrac, f);
      maxFrac = Math.max(maxFrac, f);
    }
    const ms = performance.now() - t0;
    // E[target] = 0.625; the last block overshoots by a fraction of a block (≤ 64/1024)
    expect(meanFrac).toBeGreaterThan(0.63);
    expect(meanFrac).toBeLessThan(0.69);
    expect(minFrac).toBeGreaterThanOrEqual(0.5);
    expect(maxFrac).toBeLessThan(0.75 + maxBlockArea / (H * W));
    expect(ms).toBeLessThan(5000);
  });

  it('invariants hold for non-square images, align ≠ patchSize, and 224×224 / p16', () => {
    let offPatchGrid = 0;
    for (let s = 0; s < 20; s++) {
      expect(violation(gmmlMask(createRng(s), { height: 48, width: 96, patchSize: 8 }), 48, 96, 8, 0.3)).toBeNull();
      expect(violation(gmmlMask(createRng(s), { height: 224, width: 224, patchSize: 16 }), 224, 224, 16, 0.3)).toBeNull();
      // align 2 < patch 4: the token mask marks fully covered patches only
      const m = gmmlMask(createRng(s), { height: 32, width: 32, patchSize: 4, align: 2 });
      expect(violation(m, 32, 32, 4, 0.3, 2)).toBeNull();
      offPatchGrid += m.blocks.filter((b) => b.row % 4 !== 0 || b.height % 4 !== 0).length;
      // align 8 = 2 patches
      expect(violation(gmmlMask(createRng(s), { height: 64, width: 64, patchSize: 4, align: 8 }), 64, 64, 4, 0.3, 8)).toBeNull();
    }
    expect(offPatchGrid).toBeGreaterThan(0); // align 2 really produces blocks off the patch grid
  });

  it('targetRatio gives an exact target and no draw for it', () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const m = gmmlMask(rng, { height: 32, width: 32, patchSize: 4, targetRatio: 0.3 });
      expect(m.target).toBeCloseTo(0.3 * 1024, 9);
      const n = sum(m.pixelMask);
      expect(n).toBeGreaterThanOrEqual(0.3 * 1024);
      expect(n).toBeLessThan(0.3 * 1024 + 64);
    }
    // equals the reference with the same exact target (which draws no uniform either)
    const got = gmmlMask(createRng(9), { height: 32, width: 32, patchSize: 4, targetRatio: 0.3 });
    const ref = refGmmlMask(createRng(9), 32, 32, 4, 0.75, 0.3, 4, 0.3);
    expect(Array.from(got.pixelMask)).toEqual(Array.from(ref.mask));
    // maskRatio ≤ 0.5 draws U(r, r) = r exactly (one uniform consumed)
    const m2 = gmmlMask(createRng(9), { height: 32, width: 32, patchSize: 4, maskRatio: 0.3 });
    expect(m2.target).toBe(0.3 * 1024);
  });

  it('terminates when the target exceeds what blocks can reach (H = 64, p = 16: last band unreachable)', () => {
    // int(0.3·64) = 19: raw sides 16..18 all round to 16, starts ≤ 32, so rows/cols 48..63 are never
    // masked and at most 48·48 = 2304 < 0.75·4096 pixels are reachable; the official loop can spin.
    const rng = createRng(11);
    let capped = 0;
    for (let i = 0; i < 300; i++) {
      const m = gmmlMask(rng, { height: 64, width: 64, patchSize: 16 });
      const n = sum(m.pixelMask);
      expect(m.target).toBeLessThanOrEqual(2304);
      expect(n).toBeGreaterThanOrEqual(m.target);
      let lastBand = 0;
      for (let y = 0; y < 64; y++) for (let x = 48; x < 64; x++) lastBand += m.pixelMask[y * 64 + x] + m.pixelMask[x * 64 + y];
      expect(lastBand).toBe(0);
      if (m.target === 2304) {
        capped++;
        expect(n).toBe(2304);
      }
    }
    expect(capped).toBeGreaterThan(0);
  });

  it('raises ValueError naming maxBlock and patchSize when int(maxBlock·H) ≤ align', () => {
    const bad = () => gmmlMask(createRng(0), { height: 32, width: 32, patchSize: 16 }); // int(9.6) = 9 ≤ 16
    expect(bad).toThrow(ValueError);
    expect(bad).toThrow(/maxBlock/);
    expect(bad).toThrow(/patchSize=16/);
    // int(0.3·40) = 12 > 8 on H but int(0.3·24) = 7 ≤ 8 on W
    expect(() => gmmlMask(createRng(0), { height: 40, width: 24, patchSize: 8 })).toThrow(/maxBlock=0.3/);
    // boundary: int(maxBlock·H) = align raises, align + 1 is fine
    expect(() => gmmlMask(createRng(0), { height: 40, width: 40, patchSize: 8, maxBlock: 0.2 })).toThrow(ValueError); // int(8) = 8
    expect(gmmlMask(createRng(0), { height: 40, width: 40, patchSize: 8, maxBlock: 0.23 }).blocks.length).toBeGreaterThan(0); // int(9.2) = 9
  });

  it('validates its arguments with typed errors naming them', () => {
    const rng = createRng(0);
    const base = { height: 32, width: 32, patchSize: 4 };
    const cases: [object, RegExp][] = [
      [{ ...base, maskRatio: 0 }, /maskRatio must be in \(0, 1\), got 0/],
      [{ ...base, maskRatio: 1 }, /maskRatio.*got 1/],
      [{ ...base, maskRatio: -0.2 }, /maskRatio/],
      [{ ...base, maskRatio: NaN }, /maskRatio.*NaN/],
      [{ ...base, height: 32.5 }, /height must be an integer.*32\.5/],
      [{ ...base, width: 0 }, /width must be an integer >= 1, got 0/],
      [{ ...base, patchSize: 0 }, /patchSize/],
      [{ ...base, height: 30 }, /height must be divisible by patchSize=4, got height=30/],
      [{ ...base, width: 34 }, /width must be divisible by patchSize=4, got width=34/],
      [{ ...base, align: 3 }, /divisible by align=3/],
      [{ ...base, maxBlock: 0 }, /maxBlock/],
      [{ ...base, maxBlock: 1.5 }, /maxBlock/],
      [{ ...base, targetRatio: 1 }, /targetRatio/],
    ];
    for (const [o, re] of cases) {
      const f = () => gmmlMask(rng, o as never);
      expect(f).toThrow(ValueError);
      expect(f).toThrow(/^gmmlMask: /);
      expect(f).toThrow(re);
    }
    expect(() => gmmlMask(undefined as never, base)).toThrow(/gmmlMask: rng must be an Rng/);
    expect(() => gmmlMask(rng, undefined as never)).toThrow(/opts must be an object/);
  });
});
