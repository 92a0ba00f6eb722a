import { ValueError, assertInRange, assertInteger, type Rng } from '@mmc/core';
import { assertRng } from './assertRng.js';
import { roundHalfEvenRatio } from './roundHalfEven.js';

/** One rectangular GMML block, in pixels: rows `[row, row + height)`, columns `[col, col + width)`. */
export interface GmmlBlock {
  row: number;
  col: number;
  height: number;
  width: number;
}

/** Options of {@link gmmlMask}. */
export interface GmmlMaskOptions {
  /** Image height H in pixels (divisible by `patchSize` and `align`). */
  height: number;
  /** Image width W in pixels (divisible by `patchSize` and `align`). */
  width: number;
  /** ViT patch size p; the token grid is (H/p) × (W/p). */
  patchSize: number;
  /** r: the masked-pixel target is U(min(0.5, r), r)·H·W. In (0, 1); default 0.75 (MMC). */
  maskRatio?: number;
  /** Largest block side as a fraction of H (rows) and W (columns): `int(maxBlock·H)`. In (0, 1]; default 0.3. */
  maxBlock?: number;
  /** Block grid in pixels (GMML's `align`); default `patchSize`, which makes the token mask exact. */
  align?: number;
  /**
   * Exact target fraction: the target becomes `targetRatio·H·W` pixels and no random draw is made
   * for it. Default: drawn from U(min(0.5, r), r).
   */
  targetRatio?: number;
}

/** Result of {@link gmmlMask}. */
export interface GmmlMaskResult {
  /** H·W bytes, row-major, 1 = masked. */
  pixelMask: Uint8Array;
  /** N = (H/p)·(W/p) bytes, row-major over the patch grid, 1 = every pixel of the patch is masked. */
  tokenMask: Uint8Array;
  /** The blocks in drawing order (they may overlap). */
  blocks: GmmlBlock[];
  /** The target in pixels the loop ran to (after the reachability cap, see {@link gmmlMask}). */
  target: number;
}

/** Validated geometry shared by gmmlMask and gmmlCorrupt (internal). */
export interface GmmlGeometry {
  height: number;
  width: number;
  patchSize: number;
  align: number;
  /** int(maxBlock·H), int(maxBlock·W): randint's exclusive upper bounds for the block sides. */
  maxHeight: number;
  maxWidth: number;
  /** Pixels that some block can cover (the GMML draw cannot reach the last band in some geometries). */
  reachable: number;
}

/**
 * Validates the sizes and `maxBlock` of a GMML mask and precomputes its geometry (internal; `fn`
 * and `heightArg`/`widthArg` name the caller's arguments in error messages).
 */
export function gmmlGeometry(
  fn: string,
  height: number,
  width: number,
  patchSize: number,
  maxBlock: number,
  align: number,
  sizeArgs: { height: string; width: string } = { height: 'height', width: 'width' },
): GmmlGeometry {
  assertInteger(fn, 'patchSize', patchSize, 1);
  assertInteger(fn, 'align', align, 1);
  assertInRange(fn, 'maxBlock', maxBlock, 0, 1, 'low');
  for (const [arg, size] of [
    [sizeArgs.height, height],
    [sizeArgs.width, width],
  ] as const) {
    if (size % patchSize !== 0) {
      throw new ValueError(`${fn}: ${arg} must be divisible by patchSize=${patchSize}, got ${arg}=${size}`);
    }
    if (size % align !== 0) {
      throw new ValueError(`${fn}: ${arg} must be divisible by align=${align}, got ${arg}=${size}`);
    }
  }
  const maxHeight = Math.trunc(maxBlock * height);
  const maxWidth = Math.trunc(maxBlock * width);
  if (maxHeight <= align || maxWidth <= align) {
    throw new ValueError(
      `${fn}: maxBlock=${maxBlock} is too small for patchSize=${patchSize} (align=${align}): ` +
        `int(maxBlock·H)=${maxHeight} and int(maxBlock·W)=${maxWidth} must both exceed align; ` +
        `raise maxBlock or lower patchSize/align`,
    );
  }
  const reachable = coverableBands(height, align, maxHeight) * align * coverableBands(width, align, maxWidth) * align;
  return { height, width, patchSize, align, maxHeight, maxWidth, reachable };
}

/**
 * Number of align-bands along one axis (length L = k·a) that some block can cover. Starts are
 * floor(randint[0, L − a)/a)·a, so bands 0 … k − 2; from start band s the tallest block has
 * round(min(mx − 1, L − s·a)/a) bands (rounding is monotone, so every shorter one is drawable too).
 */
function coverableBands(length: number, align: number, mx: number): number {
  const k = length / align;
  const lastStart = Math.floor((length - align - 1) / align);
  let reach = 0;
  for (let s = 0; s <= lastStart; s++) {
    const bands = roundHalfEvenRatio(Math.min(mx - 1, length - s * align), align);
    reach = Math.max(reach, s + bands);
  }
  return Math.min(reach, k);
}

/**
 * The GMML block loop on validated geometry (internal; no argument checks). Draws, in order:
 * the target fraction `lo + (r − lo)·rng.next()` with lo = min(0.5, r) (skipped when `targetRatio`
 * is given), then per block `rng.int(H − a)`, `rng.int(W − a)`, `rng.int(mxH − a)`, `rng.int(mxW − a)`.
 */
