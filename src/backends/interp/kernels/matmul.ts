/**
 * Matrix product, the workhorse of dense, conv (via im2col), recurrent and
 * attention kernels.
 *
 *   matmul(a [M,K], b [K,N]) -> [M,N]
 *   matmulInto(out, a, b, M, K, N, opts): out[M,N] = act((out +) op(a)·op(b) + bias)
 *
 * All matrices are dense row-major Float32Arrays; pass a `subarray` to work on
 * a slice. `out` must not overlap `a` or `b`. Sums are accumulated in float64
 * and rounded to float32 once per K-block (`KC`), then once more for the bias,
 * so results are at least as accurate as tfjs's float32 dot products (they
 * differ from them by float32 rounding only).
 *
 * How it is fast (scalar JS has no SIMD): the classic GotoBLAS shape.
 *   - B is packed, one K-block at a time, into panels of NR columns, so the
 *     inner loop reads it contiguously: panel[k*NR + j] = B[k0+k, j0+j].
 *   - A is packed, one MR-row strip at a time, interleaved: strip[k*MR + r].
 *   - The micro-kernel keeps an MR x NR block of C in local variables across
 *     the whole K-block: per k it does 2*MR*NR flops for MR+NR loads, where a
 *     naive loop does 2 flops per 2 loads and a store.
 *   - Fewer than MR rows (one sample, an RNN step at batch 1) skip packing,
 *     which would cost as much as the product: see fewRows.
 *   - Packing pads ragged edges with zeros, so the micro-kernel has no edge
 *     cases; only the final store checks bounds. Packing also absorbs
 *     transposed operands, which is why `transA`/`transB` cost nothing extra.
 * Pack buffers are module-level scratch, grown on demand and reused.
 *
 * This is the reference implementation. Where WebAssembly SIMD is available,
 * `matmulInto` hands large products to the kernel in ../wasm/ (same contract,
 * float32 sums over at most 128 terms then float64); `setKernelBackend('js')`
 * or DLC_KERNELS=js keeps everything here.
 */
import type { Activation } from './activation.js';
import { activateInPlace } from './activation.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';
import { matmulWasm } from '../wasm/index.js';
import type { PackedB } from '../wasm/gemm.js';
import { internal } from '../../../diagnostics.js';

export interface MatmulOptions {
  /** `a` holds A transposed, i.e. is stored as [K, M]. */
  transA?: boolean;
  /** `b` holds B transposed, i.e. is stored as [N, K]. */
  transB?: boolean;
  /** Add the product to the current contents of `out` instead of overwriting it. */
  accumulate?: boolean;
  /** [N], added to every row after the product. */
  bias?: Float32Array | null;
  /** Applied last, row by row (softmax normalises each row of N). */
  activation?: Activation;
  /** `b` already packed for the WebAssembly kernel (wasm/index.ts prepackRight); the TS kernel reads `b` itself. */
  packedB?: PackedB | null;
}

// Register block (rows of A x columns of B), and the K-block: a packed A strip
// (MR*KC floats, 8 KB) stays in L1 while it meets every B panel. 512 measured
// faster than 128 or 256 for 256..1000-sized products on x64.
const MR = 4;
const NR = 4;
const KC = 512;

let packA = new Float32Array(MR * KC);
let packB = new Float32Array(NR * KC * 16);
const edge = new Float64Array(MR * NR);
let rowAcc = new Float64Array(256);

/** out = act((accumulate ? out : 0) + op(a)·op(b) + bias), with op(a) [M,K], op(b) [K,N]. */
export function matmulInto(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  opts: MatmulOptions = {},
): void {
  const { transA = false, transB = false, accumulate = false, bias = null, activation = 'linear' } = opts;
  if (a.length < M * K || b.length < K * N || out.length < M * N) {
    throw internal(
      `matmulInto: buffers too small for [${M},${K}]x[${K},${N}] (a ${a.length}, b ${b.length}, out ${out.length})`,
    );
  }
  if (bias && bias.length !== N) throw internal(`matmulInto: bias has ${bias.length} values, expected ${N}`);
  if (matmulWasm(out, a, b, M, K, N, opts)) return;

  if (M < MR) {
    fewRows(out, a, b, M, K, N, transA, transB, accumulate);
    epilogue(out, M, N, bias, activation);
    return;
  }
  if (K === 0 && !accumulate) out.fill(0, 0, M * N);
  const panels = Math.ceil(N / NR);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const add = accumulate || k0 > 0;
    packBBlock(b, transB, K, N, k0, kc, panels);
    for (let i0 = 0; i0 < M; i0 += MR) {
      packAStrip(a, transA, M, K, i0, k0, kc);
      for (let p = 0; p < panels; p++) microKernel(packA, packB, p * kc * NR, kc, out, i0, p * NR, M, N, add);
    }
  }
  epilogue(out, M, N, bias, activation);
}

