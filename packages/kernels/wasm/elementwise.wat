;; @mmc/kernels: element-wise float32 kernels on wasm SIMD (f32x4), in place over this module's
;; own memory (16 pages = 1 MiB). The JavaScript side (src/elementwise.ts) copies a chunk of a
;; tensor in, calls one of these, and copies the result out. `n` is a multiple of 4 (the caller pads); `p` is a byte
;; offset aligned to 16. Build: `npm run build:wasm -w @mmc/kernels` (scripts/build-wasm.mjs,
;; wabt) writes src/elementwiseWasm.ts; a test checks the two agree.
(module
  (memory (export "memory") 16)

  ;; exp(x) of four lanes: Cody–Waite range reduction x = n·ln2 + r, |r| <= ln2/2, and Cephes'
  ;; degree-6 polynomial for e^r (about 1 ulp). 2^n is applied in two halves (2^n1 · 2^n2, both
  ;; normal floats) so that large |x| overflows to +inf and small x underflows gradually through
  ;; the subnormals to 0, as expf does. x is clamped to [-104, 89] first (exp is 0 / inf beyond in
  ;; float32). pmin/pmax return their first operand when a comparison fails, so NaN gives NaN.
  (func $exp4 (param $v v128) (result v128)
    (local $x v128) (local $fx v128) (local $r v128) (local $y v128) (local $ni v128) (local $n1 v128)
    (local.set $x
      (f32x4.pmax
        (f32x4.pmin (local.get $v) (f32x4.splat (f32.const 89)))
        (f32x4.splat (f32.const -104))))
    ;; n = round(x / ln2)
    (local.set $fx (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    ;; r = x - n·ln2 with ln2 = 0.693359375 - 2.12194440e-4 (the first part exact in float32)
    (local.set $r
      (f32x4.sub
        (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $fx) (f32x4.splat (f32.const -2.12194440e-4)))))
    ;; e^r = 1 + r + r²·P(r)
    (local.set $y (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $y
      (f32x4.add
        (f32x4.add (f32x4.mul (local.get $y) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
        (f32x4.splat (f32.const 1))))
    ;; · 2^n1 · 2^n2 with n1 = n >> 1, n2 = n - n1 (|n1|, |n2| <= 75)
    (local.set $ni (i32x4.trunc_sat_f32x4_s (local.get $fx)))
    (local.set $n1 (i32x4.shr_s (local.get $ni) (i32.const 1)))
    (local.set $y
      (f32x4.mul (local.get $y)
        (i32x4.shl (i32x4.add (local.get $n1) (i32x4.splat (i32.const 127))) (i32.const 23))))
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $ni) (local.get $n1)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; erf(x) of four lanes as x·P(x²)/Q(x²), the rational approximation of Eigen's
  ;; generic_fast_erf_float (degree 13 odd numerator, degree 8 even denominator; within 6.5e-8 of
  ;; erf in exact arithmetic on [-4, 4]); x is clamped to [-4, 4] (pmin/pmax, NaN kept), beyond
  ;; which erf rounds to ±1 in float32.
  (func $erf4 (param $v v128) (result v128)
    (local $x v128) (local $x2 v128) (local $num v128) (local $den v128)
    (local.set $x
      (f32x4.pmax
        (f32x4.pmin (local.get $v) (f32x4.splat (f32.const 4)))
        (f32x4.splat (f32.const -4))))
    (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $num (f32x4.splat (f32.const -2.72614225801306e-10)))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const 2.77068142495902e-08))))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const -2.10102402082508e-06))))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const -5.69250639462346e-05))))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const -7.34990630326855e-04))))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const -2.95459980854025e-03))))
    (local.set $num (f32x4.add (f32x4.mul (local.get $num) (local.get $x2)) (f32x4.splat (f32.const -1.60960333262415e-02))))
    (local.set $num (f32x4.mul (local.get $num) (local.get $x)))
    (local.set $den (f32x4.splat (f32.const -1.45660718464996e-05)))
    (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (f32x4.splat (f32.const -2.13374055278905e-04))))
    (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (f32x4.splat (f32.const -1.68282697438203e-03))))
    (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (f32x4.splat (f32.const -7.37332916720468e-03))))
    (local.set $den (f32x4.add (f32x4.mul (local.get $den) (local.get $x2)) (f32x4.splat (f32.const -1.42647390514189e-02))))
    (f32x4.div (local.get $num) (local.get $den)))

  ;; exp in place over n floats at byte p.
  (func (export "exp") (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (call $exp4 (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; erf in place over n floats at byte p.
  (func (export "erf") (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (call $erf4 (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; Exact GELU's forward parts over n floats: u at byte u, Φ(u) = ½(1 + erf(u/√2)) to byte cdf,
  ;; gelu(u) = u·Φ(u) to byte g (the three regions do not overlap).
  (func (export "gelu_fwd") (param $u i32) (param $cdf i32) (param $g i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $c v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $u) (local.get $i))))
        (local.set $c
          (f32x4.mul
            (f32x4.add (call $erf4 (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0.70710678118654752))))
              (f32x4.splat (f32.const 1)))
            (f32x4.splat (f32.const 0.5))))
        (v128.store (i32.add (local.get $cdf) (local.get $i)) (local.get $c))
        (v128.store (i32.add (local.get $g) (local.get $i)) (f32x4.mul (local.get $x) (local.get $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; Exact GELU's backward over n floats: du = dy·(Φ(u) + u·φ(u)), φ(u) = exp(-u²/2)/√(2π), with
  ;; dy at byte dy (overwritten by du), u at byte u and Φ(u) at byte cdf.
  (func (export "gelu_bwd") (param $dy i32) (param $u i32) (param $cdf i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $pdf v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $u) (local.get $i))))
        (local.set $pdf
          (f32x4.mul
            (call $exp4 (f32x4.mul (f32x4.mul (local.get $x) (local.get $x)) (f32x4.splat (f32.const -0.5))))
            (f32x4.splat (f32.const 0.39894228040143268))))
        (v128.store (i32.add (local.get $dy) (local.get $i))
          (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $i)))
            (f32x4.add (v128.load (i32.add (local.get $cdf) (local.get $i)))
              (f32x4.mul (local.get $x) (local.get $pdf)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; Column sums: acc[c] += Σ_r x[r·cols + c] for a rows × cols block at byte `x` (cols a
  ;; multiple of 4; acc at byte `acc`). Each column is summed in row order, as a plain loop would.
  (func (export "colsum") (param $acc i32) (param $x i32) (param $rows i32) (param $cols i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $p i32) (local $s v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (local.set $c (i32.const 0))
    (block $cdone
      (loop $cnext
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $rowBytes)))
        (local.set $s (v128.load (i32.add (local.get $acc) (local.get $c))))
        (local.set $p (i32.add (local.get $x) (local.get $c)))
        (block $rdone
          (loop $rnext
            (br_if $rdone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (br $rnext)))
        (v128.store (i32.add (local.get $acc) (local.get $c)) (local.get $s))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cnext))))
)
