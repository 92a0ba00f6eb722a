// @mmc/kernels: the WebAssembly text of the dot-product top-k functions (src/dotTopK.ts, the `MmcDotTopK` kernel), hand-written
// here as a template because it comes in two variants that differ in one instruction: the
// multiply-add of the GEMM tile is `f32x4.relaxed_madd` (one fused multiply-add, relaxed SIMD) or
// `f32x4.mul` + `f32x4.add` (baseline SIMD, for engines without relaxed SIMD). Build:
// `npm run build:wasm -w @mmc/kernels` (scripts/build-wasm.mjs) writes src/matmulWasm.ts; a
// test checks the two agree.
//
// wasm/matmul.wat.mjs puts these functions and the GEMM's (gemm.wat.mjs) into one module that
// imports a shared memory (env.memory), so that worker threads run the same function on other
// query ranges. All pointers are byte offsets into it.
//
// topk(train, M, D, q, q0, q1, k, nc, scratch, ov, or):
//   train   [M4, D] float32 rows (M4 = M rounded up to 4; rows M.. are padding, never reported)
//   q       [Nq, D] float32 query rows; this call handles queries q0 .. q1-1
//   ov, or  [Nq, k] float32 values / int32 train rows: the k slots of each query (unsorted)
//   scratch nc·D floats of packed queries, then nc floats (floor) and nc ints (floor slot), then a
//           4 × 8 tile; nc is a multiple of 8
// For each block of at most nc queries it packs them into panels of 8 columns (`[D, 8]` each,
// zero-padded), then walks the train rows four at a time in ascending order: a 4 × 8 tile of dot
// products per panel in registers (8 f32x4 accumulators), and only when some lane beats its
// column's floor (the k-th best value so far) are the tile's values offered to the slots in row
// order, exactly as columnTopK in @mmc/eval does it.

import { TILE_ACCUMULATORS, tileLocals, tileStep } from './tile.wat.mjs';

