// @mmc/kernels: the WebAssembly text of the GEMM functions (src/gemm.ts, the BatchMatMul and
// _FusedMatMul kernels), hand-written here as a template for the same two variants as
// dotTopK.wat.mjs (the 4 × 8 tile of tile.wat.mjs, `f32x4.relaxed_madd` or `f32x4.mul` + `f32x4.add`); matmul.wat.mjs puts both
// into one module on one shared memory, so the same worker threads run either.
//
// gemm(d, t): C = op(A)·op(B) + bias for a batch of products, on thread t of those that share
// the descriptor d: each takes the next item from the counter d[17] (an atomic add) until none is
// left, so a thread that starts late (or is descheduled) leaves its share to the others. d holds
// 22 i32 in the shared memory (pointers and strides in bytes):
//   0 a, 1 b, 2 c, 3 bias: N floats padded with zeros to a multiple of 8 (zeros for no bias)
//   4 M, 5 K, 6 N
//   7 ars, 8 aks: op(A)[i, k] is at a + i·ars + k·aks (A [M, K]: K·4, 4; Aᵀ: 4, M·4)
//   9 bsk, 10 bsn: op(B)[k, n] is at b + k·bsk + n·bsn (B [K, N]: N·4, 4; Bᵀ: 4, K·4)
//   11 csr, 12 csc: C[i, n] is at c + i·csr + n·csc (row-major C: N·4, 4)
//   13 aBS, 14 bBS, 15 cBS: batch strides (0 for an operand broadcast over the batch)
//   16 G: blocks of four rows per item, 17 the item counter (0 at the start)
//   18 nc: columns of op(B) packed at a time (a multiple of 8)
//   19 scratch, 20 its stride: thread t's nc·K + 32 floats at scratch + t·stride
//   21 batch
// Items are (batch element, block of nc columns, group of G row blocks) in that order; a thread
// packs that block of op(B) into panels `[K, 8]` (zero-padded) when its item's block differs from
// the one it holds, then computes 4 × 8 tiles in registers (8 f32x4 accumulators starting at the
// bias) and stores the valid part of each.
//
// transpose(src, dst, rows, cols): dst [cols, rows] = srcᵀ for a row-major src [rows, cols], in
// 4 × 4 blocks (two rounds of shuffles), 64 columns of src at a time so that the rows of dst being
// written stay in L1. src/gemm.ts runs it on a transposed A before the product: read in place, a
// tile's four values of one k lie M·4 bytes past those of the previous k, a new page per k for
// large M, and the product was 2.7× slower on [2048, 4096]ᵀ·[2048, 2048].

import { tileLocals, tileStep } from './tile.wat.mjs';

