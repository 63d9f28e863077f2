;; Single-precision GEMM for dlc's interpreter, in WebAssembly SIMD (f32x4),
;; and the kernels that work on the same memory (listed below the GEMM's notes).
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
;;     It leaves the block in a float32 tile, or, for a whole 4x8 block that
;;     does not accumulate with K <= KCH (Winograd's products, a 1x1
;;     convolution's few channels), applies store's bias and relu or relu6
;;     in registers and stores it straight into C: the tile's round trip
;;     through store was 7% of a Winograd forward whose products have K = 32.
;;   - store applies to the tile, in order: + old C
;;     (accumulate), + bias[j], relu or relu6. Other activations are applied by the caller.
;; transA / transB cost nothing extra: they only change how packing reads.
;; transA 2 and 3 make A the im2col matrix of a convolution (or its
;; transpose), packed straight from the input image (pack_a_conv,
;; pack_at_conv): conv2d and its kernel gradient never write im2col out.
;; A convolution with K <= KCH (a first layer's 3x3x1 or 3x3x3) is not packed
;; at all where its windows lie inside the image: conv_taps reads x in place
;; (and can keep each 2x2 window's max for a max pool after it: POOL), and so
;; does its kernel gradient, which reads dz in place too (grad_taps).
;;
;; Beside the GEMM, the kernels that let the interpreter keep its activations
;; in this memory (gemm.ts's inMemory, heap.ts) instead of crossing into JS
;; for the work around each product, each with a TS twin in kernels/ or grad/:
;;   max_pool, max_pool_grad           2-D max pooling and its backward
;;   global_pool                       global average or max pooling
;;   depthwise_conv, depthwise_conv_grad  depthwise convolution (one kernel per channel) and its backward
;;   col2im                            im2col's adjoint, for conv's input gradient
;;   relu_grad, column_sums            relu's backward, bias gradients (float64 sums, in blocks of rows)
;;   dropout_mask                      dropout's mask, from the stream's values drawn in JS
;;   add, copy_rows, scale             a sum of two tensors (and a relu after it); rows moved between strided layouts; x * s
;;   layer_norm                        layer normalisation over rows (float64 statistics)
;;   activate, softmax_rows            relu, sigmoid, tanh, relu6, hard_sigmoid, hard_swish, gelu; softmax per row
;;   lstm_cell                         one LSTM step's gate math
;;   recurrent_rows                    an LSTM's or GRU's time loop (each step's h U and cell) for a block of batch rows
;;   gru_cell                          one GRU step's gate math (reset_after)
;;   winograd_kernel, winograd_tiles   a 3x3 convolution at stride 1 as Winograd F(2x2, 3x3), through gemm
;;   winograd_grad_slices, winograd_grad_out  its kernel gradient in the same form
;;   winograd4_kernel, winograd4_tiles  the same convolution as F(4x4, 3x3), with fast math only
;;   attention_heads                   attention's heads (scores, softmax, weighted sum) for (example, head) pairs
;;   row_product                       one row of A times a stored B, read in place (a batch of one)
;; exp4 / sigmoid4 / tanh4 are float32 (Cephes' expf and tanhf, within 2 ulp);
;; the recurrent cells' tanh_gate4 is (1 - e^-2x) / (1 + e^-2x), within 1.5e-7.
;; scripts/build-wasm.js assembles this file twice: gemm.wasm, and gemm-fma.wasm
;; with the multiply-adds of micro, micro_grad_taps, depthwise_conv (and depthwise4_s1, depthwise4_s2),
;; row_product, exp4, tanh4 and the GELUs fused (its FUSED list): there, a multiply-add written
;; (f32x4.add (local.get $acc) (f32x4.mul a b)), or the same in f32, or
;; (f32x4.add (f32x4.mul a b) c), becomes one f32x4.relaxed_madd. Written
;; another way, it stays two roundings.
;; Node 20's V8 does not inline WebAssembly calls, and a call passing v128
;; values costs about as much as a dozen vector operations: hot loops write
;; small helpers (flush, clamp4, route_2x2) out instead of calling them.
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; flags for gemm / store
  (global $ACCUMULATE i32 (i32.const 1))
  (global $BIAS i32 (i32.const 2))
  (global $RELU i32 (i32.const 4))
  (global $RELU6 i32 (i32.const 8))
  ;; a 2x2 max pool of stride 2 after a convolution, in it: conv_taps's rows
  ;; come in fours, each a window, and C gets the window's max (micro);
  ;; winograd_tiles' tiles are the windows
  (global $POOL i32 (i32.const 16))
  ;; k steps summed in float32 before the float64 sums take them
  (global $KCH i32 (i32.const 128))
;; A product with at most this many panels in a chunk (N <= 192) reads a
  ;; plain A's rows where they lie (micro's lda) instead of packing them
  ;; (gemm's notes). Measured on one thread, 1x1 convolutions: K 144, N 24
  ;; 0.607 -> 0.513 ms; K 32, N 16 0.368 -> 0.289; K 256, N 64 2.31 -> 2.18;
  ;; N 256 even; from N 512 (K 128 to 768) packing was 2-5% faster, its one
  ;; stream of A ahead of four rows' a K apart.
  (global $DIRECT_PANELS i32 (i32.const 24))
  ;; whole panels pack_b packs together, row by row (its notes)
  (global $PACK_GROUP i32 (i32.const 16))
  ;; Winograd's kernel transform halves sums
  (global $HALF4 v128 (v128.const f32x4 0.5 0.5 0.5 0.5))
  ;; Bytes between one of Winograd's 16 blocks (U_xi, V_xi, M_xi) and the
  ;; next, past its end: the transforms read or write all 16 at once, and
  ;; blocks a multiple of 4 KiB apart would all fall in the same L1 set.
  (global $U_SKEW i32 (i32.const 64))

  ;; The float64 whose bits are lo (low 32) and hi (high 32): how a range job,
  ;; which passes i32s, passes one (index.ts f64Halves).
  (func $f64_of (param $lo i32) (param $hi i32) (result f64)
    (f64.reinterpret_i64 (i64.or (i64.extend_i32_u (local.get $lo)) (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32)))))

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
  ;; Whole panels of a stored [K,N] B go PACK_GROUP at a time, row by row:
  ;; each row's 8*PACK_GROUP contiguous columns to the group's panels. One
  ;; panel at a time read 32 bytes from each of K rows N*4 bytes apart, a
  ;; page apart for N >= 1024, so nearly every read missed the TLB: packing
  ;; a [768, 3072] B took 8.5 ms, ten times a copy of it.
  (func $pack_b (export "pack_b")
    (param $b i32) (param $transB i32) (param $K i32) (param $N i32)
    (param $pb i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $j0 i32) (local $nr i32) (local $dst i32) (local $k i32) (local $j i32)
    (local $src i32) (local $rb i32) (local $addr i32) (local $whole i32) (local $g1 i32) (local $panelBytes i32)
    (local.set $rb (i32.shl (local.get $K) (i32.const 2)))
    (local.set $p (local.get $p0))
    (if (i32.eqz (local.get $transB))
      (then
        (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
        ;; panels [p0, whole) have all 8 columns
        (local.set $whole (i32.shr_u (local.get $N) (i32.const 3)))
        (if (i32.gt_s (local.get $whole) (local.get $p1)) (then (local.set $whole (local.get $p1))))
        (block $groups_done
          (loop $groups
            (br_if $groups_done (i32.or (i32.ge_s (local.get $p) (local.get $whole)) (i32.eqz (local.get $K))))
            (local.set $g1 (i32.add (local.get $p) (global.get $PACK_GROUP)))
            (if (i32.gt_s (local.get $g1) (local.get $whole)) (then (local.set $g1 (local.get $whole))))
            (local.set $k (i32.const 0))
            (loop $group_rows
              (local.set $src (i32.add (local.get $b)
                (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (i32.shl (local.get $p) (i32.const 3))) (i32.const 2))))
              (local.set $dst (i32.add (local.get $pb)
                (i32.add (i32.mul (local.get $p) (local.get $panelBytes)) (i32.shl (local.get $k) (i32.const 5)))))
              (local.set $j (local.get $p))
              (loop $group_panels
                (v128.store align=4 (local.get $dst) (v128.load align=4 (local.get $src)))
                (v128.store offset=16 align=4 (local.get $dst) (v128.load offset=16 align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.const 32)))
                (local.set $dst (i32.add (local.get $dst) (local.get $panelBytes)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $group_panels (i32.lt_s (local.get $j) (local.get $g1))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $group_rows (i32.lt_s (local.get $k) (local.get $K))))
            (local.set $p (local.get $g1))
            (br $groups)))))
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
  ;; bytes hold the float64 sums of K > KCH. With K <= KCH and `out` not 0,
  ;; the block goes straight to C's four rows at `out` (`ldc` bytes apart)
  ;; instead, through store's epilogue without accumulation: + bias (its 8
  ;; columns at `bias`) and relu or relu6 by `flags`, the same operations.
  ;; With `offs` not 0 (conv_taps, K <= KCH), there is no strip: `pa` holds
  ;; the four rows' base addresses (i32), and row r's value k is read at
  ;; b_r + offs[k] (a tap table of i32 byte offsets), in the same order.
  ;; With `lda` not 0, there is no strip either: `pa` is row 0's first value
  ;; of an unpacked row-major A, and row r's value k is at pa + r*lda + 4k.
  ;; With `strips` above 1 (a block stored straight into C, no tap table),
  ;; the strips after it (the next `pa`: K*16 bytes on, or 4 rows down with
  ;; `lda`) go against the same panel into the next rows of C, in this call:
  ;; a call and its setup per 4x8 block cost an eighth of a product with K
  ;; 16 (112x112x16 to 96 channels, one thread: 0.943 -> 0.819 ms).
  (func $micro (param $pa i32) (param $pb i32) (param $K i32) (param $tile i32) (param $out i32) (param $ldc i32)
    (param $bias i32) (param $flags i32) (param $offs i32) (param $lda i32) (param $strips i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128)
    (local $end i32) (local $chunkEnd i32) (local $single i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $off i32) (local $kShift i32)
    (local $pa0 i32) (local $pb0 i32)
    ;; a k step moves pa by a packed strip's 16 bytes, or by one value of a row
    (local.set $kShift (select (i32.const 2) (i32.const 4) (local.get $lda)))
    (local.set $pb0 (local.get $pb))
    (loop $next_strip
    (local.set $pa0 (local.get $pa))
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $K) (local.get $kShift))))
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
        (local.set $chunkEnd (i32.add (local.get $pa) (i32.shl (global.get $KCH) (local.get $kShift))))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $end)) (then (local.set $chunkEnd (local.get $end))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0))
        (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0))
        (local.set $c31 (v128.const i32x4 0 0 0 0))
        (if (local.get $offs)
          (then
            ;; rows read through the tap table: one chunk (K <= KCH)
            (local.set $r0 (i32.load offset=0 (local.get $pa)))
            (local.set $r1 (i32.load offset=4 (local.get $pa)))
            (local.set $r2 (i32.load offset=8 (local.get $pa)))
            (local.set $r3 (i32.load offset=12 (local.get $pa)))
            (local.set $chunkEnd (i32.add (local.get $offs) (i32.shl (local.get $K) (i32.const 2))))
            (loop $taps
              (local.set $off (i32.load (local.get $offs)))
              (local.set $b0 (v128.load offset=0 (local.get $pb)))
              (local.set $b1 (v128.load offset=16 (local.get $pb)))
              (local.set $a (v128.load32_splat (i32.add (local.get $r0) (local.get $off))))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $r1) (local.get $off))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $r2) (local.get $off))))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $r3) (local.get $off))))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $offs (i32.add (local.get $offs) (i32.const 4)))
              (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
              (br_if $taps (i32.lt_u (local.get $offs) (local.get $chunkEnd)))))
          (else (if (local.get $lda)
          (then
            ;; rows read where they lie: row r's value at pa + r*lda (r1..r3 hold the offsets)
            (local.set $r1 (local.get $lda))
            (local.set $r2 (i32.shl (local.get $lda) (i32.const 1)))
            (local.set $r3 (i32.add (local.get $r2) (local.get $lda)))
            (loop $k_rows
              (local.set $b0 (v128.load offset=0 (local.get $pb)))
              (local.set $b1 (v128.load offset=16 (local.get $pb)))
              (local.set $a (v128.load32_splat (local.get $pa)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $r1))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $r2))))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat (i32.add (local.get $pa) (local.get $r3))))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
              (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
              (br_if $k_rows (i32.lt_u (local.get $pa) (local.get $chunkEnd)))))
          (else
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
          (br_if $k (i32.lt_u (local.get $pa) (local.get $chunkEnd))))))))
        ;; one chunk is all of K: the float32 sums are the result
        (if (i32.and (local.get $single) (i32.ne (local.get $out) (i32.const 0)))
          (then
            ;; store's epilogue in registers (its notes)
            (if (i32.and (local.get $flags) (global.get $BIAS))
              (then
                (local.set $b0 (v128.load offset=0 align=4 (local.get $bias)))
                (local.set $b1 (v128.load offset=16 align=4 (local.get $bias)))
                (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))
                (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
                (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0)))
                (local.set $c11 (f32x4.add (local.get $c11) (local.get $b1)))
                (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0)))
                (local.set $c21 (f32x4.add (local.get $c21) (local.get $b1)))
                (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0)))
                (local.set $c31 (f32x4.add (local.get $c31) (local.get $b1)))))
            (if (i32.and (local.get $flags) (global.get $RELU))
              (then
                (local.set $c00 (f32x4.pmax (local.get $c00) (v128.const f32x4 0 0 0 0)))
                (local.set $c01 (f32x4.pmax (local.get $c01) (v128.const f32x4 0 0 0 0)))
                (local.set $c10 (f32x4.pmax (local.get $c10) (v128.const f32x4 0 0 0 0)))
                (local.set $c11 (f32x4.pmax (local.get $c11) (v128.const f32x4 0 0 0 0)))
                (local.set $c20 (f32x4.pmax (local.get $c20) (v128.const f32x4 0 0 0 0)))
                (local.set $c21 (f32x4.pmax (local.get $c21) (v128.const f32x4 0 0 0 0)))
                (local.set $c30 (f32x4.pmax (local.get $c30) (v128.const f32x4 0 0 0 0)))
                (local.set $c31 (f32x4.pmax (local.get $c31) (v128.const f32x4 0 0 0 0)))))
            (if (i32.and (local.get $flags) (global.get $RELU6))
              (then
                (local.set $c00 (call $relu6_4 (local.get $c00)))
                (local.set $c01 (call $relu6_4 (local.get $c01)))
                (local.set $c10 (call $relu6_4 (local.get $c10)))
                (local.set $c11 (call $relu6_4 (local.get $c11)))
                (local.set $c20 (call $relu6_4 (local.get $c20)))
                (local.set $c21 (call $relu6_4 (local.get $c21)))
                (local.set $c30 (call $relu6_4 (local.get $c30)))
                (local.set $c31 (call $relu6_4 (local.get $c31)))))
            (if (i32.and (local.get $flags) (global.get $POOL))
              (then
                ;; the four rows are a pool window's cells in row-major order: their max
                ;; as max_pool takes it (pmax from -inf, so NaN cells are skipped alike)
                (v128.store offset=0 align=4 (local.get $out)
                  (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                    (local.get $c00)) (local.get $c10)) (local.get $c20)) (local.get $c30)))
                (v128.store offset=16 align=4 (local.get $out)
                  (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                    (local.get $c01)) (local.get $c11)) (local.get $c21)) (local.get $c31)))
                (return)))
            (v128.store offset=0 align=4 (local.get $out) (local.get $c00))
            (v128.store offset=16 align=4 (local.get $out) (local.get $c01))
            (local.set $out (i32.add (local.get $out) (local.get $ldc)))
            (v128.store offset=0 align=4 (local.get $out) (local.get $c10))
            (v128.store offset=16 align=4 (local.get $out) (local.get $c11))
            (local.set $out (i32.add (local.get $out) (local.get $ldc)))
            (v128.store offset=0 align=4 (local.get $out) (local.get $c20))
            (v128.store offset=16 align=4 (local.get $out) (local.get $c21))
            (local.set $out (i32.add (local.get $out) (local.get $ldc)))
            (v128.store offset=0 align=4 (local.get $out) (local.get $c30))
            (v128.store offset=16 align=4 (local.get $out) (local.get $c31))
            (if (i32.gt_s (local.get $strips) (i32.const 1))
              (then
                (local.set $strips (i32.sub (local.get $strips) (i32.const 1)))
                (local.set $pa (i32.add (local.get $pa0)
                  (select (i32.shl (local.get $lda) (i32.const 2)) (i32.shl (local.get $K) (i32.const 4)) (local.get $lda))))
                (local.set $pb (local.get $pb0))
                (local.set $out (i32.add (local.get $out) (local.get $ldc)))
                (br $next_strip)))
            (return)))
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
        ;; each written out (t[0..3] (float64) += v): a function taking a v128
        ;; argument, called eight times, cost 4-8% of products with K > KCH
        (v128.store offset=128 (local.get $tile)
          (f64x2.add (v128.load offset=128 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c00))))
        (v128.store offset=144 (local.get $tile)
          (f64x2.add (v128.load offset=144 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c00) (local.get $c00)))))
        (v128.store offset=160 (local.get $tile)
          (f64x2.add (v128.load offset=160 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c01))))
        (v128.store offset=176 (local.get $tile)
          (f64x2.add (v128.load offset=176 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c01) (local.get $c01)))))
        (v128.store offset=192 (local.get $tile)
          (f64x2.add (v128.load offset=192 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c10))))
        (v128.store offset=208 (local.get $tile)
          (f64x2.add (v128.load offset=208 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c10) (local.get $c10)))))
        (v128.store offset=224 (local.get $tile)
          (f64x2.add (v128.load offset=224 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c11))))
        (v128.store offset=240 (local.get $tile)
          (f64x2.add (v128.load offset=240 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c11) (local.get $c11)))))
        (v128.store offset=256 (local.get $tile)
          (f64x2.add (v128.load offset=256 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c20))))
        (v128.store offset=272 (local.get $tile)
          (f64x2.add (v128.load offset=272 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c20) (local.get $c20)))))
        (v128.store offset=288 (local.get $tile)
          (f64x2.add (v128.load offset=288 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c21))))
        (v128.store offset=304 (local.get $tile)
          (f64x2.add (v128.load offset=304 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c21) (local.get $c21)))))
        (v128.store offset=320 (local.get $tile)
          (f64x2.add (v128.load offset=320 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c30))))
        (v128.store offset=336 (local.get $tile)
          (f64x2.add (v128.load offset=336 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c30) (local.get $c30)))))
        (v128.store offset=352 (local.get $tile)
          (f64x2.add (v128.load offset=352 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c31))))
        (v128.store offset=368 (local.get $tile)
          (f64x2.add (v128.load offset=368 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c31) (local.get $c31)))))
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
      (f32x4.demote_f64x2_zero (v128.load offset=368 (local.get $tile)))))))

;; One row of a strip against four panels: the 32 values row[0..31] =
  ;; a . panels[p .. p+3], for the rows of a last strip that M leaves short
  ;; (M % 4: a 7x7 map at batch 1 has 49 rows, a dense layer at batch 2 two).
  ;; The 4x8 block there multiplies zero rows too (3 of 4 at M = 49), and one
  ;; row against one panel has two accumulators, whose chains of dependent
  ;; multiply-adds leave the core idle; against four panels, eight, as micro.
  ;; `a` is the row's first value in a packed strip (values 16 bytes apart),
  ;; `pb` the first panel's (the others `panelBytes` on). The sums are
  ;; micro's, in the same order (float32 over KCH steps, then float64), so
  ;; each value has the bits it has in the 4x8 block. Out: float32 [4][8] at
  ;; `tile` (one panel's 8 values a 32-byte row, as store reads a one-row
  ;; tile), above it float64 sums (256 bytes).
  (func $micro_row (param $a i32) (param $pb i32) (param $panelBytes i32) (param $K i32) (param $tile i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $av v128) (local $end i32) (local $chunkEnd i32) (local $single i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $q i32)
    (local.set $p1 (local.get $panelBytes))
    (local.set $p2 (i32.shl (local.get $panelBytes) (i32.const 1)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $panelBytes)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $K) (i32.const 4))))
    (local.set $single (i32.and (i32.gt_s (local.get $K) (i32.const 0)) (i32.le_s (local.get $K) (global.get $KCH))))
    (if (i32.eqz (local.get $single))
      (then (memory.fill (i32.add (local.get $tile) (i32.const 128)) (i32.const 0) (i32.const 256))))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $chunkEnd (i32.add (local.get $a) (i32.shl (global.get $KCH) (i32.const 4))))
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
          (local.set $av (v128.load32_splat (local.get $a)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (v128.load offset=0 (local.get $pb)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (v128.load offset=16 (local.get $pb)))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (v128.load offset=0 (i32.add (local.get $pb) (local.get $p1))))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (v128.load offset=16 (i32.add (local.get $pb) (local.get $p1))))))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (v128.load offset=0 (i32.add (local.get $pb) (local.get $p2))))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (v128.load offset=16 (i32.add (local.get $pb) (local.get $p2))))))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (v128.load offset=0 (i32.add (local.get $pb) (local.get $p3))))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (v128.load offset=16 (i32.add (local.get $pb) (local.get $p3))))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (br_if $k (i32.lt_u (local.get $a) (local.get $chunkEnd))))
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
        ;; the float64 sums += the chunk's, widened, as micro adds them
        (v128.store offset=128 (local.get $tile)
          (f64x2.add (v128.load offset=128 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c00))))
        (v128.store offset=144 (local.get $tile)
          (f64x2.add (v128.load offset=144 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c00) (local.get $c00)))))
        (v128.store offset=160 (local.get $tile)
          (f64x2.add (v128.load offset=160 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c01))))
        (v128.store offset=176 (local.get $tile)
          (f64x2.add (v128.load offset=176 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c01) (local.get $c01)))))
        (v128.store offset=192 (local.get $tile)
          (f64x2.add (v128.load offset=192 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c10))))
        (v128.store offset=208 (local.get $tile)
          (f64x2.add (v128.load offset=208 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c10) (local.get $c10)))))
        (v128.store offset=224 (local.get $tile)
          (f64x2.add (v128.load offset=224 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c11))))
        (v128.store offset=240 (local.get $tile)
          (f64x2.add (v128.load offset=240 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c11) (local.get $c11)))))
        (v128.store offset=256 (local.get $tile)
          (f64x2.add (v128.load offset=256 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c20))))
        (v128.store offset=272 (local.get $tile)
          (f64x2.add (v128.load offset=272 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c20) (local.get $c20)))))
        (v128.store offset=288 (local.get $tile)
          (f64x2.add (v128.load offset=288 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c21))))
        (v128.store offset=304 (local.get $tile)
          (f64x2.add (v128.load offset=304 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c21) (local.get $c21)))))
        (v128.store offset=320 (local.get $tile)
          (f64x2.add (v128.load offset=320 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c30))))
        (v128.store offset=336 (local.get $tile)
          (f64x2.add (v128.load offset=336 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c30) (local.get $c30)))))
        (v128.store offset=352 (local.get $tile)
          (f64x2.add (v128.load offset=352 (local.get $tile)) (f64x2.promote_low_f32x4 (local.get $c31))))
        (v128.store offset=368 (local.get $tile)
          (f64x2.add (v128.load offset=368 (local.get $tile))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c31) (local.get $c31)))))
        (br $chunk)))
    ;; round the float64 sums to the float32 rows
    (loop $round
      (v128.store (i32.add (local.get $tile) (local.get $q)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (v128.load offset=128 (i32.add (local.get $tile) (i32.shl (local.get $q) (i32.const 1)))))
        (f32x4.demote_f64x2_zero (v128.load offset=144 (i32.add (local.get $tile) (i32.shl (local.get $q) (i32.const 1)))))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br_if $round (i32.lt_u (local.get $q) (i32.const 128)))))

;; The `mr` (< 4) rows of a short last strip (packed at `strip`) against
  ;; panels p .. p+3 (the first at `panel`), each row through micro_row and
  ;; store's epilogue into C's rows i0 .. i0+mr-1.
  (func $short_strip (param $strip i32) (param $mr i32) (param $panel i32) (param $panelBytes i32) (param $K i32)
    (param $tile i32) (param $c i32) (param $N i32) (param $i0 i32) (param $p i32) (param $bias i32) (param $flags i32)
    (local $r i32) (local $q i32) (local $nr i32)
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_s (local.get $r) (local.get $mr)))
        (call $micro_row (i32.add (local.get $strip) (i32.shl (local.get $r) (i32.const 2))) (local.get $panel)
          (local.get $panelBytes) (local.get $K) (local.get $tile))
        (local.set $q (i32.const 0))
        (loop $panels
          (local.set $nr (i32.sub (local.get $N) (i32.shl (i32.add (local.get $p) (local.get $q)) (i32.const 3))))
          (if (i32.gt_s (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
          (call $store (i32.add (local.get $tile) (i32.shl (local.get $q) (i32.const 5))) (local.get $c) (local.get $N)
            (i32.add (local.get $i0) (local.get $r)) (i32.shl (i32.add (local.get $p) (local.get $q)) (i32.const 3))
            (i32.const 1) (local.get $nr) (local.get $bias) (local.get $flags))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $panels (i32.lt_u (local.get $q) (i32.const 4))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

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
              (local.set $v0 (f32x4.pmax (local.get $v0) (v128.const f32x4 0 0 0 0)))
              (local.set $v1 (f32x4.pmax (local.get $v1) (v128.const f32x4 0 0 0 0)))))
          (if (i32.and (local.get $flags) (global.get $RELU6))
            (then
              ;; min(max(x, 0), 6) as the TS kernel's Math.min and Math.max: NaN stays, -0 becomes 0
              (local.set $v0 (call $relu6_4 (local.get $v0)))
              (local.set $v1 (call $relu6_4 (local.get $v1)))))
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
            (if (i32.and (local.get $flags) (global.get $RELU6))
              (then (local.set $x (f32.min (f32.max (local.get $x) (f32.const 0)) (f32.const 6)))))
            (f32.store (local.get $addr) (local.get $x))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $N) (i32.const 2))))
        (local.set $t (i32.add (local.get $t) (i32.const 32)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Where the window of im2col row (output position) p starts: (y, x) =
  ;; (oy*sh - pt, ox*sw - pl), and m = b*H, the image's first row. A row past
  ;; M gets a window far above the image, so that every cell reads as padding.
  (func $origin (param $d i32) (param $p i32) (param $M i32) (result i32 i32 i32)
    (local $t i32) (local $OW i32) (local $OH i32) (local $y i32)
    (local.set $OH (i32.load offset=24 (local.get $d)))
    (local.set $OW (i32.load offset=28 (local.get $d)))
    (local.set $t (i32.div_u (local.get $p) (local.get $OW)))
    (local.set $y (i32.sub
      (i32.mul (i32.rem_u (local.get $t) (local.get $OH)) (i32.load offset=32 (local.get $d)))
      (i32.load offset=48 (local.get $d))))
    (if (i32.ge_u (local.get $p) (local.get $M)) (then (local.set $y (i32.const -1073741824))))
    (local.get $y)
    (i32.sub
      (i32.mul (i32.sub (local.get $p) (i32.mul (local.get $t) (local.get $OW))) (i32.load offset=36 (local.get $d)))
      (i32.load offset=52 (local.get $d)))
    (i32.mul (i32.div_u (local.get $t) (local.get $OH)) (i32.load offset=4 (local.get $d))))

  ;; One im2col row's source for kernel cell (ky, kx): the address of the C
  ;; input values the window at (y0, x0) of image row `img` (= b*H) reads there,
  ;; or the descriptor's zeros when the cell is padding.
  (func $cell (param $d i32) (param $y0 i32) (param $x0 i32) (param $img i32) (param $ky i32) (param $kx i32) (result i32)
    (local $iy i32) (local $ix i32)
    (local.set $iy (i32.add (local.get $y0) (i32.mul (local.get $ky) (i32.load offset=40 (local.get $d)))))
    (local.set $ix (i32.add (local.get $x0) (i32.mul (local.get $kx) (i32.load offset=44 (local.get $d)))))
    (if (result i32) (i32.and
          (i32.lt_u (local.get $iy) (i32.load offset=4 (local.get $d)))
          (i32.lt_u (local.get $ix) (i32.load offset=8 (local.get $d))))
      (then (i32.add (i32.load (local.get $d))
        (i32.shl (i32.mul (i32.add (i32.mul (i32.add (local.get $img) (local.get $iy)) (i32.load offset=8 (local.get $d))) (local.get $ix))
          (i32.load offset=12 (local.get $d))) (i32.const 2))))
      (else (i32.load offset=56 (local.get $d)))))

  ;; Pack rows i0..i0+3 of the im2col matrix of a convolution into a strip at
  ;; dst, as pack_a does for a stored matrix, reading the input directly. Row p
  ;; is output position p = (b*OH + oy)*OW + ox; its K = kh*kw*C values are, in
  ;; the kernel's order, x[b, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c], zero
  ;; outside the image (and for rows past M). The descriptor d (gemm.ts) holds
  ;; i32s: x, H, W, C, kh, kw, OH, OW, sh, sw, dh, dw, pt, pl, zeros (C zero
  ;; floats). With C a multiple of 4, four channels of the four rows at a time,
  ;; transposed; else one value at a time.
  (func $pack_a_conv (param $d i32) (param $M i32) (param $i0 i32) (param $dst i32)
    (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $m0 i32) (local $m1 i32) (local $m2 i32) (local $m3 i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $ky i32) (local $kx i32) (local $kh i32) (local $kw i32) (local $C i32) (local $cb i32)
    (local $c i32) (local $out i32)
    (local $same i32) (local $step i32) (local $H i32) (local $W i32) (local $iy i32) (local $ix i32)
    (local.set $kh (i32.load offset=16 (local.get $d)))
    (local.set $kw (i32.load offset=20 (local.get $d)))
    (local.set $C (i32.load offset=12 (local.get $d)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (call $origin (local.get $d) (local.get $i0) (local.get $M))
    (local.set $m0) (local.set $x0) (local.set $y0)
    (call $origin (local.get $d) (i32.add (local.get $i0) (i32.const 1)) (local.get $M))
    (local.set $m1) (local.set $x1) (local.set $y1)
    (call $origin (local.get $d) (i32.add (local.get $i0) (i32.const 2)) (local.get $M))
    (local.set $m2) (local.set $x2) (local.set $y2)
    (call $origin (local.get $d) (i32.add (local.get $i0) (i32.const 3)) (local.get $M))
    (local.set $m3) (local.set $x3) (local.set $y3)
    ;; the usual case: four neighbours on one output row, windows sw apart
    (local.set $same (i32.and (i32.eq (local.get $y0) (local.get $y3)) (i32.eq (local.get $m0) (local.get $m3))))
    (local.set $step (i32.mul (i32.sub (local.get $x1) (local.get $x0)) (local.get $cb)))
    (local.set $H (i32.load offset=4 (local.get $d)))
    (local.set $W (i32.load offset=8 (local.get $d)))
    (local.set $out (local.get $dst))
    (local.set $ky (i32.const 0))
    (loop $kys
      (local.set $iy (i32.add (local.get $y0) (i32.mul (local.get $ky) (i32.load offset=40 (local.get $d)))))
      (local.set $kx (i32.const 0))
      (loop $kxs
        (local.set $ix (i32.add (local.get $x0) (i32.mul (local.get $kx) (i32.load offset=44 (local.get $d)))))
        (if (i32.and (i32.and (local.get $same) (i32.lt_u (local.get $iy) (local.get $H)))
              (i32.and (i32.ge_s (local.get $ix) (i32.const 0))
                (i32.lt_s (i32.add (local.get $ix) (i32.sub (local.get $x3) (local.get $x0))) (local.get $W))))
          (then
            ;; all four cells inside the image: one address, then steps
            (local.set $s0 (i32.add (i32.load (local.get $d))
              (i32.mul (i32.add (i32.mul (i32.add (local.get $m0) (local.get $iy)) (local.get $W)) (local.get $ix)) (local.get $cb))))
            (local.set $s1 (i32.add (local.get $s0) (local.get $step)))
            (local.set $s2 (i32.add (local.get $s1) (local.get $step)))
            (local.set $s3 (i32.add (local.get $s2) (local.get $step))))
          (else
            (local.set $s0 (call $cell (local.get $d) (local.get $y0) (local.get $x0) (local.get $m0) (local.get $ky) (local.get $kx)))
            (local.set $s1 (call $cell (local.get $d) (local.get $y1) (local.get $x1) (local.get $m1) (local.get $ky) (local.get $kx)))
            (local.set $s2 (call $cell (local.get $d) (local.get $y2) (local.get $x2) (local.get $m2) (local.get $ky) (local.get $kx)))
            (local.set $s3 (call $cell (local.get $d) (local.get $y3) (local.get $x3) (local.get $m3) (local.get $ky) (local.get $kx)))))
        (local.set $c (i32.const 0))
        (if (i32.eqz (i32.and (local.get $C) (i32.const 3)))
          (then
            (loop $quads
              (call $tr4
                (i32.add (local.get $s0) (local.get $c)) (i32.add (local.get $s1) (local.get $c))
                (i32.add (local.get $s2) (local.get $c)) (i32.add (local.get $s3) (local.get $c))
                (local.get $out) (i32.const 16))
              (local.set $out (i32.add (local.get $out) (i32.const 64)))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br_if $quads (i32.lt_u (local.get $c) (local.get $cb)))))
          (else
            (loop $singles
              (f32.store offset=0 (local.get $out) (f32.load (i32.add (local.get $s0) (local.get $c))))
              (f32.store offset=4 (local.get $out) (f32.load (i32.add (local.get $s1) (local.get $c))))
              (f32.store offset=8 (local.get $out) (f32.load (i32.add (local.get $s2) (local.get $c))))
              (f32.store offset=12 (local.get $out) (f32.load (i32.add (local.get $s3) (local.get $c))))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br_if $singles (i32.lt_u (local.get $c) (local.get $cb))))))
        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
        (br_if $kxs (i32.lt_u (local.get $kx) (local.get $kw))))
      (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
      (br_if $kys (i32.lt_u (local.get $ky) (local.get $kh)))))

  ;; Pack rows i0..i0+3 of the transposed im2col matrix (rows: the K' = kh*kw*C
  ;; kernel entries d = (ky*kw + kx)*C + c; columns: the output positions p < P)
  ;; into a strip at dst, reading the input directly: element (r, p) is
  ;; x[b, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] for d = i0 + r, zero for
  ;; padding and rows past M. Used for a convolution's kernel gradient
  ;; im2col(x)^T dz. With C a multiple of 4 the four rows are four channels of
  ;; one cell: one load per position; else one value at a time.
  (func $pack_at_conv (param $d i32) (param $M i32) (param $P i32) (param $i0 i32) (param $dst i32)
    (local $H i32) (local $W i32) (local $C i32) (local $cb i32) (local $kw i32) (local $OH i32) (local $OW i32)
    (local $sh i32) (local $sw i32) (local $step i32) (local $quad i32)
    (local $r i32) (local $row i32) (local $cell i32) (local $c i32) (local $dy i32) (local $dx i32)
    (local $img i32) (local $oy i32) (local $ox i32) (local $iy i32) (local $ix i32) (local $at i32) (local $out i32)
    (local $inside i32) (local $images i32)
    (local.set $H (i32.load offset=4 (local.get $d)))
    (local.set $W (i32.load offset=8 (local.get $d)))
    (local.set $C (i32.load offset=12 (local.get $d)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $kw (i32.load offset=20 (local.get $d)))
    (local.set $OH (i32.load offset=24 (local.get $d)))
    (local.set $OW (i32.load offset=28 (local.get $d)))
    (local.set $sh (i32.load offset=32 (local.get $d)))
    (local.set $sw (i32.load offset=36 (local.get $d)))
    (local.set $step (i32.mul (local.get $sw) (local.get $cb)))
    (local.set $images (i32.div_u (local.get $P) (i32.mul (local.get $OH) (local.get $OW))))
    (local.set $quad (i32.eqz (i32.and (local.get $C) (i32.const 3))))
    (local.set $r (i32.const 0))
    (loop $rows
      ;; this row's kernel entry: cell (ky, kx) as offsets (dy, dx), channel byte offset c
      (local.set $row (i32.add (local.get $i0) (local.get $r)))
      (local.set $cell (i32.div_u (local.get $row) (local.get $C)))
      (local.set $c (i32.shl (i32.sub (local.get $row) (i32.mul (local.get $cell) (local.get $C))) (i32.const 2)))
      (local.set $dy (i32.mul (i32.div_u (local.get $cell) (local.get $kw)) (i32.load offset=40 (local.get $d))))
      (local.set $dx (i32.mul (i32.rem_u (local.get $cell) (local.get $kw)) (i32.load offset=44 (local.get $d))))
      (local.set $out (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $img (i32.const 0))
      (block $images_done
        (loop $images_loop
          (br_if $images_done (i32.ge_u (local.get $img) (local.get $images)))
          (local.set $oy (i32.const 0))
          (loop $oys
            (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (i32.load offset=48 (local.get $d))) (local.get $dy)))
            ;; the row's first window cell; inside: the row is in the image and the entry is a real row of A
            (local.set $ix (i32.sub (local.get $dx) (i32.load offset=52 (local.get $d))))
            (local.set $inside (i32.and (i32.lt_u (local.get $iy) (local.get $H)) (i32.lt_u (local.get $row) (local.get $M))))
            (local.set $at (i32.add (i32.add (i32.load (local.get $d))
              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $img) (local.get $H)) (local.get $iy)) (local.get $W)) (local.get $ix)) (local.get $cb)))
              (local.get $c)))
            (local.set $ox (i32.const 0))
            (loop $oxs
              (if (local.get $quad)
                (then (v128.store (local.get $out)
                  (if (result v128) (i32.and (local.get $inside) (i32.lt_u (local.get $ix) (local.get $W)))
                    (then (v128.load align=4 (local.get $at))) (else (v128.const i32x4 0 0 0 0)))))
                (else (f32.store (local.get $out)
                  (if (result f32) (i32.and (local.get $inside) (i32.lt_u (local.get $ix) (local.get $W)))
                    (then (f32.load (local.get $at))) (else (f32.const 0))))))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (local.set $at (i32.add (local.get $at) (local.get $step)))
              (local.set $ix (i32.add (local.get $ix) (local.get $sw)))
              (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
              (br_if $oxs (i32.lt_u (local.get $ox) (local.get $OW))))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br_if $oys (i32.lt_u (local.get $oy) (local.get $OH))))
          (local.set $img (i32.add (local.get $img) (i32.const 1)))
          (br $images_loop)))
      ;; the four rows share a cell when C is a multiple of 4: one pass did them all
      (local.set $r (i32.add (local.get $r) (select (i32.const 4) (i32.const 1) (local.get $quad))))
      (br_if $rows (i32.lt_u (local.get $r) (i32.const 4)))))