/** @param {{ relaxed: boolean }} options @returns {string} the functions, for a module that imports a memory */
export function dotTopKFuncs(options) {
  const acc = TILE_ACCUMULATORS;
  return `
  ;; Puts (v, row) into the slot holding the column's floor, then finds the new floor: the least
  ;; value, and among equal values the highest row (evicted first, so lower rows are kept).
  (func $insert (param $v f32) (param $row i32) (param $vp i32) (param $rp i32) (param $k i32) (param $fp i32) (param $sp i32)
    (local $at i32) (local $s i32) (local $min f32) (local $x f32) (local $ra i32) (local $rx i32)
    (local.set $at (i32.shl (i32.load (local.get $sp)) (i32.const 2)))
    (f32.store (i32.add (local.get $vp) (local.get $at)) (local.get $v))
    (i32.store (i32.add (local.get $rp) (local.get $at)) (local.get $row))
    (local.set $min (f32.load (local.get $vp)))
    (local.set $ra (i32.load (local.get $rp)))
    (local.set $at (i32.const 0))
    (local.set $s (i32.const 1))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $s) (local.get $k)))
      (local.set $x (f32.load (i32.add (local.get $vp) (i32.shl (local.get $s) (i32.const 2)))))
      (local.set $rx (i32.load (i32.add (local.get $rp) (i32.shl (local.get $s) (i32.const 2)))))
      (if (i32.or (f32.lt (local.get $x) (local.get $min))
                  (i32.and (f32.eq (local.get $x) (local.get $min)) (i32.gt_s (local.get $rx) (local.get $ra))))
        (then (local.set $min (local.get $x)) (local.set $ra (local.get $rx)) (local.set $at (local.get $s))))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br $scan)))
    (f32.store (local.get $fp) (local.get $min))
    (i32.store (local.get $sp) (local.get $at)))

  ;; One block of four train rows (r .. r+3) against every panel of the packed queries: the 4 × 8
  ;; tile in registers, then the floor test. A function of its own so that the engine's optimising
  ;; tier compiles it after its first calls (a single long call would stay in the baseline tier).
  (func $block (param $train i32) (param $r i32) (param $M i32) (param $stride i32) (param $scratch i32) (param $P i32)
               (param $floor i32) (param $slot i32) (param $tile i32) (param $qs i32) (param $ov i32) (param $or i32) (param $k i32)
    (local $p i32) (local $a i32) (local $b i32) (local $e i32) (local $j i32) (local $i i32) (local $col i32) (local $row i32)
    (local $slots i32) (local $v f32) ${tileLocals()}
    (local.set $slots (i32.shl (local.get $k) (i32.const 2)))
    (local.set $rs1 (local.get $stride))
    (local.set $rs2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $rs3 (i32.mul (local.get $stride) (i32.const 3)))
    (local.set $p (i32.const 0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $P)))
      ${acc.map((c) => `(local.set ${c} (v128.const i32x4 0 0 0 0))`).join(' ')}
      (local.set $a (i32.add (local.get $train) (i32.mul (local.get $r) (local.get $stride))))
      (local.set $b (i32.add (local.get $scratch) (i32.mul (local.get $p) (i32.shl (local.get $stride) (i32.const 3)))))
      (local.set $e (i32.add (local.get $a) (local.get $stride)))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $a) (local.get $e)))
        ${tileStep(options, '$a', '$b')}
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $kloop)))
      ;; Does any of the tile's 32 values beat its column's floor?
      (local.set $e (i32.add (local.get $floor) (i32.shl (local.get $p) (i32.const 5))))
      (if (v128.any_true (v128.or
            (f32x4.gt (f32x4.max (f32x4.max (local.get $c00) (local.get $c10)) (f32x4.max (local.get $c20) (local.get $c30))) (v128.load (local.get $e)))
            (f32x4.gt (f32x4.max (f32x4.max (local.get $c01) (local.get $c11)) (f32x4.max (local.get $c21) (local.get $c31))) (v128.load offset=16 (local.get $e)))))
        (then
          ${[0, 1, 2, 3].map((i) => `(v128.store offset=${i * 32} (local.get $tile) (local.get $c${i}0)) (v128.store offset=${i * 32 + 16} (local.get $tile) (local.get $c${i}1))`).join('\n              ')}
          (local.set $j (i32.const 0))
          (block $jdone (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (i32.const 8)))
            (local.set $col (i32.add (i32.shl (local.get $p) (i32.const 3)) (local.get $j)))
            (local.set $i (i32.const 0))
            (block $idone (loop $iloop
              (br_if $idone (i32.ge_u (local.get $i) (i32.const 4)))
              (local.set $row (i32.add (local.get $r) (local.get $i)))
              (local.set $v (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)))))
              (if (i32.and (i32.lt_u (local.get $row) (local.get $M))
                           (f32.gt (local.get $v) (f32.load (i32.add (local.get $floor) (i32.shl (local.get $col) (i32.const 2))))))
                (then (call $insert (local.get $v) (local.get $row)
                  (i32.add (local.get $ov) (i32.mul (i32.add (local.get $qs) (local.get $col)) (local.get $slots)))
                  (i32.add (local.get $or) (i32.mul (i32.add (local.get $qs) (local.get $col)) (local.get $slots)))
                  (local.get $k)
                  (i32.add (local.get $floor) (i32.shl (local.get $col) (i32.const 2)))
                  (i32.add (local.get $slot) (i32.shl (local.get $col) (i32.const 2))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $iloop)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jloop)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $ploop)))
  )

  (func (export "topk") (param $train i32) (param $M i32) (param $D i32) (param $q i32) (param $q0 i32) (param $q1 i32)
                        (param $k i32) (param $nc i32) (param $scratch i32) (param $ov i32) (param $or i32)
    (local $qs i32) (local $n i32) (local $P i32) (local $p i32) (local $kk i32) (local $j i32) (local $i i32)
    (local $col i32) (local $r i32) (local $b i32) (local $e i32) (local $src i32)
    (local $floor i32) (local $slot i32) (local $tile i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $D) (i32.const 2)))
    (local.set $floor (i32.add (local.get $scratch) (i32.mul (local.get $nc) (local.get $stride))))
    (local.set $slot (i32.add (local.get $floor) (i32.shl (local.get $nc) (i32.const 2))))
    (local.set $tile (i32.add (local.get $slot) (i32.shl (local.get $nc) (i32.const 2))))
    (local.set $qs (local.get $q0))
    (block $qdone (loop $qloop
      (br_if $qdone (i32.ge_u (local.get $qs) (local.get $q1)))
      (local.set $n (i32.sub (local.get $q1) (local.get $qs)))
      (if (i32.gt_u (local.get $n) (local.get $nc)) (then (local.set $n (local.get $nc))))
      (local.set $P (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))

      ;; Pack: panel p, row kk, lane j <- query qs + 8p + j, feature kk (0 past the block's end).
      ;; Columns of the block: floor -inf, slot 0; padding columns: floor +inf (never taken).
      (local.set $col (i32.const 0))
      (block $pkdone (loop $pk
        (br_if $pkdone (i32.ge_u (local.get $col) (i32.shl (local.get $P) (i32.const 3))))
        (local.set $b (i32.add (local.get $scratch)
          (i32.add (i32.mul (i32.shr_u (local.get $col) (i32.const 3)) (i32.shl (local.get $stride) (i32.const 3)))
                   (i32.shl (i32.and (local.get $col) (i32.const 7)) (i32.const 2)))))
        (i32.store (i32.add (local.get $slot) (i32.shl (local.get $col) (i32.const 2))) (i32.const 0))
        (if (i32.lt_u (local.get $col) (local.get $n))
          (then
            (f32.store (i32.add (local.get $floor) (i32.shl (local.get $col) (i32.const 2))) (f32.const -inf))
            (local.set $src (i32.add (local.get $q) (i32.mul (i32.add (local.get $qs) (local.get $col)) (local.get $stride))))
            (local.set $kk (i32.const 0))
            (block $cpdone (loop $cp
              (br_if $cpdone (i32.ge_u (local.get $kk) (local.get $D)))
              (f32.store (i32.add (local.get $b) (i32.shl (local.get $kk) (i32.const 5)))
                (f32.load (i32.add (local.get $src) (i32.shl (local.get $kk) (i32.const 2)))))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br $cp)))
            ;; This query's slots: value -inf, row M (below every real row).
            (local.set $e (i32.add (local.get $qs) (local.get $col)))
            (local.set $j (i32.const 0))
            (block $sdone (loop $sl
              (br_if $sdone (i32.ge_u (local.get $j) (local.get $k)))
              (f32.store (i32.add (local.get $ov) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $k)) (local.get $j)) (i32.const 2))) (f32.const -inf))
              (i32.store (i32.add (local.get $or) (i32.shl (i32.add (i32.mul (local.get $e) (local.get $k)) (local.get $j)) (i32.const 2))) (local.get $M))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $sl))))
          (else
            (f32.store (i32.add (local.get $floor) (i32.shl (local.get $col) (i32.const 2))) (f32.const inf))
            (local.set $kk (i32.const 0))
            (block $zdone (loop $z
              (br_if $zdone (i32.ge_u (local.get $kk) (local.get $D)))
              (f32.store (i32.add (local.get $b) (i32.shl (local.get $kk) (i32.const 5))) (f32.const 0))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br $z)))))
        (local.set $col (i32.add (local.get $col) (i32.const 1)))
        (br $pk)))

      ;; Train rows, four at a time.
      (local.set $r (i32.const 0))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $M)))
        (call $block (local.get $train) (local.get $r) (local.get $M) (local.get $stride) (local.get $scratch) (local.get $P)
          (local.get $floor) (local.get $slot) (local.get $tile) (local.get $qs) (local.get $ov) (local.get $or) (local.get $k))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rloop)))
      (local.set $qs (i32.add (local.get $qs) (local.get $n)))
      (br $qloop))))
`;
}