export function drawGmmlMask(rng: Rng, g: GmmlGeometry, maskRatio: number, targetRatio?: number): GmmlMaskResult {
  const { height: H, width: W, patchSize: p, align: a, maxHeight, maxWidth } = g;
  const lo = Math.min(0.5, maskRatio);
  const fraction = targetRatio ?? lo + (maskRatio - lo) * rng.next();
  // The official loop `while mask.sum() < n_drop_pix` never ends when the target exceeds what the
  // blocks can reach; capping at the reachable count makes it end (with probability 1).
  const target = Math.min(fraction * H * W, g.reachable);

  // Blocks are aligned, so work on the (H/a) × (W/a) cell grid and count a² pixels per cell.
  const gh = H / a;
  const gw = W / a;
  const cells = new Uint8Array(gh * gw);
  const cellArea = a * a;
  const blocks: GmmlBlock[] = [];
  let count = 0;
  while (count < target) {
    const row = Math.floor(rng.int(H - a) / a) * a;
    const col = Math.floor(rng.int(W - a) / a) * a;
    // min(randint[a, mx), H − row) ≥ a because row ≤ H − 2a, so the rounded side is never 0.
    const height = roundHalfEvenRatio(Math.min(a + rng.int(maxHeight - a), H - row), a) * a;
    const width = roundHalfEvenRatio(Math.min(a + rng.int(maxWidth - a), W - col), a) * a;
    blocks.push({ row, col, height, width });
    const r0 = row / a;
    const c0 = col / a;
    for (let r = r0; r < r0 + height / a; r++) {
      for (let c = c0; c < c0 + width / a; c++) {
        const i = r * gw + c;
        if (cells[i] === 0) {
          cells[i] = 1;
          count += cellArea;
        }
      }
    }
  }

  const pixelMask = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    const cellRow = Math.floor(y / a) * gw;
    for (let x = 0; x < W; x++) pixelMask[y * W + x] = cells[cellRow + Math.floor(x / a)];
  }
  const th = H / p;
  const tw = W / p;
  const tokenMask = new Uint8Array(th * tw);
  for (let ti = 0; ti < th; ti++) {
    for (let tj = 0; tj < tw; tj++) {
      let all = 1;
      for (let y = ti * p; y < (ti + 1) * p && all; y++) {
        for (let x = tj * p; x < (tj + 1) * p; x++) {
          if (pixelMask[y * W + x] === 0) {
            all = 0;
            break;
          }
        }
      }
      tokenMask[ti * tw + tj] = all;
    }
  }
  return { pixelMask, tokenMask, blocks, target };
}

/**
 * GMML block masking aligned to the patch grid (Atito, Awais & Kittler, SiT / GMML; official code
 * `Sara-Ahmed/GMML datasets/datasets_utils.py`, `GMML_drop_rand_patches`). With align a = patchSize:
 *
 * 1. target = U(min(0.5, r), r)·H·W pixels, drawn as `lo + (r − lo)·rng.next()` (numpy's uniform);
 * 2. while the masked count is below the target, draw one block, in this order:
 *    row = floor(randint[0, H − a)/a)·a, col = floor(randint[0, W − a)/a)·a,
 *    height = round(min(randint[a, int(maxBlock·H)), H − row)/a)·a, width likewise with W
 *    (`randint[lo, hi)` = `lo + rng.int(hi − lo)`; `round` is Python's, half to even);
 * 3. mark the block; blocks overlap freely and the last one overshoots the target.
 *
 * A token is masked iff every pixel of its patch is; with a = patchSize (the default) blocks are
 * unions of patches, so the token mask is exact.
 *
 * Deviations from the official loop, both invisible in ordinary settings: a rounded side can never
 * be 0 (min(…) ≥ a since row ≤ H − 2a), so every block masks at least a² pixels; and because starts
 * stop at H − 2a, the last band of rows (columns) is only reachable when a block can be 2a tall,
 * i.e. when int(maxBlock·H) − 1 ≥ 1.5a. When it is not (e.g. H = 64, p = 16, maxBlock = 0.3) the
 * official loop can spin forever; here the target is capped at the reachable pixel count, so the
 * loop always ends. `H` and `W` must be divisible by `patchSize` and `align`.
 *
 * @param rng generator from `createRng(seed)`; the same seed gives the same mask everywhere.
 * @returns `{ pixelMask (H·W), tokenMask (N), blocks, target }`
 * @throws ValueError for a bad ratio or size, or when int(maxBlock·H) ≤ align (names maxBlock and
 *   patchSize): numpy's `randint(align, mx)` would fail there too.
 * @example
 * ```ts
 * const rng = createRng(0);
 * const { tokenMask, pixelMask } = gmmlMask(rng, { height: 224, width: 224, patchSize: 16 });
 * tokenMask.length; // 196, about 0.5–0.8 of them set
 * ```
 */
export function gmmlMask(rng: Rng, opts: GmmlMaskOptions): GmmlMaskResult {
  const fn = 'gmmlMask';
  assertRng(fn, rng);
  if (opts == null || typeof opts !== 'object') throw new ValueError(`${fn}: opts must be an object, got ${String(opts)}`);
  const { height, width, patchSize, maskRatio = 0.75, maxBlock = 0.3, align = patchSize, targetRatio } = opts;
  assertInteger(fn, 'height', height, 1);
  assertInteger(fn, 'width', width, 1);
  assertInteger(fn, 'patchSize', patchSize, 1);
  assertInRange(fn, 'maskRatio', maskRatio, 0, 1, 'both');
  if (targetRatio !== undefined) assertInRange(fn, 'targetRatio', targetRatio, 0, 1, 'both');
  const g = gmmlGeometry(fn, height, width, patchSize, maxBlock, align);
  return drawGmmlMask(rng, g, maskRatio, targetRatio);
}