;; A small convolution (K = kh*kw*C <= KCH, the descriptor's tap table at
  ;; offset 60) without packing its im2col rows: for rows i0..i0+3 whose windows
  ;; lie wholly inside the image, micro reads each value straight from x, at
  ;; the row's window origin plus the tap's byte offset (taps[t] =
  ;; ((ky*dh*W + kx*dw)*C + c)*4), the four origins at scratch. Other rows
  ;; (padding, rows past M) are packed as pack_a_conv packs them, into a strip
  ;; at scratch. Same k order and float32 sums as micro on a packed strip, so
  ;; the same results; with C = 1 packing cost as much as the multiply-adds.
  ;; A whole 4x8 block that does not accumulate goes straight into C, through
  ;; micro's epilogue (a first layer's store was a quarter of its time).
  ;; Rows [r0, r1) (r0 a multiple of 4) against panels [p0, p1), one strip at
  ;; a time; the tile follows the strip at scratch.
  ;; With POOL in flags, the four rows from i0 are the 2x2 window of pooled
  ;; output i0/4 (a max pool of stride 2 over the convolution's output, B x
  ;; OH/2 x OW/2 of them, rounded down), and C's row i0/4 gets their max
  ;; after the epilogue: the caller sees to it that every window lies inside
  ;; the image and N is a multiple of 8, so every block goes straight to C.
  (func $conv_taps
    (param $d i32) (param $pb i32) (param $c i32) (param $bias i32)
    (param $M i32) (param $K i32) (param $N i32) (param $flags i32)
    (param $r0 i32) (param $r1 i32) (param $p0 i32) (param $p1 i32) (param $scratch i32)
    (local $i0 i32) (local $p i32) (local $tile i32) (local $taps i32) (local $offs i32)
    (local $y i32) (local $x i32) (local $m i32) (local $r i32) (local $inside i32)
    (local $spanY i32) (local $spanX i32) (local $H i32) (local $W i32) (local $cb i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $mr i32) (local $nr i32) (local $panel i32) (local $panelBytes i32) (local $direct i32)
    (local $sw i32) (local $xEnd i32)
    (local $pool i32) (local $sh i32) (local $OH i32) (local $OW i32) (local $PH i32) (local $PW i32)
    (local $q i32) (local $t i32) (local $x0 i32) (local $y0 i32)
    (local.set $tile (i32.add (local.get $scratch) (i32.shl (local.get $K) (i32.const 4))))
    (local.set $taps (i32.load offset=60 (local.get $d)))
    (local.set $pool (i32.and (local.get $flags) (global.get $POOL)))
    (local.set $sh (i32.load offset=32 (local.get $d)))
    (local.set $OH (i32.load offset=24 (local.get $d)))
    (local.set $OW (i32.load offset=28 (local.get $d)))
    (local.set $PH (i32.shr_u (local.get $OH) (i32.const 1)))
    (local.set $PW (i32.shr_u (local.get $OW) (i32.const 1)))
    (local.set $H (i32.load offset=4 (local.get $d)))
    (local.set $W (i32.load offset=8 (local.get $d)))
    (local.set $cb (i32.shl (i32.load offset=12 (local.get $d)) (i32.const 2)))
    ;; a window's extent past its origin cell
    (local.set $spanY (i32.mul (i32.sub (i32.load offset=16 (local.get $d)) (i32.const 1)) (i32.load offset=40 (local.get $d))))
    (local.set $spanX (i32.mul (i32.sub (i32.load offset=20 (local.get $d)) (i32.const 1)) (i32.load offset=44 (local.get $d))))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
    ;; window origins (x) of an output row lie below xEnd = OW*sw - pl
    (local.set $sw (i32.load offset=36 (local.get $d)))
    (local.set $xEnd (i32.sub (i32.mul (i32.load offset=28 (local.get $d)) (local.get $sw)) (i32.load offset=52 (local.get $d))))
    (local.set $i0 (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_s (local.get $i0) (local.get $r1)))
        ;; the four rows' window origins, and whether every window is inside
        (local.set $inside (i32.const 1))
        (local.set $r (i32.const 0))
        (if (local.get $pool)
          (then
            ;; the window's first cell, output (2 py, 2 px) of image b, for pooled row i0/4 = (b*PH + py)*PW + px
            (local.set $q (i32.shr_u (local.get $i0) (i32.const 2)))
            (local.set $t (i32.div_u (local.get $q) (local.get $PW)))
            (call $origin (local.get $d)
              (i32.add
                (i32.mul (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $PH)) (local.get $OH))
                  (i32.shl (i32.rem_u (local.get $t) (local.get $PH)) (i32.const 1))) (local.get $OW))
                (i32.shl (i32.sub (local.get $q) (i32.mul (local.get $t) (local.get $PW))) (i32.const 1)))
              (i32.const 0x7fffffff))
            (local.set $m) (local.set $x0) (local.set $y0)))
        (loop $origins
          (if (local.get $pool)
            (then
              ;; cells (0, 0), (0, 1), (1, 0), (1, 1) of the window
              (local.set $y (i32.add (local.get $y0) (select (local.get $sh) (i32.const 0) (i32.ge_u (local.get $r) (i32.const 2)))))
              (local.set $x (i32.add (local.get $x0) (select (local.get $sw) (i32.const 0) (i32.and (local.get $r) (i32.const 1))))))
            (else
              ;; the next window along the output row is sw cells on; past the row's
              ;; last window (or at the first of the four), $origin divides it out
              (local.set $x (i32.add (local.get $x) (local.get $sw)))
              (if (i32.or (i32.eqz (local.get $r)) (i32.ge_s (local.get $x) (local.get $xEnd)))
                (then
                  (call $origin (local.get $d) (i32.add (local.get $i0) (local.get $r)) (local.get $M))
                  (local.set $m) (local.set $x) (local.set $y)))))
          (local.set $inside (i32.and (local.get $inside) (i32.and
            (i32.lt_u (i32.add (local.get $y) (local.get $spanY)) (local.get $H))
            (i32.and (i32.ge_s (local.get $y) (i32.const 0))
              (i32.and (i32.ge_s (local.get $x) (i32.const 0))
                (i32.lt_s (i32.add (local.get $x) (local.get $spanX)) (local.get $W)))))))
          (local.set $b3 (local.get $b2))
          (local.set $b2 (local.get $b1))
          (local.set $b1 (local.get $b0))
          (local.set $b0 (i32.add (i32.load (local.get $d))
            (i32.mul (i32.add (i32.mul (i32.add (local.get $m) (local.get $y)) (local.get $W)) (local.get $x)) (local.get $cb))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $origins (i32.lt_u (local.get $r) (i32.const 4))))
        (if (local.get $inside)
          (then
            ;; b0..b3 hold rows 3..0: micro reads them in order from scratch
            (i32.store offset=0 (local.get $scratch) (local.get $b3))
            (i32.store offset=4 (local.get $scratch) (local.get $b2))
            (i32.store offset=8 (local.get $scratch) (local.get $b1))
            (i32.store offset=12 (local.get $scratch) (local.get $b0))
            (local.set $offs (local.get $taps)))
          (else
            (call $pack_a_conv (local.get $d) (local.get $M) (local.get $i0) (local.get $scratch))
            (local.set $offs (i32.const 0))))
        (local.set $mr (i32.sub (local.get $M) (local.get $i0)))
        (if (i32.gt_s (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
        (local.set $p (local.get $p0))
        (local.set $panel (i32.add (local.get $pb) (i32.mul (local.get $p0) (local.get $panelBytes))))
        (block $panels_done
          (loop $panels
            (br_if $panels_done (i32.ge_s (local.get $p) (local.get $p1)))
            (local.set $nr (i32.sub (local.get $N) (i32.shl (local.get $p) (i32.const 3))))
            (if (i32.gt_s (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
            ;; a whole 4x8 block that does not accumulate goes straight into C, as in gemm
            (local.set $direct (select
              (i32.add (local.get $c) (i32.shl (i32.add
                (i32.mul (select (i32.shr_u (local.get $i0) (i32.const 2)) (local.get $i0) (local.get $pool)) (local.get $N))
                (i32.shl (local.get $p) (i32.const 3))) (i32.const 2)))
              (i32.const 0)
              (i32.and (i32.eqz (i32.and (local.get $flags) (global.get $ACCUMULATE)))
                (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8))))))
            (call $micro (local.get $scratch) (local.get $panel) (local.get $K) (local.get $tile) (local.get $direct) (i32.shl (local.get $N) (i32.const 2))
              (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5))) (local.get $flags) (local.get $offs) (i32.const 0) (i32.const 1))
            (if (i32.eqz (local.get $direct))
              (then
                (call $store (local.get $tile) (local.get $c) (local.get $N) (local.get $i0)
                  (i32.shl (local.get $p) (i32.const 3)) (local.get $mr) (local.get $nr)
                  (local.get $bias) (local.get $flags))))
            (local.set $panel (i32.add (local.get $panel) (local.get $panelBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $panels)))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $rows))))

    ;; 2-D max pooling, NHWC, of output pixels [0, P) (P = B*OH*OW): out[p, c] =
  ;; the max over the window's real cells of x[., ., c], starting from -inf and
  ;; keeping a value only when greater (pmax), as kernels/pool.ts does: padding
  ;; never wins and NaN is never taken. Four channels at a time, then the rest.
  ;; max_pool and max_pool_grad for the common 2x2 window at stride 2 whose
  ;; windows all lie inside the image (2*OH <= H, 2*OW <= W, no padding):
  ;; the same results as the general loops, without their per-window bounds,
  ;; row and column loops. The forward takes the four cells' max in the
  ;; general loop's order (pmax from -inf, so NaN cells are skipped alike).
  ;; The backward finds, per lane, the cells that raised the running max
  ;; (strictly greater, in row-major order); the last of them is the first
  ;; maximal cell, which gets dy; every other cell gets 0. So dx is only
  ;; stored, never read back. An image with an uncovered last row or column
  ;; (odd H or W) is zeroed first. Channels past the last group of four run
  ;; the same vector code on one lane (load32_zero, store32_lane).
  (func $max_pool_2x2 (param $x i32) (param $out i32) (param $H i32) (param $W i32) (param $C i32)
    (param $OH i32) (param $OW i32) (param $images i32)
    (local $cb i32) (local $rowBytes i32) (local $img i32) (local $oy i32) (local $ox i32) (local $a i32) (local $c i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cb)))
    (block $images_done (loop $images_loop
      (br_if $images_done (i32.ge_u (local.get $img) (local.get $images)))
      (local.set $oy (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $oy) (local.get $OH)))
        (local.set $a (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $img) (local.get $H)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $rowBytes))))
        (local.set $ox (i32.const 0))
        (block $cols_done (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $ox) (local.get $OW)))
          (local.set $c (i32.const 0))
          (block $quads_done (loop $quads
            (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
            (v128.store align=4 (i32.add (local.get $out) (local.get $c))
              (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                (v128.load align=4 (i32.add (local.get $a) (local.get $c))))
                (v128.load align=4 (i32.add (i32.add (local.get $a) (local.get $cb)) (local.get $c))))
                (v128.load align=4 (i32.add (i32.add (local.get $a) (local.get $rowBytes)) (local.get $c))))
                (v128.load align=4 (i32.add (i32.add (i32.add (local.get $a) (local.get $rowBytes)) (local.get $cb)) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $quads)))
          (block $singles_done (loop $singles
            (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
            (v128.store32_lane align=4 0 (i32.add (local.get $out) (local.get $c))
              (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                (v128.load32_zero align=4 (i32.add (local.get $a) (local.get $c))))
                (v128.load32_zero align=4 (i32.add (i32.add (local.get $a) (local.get $cb)) (local.get $c))))
                (v128.load32_zero align=4 (i32.add (i32.add (local.get $a) (local.get $rowBytes)) (local.get $c))))
                (v128.load32_zero align=4 (i32.add (i32.add (i32.add (local.get $a) (local.get $rowBytes)) (local.get $cb)) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $singles)))
          (local.set $out (i32.add (local.get $out) (local.get $cb)))
          (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cb) (i32.const 1))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $cols)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $rows)))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images_loop))))

  ;; One group of channels of one 2x2 window: the cells at x addresses a, a +
  ;; cb, a + rowBytes, a + rowBytes + cb hold v0..v3; dx gets g & (each cell's
  ;; winner mask), at the same addresses moved by shift. (Written out in the
  ;; loop over groups of four channels; called for the last channels.)
  (func $route_2x2 (param $v0 v128) (param $v1 v128) (param $v2 v128) (param $v3 v128) (param $g v128) (param $floor v128)
    (result v128 v128 v128 v128)
    (local $m v128) (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $later v128)
    (local.set $m (local.get $floor))
    (local.set $g0 (f32x4.gt (local.get $v0) (local.get $m)))
    (local.set $m (v128.bitselect (local.get $v0) (local.get $m) (local.get $g0)))
    (local.set $g1 (f32x4.gt (local.get $v1) (local.get $m)))
    (local.set $m (v128.bitselect (local.get $v1) (local.get $m) (local.get $g1)))
    (local.set $g2 (f32x4.gt (local.get $v2) (local.get $m)))
    (local.set $m (v128.bitselect (local.get $v2) (local.get $m) (local.get $g2)))
    (local.set $g3 (f32x4.gt (local.get $v3) (local.get $m)))
    ;; a cell wins if it raised the max and no later cell raised it again
    (local.set $later (local.get $g3))
    (local.set $g2 (v128.andnot (local.get $g2) (local.get $later)))
    (local.set $later (v128.or (local.get $later) (local.get $g2)))
    (local.set $g1 (v128.andnot (local.get $g1) (local.get $later)))
    (local.set $later (v128.or (local.get $later) (local.get $g1)))
    (local.set $g0 (v128.andnot (local.get $g0) (local.get $later)))
    ;; + 0 as the general loop's 0 + dy: a winner's -0 becomes +0 there too
    (f32x4.add (v128.and (local.get $g) (local.get $g0)) (v128.const f32x4 0 0 0 0))
    (f32x4.add (v128.and (local.get $g) (local.get $g1)) (v128.const f32x4 0 0 0 0))
    (f32x4.add (v128.and (local.get $g) (local.get $g2)) (v128.const f32x4 0 0 0 0))
    (f32x4.add (v128.and (local.get $g) (local.get $g3)) (v128.const f32x4 0 0 0 0)))

  (func $max_pool_grad_2x2 (param $x i32) (param $dy i32) (param $dx i32) (param $H i32) (param $W i32) (param $C i32)
    (param $OH i32) (param $OW i32) (param $images i32) (param $floor v128)
    (local $cb i32) (local $rowBytes i32) (local $img i32) (local $oy i32) (local $ox i32) (local $a i32) (local $c i32)
    (local $shift i32) (local $at i32) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $m v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $later v128)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cb)))
    (local.set $shift (i32.sub (local.get $dx) (local.get $x)))
    (block $images_done (loop $images_loop
      (br_if $images_done (i32.ge_u (local.get $img) (local.get $images)))
      (if (i32.or (i32.lt_u (i32.shl (local.get $OH) (i32.const 1)) (local.get $H)) (i32.lt_u (i32.shl (local.get $OW) (i32.const 1)) (local.get $W)))
        (then (memory.fill (i32.add (local.get $dx) (i32.mul (i32.mul (local.get $img) (local.get $H)) (local.get $rowBytes)))
          (i32.const 0) (i32.mul (local.get $H) (local.get $rowBytes)))))
      (local.set $oy (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $oy) (local.get $OH)))
        (local.set $a (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $img) (local.get $H)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $rowBytes))))
        (local.set $ox (i32.const 0))
        (block $cols_done (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $ox) (local.get $OW)))
          (local.set $c (i32.const 0))
          (block $quads_done (loop $quads
            (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
            (local.set $at (i32.add (local.get $a) (local.get $c)))
            ;; route_2x2, written out: a call passing five v128s and returning four
            ;; took most of this loop's time
            (local.set $r0 (v128.load align=4 (local.get $at)))
            (local.set $r1 (v128.load align=4 (i32.add (local.get $at) (local.get $cb))))
            (local.set $r2 (v128.load align=4 (i32.add (local.get $at) (local.get $rowBytes))))
            (local.set $r3 (v128.load align=4 (i32.add (i32.add (local.get $at) (local.get $rowBytes)) (local.get $cb))))
            (local.set $m (local.get $floor))
            (local.set $w0 (f32x4.gt (local.get $r0) (local.get $m)))
            (local.set $m (v128.bitselect (local.get $r0) (local.get $m) (local.get $w0)))
            (local.set $w1 (f32x4.gt (local.get $r1) (local.get $m)))
            (local.set $m (v128.bitselect (local.get $r1) (local.get $m) (local.get $w1)))
            (local.set $w2 (f32x4.gt (local.get $r2) (local.get $m)))
            (local.set $m (v128.bitselect (local.get $r2) (local.get $m) (local.get $w2)))
            (local.set $w3 (f32x4.gt (local.get $r3) (local.get $m)))
            (local.set $later (local.get $w3))
            (local.set $w2 (v128.andnot (local.get $w2) (local.get $later)))
            (local.set $later (v128.or (local.get $later) (local.get $w2)))
            (local.set $w1 (v128.andnot (local.get $w1) (local.get $later)))
            (local.set $later (v128.or (local.get $later) (local.get $w1)))
            (local.set $w0 (v128.andnot (local.get $w0) (local.get $later)))
            (local.set $m (v128.load align=4 (i32.add (local.get $dy) (local.get $c))))
            (local.set $r0 (f32x4.add (v128.and (local.get $m) (local.get $w0)) (v128.const f32x4 0 0 0 0)))
            (local.set $r1 (f32x4.add (v128.and (local.get $m) (local.get $w1)) (v128.const f32x4 0 0 0 0)))
            (local.set $r2 (f32x4.add (v128.and (local.get $m) (local.get $w2)) (v128.const f32x4 0 0 0 0)))
            (local.set $r3 (f32x4.add (v128.and (local.get $m) (local.get $w3)) (v128.const f32x4 0 0 0 0)))
            (local.set $at (i32.add (local.get $at) (local.get $shift)))
            (v128.store align=4 (local.get $at) (local.get $r0))
            (v128.store align=4 (i32.add (local.get $at) (local.get $cb)) (local.get $r1))
            (v128.store align=4 (i32.add (local.get $at) (local.get $rowBytes)) (local.get $r2))
            (v128.store align=4 (i32.add (i32.add (local.get $at) (local.get $rowBytes)) (local.get $cb)) (local.get $r3))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $quads)))
          (block $singles_done (loop $singles
            (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
            (local.set $at (i32.add (local.get $a) (local.get $c)))
            (call $route_2x2
              (v128.load32_zero align=4 (local.get $at))
              (v128.load32_zero align=4 (i32.add (local.get $at) (local.get $cb)))
              (v128.load32_zero align=4 (i32.add (local.get $at) (local.get $rowBytes)))
              (v128.load32_zero align=4 (i32.add (i32.add (local.get $at) (local.get $rowBytes)) (local.get $cb)))
              (v128.load32_zero align=4 (i32.add (local.get $dy) (local.get $c)))
              (local.get $floor))
            (local.set $r3) (local.set $r2) (local.set $r1) (local.set $r0)
            (local.set $at (i32.add (local.get $at) (local.get $shift)))
            (v128.store32_lane align=4 0 (local.get $at) (local.get $r0))
            (v128.store32_lane align=4 0 (i32.add (local.get $at) (local.get $cb)) (local.get $r1))
            (v128.store32_lane align=4 0 (i32.add (local.get $at) (local.get $rowBytes)) (local.get $r2))
            (v128.store32_lane align=4 0 (i32.add (i32.add (local.get $at) (local.get $rowBytes)) (local.get $cb)) (local.get $r3))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $singles)))
          (local.set $dy (i32.add (local.get $dy) (local.get $cb)))
          (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cb) (i32.const 1))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $cols)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $rows)))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images_loop))))

  ;; Whether a pool's windows are 2x2 at stride 2, unpadded and inside the image.
  (func $is_2x2 (param $H i32) (param $W i32) (param $OH i32) (param $OW i32) (param $sh i32) (param $sw i32)
    (param $kh i32) (param $kw i32) (param $pt i32) (param $pl i32) (result i32)
    (i32.and
      (i32.and (i32.and (i32.eq (local.get $kh) (i32.const 2)) (i32.eq (local.get $kw) (i32.const 2)))
        (i32.and (i32.eq (local.get $sh) (i32.const 2)) (i32.eq (local.get $sw) (i32.const 2))))
      (i32.and (i32.eqz (i32.or (local.get $pt) (local.get $pl)))
        (i32.and (i32.le_u (i32.shl (local.get $OH) (i32.const 1)) (local.get $H))
          (i32.le_u (i32.shl (local.get $OW) (i32.const 1)) (local.get $W))))))

  ;; Global pooling of `images` images of `cells` cells of C channels each, x
  ;; [images, cells, C] -> out [images, C]: with `max` 0 each channel's mean,
  ;; summed in float64 cell by cell and divided in float64, with `max` not 0
  ;; its maximum, a cell kept only when greater (NaN never is, and no cell
  ;; leaves -inf): kernels/pool.ts globalPool's loops, so the same bits.
  ;; Sixteen channels (a cache line) at a time, then four, then one, the
  ;; cells of a column read down it: four at a time read a quarter of each
  ;; line, and with C a multiple of 1024 (ResNet's 2048) the lines of a
  ;; column all fall in one L1 set, so a line was gone before the next four
  ;; came back to it (7x7x2048: 0.15 ms, 0.09 by lines; the TS loop 0.20).
  (func (export "global_pool") (param $x i32) (param $out i32) (param $cells i32) (param $C i32) (param $max i32) (param $images i32)
    (local $img i32) (local $c i32) (local $p i32) (local $end i32) (local $rowBytes i32) (local $v v128)
    (local $lo v128) (local $hi v128) (local $m v128) (local $count v128) (local $sum f64) (local $best f32) (local $e f32)
    (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128) (local $lo3 v128) (local $hi3 v128)
    (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $o i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $count (f64x2.splat (f64.convert_i32_u (local.get $cells))))
    (block $images_done
      (loop $images_loop
        (br_if $images_done (i32.ge_u (local.get $img) (local.get $images)))
        (local.set $end (i32.add (local.get $x) (i32.mul (local.get $cells) (local.get $rowBytes))))
        (local.set $c (i32.const 0))
        (block $lines_done
          (loop $lines
            (br_if $lines_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $C)))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
            (if (local.get $max)
              (then
                (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
                (local.set $m1 (local.get $m))
                (local.set $m2 (local.get $m))
                (local.set $m3 (local.get $m))
                (block $max_done
                  (loop $max_cells
                    (br_if $max_done (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $v (v128.load align=4 (local.get $p)))
                    (local.set $m (f32x4.pmax (local.get $m) (local.get $v)))
                    (local.set $v (v128.load offset=16 align=4 (local.get $p)))
                    (local.set $m1 (f32x4.pmax (local.get $m1) (local.get $v)))
                    (local.set $v (v128.load offset=32 align=4 (local.get $p)))
                    (local.set $m2 (f32x4.pmax (local.get $m2) (local.get $v)))
                    (local.set $v (v128.load offset=48 align=4 (local.get $p)))
                    (local.set $m3 (f32x4.pmax (local.get $m3) (local.get $v)))
                    (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                    (br $max_cells)))
                (v128.store align=4 (local.get $o) (local.get $m))
                (v128.store offset=16 align=4 (local.get $o) (local.get $m1))
                (v128.store offset=32 align=4 (local.get $o) (local.get $m2))
                (v128.store offset=48 align=4 (local.get $o) (local.get $m3)))
              (else
                (local.set $lo (v128.const i64x2 0 0))
                (local.set $hi (local.get $lo))
                (local.set $lo1 (local.get $lo))
                (local.set $hi1 (local.get $lo))
                (local.set $lo2 (local.get $lo))
                (local.set $hi2 (local.get $lo))
                (local.set $lo3 (local.get $lo))
                (local.set $hi3 (local.get $lo))
                (block $sum_done
                  (loop $sum_cells
                    (br_if $sum_done (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $v (v128.load align=4 (local.get $p)))
                    (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi (f64x2.add (local.get $hi)
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $v (v128.load offset=16 align=4 (local.get $p)))
                    (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi1 (f64x2.add (local.get $hi1)
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $v (v128.load offset=32 align=4 (local.get $p)))
                    (local.set $lo2 (f64x2.add (local.get $lo2) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi2 (f64x2.add (local.get $hi2)
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $v (v128.load offset=48 align=4 (local.get $p)))
                    (local.set $lo3 (f64x2.add (local.get $lo3) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi3 (f64x2.add (local.get $hi3)
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                    (br $sum_cells)))
                (v128.store align=4 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo) (local.get $count)))
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi) (local.get $count)))))
                (v128.store offset=16 align=4 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo1) (local.get $count)))
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi1) (local.get $count)))))
                (v128.store offset=32 align=4 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo2) (local.get $count)))
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi2) (local.get $count)))))
                (v128.store offset=48 align=4 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo3) (local.get $count)))
                  (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi3) (local.get $count)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $lines)))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $C)))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
            (if (local.get $max)
              (then
                (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
                (block $max_done
                  (loop $max_cells
                    (br_if $max_done (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $v (v128.load align=4 (local.get $p)))
                    (local.set $m (f32x4.pmax (local.get $m) (local.get $v)))
                    (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                    (br $max_cells)))
                (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (local.get $m)))
              (else
                (local.set $lo (v128.const i64x2 0 0))
                (local.set $hi (v128.const i64x2 0 0))
                (block $sum_done
                  (loop $sum_cells
                    (br_if $sum_done (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $v (v128.load align=4 (local.get $p)))
                    (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $hi (f64x2.add (local.get $hi)
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                    (br $sum_cells)))
                (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo) (local.get $count)))
                    (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi) (local.get $count)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $quads)))
        ;; the channels past the last four, one at a time
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $c) (local.get $C)))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $sum (f64.const 0))
            (local.set $best (f32.const -inf))
            (block $cells_done
              (loop $cells_loop
                (br_if $cells_done (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $e (f32.load (local.get $p)))
                (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $e))))
                (if (f32.gt (local.get $e) (local.get $best)) (then (local.set $best (local.get $e))))
                (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                (br $cells_loop)))
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
              (select (local.get $best) (f32.demote_f64 (f64.div (local.get $sum) (f64.convert_i32_u (local.get $cells)))) (local.get $max)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $x (local.get $end))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $images_loop))))

  (func (export "max_pool")
    (param $x i32) (param $out i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $pt i32) (param $pl i32) (param $P i32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32)
    (local $yFrom i32) (local $yTo i32) (local $xFrom i32) (local $xTo i32)
    (local $c i32) (local $cb i32) (local $iy i32) (local $ix i32) (local $at i32) (local $rowBytes i32)
    (local $m v128) (local $ms f32) (local $v f32)
    (if (i32.and (i32.gt_u (local.get $P) (i32.const 0))
          (call $is_2x2 (local.get $H) (local.get $W) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
            (local.get $kh) (local.get $kw) (local.get $pt) (local.get $pl)))
      (then
        (call $max_pool_2x2 (local.get $x) (local.get $out) (local.get $H) (local.get $W) (local.get $C)
          (local.get $OH) (local.get $OW) (i32.div_u (local.get $P) (i32.mul (local.get $OH) (local.get $OW))))
        (return)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cb)))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
        ;; the window clipped to the image: rows [yFrom, yTo), columns [xFrom, xTo)
        (local.set $yFrom (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $yTo (i32.add (local.get $yFrom) (local.get $kh)))
        (if (i32.lt_s (local.get $yFrom) (i32.const 0)) (then (local.set $yFrom (i32.const 0))))
        (if (i32.gt_s (local.get $yTo) (local.get $H)) (then (local.set $yTo (local.get $H))))
        (local.set $xFrom (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $xTo (i32.add (local.get $xFrom) (local.get $kw)))
        (if (i32.lt_s (local.get $xFrom) (i32.const 0)) (then (local.set $xFrom (i32.const 0))))
        (if (i32.gt_s (local.get $xTo) (local.get $W)) (then (local.set $xTo (local.get $W))))
        (local.set $c (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
            (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
            (local.set $iy (local.get $yFrom))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_s (local.get $iy) (local.get $yTo)))
                (local.set $at (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.add (local.get $img) (local.get $iy)) (local.get $rowBytes)))
                  (i32.add (i32.mul (local.get $xFrom) (local.get $cb)) (local.get $c))))
                (local.set $ix (local.get $xFrom))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_s (local.get $ix) (local.get $xTo)))
                    (local.set $m (f32x4.pmax (local.get $m) (v128.load align=4 (local.get $at))))
                    (local.set $at (i32.add (local.get $at) (local.get $cb)))
                    (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                    (br $cols)))
                (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
                (br $rows)))
            (v128.store align=4 (i32.add (local.get $out) (local.get $c)) (local.get $m))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $quads)))
        (block $singles_done
          (loop $singles
            (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
            (local.set $ms (f32.const -inf))
            (local.set $iy (local.get $yFrom))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_s (local.get $iy) (local.get $yTo)))
                (local.set $at (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.add (local.get $img) (local.get $iy)) (local.get $rowBytes)))
                  (i32.add (i32.mul (local.get $xFrom) (local.get $cb)) (local.get $c))))
                (local.set $ix (local.get $xFrom))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_s (local.get $ix) (local.get $xTo)))
                    (local.set $v (f32.load (local.get $at)))
                    (local.set $ms (select (local.get $v) (local.get $ms) (f32.gt (local.get $v) (local.get $ms))))
                    (local.set $at (i32.add (local.get $at) (local.get $cb)))
                    (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                    (br $cols)))
                (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
                (br $rows)))
            (f32.store (i32.add (local.get $out) (local.get $c)) (local.get $ms))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $singles)))
        (local.set $out (i32.add (local.get $out) (local.get $cb)))
        ;; next pixel: ox, then oy, then the next image
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (if (i32.eq (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixels))))

  ;; Backward of max_pool: dx (same layout as x, whole images: P is a
  ;; multiple of OH*OW) is written in full. Each image's dx is zeroed just
  ;; before its windows are visited, while it is still in the cache, then gets
  ;; each output's dy[p, c] added at the window's first maximal cell, the one
  ;; the forward kept (strictly greater wins); windows that overlap add up.
  ;; Zeroing here, per image, rather than the whole batch beforehand, saves a
  ;; pass over dx through memory and runs on every thread the images run on.
  ;; reluMask 1: x is a relu's output, whose backward this applies too: a
  ;; window's maximum must also be above 0 to take dy (the running max starts
  ;; at 0, not -inf), and relu's backward, dx = y > 0 ? dx : 0, is then the
  ;; identity on this dx, bit for bit: only winners hold anything.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $pt i32) (param $pl i32) (param $P i32)
    (param $reluMask i32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32)
    (local $yFrom i32) (local $yTo i32) (local $xFrom i32) (local $xTo i32)
    (local $c i32) (local $cb i32) (local $iy i32) (local $ix i32) (local $at i32) (local $rowBytes i32)
    (local $m v128) (local $v v128) (local $gt v128) (local $arg v128) (local $g v128)
    (local $ms f32) (local $vs f32) (local $args i32) (local $to i32) (local $shift i32) (local $floor f32)
    (local.set $floor (select (f32.const 0) (f32.const -inf) (local.get $reluMask)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cb)))
    (if (i32.and (i32.gt_u (local.get $P) (i32.const 0))
          (call $is_2x2 (local.get $H) (local.get $W) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
            (local.get $kh) (local.get $kw) (local.get $pt) (local.get $pl)))
      (then
        (call $max_pool_grad_2x2 (local.get $x) (local.get $dy) (local.get $dx) (local.get $H) (local.get $W) (local.get $C)
          (local.get $OH) (local.get $OW) (i32.div_u (local.get $P) (i32.mul (local.get $OH) (local.get $OW)))
          (f32x4.splat (local.get $floor)))
        (return)))
    ;; dx's address for x's address a is a + shift
    (local.set $shift (i32.sub (local.get $dx) (local.get $x)))
    (if (i32.gt_u (local.get $P) (i32.const 0))
      (then (memory.fill (local.get $dx) (i32.const 0) (i32.mul (local.get $H) (local.get $rowBytes)))))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $yFrom (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $yTo (i32.add (local.get $yFrom) (local.get $kh)))
        (if (i32.lt_s (local.get $yFrom) (i32.const 0)) (then (local.set $yFrom (i32.const 0))))
        (if (i32.gt_s (local.get $yTo) (local.get $H)) (then (local.set $yTo (local.get $H))))
        (local.set $xFrom (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $xTo (i32.add (local.get $xFrom) (local.get $kw)))
        (if (i32.lt_s (local.get $xFrom) (i32.const 0)) (then (local.set $xFrom (i32.const 0))))
        (if (i32.gt_s (local.get $xTo) (local.get $W)) (then (local.set $xTo (local.get $W))))
        (local.set $c (i32.const 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
            ;; the max and the x address of each lane's first maximal cell (-1: none)
            (local.set $m (f32x4.splat (local.get $floor)))
            (local.set $arg (v128.const i32x4 -1 -1 -1 -1))
            (local.set $iy (local.get $yFrom))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_s (local.get $iy) (local.get $yTo)))
                (local.set $at (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.add (local.get $img) (local.get $iy)) (local.get $rowBytes)))
                  (i32.add (i32.mul (local.get $xFrom) (local.get $cb)) (local.get $c))))
                (local.set $ix (local.get $xFrom))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_s (local.get $ix) (local.get $xTo)))
                    (local.set $v (v128.load align=4 (local.get $at)))
                    (local.set $gt (f32x4.gt (local.get $v) (local.get $m)))
                    (local.set $m (v128.bitselect (local.get $v) (local.get $m) (local.get $gt)))
                    (local.set $arg (v128.bitselect
                      (i32x4.add (i32x4.splat (local.get $at)) (v128.const i32x4 0 4 8 12)) (local.get $arg) (local.get $gt)))
                    (local.set $at (i32.add (local.get $at) (local.get $cb)))
                    (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                    (br $cols)))
                (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
                (br $rows)))
            (local.set $g (v128.load align=4 (i32.add (local.get $dy) (local.get $c))))
            (local.set $args (i32x4.extract_lane 0 (local.get $arg)))
            (if (i32.ge_s (local.get $args) (i32.const 0)) (then
              (local.set $to (i32.add (local.get $args) (local.get $shift)))
              (f32.store (local.get $to) (f32.add (f32.load (local.get $to)) (f32x4.extract_lane 0 (local.get $g))))))
            (local.set $args (i32x4.extract_lane 1 (local.get $arg)))
            (if (i32.ge_s (local.get $args) (i32.const 0)) (then
              (local.set $to (i32.add (local.get $args) (local.get $shift)))
              (f32.store (local.get $to) (f32.add (f32.load (local.get $to)) (f32x4.extract_lane 1 (local.get $g))))))
            (local.set $args (i32x4.extract_lane 2 (local.get $arg)))
            (if (i32.ge_s (local.get $args) (i32.const 0)) (then
              (local.set $to (i32.add (local.get $args) (local.get $shift)))
              (f32.store (local.get $to) (f32.add (f32.load (local.get $to)) (f32x4.extract_lane 2 (local.get $g))))))
            (local.set $args (i32x4.extract_lane 3 (local.get $arg)))
            (if (i32.ge_s (local.get $args) (i32.const 0)) (then
              (local.set $to (i32.add (local.get $args) (local.get $shift)))
              (f32.store (local.get $to) (f32.add (f32.load (local.get $to)) (f32x4.extract_lane 3 (local.get $g))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $quads)))
        (block $singles_done
          (loop $singles
            (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
            (local.set $ms (local.get $floor))
            (local.set $args (i32.const -1))
            (local.set $iy (local.get $yFrom))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_s (local.get $iy) (local.get $yTo)))
                (local.set $at (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.add (local.get $img) (local.get $iy)) (local.get $rowBytes)))
                  (i32.add (i32.mul (local.get $xFrom) (local.get $cb)) (local.get $c))))
                (local.set $ix (local.get $xFrom))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_s (local.get $ix) (local.get $xTo)))
                    (local.set $vs (f32.load (local.get $at)))
                    (if (f32.gt (local.get $vs) (local.get $ms)) (then (local.set $ms (local.get $vs)) (local.set $args (local.get $at))))
                    (local.set $at (i32.add (local.get $at) (local.get $cb)))
                    (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                    (br $cols)))
                (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
                (br $rows)))
            (if (i32.ge_s (local.get $args) (i32.const 0)) (then
              (local.set $to (i32.add (local.get $args) (local.get $shift)))
              (f32.store (local.get $to) (f32.add (f32.load (local.get $to)) (f32.load (i32.add (local.get $dy) (local.get $c)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $singles)))
        (local.set $dy (i32.add (local.get $dy) (local.get $cb)))
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (if (i32.eq (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))
                (if (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $P))
                  (then (memory.fill (i32.add (local.get $dx) (i32.mul (local.get $img) (local.get $rowBytes)))
                    (i32.const 0) (i32.mul (local.get $H) (local.get $rowBytes)))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixels))))

  ;; depthwise_conv's four pixels of an output row at stride 1 along it (a
  ;; 3x3 kernel without dilation, channels in fours): each row of taps loads
  ;; its three kernel vectors once for the four pixels, and each of the six
  ;; columns of x under them once (0.75 loads a multiply-add, against 2 a
  ;; pixel at a time). `base` is the first window's left column (its cell x0)
  ;; in the first kernel row inside x, `k` that kernel row, and `rows` the
  ;; kernel rows inside x (an output row at the top or bottom edge has 2).
  ;; `edge` 1: the first window's left column lies outside x (x0 = -1, not
  ;; read: its pixel takes the other two); 2: the last window's right column
  ;; does (x0 + 5 = W). The same sums in the same order as depthwise_conv's
  ;; pixel-at-a-time loops, which skip the taps outside x, so the same bits.
  (func $depthwise4_s1 (param $base i32) (param $k i32) (param $bias i32) (param $hasBias i32) (param $out i32)
    (param $cb i32) (param $rowStep i32) (param $rows i32) (param $edge i32) (param $lo f32) (param $hi f32)
    (local $c i32) (local $r i32) (local $kr i32) (local $ky i32) (local $at i32) (local $kRowStep i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $k0 v128) (local $k1 v128) (local $k2 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128) (local $v5 v128)
    (local $lo4 v128) (local $hi4 v128)
    (local.set $lo4 (f32x4.splat (local.get $lo)))
    (local.set $hi4 (f32x4.splat (local.get $hi)))
    (local.set $kRowStep (i32.mul (local.get $cb) (i32.const 3)))
    (local.set $o1 (local.get $cb))
    (local.set $o2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $o3 (i32.mul (local.get $cb) (i32.const 3)))
    (local.set $o4 (i32.shl (local.get $cb) (i32.const 2)))
    (local.set $o5 (i32.mul (local.get $cb) (i32.const 5)))
    (local.set $c (i32.const 0))
    (loop $groups4s1
      (if (local.get $hasBias)
        (then
          (local.set $a0 (v128.load align=4 (i32.add (local.get $bias) (local.get $c))))
          (local.set $a1 (local.get $a0))
          (local.set $a2 (local.get $a0))
          (local.set $a3 (local.get $a0)))
        (else
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))))
      (local.set $r (i32.add (local.get $base) (local.get $c)))
      (local.set $kr (i32.add (local.get $k) (local.get $c)))
      (local.set $ky (i32.const 0))
      ;; one loop for each edge, so that the common one carries no test
      (if (i32.eqz (local.get $edge))
        (then
            (loop $rows4s1
              (local.set $k0 (v128.load align=4 (local.get $kr)))
              (local.set $k1 (v128.load align=4 (i32.add (local.get $kr) (local.get $o1))))
              (local.set $k2 (v128.load align=4 (i32.add (local.get $kr) (local.get $o2))))
              (local.set $v0 (v128.load align=4 (local.get $r)))
              (local.set $v1 (v128.load align=4 (i32.add (local.get $r) (local.get $o1))))
              (local.set $v2 (v128.load align=4 (i32.add (local.get $r) (local.get $o2))))
              (local.set $v3 (v128.load align=4 (i32.add (local.get $r) (local.get $o3))))
              (local.set $v4 (v128.load align=4 (i32.add (local.get $r) (local.get $o4))))
              (local.set $v5 (v128.load align=4 (i32.add (local.get $r) (local.get $o5))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v0) (local.get $k0))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v1) (local.get $k1))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v2) (local.get $k2))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v1) (local.get $k0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v2) (local.get $k1))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v3) (local.get $k2))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v2) (local.get $k0))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v3) (local.get $k1))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v4) (local.get $k2))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v3) (local.get $k0))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v4) (local.get $k1))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v5) (local.get $k2))))
              (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
              (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $rows4s1 (i32.lt_u (local.get $ky) (local.get $rows)))))
        (else (if (i32.eq (local.get $edge) (i32.const 1))
          (then
            (loop $rows4s1_left
              (local.set $k0 (v128.load align=4 (local.get $kr)))
              (local.set $k1 (v128.load align=4 (i32.add (local.get $kr) (local.get $o1))))
              (local.set $k2 (v128.load align=4 (i32.add (local.get $kr) (local.get $o2))))
              (local.set $v1 (v128.load align=4 (i32.add (local.get $r) (local.get $o1))))
              (local.set $v2 (v128.load align=4 (i32.add (local.get $r) (local.get $o2))))
              (local.set $v3 (v128.load align=4 (i32.add (local.get $r) (local.get $o3))))
              (local.set $v4 (v128.load align=4 (i32.add (local.get $r) (local.get $o4))))
              (local.set $v5 (v128.load align=4 (i32.add (local.get $r) (local.get $o5))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v1) (local.get $k1))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v2) (local.get $k2))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v1) (local.get $k0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v2) (local.get $k1))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v3) (local.get $k2))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v2) (local.get $k0))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v3) (local.get $k1))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v4) (local.get $k2))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v3) (local.get $k0))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v4) (local.get $k1))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v5) (local.get $k2))))
              (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
              (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $rows4s1_left (i32.lt_u (local.get $ky) (local.get $rows)))))
          (else
            (loop $rows4s1_right
              (local.set $k0 (v128.load align=4 (local.get $kr)))
              (local.set $k1 (v128.load align=4 (i32.add (local.get $kr) (local.get $o1))))
              (local.set $k2 (v128.load align=4 (i32.add (local.get $kr) (local.get $o2))))
              (local.set $v0 (v128.load align=4 (local.get $r)))
              (local.set $v1 (v128.load align=4 (i32.add (local.get $r) (local.get $o1))))
              (local.set $v2 (v128.load align=4 (i32.add (local.get $r) (local.get $o2))))
              (local.set $v3 (v128.load align=4 (i32.add (local.get $r) (local.get $o3))))
              (local.set $v4 (v128.load align=4 (i32.add (local.get $r) (local.get $o4))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v0) (local.get $k0))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v1) (local.get $k1))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v2) (local.get $k2))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v1) (local.get $k0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v2) (local.get $k1))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v3) (local.get $k2))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v2) (local.get $k0))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v3) (local.get $k1))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v4) (local.get $k2))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v3) (local.get $k0))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v4) (local.get $k1))))
              (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
              (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $rows4s1_right (i32.lt_u (local.get $ky) (local.get $rows))))))))
      (local.set $at (i32.add (local.get $out) (local.get $c)))
      (local.set $a0 (f32x4.pmax (local.get $a0) (local.get $lo4)))
      (v128.store align=4 (local.get $at) (f32x4.pmin (local.get $a0) (local.get $hi4)))
      (local.set $a1 (f32x4.pmax (local.get $a1) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o1)) (f32x4.pmin (local.get $a1) (local.get $hi4)))
      (local.set $a2 (f32x4.pmax (local.get $a2) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o2)) (f32x4.pmin (local.get $a2) (local.get $hi4)))
      (local.set $a3 (f32x4.pmax (local.get $a3) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o3)) (f32x4.pmin (local.get $a3) (local.get $hi4)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br_if $groups4s1 (i32.lt_u (local.get $c) (local.get $cb)))))

  ;; depthwise_conv at stride 1 along the rows (3x3, no dilation, channels in
  ;; fours; any stride down the columns): each output row in groups of four
  ;; pixels through depthwise4_s1, the first and last windows of a padded row
  ;; included (edge), and a row's last group moved back to end at its last
  ;; pixel when two or three are left (the pixels it computes again get the
  ;; same bits). Where a group does not fit (rows narrower than 4, a group
  ;; with padding at both ends, windows past one column of padding, a
  ;; slice's ends) a pixel goes through
  ;; depthwise_conv. Against the edge pixels one at a time, on one thread:
  ;; MobileNetV2's 7x7x960 layer alone took 0.90 of its time, 28x28 0.91,
  ;; 56x56 and 112x112 0.96, 14x14 0.99 to 1.02; the whole model 0.987 (0.985
  ;; on two threads). The same arguments as depthwise_conv.
  (func $depthwise_conv_s1
    (param $x i32) (param $k i32) (param $bias i32) (param $hasBias i32) (param $out i32)
    (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $dh i32) (param $dw i32)
    (param $pt i32) (param $pl i32) (param $p0 i32) (param $P i32) (param $lo f32) (param $hi f32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32) (local $y0 i32) (local $x0 i32) (local $cb i32)
    (local $ky0 i32) (local $ky1 i32) (local $g i32) (local $n i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    ;; pixel p0 = (b*OH + oy)*OW + ox; img is b*H, the image's first input row
    (local.set $p (local.get $p0))
    (local.set $ox (i32.rem_u (local.get $p0) (local.get $OW)))
    (local.set $oy (i32.rem_u (i32.div_u (local.get $p0) (local.get $OW)) (local.get $OH)))
    (local.set $img (i32.mul (i32.div_u (local.get $p0) (i32.mul (local.get $OW) (local.get $OH))) (local.get $H)))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
        ;; the kernel rows inside x: [ky0, ky1)
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $ky0 (select (i32.sub (i32.const 0) (local.get $y0)) (i32.const 0) (i32.lt_s (local.get $y0) (i32.const 0))))
        (local.set $ky1 (i32.sub (local.get $H) (local.get $y0)))
        (if (i32.gt_s (local.get $ky1) (i32.const 3)) (then (local.set $ky1 (i32.const 3))))
        ;; the group's first pixel g: this one, or, with two or three left in the row, OW - 4
        (local.set $g (local.get $ox))
        (if (i32.ge_s (i32.add (local.get $ox) (i32.const 3)) (local.get $OW))
          (then (local.set $g (select (i32.sub (local.get $OW) (i32.const 4)) (i32.const -1)
            (i32.ge_s (i32.sub (local.get $OW) (local.get $ox)) (i32.const 2))))))
        (local.set $x0 (i32.sub (local.get $g) (local.get $pl)))
        (if (i32.and
              (i32.and (i32.ge_s (local.get $g) (i32.const 0)) (i32.lt_s (local.get $ky0) (local.get $ky1)))
              (i32.and
                ;; its windows inside x but for one column at one end
                (i32.and (i32.ge_s (local.get $x0) (i32.const -1)) (i32.le_s (i32.add (local.get $x0) (i32.const 5)) (local.get $W)))
                (i32.and (i32.or (i32.ge_s (local.get $x0) (i32.const 0)) (i32.lt_s (i32.add (local.get $x0) (i32.const 5)) (local.get $W)))
                  ;; its pixels in this slice
                  (i32.and (i32.ge_s (i32.sub (local.get $p) (i32.sub (local.get $ox) (local.get $g))) (local.get $p0))
                    (i32.lt_u (i32.add (local.get $p) (i32.sub (i32.add (local.get $g) (i32.const 3)) (local.get $ox))) (local.get $P))))))
          (then
            (call $depthwise4_s1
              (i32.add (local.get $x) (i32.mul (local.get $cb)
                (i32.add (i32.mul (i32.add (local.get $img) (i32.add (local.get $y0) (local.get $ky0))) (local.get $W)) (local.get $x0))))
              (i32.add (local.get $k) (i32.mul (i32.mul (local.get $ky0) (i32.const 3)) (local.get $cb)))
              (local.get $bias) (local.get $hasBias)
              (i32.sub (local.get $out) (i32.mul (i32.sub (local.get $ox) (local.get $g)) (local.get $cb)))
              (local.get $cb) (i32.mul (local.get $W) (local.get $cb)) (i32.sub (local.get $ky1) (local.get $ky0))
              (select (i32.const 1) (select (i32.const 2) (i32.const 0) (i32.eq (i32.add (local.get $x0) (i32.const 5)) (local.get $W)))
                (i32.lt_s (local.get $x0) (i32.const 0)))
              (local.get $lo) (local.get $hi))
            (local.set $n (i32.sub (i32.add (local.get $g) (i32.const 4)) (local.get $ox))))
          (else
            (call $depthwise_conv (local.get $x) (local.get $k) (local.get $bias) (local.get $hasBias) (local.get $out)
              (local.get $H) (local.get $W) (local.get $C) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
              (local.get $kh) (local.get $kw) (local.get $dh) (local.get $dw) (local.get $pt) (local.get $pl)
              (local.get $p) (i32.add (local.get $p) (i32.const 1)) (local.get $lo) (local.get $hi))
            (local.set $n (i32.const 1))))
        (local.set $out (i32.add (local.get $out) (i32.mul (local.get $n) (local.get $cb))))
        (local.set $ox (i32.add (local.get $ox) (local.get $n)))
        (local.set $p (i32.add (local.get $p) (local.get $n)))
        ;; next row, then the next image
        (if (i32.ge_s (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))))))
        (br $pixels))))

  ;; depthwise_conv's four pixels of an output row at stride 2 along it (a 3x3
  ;; kernel without dilation, channels in fours, the four windows inside x):
  ;; their windows span nine columns of x, each loaded once and used at once
  ;; by the one or two pixels whose window has it (1 load a multiply-add,
  ;; against 2 a pixel at a time); the same sums in the same order as
  ;; depthwise_conv's pixel-at-a-time loops, so the same bits. `base` is the
  ;; first window's top-left cell, `out` the first pixel's output.
  (func $depthwise4_s2 (param $base i32) (param $k i32) (param $bias i32) (param $hasBias i32) (param $out i32)
    (param $cb i32) (param $rowStep i32) (param $kRowStep i32) (param $lo f32) (param $hi f32)
    (local $c i32) (local $r i32) (local $kr i32) (local $ky i32) (local $at i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32) (local $o8 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $v0 v128)
    (local $lo4 v128) (local $hi4 v128)
    (local.set $lo4 (f32x4.splat (local.get $lo)))
    (local.set $hi4 (f32x4.splat (local.get $hi)))
    (local.set $o1 (local.get $cb))
    (local.set $o2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $o3 (i32.mul (local.get $cb) (i32.const 3)))
    (local.set $o4 (i32.shl (local.get $cb) (i32.const 2)))
    (local.set $o5 (i32.mul (local.get $cb) (i32.const 5)))
    (local.set $o6 (i32.mul (local.get $cb) (i32.const 6)))
    (local.set $o7 (i32.mul (local.get $cb) (i32.const 7)))
    (local.set $o8 (i32.shl (local.get $cb) (i32.const 3)))
    (local.set $c (i32.const 0))
    (loop $groups4s2
      (if (local.get $hasBias)
        (then
          (local.set $a0 (v128.load align=4 (i32.add (local.get $bias) (local.get $c))))
          (local.set $a1 (local.get $a0))
          (local.set $a2 (local.get $a0))
          (local.set $a3 (local.get $a0)))
        (else
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))))
      (local.set $r (i32.add (local.get $base) (local.get $c)))
      (local.set $kr (i32.add (local.get $k) (local.get $c)))
      (local.set $ky (i32.const 0))
      (loop $rows4s2
        (local.set $k0 (v128.load align=4 (local.get $kr)))
        (local.set $k1 (v128.load align=4 (i32.add (local.get $kr) (local.get $o1))))
        (local.set $k2 (v128.load align=4 (i32.add (local.get $kr) (local.get $o2))))
        (local.set $v0 (v128.load align=4 (local.get $r)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v0) (local.get $k0))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o1))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v0) (local.get $k1))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o2))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v0) (local.get $k2))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v0) (local.get $k0))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o3))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v0) (local.get $k1))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o4))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v0) (local.get $k2))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v0) (local.get $k0))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o5))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v0) (local.get $k1))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o6))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v0) (local.get $k2))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v0) (local.get $k0))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o7))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v0) (local.get $k1))))
        (local.set $v0 (v128.load align=4 (i32.add (local.get $r) (local.get $o8))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v0) (local.get $k2))))
        (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
        (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br_if $rows4s2 (i32.lt_u (local.get $ky) (i32.const 3))))
      (local.set $at (i32.add (local.get $out) (local.get $c)))
      (local.set $a0 (f32x4.pmax (local.get $a0) (local.get $lo4)))
      (v128.store align=4 (local.get $at) (f32x4.pmin (local.get $a0) (local.get $hi4)))
      (local.set $a1 (f32x4.pmax (local.get $a1) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o1)) (f32x4.pmin (local.get $a1) (local.get $hi4)))
      (local.set $a2 (f32x4.pmax (local.get $a2) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o2)) (f32x4.pmin (local.get $a2) (local.get $hi4)))
      (local.set $a3 (f32x4.pmax (local.get $a3) (local.get $lo4)))
      (v128.store align=4 (i32.add (local.get $at) (local.get $o3)) (f32x4.pmin (local.get $a3) (local.get $hi4)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br_if $groups4s2 (i32.lt_u (local.get $c) (local.get $cb)))))

  ;; Depthwise 2-D convolution with one kernel per channel (depth multiplier
  ;; 1), NHWC, of output pixels [p0, P) (all of them: p0 0, P = B*OH*OW), out
  ;; pointing at pixel p0's output:
  ;;   out[p, c] = bias[c] + sum of x[cell, c] * k[ky, kx, c]
  ;; over the window's taps that fall inside the input, in order ky, kx, in
  ;; float32 (hasBias 0: no bias term), then clamped to [lo, hi] (relu: 0, inf;
  ;; relu6: 0, 6; none: -inf, inf; NaN stays NaN). kernels/depthwise.ts holds
  ;; its TS twin. Sixteen channels at a time in four registers, then four, then
  ;; one: each value of x read is used once per tap, so the loop is bound by loads.
  ;; A 3x3 kernel (MobileNet's, most depthwise layers) takes four pixels of a
  ;; row at a time instead, reusing each column of x loaded for the pixels
  ;; whose windows share it (depthwise4_s1 and depthwise4_s2, by way of
  ;; depthwise_conv_s1 and depthwise_conv_s2); this loop runs the others.
  (func $depthwise_conv (export "depthwise_conv")
    (param $x i32) (param $k i32) (param $bias i32) (param $hasBias i32) (param $out i32)
    (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $dh i32) (param $dw i32)
    (param $pt i32) (param $pl i32) (param $p0 i32) (param $P i32) (param $lo f32) (param $hi f32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32) (local $y0 i32) (local $x0 i32)
    (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32) (local $ky i32) (local $kx i32)
    (local $cb i32) (local $c i32) (local $base i32) (local $kbase i32) (local $r i32) (local $kr i32) (local $at i32) (local $kat i32)
    (local $xStep i32) (local $rowStep i32) (local $kRowStep i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f32) (local $lo4 v128) (local $hi4 v128)
    (local.set $lo4 (f32x4.splat (local.get $lo)))
    (local.set $hi4 (f32x4.splat (local.get $hi)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $xStep (i32.mul (local.get $dw) (local.get $cb)))
    (local.set $rowStep (i32.mul (i32.mul (local.get $dh) (local.get $W)) (local.get $cb)))
    (local.set $kRowStep (i32.mul (local.get $kw) (local.get $cb)))
    ;; pixel p0 = (b*OH + oy)*OW + ox; img is b*H, the image's first input row
    (local.set $p (local.get $p0))
    (local.set $ox (i32.rem_u (local.get $p0) (local.get $OW)))
    (local.set $oy (i32.rem_u (i32.div_u (local.get $p0) (local.get $OW)) (local.get $OH)))
    (local.set $img (i32.mul (i32.div_u (local.get $p0) (i32.mul (local.get $OW) (local.get $OH))) (local.get $H)))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
        ;; the taps inside the input: ky in [ky0, ky1), kx in [kx0, kx1)
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $ky0 (i32.const 0))
        (if (i32.lt_s (local.get $y0) (i32.const 0))
          (then (local.set $ky0 (i32.div_s (i32.sub (i32.add (i32.sub (i32.const 0) (local.get $y0)) (local.get $dh)) (i32.const 1)) (local.get $dh)))))
        (local.set $ky1 (i32.div_s (i32.sub (i32.add (i32.sub (local.get $H) (local.get $y0)) (local.get $dh)) (i32.const 1)) (local.get $dh)))
        (if (i32.gt_s (local.get $ky1) (local.get $kh)) (then (local.set $ky1 (local.get $kh))))
        (local.set $kx0 (i32.const 0))
        (if (i32.lt_s (local.get $x0) (i32.const 0))
          (then (local.set $kx0 (i32.div_s (i32.sub (i32.add (i32.sub (i32.const 0) (local.get $x0)) (local.get $dw)) (i32.const 1)) (local.get $dw)))))
        (local.set $kx1 (i32.div_s (i32.sub (i32.add (i32.sub (local.get $W) (local.get $x0)) (local.get $dw)) (i32.const 1)) (local.get $dw)))
        (if (i32.gt_s (local.get $kx1) (local.get $kw)) (then (local.set $kx1 (local.get $kw))))
        ;; the first tap's cell in x and its kernel row
        (local.set $base (i32.add (local.get $x) (i32.mul (local.get $cb)
          (i32.add (i32.mul (i32.add (local.get $img) (i32.add (local.get $y0) (i32.mul (local.get $ky0) (local.get $dh)))) (local.get $W))
            (i32.add (local.get $x0) (i32.mul (local.get $kx0) (local.get $dw)))))))
        (local.set $kbase (i32.add (local.get $k) (i32.mul (local.get $cb)
          (i32.add (i32.mul (local.get $ky0) (local.get $kw)) (local.get $kx0)))))
          (local.set $c (i32.const 0))
          (block $sixteens_done
            (loop $sixteens
              (br_if $sixteens_done (i32.gt_u (i32.add (local.get $c) (i32.const 64)) (local.get $cb)))
              (if (local.get $hasBias)
                (then
                  (local.set $at (i32.add (local.get $bias) (local.get $c)))
                  (local.set $a0 (v128.load align=4 (local.get $at)))
                  (local.set $a1 (v128.load offset=16 align=4 (local.get $at)))
                  (local.set $a2 (v128.load offset=32 align=4 (local.get $at)))
                  (local.set $a3 (v128.load offset=48 align=4 (local.get $at))))
                (else
                  (local.set $a0 (v128.const i32x4 0 0 0 0))
                  (local.set $a1 (v128.const i32x4 0 0 0 0))
                  (local.set $a2 (v128.const i32x4 0 0 0 0))
                  (local.set $a3 (v128.const i32x4 0 0 0 0))))
              (local.set $r (i32.add (local.get $base) (local.get $c)))
              (local.set $kr (i32.add (local.get $kbase) (local.get $c)))
              (local.set $ky (local.get $ky0))
              (block $rows_done
                (loop $rows
                  (br_if $rows_done (i32.ge_s (local.get $ky) (local.get $ky1)))
                  (local.set $at (local.get $r))
                  (local.set $kat (local.get $kr))
                  (local.set $kx (local.get $kx0))
                  (block $cols_done
                    (loop $cols
                      (br_if $cols_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load align=4 (local.get $at)) (v128.load align=4 (local.get $kat)))))
                      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 align=4 (local.get $at)) (v128.load offset=16 align=4 (local.get $kat)))))
                      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 align=4 (local.get $at)) (v128.load offset=32 align=4 (local.get $kat)))))
                      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 align=4 (local.get $at)) (v128.load offset=48 align=4 (local.get $kat)))))
                      (local.set $at (i32.add (local.get $at) (local.get $xStep)))
                      (local.set $kat (i32.add (local.get $kat) (local.get $cb)))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br $cols)))
                  (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
                  (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br $rows)))
              (local.set $at (i32.add (local.get $out) (local.get $c)))
              ;; clamp4, written out: a call passing v128s costs as much as a few taps
              (local.set $a0 (f32x4.pmax (local.get $a0) (local.get $lo4)))
              (v128.store align=4 (local.get $at) (f32x4.pmin (local.get $a0) (local.get $hi4)))
              (local.set $a1 (f32x4.pmax (local.get $a1) (local.get $lo4)))
              (v128.store offset=16 align=4 (local.get $at) (f32x4.pmin (local.get $a1) (local.get $hi4)))
              (local.set $a2 (f32x4.pmax (local.get $a2) (local.get $lo4)))
              (v128.store offset=32 align=4 (local.get $at) (f32x4.pmin (local.get $a2) (local.get $hi4)))
              (local.set $a3 (f32x4.pmax (local.get $a3) (local.get $lo4)))
              (v128.store offset=48 align=4 (local.get $at) (f32x4.pmin (local.get $a3) (local.get $hi4)))
              (local.set $c (i32.add (local.get $c) (i32.const 64)))
              (br $sixteens)))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (if (local.get $hasBias) (then (local.set $a0 (v128.load align=4 (i32.add (local.get $bias) (local.get $c))))))
              (local.set $r (i32.add (local.get $base) (local.get $c)))
              (local.set $kr (i32.add (local.get $kbase) (local.get $c)))
              (local.set $ky (local.get $ky0))
              (block $rows_done
                (loop $rows
                  (br_if $rows_done (i32.ge_s (local.get $ky) (local.get $ky1)))
                  (local.set $at (local.get $r))
                  (local.set $kat (local.get $kr))
                  (local.set $kx (local.get $kx0))
                  (block $cols_done
                    (loop $cols
                      (br_if $cols_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load align=4 (local.get $at)) (v128.load align=4 (local.get $kat)))))
                      (local.set $at (i32.add (local.get $at) (local.get $xStep)))
                      (local.set $kat (i32.add (local.get $kat) (local.get $cb)))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br $cols)))
                  (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
                  (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br $rows)))
              (local.set $a0 (f32x4.pmax (local.get $a0) (local.get $lo4)))
              (v128.store align=4 (i32.add (local.get $out) (local.get $c))
                (f32x4.pmin (local.get $a0) (local.get $hi4)))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br $quads)))
          (block $singles_done
            (loop $singles
              (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
              (local.set $s (f32.const 0))
              (if (local.get $hasBias) (then (local.set $s (f32.load (i32.add (local.get $bias) (local.get $c))))))
              (local.set $r (i32.add (local.get $base) (local.get $c)))
              (local.set $kr (i32.add (local.get $kbase) (local.get $c)))
              (local.set $ky (local.get $ky0))
              (block $rows_done
                (loop $rows
                  (br_if $rows_done (i32.ge_s (local.get $ky) (local.get $ky1)))
                  (local.set $at (local.get $r))
                  (local.set $kat (local.get $kr))
                  (local.set $kx (local.get $kx0))
                  (block $cols_done
                    (loop $cols
                      (br_if $cols_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $at)) (f32.load (local.get $kat)))))
                      (local.set $at (i32.add (local.get $at) (local.get $xStep)))
                      (local.set $kat (i32.add (local.get $kat) (local.get $cb)))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br $cols)))
                  (local.set $r (i32.add (local.get $r) (local.get $rowStep)))
                  (local.set $kr (i32.add (local.get $kr) (local.get $kRowStep)))
                  (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                  (br $rows)))
              (f32.store (i32.add (local.get $out) (local.get $c))
                (f32x4.extract_lane 0 (call $clamp4 (f32x4.splat (local.get $s)) (local.get $lo4) (local.get $hi4))))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br $singles)))
        (local.set $out (i32.add (local.get $out) (local.get $cb)))
        ;; next pixel: ox, then oy, then the next image
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (if (i32.eq (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixels))))

  ;; depthwise_conv at stride 2 along the rows (3x3, no dilation, channels in
  ;; fours: MobileNet's strided layers): four pixels of a row at a time through
  ;; depthwise4_s2 where their windows lie inside x, each other pixel through
  ;; depthwise_conv; such a shape at stride 1 along the rows goes to
  ;; depthwise_conv_s1, any other to depthwise_conv whole. The same
  ;; arguments as depthwise_conv. Apart from it: written into depthwise_conv,
  ;; this path made V8 allocate the stride-1 loops' registers worse (those
  ;; layers took 1.03-1.07 of their time).
  (func $depthwise_conv_s2
    (param $x i32) (param $k i32) (param $bias i32) (param $hasBias i32) (param $out i32)
    (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $dh i32) (param $dw i32)
    (param $pt i32) (param $pl i32) (param $p0 i32) (param $P i32) (param $lo f32) (param $hi f32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32) (local $y0 i32) (local $x0 i32) (local $cb i32) (local $groups i32)
    ;; a shape whose rows go in groups of four pixels: 3x3, no dilation, channels in fours
    (local.set $groups (i32.and (i32.and (i32.eq (local.get $kh) (i32.const 3)) (i32.eq (local.get $kw) (i32.const 3)))
      (i32.and (i32.and (i32.eq (local.get $dh) (i32.const 1)) (i32.eq (local.get $dw) (i32.const 1)))
        (i32.and (i32.eqz (i32.and (local.get $C) (i32.const 3))) (i32.gt_s (local.get $C) (i32.const 0))))))
    (if (i32.and (local.get $groups) (i32.eq (local.get $sw) (i32.const 1)))
      (then
        (call $depthwise_conv_s1 (local.get $x) (local.get $k) (local.get $bias) (local.get $hasBias) (local.get $out)
          (local.get $H) (local.get $W) (local.get $C) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
          (local.get $kh) (local.get $kw) (local.get $dh) (local.get $dw) (local.get $pt) (local.get $pl)
          (local.get $p0) (local.get $P) (local.get $lo) (local.get $hi))
        (return)))
    (if (i32.eqz (i32.and (local.get $groups) (i32.eq (local.get $sw) (i32.const 2))))
      (then
        (call $depthwise_conv (local.get $x) (local.get $k) (local.get $bias) (local.get $hasBias) (local.get $out)
          (local.get $H) (local.get $W) (local.get $C) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
          (local.get $kh) (local.get $kw) (local.get $dh) (local.get $dw) (local.get $pt) (local.get $pl)
          (local.get $p0) (local.get $P) (local.get $lo) (local.get $hi))
        (return)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    ;; pixel p0 = (b*OH + oy)*OW + ox; img is b*H, the image's first input row
    (local.set $p (local.get $p0))
    (local.set $ox (i32.rem_u (local.get $p0) (local.get $OW)))
    (local.set $oy (i32.rem_u (i32.div_u (local.get $p0) (local.get $OW)) (local.get $OH)))
    (local.set $img (i32.mul (i32.div_u (local.get $p0) (i32.mul (local.get $OW) (local.get $OH))) (local.get $H)))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $x0 (i32.sub (i32.shl (local.get $ox) (i32.const 1)) (local.get $pl)))
        (if (i32.and (i32.and (i32.ge_s (local.get $y0) (i32.const 0)) (i32.le_s (i32.add (local.get $y0) (i32.const 3)) (local.get $H)))
              (i32.and (i32.and (i32.ge_s (local.get $x0) (i32.const 0)) (i32.lt_s (i32.add (local.get $x0) (i32.const 8)) (local.get $W)))
                (i32.and (i32.lt_s (i32.add (local.get $ox) (i32.const 3)) (local.get $OW)) (i32.lt_u (i32.add (local.get $p) (i32.const 3)) (local.get $P)))))
          (then
            (call $depthwise4_s2
              (i32.add (local.get $x) (i32.mul (local.get $cb)
                (i32.add (i32.mul (i32.add (local.get $img) (local.get $y0)) (local.get $W)) (local.get $x0))))
              (local.get $k) (local.get $bias) (local.get $hasBias) (local.get $out) (local.get $cb)
              (i32.mul (local.get $W) (local.get $cb)) (i32.mul (i32.const 3) (local.get $cb)) (local.get $lo) (local.get $hi))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $cb) (i32.const 2))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 4))))
          (else
            (call $depthwise_conv (local.get $x) (local.get $k) (local.get $bias) (local.get $hasBias) (local.get $out)
              (local.get $H) (local.get $W) (local.get $C) (local.get $OH) (local.get $OW) (local.get $sh) (local.get $sw)
              (local.get $kh) (local.get $kw) (local.get $dh) (local.get $dw) (local.get $pt) (local.get $pl)
              (local.get $p) (i32.add (local.get $p) (i32.const 1)) (local.get $lo) (local.get $hi))
            (local.set $out (i32.add (local.get $out) (local.get $cb)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        ;; next row, then the next image
        (if (i32.ge_s (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))))))
        (br $pixels))))

  ;; depthwise_conv (by way of depthwise_conv_s2) for a range job, whose arguments are at most 16 i32s: the
  ;; descriptor d holds depthwise_conv's first 18 arguments (out as its pixel
  ;; 0's address) then lo and hi as f32, and [p0, P) is the slice.
  (func (export "depthwise_conv_slice") (param $d i32) (param $p0 i32) (param $P i32)
    (call $depthwise_conv_s2
      (i32.load offset=0 (local.get $d)) (i32.load offset=4 (local.get $d)) (i32.load offset=8 (local.get $d))
      (i32.load offset=12 (local.get $d))
      (i32.add (i32.load offset=16 (local.get $d)) (i32.mul (local.get $p0) (i32.shl (i32.load offset=28 (local.get $d)) (i32.const 2))))
      (i32.load offset=20 (local.get $d)) (i32.load offset=24 (local.get $d)) (i32.load offset=28 (local.get $d))
      (i32.load offset=32 (local.get $d)) (i32.load offset=36 (local.get $d)) (i32.load offset=40 (local.get $d))
      (i32.load offset=44 (local.get $d)) (i32.load offset=48 (local.get $d)) (i32.load offset=52 (local.get $d))
      (i32.load offset=56 (local.get $d)) (i32.load offset=60 (local.get $d)) (i32.load offset=64 (local.get $d))
      (i32.load offset=68 (local.get $d)) (local.get $p0) (local.get $P)
      (f32.load offset=72 (local.get $d)) (f32.load offset=76 (local.get $d))))

  ;; Backward of depthwise_conv (depth multiplier 1) over output pixels
  ;; [p0, p1): for each tap of a pixel's window inside the input,
  ;;   dx[cell, c] += k[ky, kx, c] * dz[p, c]     (hasDx)
  ;;   dk[ky, kx, c] += x[cell, c] * dz[p, c]      (hasDk)
  ;; dk holds float32 partial sums: the caller runs a few rows of pixels per
  ;; call and adds them up in float64 (grad/depthwise.ts, its TS twin).
  (func (export "depthwise_conv_grad")
    (param $x i32) (param $k i32) (param $dz i32) (param $dx i32) (param $dk i32) (param $hasDx i32) (param $hasDk i32)
    (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $sh i32) (param $sw i32) (param $kh i32) (param $kw i32) (param $dh i32) (param $dw i32)
    (param $pt i32) (param $pl i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $ox i32) (local $oy i32) (local $img i32) (local $y0 i32) (local $x0 i32)
    (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32) (local $ky i32) (local $kx i32)
    (local $cb i32) (local $c i32) (local $xat i32) (local $kat i32) (local $g i32) (local $gv v128) (local $gs f32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $p (local.get $p0))
    (local.set $ox (i32.rem_u (local.get $p0) (local.get $OW)))
    (local.set $oy (i32.rem_u (i32.div_u (local.get $p0) (local.get $OW)) (local.get $OH)))
    (local.set $img (i32.mul (i32.div_u (local.get $p0) (i32.mul (local.get $OW) (local.get $OH))) (local.get $H)))
    (local.set $g (i32.add (local.get $dz) (i32.mul (local.get $p0) (local.get $cb))))
    (block $done
      (loop $pixels
        (br_if $done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $ky0 (i32.const 0))
        (if (i32.lt_s (local.get $y0) (i32.const 0))
          (then (local.set $ky0 (i32.div_s (i32.sub (i32.add (i32.sub (i32.const 0) (local.get $y0)) (local.get $dh)) (i32.const 1)) (local.get $dh)))))
        (local.set $ky1 (i32.div_s (i32.sub (i32.add (i32.sub (local.get $H) (local.get $y0)) (local.get $dh)) (i32.const 1)) (local.get $dh)))
        (if (i32.gt_s (local.get $ky1) (local.get $kh)) (then (local.set $ky1 (local.get $kh))))
        (local.set $kx0 (i32.const 0))
        (if (i32.lt_s (local.get $x0) (i32.const 0))
          (then (local.set $kx0 (i32.div_s (i32.sub (i32.add (i32.sub (i32.const 0) (local.get $x0)) (local.get $dw)) (i32.const 1)) (local.get $dw)))))
        (local.set $kx1 (i32.div_s (i32.sub (i32.add (i32.sub (local.get $W) (local.get $x0)) (local.get $dw)) (i32.const 1)) (local.get $dw)))
        (if (i32.gt_s (local.get $kx1) (local.get $kw)) (then (local.set $kx1 (local.get $kw))))
        (local.set $ky (local.get $ky0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_s (local.get $ky) (local.get $ky1)))
            (local.set $kx (local.get $kx0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                ;; byte offsets of the tap's cell in x / dx and of its kernel row
                (local.set $xat (i32.mul (local.get $cb)
                  (i32.add (i32.mul (i32.add (local.get $img) (i32.add (local.get $y0) (i32.mul (local.get $ky) (local.get $dh)))) (local.get $W))
                    (i32.add (local.get $x0) (i32.mul (local.get $kx) (local.get $dw))))))
                (local.set $kat (i32.mul (local.get $cb) (i32.add (i32.mul (local.get $ky) (local.get $kw)) (local.get $kx))))
                (local.set $c (i32.const 0))
                (block $quads_done
                  (loop $quads
                    (br_if $quads_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $cb)))
                    (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $c))))
                    (if (local.get $hasDx)
                      (then (v128.store align=4 (i32.add (local.get $dx) (i32.add (local.get $xat) (local.get $c)))
                        (f32x4.add (v128.load align=4 (i32.add (local.get $dx) (i32.add (local.get $xat) (local.get $c))))
                          (f32x4.mul (v128.load align=4 (i32.add (local.get $k) (i32.add (local.get $kat) (local.get $c)))) (local.get $gv))))))
                    (if (local.get $hasDk)
                      (then (v128.store align=4 (i32.add (local.get $dk) (i32.add (local.get $kat) (local.get $c)))
                        (f32x4.add (v128.load align=4 (i32.add (local.get $dk) (i32.add (local.get $kat) (local.get $c))))
                          (f32x4.mul (v128.load align=4 (i32.add (local.get $x) (i32.add (local.get $xat) (local.get $c)))) (local.get $gv))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $quads)))
                (block $singles_done
                  (loop $singles
                    (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
                    (local.set $gs (f32.load (i32.add (local.get $g) (local.get $c))))
                    (if (local.get $hasDx)
                      (then (f32.store (i32.add (local.get $dx) (i32.add (local.get $xat) (local.get $c)))
                        (f32.add (f32.load (i32.add (local.get $dx) (i32.add (local.get $xat) (local.get $c))))
                          (f32.mul (f32.load (i32.add (local.get $k) (i32.add (local.get $kat) (local.get $c)))) (local.get $gs))))))
                    (if (local.get $hasDk)
                      (then (f32.store (i32.add (local.get $dk) (i32.add (local.get $kat) (local.get $c)))
                        (f32.add (f32.load (i32.add (local.get $dk) (i32.add (local.get $kat) (local.get $c))))
                          (f32.mul (f32.load (i32.add (local.get $x) (i32.add (local.get $xat) (local.get $c)))) (local.get $gs))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $singles)))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $cols)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $rows)))
        (local.set $g (i32.add (local.get $g) (local.get $cb)))
        ;; next pixel: ox, then oy, then the next image
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (if (i32.eq (local.get $ox) (local.get $OW))
          (then
            (local.set $ox (i32.const 0))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (if (i32.eq (local.get $oy) (local.get $OH))
              (then
                (local.set $oy (i32.const 0))
                (local.set $img (i32.add (local.get $img) (local.get $H)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pixels))))

  ;; v below lo becomes lo, above hi becomes hi; NaN stays NaN (pmax and
  ;; pmin: one instruction each, as relu6_4's notes say).
  (func $clamp4 (param $v v128) (param $lo v128) (param $hi v128) (result v128)
    (local.set $v (f32x4.pmax (local.get $v) (local.get $lo)))
    (f32x4.pmin (local.get $v) (local.get $hi)))

  ;; Bias gradients in blocks of `block` rows: for blocks b in [b0, b1),
  ;; acc[b, j] (float64) = the sum over the block's rows r < rows of src[r, j],
  ;; j < n. The caller adds the blocks' sums up in order (grad/util.ts's
  ;; columnSums, the TS twin, sums in the same blocks), so the result does not
  ;; depend on how blocks are shared out between threads.
  ;; Each column's sum is added in row order from 0, as the TS twin's. Eight
  ;; columns at a time keep theirs in registers down 32 rows (4 KB when n is
  ;; 32, still in the L1 cache for the next eight), then back to memory;
  ;; adding every row into memory took longer (MNIST's first layer, [43264,
  ;; 32], on one thread: 0.47 ms at best and 0.75 median, now 0.39 and 0.50).
  ;; The columns left over (n % 8) are added into memory row by row.
  (func (export "column_sums") (param $src i32) (param $rows i32) (param $n i32) (param $block i32) (param $acc i32) (param $b0 i32) (param $b1 i32)
    (local $r i32) (local $r0 i32) (local $end i32) (local $c0 i32) (local $c1 i32) (local $j i32) (local $n4 i32) (local $n8 i32) (local $ld i32) (local $p i32)
    (local $v v128) (local $w v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $a i32) (local $row i32) (local $b i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (local.set $ld (i32.shl (local.get $n) (i32.const 2)))
    (local.set $b (local.get $b0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $b) (local.get $b1)))
        (local.set $r0 (i32.mul (local.get $b) (local.get $block)))
        (local.set $end (i32.add (local.get $r0) (local.get $block)))
        (if (i32.gt_u (local.get $end) (local.get $rows)) (then (local.set $end (local.get $rows))))
        (local.set $row (i32.add (local.get $acc) (i32.shl (i32.mul (local.get $b) (local.get $n)) (i32.const 3))))
        (memory.fill (local.get $row) (i32.const 0) (i32.shl (local.get $n) (i32.const 3)))
        ;; 32 rows at a time, eight columns at a time, their four float64 pairs in registers
        (local.set $c0 (local.get $r0))
        (block $chunks_done
          (loop $chunks
            (br_if $chunks_done (i32.ge_u (local.get $c0) (local.get $end)))
            (local.set $c1 (i32.add (local.get $c0) (i32.const 32)))
            (if (i32.gt_u (local.get $c1) (local.get $end)) (then (local.set $c1 (local.get $end))))
            (local.set $j (i32.const 0))
            (block $eights_done
              (loop $eights
                (br_if $eights_done (i32.ge_u (local.get $j) (local.get $n8)))
                (local.set $a (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))
                (local.set $s0 (v128.load offset=0 (local.get $a)))
                (local.set $s1 (v128.load offset=16 (local.get $a)))
                (local.set $s2 (v128.load offset=32 (local.get $a)))
                (local.set $s3 (v128.load offset=48 (local.get $a)))
                (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $c0) (local.get $n)) (local.get $j)) (i32.const 2))))
                (local.set $r (local.get $c0))
                (block $rows_done
                  (loop $rows_loop
                    (br_if $rows_done (i32.ge_u (local.get $r) (local.get $c1)))
                    (local.set $v (v128.load align=4 (local.get $p)))
                    (local.set $w (v128.load offset=16 align=4 (local.get $p)))
                    (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
                    (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $s2 (f64x2.add (local.get $s2) (f64x2.promote_low_f32x4 (local.get $w))))
                    (local.set $s3 (f64x2.add (local.get $s3) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))))
                    (local.set $p (i32.add (local.get $p) (local.get $ld)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rows_loop)))
                (v128.store offset=0 (local.get $a) (local.get $s0))
                (v128.store offset=16 (local.get $a) (local.get $s1))
                (v128.store offset=32 (local.get $a) (local.get $s2))
                (v128.store offset=48 (local.get $a) (local.get $s3))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $eights)))
            (local.set $c0 (local.get $c1))
            (br $chunks)))
        ;; the columns left over, added into memory row by row
        (if (i32.lt_u (local.get $n8) (local.get $n))
          (then
            (local.set $r (local.get $r0))
            (block $rows_done
              (loop $rows_loop
                (br_if $rows_done (i32.ge_u (local.get $r) (local.get $end)))
                (local.set $j (local.get $n8))
                (local.set $a (i32.add (local.get $row) (i32.shl (local.get $n8) (i32.const 3))))
                (block $quads_done
                  (loop $quads
                    (br_if $quads_done (i32.ge_u (local.get $j) (local.get $n4)))
                    (local.set $v (v128.load align=4 (i32.add (local.get $src)
                      (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $j)) (i32.const 2)))))
                    (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
                    (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                    (local.set $a (i32.add (local.get $a) (i32.const 32)))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $quads)))
                (block $singles_done
                  (loop $singles
                    (br_if $singles_done (i32.ge_u (local.get $j) (local.get $n)))
                    (f64.store (local.get $a) (f64.add (f64.load (local.get $a))
                      (f64.promote_f32 (f32.load (i32.add (local.get $src)
                        (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $j)) (i32.const 2)))))))
                    (local.set $a (i32.add (local.get $a) (i32.const 8)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $singles)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rows_loop)))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blocks))))

  ;; Layer normalisation of `rows` rows of d floats, x to y (kernels/layernorm.ts's
  ;; layerNorm, which stays the semantics): per row the mean and the biased
  ;; variance in float64, in two lanes of two accumulators each (the TS kernel
  ;; sums in order: the statistics may differ in their last float64 bits), then
  ;; y = (x - mean) * (1 / sqrt(var + eps)) * gamma + beta in float64, rounded
  ;; once, two values at a time as the TS kernel computes each. eps is a
  ;; float64 in two i32 halves (f64_of): a range job passes integers only,
  ;; and rows are independent, so slices of them run on the threads.
  (func (export "layer_norm")
    (param $x i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $rows i32) (param $d i32) (param $epsLo i32) (param $epsHi i32)
    (local $r i32) (local $j i32) (local $d2 i32) (local $row i32) (local $out i32)
    (local $s0 v128) (local $s1 v128) (local $v v128) (local $c v128) (local $m v128) (local $inv v128)
    (local $sum f64) (local $mean f64) (local $var f64) (local $t f64) (local $eps f64)
    (local.set $eps (call $f64_of (local.get $epsLo) (local.get $epsHi)))
    (local.set $d2 (i32.and (local.get $d) (i32.const -2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.mul (local.get $r) (i32.shl (local.get $d) (i32.const 2)))))
        (local.set $out (i32.add (local.get $y) (i32.mul (local.get $r) (i32.shl (local.get $d) (i32.const 2)))))
        ;; the mean: pairs of values into two float64 lanes
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $m_done
          (loop $m_loop
            (br_if $m_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $s0 (f64x2.add (local.get $s0)
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $m_loop)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
        (if (i32.lt_u (local.get $d2) (local.get $d)) (then
          (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $d2) (i32.const 2)))))))))
        (local.set $mean (f64.div (local.get $sum) (f64.convert_i32_u (local.get $d))))
        (local.set $m (f64x2.splat (local.get $mean)))
        ;; the biased variance
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $v_done
          (loop $v_loop
            (br_if $v_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $c (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
              (local.get $m)))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $c) (local.get $c))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $v_loop)))
        (local.set $var (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1))))
        (if (i32.lt_u (local.get $d2) (local.get $d)) (then
          (local.set $t (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $d2) (i32.const 2))))) (local.get $mean)))
          (local.set $var (f64.add (local.get $var) (f64.mul (local.get $t) (local.get $t))))))
        (local.set $var (f64.div (local.get $var) (f64.convert_i32_u (local.get $d))))
        (local.set $inv (f64x2.splat (f64.div (f64.const 1) (f64.sqrt (f64.add (local.get $var) (local.get $eps))))))
        ;; y = (x - mean) * inv * gamma + beta, two at a time, then the odd one
        (local.set $j (i32.const 0))
        (block $y_done
          (loop $y_loop
            (br_if $y_done (i32.ge_u (local.get $j) (local.get $d2)))
            (local.set $v (f64x2.add
              (f64x2.mul
                (f64x2.mul
                  (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))) (local.get $m))
                  (local.get $inv))
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gamma) (i32.shl (local.get $j) (i32.const 2))))))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $beta) (i32.shl (local.get $j) (i32.const 2)))))))
            (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $v)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $y_loop)))
        (if (i32.lt_u (local.get $d2) (local.get $d)) (then
          (local.set $t (f64.add
            (f64.mul
              (f64.mul
                (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $d2) (i32.const 2))))) (local.get $mean))
                (f64x2.extract_lane 0 (local.get $inv)))
              (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $d2) (i32.const 2))))))
            (f64.promote_f32 (f32.load (i32.add (local.get $beta) (i32.shl (local.get $d2) (i32.const 2)))))))
          (f32.store (i32.add (local.get $out) (i32.shl (local.get $d2) (i32.const 2))) (f32.demote_f64 (local.get $t)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; relu's backward from its output y: dx[i] = y[i] > 0 ? dy[i] : 0, i < n. dx may be dy.
  (func (export "relu_grad") (param $y i32) (param $dy i32) (param $dx i32) (param $n i32)
    (local $i i32) (local $nb i32) (local $n4 i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (v128.store align=4 (i32.add (local.get $dx) (local.get $i))
          (v128.and (v128.load align=4 (i32.add (local.get $dy) (local.get $i)))
            (f32x4.gt (v128.load align=4 (i32.add (local.get $y) (local.get $i))) (v128.const i32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (f32.store (i32.add (local.get $dx) (local.get $i))
          (select (f32.load (i32.add (local.get $dy) (local.get $i))) (f32.const 0)
            (f32.gt (f32.load (i32.add (local.get $y) (local.get $i))) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $singles))))

;; Dropout's mask (kernels/elementwise.ts's applyMask, its TS twin): to[i]
  ;; = from[i] * scale, computed in float64 and rounded once as the TS loop
  ;; does, or +0 where the stream's value u[i] (u32) is below threshold
  ;; (rate * 2^32 rounded up: u < rate * 2^32 exactly when u < threshold).
  ;; The stream's values are drawn in JS (Rng.fill): the generator's state is
  ;; the Rng's. to may be from.
  (func (export "dropout_mask") (param $u i32) (param $from i32) (param $to i32) (param $n i32) (param $threshold i32) (param $scale f64)
    (local $i i32) (local $nb i32) (local $n4 i32) (local $v v128) (local $s v128) (local $t v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $s (f64x2.splat (local.get $scale)))
    (local.set $t (i32x4.splat (local.get $threshold)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $v (v128.load align=4 (i32.add (local.get $from) (local.get $i))))
        (v128.store align=4 (i32.add (local.get $to) (local.get $i))
          (v128.and
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (local.get $s)))
              (f32x4.demote_f64x2_zero (f64x2.mul
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                (local.get $s))))
            (i32x4.ge_u (v128.load align=4 (i32.add (local.get $u) (local.get $i))) (local.get $t))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (f32.store (i32.add (local.get $to) (local.get $i))
          (select
            (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $from) (local.get $i)))) (local.get $scale)))
            (f32.const 0)
            (i32.ge_u (i32.load (i32.add (local.get $u) (local.get $i))) (local.get $threshold))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $singles))))

  ;; dst[i] = src[i] * s, i < n, computed in float64 and rounded once, as
  ;; the TS loop `x[i] *= s` computes it (attention's scaled query and its
  ;; gradient). dst may be src. s is a float64 in two i32 halves (f64_of).
  (func (export "scale") (param $src i32) (param $dst i32) (param $n i32) (param $sLo i32) (param $sHi i32)
    (local $i i32) (local $nb i32) (local $n4 i32) (local $v v128) (local $sv v128) (local $s f64)
    (local.set $s (call $f64_of (local.get $sLo) (local.get $sHi)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (local.set $sv (f64x2.splat (local.get $s)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $v (v128.load align=4 (i32.add (local.get $src) (local.get $i))))
        (v128.store align=4 (i32.add (local.get $dst) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (local.get $sv)))
            (f32x4.demote_f64x2_zero (f64x2.mul
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
              (local.get $sv)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (f32.store (i32.add (local.get $dst) (local.get $i))
          (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $src) (local.get $i)))) (local.get $s))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $singles))))

  ;; out[i] = a[i] + b[i], i < n (add's two inputs of one shape, a residual
  ;; connection), and with $relu not 0, the relu after it (x < 0 ? 0 : x, as
  ;; activate's: NaN and -0 kept) in the same pass. One float32 rounding, as
  ;; the TS loop's (a float64 sum of two floats rounds to the same float32).
  ;; out may be a or b.
  (func (export "add") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $relu i32)
    (local $i i32) (local $nb i32) (local $n4 i32) (local $v v128) (local $x f32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $v (f32x4.add (v128.load align=4 (i32.add (local.get $a) (local.get $i))) (v128.load align=4 (i32.add (local.get $b) (local.get $i)))))
        (if (local.get $relu)
          (then (local.set $v (f32x4.pmax (local.get $v) (v128.const f32x4 0 0 0 0)))))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i)) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
        (local.set $x (f32.add (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (local.get $i)))))
        (if (i32.and (i32.ne (local.get $relu) (i32.const 0)) (f32.lt (local.get $x) (f32.const 0)))
          (then (local.set $x (f32.const 0))))
        (f32.store (i32.add (local.get $out) (local.get $i)) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $singles))))

  ;; rows rows of n floats from src to dst, rows srcStride and dstStride bytes
  ;; apart (attention's heads out of and back into their projections); the
  ;; two do not overlap.
  (func $copy_rows (export "copy_rows") (param $dst i32) (param $src i32) (param $rows i32) (param $n i32) (param $dstStride i32) (param $srcStride i32)
    (local $r i32) (local $i i32) (local $nb i32) (local $n4 i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $quads
            (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
            (v128.store align=4 (i32.add (local.get $dst) (local.get $i)) (v128.load align=4 (i32.add (local.get $src) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $quads)))
        (block $done
          (loop $singles
            (br_if $done (i32.ge_u (local.get $i) (local.get $nb)))
            (i32.store (i32.add (local.get $dst) (local.get $i)) (i32.load (i32.add (local.get $src) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $singles)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; col2im, the adjoint of the im2col rows pack_a_conv reads: for output
  ;; positions p in [p0, p1), add row p - p0 of dcols (K = kh*kw*C floats) to
  ;; the input cells its window reads. The descriptor's x is dx here; padded
  ;; cells (the descriptor's zeros) take nothing.
  (func (export "col2im") (param $d i32) (param $dcols i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $y i32) (local $x i32) (local $m i32) (local $ky i32) (local $kx i32)
    (local $kh i32) (local $kw i32) (local $cb i32) (local $c i32) (local $to i32) (local $zeros i32) (local $c4 i32)
    (local.set $kh (i32.load offset=16 (local.get $d)))
    (local.set $kw (i32.load offset=20 (local.get $d)))
    (local.set $cb (i32.shl (i32.load offset=12 (local.get $d)) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $cb) (i32.const -16)))
    (local.set $zeros (i32.load offset=56 (local.get $d)))
    (local.set $p (local.get $p0))
    (block $done
      (loop $positions
        (br_if $done (i32.ge_u (local.get $p) (local.get $p1)))
        (call $origin (local.get $d) (local.get $p) (local.get $p1))
        (local.set $m) (local.set $x) (local.set $y)
        (local.set $ky (i32.const 0))
        (loop $kys
          (local.set $kx (i32.const 0))
          (loop $kxs
            (local.set $to (call $cell (local.get $d) (local.get $y) (local.get $x) (local.get $m) (local.get $ky) (local.get $kx)))
            (if (i32.ne (local.get $to) (local.get $zeros))
              (then
                (local.set $c (i32.const 0))
                (block $quads_done
                  (loop $quads
                    (br_if $quads_done (i32.ge_u (local.get $c) (local.get $c4)))
                    (v128.store align=4 (i32.add (local.get $to) (local.get $c))
                      (f32x4.add (v128.load align=4 (i32.add (local.get $to) (local.get $c)))
                        (v128.load align=4 (i32.add (local.get $dcols) (local.get $c)))))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $quads)))
                (block $singles_done
                  (loop $singles
                    (br_if $singles_done (i32.ge_u (local.get $c) (local.get $cb)))
                    (f32.store (i32.add (local.get $to) (local.get $c))
                      (f32.add (f32.load (i32.add (local.get $to) (local.get $c)))
                        (f32.load (i32.add (local.get $dcols) (local.get $c)))))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $singles)))))
            (local.set $dcols (i32.add (local.get $dcols) (local.get $cb)))
            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
            (br_if $kxs (i32.lt_u (local.get $kx) (local.get $kw))))
          (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
          (br_if $kys (i32.lt_u (local.get $ky) (local.get $kh))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $positions))))

  ;; exp4's constants, and 1s, as globals: V8 builds a v128.const from
  ;; immediates with several instructions at every use, and reads a global
  ;; with one load (sigmoid over 1M values: 20% faster).
  (global $EXP_HI v128 (v128.const f32x4 88.3 88.3 88.3 88.3))
  (global $EXP_LO v128 (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
  (global $LOG2E v128 (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
  (global $ROUNDER v128 (v128.const f32x4 12582912 12582912 12582912 12582912))
  (global $LN2_HI v128 (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
  (global $LN2_LO v128 (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
  (global $EXP_P0 v128 (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
  (global $EXP_P1 v128 (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
  (global $EXP_P2 v128 (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
  (global $EXP_P3 v128 (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
  (global $EXP_P4 v128 (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
  (global $EXP_P5 v128 (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
  (global $ONES v128 (v128.const f32x4 1 1 1 1))
  (global $EXP_BIAS v128 (v128.const i32x4 -1262485377 -1262485377 -1262485377 -1262485377))
  ;; tanh4's and the GELUs' constants, as globals: V8 loads a v128 global in one
  ;; instruction, and builds a v128.const it cannot keep in a register in three
  ;; (in GELU's loop, 13 of them every four values)
  (global $SQRT_HALF v128 (v128.const f32x4 0.70710678 0.70710678 0.70710678 0.70710678))
  (global $ERFC_C v128 (v128.const f32x4 1.26551223 1.26551223 1.26551223 1.26551223))
  (global $ERFC_P0 v128 (v128.const f32x4 1.00002368 1.00002368 1.00002368 1.00002368))
  (global $ERFC_P1 v128 (v128.const f32x4 0.37409196 0.37409196 0.37409196 0.37409196))
  (global $ERFC_P2 v128 (v128.const f32x4 0.09678418 0.09678418 0.09678418 0.09678418))
  (global $ERFC_P3 v128 (v128.const f32x4 -0.18628806 -0.18628806 -0.18628806 -0.18628806))
  (global $ERFC_P4 v128 (v128.const f32x4 0.27886807 0.27886807 0.27886807 0.27886807))
  (global $ERFC_P5 v128 (v128.const f32x4 -1.13520398 -1.13520398 -1.13520398 -1.13520398))
  (global $ERFC_P6 v128 (v128.const f32x4 1.48851587 1.48851587 1.48851587 1.48851587))
  (global $ERFC_P7 v128 (v128.const f32x4 -0.82215223 -0.82215223 -0.82215223 -0.82215223))
  (global $ERFC_P8 v128 (v128.const f32x4 0.17087277 0.17087277 0.17087277 0.17087277))
  (global $TWO v128 (v128.const f32x4 2 2 2 2))
  (global $SQRT_2_OVER_PI v128 (v128.const f32x4 0.7978845608 0.7978845608 0.7978845608 0.7978845608))
  (global $GELU_CUBIC v128 (v128.const f32x4 0.044715 0.044715 0.044715 0.044715))
  (global $MINUS_TWO v128 (v128.const f32x4 -2 -2 -2 -2))
  (global $TANH_SMALL v128 (v128.const f32x4 0.625 0.625 0.625 0.625))
  (global $TANH_P0 v128 (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
  (global $TANH_P1 v128 (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2))
  (global $TANH_P2 v128 (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2))
  (global $TANH_P3 v128 (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1))
  (global $TANH_P4 v128 (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1))
  (global $SIGN_BIT v128 (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))

  ;; e^x, four lanes, in float32 (Cephes' expf): x = n ln2 + r with |r| <= ln2/2
  ;; (ln2 split in two for an exact n ln2), e^r by a degree-7 polynomial, times
  ;; 2^n built in the exponent bits. Within 2 ulp of the exact value for x in
  ;; [-87.3, 88.3]; below, 0 (exact e^x is denormal there, and e^-inf = 0);
  ;; above, 2e38 instead of infinity.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128) (local $c v128) (local $t v128)
    ;; pmin and pmax (one instruction each, where min and max take several for
    ;; NaN and signed zeros) keep NaN here, and the clamp needs no more
    (local.set $c (f32x4.pmax (f32x4.pmin (local.get $x) (global.get $EXP_HI))
      (global.get $EXP_LO)))
    ;; n = x log2 e rounded to nearest even, by adding 1.5 * 2^23: t's low
    ;; mantissa bits then hold n as an integer, which builds 2^n below
    (local.set $t (f32x4.add (f32x4.mul (local.get $c) (global.get $LOG2E))
      (global.get $ROUNDER)))
    (local.set $n (f32x4.sub (local.get $t) (global.get $ROUNDER)))
    (local.set $r (f32x4.sub (local.get $c) (f32x4.mul (local.get $n) (global.get $LN2_HI))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (global.get $LN2_LO))))
    (local.set $p (global.get $EXP_P0))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $EXP_P1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $EXP_P2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $EXP_P3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $EXP_P4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (global.get $EXP_P5)))
    ;; e^r = 1 + r + r^2 p
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
      (global.get $ONES)))
    ;; times 2^n ((n + 127) << 23 is its bit pattern, and t's bits are
    ;; 0x4B400000 + n); 0 below the range
    (v128.andnot
      (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (local.get $t) (global.get $EXP_BIAS)) (i32.const 23)))
      (f32x4.lt (local.get $x) (global.get $EXP_LO))))

    ;; 1 / (1 + e^-x), four lanes.
  (func $sigmoid4 (param $x v128) (result v128)
    (f32x4.div (global.get $ONES)
      (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (local.get $x))))))

  ;; tanh x, four lanes (Cephes' tanhf): for |x| < 0.625 an odd polynomial,
  ;; else (1 - e) / (1 + e) with e = e^-2|x| and the sign of x. Within 2 ulp.
  (func $tanh4 (param $x v128) (result v128)
    (local $a v128) (local $e v128) (local $z v128) (local $p v128) (local $big v128)
    (local.set $a (f32x4.abs (local.get $x)))
    (local.set $e (call $exp4 (f32x4.mul (local.get $a) (global.get $MINUS_TWO))))
    (local.set $big (f32x4.div (f32x4.sub (global.get $ONES) (local.get $e))
      (f32x4.add (global.get $ONES) (local.get $e))))
    ;; the sign of x on |result|
    (local.set $big (v128.or (local.get $big)
      (v128.and (local.get $x) (global.get $SIGN_BIT))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (global.get $TANH_P0))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $TANH_P1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $TANH_P2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $TANH_P3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (global.get $TANH_P4)))
    (local.set $p (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $z)) (local.get $x)) (local.get $x)))
    (v128.bitselect (local.get $p) (local.get $big) (f32x4.lt (local.get $a) (global.get $TANH_SMALL))))

  ;; tanh x for the recurrent cells' gates, four lanes: (1 - e) / (1 + e) with
  ;; e = e^-2x, one exp4 and a division where tanh4 takes both its branches
  ;; (LSTM(128) at batch 32: the cell was 13% of the layer, tanh4 two fifths
  ;; of the cell's operations). Within 1.5e-7 of tanh absolutely (1.31e-7 at
  ;; worst over [-10.24, 10.24] in steps of 0.01, against tanh4's 8.6e-8),
  ;; not relatively near 0 (1 - e cancels there): a gate's value is scaled
  ;; and summed into the state, never divided by. Large |x|: e is 0 or
  ;; exp4's clamp (finite), so +-1; NaN stays NaN.
  (func $tanh_gate4 (param $x v128) (result v128)
    (local $e v128)
    (local.set $e (call $exp4 (f32x4.mul (local.get $x) (global.get $MINUS_TWO))))
    (f32x4.div (f32x4.sub (global.get $ONES) (local.get $e)) (f32x4.add (global.get $ONES) (local.get $e))))

  ;; dst[i] = act(src[i]) for i < n, four at a time then one by one; act 0 is
  ;; relu (x < 0 ? 0 : x, keeping NaN and -0), 1 sigmoid, 2 tanh, 3 relu6
  ;; (min(max(x, 0), 6)), 4 hard_sigmoid (relu6(x + 3) / 6), 5 hard_swish
  ;; (x relu6(x + 3) / 6), 6 gelu, 7 gelu's tanh approximation, as the
  ;; activation table's rows. dst may be src.
  (func (export "activate") (param $act i32) (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $quads i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    ;; where the whole vectors end
    (local.set $quads (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      ;; sigmoid, tanh and the GELUs each in a loop of its own, which calls its
      ;; function directly: build-wasm.js writes the function out there (INLINED),
      ;; where act4's dispatch cost two calls a vector (GELU ran 4 ns a value)
      (if (i32.eq (local.get $act) (i32.const 1))
        (then
          (block $sigmoid_done
            (loop $sigmoid
              (br_if $sigmoid_done (i32.ge_u (local.get $src) (local.get $quads)))
              (v128.store align=4 (local.get $dst) (call $sigmoid4 (v128.load align=4 (local.get $src))))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br $sigmoid)))
          (br $done)))
      (if (i32.eq (local.get $act) (i32.const 2))
        (then
          (block $tanh_done
            (loop $tanh
              (br_if $tanh_done (i32.ge_u (local.get $src) (local.get $quads)))
              (v128.store align=4 (local.get $dst) (call $tanh4 (v128.load align=4 (local.get $src))))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br $tanh)))
          (br $done)))
      (if (i32.eq (local.get $act) (i32.const 6))
        (then
          (block $gelu_done
            (loop $gelu
              (br_if $gelu_done (i32.ge_u (local.get $src) (local.get $quads)))
              (v128.store align=4 (local.get $dst) (call $gelu4 (v128.load align=4 (local.get $src))))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br $gelu)))
          (br $done)))
      (if (i32.eq (local.get $act) (i32.const 7))
        (then
          (block $gelu_tanh_done
            (loop $gelu_tanh
              (br_if $gelu_tanh_done (i32.ge_u (local.get $src) (local.get $quads)))
              (v128.store align=4 (local.get $dst) (call $gelu_tanh4 (v128.load align=4 (local.get $src))))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br $gelu_tanh)))
          (br $done)))
      (loop $others
        (br_if $done (i32.ge_u (local.get $src) (local.get $quads)))
        ;; relu and relu6 written out (act4's code): a call passing a v128 costs more than they do
        (local.set $v (v128.load align=4 (local.get $src)))
        (if (i32.eqz (local.get $act))
          (then (local.set $v (f32x4.pmax (local.get $v) (v128.const f32x4 0 0 0 0))))
          (else (if (i32.eq (local.get $act) (i32.const 3))
            (then (local.set $v (call $relu6_4 (local.get $v))))
            (else (local.set $v (call $act4 (local.get $act) (local.get $v)))))))
        (v128.store align=4 (local.get $dst) (local.get $v))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $others)))
    (block $done
      (loop $singles
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (f32.store (local.get $dst)
          (f32x4.extract_lane 0 (call $act4 (local.get $act) (v128.load32_zero (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $singles))))

  ;; GELU, four lanes in float32, with the TS kernels' formulas (ops/activations.ts):
  ;; exact, x (1 + erf(x / sqrt 2)) / 2 with erfc from Numerical Recipes' erfcc
  ;; (relative error 1.2e-7) and exp4: for x < 0, x erfc(|x| / sqrt 2) / 2, for x >= 0,
  ;; x - that, so that neither side cancels; and the tanh approximation,
  ;; x (1 + tanh(u)) / 2 = x sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3), written
  ;; with sigmoid4 so that it does not cancel for negative x either.
  (func $gelu4 (param $x v128) (result v128)
    (local $z v128) (local $t v128) (local $h v128)
    (local.set $z (f32x4.mul (f32x4.abs (local.get $x)) (global.get $SQRT_HALF)))
    (local.set $t (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (f32x4.mul (global.get $HALF4) (local.get $z)))))
    ;; h = x erfc(z) / 2, erfc(z) = t exp(-z^2 - 1.26551223 + t (1.00002368 + t (...)))
    (local.set $h (f32x4.mul (f32x4.mul (global.get $HALF4) (local.get $x))
      (f32x4.mul (local.get $t) (call $exp4
        (f32x4.add (f32x4.sub (f32x4.neg (f32x4.mul (local.get $z) (local.get $z))) (global.get $ERFC_C))
          (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (f32x4.add (f32x4.mul (local.get $t) (global.get $ERFC_P8)) (global.get $ERFC_P7))) (global.get $ERFC_P6))) (global.get $ERFC_P5))) (global.get $ERFC_P4))) (global.get $ERFC_P3))) (global.get $ERFC_P2))) (global.get $ERFC_P1))) (global.get $ERFC_P0))))))))
    (v128.bitselect (f32x4.sub (local.get $x) (local.get $h)) (local.get $h) (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))))

  (func $gelu_tanh4 (param $x v128) (result v128)
    (f32x4.mul (local.get $x) (call $sigmoid4 (f32x4.mul (global.get $TWO) (f32x4.mul (global.get $SQRT_2_OVER_PI)
      (f32x4.add (local.get $x) (f32x4.mul (global.get $GELU_CUBIC) (f32x4.mul (local.get $x) (f32x4.mul (local.get $x) (local.get $x))))))))))

  ;; relu6: min(max(x, 0), 6) as the TS kernels' Math.min and Math.max (NaN
  ;; stays, -0 becomes 0), in three instructions: pmax(x, 0) keeps NaN and -0,
  ;; + 0 turns -0 into 0, pmin(y, 6) keeps NaN. f32x4.max and f32x4.min, which
  ;; order NaN and signed zeros themselves, took 15 instructions in V8 (a 4x8
  ;; block's relu6 epilogue: 120). build-wasm.js writes it into its callers.
  ;; relu, x < 0 ? 0 : x (NaN and -0 kept), is pmax(x, 0) alone, written out
  ;; where used; a clamp to [lo, hi] pmin(pmax(x, lo), hi) (clamp4).
  (func $relu6_4 (param $x v128) (result v128)
    (f32x4.pmin (f32x4.add (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 0 0 0 0))
      (v128.const f32x4 6 6 6 6)))

    (func $act4 (param $act i32) (param $v v128) (result v128)
    (local $six v128) (local $r v128)
    (if (i32.eqz (local.get $act))
      (then (return (f32x4.pmax (local.get $v) (v128.const f32x4 0 0 0 0)))))
    (if (i32.eq (local.get $act) (i32.const 1)) (then (return (call $sigmoid4 (local.get $v)))))
    (if (i32.eq (local.get $act) (i32.const 2)) (then (return (call $tanh4 (local.get $v)))))
    (if (i32.eq (local.get $act) (i32.const 6)) (then (return (call $gelu4 (local.get $v)))))
    (if (i32.eq (local.get $act) (i32.const 7)) (then (return (call $gelu_tanh4 (local.get $v)))))
    (local.set $six (v128.const f32x4 6 6 6 6))
    (if (i32.eq (local.get $act) (i32.const 3))
      (then (return (call $relu6_4 (local.get $v)))))
    ;; relu6(x + 3), then / 6 (hard_sigmoid) or x * it / 6 (hard_swish)
    (local.set $r (call $relu6_4 (f32x4.add (local.get $v) (v128.const f32x4 3 3 3 3))))
    (if (i32.eq (local.get $act) (i32.const 4))
      (then (return (f32x4.div (local.get $r) (local.get $six)))))
    (f32x4.div (f32x4.mul (local.get $v) (local.get $r)) (local.get $six)))

  ;; Softmax of each of `rows` rows of n floats, src to dst (which may be src):
  ;; subtract the row's max, exponentiate, sum in float64, scale by 1 / sum.
  (func $softmax_rows (export "softmax_rows") (param $src i32) (param $dst i32) (param $rows i32) (param $n i32)
    (local $r i32) (local $i i32) (local $nb i32) (local $n4 i32) (local $s i32) (local $d i32)
    (local $mv v128) (local $m f32) (local $e v128) (local $sum v128) (local $inv f32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $nb) (i32.const -16)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $nb))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $nb))))
        ;; the max, keeping a value only when greater (as the TS kernel)
        (local.set $mv (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $i (i32.const 0))
        (block $max_done
          (loop $max
            (br_if $max_done (i32.ge_u (local.get $i) (local.get $n4)))
            (local.set $mv (f32x4.pmax (local.get $mv) (v128.load align=4 (i32.add (local.get $s) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $max)))
        (local.set $m (f32x4.extract_lane 0 (local.get $mv)))
        (if (f32.gt (f32x4.extract_lane 1 (local.get $mv)) (local.get $m)) (then (local.set $m (f32x4.extract_lane 1 (local.get $mv)))))
        (if (f32.gt (f32x4.extract_lane 2 (local.get $mv)) (local.get $m)) (then (local.set $m (f32x4.extract_lane 2 (local.get $mv)))))
        (if (f32.gt (f32x4.extract_lane 3 (local.get $mv)) (local.get $m)) (then (local.set $m (f32x4.extract_lane 3 (local.get $mv)))))
        (block $max_done
          (loop $max
            (br_if $max_done (i32.ge_u (local.get $i) (local.get $nb)))
            (if (f32.gt (f32.load (i32.add (local.get $s) (local.get $i))) (local.get $m))
              (then (local.set $m (f32.load (i32.add (local.get $s) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $max)))
        ;; e = exp(x - max) into dst, summed in float64 (two f64x2 lanes, one per half)
        (local.set $mv (f32x4.splat (local.get $m)))
        (local.set $sum (v128.const f64x2 0 0))
        (local.set $i (i32.const 0))
        (block $exp_done
          (loop $exp
            (br_if $exp_done (i32.ge_u (local.get $i) (local.get $n4)))
            (local.set $e (call $exp4 (f32x4.sub (v128.load align=4 (i32.add (local.get $s) (local.get $i))) (local.get $mv))))
            (v128.store align=4 (i32.add (local.get $d) (local.get $i)) (local.get $e))
            (local.set $sum (f64x2.add (local.get $sum) (f64x2.add (f64x2.promote_low_f32x4 (local.get $e))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $exp)))
        (block $exp_done
          (loop $exp
            (br_if $exp_done (i32.ge_u (local.get $i) (local.get $nb)))
            (local.set $e (call $exp4 (f32x4.sub (v128.load32_zero (i32.add (local.get $s) (local.get $i))) (local.get $mv))))
            (f32.store (i32.add (local.get $d) (local.get $i)) (f32x4.extract_lane 0 (local.get $e)))
            (local.set $sum (f64x2.add (local.get $sum) (f64x2.promote_low_f32x4 (v128.and (local.get $e) (v128.const i32x4 -1 0 0 0)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $exp)))
        (local.set $inv (f32.demote_f64 (f64.div (f64.const 1)
          (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))))
        (local.set $mv (f32x4.splat (local.get $inv)))
        (local.set $i (i32.const 0))
        (block $scale_done
          (loop $scale
            (br_if $scale_done (i32.ge_u (local.get $i) (local.get $n4)))
            (v128.store align=4 (i32.add (local.get $d) (local.get $i))
              (f32x4.mul (v128.load align=4 (i32.add (local.get $d) (local.get $i))) (local.get $mv)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $scale)))
        (block $scale_done
          (loop $scale
            (br_if $scale_done (i32.ge_u (local.get $i) (local.get $nb)))
            (f32.store (i32.add (local.get $d) (local.get $i))
              (f32.mul (f32.load (i32.add (local.get $d) (local.get $i))) (local.get $inv)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $scale)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop))))

  ;; One LSTM step for `rows` rows of `units` (a multiple of 4) units, gates i, f, c, o:
  ;;   z = zx + zh   (zx: row r at zx + r*zxStride bytes, zh: [rows, 4u] dense)
  ;;   i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_c), c = f c + i g, h = o tanh(c)
  ;; c and h are [rows, u] dense, updated in place; zh is scratch (it takes
  ;; the gates' values). When gates is not 0, the post-activation i, f, g, o
  ;; of row r are stored at gates + r*gatesStride (for the backward). A row
  ;; runs in two passes: the four gates over the whole row (four independent
  ;; chains of an exp and a division), then the state. In one loop, each
  ;; vector's path through a gate, c and tanh(c) was ~175 cycles of latency in
  ;; ~200 instructions, so the core held under two vectors' worth of work at
  ;; a time (LSTM(128), batch 32: 88 cycles a vector). sigmoid4 is written out
  ;; (1 / (1 + exp4(-z))): a call passing a v128 costs about a dozen vector
  ;; operations.
  (func $lstm_cell (export "lstm_cell")
    (param $zx i32) (param $zxStride i32) (param $zh i32) (param $c i32) (param $h i32)
    (param $gates i32) (param $gatesStride i32) (param $rows i32) (param $units i32)
    (local $gt i32)
    (local $r i32) (local $j i32) (local $ub i32) (local $x i32) (local $y i32) (local $k i32) (local $end i32)
    (local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $cv v128)
    (local.set $ub (i32.shl (local.get $units) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $x (i32.add (local.get $zx) (i32.mul (local.get $r) (local.get $zxStride))))
        (local.set $y (i32.add (local.get $zh) (i32.mul (local.get $r) (i32.shl (local.get $ub) (i32.const 2)))))
        (local.set $end (i32.add (local.get $y) (local.get $ub)))
        (local.set $gt (i32.add (local.get $gates) (i32.mul (local.get $r) (local.get $gatesStride))))
        ;; the gates, into zh's row: i, f, g, o at y, y + ub, y + 2ub, y + 3ub
        (block $gates_done
          (loop $gates_loop
            (br_if $gates_done (i32.ge_u (local.get $y) (local.get $end)))
            (local.set $i (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (f32x4.add (v128.load align=4 (local.get $x)) (v128.load align=4 (local.get $y))))))))
            (local.set $f (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (f32x4.add
              (v128.load align=4 (i32.add (local.get $x) (local.get $ub)))
              (v128.load align=4 (i32.add (local.get $y) (local.get $ub)))))))))
            (local.set $g (call $tanh_gate4 (f32x4.add
              (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $ub) (i32.const 1))))
              (v128.load align=4 (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1)))))))
            (local.set $o (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (f32x4.add
              (v128.load align=4 (i32.add (local.get $x) (i32.mul (local.get $ub) (i32.const 3))))
              (v128.load align=4 (i32.add (local.get $y) (i32.mul (local.get $ub) (i32.const 3))))))))))
            (v128.store align=4 (local.get $y) (local.get $i))
            (v128.store align=4 (i32.add (local.get $y) (local.get $ub)) (local.get $f))
            (v128.store align=4 (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1))) (local.get $g))
            (v128.store align=4 (i32.add (local.get $y) (i32.mul (local.get $ub) (i32.const 3))) (local.get $o))
            (if (local.get $gates)
              (then
                (v128.store align=4 (local.get $gt) (local.get $i))
                (v128.store align=4 (i32.add (local.get $gt) (local.get $ub)) (local.get $f))
                (v128.store align=4 (i32.add (local.get $gt) (i32.shl (local.get $ub) (i32.const 1))) (local.get $g))
                (v128.store align=4 (i32.add (local.get $gt) (i32.mul (local.get $ub) (i32.const 3))) (local.get $o))
                (local.set $gt (i32.add (local.get $gt) (i32.const 16)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (br $gates_loop)))
        ;; the state: c = f c + i g, h = o tanh(c)
        (local.set $y (i32.sub (local.get $y) (local.get $ub)))
        (local.set $k (i32.mul (local.get $r) (local.get $ub)))
        (local.set $j (i32.const 0))
        (block $units_done
          (loop $units_loop
            (br_if $units_done (i32.ge_u (local.get $j) (local.get $ub)))
            (local.set $cv (f32x4.add
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y) (local.get $ub))) (v128.load align=4 (i32.add (local.get $c) (local.get $k))))
              (f32x4.mul (v128.load align=4 (local.get $y)) (v128.load align=4 (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1)))))))
            (v128.store align=4 (i32.add (local.get $c) (local.get $k)) (local.get $cv))
            (v128.store align=4 (i32.add (local.get $h) (local.get $k))
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y) (i32.mul (local.get $ub) (i32.const 3)))) (call $tanh_gate4 (local.get $cv))))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $units_loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; One GRU step (Keras's reset_after), kernels/recurrent.ts's gruStep: per row,
  ;; a = zx (input part, row stride zxStride bytes), e = zh + rb ([3u] each,
  ;; gates z, r, h); z, r = sigmoid(a + e), h~ = tanh(a_h + r e_h),
  ;; h = z h + (1 - z) h~ in place. gates (when not 0, row stride gatesStride
  ;; bytes) keeps z, r, h~, e_h for the backward. units is a multiple of 4.
  ;; zh is scratch. A row runs in two passes, as lstm_cell's: z, r and e_h
  ;; over the row (into zh's row), then h~ and h (each vector's path through
  ;; r, h~ and h in one loop was too long for the core to overlap enough of
  ;; them); the same operations on each value, so the same bits.
  (func $gru_cell (export "gru_cell")
    (param $zx i32) (param $zxStride i32) (param $zh i32) (param $rb i32) (param $h i32)
    (param $gates i32) (param $gatesStride i32) (param $rows i32) (param $units i32)
    (local $gt i32)
    (local $r i32) (local $j i32) (local $ub i32) (local $x i32) (local $y i32) (local $b i32) (local $k i32)
    (local $zv v128) (local $rv v128) (local $ev v128) (local $cv v128) (local $hv v128)
    (local.set $ub (i32.shl (local.get $units) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $x (i32.add (local.get $zx) (i32.mul (local.get $r) (local.get $zxStride))))
        (local.set $y (i32.add (local.get $zh) (i32.mul (local.get $r) (i32.mul (local.get $ub) (i32.const 3)))))
        (local.set $b (local.get $rb))
        ;; z, r and e_h, into zh's row at y, y + ub, y + 2ub
        (local.set $j (i32.const 0))
        (block $gates_done
          (loop $gates_loop
            (br_if $gates_done (i32.ge_u (local.get $j) (local.get $ub)))
            (local.set $zv (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (f32x4.add (v128.load align=4 (i32.add (local.get $x) (local.get $j)))
              (f32x4.add (v128.load align=4 (i32.add (local.get $y) (local.get $j))) (v128.load align=4 (i32.add (local.get $b) (local.get $j))))))))))
            (local.set $rv (f32x4.div (global.get $ONES) (f32x4.add (global.get $ONES) (call $exp4 (f32x4.neg (f32x4.add (v128.load align=4 (i32.add (i32.add (local.get $x) (local.get $ub)) (local.get $j)))
              (f32x4.add (v128.load align=4 (i32.add (i32.add (local.get $y) (local.get $ub)) (local.get $j))) (v128.load align=4 (i32.add (i32.add (local.get $b) (local.get $ub)) (local.get $j))))))))))
            (v128.store align=4 (i32.add (local.get $y) (local.get $j)) (local.get $zv))
            (v128.store align=4 (i32.add (i32.add (local.get $y) (local.get $ub)) (local.get $j)) (local.get $rv))
            (v128.store align=4 (i32.add (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1))) (local.get $j))
              (f32x4.add
                (v128.load align=4 (i32.add (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1))) (local.get $j)))
                (v128.load align=4 (i32.add (i32.add (local.get $b) (i32.shl (local.get $ub) (i32.const 1))) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $gates_loop)))
        ;; h~ and h
        (local.set $k (i32.mul (local.get $r) (local.get $ub)))
        (local.set $j (i32.const 0))
        (block $units_done
          (loop $units_loop
            (br_if $units_done (i32.ge_u (local.get $j) (local.get $ub)))
            (local.set $zv (v128.load align=4 (local.get $y)))
            (local.set $rv (v128.load align=4 (i32.add (local.get $y) (local.get $ub))))
            (local.set $ev (v128.load align=4 (i32.add (local.get $y) (i32.shl (local.get $ub) (i32.const 1)))))
            (local.set $cv (call $tanh_gate4 (f32x4.add
              (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $ub) (i32.const 1))))
              (f32x4.mul (local.get $rv) (local.get $ev)))))
            ;; z h + (1 - z) h~, as the TS twin computes it
            (local.set $hv (f32x4.add
              (f32x4.mul (local.get $zv) (v128.load align=4 (i32.add (local.get $h) (local.get $k))))
              (f32x4.mul (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $zv)) (local.get $cv))))
            (v128.store align=4 (i32.add (local.get $h) (local.get $k)) (local.get $hv))
            (if (local.get $gates)
              (then
                (local.set $gt (i32.add (i32.add (local.get $gates) (i32.mul (local.get $r) (local.get $gatesStride))) (local.get $j)))
                (v128.store align=4 (local.get $gt) (local.get $zv))
                (v128.store align=4 (i32.add (local.get $gt) (local.get $ub)) (local.get $rv))
                (v128.store align=4 (i32.add (local.get $gt) (i32.shl (local.get $ub) (i32.const 1))) (local.get $cv))
                (v128.store align=4 (i32.add (local.get $gt) (i32.mul (local.get $ub) (i32.const 3))) (local.get $ev))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $units_loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; C[r0:r1, 8*p0 : 8*p1] from op(A) at a and the packed B at pb (pack_b, all
  ;; panels). transA = 2: a is a conv descriptor and A the im2col rows
  ;; (pack_a_conv; conv_taps when the descriptor has a tap table); 3: the
  ;; same, A transposed (pack_at_conv).
  ;; panels). r0 is a multiple of 4. scratch holds mc/4 strips of K*16 bytes,
  ;; then micro's 384-byte tile; mc (rows per block) is a multiple of 4.
  (func $gemm (export "gemm")
    (param $a i32) (param $transA i32) (param $pb i32) (param $c i32) (param $bias i32)
    (param $M i32) (param $K i32) (param $N i32) (param $flags i32)
    (param $r0 i32) (param $r1 i32) (param $p0 i32) (param $p1 i32) (param $scratch i32) (param $mc i32)
    (local $i0 i32) (local $ib i32) (local $ie i32) (local $p i32)
    (local $strip i32) (local $stripBytes i32) (local $tile i32) (local $mr i32) (local $nr i32)
    (local $panel i32) (local $panelBytes i32) (local $direct i32) (local $inPlace i32) (local $lda i32) (local $run i32) (local $group i32)
    (if (i32.and (i32.eq (local.get $transA) (i32.const 2)) (i32.ne (i32.load offset=60 (local.get $a)) (i32.const 0)))
      (then
        (call $conv_taps (local.get $a) (local.get $pb) (local.get $c) (local.get $bias) (local.get $M) (local.get $K) (local.get $N)
          (local.get $flags) (local.get $r0) (local.get $r1) (local.get $p0) (local.get $p1) (local.get $scratch))
        (return)))
    ;; With few panels, a strip's packing costs as much as a good part of its products (K = 144, N = 24:
    ;; 36 4x4 transposes against 3 panels' 432 k steps), so a plain A's full strips are read in place
    (local.set $inPlace (i32.and (i32.eqz (local.get $transA))
      (i32.le_s (i32.sub (local.get $p1) (local.get $p0)) (global.get $DIRECT_PANELS))))
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
            (if (i32.and (local.get $inPlace) (i32.le_s (i32.add (local.get $i0) (i32.const 4)) (local.get $M)))
              (then) ;; read in place
              (else
            (if (i32.eq (local.get $transA) (i32.const 2))
              (then (call $pack_a_conv (local.get $a) (local.get $M) (local.get $i0) (local.get $strip)))
              (else (if (i32.eq (local.get $transA) (i32.const 3))
                (then (call $pack_at_conv (local.get $a) (local.get $M) (local.get $K) (local.get $i0) (local.get $strip)))
                (else (call $pack_a (local.get $a) (local.get $transA) (local.get $M) (local.get $K)
                  (local.get $i0) (local.get $strip))))))))
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
                (local.set $mr (i32.sub (local.get $M) (local.get $i0)))
                (if (i32.gt_s (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
                ;; a whole 4x8 block that does not accumulate, with K <= KCH, goes straight into C (micro's `out`)
                (local.set $direct (select
                  (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $N)) (i32.shl (local.get $p) (i32.const 3))) (i32.const 2)))
                  (i32.const 0)
                  (i32.and (i32.eqz (i32.and (local.get $flags) (global.get $ACCUMULATE))) (i32.and (i32.le_s (local.get $K) (global.get $KCH))
                    (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))))))
                (local.set $lda (select (i32.shl (local.get $K) (i32.const 2)) (i32.const 0)
                  (i32.and (local.get $inPlace) (i32.eq (local.get $mr) (i32.const 4)))))
                ;; a block straight into C takes the block's full strips after it along in the same call
                (local.set $run (select (i32.shr_u (i32.sub (local.get $ie) (local.get $i0)) (i32.const 2)) (i32.const 1) (local.get $direct)))
                ;; a short last strip's rows go four panels at a time (short_strip, at
                ;; the first panel of each four from p0); a last one, two or three panels as a 4x8 block
                (local.set $group (i32.sub (local.get $p) (i32.and (i32.sub (local.get $p) (local.get $p0)) (i32.const 3))))
                (if (i32.and (i32.lt_s (local.get $mr) (i32.const 4))
                      (i32.and (i32.le_s (i32.add (local.get $group) (i32.const 4)) (local.get $p1))
                        (i32.eqz (i32.and (local.get $flags) (global.get $POOL)))))
                  (then
                    (if (i32.eq (local.get $p) (local.get $group))
                      (then
                        (call $short_strip (local.get $strip) (local.get $mr) (local.get $panel) (local.get $panelBytes) (local.get $K)
                          (local.get $tile) (local.get $c) (local.get $N) (local.get $i0) (local.get $p) (local.get $bias) (local.get $flags)))))
                  (else
                (call $micro
                  (select (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $lda))) (local.get $strip) (local.get $lda))
                  (local.get $panel) (local.get $K) (local.get $tile) (local.get $direct) (i32.shl (local.get $N) (i32.const 2))
                  (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5))) (local.get $flags) (i32.const 0) (local.get $lda)
                  (local.get $run))
                (local.set $strip (i32.add (local.get $strip) (i32.mul (i32.sub (local.get $run) (i32.const 1)) (local.get $stripBytes))))
                (local.set $i0 (i32.add (local.get $i0) (i32.shl (i32.sub (local.get $run) (i32.const 1)) (i32.const 2))))
                (if (i32.eqz (local.get $direct))
                  (then
                    (call $store (local.get $tile) (local.get $c) (local.get $N) (local.get $i0)
                      (i32.shl (local.get $p) (i32.const 3)) (local.get $mr) (local.get $nr)
                      (local.get $bias) (local.get $flags))))))
                (local.set $strip (i32.add (local.get $strip) (local.get $stripBytes)))
                (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
                (br $strips)))
            (local.set $panel (i32.add (local.get $panel) (local.get $panelBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $panels_loop)))
        (local.set $ib (local.get $ie))
        (br $blocks))))
  ;; A convolution's kernel gradient im2col(x)^T dz in slices of its images,
  ;; for kernels too small to share out by rows (K' = kh*kw*C rows: a first
  ;; layer's 9 or 27): slice s of [s0, s1) packs its rows of dz and computes
  ;; its own [M, N] product over them, with its own descriptor (x moved to
  ;; the slice's first image), packed B, output and scratch, each `...Bytes`
  ;; after the previous slice's. The caller adds the slices' products up in a
  ;; fixed order, so the result does not depend on the number of threads.
  (func (export "conv_grad_slices")
    (param $desc i32) (param $descBytes i32) (param $dz i32) (param $dzBytes i32)
    (param $pb i32) (param $pbBytes i32) (param $out i32) (param $outBytes i32)
    (param $scratch i32) (param $scratchBytes i32)
    (param $M i32) (param $K i32) (param $N i32) (param $s0 i32) (param $s1 i32) (param $taps i32)
    (local $s i32) (local $panels i32)
    (local.set $panels (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $s (local.get $s0))
    (block $done
      (loop $slices
        (br_if $done (i32.ge_u (local.get $s) (local.get $s1)))
        (if (local.get $taps)
          (then
            (call $grad_taps (i32.add (local.get $desc) (i32.mul (local.get $s) (local.get $descBytes)))
              (i32.add (local.get $dz) (i32.mul (local.get $s) (local.get $dzBytes)))
              (i32.add (local.get $out) (i32.mul (local.get $s) (local.get $outBytes)))
              (i32.add (local.get $scratch) (i32.mul (local.get $s) (local.get $scratchBytes)))
              (local.get $M) (local.get $K) (local.get $N))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $slices)))
        (call $pack_b (i32.add (local.get $dz) (i32.mul (local.get $s) (local.get $dzBytes))) (i32.const 0)
          (local.get $K) (local.get $N) (i32.add (local.get $pb) (i32.mul (local.get $s) (local.get $pbBytes)))
          (i32.const 0) (local.get $panels))
        (call $gemm (i32.add (local.get $desc) (i32.mul (local.get $s) (local.get $descBytes))) (i32.const 3)
          (i32.add (local.get $pb) (i32.mul (local.get $s) (local.get $pbBytes)))
          (i32.add (local.get $out) (i32.mul (local.get $s) (local.get $outBytes))) (i32.const 0)
          (local.get $M) (local.get $K) (local.get $N) (i32.const 0) (i32.const 0) (local.get $M) (i32.const 0) (local.get $panels)
          (i32.add (local.get $scratch) (i32.mul (local.get $s) (local.get $scratchBytes)))
          (i32.and (i32.add (local.get $M) (i32.const 3)) (i32.const -4)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $slices))))

;; One slice's kernel gradient out [M, N] = im2col(x)^T dz (M = kh*kw*C
  ;; rows, K positions, N filters, a multiple of 8) without packing either
  ;; side, for a convolution whose windows all lie inside the image (no
  ;; padding) and whose descriptor has its tap table (describeConv): a first
  ;; layer's 3x3x1, whose im2col^T and dz took longer to pack than to multiply.
  ;; For each output row, each strip of four kernel rows against each panel of
  ;; eight filters: micro_grad_taps reads x at the row's window origins plus
  ;; the taps' offsets, and dz's rows in place. The row's float32 sums (at most
  ;; KCH positions: a longer output row is cut) are added into float64 sums
  ;; at scratch (ceil(M/4) * N/8 blocks of 4x8, 256 bytes each), which are
  ;; rounded to out's float32 at the end: the precision of gemm's long
  ;; products, summed by output row instead of by 128 positions.
  ;; Rows of the last strip past M read tap 0 again; they are not written out.
  (func $grad_taps (param $d i32) (param $dz i32) (param $out i32) (param $acc i32)
    (param $M i32) (param $K i32) (param $N i32)
    (local $H i32) (local $W i32) (local $cb i32) (local $OH i32) (local $OW i32) (local $step i32)
    (local $strips i32) (local $panels i32) (local $blocks i32) (local $taps i32)
    (local $images i32) (local $img i32) (local $oy i32) (local $ox i32) (local $len i32)
    (local $row i32) (local $dzAt i32) (local $st i32) (local $p i32) (local $block i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $t i32) (local $r i32) (local $j i32)
    (local.set $H (i32.load offset=4 (local.get $d)))
    (local.set $W (i32.load offset=8 (local.get $d)))
    (local.set $cb (i32.shl (i32.load offset=12 (local.get $d)) (i32.const 2)))
    (local.set $OH (i32.load offset=24 (local.get $d)))
    (local.set $OW (i32.load offset=28 (local.get $d)))
    (local.set $step (i32.mul (i32.load offset=36 (local.get $d)) (local.get $cb)))
    (local.set $taps (i32.load offset=60 (local.get $d)))
    (local.set $strips (i32.shr_u (i32.add (local.get $M) (i32.const 3)) (i32.const 2)))
    (local.set $panels (i32.shr_u (local.get $N) (i32.const 3)))
    (local.set $blocks (i32.mul (local.get $strips) (local.get $panels)))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $blocks) (i32.const 8)))
    (local.set $images (i32.div_u (local.get $K) (i32.mul (local.get $OH) (local.get $OW))))
    (local.set $dzAt (local.get $dz))
    (block $images_done (loop $images_loop
      (br_if $images_done (i32.ge_u (local.get $img) (local.get $images)))
      (local.set $oy (i32.const 0))
      (loop $rows
        ;; the first window of output row oy starts at x's row oy*sh, column 0
        (local.set $row (i32.add (i32.load (local.get $d))
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $img) (local.get $H))
            (i32.mul (local.get $oy) (i32.load offset=32 (local.get $d)))) (local.get $W)) (local.get $cb))))
        (local.set $ox (i32.const 0))
        (loop $pieces
          (local.set $len (i32.sub (local.get $OW) (local.get $ox)))
          (if (i32.gt_u (local.get $len) (global.get $KCH)) (then (local.set $len (global.get $KCH))))
          (local.set $block (local.get $acc))
          (local.set $st (i32.const 0))
          (loop $strip_loop
            ;; the strip's four kernel rows (the last strip's rows past M repeat tap 0)
            (local.set $t (i32.shl (local.get $st) (i32.const 2)))
            (local.set $b0 (i32.add (local.get $row) (i32.load (i32.add (local.get $taps) (i32.shl (local.get $t) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (local.set $b1 (i32.add (local.get $row) (i32.load (i32.add (local.get $taps)
              (i32.shl (select (local.get $t) (i32.const 0) (i32.lt_u (local.get $t) (local.get $M))) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (local.set $b2 (i32.add (local.get $row) (i32.load (i32.add (local.get $taps)
              (i32.shl (select (local.get $t) (i32.const 0) (i32.lt_u (local.get $t) (local.get $M))) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (local.set $b3 (i32.add (local.get $row) (i32.load (i32.add (local.get $taps)
              (i32.shl (select (local.get $t) (i32.const 0) (i32.lt_u (local.get $t) (local.get $M))) (i32.const 2))))))
            (local.set $p (i32.const 0))
            (loop $panel_loop
              (call $micro_grad_taps (local.get $b0) (local.get $b1) (local.get $b2) (local.get $b3) (local.get $step)
                (i32.add (local.get $dzAt) (i32.shl (local.get $p) (i32.const 5))) (i32.shl (local.get $N) (i32.const 2))
                (local.get $len) (local.get $block))
              (local.set $block (i32.add (local.get $block) (i32.const 256)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br_if $panel_loop (i32.lt_u (local.get $p) (local.get $panels))))
            (local.set $st (i32.add (local.get $st) (i32.const 1)))
            (br_if $strip_loop (i32.lt_u (local.get $st) (local.get $strips))))
          (local.set $row (i32.add (local.get $row) (i32.mul (local.get $len) (local.get $step))))
          (local.set $dzAt (i32.add (local.get $dzAt) (i32.mul (local.get $len) (i32.shl (local.get $N) (i32.const 2)))))
          (local.set $ox (i32.add (local.get $ox) (local.get $len)))
          (br_if $pieces (i32.lt_u (local.get $ox) (local.get $OW))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $oy) (local.get $OH))))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images_loop)))
    ;; out[r, j] = the float64 sum, rounded, for the M real rows
    (local.set $block (local.get $acc))
    (local.set $st (i32.const 0))
    (loop $strip_out
      (local.set $p (i32.const 0))
      (loop $panel_out
        (local.set $r (i32.const 0))
        (loop $row_out
          (local.set $t (i32.add (i32.shl (local.get $st) (i32.const 2)) (local.get $r)))
          (if (i32.lt_u (local.get $t) (local.get $M))
            (then
              (local.set $j (i32.const 0))
              (loop $col_out
                (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $N))
                  (i32.add (i32.shl (local.get $p) (i32.const 3)) (local.get $j))) (i32.const 2)))
                  (f32.demote_f64 (f64.load (i32.add (local.get $block)
                    (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 3))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $col_out (i32.lt_u (local.get $j) (i32.const 8))))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $row_out (i32.lt_u (local.get $r) (i32.const 4))))
        (local.set $block (i32.add (local.get $block) (i32.const 256)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $panel_out (i32.lt_u (local.get $p) (local.get $panels))))
      (local.set $st (i32.add (local.get $st) (i32.const 1)))
      (br_if $strip_out (i32.lt_u (local.get $st) (local.get $strips)))))

  ;; sums[4][8] (float64, row-major at $sums) += the float32 sums over i < len
  ;; of x[b_r + i*step] * dz[i*ldz + j] (eight filters from dz): one strip of
  ;; grad_taps' kernel rows against one panel, over one output row's positions.
  (func $micro_grad_taps (param $b0 i32) (param $b1 i32) (param $b2 i32) (param $b3 i32) (param $step i32)
    (param $dz i32) (param $ldz i32) (param $len i32) (param $sums i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $v0 v128) (local $v1 v128) (local $a v128) (local $o i32) (local $end i32)
    (local.set $end (i32.mul (local.get $len) (local.get $step)))
    (loop $k
      (local.set $v0 (v128.load offset=0 align=4 (local.get $dz)))
      (local.set $v1 (v128.load offset=16 align=4 (local.get $dz)))
      (local.set $a (v128.load32_splat (i32.add (local.get $b0) (local.get $o))))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $v0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $v1))))
      (local.set $a (v128.load32_splat (i32.add (local.get $b1) (local.get $o))))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $v0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $v1))))
      (local.set $a (v128.load32_splat (i32.add (local.get $b2) (local.get $o))))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $v0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $v1))))
      (local.set $a (v128.load32_splat (i32.add (local.get $b3) (local.get $o))))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $v0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $v1))))
      (local.set $dz (i32.add (local.get $dz) (local.get $ldz)))
      (local.set $o (i32.add (local.get $o) (local.get $step)))
      (br_if $k (i32.lt_u (local.get $o) (local.get $end))))
    (v128.store offset=0 (local.get $sums)
      (f64x2.add (v128.load offset=0 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c00))))
    (v128.store offset=16 (local.get $sums)
      (f64x2.add (v128.load offset=16 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c00) (local.get $c00)))))
    (v128.store offset=32 (local.get $sums)
      (f64x2.add (v128.load offset=32 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c01))))
    (v128.store offset=48 (local.get $sums)
      (f64x2.add (v128.load offset=48 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c01) (local.get $c01)))))
    (v128.store offset=64 (local.get $sums)
      (f64x2.add (v128.load offset=64 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c10))))
    (v128.store offset=80 (local.get $sums)
      (f64x2.add (v128.load offset=80 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c10) (local.get $c10)))))
    (v128.store offset=96 (local.get $sums)
      (f64x2.add (v128.load offset=96 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c11))))
    (v128.store offset=112 (local.get $sums)
      (f64x2.add (v128.load offset=112 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c11) (local.get $c11)))))
    (v128.store offset=128 (local.get $sums)
      (f64x2.add (v128.load offset=128 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c20))))
    (v128.store offset=144 (local.get $sums)
      (f64x2.add (v128.load offset=144 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c20) (local.get $c20)))))
    (v128.store offset=160 (local.get $sums)
      (f64x2.add (v128.load offset=160 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c21))))
    (v128.store offset=176 (local.get $sums)
      (f64x2.add (v128.load offset=176 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c21) (local.get $c21)))))
    (v128.store offset=192 (local.get $sums)
      (f64x2.add (v128.load offset=192 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c30))))
    (v128.store offset=208 (local.get $sums)
      (f64x2.add (v128.load offset=208 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c30) (local.get $c30)))))
    (v128.store offset=224 (local.get $sums)
      (f64x2.add (v128.load offset=224 (local.get $sums)) (f64x2.promote_low_f32x4 (local.get $c31))))
    (v128.store offset=240 (local.get $sums)
      (f64x2.add (v128.load offset=240 (local.get $sums))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c31) (local.get $c31))))))

  ;; A whole recurrent layer's time loop for batch rows [r0, r1) (r0 a
  ;; multiple of 4): at each step, zh = h U for those rows (gemm, U packed
  ;; once), then the cell (lstm_cell or gru_cell). Rows are independent, so
  ;; threads take disjoint rows for all T steps and never wait for each
  ;; other, and a row's values do not depend on which rows share its thread.
  ;; The descriptor (i32s), with G = 4 gates (LSTM) or 3 (GRU):
  ;;   0 xw: [B*T, G*u], x W + b for every step (row b*T + t)
  ;;   4 T   8 units   12 pb: U [u, G*u] packed (pack_b)
  ;;   16 zh: [B, G*u]   20 h: [B, u], updated in place
  ;;   24 the LSTM's c [B, u], updated in place; the GRU's recurrent bias [3u]
  ;;   28 out: [B, T, u] for every step's h, when 48 (sequences) is 1 (out may be byte 0)
  ;;   32 reverse: 1 runs t from T-1 down
  ;;   36 scratch: per 4 rows, 40 bytes apart (gemm's strip and tile)   44 B
  ;;   52 cell: 0 LSTM, 1 GRU (reset_after)
  ;;   56 trace: 1 also keeps what a training step's backward needs, each
  ;;      [B, T, ...] as out is: 60 h before each step [B, T, u], 64 and 68 the
  ;;      LSTM's c before and after each step [B, T, u], 72 the cell's gates
  ;;      [B, T, 4u] (lstm_cell's and gru_cell's `gates`)
  (func (export "recurrent_rows") (param $desc i32) (param $r0 i32) (param $r1 i32)
    (local $T i32) (local $u i32) (local $ub i32) (local $width i32) (local $wb i32) (local $B i32)
    (local $s i32) (local $t i32) (local $rows i32) (local $out i32) (local $scratch i32)
    (local $zx i32) (local $zh i32) (local $h i32) (local $trace i32) (local $at i32) (local $gates i32)
    (local.set $T (i32.load offset=4 (local.get $desc)))
    (local.set $u (i32.load offset=8 (local.get $desc)))
    (local.set $B (i32.load offset=44 (local.get $desc)))
    (if (i32.gt_s (local.get $r1) (local.get $B)) (then (local.set $r1 (local.get $B))))
    (if (i32.ge_s (local.get $r0) (local.get $r1)) (then (return)))
    (local.set $rows (i32.sub (local.get $r1) (local.get $r0)))
    (local.set $ub (i32.shl (local.get $u) (i32.const 2)))
    (local.set $width (i32.mul (local.get $u) (select (i32.const 3) (i32.const 4) (i32.load offset=52 (local.get $desc)))))
    (local.set $wb (i32.shl (local.get $width) (i32.const 2)))
    (local.set $out (i32.load offset=28 (local.get $desc)))
    (local.set $scratch (i32.add (i32.load offset=36 (local.get $desc))
      (i32.mul (i32.shr_u (local.get $r0) (i32.const 2)) (i32.load offset=40 (local.get $desc)))))
    (block $done
      (loop $steps
        (br_if $done (i32.ge_s (local.get $s) (local.get $T)))
        (local.set $t (select (i32.sub (i32.sub (local.get $T) (i32.const 1)) (local.get $s)) (local.get $s)
          (i32.load offset=32 (local.get $desc))))
        (local.set $trace (i32.load offset=56 (local.get $desc)))
        ;; row b, step t of a [B, T, n] trace: + (b*T + t) * n*4 bytes
        (local.set $at (i32.add (i32.mul (local.get $r0) (local.get $T)) (local.get $t)))
        (if (local.get $trace)
          (then
            (call $copy_rows (i32.add (i32.load offset=60 (local.get $desc)) (i32.mul (local.get $at) (local.get $ub)))
              (i32.add (i32.load offset=20 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub)))
              (local.get $rows) (local.get $u) (i32.mul (local.get $T) (local.get $ub)) (local.get $ub))
            (if (i32.eqz (i32.load offset=52 (local.get $desc)))
              (then
                (call $copy_rows (i32.add (i32.load offset=64 (local.get $desc)) (i32.mul (local.get $at) (local.get $ub)))
                  (i32.add (i32.load offset=24 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub)))
                  (local.get $rows) (local.get $u) (i32.mul (local.get $T) (local.get $ub)) (local.get $ub))))))
        (local.set $gates (select (i32.add (i32.load offset=72 (local.get $desc)) (i32.shl (i32.mul (local.get $at) (local.get $ub)) (i32.const 2)))
          (i32.const 0) (local.get $trace)))
        (call $gemm (i32.load offset=20 (local.get $desc)) (i32.const 0) (i32.load offset=12 (local.get $desc))
          (i32.load offset=16 (local.get $desc)) (i32.const 0) (local.get $B) (local.get $u) (local.get $width) (i32.const 0)
          (local.get $r0) (local.get $r1) (i32.const 0) (i32.shr_u (i32.add (local.get $width) (i32.const 7)) (i32.const 3))
          (local.get $scratch) (i32.and (i32.add (local.get $rows) (i32.const 3)) (i32.const -4)))
        (local.set $zx (i32.add (i32.load (local.get $desc))
          (i32.mul (i32.add (i32.mul (local.get $r0) (local.get $T)) (local.get $t)) (local.get $wb))))
        (local.set $zh (i32.add (i32.load offset=16 (local.get $desc)) (i32.mul (local.get $r0) (local.get $wb))))
        (local.set $h (i32.add (i32.load offset=20 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub))))
        (if (i32.load offset=52 (local.get $desc))
          (then
            (call $gru_cell (local.get $zx) (i32.mul (local.get $T) (local.get $wb)) (local.get $zh)
              (i32.load offset=24 (local.get $desc)) (local.get $h) (local.get $gates) (i32.shl (i32.mul (local.get $T) (local.get $ub)) (i32.const 2))
              (local.get $rows) (local.get $u)))
          (else
            (call $lstm_cell (local.get $zx) (i32.mul (local.get $T) (local.get $wb)) (local.get $zh)
              (i32.add (i32.load offset=24 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub))) (local.get $h)
              (local.get $gates) (i32.shl (i32.mul (local.get $T) (local.get $ub)) (i32.const 2)) (local.get $rows) (local.get $u))
            (if (local.get $trace)
              (then
                (call $copy_rows (i32.add (i32.load offset=68 (local.get $desc)) (i32.mul (local.get $at) (local.get $ub)))
                  (i32.add (i32.load offset=24 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub)))
                  (local.get $rows) (local.get $u) (i32.mul (local.get $T) (local.get $ub)) (local.get $ub))))))
        (if (i32.load offset=48 (local.get $desc))
          (then
            (call $copy_rows
              (i32.add (local.get $out) (i32.mul (i32.add (i32.mul (local.get $r0) (local.get $T)) (local.get $t)) (local.get $ub)))
              (i32.add (i32.load offset=20 (local.get $desc)) (i32.mul (local.get $r0) (local.get $ub)))
              (local.get $rows) (local.get $u) (i32.mul (local.get $T) (local.get $ub)) (local.get $ub))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $steps))))

  ;; Winograd F(2x2, 3x3) for a 3x3 convolution with stride 1 and no
  ;; dilation (Lavin and Gray, 2016): each 2x2 block of outputs ("tile") is
  ;;   y = A^T [ (G g G^T) (.) (B^T d B) ] A
  ;; over the 4x4 input patch d under it, summed over channels, where (.) is
  ;; elementwise over the 16 positions xi. So the convolution is 16 products
  ;; V_xi [tiles, C] . U_xi [C, F], 2.25x fewer multiply-adds than 9 taps
  ;; over 4 outputs. C and F are multiples of 4 (the caller checks), which
  ;; the channel loops below count on.
  ;;
  ;; winograd_kernel writes U = G g G^T for kernel panels [p0, p1): U_xi
  ;; packed as pack_b packs a [C, F] matrix (panel p at
  ;; pu + xi*(panels*C*32 + U_SKEW) + p*C*32), columns past F zero. g is the kernel
  ;; [3,3,C,F]: four filters f..f+3 are one vector, so this is pack_b and
  ;; the transform in one pass.
  (func (export "winograd_kernel")
    (param $k i32) (param $C i32) (param $F i32) (param $pu i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $h i32) (local $c i32) (local $f i32) (local $panels i32)
    (local $tap i32) (local $ustride i32) (local $src i32) (local $dst i32) (local $xi i32)
    (local $g00 v128) (local $g01 v128) (local $g02 v128) (local $g10 v128) (local $g11 v128) (local $g12 v128) (local $g20 v128) (local $g21 v128) (local $g22 v128) (local $k00 v128) (local $k01 v128) (local $k02 v128) (local $k10 v128) (local $k11 v128) (local $k12 v128) (local $k20 v128) (local $k21 v128) (local $k22 v128) (local $k30 v128) (local $k31 v128) (local $k32 v128)
    (local.set $panels (i32.shr_u (i32.add (local.get $F) (i32.const 7)) (i32.const 3)))
    (local.set $tap (i32.shl (i32.mul (local.get $C) (local.get $F)) (i32.const 2)))
    (local.set $ustride (i32.add (i32.shl (i32.mul (local.get $panels) (local.get $C)) (i32.const 5)) (global.get $U_SKEW)))
    (local.set $p (local.get $p0))
    (block $panels_done
      (loop $panels_loop
        (br_if $panels_done (i32.ge_s (local.get $p) (local.get $p1)))
        ;; the panel's two halves of four filters
        (local.set $h (i32.const 0))
        (loop $halves
          (local.set $f (i32.add (i32.shl (local.get $p) (i32.const 3)) (i32.shl (local.get $h) (i32.const 2))))
          (local.set $c (i32.const 0))
          (block $channels_done
            (loop $channels
              (br_if $channels_done (i32.ge_s (local.get $c) (local.get $C)))
              (local.set $dst (i32.add (local.get $pu)
                (i32.add (i32.shl (i32.add (i32.mul (local.get $p) (local.get $C)) (local.get $c)) (i32.const 5))
                  (i32.shl (local.get $h) (i32.const 4)))))
              (if (i32.lt_s (local.get $f) (local.get $F))
                (then
                  (local.set $src (i32.add (local.get $k)
                    (i32.shl (i32.add (i32.mul (local.get $c) (local.get $F)) (local.get $f)) (i32.const 2))))
                  (local.set $g00 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 0)))))
                  (local.set $g01 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 1)))))
                  (local.set $g02 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 2)))))
                  (local.set $g10 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 3)))))
                  (local.set $g11 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 4)))))
                  (local.set $g12 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 5)))))
                  (local.set $g20 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 6)))))
                  (local.set $g21 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 7)))))
                  (local.set $g22 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 8)))))
                  (local.set $k00 (local.get $g00))
                  (local.set $k10 (f32x4.mul (f32x4.add (f32x4.add (local.get $g00) (local.get $g10)) (local.get $g20)) (global.get $HALF4)))
                  (local.set $k20 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g00) (local.get $g10)) (local.get $g20)) (global.get $HALF4)))
                  (local.set $k30 (local.get $g20))
                  (local.set $k01 (local.get $g01))
                  (local.set $k11 (f32x4.mul (f32x4.add (f32x4.add (local.get $g01) (local.get $g11)) (local.get $g21)) (global.get $HALF4)))
                  (local.set $k21 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g01) (local.get $g11)) (local.get $g21)) (global.get $HALF4)))
                  (local.set $k31 (local.get $g21))
                  (local.set $k02 (local.get $g02))
                  (local.set $k12 (f32x4.mul (f32x4.add (f32x4.add (local.get $g02) (local.get $g12)) (local.get $g22)) (global.get $HALF4)))
                  (local.set $k22 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g02) (local.get $g12)) (local.get $g22)) (global.get $HALF4)))
                  (local.set $k32 (local.get $g22))
                  (v128.store align=4 (local.get $dst) (local.get $k00))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.add (local.get $k00) (local.get $k01)) (local.get $k02)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.sub (local.get $k00) (local.get $k01)) (local.get $k02)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k02))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k10))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.add (local.get $k10) (local.get $k11)) (local.get $k12)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.sub (local.get $k10) (local.get $k11)) (local.get $k12)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k12))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k20))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.add (local.get $k20) (local.get $k21)) (local.get $k22)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.sub (local.get $k20) (local.get $k21)) (local.get $k22)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k22))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k30))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.add (local.get $k30) (local.get $k31)) (local.get $k32)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.mul (f32x4.add (f32x4.sub (local.get $k30) (local.get $k31)) (local.get $k32)) (global.get $HALF4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $k32)))
                (else
                  ;; past the last filter: zero columns, as pack_b leaves them
                  (local.set $xi (i32.const 0))
                  (loop $zeros
                    (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                    (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
                    (br_if $zeros (i32.lt_s (local.get $xi) (i32.const 16))))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $channels)))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br_if $halves (i32.lt_s (local.get $h) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels_loop))))

  ;; Winograd's input transform for tiles [tb, tb + rows) of the convolution
  ;; at `desc` (winograd_tiles' descriptor): V_xi[r, c] = (B^T d B)_xi of tile
  ;; tb + r's 4x4 input patch d, channel c, for the 16 blocks V_xi `vstride`
  ;; bytes apart, each [rows, C]. Cells outside the image read the
  ;; descriptor's zeros, so any padding works.
  (func $winograd_input (param $desc i32) (param $tb i32) (param $rows i32) (param $V i32) (param $vstride i32)
    (local $x i32) (local $H i32) (local $W i32) (local $cb i32) (local $tilesH i32) (local $tilesW i32) (local $zeros i32)
    (local $r i32) (local $t i32) (local $tx i32) (local $ty i32) (local $b i32) (local $y0 i32) (local $x0 i32)
    (local $row i32) (local $c i32) (local $dst i32) (local $img i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $d00 v128) (local $d01 v128) (local $d02 v128) (local $d03 v128) (local $d10 v128) (local $d11 v128) (local $d12 v128) (local $d13 v128) (local $d20 v128) (local $d21 v128) (local $d22 v128) (local $d23 v128) (local $d30 v128) (local $d31 v128) (local $d32 v128) (local $d33 v128) (local $q00 v128) (local $q01 v128) (local $q02 v128) (local $q03 v128) (local $q10 v128) (local $q11 v128) (local $q12 v128) (local $q13 v128) (local $q20 v128) (local $q21 v128) (local $q22 v128) (local $q23 v128) (local $q30 v128) (local $q31 v128) (local $q32 v128) (local $q33 v128) (local $p00 i32) (local $p01 i32) (local $p02 i32) (local $p03 i32) (local $p10 i32) (local $p11 i32) (local $p12 i32) (local $p13 i32) (local $p20 i32) (local $p21 i32) (local $p22 i32) (local $p23 i32) (local $p30 i32) (local $p31 i32) (local $p32 i32) (local $p33 i32)
    (local.set $x (i32.load offset=0 (local.get $desc)))
    (local.set $H (i32.load offset=4 (local.get $desc)))
    (local.set $W (i32.load offset=8 (local.get $desc)))
    (local.set $cb (i32.shl (i32.load offset=12 (local.get $desc)) (i32.const 2)))
    (local.set $tilesH (i32.load offset=32 (local.get $desc)))
    (local.set $tilesW (i32.load offset=36 (local.get $desc)))
    (local.set $zeros (i32.load offset=60 (local.get $desc)))
    (local.set $r (i32.const 0))
    (block $in_done
      (loop $in_tiles
        (br_if $in_done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $t (i32.add (local.get $tb) (local.get $r)))
        (local.set $tx (i32.rem_u (local.get $t) (local.get $tilesW)))
        (local.set $ty (i32.rem_u (i32.div_u (local.get $t) (local.get $tilesW)) (local.get $tilesH)))
        (local.set $b (i32.div_u (local.get $t) (i32.mul (local.get $tilesW) (local.get $tilesH))))
        (local.set $y0 (i32.sub (i32.shl (local.get $ty) (i32.const 1)) (i32.load offset=24 (local.get $desc))))
        (local.set $x0 (i32.sub (i32.shl (local.get $tx) (i32.const 1)) (i32.load offset=28 (local.get $desc))))
        (local.set $img (i32.add (local.get $x) (i32.mul (i32.mul (local.get $b) (local.get $H)) (i32.mul (local.get $W) (local.get $cb)))))
        ;; row i of the patch: its first cell's address, or -1 outside the image
        (local.set $r0 (select (i32.add (local.get $img) (i32.mul (i32.add (local.get $y0) (i32.const 0)) (i32.mul (local.get $W) (local.get $cb)))) (i32.const -1)
          (i32.lt_u (i32.add (local.get $y0) (i32.const 0)) (local.get $H))))
        (local.set $r1 (select (i32.add (local.get $img) (i32.mul (i32.add (local.get $y0) (i32.const 1)) (i32.mul (local.get $W) (local.get $cb)))) (i32.const -1)
          (i32.lt_u (i32.add (local.get $y0) (i32.const 1)) (local.get $H))))
        (local.set $r2 (select (i32.add (local.get $img) (i32.mul (i32.add (local.get $y0) (i32.const 2)) (i32.mul (local.get $W) (local.get $cb)))) (i32.const -1)
          (i32.lt_u (i32.add (local.get $y0) (i32.const 2)) (local.get $H))))
        (local.set $r3 (select (i32.add (local.get $img) (i32.mul (i32.add (local.get $y0) (i32.const 3)) (i32.mul (local.get $W) (local.get $cb)))) (i32.const -1)
          (i32.lt_u (i32.add (local.get $y0) (i32.const 3)) (local.get $H))))
        ;; column j: its byte offset in a row, or -1 outside the image
        (local.set $c0 (select (i32.mul (i32.add (local.get $x0) (i32.const 0)) (local.get $cb)) (i32.const -1)
          (i32.lt_u (i32.add (local.get $x0) (i32.const 0)) (local.get $W))))
        (local.set $c1 (select (i32.mul (i32.add (local.get $x0) (i32.const 1)) (local.get $cb)) (i32.const -1)
          (i32.lt_u (i32.add (local.get $x0) (i32.const 1)) (local.get $W))))
        (local.set $c2 (select (i32.mul (i32.add (local.get $x0) (i32.const 2)) (local.get $cb)) (i32.const -1)
          (i32.lt_u (i32.add (local.get $x0) (i32.const 2)) (local.get $W))))
        (local.set $c3 (select (i32.mul (i32.add (local.get $x0) (i32.const 3)) (local.get $cb)) (i32.const -1)
          (i32.lt_u (i32.add (local.get $x0) (i32.const 3)) (local.get $W))))
        (local.set $p00 (select (local.get $zeros) (i32.add (local.get $r0) (local.get $c0)) (i32.or (i32.lt_s (local.get $r0) (i32.const 0)) (i32.lt_s (local.get $c0) (i32.const 0)))))
        (local.set $p01 (select (local.get $zeros) (i32.add (local.get $r0) (local.get $c1)) (i32.or (i32.lt_s (local.get $r0) (i32.const 0)) (i32.lt_s (local.get $c1) (i32.const 0)))))
        (local.set $p02 (select (local.get $zeros) (i32.add (local.get $r0) (local.get $c2)) (i32.or (i32.lt_s (local.get $r0) (i32.const 0)) (i32.lt_s (local.get $c2) (i32.const 0)))))
        (local.set $p03 (select (local.get $zeros) (i32.add (local.get $r0) (local.get $c3)) (i32.or (i32.lt_s (local.get $r0) (i32.const 0)) (i32.lt_s (local.get $c3) (i32.const 0)))))
        (local.set $p10 (select (local.get $zeros) (i32.add (local.get $r1) (local.get $c0)) (i32.or (i32.lt_s (local.get $r1) (i32.const 0)) (i32.lt_s (local.get $c0) (i32.const 0)))))
        (local.set $p11 (select (local.get $zeros) (i32.add (local.get $r1) (local.get $c1)) (i32.or (i32.lt_s (local.get $r1) (i32.const 0)) (i32.lt_s (local.get $c1) (i32.const 0)))))
        (local.set $p12 (select (local.get $zeros) (i32.add (local.get $r1) (local.get $c2)) (i32.or (i32.lt_s (local.get $r1) (i32.const 0)) (i32.lt_s (local.get $c2) (i32.const 0)))))
        (local.set $p13 (select (local.get $zeros) (i32.add (local.get $r1) (local.get $c3)) (i32.or (i32.lt_s (local.get $r1) (i32.const 0)) (i32.lt_s (local.get $c3) (i32.const 0)))))
        (local.set $p20 (select (local.get $zeros) (i32.add (local.get $r2) (local.get $c0)) (i32.or (i32.lt_s (local.get $r2) (i32.const 0)) (i32.lt_s (local.get $c0) (i32.const 0)))))
        (local.set $p21 (select (local.get $zeros) (i32.add (local.get $r2) (local.get $c1)) (i32.or (i32.lt_s (local.get $r2) (i32.const 0)) (i32.lt_s (local.get $c1) (i32.const 0)))))
        (local.set $p22 (select (local.get $zeros) (i32.add (local.get $r2) (local.get $c2)) (i32.or (i32.lt_s (local.get $r2) (i32.const 0)) (i32.lt_s (local.get $c2) (i32.const 0)))))
        (local.set $p23 (select (local.get $zeros) (i32.add (local.get $r2) (local.get $c3)) (i32.or (i32.lt_s (local.get $r2) (i32.const 0)) (i32.lt_s (local.get $c3) (i32.const 0)))))
        (local.set $p30 (select (local.get $zeros) (i32.add (local.get $r3) (local.get $c0)) (i32.or (i32.lt_s (local.get $r3) (i32.const 0)) (i32.lt_s (local.get $c0) (i32.const 0)))))
        (local.set $p31 (select (local.get $zeros) (i32.add (local.get $r3) (local.get $c1)) (i32.or (i32.lt_s (local.get $r3) (i32.const 0)) (i32.lt_s (local.get $c1) (i32.const 0)))))
        (local.set $p32 (select (local.get $zeros) (i32.add (local.get $r3) (local.get $c2)) (i32.or (i32.lt_s (local.get $r3) (i32.const 0)) (i32.lt_s (local.get $c2) (i32.const 0)))))
        (local.set $p33 (select (local.get $zeros) (i32.add (local.get $r3) (local.get $c3)) (i32.or (i32.lt_s (local.get $r3) (i32.const 0)) (i32.lt_s (local.get $c3) (i32.const 0)))))
        (local.set $row (i32.add (local.get $V) (i32.mul (local.get $r) (local.get $cb))))
        (local.set $c (i32.const 0))
        (loop $in_channels
          (local.set $d00 (v128.load align=4 (i32.add (local.get $p00) (local.get $c))))
          (local.set $d01 (v128.load align=4 (i32.add (local.get $p01) (local.get $c))))
          (local.set $d02 (v128.load align=4 (i32.add (local.get $p02) (local.get $c))))
          (local.set $d03 (v128.load align=4 (i32.add (local.get $p03) (local.get $c))))
          (local.set $d10 (v128.load align=4 (i32.add (local.get $p10) (local.get $c))))
          (local.set $d11 (v128.load align=4 (i32.add (local.get $p11) (local.get $c))))
          (local.set $d12 (v128.load align=4 (i32.add (local.get $p12) (local.get $c))))
          (local.set $d13 (v128.load align=4 (i32.add (local.get $p13) (local.get $c))))
          (local.set $d20 (v128.load align=4 (i32.add (local.get $p20) (local.get $c))))
          (local.set $d21 (v128.load align=4 (i32.add (local.get $p21) (local.get $c))))
          (local.set $d22 (v128.load align=4 (i32.add (local.get $p22) (local.get $c))))
          (local.set $d23 (v128.load align=4 (i32.add (local.get $p23) (local.get $c))))
          (local.set $d30 (v128.load align=4 (i32.add (local.get $p30) (local.get $c))))
          (local.set $d31 (v128.load align=4 (i32.add (local.get $p31) (local.get $c))))
          (local.set $d32 (v128.load align=4 (i32.add (local.get $p32) (local.get $c))))
          (local.set $d33 (v128.load align=4 (i32.add (local.get $p33) (local.get $c))))
          (local.set $q00 (f32x4.sub (local.get $d00) (local.get $d20)))
          (local.set $q10 (f32x4.add (local.get $d10) (local.get $d20)))
          (local.set $q20 (f32x4.sub (local.get $d20) (local.get $d10)))
          (local.set $q30 (f32x4.sub (local.get $d10) (local.get $d30)))
          (local.set $q01 (f32x4.sub (local.get $d01) (local.get $d21)))
          (local.set $q11 (f32x4.add (local.get $d11) (local.get $d21)))
          (local.set $q21 (f32x4.sub (local.get $d21) (local.get $d11)))
          (local.set $q31 (f32x4.sub (local.get $d11) (local.get $d31)))
          (local.set $q02 (f32x4.sub (local.get $d02) (local.get $d22)))
          (local.set $q12 (f32x4.add (local.get $d12) (local.get $d22)))
          (local.set $q22 (f32x4.sub (local.get $d22) (local.get $d12)))
          (local.set $q32 (f32x4.sub (local.get $d12) (local.get $d32)))
          (local.set $q03 (f32x4.sub (local.get $d03) (local.get $d23)))
          (local.set $q13 (f32x4.add (local.get $d13) (local.get $d23)))
          (local.set $q23 (f32x4.sub (local.get $d23) (local.get $d13)))
          (local.set $q33 (f32x4.sub (local.get $d13) (local.get $d33)))
          (local.set $dst (i32.add (local.get $row) (local.get $c)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q00) (local.get $q02)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.add (local.get $q01) (local.get $q02)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q02) (local.get $q01)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q01) (local.get $q03)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q10) (local.get $q12)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.add (local.get $q11) (local.get $q12)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q12) (local.get $q11)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q11) (local.get $q13)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q20) (local.get $q22)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.add (local.get $q21) (local.get $q22)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q22) (local.get $q21)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q21) (local.get $q23)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q30) (local.get $q32)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.add (local.get $q31) (local.get $q32)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q32) (local.get $q31)))
          (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
          (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $q31) (local.get $q33)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $in_channels (i32.lt_s (local.get $c) (local.get $cb))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $in_tiles))))

  ;; winograd_tiles computes the output tiles [t0, t1), tile
  ;; t = (b*tilesH + ty)*tilesW + tx covering outputs (2ty.., 2tx..) of image b,
  ;; TB tiles at a time: B^T d B for each into V (16 blocks [TB, C]), the 16
  ;; products with U into M (16 blocks [TB, F]) by gemm, then A^T m A, the
  ;; bias and relu / relu6 into the output, dropping the row or column of a
  ;; tile that lies past OH or OW. With POOL in the flags, a tile is the
  ;; window of a 2x2 max pool of stride 2 after the convolution: the output is
  ;; the pool's, [B, OH/2, OW/2, F] (rounded down), and gets the tile's max
  ;; (as max_pool takes it), or nothing from a tile past OH/2 or OW/2. Input cells outside the image read the
  ;; descriptor's zeros. `scratch` is this thread's:
  ;;   [V: 16 blocks of TB*C floats | M: 16 of TB*F floats | gemm's scratch for TB rows],
  ;; the blocks U_SKEW bytes apart.
  ;; Descriptor, i32 at byte 4i: 0 x, 1 H, 2 W, 3 C, 4 OH, 5 OW, 6 padTop,
  ;; 7 padLeft, 8 tilesH, 9 tilesW, 10 F, 11 pu (winograd_kernel's U),
  ;; 12 bias (0: none), 13 flags (RELU, RELU6, POOL), 14 out, 15 zeros (C floats), 16 TB,
  ;; 17 the number of tiles (t1 past it stops there).
  (func (export "winograd_tiles") (param $desc i32) (param $t0 i32) (param $t1 i32) (param $scratch i32)
    (local $x i32) (local $H i32) (local $W i32) (local $C i32) (local $OH i32) (local $OW i32)
    (local $tilesH i32) (local $tilesW i32) (local $F i32) (local $pu i32) (local $bias i32) (local $out i32)
    (local $zeros i32) (local $TB i32) (local $hasBias i32) (local $relu i32) (local $relu6 i32)
    (local $V i32) (local $Mb i32) (local $gs i32) (local $vstride i32) (local $mstride i32) (local $ustride i32)
    (local $panels i32) (local $tb i32) (local $rows i32) (local $r i32) (local $t i32) (local $xi i32)
    (local $tx i32) (local $ty i32) (local $b i32) (local $y0 i32) (local $x0 i32) (local $cb i32) (local $fb i32)
    (local $row i32) (local $c i32) (local $f i32) (local $dst i32) (local $src i32) (local $img i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $o00 i32) (local $rowb i32) (local $e01 i32) (local $e10 i32) (local $e11 i32) (local $pool i32)
    (local $d00 v128) (local $d01 v128) (local $d02 v128) (local $d03 v128) (local $d10 v128) (local $d11 v128) (local $d12 v128) (local $d13 v128) (local $d20 v128) (local $d21 v128) (local $d22 v128) (local $d23 v128) (local $d30 v128) (local $d31 v128) (local $d32 v128) (local $d33 v128) (local $q00 v128) (local $q01 v128) (local $q02 v128) (local $q03 v128) (local $q10 v128) (local $q11 v128) (local $q12 v128) (local $q13 v128) (local $q20 v128) (local $q21 v128) (local $q22 v128) (local $q23 v128) (local $q30 v128) (local $q31 v128) (local $q32 v128) (local $q33 v128) (local $p00 i32) (local $p01 i32) (local $p02 i32) (local $p03 i32) (local $p10 i32) (local $p11 i32) (local $p12 i32) (local $p13 i32) (local $p20 i32) (local $p21 i32) (local $p22 i32) (local $p23 i32) (local $p30 i32) (local $p31 i32) (local $p32 i32) (local $p33 i32)
    (local $m00 v128) (local $m01 v128) (local $m02 v128) (local $m03 v128) (local $m10 v128) (local $m11 v128) (local $m12 v128) (local $m13 v128) (local $m20 v128) (local $m21 v128) (local $m22 v128) (local $m23 v128) (local $m30 v128) (local $m31 v128) (local $m32 v128) (local $m33 v128) (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128) (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128) (local $y00 v128) (local $y01 v128) (local $y10 v128) (local $y11 v128) (local $bv v128)
    (local.set $x (i32.load offset=0 (local.get $desc)))
    (local.set $H (i32.load offset=4 (local.get $desc)))
    (local.set $W (i32.load offset=8 (local.get $desc)))
    (local.set $C (i32.load offset=12 (local.get $desc)))
    (local.set $OH (i32.load offset=16 (local.get $desc)))
    (local.set $OW (i32.load offset=20 (local.get $desc)))
    (local.set $tilesH (i32.load offset=32 (local.get $desc)))
    (local.set $tilesW (i32.load offset=36 (local.get $desc)))
    (local.set $F (i32.load offset=40 (local.get $desc)))
    (local.set $pu (i32.load offset=44 (local.get $desc)))
    (local.set $bias (i32.load offset=48 (local.get $desc)))
    (local.set $hasBias (i32.ne (local.get $bias) (i32.const 0)))
    (local.set $relu (i32.and (i32.load offset=52 (local.get $desc)) (global.get $RELU)))
    (local.set $relu6 (i32.and (i32.load offset=52 (local.get $desc)) (global.get $RELU6)))
    (local.set $pool (i32.and (i32.load offset=52 (local.get $desc)) (global.get $POOL)))
    (local.set $out (i32.load offset=56 (local.get $desc)))
    (local.set $zeros (i32.load offset=60 (local.get $desc)))
    (local.set $TB (i32.load offset=64 (local.get $desc)))
    (if (i32.gt_s (local.get $t1) (i32.load offset=68 (local.get $desc))) (then (local.set $t1 (i32.load offset=68 (local.get $desc)))))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $fb (i32.shl (local.get $F) (i32.const 2)))
    (local.set $panels (i32.shr_u (i32.add (local.get $F) (i32.const 7)) (i32.const 3)))
    (local.set $vstride (i32.add (i32.mul (local.get $TB) (local.get $cb)) (global.get $U_SKEW)))
    (local.set $mstride (i32.add (i32.mul (local.get $TB) (local.get $fb)) (global.get $U_SKEW)))
    (local.set $ustride (i32.add (i32.shl (i32.mul (local.get $panels) (local.get $C)) (i32.const 5)) (global.get $U_SKEW)))
    (local.set $V (local.get $scratch))
    (local.set $Mb (i32.add (local.get $V) (i32.shl (local.get $vstride) (i32.const 4))))
    (local.set $gs (i32.add (local.get $Mb) (i32.shl (local.get $mstride) (i32.const 4))))
    (local.set $rowb (i32.mul (local.get $OW) (local.get $fb)))
    (local.set $tb (local.get $t0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_s (local.get $tb) (local.get $t1)))
        (local.set $rows (i32.sub (local.get $t1) (local.get $tb)))
        (if (i32.gt_s (local.get $rows) (local.get $TB)) (then (local.set $rows (local.get $TB))))
        ;; V = B^T d B, tile by tile
        (call $winograd_input (local.get $desc) (local.get $tb) (local.get $rows) (local.get $V) (local.get $vstride))
        ;; M_xi = V_xi U_xi
        (local.set $xi (i32.const 0))
        (loop $products
          (call $gemm
            (i32.add (local.get $V) (i32.mul (local.get $xi) (local.get $vstride))) (i32.const 0)
            (i32.add (local.get $pu) (i32.mul (local.get $xi) (local.get $ustride)))
            (i32.add (local.get $Mb) (i32.mul (local.get $xi) (local.get $mstride))) (i32.const 0)
            (local.get $rows) (local.get $C) (local.get $F) (i32.const 0)
            (i32.const 0) (local.get $rows) (i32.const 0) (local.get $panels) (local.get $gs) (local.get $TB))
          (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
          (br_if $products (i32.lt_s (local.get $xi) (i32.const 16))))
        ;; y = A^T m A (+ bias, clamp) into the output
        (local.set $r (i32.const 0))
        (block $out_done
          (loop $out_tiles
            (br_if $out_done (i32.ge_s (local.get $r) (local.get $rows)))
            (local.set $t (i32.add (local.get $tb) (local.get $r)))
            (local.set $tx (i32.rem_u (local.get $t) (local.get $tilesW)))
            (local.set $ty (i32.rem_u (i32.div_u (local.get $t) (local.get $tilesW)) (local.get $tilesH)))
            (local.set $b (i32.div_u (local.get $t) (i32.mul (local.get $tilesW) (local.get $tilesH))))
            (local.set $y0 (i32.shl (local.get $ty) (i32.const 1)))
            (local.set $x0 (i32.shl (local.get $tx) (i32.const 1)))
            (local.set $o00 (i32.add (local.get $out)
              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $OH)) (local.get $y0)) (local.get $OW)) (local.get $x0))
                (local.get $fb))))
            (local.set $e01 (i32.lt_s (i32.add (local.get $x0) (i32.const 1)) (local.get $OW)))
            (local.set $e10 (i32.lt_s (i32.add (local.get $y0) (i32.const 1)) (local.get $OH)))
            (local.set $e11 (i32.and (local.get $e01) (local.get $e10)))
            (if (local.get $pool)
              (then
                ;; the pool's output (b, ty, tx) of [B, OH/2, OW/2, F]; a tile past it gives nothing
                (local.set $o00 (i32.add (local.get $out)
                  (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (i32.shr_u (local.get $OH) (i32.const 1))) (local.get $ty))
                    (i32.shr_u (local.get $OW) (i32.const 1))) (local.get $tx)) (local.get $fb))))
                (local.set $e11 (i32.and
                  (i32.lt_u (local.get $ty) (i32.shr_u (local.get $OH) (i32.const 1)))
                  (i32.lt_u (local.get $tx) (i32.shr_u (local.get $OW) (i32.const 1)))))))
            (local.set $row (i32.add (local.get $Mb) (i32.mul (local.get $r) (local.get $fb))))
            (local.set $f (i32.const 0))
            (loop $out_filters
              (local.set $src (i32.add (local.get $row) (local.get $f)))
              (local.set $m00 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m01 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m02 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m03 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m10 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m11 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m12 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m13 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m20 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m21 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m22 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m23 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m30 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m31 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m32 (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $mstride)))
              (local.set $m33 (v128.load align=4 (local.get $src)))
              (local.set $s00 (f32x4.add (f32x4.add (local.get $m00) (local.get $m10)) (local.get $m20)))
              (local.set $s10 (f32x4.sub (f32x4.sub (local.get $m10) (local.get $m20)) (local.get $m30)))
              (local.set $s01 (f32x4.add (f32x4.add (local.get $m01) (local.get $m11)) (local.get $m21)))
              (local.set $s11 (f32x4.sub (f32x4.sub (local.get $m11) (local.get $m21)) (local.get $m31)))
              (local.set $s02 (f32x4.add (f32x4.add (local.get $m02) (local.get $m12)) (local.get $m22)))
              (local.set $s12 (f32x4.sub (f32x4.sub (local.get $m12) (local.get $m22)) (local.get $m32)))
              (local.set $s03 (f32x4.add (f32x4.add (local.get $m03) (local.get $m13)) (local.get $m23)))
              (local.set $s13 (f32x4.sub (f32x4.sub (local.get $m13) (local.get $m23)) (local.get $m33)))
              (local.set $y00 (f32x4.add (f32x4.add (local.get $s00) (local.get $s01)) (local.get $s02)))
              (local.set $y01 (f32x4.sub (f32x4.sub (local.get $s01) (local.get $s02)) (local.get $s03)))
              (local.set $y10 (f32x4.add (f32x4.add (local.get $s10) (local.get $s11)) (local.get $s12)))
              (local.set $y11 (f32x4.sub (f32x4.sub (local.get $s11) (local.get $s12)) (local.get $s13)))
              (if (local.get $hasBias)
                (then
                  (local.set $bv (v128.load align=4 (i32.add (local.get $bias) (local.get $f))))
                  (local.set $y00 (f32x4.add (local.get $y00) (local.get $bv)))
                  (local.set $y01 (f32x4.add (local.get $y01) (local.get $bv)))
                  (local.set $y10 (f32x4.add (local.get $y10) (local.get $bv)))
                  (local.set $y11 (f32x4.add (local.get $y11) (local.get $bv)))))
              (if (local.get $relu)
                (then
                  ;; x < 0 ? 0 : x, as the GEMM's store
                  (local.set $y00 (f32x4.pmax (local.get $y00) (v128.const f32x4 0 0 0 0)))
                  (local.set $y01 (f32x4.pmax (local.get $y01) (v128.const f32x4 0 0 0 0)))
                  (local.set $y10 (f32x4.pmax (local.get $y10) (v128.const f32x4 0 0 0 0)))
                  (local.set $y11 (f32x4.pmax (local.get $y11) (v128.const f32x4 0 0 0 0)))))
              (if (local.get $relu6)
                (then
                  ;; min(max(x, 0), 6), as the GEMM's store
                  (local.set $y00 (call $relu6_4 (local.get $y00)))
                  (local.set $y01 (call $relu6_4 (local.get $y01)))
                  (local.set $y10 (call $relu6_4 (local.get $y10)))
                  (local.set $y11 (call $relu6_4 (local.get $y11)))))
              (if (local.get $pool)
                (then
                  ;; the window's cells in row-major order, pmax from -inf as max_pool
                  (if (local.get $e11)
                    (then (v128.store align=4 (i32.add (local.get $o00) (local.get $f))
                      (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                        (local.get $y00)) (local.get $y01)) (local.get $y10)) (local.get $y11))))))
                (else
                  (v128.store align=4 (i32.add (local.get $o00) (local.get $f)) (local.get $y00))
                  (if (local.get $e01) (then (v128.store align=4 (i32.add (i32.add (local.get $o00) (local.get $fb)) (local.get $f)) (local.get $y01))))
                  (if (local.get $e10) (then (v128.store align=4 (i32.add (i32.add (local.get $o00) (local.get $rowb)) (local.get $f)) (local.get $y10))))
                  (if (local.get $e11) (then (v128.store align=4 (i32.add (i32.add (i32.add (local.get $o00) (local.get $rowb)) (local.get $fb)) (local.get $f)) (local.get $y11))))))
              (local.set $f (i32.add (local.get $f) (i32.const 16)))
              (br_if $out_filters (i32.lt_s (local.get $f) (local.get $fb))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $out_tiles)))
        (local.set $tb (i32.add (local.get $tb) (local.get $rows)))
        (br $blocks))))

  ;; Winograd F(4x4, 3x3): each 4x4 block of outputs ("tile") is
  ;;   y = A^T [ (G g G^T) (.) (B^T d B) ] A
  ;; over the 6x6 input patch d under it: 36 products V_xi [tiles, C] .
  ;; U_xi [C, F], 4x fewer multiply-adds than 9 taps over 16 outputs (F(2x2,
  ;; 3x3): 2.25x). The points are 0, 1, -1, 2, -1/2 and infinity, not the
  ;; usual 0, +-1, +-2: the same number of products, with a float32 error
  ;; about half as large (the transforms' entries stay within 1/8 to 8):
  ;;   B^T = [1 3/2 -2 -3/2 1 0; 0 -1 -5/2 -1/2 1 0; 0 1 1/2 -5/2 1 0;
  ;;          0 -1/2 -1 1/2 1 0; 0 2 -1 -2 1 0; 0 1 3/2 -2 -3/2 1]
  ;;   G   = [1 0 0; -1/3 -1/3 -1/3; 1/3 -1/3 1/3; 1/15 2/15 4/15;
  ;;          -16/15 8/15 -4/15; 0 0 1]
  ;;   A^T = [1 1 1 1 1 0; 0 1 -1 2 -1/2 0; 0 1 1 4 1/4 0; 0 1 -1 8 -1/8 1]
  ;; C and F are multiples of 4, as for F(2x2, 3x3).
  ;;
  ;; winograd4_kernel writes U = G g G^T for kernel panels [p0, p1), as
  ;; winograd_kernel does for 16 blocks: U_xi at pu + xi*ustride + p*C*32,
  ;; ustride = panels*C*32 + U_SKEW, columns past F zero.
  (func (export "winograd4_kernel")
    (param $k i32) (param $C i32) (param $F i32) (param $pu i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $h i32) (local $c i32) (local $f i32) (local $panels i32)
    (local $tap i32) (local $ustride i32) (local $src i32) (local $dst i32) (local $xi i32)
    (local $g00 v128) (local $g01 v128) (local $g02 v128) (local $g10 v128) (local $g11 v128) (local $g12 v128) (local $g20 v128) (local $g21 v128) (local $g22 v128)
    (local $t00 v128) (local $t01 v128) (local $t02 v128) (local $t10 v128) (local $t11 v128) (local $t12 v128) (local $t20 v128) (local $t21 v128) (local $t22 v128) (local $t30 v128) (local $t31 v128) (local $t32 v128) (local $t40 v128) (local $t41 v128) (local $t42 v128) (local $t50 v128) (local $t51 v128) (local $t52 v128)
    (local.set $panels (i32.shr_u (i32.add (local.get $F) (i32.const 7)) (i32.const 3)))
    (local.set $tap (i32.shl (i32.mul (local.get $C) (local.get $F)) (i32.const 2)))
    (local.set $ustride (i32.add (i32.shl (i32.mul (local.get $panels) (local.get $C)) (i32.const 5)) (global.get $U_SKEW)))
    (local.set $p (local.get $p0))
    (block $panels_done
      (loop $panels_loop
        (br_if $panels_done (i32.ge_s (local.get $p) (local.get $p1)))
        ;; the panel's two halves of four filters
        (local.set $h (i32.const 0))
        (loop $halves
          (local.set $f (i32.add (i32.shl (local.get $p) (i32.const 3)) (i32.shl (local.get $h) (i32.const 2))))
          (local.set $c (i32.const 0))
          (block $channels_done
            (loop $channels
              (br_if $channels_done (i32.ge_s (local.get $c) (local.get $C)))
              (local.set $dst (i32.add (local.get $pu)
                (i32.add (i32.shl (i32.add (i32.mul (local.get $p) (local.get $C)) (local.get $c)) (i32.const 5))
                  (i32.shl (local.get $h) (i32.const 4)))))
              (if (i32.lt_s (local.get $f) (local.get $F))
                (then
                  (local.set $src (i32.add (local.get $k)
                    (i32.shl (i32.add (i32.mul (local.get $c) (local.get $F)) (local.get $f)) (i32.const 2))))
                  (local.set $g00 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 0)))))
                  (local.set $g01 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 1)))))
                  (local.set $g02 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 2)))))
                  (local.set $g10 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 3)))))
                  (local.set $g11 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 4)))))
                  (local.set $g12 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 5)))))
                  (local.set $g20 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 6)))))
                  (local.set $g21 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 7)))))
                  (local.set $g22 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $tap) (i32.const 8)))))
                  ;; t = G g, column by column; then each row of t times G^T, stored
                  (local.set $t00 (local.get $g00))
                  (local.set $t10 (f32x4.sub (f32x4.sub (f32x4.mul (local.get $g00) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $g10) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g20) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t20 (f32x4.add (f32x4.sub (f32x4.mul (local.get $g00) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $g10) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g20) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t30 (f32x4.add (f32x4.add (f32x4.mul (local.get $g00) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $g10) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $g20) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t40 (f32x4.sub (f32x4.add (f32x4.mul (local.get $g00) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $g10) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $g20) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t50 (local.get $g20))
                  (local.set $t01 (local.get $g01))
                  (local.set $t11 (f32x4.sub (f32x4.sub (f32x4.mul (local.get $g01) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $g11) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g21) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t21 (f32x4.add (f32x4.sub (f32x4.mul (local.get $g01) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $g11) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g21) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t31 (f32x4.add (f32x4.add (f32x4.mul (local.get $g01) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $g11) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $g21) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t41 (f32x4.sub (f32x4.add (f32x4.mul (local.get $g01) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $g11) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $g21) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t51 (local.get $g21))
                  (local.set $t02 (local.get $g02))
                  (local.set $t12 (f32x4.sub (f32x4.sub (f32x4.mul (local.get $g02) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $g12) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g22) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t22 (f32x4.add (f32x4.sub (f32x4.mul (local.get $g02) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $g12) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $g22) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $t32 (f32x4.add (f32x4.add (f32x4.mul (local.get $g02) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $g12) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $g22) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t42 (f32x4.sub (f32x4.add (f32x4.mul (local.get $g02) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $g12) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $g22) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $t52 (local.get $g22))
                  (v128.store align=4 (local.get $dst) (local.get $t00))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t00) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t00) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t00) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t00) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t02))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t10))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t10) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t10) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t10) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t10) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t12))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t20))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t20) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t20) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t20) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t20) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t22))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t30))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t30) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t30) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t30) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t30) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t32))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t40))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t40) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t41) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t42) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t40) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t41) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t42) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t40) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t41) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t42) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t40) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t41) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t42) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t42))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t50))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.sub (f32x4.mul (local.get $t50) (v128.const f32x4 -0.333333343 -0.333333343 -0.333333343 -0.333333343)) (f32x4.mul (local.get $t51) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t52) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t50) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343)) (f32x4.mul (local.get $t51) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))) (f32x4.mul (local.get $t52) (v128.const f32x4 0.333333343 0.333333343 0.333333343 0.333333343))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (f32x4.add (f32x4.mul (local.get $t50) (v128.const f32x4 0.0666666701 0.0666666701 0.0666666701 0.0666666701)) (f32x4.mul (local.get $t51) (v128.const f32x4 0.13333334 0.13333334 0.13333334 0.13333334))) (f32x4.mul (local.get $t52) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (f32x4.add (f32x4.mul (local.get $t50) (v128.const f32x4 -1.06666672 -1.06666672 -1.06666672 -1.06666672)) (f32x4.mul (local.get $t51) (v128.const f32x4 0.533333361 0.533333361 0.533333361 0.533333361))) (f32x4.mul (local.get $t52) (v128.const f32x4 0.266666681 0.266666681 0.266666681 0.266666681))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                  (v128.store align=4 (local.get $dst) (local.get $t52)))
                (else
                  ;; past the last filter: zero columns, as pack_b leaves them
                  (local.set $xi (i32.const 0))
                  (loop $zeros
                    (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (local.set $dst (i32.add (local.get $dst) (local.get $ustride)))
                    (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
                    (br_if $zeros (i32.lt_s (local.get $xi) (i32.const 36))))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $channels)))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br_if $halves (i32.lt_s (local.get $h) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels_loop))))

  ;; Winograd F(4x4, 3x3)'s input transform for tiles [tb, tb + rows) of the
  ;; convolution at `desc` (winograd4_tiles' descriptor): V_xi[r, c] =
  ;; (B^T d B)_xi of tile tb + r's 6x6 input patch d, channel c, for the 36
  ;; blocks V_xi `vstride` bytes apart, each [rows, C]. Cells outside the
  ;; image read the descriptor's zeros. `work` holds 36 cell addresses (144
  ;; bytes) then B^T d (36 vectors).
  (func $winograd4_input (param $desc i32) (param $tb i32) (param $rows i32) (param $V i32) (param $vstride i32) (param $work i32)
    (local $x i32) (local $H i32) (local $W i32) (local $cb i32) (local $tilesH i32) (local $tilesW i32) (local $zeros i32)
    (local $r i32) (local $t i32) (local $b i32) (local $y0 i32) (local $x0 i32) (local $i i32) (local $j i32)
    (local $img i32) (local $at i32) (local $c i32) (local $src i32) (local $dst i32) (local $wb i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $d4 v128) (local $d5 v128)
    (local.set $x (i32.load offset=0 (local.get $desc)))
    (local.set $H (i32.load offset=4 (local.get $desc)))
    (local.set $W (i32.load offset=8 (local.get $desc)))
    (local.set $cb (i32.shl (i32.load offset=12 (local.get $desc)) (i32.const 2)))
    (local.set $tilesH (i32.load offset=32 (local.get $desc)))
    (local.set $tilesW (i32.load offset=36 (local.get $desc)))
    (local.set $zeros (i32.load offset=60 (local.get $desc)))
    (local.set $wb (i32.add (local.get $work) (i32.const 144)))
    (local.set $r (i32.const 0))
    (block $in_done
      (loop $in_tiles
        (br_if $in_done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $t (i32.add (local.get $tb) (local.get $r)))
        (local.set $b (i32.div_u (local.get $t) (i32.mul (local.get $tilesW) (local.get $tilesH))))
        (local.set $y0 (i32.sub (i32.shl (i32.rem_u (i32.div_u (local.get $t) (local.get $tilesW)) (local.get $tilesH)) (i32.const 2))
          (i32.load offset=24 (local.get $desc))))
        (local.set $x0 (i32.sub (i32.shl (i32.rem_u (local.get $t) (local.get $tilesW)) (i32.const 2))
          (i32.load offset=28 (local.get $desc))))
        (local.set $img (i32.add (local.get $x) (i32.mul (i32.mul (local.get $b) (local.get $H)) (i32.mul (local.get $W) (local.get $cb)))))
        ;; cell (i, j)'s address at work + 4*(6i + j)
        (local.set $at (local.get $work))
        (local.set $i (i32.const 0))
        (loop $cell_rows
          (local.set $j (i32.const 0))
          (loop $cells
            (i32.store (local.get $at)
              (select
                (i32.add (local.get $img) (i32.mul (i32.add (i32.mul (i32.add (local.get $y0) (local.get $i)) (local.get $W))
                  (i32.add (local.get $x0) (local.get $j))) (local.get $cb)))
                (local.get $zeros)
                (i32.and (i32.lt_u (i32.add (local.get $y0) (local.get $i)) (local.get $H))
                  (i32.lt_u (i32.add (local.get $x0) (local.get $j)) (local.get $W)))))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cells (i32.lt_u (local.get $j) (i32.const 6))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $cell_rows (i32.lt_u (local.get $i) (i32.const 6))))
        (local.set $c (i32.const 0))
        (loop $in_channels
          ;; B^T d, column j of the patch at a time, into work's vectors (6k + j)
          (local.set $j (i32.const 0))
          (loop $columns
            (local.set $src (i32.add (local.get $work) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $d0 (v128.load align=4 (i32.add (i32.load offset=0 (local.get $src)) (local.get $c))))
            (local.set $d1 (v128.load align=4 (i32.add (i32.load offset=24 (local.get $src)) (local.get $c))))
            (local.set $d2 (v128.load align=4 (i32.add (i32.load offset=48 (local.get $src)) (local.get $c))))
            (local.set $d3 (v128.load align=4 (i32.add (i32.load offset=72 (local.get $src)) (local.get $c))))
            (local.set $d4 (v128.load align=4 (i32.add (i32.load offset=96 (local.get $src)) (local.get $c))))
            (local.set $d5 (v128.load align=4 (i32.add (i32.load offset=120 (local.get $src)) (local.get $c))))
            (local.set $dst (i32.add (local.get $wb) (i32.shl (local.get $j) (i32.const 4))))
            (v128.store offset=0 align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (f32x4.add (local.get $d0) (f32x4.mul (local.get $d1) (v128.const f32x4 1.5 1.5 1.5 1.5))) (f32x4.mul (local.get $d2) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $d3) (v128.const f32x4 1.5 1.5 1.5 1.5))) (local.get $d4)))
            (v128.store offset=96 align=4 (local.get $dst)
              (f32x4.sub (f32x4.sub (f32x4.sub (local.get $d4) (local.get $d1)) (f32x4.mul (local.get $d2) (v128.const f32x4 2.5 2.5 2.5 2.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 0.5 0.5 0.5 0.5))))
            (v128.store offset=192 align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.add (local.get $d1) (f32x4.mul (local.get $d2) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 2.5 2.5 2.5 2.5))) (local.get $d4)))
            (v128.store offset=288 align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (local.get $d4) (f32x4.mul (local.get $d1) (v128.const f32x4 0.5 0.5 0.5 0.5))) (local.get $d2)) (f32x4.mul (local.get $d3) (v128.const f32x4 0.5 0.5 0.5 0.5))))
            (v128.store offset=384 align=4 (local.get $dst)
              (f32x4.sub (f32x4.sub (f32x4.add (local.get $d4) (f32x4.mul (local.get $d1) (v128.const f32x4 2 2 2 2))) (local.get $d2)) (f32x4.mul (local.get $d3) (v128.const f32x4 2 2 2 2))))
            (v128.store offset=480 align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (f32x4.add (local.get $d1) (f32x4.mul (local.get $d2) (v128.const f32x4 1.5 1.5 1.5 1.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $d4) (v128.const f32x4 1.5 1.5 1.5 1.5))) (local.get $d5)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $columns (i32.lt_u (local.get $j) (i32.const 6))))
          ;; (B^T d) B, row k at a time, into V_(6k + l)
          (local.set $i (i32.const 0))
          (loop $in_rows
            (local.set $src (i32.add (local.get $wb) (i32.mul (local.get $i) (i32.const 96))))
            (local.set $d0 (v128.load offset=0 align=4 (local.get $src)))
            (local.set $d1 (v128.load offset=16 align=4 (local.get $src)))
            (local.set $d2 (v128.load offset=32 align=4 (local.get $src)))
            (local.set $d3 (v128.load offset=48 align=4 (local.get $src)))
            (local.set $d4 (v128.load offset=64 align=4 (local.get $src)))
            (local.set $d5 (v128.load offset=80 align=4 (local.get $src)))
            (local.set $dst (i32.add (i32.add (local.get $V) (i32.add (i32.mul (local.get $r) (local.get $cb)) (local.get $c)))
              (i32.mul (i32.mul (local.get $i) (i32.const 6)) (local.get $vstride))))
            (v128.store align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (f32x4.add (local.get $d0) (f32x4.mul (local.get $d1) (v128.const f32x4 1.5 1.5 1.5 1.5))) (f32x4.mul (local.get $d2) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $d3) (v128.const f32x4 1.5 1.5 1.5 1.5))) (local.get $d4)))
            (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
            (v128.store align=4 (local.get $dst)
              (f32x4.sub (f32x4.sub (f32x4.sub (local.get $d4) (local.get $d1)) (f32x4.mul (local.get $d2) (v128.const f32x4 2.5 2.5 2.5 2.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 0.5 0.5 0.5 0.5))))
            (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
            (v128.store align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.add (local.get $d1) (f32x4.mul (local.get $d2) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 2.5 2.5 2.5 2.5))) (local.get $d4)))
            (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
            (v128.store align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (local.get $d4) (f32x4.mul (local.get $d1) (v128.const f32x4 0.5 0.5 0.5 0.5))) (local.get $d2)) (f32x4.mul (local.get $d3) (v128.const f32x4 0.5 0.5 0.5 0.5))))
            (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
            (v128.store align=4 (local.get $dst)
              (f32x4.sub (f32x4.sub (f32x4.add (local.get $d4) (f32x4.mul (local.get $d1) (v128.const f32x4 2 2 2 2))) (local.get $d2)) (f32x4.mul (local.get $d3) (v128.const f32x4 2 2 2 2))))
            (local.set $dst (i32.add (local.get $dst) (local.get $vstride)))
            (v128.store align=4 (local.get $dst)
              (f32x4.add (f32x4.sub (f32x4.sub (f32x4.add (local.get $d1) (f32x4.mul (local.get $d2) (v128.const f32x4 1.5 1.5 1.5 1.5))) (f32x4.mul (local.get $d3) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $d4) (v128.const f32x4 1.5 1.5 1.5 1.5))) (local.get $d5)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $in_rows (i32.lt_u (local.get $i) (i32.const 6))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $in_channels (i32.lt_s (local.get $c) (local.get $cb))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $in_tiles))))

  ;; winograd4_tiles computes the output tiles [t0, t1) in F(4x4, 3x3), tile
  ;; t = (b*tilesH + ty)*tilesW + tx covering outputs (4ty.., 4tx..) of image b,
  ;; TB tiles at a time, as winograd_tiles does with 2x2 tiles: B^T d B into V
  ;; (36 blocks [TB, C]), the 36 products with U into M (36 blocks [TB, F]),
  ;; then A^T m A, the bias and relu / relu6 into the output, dropping the
  ;; cells past OH or OW. With POOL, each 2x2 quarter of a tile is a window
  ;; of the 2x2 max pool of stride 2 after the convolution: the output is the
  ;; pool's, [B, OH/2, OW/2, F] (rounded down), each window's max taken as
  ;; max_pool takes it. `scratch` is this thread's:
  ;;   [V: 36 blocks of TB*C floats | M: 36 of TB*F floats | 768 bytes of work | gemm's scratch for TB rows],
  ;; the blocks U_SKEW bytes apart. The descriptor is winograd_tiles', with
  ;; 4x4 tiles counted in tilesH, tilesW and the number of tiles, and pu
  ;; winograd4_kernel's U.
  (func (export "winograd4_tiles") (param $desc i32) (param $t0 i32) (param $t1 i32) (param $scratch i32)
    (local $C i32) (local $OH i32) (local $OW i32) (local $PH i32) (local $PW i32)
    (local $tilesH i32) (local $tilesW i32) (local $F i32) (local $pu i32) (local $bias i32) (local $out i32)
    (local $TB i32) (local $flags i32) (local $V i32) (local $Mb i32) (local $work i32) (local $gs i32)
    (local $vstride i32) (local $mstride i32) (local $ustride i32) (local $panels i32) (local $cb i32) (local $fb i32)
    (local $tb i32) (local $rows i32) (local $r i32) (local $t i32) (local $xi i32) (local $b i32) (local $y0 i32) (local $x0 i32)
    (local $f i32) (local $j i32) (local $k i32) (local $l i32) (local $src i32) (local $dst i32) (local $cell i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $m4 v128) (local $m5 v128) (local $bv v128) (local $y v128)
    (local.set $C (i32.load offset=12 (local.get $desc)))
    (local.set $OH (i32.load offset=16 (local.get $desc)))
    (local.set $OW (i32.load offset=20 (local.get $desc)))
    (local.set $PH (i32.shr_u (local.get $OH) (i32.const 1)))
    (local.set $PW (i32.shr_u (local.get $OW) (i32.const 1)))
    (local.set $tilesH (i32.load offset=32 (local.get $desc)))
    (local.set $tilesW (i32.load offset=36 (local.get $desc)))
    (local.set $F (i32.load offset=40 (local.get $desc)))
    (local.set $pu (i32.load offset=44 (local.get $desc)))
    (local.set $bias (i32.load offset=48 (local.get $desc)))
    (local.set $flags (i32.load offset=52 (local.get $desc)))
    (local.set $out (i32.load offset=56 (local.get $desc)))
    (local.set $TB (i32.load offset=64 (local.get $desc)))
    (if (i32.gt_s (local.get $t1) (i32.load offset=68 (local.get $desc))) (then (local.set $t1 (i32.load offset=68 (local.get $desc)))))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $fb (i32.shl (local.get $F) (i32.const 2)))
    (local.set $panels (i32.shr_u (i32.add (local.get $F) (i32.const 7)) (i32.const 3)))
    (local.set $vstride (i32.add (i32.mul (local.get $TB) (local.get $cb)) (global.get $U_SKEW)))
    (local.set $mstride (i32.add (i32.mul (local.get $TB) (local.get $fb)) (global.get $U_SKEW)))
    (local.set $ustride (i32.add (i32.shl (i32.mul (local.get $panels) (local.get $C)) (i32.const 5)) (global.get $U_SKEW)))
    (local.set $V (local.get $scratch))
    (local.set $Mb (i32.add (local.get $V) (i32.mul (local.get $vstride) (i32.const 36))))
    (local.set $work (i32.add (local.get $Mb) (i32.mul (local.get $mstride) (i32.const 36))))
    (local.set $gs (i32.add (local.get $work) (i32.const 768)))
    (local.set $tb (local.get $t0))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_s (local.get $tb) (local.get $t1)))
        (local.set $rows (i32.sub (local.get $t1) (local.get $tb)))
        (if (i32.gt_s (local.get $rows) (local.get $TB)) (then (local.set $rows (local.get $TB))))
        (call $winograd4_input (local.get $desc) (local.get $tb) (local.get $rows) (local.get $V) (local.get $vstride) (local.get $work))
        ;; M_xi = V_xi U_xi
        (local.set $xi (i32.const 0))
        (loop $products
          (call $gemm
            (i32.add (local.get $V) (i32.mul (local.get $xi) (local.get $vstride))) (i32.const 0)
            (i32.add (local.get $pu) (i32.mul (local.get $xi) (local.get $ustride)))
            (i32.add (local.get $Mb) (i32.mul (local.get $xi) (local.get $mstride))) (i32.const 0)
            (local.get $rows) (local.get $C) (local.get $F) (i32.const 0)
            (i32.const 0) (local.get $rows) (i32.const 0) (local.get $panels) (local.get $gs) (local.get $TB))
          (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
          (br_if $products (i32.lt_s (local.get $xi) (i32.const 36))))
        ;; y = A^T m A (+ bias, clamp): work's first 24 vectors hold A^T m (4 rows of 6), the next 16 y
        (local.set $r (i32.const 0))
        (block $out_done
          (loop $out_tiles
            (br_if $out_done (i32.ge_s (local.get $r) (local.get $rows)))
            (local.set $t (i32.add (local.get $tb) (local.get $r)))
            (local.set $b (i32.div_u (local.get $t) (i32.mul (local.get $tilesW) (local.get $tilesH))))
            (local.set $y0 (i32.shl (i32.rem_u (i32.div_u (local.get $t) (local.get $tilesW)) (local.get $tilesH)) (i32.const 2)))
            (local.set $x0 (i32.shl (i32.rem_u (local.get $t) (local.get $tilesW)) (i32.const 2)))
            (local.set $f (i32.const 0))
            (loop $out_filters
              (local.set $j (i32.const 0))
              (loop $out_columns
                (local.set $src (i32.add (i32.add (local.get $Mb) (i32.mul (local.get $j) (local.get $mstride)))
                  (i32.add (i32.mul (local.get $r) (local.get $fb)) (local.get $f))))
                (local.set $m0 (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.mul (local.get $mstride) (i32.const 6))))
                (local.set $m1 (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.mul (local.get $mstride) (i32.const 6))))
                (local.set $m2 (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.mul (local.get $mstride) (i32.const 6))))
                (local.set $m3 (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.mul (local.get $mstride) (i32.const 6))))
                (local.set $m4 (v128.load align=4 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.mul (local.get $mstride) (i32.const 6))))
                (local.set $m5 (v128.load align=4 (local.get $src)))
                (local.set $dst (i32.add (local.get $work) (i32.shl (local.get $j) (i32.const 4))))
                (v128.store offset=0 align=4 (local.get $dst)
                  (f32x4.add (f32x4.add (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)) (local.get $m3)) (local.get $m4)))
                (v128.store offset=96 align=4 (local.get $dst)
                  (f32x4.sub (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.5 0.5 0.5 0.5))))
                (v128.store offset=192 align=4 (local.get $dst)
                  (f32x4.add (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 4 4 4 4))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.25 0.25 0.25 0.25))))
                (v128.store offset=288 align=4 (local.get $dst)
                  (f32x4.add (f32x4.sub (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 8 8 8 8))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.125 0.125 0.125 0.125))) (local.get $m5)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $out_columns (i32.lt_u (local.get $j) (i32.const 6))))
              (if (local.get $bias) (then (local.set $bv (v128.load align=4 (i32.add (local.get $bias) (local.get $f))))))
              (local.set $k (i32.const 0))
              (loop $out_rows
                (local.set $src (i32.add (local.get $work) (i32.mul (local.get $k) (i32.const 96))))
                (local.set $m0 (v128.load offset=0 align=4 (local.get $src)))
                (local.set $m1 (v128.load offset=16 align=4 (local.get $src)))
                (local.set $m2 (v128.load offset=32 align=4 (local.get $src)))
                (local.set $m3 (v128.load offset=48 align=4 (local.get $src)))
                (local.set $m4 (v128.load offset=64 align=4 (local.get $src)))
                (local.set $m5 (v128.load offset=80 align=4 (local.get $src)))
                (local.set $dst (i32.add (i32.add (local.get $work) (i32.const 384)) (i32.shl (local.get $k) (i32.const 6))))
                (local.set $y (f32x4.add (f32x4.add (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)) (local.get $m3)) (local.get $m4)))
                (if (local.get $bias) (then (local.set $y (f32x4.add (local.get $y) (local.get $bv)))))
                (if (i32.and (local.get $flags) (global.get $RELU))
                  (then (local.set $y (f32x4.pmax (local.get $y) (v128.const f32x4 0 0 0 0)))))
                (if (i32.and (local.get $flags) (global.get $RELU6))
                  (then (local.set $y (call $relu6_4 (local.get $y)))))
                (v128.store offset=0 align=4 (local.get $dst) (local.get $y))
                (local.set $y (f32x4.sub (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 2 2 2 2))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.5 0.5 0.5 0.5))))
                (if (local.get $bias) (then (local.set $y (f32x4.add (local.get $y) (local.get $bv)))))
                (if (i32.and (local.get $flags) (global.get $RELU))
                  (then (local.set $y (f32x4.pmax (local.get $y) (v128.const f32x4 0 0 0 0)))))
                (if (i32.and (local.get $flags) (global.get $RELU6))
                  (then (local.set $y (call $relu6_4 (local.get $y)))))
                (v128.store offset=16 align=4 (local.get $dst) (local.get $y))
                (local.set $y (f32x4.add (f32x4.add (f32x4.add (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 4 4 4 4))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.25 0.25 0.25 0.25))))
                (if (local.get $bias) (then (local.set $y (f32x4.add (local.get $y) (local.get $bv)))))
                (if (i32.and (local.get $flags) (global.get $RELU))
                  (then (local.set $y (f32x4.pmax (local.get $y) (v128.const f32x4 0 0 0 0)))))
                (if (i32.and (local.get $flags) (global.get $RELU6))
                  (then (local.set $y (call $relu6_4 (local.get $y)))))
                (v128.store offset=32 align=4 (local.get $dst) (local.get $y))
                (local.set $y (f32x4.add (f32x4.sub (f32x4.add (f32x4.sub (local.get $m1) (local.get $m2)) (f32x4.mul (local.get $m3) (v128.const f32x4 8 8 8 8))) (f32x4.mul (local.get $m4) (v128.const f32x4 0.125 0.125 0.125 0.125))) (local.get $m5)))
                (if (local.get $bias) (then (local.set $y (f32x4.add (local.get $y) (local.get $bv)))))
                (if (i32.and (local.get $flags) (global.get $RELU))
                  (then (local.set $y (f32x4.pmax (local.get $y) (v128.const f32x4 0 0 0 0)))))
                (if (i32.and (local.get $flags) (global.get $RELU6))
                  (then (local.set $y (call $relu6_4 (local.get $y)))))
                (v128.store offset=48 align=4 (local.get $dst) (local.get $y))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br_if $out_rows (i32.lt_u (local.get $k) (i32.const 4))))
              ;; y's cells (k, l) into the output, or each 2x2 window's max into the pool's
              (local.set $k (i32.const 0))
              (loop $store_rows
                (local.set $l (i32.const 0))
                (loop $store_cells
                  (local.set $cell (i32.add (i32.add (local.get $work) (i32.const 384)) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 2)) (local.get $l)) (i32.const 4))))
                  (if (i32.and (local.get $flags) (global.get $POOL))
                    (then
                      (if (i32.and
                            (i32.lt_u (i32.add (i32.shr_u (local.get $y0) (i32.const 1)) (i32.shr_u (local.get $k) (i32.const 1))) (local.get $PH))
                            (i32.lt_u (i32.add (i32.shr_u (local.get $x0) (i32.const 1)) (i32.shr_u (local.get $l) (i32.const 1))) (local.get $PW)))
                        (then (v128.store align=4
                          (i32.add (i32.add (local.get $out) (local.get $f)) (i32.mul (local.get $fb)
                            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $PH))
                              (i32.add (i32.shr_u (local.get $y0) (i32.const 1)) (i32.shr_u (local.get $k) (i32.const 1)))) (local.get $PW))
                              (i32.add (i32.shr_u (local.get $x0) (i32.const 1)) (i32.shr_u (local.get $l) (i32.const 1))))))
                          ;; the window's cells in row-major order, pmax from -inf as max_pool
                          (f32x4.pmax (f32x4.pmax (f32x4.pmax (f32x4.pmax (v128.const f32x4 -inf -inf -inf -inf)
                            (v128.load align=4 (local.get $cell))) (v128.load offset=16 align=4 (local.get $cell)))
                            (v128.load offset=64 align=4 (local.get $cell))) (v128.load offset=80 align=4 (local.get $cell)))))))
                    (else
                      (if (i32.and (i32.lt_u (i32.add (local.get $y0) (local.get $k)) (local.get $OH)) (i32.lt_u (i32.add (local.get $x0) (local.get $l)) (local.get $OW)))
                        (then (v128.store align=4
                          (i32.add (i32.add (local.get $out) (local.get $f)) (i32.mul (local.get $fb)
                            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $OH)) (i32.add (local.get $y0) (local.get $k))) (local.get $OW))
                              (i32.add (local.get $x0) (local.get $l)))))
                          (v128.load align=4 (local.get $cell)))))))
                  ;; a pool's window is every other cell of every other row
                  (local.set $l (i32.add (local.get $l) (select (i32.const 2) (i32.const 1) (i32.and (local.get $flags) (global.get $POOL)))))
                  (br_if $store_cells (i32.lt_u (local.get $l) (i32.const 4))))
                (local.set $k (i32.add (local.get $k) (select (i32.const 2) (i32.const 1) (i32.and (local.get $flags) (global.get $POOL)))))
                (br_if $store_rows (i32.lt_u (local.get $k) (i32.const 4))))
              (local.set $f (i32.add (local.get $f) (i32.const 16)))
              (br_if $out_filters (i32.lt_s (local.get $f) (local.get $fb))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $out_tiles)))
        (local.set $tb (i32.add (local.get $tb) (local.get $rows)))
        (br $blocks))))

  ;; The kernel gradient of the same convolution, dK = sum over tiles of
  ;; G^T [(A dY A^T) . V] G, dY a tile's 2x2 block of dz: for each xi,
  ;; M_xi [C, F] = sum over tiles V_xi^T Z_xi with Z = A dY A^T, then
  ;; dK = G^T M G (winograd_grad_out). The tiles fall into fixed slices of
  ;; whole blocks (sliceTiles each), every slice with its own 16 accumulators
  ;; M_xi (`accBytes` apart, U_SKEW between blocks), summed in slice order at
  ;; the end: the result does not depend on the number of threads.
  ;; winograd_grad_slices runs slices [s0, s1), TB tiles at a time:
  ;; winograd_input's V, Z written straight in pack_b's panels (its K the
  ;; block's tiles; columns past F zero), then the 16 products V_xi^T Z_xi
  ;; through gemm (V_xi read transposed), added into the slice's M_xi after
  ;; the slice's first block. A block's sums are float32 over at most TB
  ;; <= KCH tiles. `scratch` is this thread's:
  ;;   [V: 16 blocks of TB*C floats | Z: 16 of TB*8*panels | gemm's scratch for C rows].
  ;; Descriptor, i32 at byte 4i: winograd_tiles' fields 0-10, 15-17, and
  ;; 11 dz [B,OH,OW,F], 12 acc (slice 0's M_0), 13 sliceTiles, 14 accBytes,
  ;; 18 the number of slices, 19 dK [3,3,C,F].
  (func (export "winograd_grad_slices") (param $desc i32) (param $s0 i32) (param $s1 i32) (param $scratch i32)
    (local $C i32) (local $F i32) (local $OH i32) (local $OW i32) (local $tilesH i32) (local $tilesW i32)
    (local $dz i32) (local $TB i32) (local $fb i32) (local $rowb i32) (local $panels i32)
    (local $V i32) (local $Z i32) (local $gs i32) (local $vstride i32) (local $zstride i32) (local $astride i32)
    (local $s i32) (local $acc i32) (local $tb i32) (local $tEnd i32) (local $rows i32) (local $flags i32)
    (local $r i32) (local $t i32) (local $tx i32) (local $ty i32) (local $b i32) (local $y0 i32) (local $x0 i32)
    (local $o00 i32) (local $e01 i32) (local $e10 i32) (local $e11 i32) (local $f i32) (local $dst i32) (local $xi i32)
    (local $y00 v128) (local $y01 v128) (local $y10 v128) (local $y11 v128)
    (local $w00 v128) (local $w01 v128) (local $w10 v128) (local $w11 v128) (local $w20 v128) (local $w21 v128) (local $w30 v128) (local $w31 v128)
    (local.set $C (i32.load offset=12 (local.get $desc)))
    (local.set $OH (i32.load offset=16 (local.get $desc)))
    (local.set $OW (i32.load offset=20 (local.get $desc)))
    (local.set $tilesH (i32.load offset=32 (local.get $desc)))
    (local.set $tilesW (i32.load offset=36 (local.get $desc)))
    (local.set $F (i32.load offset=40 (local.get $desc)))
    (local.set $dz (i32.load offset=44 (local.get $desc)))
    (local.set $TB (i32.load offset=64 (local.get $desc)))
    (local.set $fb (i32.shl (local.get $F) (i32.const 2)))
    (local.set $rowb (i32.mul (local.get $OW) (local.get $fb)))
    (local.set $panels (i32.shr_u (i32.add (local.get $F) (i32.const 7)) (i32.const 3)))
    (local.set $vstride (i32.add (i32.shl (i32.mul (local.get $TB) (local.get $C)) (i32.const 2)) (global.get $U_SKEW)))
    (local.set $zstride (i32.add (i32.shl (i32.mul (local.get $TB) (local.get $panels)) (i32.const 5)) (global.get $U_SKEW)))
    (local.set $astride (i32.add (i32.shl (i32.mul (local.get $C) (local.get $F)) (i32.const 2)) (global.get $U_SKEW)))
    (local.set $V (local.get $scratch))
    (local.set $Z (i32.add (local.get $V) (i32.shl (local.get $vstride) (i32.const 4))))
    (local.set $gs (i32.add (local.get $Z) (i32.shl (local.get $zstride) (i32.const 4))))
    (local.set $s (local.get $s0))
    (block $slices_done
      (loop $slices
        (br_if $slices_done (i32.ge_s (local.get $s) (local.get $s1)))
        (local.set $acc (i32.add (i32.load offset=48 (local.get $desc)) (i32.mul (local.get $s) (i32.load offset=56 (local.get $desc)))))
        (local.set $tb (i32.mul (local.get $s) (i32.load offset=52 (local.get $desc))))
        (local.set $tEnd (i32.add (local.get $tb) (i32.load offset=52 (local.get $desc))))
        (if (i32.gt_s (local.get $tEnd) (i32.load offset=68 (local.get $desc))) (then (local.set $tEnd (i32.load offset=68 (local.get $desc)))))
        (local.set $flags (i32.const 0))
        (block $blocks_done
          (loop $blocks
            (br_if $blocks_done (i32.ge_s (local.get $tb) (local.get $tEnd)))
            (local.set $rows (i32.sub (local.get $tEnd) (local.get $tb)))
            (if (i32.gt_s (local.get $rows) (local.get $TB)) (then (local.set $rows (local.get $TB))))
            (call $winograd_input (local.get $desc) (local.get $tb) (local.get $rows) (local.get $V) (local.get $vstride))
            ;; Z = A dY A^T, tile by tile, into the panels of a [rows, F] matrix
            (local.set $r (i32.const 0))
            (block $z_done
              (loop $z_tiles
                (br_if $z_done (i32.ge_s (local.get $r) (local.get $rows)))
                (local.set $t (i32.add (local.get $tb) (local.get $r)))
                (local.set $tx (i32.rem_u (local.get $t) (local.get $tilesW)))
                (local.set $ty (i32.rem_u (i32.div_u (local.get $t) (local.get $tilesW)) (local.get $tilesH)))
                (local.set $b (i32.div_u (local.get $t) (i32.mul (local.get $tilesW) (local.get $tilesH))))
                (local.set $y0 (i32.shl (local.get $ty) (i32.const 1)))
                (local.set $x0 (i32.shl (local.get $tx) (i32.const 1)))
                (local.set $o00 (i32.add (local.get $dz)
                  (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $OH)) (local.get $y0)) (local.get $OW)) (local.get $x0))
                    (local.get $fb))))
                (local.set $e01 (i32.lt_s (i32.add (local.get $x0) (i32.const 1)) (local.get $OW)))
                (local.set $e10 (i32.lt_s (i32.add (local.get $y0) (i32.const 1)) (local.get $OH)))
                (local.set $e11 (i32.and (local.get $e01) (local.get $e10)))
                (local.set $f (i32.const 0))
                (loop $z_filters
                  ;; dY, zero past the last row or column of dz
                  (local.set $y00 (v128.load align=4 (i32.add (local.get $o00) (local.get $f))))
                  (local.set $y01 (if (result v128) (local.get $e01)
                    (then (v128.load align=4 (i32.add (i32.add (local.get $o00) (local.get $fb)) (local.get $f))))
                    (else (v128.const i32x4 0 0 0 0))))
                  (local.set $y10 (if (result v128) (local.get $e10)
                    (then (v128.load align=4 (i32.add (i32.add (local.get $o00) (local.get $rowb)) (local.get $f))))
                    (else (v128.const i32x4 0 0 0 0))))
                  (local.set $y11 (if (result v128) (local.get $e11)
                    (then (v128.load align=4 (i32.add (i32.add (i32.add (local.get $o00) (local.get $rowb)) (local.get $fb)) (local.get $f))))
                    (else (v128.const i32x4 0 0 0 0))))
                  ;; A dY: rows y0, y0 + y1, y0 - y1, -y1
                  (local.set $w00 (local.get $y00))
                  (local.set $w01 (local.get $y01))
                  (local.set $w10 (f32x4.add (local.get $y00) (local.get $y10)))
                  (local.set $w11 (f32x4.add (local.get $y01) (local.get $y11)))
                  (local.set $w20 (f32x4.sub (local.get $y00) (local.get $y10)))
                  (local.set $w21 (f32x4.sub (local.get $y01) (local.get $y11)))
                  (local.set $w30 (f32x4.neg (local.get $y10)))
                  (local.set $w31 (f32x4.neg (local.get $y11)))
                  ;; (A dY) A^T, row i: w_i0, w_i0 + w_i1, w_i0 - w_i1, -w_i1; Z_xi's element (r, f) in panel f/8
                  (local.set $dst (i32.add (local.get $Z) (i32.add
                    (i32.mul (i32.shr_u (local.get $f) (i32.const 5)) (i32.shl (local.get $rows) (i32.const 5)))
                    (i32.add (i32.shl (local.get $r) (i32.const 5)) (i32.and (local.get $f) (i32.const 16))))))
                  (v128.store align=4 (local.get $dst) (local.get $w00))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (local.get $w00) (local.get $w01)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $w00) (local.get $w01)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.neg (local.get $w01)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (local.get $w10))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (local.get $w10) (local.get $w11)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $w10) (local.get $w11)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.neg (local.get $w11)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (local.get $w20))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (local.get $w20) (local.get $w21)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $w20) (local.get $w21)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.neg (local.get $w21)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (local.get $w30))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.add (local.get $w30) (local.get $w31)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.sub (local.get $w30) (local.get $w31)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                  (v128.store align=4 (local.get $dst) (f32x4.neg (local.get $w31)))
                  (local.set $f (i32.add (local.get $f) (i32.const 16)))
                  (br_if $z_filters (i32.lt_s (local.get $f) (local.get $fb))))
                (if (i32.and (local.get $F) (i32.const 4))
                  (then
                    ;; F = 8k + 4: the last panel's upper four columns are zero, as pack_b leaves them
                    (local.set $dst (i32.add (local.get $Z) (i32.add
                      (i32.mul (i32.sub (local.get $panels) (i32.const 1)) (i32.shl (local.get $rows) (i32.const 5)))
                      (i32.add (i32.shl (local.get $r) (i32.const 5)) (i32.const 16)))))
                    (local.set $xi (i32.const 0))
                    (loop $zero_half
                      (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                      (local.set $dst (i32.add (local.get $dst) (local.get $zstride)))
                      (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
                      (br_if $zero_half (i32.lt_s (local.get $xi) (i32.const 16))))))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $z_tiles)))
            ;; M_xi (+)= V_xi^T Z_xi
            (local.set $xi (i32.const 0))
            (loop $products
              (call $gemm
                (i32.add (local.get $V) (i32.mul (local.get $xi) (local.get $vstride))) (i32.const 1)
                (i32.add (local.get $Z) (i32.mul (local.get $xi) (local.get $zstride)))
                (i32.add (local.get $acc) (i32.mul (local.get $xi) (local.get $astride))) (i32.const 0)
                (local.get $C) (local.get $rows) (local.get $F) (local.get $flags)
                (i32.const 0) (local.get $C) (i32.const 0) (local.get $panels) (local.get $gs)
                (i32.and (i32.add (local.get $C) (i32.const 3)) (i32.const -4)))
              (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
              (br_if $products (i32.lt_s (local.get $xi) (i32.const 16))))
            (local.set $flags (global.get $ACCUMULATE))
            (local.set $tb (i32.add (local.get $tb) (local.get $rows)))
            (br $blocks)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $slices))))

  ;; dK = G^T M G for input channels [c0, c1), M_xi the slices' accumulators
  ;; added in slice order (winograd_grad_slices' descriptor), into dK
  ;; [3,3,C,F]: four filters at a time.
  (func (export "winograd_grad_out") (param $desc i32) (param $c0 i32) (param $c1 i32)
    (local $C i32) (local $F i32) (local $fb i32) (local $acc i32) (local $accBytes i32) (local $slices i32)
    (local $dk i32) (local $astride i32) (local $tap i32) (local $c i32) (local $f i32) (local $src i32) (local $dst i32)
    (local $s i32) (local $xi i32)
    (local $m00 v128) (local $m01 v128) (local $m02 v128) (local $m03 v128) (local $m10 v128) (local $m11 v128) (local $m12 v128) (local $m13 v128) (local $m20 v128) (local $m21 v128) (local $m22 v128) (local $m23 v128) (local $m30 v128) (local $m31 v128) (local $m32 v128) (local $m33 v128)
    (local $r00 v128) (local $r01 v128) (local $r02 v128) (local $r03 v128) (local $r10 v128) (local $r11 v128) (local $r12 v128) (local $r13 v128) (local $r20 v128) (local $r21 v128) (local $r22 v128) (local $r23 v128)
    (local.set $C (i32.load offset=12 (local.get $desc)))
    (local.set $F (i32.load offset=40 (local.get $desc)))
    (local.set $acc (i32.load offset=48 (local.get $desc)))
    (local.set $accBytes (i32.load offset=56 (local.get $desc)))
    (local.set $slices (i32.load offset=72 (local.get $desc)))
    (local.set $dk (i32.load offset=76 (local.get $desc)))
    (local.set $fb (i32.shl (local.get $F) (i32.const 2)))
    (local.set $astride (i32.add (i32.shl (i32.mul (local.get $C) (local.get $F)) (i32.const 2)) (global.get $U_SKEW)))
    (local.set $tap (i32.shl (i32.mul (local.get $C) (local.get $F)) (i32.const 2)))
    (local.set $c (local.get $c0))
    (block $channels_done
      (loop $channels
        (br_if $channels_done (i32.ge_s (local.get $c) (local.get $c1)))
        (local.set $f (i32.const 0))
        (loop $filters
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 0) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m00 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed0 (loop $sum0
            (br_if $summed0 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m00 (f32x4.add (local.get $m00) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum0)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 1) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m01 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed1 (loop $sum1
            (br_if $summed1 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m01 (f32x4.add (local.get $m01) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum1)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 2) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m02 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed2 (loop $sum2
            (br_if $summed2 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m02 (f32x4.add (local.get $m02) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum2)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 3) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m03 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed3 (loop $sum3
            (br_if $summed3 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m03 (f32x4.add (local.get $m03) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum3)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 4) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m10 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed4 (loop $sum4
            (br_if $summed4 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m10 (f32x4.add (local.get $m10) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum4)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 5) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m11 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed5 (loop $sum5
            (br_if $summed5 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m11 (f32x4.add (local.get $m11) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum5)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 6) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m12 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed6 (loop $sum6
            (br_if $summed6 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m12 (f32x4.add (local.get $m12) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum6)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 7) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m13 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed7 (loop $sum7
            (br_if $summed7 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m13 (f32x4.add (local.get $m13) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum7)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 8) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m20 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed8 (loop $sum8
            (br_if $summed8 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m20 (f32x4.add (local.get $m20) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum8)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 9) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m21 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed9 (loop $sum9
            (br_if $summed9 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m21 (f32x4.add (local.get $m21) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum9)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 10) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m22 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed10 (loop $sum10
            (br_if $summed10 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m22 (f32x4.add (local.get $m22) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum10)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 11) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m23 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed11 (loop $sum11
            (br_if $summed11 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m23 (f32x4.add (local.get $m23) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum11)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 12) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m30 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed12 (loop $sum12
            (br_if $summed12 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m30 (f32x4.add (local.get $m30) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum12)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 13) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m31 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed13 (loop $sum13
            (br_if $summed13 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m31 (f32x4.add (local.get $m31) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum13)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 14) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m32 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed14 (loop $sum14
            (br_if $summed14 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m32 (f32x4.add (local.get $m32) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum14)))
          (local.set $src (i32.add (i32.add (i32.add (local.get $acc) (i32.mul (i32.const 15) (local.get $astride))) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (local.set $m33 (v128.load align=4 (local.get $src)))
          (local.set $s (i32.const 1))
          (block $summed15 (loop $sum15
            (br_if $summed15 (i32.ge_s (local.get $s) (local.get $slices)))
            (local.set $src (i32.add (local.get $src) (local.get $accBytes)))
            (local.set $m33 (f32x4.add (local.get $m33) (v128.load align=4 (local.get $src))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $sum15)))
          ;; G^T M: rows m0 + (m1 + m2)/2, (m1 - m2)/2, (m1 + m2)/2 + m3
          (local.set $r00 (f32x4.add (local.get $m00) (f32x4.mul (f32x4.add (local.get $m10) (local.get $m20)) (global.get $HALF4))))
          (local.set $r10 (f32x4.mul (f32x4.sub (local.get $m10) (local.get $m20)) (global.get $HALF4)))
          (local.set $r20 (f32x4.add (f32x4.mul (f32x4.add (local.get $m10) (local.get $m20)) (global.get $HALF4)) (local.get $m30)))
          (local.set $r01 (f32x4.add (local.get $m01) (f32x4.mul (f32x4.add (local.get $m11) (local.get $m21)) (global.get $HALF4))))
          (local.set $r11 (f32x4.mul (f32x4.sub (local.get $m11) (local.get $m21)) (global.get $HALF4)))
          (local.set $r21 (f32x4.add (f32x4.mul (f32x4.add (local.get $m11) (local.get $m21)) (global.get $HALF4)) (local.get $m31)))
          (local.set $r02 (f32x4.add (local.get $m02) (f32x4.mul (f32x4.add (local.get $m12) (local.get $m22)) (global.get $HALF4))))
          (local.set $r12 (f32x4.mul (f32x4.sub (local.get $m12) (local.get $m22)) (global.get $HALF4)))
          (local.set $r22 (f32x4.add (f32x4.mul (f32x4.add (local.get $m12) (local.get $m22)) (global.get $HALF4)) (local.get $m32)))
          (local.set $r03 (f32x4.add (local.get $m03) (f32x4.mul (f32x4.add (local.get $m13) (local.get $m23)) (global.get $HALF4))))
          (local.set $r13 (f32x4.mul (f32x4.sub (local.get $m13) (local.get $m23)) (global.get $HALF4)))
          (local.set $r23 (f32x4.add (f32x4.mul (f32x4.add (local.get $m13) (local.get $m23)) (global.get $HALF4)) (local.get $m33)))
          ;; (G^T M) G, column by column alike, into dK[ky, kx, c, f]
          (local.set $dst (i32.add (i32.add (local.get $dk) (i32.mul (local.get $c) (local.get $fb))) (local.get $f)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 0) (local.get $tap))) (f32x4.add (local.get $r00) (f32x4.mul (f32x4.add (local.get $r01) (local.get $r02)) (global.get $HALF4))))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 1) (local.get $tap))) (f32x4.mul (f32x4.sub (local.get $r01) (local.get $r02)) (global.get $HALF4)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 2) (local.get $tap))) (f32x4.add (f32x4.mul (f32x4.add (local.get $r01) (local.get $r02)) (global.get $HALF4)) (local.get $r03)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 3) (local.get $tap))) (f32x4.add (local.get $r10) (f32x4.mul (f32x4.add (local.get $r11) (local.get $r12)) (global.get $HALF4))))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 4) (local.get $tap))) (f32x4.mul (f32x4.sub (local.get $r11) (local.get $r12)) (global.get $HALF4)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 5) (local.get $tap))) (f32x4.add (f32x4.mul (f32x4.add (local.get $r11) (local.get $r12)) (global.get $HALF4)) (local.get $r13)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 6) (local.get $tap))) (f32x4.add (local.get $r20) (f32x4.mul (f32x4.add (local.get $r21) (local.get $r22)) (global.get $HALF4))))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 7) (local.get $tap))) (f32x4.mul (f32x4.sub (local.get $r21) (local.get $r22)) (global.get $HALF4)))
          (v128.store align=4 (i32.add (local.get $dst) (i32.mul (i32.const 8) (local.get $tap))) (f32x4.add (f32x4.mul (f32x4.add (local.get $r21) (local.get $r22)) (global.get $HALF4)) (local.get $r23)))
          (local.set $f (i32.add (local.get $f) (i32.const 16)))
          (br_if $filters (i32.lt_s (local.get $f) (local.get $fb))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channels))))

  ;; Attention's heads for (example, head) pairs [i0, i1) (example i / H, head
  ;; i % H), each through gemm on this thread's scratch:
  ;;   scores = Q_h Kp_h^T, s > t hidden (-1e9) when causal,
  ;;   P = softmax over each row (copied to P's [B, H, T, S] when P is not 0),
  ;;   ctx_h = P Vp_h,
  ;; Q (already scaled) [B*T, H*K], Kp [B*S, H*K], Vp [B*S, H*V] and ctx
  ;; [B*T, H*V] dense row-major; head h reads and writes its columns. The
  ;; descriptor, i32s: Q, Kp, Vp, ctx, P, T, S, H, K, V, causal. Scratch, in
  ;; bytes from `scratch`: q [T, K], k [S, K], v [S, V], B panels of Kp_h^T and
  ;; of Vp_h, scores [T, S], ctx_h [T, V], then gemm's (64/4 strips of
  ;; max(K, S) and a tile), each 64-byte aligned: index.ts headsScratchBytes, whose MC (gemm.ts) is the 64 passed to gemm here.
  ;; The kernels and their order are those of attention.ts's loop.
  (func (export "attention_heads") (param $desc i32) (param $i0 i32) (param $i1 i32) (param $scratch i32)
    (local $T i32) (local $S i32) (local $H i32) (local $K i32) (local $V i32) (local $b i32) (local $h i32) (local $i i32) (local $t i32)
    (local $q i32) (local $k i32) (local $v i32) (local $pk i32) (local $pv i32) (local $sc i32) (local $cx i32) (local $gs i32)
    (local $panelsS i32) (local $panelsV i32) (local $row i32) (local $from i32) (local $to i32)
    (local.set $T (i32.load offset=20 (local.get $desc)))
    (local.set $S (i32.load offset=24 (local.get $desc)))
    (local.set $H (i32.load offset=28 (local.get $desc)))
    (local.set $K (i32.load offset=32 (local.get $desc)))
    (local.set $V (i32.load offset=36 (local.get $desc)))
    (local.set $panelsS (i32.shr_u (i32.add (local.get $S) (i32.const 7)) (i32.const 3)))
    (local.set $panelsV (i32.shr_u (i32.add (local.get $V) (i32.const 7)) (i32.const 3)))
    (local.set $q (local.get $scratch))
    (local.set $k (call $align64 (i32.add (local.get $q) (i32.shl (i32.mul (local.get $T) (local.get $K)) (i32.const 2)))))
    (local.set $v (call $align64 (i32.add (local.get $k) (i32.shl (i32.mul (local.get $S) (local.get $K)) (i32.const 2)))))
    (local.set $pk (call $align64 (i32.add (local.get $v) (i32.shl (i32.mul (local.get $S) (local.get $V)) (i32.const 2)))))
    (local.set $pv (call $align64 (i32.add (local.get $pk) (i32.shl (i32.mul (local.get $panelsS) (local.get $K)) (i32.const 5)))))
    (local.set $sc (call $align64 (i32.add (local.get $pv) (i32.shl (i32.mul (local.get $panelsV) (local.get $S)) (i32.const 5)))))
    (local.set $cx (call $align64 (i32.add (local.get $sc) (i32.shl (i32.mul (local.get $T) (local.get $S)) (i32.const 2)))))
    (local.set $gs (call $align64 (i32.add (local.get $cx) (i32.shl (i32.mul (local.get $T) (local.get $V)) (i32.const 2)))))
    (local.set $i (local.get $i0))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_s (local.get $i) (local.get $i1)))
        (local.set $b (i32.div_u (local.get $i) (local.get $H)))
        (local.set $h (i32.rem_u (local.get $i) (local.get $H)))
        ;; scores = q k^T: k packed as B transposed
        (call $copy_rows (local.get $q)
          (i32.add (i32.load offset=0 (local.get $desc))
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $T)) (i32.mul (local.get $H) (local.get $K))) (i32.mul (local.get $h) (local.get $K))) (i32.const 2)))
          (local.get $T) (local.get $K) (i32.shl (local.get $K) (i32.const 2)) (i32.shl (i32.mul (local.get $H) (local.get $K)) (i32.const 2)))
        (call $copy_rows (local.get $k)
          (i32.add (i32.load offset=4 (local.get $desc))
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (i32.mul (local.get $H) (local.get $K))) (i32.mul (local.get $h) (local.get $K))) (i32.const 2)))
          (local.get $S) (local.get $K) (i32.shl (local.get $K) (i32.const 2)) (i32.shl (i32.mul (local.get $H) (local.get $K)) (i32.const 2)))
        (call $pack_b (local.get $k) (i32.const 1) (local.get $K) (local.get $S) (local.get $pk) (i32.const 0) (local.get $panelsS))
        (call $gemm (local.get $q) (i32.const 0) (local.get $pk) (local.get $sc) (i32.const 0)
          (local.get $T) (local.get $K) (local.get $S) (i32.const 0)
          (i32.const 0) (local.get $T) (i32.const 0) (local.get $panelsS) (local.get $gs) (i32.const 64))
        (if (i32.load offset=40 (local.get $desc))
          (then
            ;; row t keeps s <= t
            (local.set $t (i32.const 0))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_s (local.get $t) (local.get $T)))
                (local.set $row (i32.add (local.get $sc) (i32.shl (i32.mul (local.get $t) (local.get $S)) (i32.const 2))))
                (local.set $from (i32.add (local.get $t) (i32.const 1)))
                (block $hidden_done
                  (loop $hidden
                    (br_if $hidden_done (i32.ge_s (local.get $from) (local.get $S)))
                    (f32.store (i32.add (local.get $row) (i32.shl (local.get $from) (i32.const 2))) (f32.const -1e9))
                    (local.set $from (i32.add (local.get $from) (i32.const 1)))
                    (br $hidden)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $rows)))))
        (call $softmax_rows (local.get $sc) (local.get $sc) (local.get $T) (local.get $S))
        (if (i32.load offset=16 (local.get $desc))
          (then
            (local.set $to (i32.add (i32.load offset=16 (local.get $desc))
              (i32.shl (i32.mul (local.get $i) (i32.mul (local.get $T) (local.get $S))) (i32.const 2))))
            (call $copy_rows (local.get $to) (local.get $sc) (local.get $T) (local.get $S)
              (i32.shl (local.get $S) (i32.const 2)) (i32.shl (local.get $S) (i32.const 2)))))
        ;; ctx_h = P v
        (call $copy_rows (local.get $v)
          (i32.add (i32.load offset=8 (local.get $desc))
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (i32.mul (local.get $H) (local.get $V))) (i32.mul (local.get $h) (local.get $V))) (i32.const 2)))
          (local.get $S) (local.get $V) (i32.shl (local.get $V) (i32.const 2)) (i32.shl (i32.mul (local.get $H) (local.get $V)) (i32.const 2)))
        (call $pack_b (local.get $v) (i32.const 0) (local.get $S) (local.get $V) (local.get $pv) (i32.const 0) (local.get $panelsV))
        (call $gemm (local.get $sc) (i32.const 0) (local.get $pv) (local.get $cx) (i32.const 0)
          (local.get $T) (local.get $S) (local.get $V) (i32.const 0)
          (i32.const 0) (local.get $T) (i32.const 0) (local.get $panelsV) (local.get $gs) (i32.const 64))
        (call $copy_rows
          (i32.add (i32.load offset=12 (local.get $desc))
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $T)) (i32.mul (local.get $H) (local.get $V))) (i32.mul (local.get $h) (local.get $V))) (i32.const 2)))
          (local.get $cx) (local.get $T) (local.get $V) (i32.shl (i32.mul (local.get $H) (local.get $V)) (i32.const 2)) (i32.shl (local.get $V) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $pairs))))

  (func $align64 (param $x i32) (result i32)
    (i32.and (i32.add (local.get $x) (i32.const 63)) (i32.const -64)))

  ;; One row of A times a stored [K, N] B, read in place: c[j] = epilogue(
  ;; sum_k a[k] b[k, j]) for the 32-column groups [g0, g1). A product of one
  ;; row uses each value of B once, so packing B (reading and writing it all)
  ;; cost more than the product: MobileNetV2's [1, 1280] x [1280, 1000]
  ;; classifier took 1.5 ms. The sums are micro's, in the same order, so the
  ;; bits are gemm's: float32 over KCH rows of B at a time, k in order, then
  ;; added up in float64 (at `scratch`, 8 bytes a column of the range), then
  ;; store's epilogue (+ old c when accumulating, + bias, relu or relu6).
  ;; Columns of a last group narrower than 32 are summed one at a time.
  (func (export "row_product")
    (param $a i32) (param $b i32) (param $c i32) (param $bias i32) (param $K i32) (param $N i32) (param $flags i32)
    (param $scratch i32) (param $g0 i32) (param $g1 i32)
    (local $j0 i32) (local $j1 i32) (local $j i32) (local $k i32) (local $k1 i32) (local $kc i32) (local $row i32) (local $ld i32)
    (local $sum i32) (local $av v128) (local $x f32) (local $s f32) (local $d f64)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $ld (i32.shl (local.get $N) (i32.const 2)))
    (local.set $j0 (i32.shl (local.get $g0) (i32.const 5)))
    (local.set $j1 (i32.shl (local.get $g1) (i32.const 5)))
    (if (i32.gt_s (local.get $j1) (local.get $N)) (then (local.set $j1 (local.get $N))))
    ;; the float64 sums of the range's columns start at 0
    (local.set $j (local.get $j0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_s (local.get $j) (local.get $j1)))
        (f64.store (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 3))) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $zero)))
    (local.set $kc (i32.const 0))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_s (local.get $kc) (local.get $K)))
        (local.set $k1 (i32.add (local.get $kc) (global.get $KCH)))
        (if (i32.gt_s (local.get $k1) (local.get $K)) (then (local.set $k1 (local.get $K))))
        ;; whole groups of 32 columns: eight float32 sums in registers over the chunk's rows
        (local.set $j (local.get $j0))
        (block $groups_done
          (loop $groups
            (br_if $groups_done (i32.gt_s (i32.add (local.get $j) (i32.const 32)) (local.get $j1)))
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $c2 (v128.const i32x4 0 0 0 0))
            (local.set $c3 (v128.const i32x4 0 0 0 0))
            (local.set $c4 (v128.const i32x4 0 0 0 0))
            (local.set $c5 (v128.const i32x4 0 0 0 0))
            (local.set $c6 (v128.const i32x4 0 0 0 0))
            (local.set $c7 (v128.const i32x4 0 0 0 0))
            (local.set $row (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $kc) (local.get $N)) (local.get $j)) (i32.const 2))))
            (local.set $k (local.get $kc))
            (loop $rows
              (local.set $av (v128.load32_splat (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2)))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (v128.load offset=0 align=4 (local.get $row)))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (v128.load offset=16 align=4 (local.get $row)))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (v128.load offset=32 align=4 (local.get $row)))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (v128.load offset=48 align=4 (local.get $row)))))
              (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $av) (v128.load offset=64 align=4 (local.get $row)))))
              (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $av) (v128.load offset=80 align=4 (local.get $row)))))
              (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $av) (v128.load offset=96 align=4 (local.get $row)))))
              (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $av) (v128.load offset=112 align=4 (local.get $row)))))
              (local.set $row (i32.add (local.get $row) (local.get $ld)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $rows (i32.lt_s (local.get $k) (local.get $k1))))
            (local.set $sum (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 3))))
            (call $add_sums (local.get $sum) (local.get $c0) (local.get $c1))
            (call $add_sums (i32.add (local.get $sum) (i32.const 64)) (local.get $c2) (local.get $c3))
            (call $add_sums (i32.add (local.get $sum) (i32.const 128)) (local.get $c4) (local.get $c5))
            (call $add_sums (i32.add (local.get $sum) (i32.const 192)) (local.get $c6) (local.get $c7))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $groups)))
        ;; the columns left, one at a time
        (block $singles_done
          (loop $singles
            (br_if $singles_done (i32.ge_s (local.get $j) (local.get $j1)))
            (local.set $s (f32.const 0))
            (local.set $row (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $kc) (local.get $N)) (local.get $j)) (i32.const 2))))
            (local.set $k (local.get $kc))
            (loop $rows
              (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2)))) (f32.load (local.get $row)))))
              (local.set $row (i32.add (local.get $row) (local.get $ld)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $rows (i32.lt_s (local.get $k) (local.get $k1))))
            (local.set $sum (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 3))))
            (f64.store (local.get $sum) (f64.add (f64.load (local.get $sum)) (f64.promote_f32 (local.get $s))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $singles)))
        (local.set $kc (local.get $k1))
        (br $chunks)))
    ;; store's epilogue, one value at a time
    (local.set $j (local.get $j0))
    (block $out_done
      (loop $out
        (br_if $out_done (i32.ge_s (local.get $j) (local.get $j1)))
        (local.set $x (f32.demote_f64 (f64.load (i32.add (local.get $scratch) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 3))))))
        (if (i32.and (local.get $flags) (global.get $ACCUMULATE))
          (then (local.set $x (f32.add (local.get $x) (f32.load (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))))))))
        (if (i32.and (local.get $flags) (global.get $BIAS))
          (then (local.set $x (f32.add (local.get $x) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
        (if (i32.and (local.get $flags) (global.get $RELU))
          (then (if (f32.lt (local.get $x) (f32.const 0)) (then (local.set $x (f32.const 0))))))
        (if (i32.and (local.get $flags) (global.get $RELU6))
          (then (local.set $x (f32.min (f32.max (local.get $x) (f32.const 0)) (f32.const 6)))))
        (f32.store (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $x))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $out))))

  ;; t[0..8) (float64) += v0, v1 widened: row_product's sums of eight columns.
  (func $add_sums (param $t i32) (param $v0 v128) (param $v1 v128)
    (v128.store offset=0 (local.get $t) (f64x2.add (v128.load offset=0 (local.get $t)) (f64x2.promote_low_f32x4 (local.get $v0))))
    (v128.store offset=16 (local.get $t) (f64x2.add (v128.load offset=16 (local.get $t))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v0) (local.get $v0)))))
    (v128.store offset=32 (local.get $t) (f64x2.add (v128.load offset=32 (local.get $t)) (f64x2.promote_low_f32x4 (local.get $v1))))
    (v128.store offset=48 (local.get $t) (f64x2.add (v128.load offset=48 (local.get $t))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v1) (local.get $v1))))))
)
