// @mmc/kernels: the 4 × 8 register tile that dotTopK.wat.mjs and gemm.wat.mjs share: eight f32x4
// accumulators $c00 .. $c31 (row i, half j) for four rows of the left operand against one packed
// panel `[K, 8]` of the right one.

/** The tile's accumulator names. */
export const TILE_ACCUMULATORS = [0, 1, 2, 3].flatMap((i) => [0, 1].map((j) => `$c${i}${j}`));

/** The locals a function needs for {@link tileStep}: $x, $b0, $b1 and the accumulators (v128), $rs1 .. $rs3 (i32). */
export const tileLocals = () =>
  `(local $rs1 i32) (local $rs2 i32) (local $rs3 i32) (local $x v128) (local $b0 v128) (local $b1 v128) ${TILE_ACCUMULATORS.map((c) => `(local ${c} v128)`).join(' ')}`;

/**
 * One step k of the tile: the panel's 8 values at `$b`, each of the four rows' value at `$a`,
 * `$a + $rs1`, `$a + $rs2`, `$a + $rs3` broadcast, and c[i] += x[i]·b as `f32x4.relaxed_madd`
 * (one fused multiply-add) or `f32x4.mul` + `f32x4.add`.
 *
 * @param {{ relaxed: boolean }} options @param {string} a the row pointer's local @param {string} b the panel pointer's local
 * @returns {string}
 */
export function tileStep({ relaxed }, a, b) {
  const madd = (x, y, c) => (relaxed ? `(f32x4.relaxed_madd ${x} ${y} ${c})` : `(f32x4.add ${c} (f32x4.mul ${x} ${y}))`);
  const row = (i) => (i === 0 ? `(local.get ${a})` : `(i32.add (local.get ${a}) (local.get $rs${i}))`);
  return [
    `(local.set $b0 (v128.load (local.get ${b})))`,
    `(local.set $b1 (v128.load offset=16 (local.get ${b})))`,
    ...[0, 1, 2, 3].flatMap((i) => [
      `(local.set $x (v128.load32_splat ${row(i)}))`,
      `(local.set $c${i}0 ${madd('(local.get $x)', '(local.get $b0)', `(local.get $c${i}0)`)})`,
      `(local.set $c${i}1 ${madd('(local.get $x)', '(local.get $b1)', `(local.get $c${i}1)`)})`,
    ]),
  ].join('\n        ');
}
