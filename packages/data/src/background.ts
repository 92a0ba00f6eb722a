import type { Rng } from '@mmc/core';
import { latticeCoords } from './noise.js';

/** Background style of the scene generators. */
export type BackgroundMode = 'textured' | 'flat';

/** Cells of the background's value-noise lattice across the image (low frequency). */
const NOISE_CELLS = 3;
const STRIDE = NOISE_CELLS + 1;
/** Amplitude of the background's value noise, per channel. */
const NOISE_AMPLITUDE = 0.13;

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/**
 * Paints scene backgrounds (NHWC, 3 channels, `size × size`), reusing its scratch buffers from
 * image to image.
 *
 * `'textured'`: a linear gradient between two muted colours along a random direction, plus smooth
 * low-frequency value noise (a 3 × 3-cell lattice per channel, amplitude 0.13, smoothstep
 * interpolation): smooth and large-scale, so it differs from every object texture.
 * `'flat'`: the gradient's first colour everywhere (for exact tests).
 *
 * Muted colours: a grey level in [0.25, 0.75] with a per-channel tint of ±0.12; the second colour
 * moves each channel by up to ±0.25. The same values are drawn from `rng` in both modes, so the
 * mode never changes the rest of a scene.
 */
export class BackgroundPainter {
  private readonly cell: Int32Array;
  private readonly weight: Float64Array;
  private readonly lattice = new Float64Array(3 * STRIDE * STRIDE);
  private readonly rowVals = new Float64Array(3 * STRIDE);

  constructor(readonly size: number) {
    const lc = new Float64Array(size);
    latticeCoords(size, NOISE_CELLS, lc);
    this.cell = new Int32Array(size);
    this.weight = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      this.cell[i] = Math.min(Math.floor(lc[i]), NOISE_CELLS - 1);
      this.weight[i] = lc[i] - this.cell[i];
    }
  }

  /** Paints the background of image `index` of `images`. */
  paint(images: Float32Array, index: number, rng: Rng, mode: BackgroundMode): void {
    const size = this.size;
    const grey = 0.25 + 0.5 * rng.next();
    const c00 = clamp(grey + 0.24 * (rng.next() - 0.5), 0.05, 0.95);
    const c01 = clamp(grey + 0.24 * (rng.next() - 0.5), 0.05, 0.95);
    const c02 = clamp(grey + 0.24 * (rng.next() - 0.5), 0.05, 0.95);
    const d0 = clamp(c00 + 0.5 * (rng.next() - 0.5), 0.05, 0.95) - c00;
    const d1 = clamp(c01 + 0.5 * (rng.next() - 0.5), 0.05, 0.95) - c01;
    const d2 = clamp(c02 + 0.5 * (rng.next() - 0.5), 0.05, 0.95) - c02;
    const angle = 2 * Math.PI * rng.next();
    const lattice = this.lattice;
    for (let i = 0; i < lattice.length; i++) lattice[i] = NOISE_AMPLITUDE * (2 * rng.next() - 1);

    const base = index * size * size * 3;
    if (mode === 'flat') {
      for (let o = base, end = base + size * size * 3; o < end; o += 3) {
        images[o] = c00;
        images[o + 1] = c01;
        images[o + 2] = c02;
      }
      return;
    }
    const gx = Math.cos(angle) / size;
    const gy = Math.sin(angle) / size;
    const { cell, weight, rowVals } = this;
    const half = size / 2;
    const plane = STRIDE * STRIDE;
    for (let y = 0; y < size; y++) {
      // the lattice interpolated along y for this row, then along x per pixel
      const r = cell[y];
      const fy = weight[y];
      for (let c = 0; c < 3; c++) {
        for (let j = 0; j < STRIDE; j++) {
          const a = lattice[c * plane + r * STRIDE + j];
          rowVals[c * STRIDE + j] = a + (lattice[c * plane + (r + 1) * STRIDE + j] - a) * fy;
        }
      }
      const gyTerm = 0.5 + gy * (y + 0.5 - half);
      let o = base + y * size * 3;
      for (let x = 0; x < size; x++) {
        let t = gyTerm + gx * (x + 0.5 - half);
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const j = cell[x];
        const fx = weight[x];
        const n0 = rowVals[j] + (rowVals[j + 1] - rowVals[j]) * fx;
        const n1 = rowVals[STRIDE + j] + (rowVals[STRIDE + j + 1] - rowVals[STRIDE + j]) * fx;
        const n2 = rowVals[2 * STRIDE + j] + (rowVals[2 * STRIDE + j + 1] - rowVals[2 * STRIDE + j]) * fx;
        images[o] = clamp(c00 + d0 * t + n0, 0, 1);
        images[o + 1] = clamp(c01 + d1 * t + n1, 0, 1);
        images[o + 2] = clamp(c02 + d2 * t + n2, 0, 1);
        o += 3;
      }
    }
  }
}
