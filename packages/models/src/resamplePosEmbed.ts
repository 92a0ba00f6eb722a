import { describe, formatShape, ShapeError, ValueError, type NdArray, type NdArrayOf } from '@mmc/core';

/** PyTorch's bicubic constant (`upsample_bicubic2d`, Keys' cubic convolution with A = −0.75). */
const A = -0.75;

/** |x| ≤ 1 branch of the cubic convolution kernel. */
const cubic1 = (x: number): number => ((A + 2) * x - (A + 3)) * x * x + 1;
/** 1 < |x| < 2 branch. */
const cubic2 = (x: number): number => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/**
 * Per output index along one axis: the 4 clamped source indices and their weights, as PyTorch's
 * bicubic with `align_corners=False` and an output size (scale = in / out):
 * src = (dst + 0.5)·scale − 0.5 (not clamped), i0 = floor(src), t = src − i0, taps i0 − 1 … i0 + 2
 * clamped to [0, in − 1], weights [c2(t + 1), c1(t), c1(1 − t), c2(2 − t)].
 */
function axisTaps(inSize: number, outSize: number): { idx: Int32Array; w: Float64Array } {
  const scale = inSize / outSize;
  const idx = new Int32Array(outSize * 4);
  const w = new Float64Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const ws = [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
    for (let k = 0; k < 4; k++) {
      idx[o * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      w[o * 4 + k] = ws[k];
    }
  }
  return { idx, w };
}

/**
 * Resamples the patch part of an absolute position embedding to another grid, keeping the CLS
 * position: timm's `resample_abs_pos_embed` (`timm/layers/pos_embed.py`) with one prefix token,
 * i.e. the `[h·w, D]` grid reshaped to `[1, D, h, w]` and resized with
 * `F.interpolate(mode='bicubic', align_corners=False, antialias=False)` to `[H, W]`. This is how
 * a 224/16 checkpoint (14×14 tokens) runs at 480/16 (30×30) for dense zero-shot segmentation.
 *
 * Separable bicubic (Keys, A = −0.75, PyTorch's constant) computed on the host in float64
 * (tfjs has no bicubic resize): along the width, then along the height; border taps clamped
 * (replicate), source coordinate `(dst + 0.5)·(in / out) − 0.5`. Same grid in and out returns
 * the values unchanged.
 *
 * @param posEmbed `[1, 1 + h·w, D]` float32/float64 host array (CLS position first), a square
 *   grid h = w unless `oldGrid` is given
 * @param newGrid `[H, W]` target grid
 * @param oldGrid `[h, w]` source grid (default: the square root of the token count)
 * @returns `[1, 1 + H·W, D]` float64
 * @throws ShapeError when the array is not `[1, 1 + h·w, D]`; ValueError for a bad grid
 * @example
 * ```ts
 * const pe = readSafetensors(bytes).pos_embed;          // [1, 197, 384]  (14×14 + CLS)
 * const big = resamplePosEmbed(pe, [30, 30]);           // [1, 901, 384]
 * ```
 */
export function resamplePosEmbed(posEmbed: NdArray, newGrid: [number, number], oldGrid?: [number, number]): NdArrayOf<'float64'> {
  const fn = 'resamplePosEmbed';
  if (posEmbed == null || typeof posEmbed !== 'object' || !Array.isArray(posEmbed.shape)) {
    throw new ValueError(`${fn}: posEmbed must be an NdArray { dtype, shape, data }, got ${describe(posEmbed)}`);
  }
  if (posEmbed.dtype !== 'float32' && posEmbed.dtype !== 'float64') {
    throw new ValueError(`${fn}: posEmbed must be float32 or float64, got ${posEmbed.dtype}`);
  }
  const { shape, data } = posEmbed;
  if (shape.length !== 3 || shape[0] !== 1 || shape[1] < 2) {
    throw new ShapeError(`${fn}: posEmbed must have shape [1, 1 + h*w, D], got ${formatShape(shape)}`);
  }
  const D = shape[2];
  const M = shape[1] - 1;
  const [h, w] = oldGrid ?? [Math.round(Math.sqrt(M)), Math.round(Math.sqrt(M))];
  if (h * w !== M) {
    throw new ShapeError(
      `${fn}: posEmbed has ${M} patch positions, which is not ${oldGrid ? `oldGrid ${h}×${w}` : 'a square grid'} (shape ${formatShape(shape)})`,
    );
  }
  for (const [name, g] of [['newGrid', newGrid], ['oldGrid', oldGrid ?? [h, w]]] as const) {
    if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => Number.isSafeInteger(v) && v >= 1)) {
      throw new ValueError(`${fn}: ${name} must be [rows, cols] of positive integers, got ${describe(g)}`);
    }
  }
  const [H, W] = newGrid;
  const tx = axisTaps(w, W);
  const ty = axisTaps(h, H);
  // Width pass: [h, w, D] → [h, W, D].
  const mid = new Float64Array(h * W * D);
  for (let r = 0; r < h; r++) {
    for (let o = 0; o < W; o++) {
      const dst = (r * W + o) * D;
      for (let k = 0; k < 4; k++) {
        const src = D + (r * w + tx.idx[o * 4 + k]) * D; // + D skips the CLS position
        const wk = tx.w[o * 4 + k];
        for (let d = 0; d < D; d++) mid[dst + d] += wk * data[src + d];
      }
    }
  }
  // Height pass: [h, W, D] → [H, W, D], after the CLS position.
  const out = new Float64Array((1 + H * W) * D);
  for (let d = 0; d < D; d++) out[d] = data[d];
  for (let o = 0; o < H; o++) {
    for (let k = 0; k < 4; k++) {
      const r = ty.idx[o * 4 + k];
      const wk = ty.w[o * 4 + k];
      for (let c = 0; c < W * D; c++) out[D + o * W * D + c] += wk * mid[r * W * D + c];
    }
  }
  return { dtype: 'float64', shape: [1, 1 + H * W, D], data: out };
}
