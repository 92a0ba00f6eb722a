import { hash3 } from './noise.js';
import type { Rgb } from './palette.js';
import type { SceneObject } from './sceneDataset.js';

/**
 * A rasterised candidate object: the pixels it would cover (indices `row·size + col` within one
 * image) and, per pixel, its texture weight t ∈ [0, 1] between its two colours. Scratch buffers
 * sized for a whole image are reused from candidate to candidate.
 */
export class Stamp {
  readonly pix: Int32Array;
  readonly t: Float32Array;
  n = 0;
  constructor(capacity: number) {
    this.pix = new Int32Array(capacity);
    this.t = new Float32Array(capacity);
  }
  /** Forgets the pixels, keeping the buffers. */
  clear(): void {
    this.n = 0;
  }
  /** Adds pixel `p` with texture weight `t`. */
  push(p: number, t: number): void {
    this.pix[this.n] = p;
    this.t[this.n] = t;
    this.n++;
  }
}

/** Visibility rules of the compositor. */
export interface VisibilityRules {
  /** Fewest pixels a new object must cover, and that any earlier object must keep visible. */
  minArea: number;
  /** Fraction of its painted area that every earlier object must keep visible. */
  keepFraction: number;
}

/**
 * Paints objects, in order, into one image of a dataset's arrays: later objects occlude earlier
 * ones, the class and instance masks record what stays visible. A candidate is accepted only if
 * it covers at least `minArea` pixels and every earlier object keeps at least
 * max(minArea, keepFraction · its painted area) visible pixels, so every listed object stays
 * visible and promptable. `finish` adds the per-pixel noise and summarises the visible objects.
 */
export class SceneCanvas {
  private base = 0;
  private pixBase = 0;
  private visible: number[] = [0];
  private full: number[] = [0];
  private classIds: number[] = [0];
  private colors: [Rgb, Rgb][] = [];
  private sources: (number | undefined)[] = [];
  private readonly covered = new Int32Array(256);
  /** Per-instance accumulators of `summarise`, reused from image to image. */
  private readonly scratch = {
    sumR: new Float64Array(256),
    sumC: new Float64Array(256),
    cnt: new Int32Array(256),
    minR: new Int32Array(256),
    minC: new Int32Array(256),
    maxR: new Int32Array(256),
    maxC: new Int32Array(256),
    best: new Float64Array(256),
    bestR: new Int32Array(256),
    bestC: new Int32Array(256),
  };

  constructor(
    readonly size: number,
    private readonly images: Float32Array,
    private readonly classMasks: Uint8Array,
    private readonly instanceMasks: Uint8Array,
    private readonly rules: VisibilityRules,
  ) {}

  /** Starts image `index` (its background must already be painted; masks must be 0). */
  begin(index: number): void {
    this.pixBase = index * this.size * this.size;
    this.base = this.pixBase * 3;
    this.visible = [0];
    this.full = [0];
    this.classIds = [0];
    this.colors = [];
    this.sources = [];
  }

  /** Objects accepted so far in this image. */
  get objectCount(): number {
    return this.visible.length - 1;
  }

  /** Whether `stamp` may be painted under the visibility rules. */
  fits(stamp: Stamp): boolean {
    const { minArea, keepFraction } = this.rules;
    if (stamp.n < minArea) return false;
    const k = this.objectCount;
    if (k >= 255) return false;
    const covered = this.covered;
    covered.fill(0, 0, k + 1);
    const inst = this.instanceMasks;
    for (let i = 0; i < stamp.n; i++) covered[inst[this.pixBase + stamp.pix[i]]]++;
    for (let j = 1; j <= k; j++) {
      if (this.visible[j] - covered[j] < Math.max(minArea, keepFraction * this.full[j])) return false;
    }
    return true;
  }

