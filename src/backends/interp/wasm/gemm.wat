;; Single-precision GEMM for dlc's interpreter, in WebAssembly SIMD (f32x4).
;;
;;   C[M,N] = epilogue((accumulate ? C : 0) + op(A)[M,K] . op(B)[K,N])
;;
;; This module only computes; gemm.ts lays out the memory, copies operands in
;; and out, and splits C between threads. Every pointer is a byte offset
;; into the one imported (shared) memory; matrices are dense row-major f32.
;;
;; Shape of the computation (GotoBLAS, see kernels/matmul.ts for the TS twin):
;;   - pack_b packs all of op(B) once into panels of NR = 8 columns:
;;       panel p at pb + p*K*32, element (k, j) at + k*32 + j*4,
;;     zero past column N.
;;   - gemm packs MR = 4 rows of op(A) at a time into strips
;;       element (r, k) at strip + k*16 + r*4 (zero past row M),
;;     a block of them (up to `mc` rows), then runs every B panel against
;;     every strip of the block, so each panel is reused from cache.
;;   - micro keeps the 4x8 block of C in eight f32x4 registers for up to KCH
;;     steps of k; for longer K it adds them into float64 sums every KCH
;;     steps: a float32 sum never runs over more than KCH terms, which keeps
;;     long dot products within a few float32 ulps of the float64 reference.
;;     It leaves the block in a float32 tile.
;;   - store applies to the tile, in order: + old C
;;     (accumulate), + bias[j], relu. Other activations are applied by the caller.
;; transA / transB cost nothing extra: they only change how packing reads.
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; flags for gemm / store
  (global $ACCUMULATE i32 (i32.const 1))
  (global $BIAS i32 (i32.const 2))
  (global $RELU i32 (i32.const 4))
  ;; k steps summed in float32 before the float64 sums take them
  (global $KCH i32 (i32.const 128))

  ;; Transpose a 4x4 block: rows at s0..s3 (4 floats each) become columns,
  ;; stored as 4 vectors at d, d+stride, d+2*stride, d+3*stride.
  (func $tr4 (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32) (param $d i32) (param $stride i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $x0 (v128.load align=4 (local.get $s0)))
    (local.set $x1 (v128.load align=4 (local.get $s1)))
    (local.set $x2 (v128.load align=4 (local.get $s2)))
    (local.set $x3 (v128.load align=4 (local.get $s3)))
    ;; t0 = x0[0] x1[0] x0[1] x1[1], t1 = x0[2] x1[2] x0[3] x1[3], likewise t2, t3 from x2, x3
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
    ;; column c = low or high halves of (t0, t2) or (t1, t3)
    (v128.store align=4 (local.get $d)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (local.set $d (i32.add (local.get $d) (local.get $stride)))
    (v128.store align=4 (local.get $d)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (local.set $d (i32.add (local.get $d) (local.get $stride)))
    (v128.store align=4 (local.get $d)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (local.set $d (i32.add (local.get $d) (local.get $stride)))
    (v128.store align=4 (local.get $d)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; Pack panels [p0, p1) of op(B) (B is [K,N], or [N,K] when transB) at pb.
  (func $pack_b (export "pack_b")
    (param $b i32) (param $transB i32) (param $K i32) (param $N i32)
    (param $pb i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $j0 i32) (local $nr i32) (local $dst i32) (local $k i32) (local $j i32)
    (local $src i32) (local $rb i32) (local $addr i32)
    (local.set $rb (i32.shl (local.get $K) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $panels_done
      (loop $panels
        (br_if $panels_done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $j0 (i32.shl (local.get $p) (i32.const 3)))
        (local.set $nr (i32.sub (local.get $N) (local.get $j0)))
        (if (i32.gt_s (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
        (local.set $dst (i32.add (local.get $pb) (i32.mul (local.get $p) (i32.shl (local.get $K) (i32.const 5)))))
        (local.set $k (i32.const 0))
        (if (i32.eq (local.get $nr) (i32.const 8))
          (then
            (if (local.get $transB)
              (then
                ;; rows j0..j0+7 of the stored [N,K] matrix, four k at a time
                (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j0) (local.get $rb))))
                (block $tr_done
                  (loop $tr
                    (br_if $tr_done (i32.gt_s (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
                    (local.set $addr (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2))))
                    (call $tr4
                      (local.get $addr)
                      (i32.add (local.get $addr) (local.get $rb))
                      (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 2)))
                      (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 3)))
                      (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 5)))
                      (i32.const 32))
                    (local.set $addr (i32.add (local.get $addr) (i32.shl (local.get $rb) (i32.const 2))))
                    (call $tr4
                      (local.get $addr)
                      (i32.add (local.get $addr) (local.get $rb))
                      (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 2)))
                      (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 3)))
                      (i32.add (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 5))) (i32.const 16))
                      (i32.const 32))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $tr))))
              (else
                ;; row k of B, columns j0..j0+7, is contiguous
                (local.set $src (i32.add (local.get $b) (i32.shl (local.get $j0) (i32.const 2))))
                (local.set $addr (local.get $dst))
                (block $rows_done
                  (loop $rows
                    (br_if $rows_done (i32.ge_s (local.get $k) (local.get $K)))
                    (v128.store align=4 (local.get $addr) (v128.load align=4 (local.get $src)))
                    (v128.store offset=16 align=4 (local.get $addr) (v128.load offset=16 align=4 (local.get $src)))
                    (local.set $src (i32.add (local.get $src) (i32.shl (local.get $N) (i32.const 2))))
                    (local.set $addr (i32.add (local.get $addr) (i32.const 32)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $rows)))))))
        ;; what is left (a ragged panel, or k past the last group of four): one element at a time
        (block $rest_done
          (loop $rest
            (br_if $rest_done (i32.ge_s (local.get $k) (local.get $K)))
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_s (local.get $j) (i32.const 8)))
                (f32.store
                  (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 3)) (local.get $j)) (i32.const 2)))
                  (if (result f32) (i32.lt_s (local.get $j) (local.get $nr))
                    (then
                      (f32.load (i32.add (local.get $b) (i32.shl
                        (if (result i32) (local.get $transB)
                          (then (i32.add (i32.mul (i32.add (local.get $j0) (local.get $j)) (local.get $K)) (local.get $k)))
                          (else (i32.add (i32.mul (local.get $k) (local.get $N)) (i32.add (local.get $j0) (local.get $j)))))
                        (i32.const 2)))))
                    (else (f32.const 0))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rest)))

        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels))))

  ;; Pack rows i0..i0+3 of op(A) (A is [M,K], or [K,M] when transA) into a strip at dst.
  (func $pack_a
    (param $a i32) (param $transA i32) (param $M i32) (param $K i32)
    (param $i0 i32) (param $dst i32)
    (local $mr i32) (local $k i32) (local $r i32) (local $src i32) (local $rb i32) (local $addr i32)
    (local.set $mr (i32.sub (local.get $M) (local.get $i0)))
    (if (i32.gt_s (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
    (local.set $k (i32.const 0))
    (if (i32.eq (local.get $mr) (i32.const 4))
      (then
        (if (local.get $transA)
          (then
            ;; column k of the stored [K,M] matrix holds the strip's four values, contiguous
            (local.set $src (i32.add (local.get $a) (i32.shl (local.get $i0) (i32.const 2))))
            (local.set $addr (local.get $dst))
            (block $done
              (loop $cols
                (br_if $done (i32.ge_s (local.get $k) (local.get $K)))
                (v128.store (local.get $addr) (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.shl (local.get $M) (i32.const 2))))
                (local.set $addr (i32.add (local.get $addr) (i32.const 16)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $cols))))
          (else
            ;; four rows, four k at a time, transposed
            (local.set $rb (i32.shl (local.get $K) (i32.const 2)))
            (local.set $src (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $rb))))
            (block $done
              (loop $blocks
                (br_if $done (i32.gt_s (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
                (local.set $addr (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2))))
                (call $tr4
                  (local.get $addr)
                  (i32.add (local.get $addr) (local.get $rb))
                  (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 2)))
                  (i32.add (local.get $addr) (i32.mul (local.get $rb) (i32.const 3)))
                  (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 4)))
                  (i32.const 16))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $blocks)))))))
    ;; what is left: one element at a time, zero past row M
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_s (local.get $k) (local.get $K)))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_s (local.get $r) (i32.const 4)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 2)) (local.get $r)) (i32.const 2)))
              (if (result f32) (i32.lt_s (local.get $r) (local.get $mr))
                (then
                  (f32.load (i32.add (local.get $a) (i32.shl
                    (if (result i32) (local.get $transA)
                      (then (i32.add (i32.mul (local.get $k) (local.get $M)) (i32.add (local.get $i0) (local.get $r))))
                      (else (i32.add (i32.mul (i32.add (local.get $i0) (local.get $r)) (local.get $K)) (local.get $k))))
                    (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rest)))
    )

  ;; tile[4][8] (float32) = strip[4 x K] . panel[K x 8]. Above the tile, 256
  ;; bytes hold the float64 sums of K > KCH.
  (func $micro (param $pa i32) (param $pb i32) (param $K i32) (param $tile i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128)
    (local $end i32) (local $chunkEnd i32) (local $single i32)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $K) (i32.const 4))))
    (local.set $single (i32.and (i32.gt_s (local.get $K) (i32.const 0)) (i32.le_s (local.get $K) (global.get $KCH))))
    (if (i32.eqz (local.get $single))
      (then
        (v128.store offset=128 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=144 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=160 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=176 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=192 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=208 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=224 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=240 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=256 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=272 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=288 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=304 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=320 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=336 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=352 (local.get $tile) (v128.const i32x4 0 0 0 0))
        (v128.store offset=368 (local.get $tile) (v128.const i32x4 0 0 0 0))))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $pa) (local.get $end)))
        (local.set $chunkEnd (i32.add (local.get $pa) (i32.shl (global.get $KCH) (i32.const 4))))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $end)) (then (local.set $chunkEnd (local.get $end))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0))
        (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0))
        (local.set $c31 (v128.const i32x4 0 0 0 0))
        (loop $k
          ;; step k
          (local.set $b0 (v128.load offset=0 (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $a (v128.load32_splat offset=0 (local.get $pa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (br_if $k (i32.lt_u (local.get $pa) (local.get $chunkEnd))))
        ;; one chunk is all of K: the float32 sums are the result
        (if (local.get $single)
          (then
            (v128.store offset=0 (local.get $tile) (local.get $c00))
            (v128.store offset=16 (local.get $tile) (local.get $c01))
            (v128.store offset=32 (local.get $tile) (local.get $c10))
            (v128.store offset=48 (local.get $tile) (local.get $c11))
            (v128.store offset=64 (local.get $tile) (local.get $c20))
            (v128.store offset=80 (local.get $tile) (local.get $c21))
            (v128.store offset=96 (local.get $tile) (local.get $c30))
            (v128.store offset=112 (local.get $tile) (local.get $c31))
            (return)))
        ;; else the float64 sums += the chunk's, widened
        (call $flush (i32.add (local.get $tile) (i32.const 128)) (local.get $c00))
        (call $flush (i32.add (local.get $tile) (i32.const 160)) (local.get $c01))
        (call $flush (i32.add (local.get $tile) (i32.const 192)) (local.get $c10))
        (call $flush (i32.add (local.get $tile) (i32.const 224)) (local.get $c11))
        (call $flush (i32.add (local.get $tile) (i32.const 256)) (local.get $c20))
        (call $flush (i32.add (local.get $tile) (i32.const 288)) (local.get $c21))
        (call $flush (i32.add (local.get $tile) (i32.const 320)) (local.get $c30))
        (call $flush (i32.add (local.get $tile) (i32.const 352)) (local.get $c31))
        (br $chunk)))
    ;; round the float64 sums to the float32 tile
    (v128.store offset=0 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=128 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=144 (local.get $tile)))))
    (v128.store offset=16 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=160 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=176 (local.get $tile)))))
    (v128.store offset=32 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=192 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=208 (local.get $tile)))))
    (v128.store offset=48 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=224 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=240 (local.get $tile)))))
    (v128.store offset=64 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=256 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=272 (local.get $tile)))))
    (v128.store offset=80 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=288 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=304 (local.get $tile)))))
    (v128.store offset=96 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=320 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=336 (local.get $tile)))))
    (v128.store offset=112 (local.get $tile) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (v128.load offset=352 (local.get $tile)))
      (f32x4.demote_f64x2_zero (v128.load offset=368 (local.get $tile))))))

  ;; t[0..3] (float64) += v (f32x4)
  (func $flush (param $t i32) (param $v v128)
    (v128.store offset=0 (local.get $t)
      (f64x2.add (v128.load offset=0 (local.get $t)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $t)
      (f64x2.add (v128.load offset=16 (local.get $t))
        (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; C[i0 + r, j0 + j] = epilogue(tile[r][j]) for r < mr, j < nr (tile: float32 [4][8]).
  (func $store
    (param $tile i32) (param $c i32) (param $N i32) (param $i0 i32) (param $j0 i32)
    (param $mr i32) (param $nr i32) (param $bias i32) (param $flags i32)
    (local $r i32) (local $j i32) (local $row i32) (local $addr i32) (local $t i32)
    (local $v0 v128) (local $v1 v128) (local $x f32)
    (local.set $row (i32.add (local.get $c)
      (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $N)) (local.get $j0)) (i32.const 2))))
    (local.set $bias (i32.add (local.get $bias) (i32.shl (local.get $j0) (i32.const 2))))
    (local.set $t (local.get $tile))
    (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))
      (then
        (loop $rows
          (local.set $v0 (v128.load offset=0 (local.get $t)))
          (local.set $v1 (v128.load offset=16 (local.get $t)))
          (if (i32.and (local.get $flags) (global.get $ACCUMULATE))
            (then
              (local.set $v0 (f32x4.add (local.get $v0) (v128.load offset=0 align=4 (local.get $row))))
              (local.set $v1 (f32x4.add (local.get $v1) (v128.load offset=16 align=4 (local.get $row))))))
          (if (i32.and (local.get $flags) (global.get $BIAS))
            (then
              (local.set $v0 (f32x4.add (local.get $v0) (v128.load offset=0 align=4 (local.get $bias))))
              (local.set $v1 (f32x4.add (local.get $v1) (v128.load offset=16 align=4 (local.get $bias))))))
          (if (i32.and (local.get $flags) (global.get $RELU))
            (then
              ;; x < 0 ? 0 : x, which keeps NaN and -0 as the TS kernel does
              (local.set $v0 (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $v0)
                (f32x4.lt (local.get $v0) (v128.const i32x4 0 0 0 0))))
              (local.set $v1 (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $v1)
                (f32x4.lt (local.get $v1) (v128.const i32x4 0 0 0 0))))))
          (v128.store offset=0 align=4 (local.get $row) (local.get $v0))
          (v128.store offset=16 align=4 (local.get $row) (local.get $v1))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $N) (i32.const 2))))
          (local.set $t (i32.add (local.get $t) (i32.const 32)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rows (i32.lt_s (local.get $r) (i32.const 4))))
        (return)))
    ;; a ragged tile: one element at a time
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_s (local.get $r) (local.get $mr)))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_s (local.get $j) (local.get $nr)))
            (local.set $addr (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $x (f32.load (i32.add (local.get $t) (i32.shl (local.get $j) (i32.const 2)))))
            (if (i32.and (local.get $flags) (global.get $ACCUMULATE))
              (then (local.set $x (f32.add (local.get $x) (f32.load (local.get $addr))))))
            (if (i32.and (local.get $flags) (global.get $BIAS))
              (then (local.set $x (f32.add (local.get $x)
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
            (if (i32.and (local.get $flags) (global.get $RELU))
              (then (if (f32.lt (local.get $x) (f32.const 0)) (then (local.set $x (f32.const 0))))))
            (f32.store (local.get $addr) (local.get $x))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $N) (i32.const 2))))
        (local.set $t (i32.add (local.get $t) (i32.const 32)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; C[r0:r1, 8*p0 : 8*p1] from op(A) at a and the packed B at pb (pack_b, all
  ;; panels). r0 is a multiple of 4. scratch holds mc/4 strips of K*16 bytes,
  ;; then micro's 384-byte tile; mc (rows per block) is a multiple of 4.
  (func (export "gemm")
    (param $a i32) (param $transA i32) (param $pb i32) (param $c i32) (param $bias i32)
    (param $M i32) (param $K i32) (param $N i32) (param $flags i32)
    (param $r0 i32) (param $r1 i32) (param $p0 i32) (param $p1 i32) (param $scratch i32) (param $mc i32)
    (local $i0 i32) (local $ib i32) (local $ie i32) (local $p i32)
    (local $strip i32) (local $stripBytes i32) (local $tile i32) (local $mr i32) (local $nr i32)
    (local $panel i32) (local $panelBytes i32)
    (local.set $stripBytes (i32.shl (local.get $K) (i32.const 4)))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
    (local.set $tile (i32.add (local.get $scratch)
      (i32.mul (i32.shr_u (local.get $mc) (i32.const 2)) (local.get $stripBytes))))
    (local.set $ib (local.get $r0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_s (local.get $ib) (local.get $r1)))
        (local.set $ie (i32.add (local.get $ib) (local.get $mc)))
        (if (i32.gt_s (local.get $ie) (local.get $r1)) (then (local.set $ie (local.get $r1))))
        ;; pack the block's strips
        (local.set $i0 (local.get $ib))
        (local.set $strip (local.get $scratch))
        (block $packed
          (loop $pack
            (br_if $packed (i32.ge_s (local.get $i0) (local.get $ie)))
            (call $pack_a (local.get $a) (local.get $transA) (local.get $M) (local.get $K)
              (local.get $i0) (local.get $strip))
            (local.set $strip (i32.add (local.get $strip) (local.get $stripBytes)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
            (br $pack)))
        ;; every panel against every strip of the block
        (local.set $p (local.get $p0))
        (local.set $panel (i32.add (local.get $pb) (i32.mul (local.get $p0) (local.get $panelBytes))))
        (block $panels_done
          (loop $panels_loop
            (br_if $panels_done (i32.ge_s (local.get $p) (local.get $p1)))
            (local.set $nr (i32.sub (local.get $N) (i32.shl (local.get $p) (i32.const 3))))
            (if (i32.gt_s (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
            (local.set $i0 (local.get $ib))
            (local.set $strip (local.get $scratch))
            (block $strips_done
              (loop $strips
                (br_if $strips_done (i32.ge_s (local.get $i0) (local.get $ie)))
                (call $micro (local.get $strip) (local.get $panel) (local.get $K) (local.get $tile))
                (local.set $mr (i32.sub (local.get $M) (local.get $i0)))
                (if (i32.gt_s (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
                (call $store (local.get $tile) (local.get $c) (local.get $N) (local.get $i0)
                  (i32.shl (local.get $p) (i32.const 3)) (local.get $mr) (local.get $nr)
                  (local.get $bias) (local.get $flags))
                (local.set $strip (i32.add (local.get $strip) (local.get $stripBytes)))
                (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
                (br $strips)))
            (local.set $panel (i32.add (local.get $panel) (local.get $panelBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $panels_loop)))
        (local.set $ib (local.get $ie))
        (br $blocks)))))