/** [M,K] x [K,N] -> [M,N]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
    throw internal(`matmul: cannot multiply ${showShape(a.shape)} by ${showShape(b.shape)}`);
  }
  const [M, K] = a.shape;
  const N = b.shape[1];
  const out = new Float32Array(M * N);
  matmulInto(out, a.data, b.data, M, K, N);
  return { shape: [M, N], data: out };
}

/** The product for M < MR rows: stream B once per row of A, summing each output row in float64 scratch. */
function fewRows(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
): void {
  if (rowAcc.length < N) rowAcc = new Float64Array(N);
  const acc = rowAcc;
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    if (transB) {
      // B^T is stored [N, K]: each output is a dot product of two contiguous rows.
      for (let j = 0; j < N; j++) {
        let dot = 0;
        for (let k = 0, q = j * K; k < K; k++, q++) dot += (transA ? a[k * M + i] : a[i * K + k]) * b[q];
        acc[j] = dot;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const aik = transA ? a[k * M + i] : a[i * K + k];
        for (let j = 0, q = k * N; j < N; j++, q++) acc[j] += aik * b[q];
      }
    }
    const o = i * N;
    if (accumulate) for (let j = 0; j < N; j++) out[o + j] += acc[j];
    else for (let j = 0; j < N; j++) out[o + j] = acc[j];
  }
}

/** packB[(p*kc + k)*NR + j] = B[k0+k, p*NR+j], zero past column N. */
function packBBlock(b: Float32Array, transB: boolean, K: number, N: number, k0: number, kc: number, panels: number) {
  const need = panels * kc * NR;
  if (packB.length < need) packB = new Float32Array(need);
  const pb = packB;
  for (let p = 0; p < panels; p++) {
    const j0 = p * NR;
    const nr = Math.min(NR, N - j0);
    let q = p * kc * NR;
    for (let k = 0; k < kc; k++, q += NR) {
      if (transB) for (let j = 0; j < nr; j++) pb[q + j] = b[(j0 + j) * K + k0 + k];
      else for (let j = 0, src = (k0 + k) * N + j0; j < nr; j++) pb[q + j] = b[src + j];
      for (let j = nr; j < NR; j++) pb[q + j] = 0;
    }
  }
}

/** packA[k*MR + r] = A[i0+r, k0+k], zero past row M. */
function packAStrip(a: Float32Array, transA: boolean, M: number, K: number, i0: number, k0: number, kc: number) {
  const pa = packA;
  const mr = Math.min(MR, M - i0);
  for (let r = 0; r < MR; r++) {
    if (r >= mr) {
      for (let k = 0; k < kc; k++) pa[k * MR + r] = 0;
    } else if (transA) {
      for (let k = 0; k < kc; k++) pa[k * MR + r] = a[(k0 + k) * M + i0 + r];
    } else {
      const base = (i0 + r) * K + k0;
      for (let k = 0; k < kc; k++) pa[k * MR + r] = a[base + k];
    }
  }
}

/** C[i0:i0+4, j0:j0+4] (+)= strip · panel, storing only the cells inside [M,N]. Written out for MR = NR = 4. */
// prettier-ignore
function microKernel(
  pa: Float32Array,
  pb: Float32Array,
  pbOff: number,
  kc: number,
  out: Float32Array,
  i0: number,
  j0: number,
  M: number,
  N: number,
  add: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0, pA = 0, pB = pbOff; k < kc; k++, pA += 4, pB += 4) {
    const a0 = pa[pA], a1 = pa[pA + 1], a2 = pa[pA + 2], a3 = pa[pA + 3];
    const b0 = pb[pB], b1 = pb[pB + 1], b2 = pb[pB + 2], b3 = pb[pB + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (i0 + MR <= M && j0 + NR <= N) {
    let o = i0 * N + j0;
    if (add) {
      out[o] += c00; out[o + 1] += c01; out[o + 2] += c02; out[o + 3] += c03; o += N;
      out[o] += c10; out[o + 1] += c11; out[o + 2] += c12; out[o + 3] += c13; o += N;
      out[o] += c20; out[o + 1] += c21; out[o + 2] += c22; out[o + 3] += c23; o += N;
      out[o] += c30; out[o + 1] += c31; out[o + 2] += c32; out[o + 3] += c33;
    } else {
      out[o] = c00; out[o + 1] = c01; out[o + 2] = c02; out[o + 3] = c03; o += N;
      out[o] = c10; out[o + 1] = c11; out[o + 2] = c12; out[o + 3] = c13; o += N;
      out[o] = c20; out[o + 1] = c21; out[o + 2] = c22; out[o + 3] = c23; o += N;
      out[o] = c30; out[o + 1] = c31; out[o + 2] = c32; out[o + 3] = c33;
    }
    return;
  }
  // Ragged edge: spill the block to scratch, then store the cells inside [M,N].
  const block = edge;
  block[0] = c00; block[1] = c01; block[2] = c02; block[3] = c03;
  block[4] = c10; block[5] = c11; block[6] = c12; block[7] = c13;
  block[8] = c20; block[9] = c21; block[10] = c22; block[11] = c23;
  block[12] = c30; block[13] = c31; block[14] = c32; block[15] = c33;
  for (let r = 0; r < MR && i0 + r < M; r++) {
    for (let j = 0; j < NR && j0 + j < N; j++) {
      const o = (i0 + r) * N + j0 + j;
      out[o] = add ? out[o] + block[r * NR + j] : block[r * NR + j];
    }
  }
}

/** Bias then activation over the finished [M,N] result. */
function epilogue(out: Float32Array, M: number, N: number, bias: Float32Array | null, act: Activation): void {
  if (bias) {
    for (let i = 0, o = 0; i < M; i++) for (let j = 0; j < N; j++, o++) out[o] += bias[j];
  }
  activateInPlace(out, act, N, 0, M);
}