  /** Paints `stamp` as the next instance, of class `classId`; returns its instance id. */
  commit(stamp: Stamp, classId: number, colors: [Rgb, Rgb], sourceIndex?: number): number {
    const id = this.visible.length;
    const [a, b] = colors;
    const inst = this.instanceMasks;
    const cls = this.classMasks;
    const img = this.images;
    for (let i = 0; i < stamp.n; i++) {
      const p = this.pixBase + stamp.pix[i];
      const prev = inst[p];
      if (prev !== 0) this.visible[prev]--;
      inst[p] = id;
      cls[p] = classId;
      const t = stamp.t[i];
      const o = this.base + 3 * stamp.pix[i];
      img[o] = a[0] + (b[0] - a[0]) * t;
      img[o + 1] = a[1] + (b[1] - a[1]) * t;
      img[o + 2] = a[2] + (b[2] - a[2]) * t;
    }
    this.visible.push(stamp.n);
    this.full.push(stamp.n);
    this.classIds.push(classId);
    this.colors.push([a, b]);
    this.sources.push(sourceIndex);
    return id;
  }

  /**
   * Adds zero-mean per-pixel noise of standard deviation `noise` (triangular distribution: the sum
   * of the two 16-bit halves of a xorshift32 stream seeded with `noiseSeed`, one draw per value),
   * clamps to [0, 1], and returns the objects.
   */
  finish(noise: number, noiseSeed: number): SceneObject[] {
    const n = this.size * this.size * 3;
    const img = this.images;
    if (noise > 0) {
      // (h_lo + h_hi)/65535 − 1 is triangular on [−1, 1] with standard deviation 1/√6.
      const amp = (noise * Math.sqrt(6)) / 65535;
      let x = hash3(noiseSeed, 0x6e6f6973, 0) | 1; // xorshift32 state, never 0
      for (let i = this.base, end = this.base + n; i < end; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        let v = img[i] + amp * ((x & 0xffff) + ((x >>> 16) & 0xffff) - 65535);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        img[i] = v;
      }
    }
    return this.summarise();
  }

  private summarise(): SceneObject[] {
    const k = this.objectCount;
    const S = this.size;
    const { sumR, sumC, cnt, minR, minC, maxR, maxC, best, bestR, bestC } = this.scratch;
    sumR.fill(0, 0, k + 1);
    sumC.fill(0, 0, k + 1);
    cnt.fill(0, 0, k + 1);
    minR.fill(S, 0, k + 1);
    minC.fill(S, 0, k + 1);
    maxR.fill(-1, 0, k + 1);
    maxC.fill(-1, 0, k + 1);
    best.fill(Infinity, 0, k + 1);
    const inst = this.instanceMasks;
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const id = inst[this.pixBase + r * S + c];
        if (id === 0) continue;
        sumR[id] += r;
        sumC[id] += c;
        cnt[id]++;
        if (r < minR[id]) minR[id] = r;
        if (r > maxR[id]) maxR[id] = r;
        if (c < minC[id]) minC[id] = c;
        if (c > maxC[id]) maxC[id] = c;
      }
    }
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const id = inst[this.pixBase + r * S + c];
        if (id === 0) continue;
        const dr = r - sumR[id] / cnt[id];
        const dc = c - sumC[id] / cnt[id];
        const d = dr * dr + dc * dc;
        if (d < best[id]) {
          best[id] = d;
          bestR[id] = r;
          bestC[id] = c;
        }
      }
    }
    const out: SceneObject[] = [];
    for (let id = 1; id <= k; id++) {
      const o: SceneObject = {
        classId: this.classIds[id],
        instance: id,
        centerRow: bestR[id],
        centerCol: bestC[id],
        area: cnt[id],
        fullArea: this.full[id],
        bbox: { top: minR[id], left: minC[id], height: maxR[id] - minR[id] + 1, width: maxC[id] - minC[id] + 1 },
        colors: this.colors[id - 1],
      };
      if (this.sources[id - 1] !== undefined) o.sourceIndex = this.sources[id - 1];
      out.push(o);
    }
    return out;
  }
}