/** @param {{ relaxed: boolean }} options @returns {string} the functions, for a module that imports a memory */
export function gemmFuncs(options) {
  const get = (i) => `(i32.load offset=${i * 4} (local.get $d))`;
  return `
  ;; Four rows of op(A) (from a; rows past 'rows' re-read row 0) against P packed panels: C rows
  ;; at c. A function of its own so that the optimising tier compiles it after its first calls.
  (func $gemmRows (param $a i32) (param $ars i32) (param $aks i32) (param $K i32) (param $bp i32) (param $P i32)
                  (param $c i32) (param $csr i32) (param $csc i32) (param $rows i32) (param $cols i32) (param $bias i32) (param $tile i32)
    (local $p i32) (local $aa i32) (local $bb i32) (local $kk i32) (local $cc i32) (local $pc i32) (local $i i32) (local $j i32)
    ${tileLocals()}
    (if (i32.gt_u (local.get $rows) (i32.const 1)) (then (local.set $rs1 (local.get $ars))))
    (if (i32.gt_u (local.get $rows) (i32.const 2)) (then (local.set $rs2 (i32.shl (local.get $ars) (i32.const 1)))))
    (if (i32.gt_u (local.get $rows) (i32.const 3)) (then (local.set $rs3 (i32.mul (local.get $ars) (i32.const 3)))))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $P)))
      (local.set $b0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5)))))
      (local.set $b1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5)))))
      ${[0, 1, 2, 3].map((i) => `(local.set $c${i}0 (local.get $b0)) (local.set $c${i}1 (local.get $b1))`).join(' ')}
      (local.set $aa (local.get $a))
      (local.set $bb (i32.add (local.get $bp) (i32.mul (local.get $p) (i32.shl (local.get $K) (i32.const 5)))))
      (local.set $kk (local.get $K))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.eqz (local.get $kk)))
        ${tileStep(options, '$aa', '$bb')}
        (local.set $aa (i32.add (local.get $aa) (local.get $aks)))
        (local.set $bb (i32.add (local.get $bb) (i32.const 32)))
        (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
        (br $kloop)))
      (local.set $cc (i32.add (local.get $c) (i32.mul (i32.shl (local.get $p) (i32.const 3)) (local.get $csc))))
      (local.set $pc (i32.sub (local.get $cols) (i32.shl (local.get $p) (i32.const 3))))
      (if (i32.and (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.ge_s (local.get $pc) (i32.const 8))) (i32.eq (local.get $csc) (i32.const 4)))
        (then
          ${[0, 1, 2, 3]
            .map(
              (i) => `(v128.store ${i === 0 ? '(local.get $cc)' : `(i32.add (local.get $cc) (i32.mul (local.get $csr) (i32.const ${i})))`} (local.get $c${i}0))
          (v128.store offset=16 ${i === 0 ? '(local.get $cc)' : `(i32.add (local.get $cc) (i32.mul (local.get $csr) (i32.const ${i})))`} (local.get $c${i}1))`,
            )
            .join('\n          ')})
        (else
          ${[0, 1, 2, 3].map((i) => `(v128.store offset=${i * 32} (local.get $tile) (local.get $c${i}0)) (v128.store offset=${i * 32 + 16} (local.get $tile) (local.get $c${i}1))`).join('\n          ')}
          (if (i32.gt_s (local.get $pc) (i32.const 8)) (then (local.set $pc (i32.const 8))))
          (local.set $i (i32.const 0))
          (block $idone (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $j (i32.const 0))
            (block $jdone (loop $jloop
              (br_if $jdone (i32.ge_s (local.get $j) (local.get $pc)))
              (f32.store (i32.add (local.get $cc) (i32.add (i32.mul (local.get $i) (local.get $csr)) (i32.mul (local.get $j) (local.get $csc))))
                (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jloop)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iloop)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $ploop))))

  ;; Packs columns n0 .. n0+nn−1 of op(B) (b, strides bsk/bsn) into panels [K, 8] at dst, zero-padded.
  (func $gemmPack (param $b i32) (param $bsk i32) (param $bsn i32) (param $K i32) (param $N i32) (param $n0 i32) (param $nn i32) (param $dst i32)
    (local $p i32) (local $P i32) (local $kk i32) (local $j i32) (local $col i32) (local $src i32) (local $o i32)
    (local.set $P (i32.shr_u (i32.add (local.get $nn) (i32.const 7)) (i32.const 3)))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $P)))
      (local.set $col (i32.add (local.get $n0) (i32.shl (local.get $p) (i32.const 3))))
      (local.set $src (i32.add (local.get $b) (i32.mul (local.get $col) (local.get $bsn))))
      (if (i32.and (i32.eq (local.get $bsn) (i32.const 4)) (i32.le_u (i32.add (local.get $col) (i32.const 8)) (local.get $N)))
        (then
          (local.set $kk (i32.const 0))
          (block $kdone (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $kk) (local.get $K)))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $bsk)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $kloop))))
        (else
          (local.set $kk (i32.const 0))
          (block $kdone (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $kk) (local.get $K)))
            (local.set $j (i32.const 0))
            (local.set $o (local.get $src))
            (block $jdone (loop $jloop
              (br_if $jdone (i32.ge_u (local.get $j) (i32.const 8)))
              (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
                (select (f32.load (local.get $o)) (f32.const 0) (i32.lt_u (i32.add (local.get $col) (local.get $j)) (local.get $N))))
              (local.set $o (i32.add (local.get $o) (local.get $bsn)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jloop)))
            (local.set $src (i32.add (local.get $src) (local.get $bsk)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $kloop)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $ploop))))

  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $j0 i32) (local $j1 i32) (local $s i32) (local $o i32) (local $rs i32) (local $ds i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rs (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $ds (i32.shl (local.get $rows) (i32.const 2)))
    (block $jbdone (loop $jbloop
      (br_if $jbdone (i32.ge_u (local.get $j0) (local.get $cols)))
      (local.set $j1 (i32.add (local.get $j0) (i32.const 64)))
      (if (i32.gt_u (local.get $j1) (local.get $cols)) (then (local.set $j1 (local.get $cols))))
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (local.get $j0))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $rows))
          (then
            ;; four rows of src: 4 × 4 blocks while four columns remain, then one column at a time
            (block $jdone (loop $jloop
              (br_if $jdone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
              (local.set $s (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $rs)) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $r0 (v128.load (local.get $s)))
              (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $rs))))
              (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rs) (i32.const 1)))))
              (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rs) (i32.const 3)))))
              (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
              (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
              (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
              (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
              (local.set $o (i32.add (local.get $dst) (i32.add (i32.mul (local.get $j) (local.get $ds)) (i32.shl (local.get $i) (i32.const 2)))))
              (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
              (v128.store (i32.add (local.get $o) (local.get $ds)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
              (v128.store (i32.add (local.get $o) (i32.shl (local.get $ds) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
              (v128.store (i32.add (local.get $o) (i32.mul (local.get $ds) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $jloop)))
            (block $kdone (loop $kloop
              (br_if $kdone (i32.ge_u (local.get $j) (local.get $j1)))
              (local.set $s (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $rs)) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $o (i32.add (local.get $dst) (i32.add (i32.mul (local.get $j) (local.get $ds)) (i32.shl (local.get $i) (i32.const 2)))))
              (f32.store (local.get $o) (f32.load (local.get $s)))
              (f32.store offset=4 (local.get $o) (f32.load (i32.add (local.get $s) (local.get $rs))))
              (f32.store offset=8 (local.get $o) (f32.load (i32.add (local.get $s) (i32.shl (local.get $rs) (i32.const 1)))))
              (f32.store offset=12 (local.get $o) (f32.load (i32.add (local.get $s) (i32.mul (local.get $rs) (i32.const 3)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $kloop)))
            (local.set $i (i32.add (local.get $i) (i32.const 4))))
          (else
            ;; the last rows of src (fewer than four), one value at a time
            (block $jdone (loop $jloop
              (br_if $jdone (i32.ge_u (local.get $j) (local.get $j1)))
              (f32.store (i32.add (local.get $dst) (i32.add (i32.mul (local.get $j) (local.get $ds)) (i32.shl (local.get $i) (i32.const 2))))
                (f32.load (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $rs)) (i32.shl (local.get $j) (i32.const 2))))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jloop)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (br $iloop)))
      (local.set $j0 (local.get $j1))
      (br $jbloop))))

  (func (export "gemm") (param $d i32) (param $t i32)
    (local $M i32) (local $K i32) (local $N i32) (local $RB i32) (local $G i32) (local $RG i32) (local $NC i32) (local $total i32)
    (local $i i32) (local $key i32) (local $packed i32) (local $bt i32) (local $rb i32) (local $rb1 i32) (local $aB i32) (local $cB i32)
    (local $n0 i32) (local $nn i32) (local $nc i32) (local $scratch i32) (local $tile i32) (local $ars i32) (local $csr i32) (local $csc i32) (local $rows i32)
    (local.set $M ${get(4)}) (local.set $K ${get(5)}) (local.set $N ${get(6)})
    (local.set $ars ${get(7)}) (local.set $csr ${get(11)}) (local.set $csc ${get(12)})
    (local.set $G ${get(16)}) (local.set $nc ${get(18)})
    (local.set $scratch (i32.add ${get(19)} (i32.mul (local.get $t) ${get(20)})))
    (local.set $tile (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $nc) (local.get $K)) (i32.const 2))))
    (local.set $RB (i32.shr_u (i32.add (local.get $M) (i32.const 3)) (i32.const 2)))
    (local.set $RG (i32.div_u (i32.add (local.get $RB) (i32.sub (local.get $G) (i32.const 1))) (local.get $G)))
    (local.set $NC (i32.div_u (i32.add (local.get $N) (i32.sub (local.get $nc) (i32.const 1))) (local.get $nc)))
    (local.set $total (i32.mul (i32.mul ${get(21)} (local.get $NC)) (local.get $RG)))
    (local.set $packed (i32.const -1))
    (block $idone (loop $iloop
      ;; the next item: (batch element, block of nc columns, group of G row blocks), in that order
      (local.set $i (i32.atomic.rmw.add offset=68 (local.get $d) (i32.const 1)))
      (br_if $idone (i32.ge_u (local.get $i) (local.get $total)))
      (local.set $key (i32.div_u (local.get $i) (local.get $RG)))
      (local.set $bt (i32.div_u (local.get $key) (local.get $NC)))
      (local.set $n0 (i32.mul (i32.rem_u (local.get $key) (local.get $NC)) (local.get $nc)))
      (local.set $nn (i32.sub (local.get $N) (local.get $n0)))
      (if (i32.gt_u (local.get $nn) (local.get $nc)) (then (local.set $nn (local.get $nc))))
      (if (i32.ne (local.get $key) (local.get $packed))
        (then
          (call $gemmPack (i32.add ${get(1)} (i32.mul (local.get $bt) ${get(14)})) ${get(9)} ${get(10)} (local.get $K) (local.get $N) (local.get $n0) (local.get $nn) (local.get $scratch))
          (local.set $packed (local.get $key))))
      (local.set $aB (i32.add ${get(0)} (i32.mul (local.get $bt) ${get(13)})))
      (local.set $cB (i32.add ${get(2)} (i32.mul (local.get $bt) ${get(15)})))
      (local.set $rb (i32.mul (i32.rem_u (local.get $i) (local.get $RG)) (local.get $G)))
      (local.set $rb1 (i32.add (local.get $rb) (local.get $G)))
      (if (i32.gt_u (local.get $rb1) (local.get $RB)) (then (local.set $rb1 (local.get $RB))))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $rb) (local.get $rb1)))
        (local.set $rows (i32.sub (local.get $M) (i32.shl (local.get $rb) (i32.const 2))))
        (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        (call $gemmRows
          (i32.add (local.get $aB) (i32.mul (i32.shl (local.get $rb) (i32.const 2)) (local.get $ars))) (local.get $ars) ${get(8)} (local.get $K)
          (local.get $scratch) (i32.shr_u (i32.add (local.get $nn) (i32.const 7)) (i32.const 3))
          (i32.add (i32.add (local.get $cB) (i32.mul (i32.shl (local.get $rb) (i32.const 2)) (local.get $csr))) (i32.mul (local.get $n0) (local.get $csc)))
          (local.get $csr) (local.get $csc) (local.get $rows) (local.get $nn)
          (i32.add ${get(3)} (i32.shl (local.get $n0) (i32.const 2))) (local.get $tile))
        (local.set $rb (i32.add (local.get $rb) (i32.const 1)))
        (br $rloop)))
      (br $iloop)))
  )
`;
}
