/**
 * The WebAssembly SIMD matrix product: gemm.wat's kernel, its memory, and the
 * copies in and out (and the calls into gemm.wat's other kernels). Same contract as kernels/matmul.ts's `matmulInto`:
 *
 *   out[M,N] = act((accumulate ? out : 0) + op(a)[M,K] · op(b)[K,N] + bias)
 *
 * Float32 products are summed in float32 over at most 128 terms, then in
 * float64 (see gemm.wat), so results agree with the TS kernel and tfjs to a
 * few float32 ulps. Bias, relu and relu6 are fused into the kernel's store; sigmoid,
 * tanh and softmax run afterwards in TS (activateInPlace).
 *
 * Operands that already live in the kernel's shared WebAssembly.Memory (the
 * interpreter's arena and scratch, heap.ts) are used in place; the others are
 * copied in above the heap's stack (and C copied out). B is packed there once
 * per call. Layout of one call, in bytes, from the heap's first free byte:
 *   [a | b | c | bias (those not in memory) | packed B | scratch of thread 0 | scratch of thread 1 | ...]
 * With more than one thread, row blocks and column panels of C are handed
 * out to worker threads running the same kernel on the same memory (threads.ts).
 *
 * A may also be a convolution's im2col matrix, described by its input and
 * geometry (OperandA), which gemm.wat packs straight from the input.
 * `inMemory` runs gemm.wat's other kernels the same way: in place on
 * operands in the memory, through scratch copies for the rest.
 *
 * Not here: the choice of when to use this (index.ts), the memory's layout
 * below the operands (heap.ts).
 */
import { activationDef, type Activation } from '../../../ops/activations.js';
import type { ConvShape } from '../kernels/conv.js';
import { activateInPlace } from '../kernels/activation.js';
import { align, Heap, MAX_PAGES } from './heap.js';
import { MAX_CHUNKS, Pool } from './threads.js';
import { platform } from '../../../platform/index.js';
import type { ChunkPlan, RangeJob } from './threads.js';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  bias?: Float32Array | null;
  activation?: Activation;
  /** B already packed (prepackB), used instead of packing `b` again; ignored unless it was packed for this K, N and transB. */
  packedB?: PackedB | null;
  /** A 3x3 kernel already transformed for winogradConv (transformKernelInto), used instead of transforming it again; ignored unless it was transformed for this tile size, C and F. */
  transformed?: TransformedKernel | null;
}

/** A 3x3 kernel [3, 3, C, F] transformed once for Winograd F(m x m, 3x3) (winogradConv's U, in its panels); `pu` is a byte offset into the memory. */
export interface TransformedKernel {
  m: 2 | 4;
  C: number;
  F: number;
  pu: number;
}

/** op(B) [K, N] packed into the kernel's panels once, for many products with it; `pb` is a byte offset into the memory; `trans`: packed from B stored as [N, K]. */
export interface PackedB {
  K: number;
  N: number;
  trans: boolean;
  pb: number;
}

/** Floats that op(B) [K, N] takes packed: whole panels of 8 columns, the last one padded with zeros. */
export const packedFloats = (K: number, N: number) => Math.ceil(N / 8) * 8 * K;

/**
 * Packs B [K, N] (not transposed) once, into memory from `take` (a scratch
 * stack in the kernel's memory: heap.ts), for the products that reuse it (a
 * recurrent layer's U at every step: packing it took 8% of an LSTM run).
 * Valid as long as that scratch is; null when `take` gives memory elsewhere.
 */
export function prepackB(g: Gemm, b: Float32Array, K: number, N: number, take: (floats: number) => Float32Array): PackedB | null {
  const pb = g.heap.offsetOf(take(packedFloats(K, N)));
  return pb < 0 ? null : packBInto(g, pb, b, K, N, false, take, 1);
}

/**
 * Packs op(B) [K, N] (B stored as [N, K] when `trans`) into the panels at byte
 * `pb`, packedFloats(K, N) floats, on up to `threads` threads; B is copied
 * into `take`'s memory first when it lives elsewhere. Null if that copy does
 * not fit in the memory.
 */
export function packBInto(g: Gemm, pb: number, b: Float32Array, K: number, N: number, trans: boolean, take: (floats: number) => Float32Array, threads: number): PackedB | null {
  let bAt = g.heap.offsetOf(b);
  if (bAt < 0) {
    const copy = take(K * N);
    bAt = g.heap.offsetOf(copy);
    if (bAt < 0) return null;
    copy.set(b.subarray(0, K * N));
  }
  runRange(g, packJob(bAt, trans, K, N, pb), rangeThreads(threads, K * N));
  return { K, N, trans, pb };
}

/** gemm.wat's pack_b over B's panels of 8 columns, each independent: the panel range [p0, p1) is a thread's slice. */
const packJob = (bAt: number, trans: boolean, K: number, N: number, pb: number): RangeJob => ({
  kernel: 'pack_b', args: [bAt, trans ? 1 : 0, K, N, pb, 0, 0], strides: [0, 0, 0, 0, 0, 1, 1], countArg: 6, countScale: 1, items: Math.ceil(N / 8),
});

/** gemm.wat's exports; pointers are byte offsets into the shared memory. */
export interface GemmExports {
  pack_b(b: number, transB: number, K: number, N: number, pb: number, p0: number, p1: number): void;
  gemm(
    a: number, transA: number, pb: number, c: number, bias: number, M: number, K: number, N: number,
    flags: number, r0: number, r1: number, p0: number, p1: number, scratch: number, mc: number,
  ): void;
  max_pool_grad(
    x: number, dy: number, dx: number, H: number, W: number, C: number, OH: number, OW: number,
    sh: number, sw: number, kh: number, kw: number, pt: number, pl: number, P: number, reluMask: number,
  ): void;
  relu_grad(y: number, dy: number, dx: number, n: number): void;
  global_pool(x: number, out: number, cells: number, C: number, max: number, images: number): void;
  dropout_mask(u: number, from: number, to: number, n: number, threshold: number, scale: number): void;
  add(a: number, b: number, out: number, n: number, relu: number): void;
  scale(src: number, dst: number, n: number, sLo: number, sHi: number): void;
  copy_rows(dst: number, src: number, rows: number, n: number, dstStride: number, srcStride: number): void;
  column_sums(src: number, rows: number, n: number, block: number, acc: number, b0: number, b1: number): void;
  layer_norm(x: number, gamma: number, beta: number, y: number, rows: number, d: number, epsLo: number, epsHi: number): void;
  col2im(desc: number, dcols: number, p0: number, p1: number): void;
  activate(act: number, src: number, dst: number, n: number): void;
  softmax_rows(src: number, dst: number, rows: number, n: number): void;
  lstm_cell(zx: number, zxStride: number, zh: number, c: number, h: number, gates: number, gatesStride: number, rows: number, units: number): void;
  recurrent_rows(desc: number, r0: number, r1: number): void;
  gru_cell(zx: number, zxStride: number, zh: number, rb: number, h: number, gates: number, gatesStride: number, rows: number, units: number): void;
  max_pool(
    x: number, out: number, H: number, W: number, C: number, OH: number, OW: number,
    sh: number, sw: number, kh: number, kw: number, pt: number, pl: number, P: number,
  ): void;
  depthwise_conv(
    x: number, k: number, bias: number, hasBias: number, out: number, H: number, W: number, C: number, OH: number, OW: number,
    sh: number, sw: number, kh: number, kw: number, dh: number, dw: number, pt: number, pl: number, p0: number, P: number, lo: number, hi: number,
  ): void;
  depthwise_conv_slice(desc: number, p0: number, P: number): void;
  conv_grad_slices(
    desc: number, descBytes: number, dz: number, dzBytes: number, pb: number, pbBytes: number, out: number, outBytes: number,
    scratch: number, scratchBytes: number, M: number, K: number, N: number, s0: number, s1: number, taps: number,
  ): void;
  winograd_kernel(k: number, C: number, F: number, pu: number, p0: number, p1: number): void;
  winograd_tiles(desc: number, t0: number, t1: number, scratch: number): void;
  winograd4_kernel(k: number, C: number, F: number, pu: number, p0: number, p1: number): void;
  winograd4_tiles(desc: number, t0: number, t1: number, scratch: number): void;
  winograd_grad_slices(desc: number, s0: number, s1: number, scratch: number): void;
  winograd_grad_out(desc: number, c0: number, c1: number): void;
  attention_heads(desc: number, i0: number, i1: number, scratch: number): void;
  row_product(a: number, b: number, c: number, bias: number, K: number, N: number, flags: number, scratch: number, g0: number, g1: number): void;
  depthwise_conv_grad(
    x: number, k: number, dz: number, dx: number, dk: number, hasDx: number, hasDk: number, H: number, W: number, C: number, OH: number, OW: number,
    sh: number, sw: number, kh: number, kw: number, dh: number, dw: number, pt: number, pl: number, p0: number, p1: number,
  ): void;
}

/** Flags of gemm.wat's store. */
const ACCUMULATE = 1;
const BIAS = 2;
const RELU = 4;
const RELU6 = 8;
const POOL = 16;
/** The store flag of an activation the GEMM's epilogue applies (its table row says which), else 0. */
const epilogueFlag = (act: Activation) => ({ relu: RELU, relu6: RELU6, none: 0 })[activationDef(act).wasm?.epilogue ?? 'none'];

/**
 * Rows of A packed per block: their strips (MC*K floats) stay in L2 while
 * every B panel meets them, and B is streamed once per block. 128 rather than
 * 64: a product with 128 rows (a language model at T 128) streams its B once,
 * not twice (GPT-2's tied head reads a 154 MB packed table): GPT-2 small took
 * 0.969-0.976 of its time on one thread and 0.970 on two, BERT-base 0.982 on
 * one; ResNet-50, MobileNetV2, the LSTM, the encoder block and the MNIST
 * training step 0.99-1.00 (one process, pairs); the same bits (rows are
 * independent).
 */
export const MC = 128;

/** A loaded kernel: the module (shared with workers), its memory, and the main thread's instance. */
export interface Gemm {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: GemmExports;
  /** The memory's layout: the interpreter's arena and scratch, then each call's operands. */
  heap: Heap;
  pool: Pool | null;
  /** Whether the module is gemm-fma.wasm, its products' multiply-adds fused (one rounding each). */
  fused: boolean;
}

/**
 * Compile the kernel, generated next to this file (in `dir`) by
 * scripts/build-wasm.js: gemm-fma.wasm when `fused` and the engine has
 * WebAssembly's relaxed SIMD (and it compiles), else gemm.wasm; a string says
 * why neither.
 * Fused, a product's multiply-add is one instruction (an x86 FMA), where
 * f32x4.mul then f32x4.add are two: the 4x8 register block's loop does half
 * the arithmetic instructions (bench/peak.js measures both peaks), and each
 * product rounds once instead of twice.
 */
export function loadGemm({ fused = true, dir = new URL('./', import.meta.url) }: { fused?: boolean; dir?: URL } = {}): Gemm | string {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(platform.readAsset(new URL('gemm.wasm', dir)));
  } catch {
    return 'gemm.wasm not found (run `npm run build`)';
  }
  const fusedBytes = fused ? relaxedSimdModule(new URL('gemm-fma.wasm', dir)) : null;
  if (fusedBytes) {
    const kernel = instantiate(fusedBytes, true);
    if (typeof kernel !== 'string') return kernel;
  }
  return instantiate(bytes, false);
}

function instantiate(bytes: Uint8Array<ArrayBuffer>, fused: boolean): Gemm | string {
  try {
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { module, memory, exports: instance.exports as unknown as GemmExports, heap: new Heap(memory), pool: null, fused };
  } catch (e) {
    return `WebAssembly SIMD or shared memory unavailable (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** The module at `file` if the engine validates it, asking for relaxed SIMD where it is behind a flag; null if not. */
function relaxedSimdModule(file: URL): Uint8Array<ArrayBuffer> | null {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(platform.readAsset(file));
  } catch {
    return null;
  }
  if (WebAssembly.validate(bytes)) return bytes;
  platform.allowRelaxedSimd();
  return WebAssembly.validate(bytes) ? bytes : null;
}

/**
 * op(A) for `gemm`: a matrix (transposed when `trans`), or the im2col matrix
 * of a convolution (transposed when `trans`: for its kernel's gradient), which
 * gemm.wat packs straight from the input x [B,H,W,C] (pack_a_conv,
 * pack_at_conv) instead of reading a matrix written out first.
 */
export type OperandA =
  | { matrix: Float32Array; trans: boolean }
  /** `pool`: rows come in fours, each the 2x2 window of a max pool of stride 2 after the convolution, and C gets each window's max (convPooled). */
  | { conv: Float32Array; shape: ConvShape; trans: boolean; pool?: boolean };

/** The transA values of gemm.wat's gemm that make `a` a conv descriptor: im2col rows, or their transpose. */
const CONV = 2;
const CONV_TRANSPOSED = 3;
/**
 * A conv descriptor: 16 i32 (see gemm.wat's pack_a_conv), then C zero floats
 * that padded cells read, then for a forward with taps (tapTable) the tap
 * table: K byte offsets of the taps from a window's origin cell (gemm.wat's
 * conv_taps and grad_taps).
 */
const DESC_INTS = 16;
const descFloats = (s: ConvShape, taps: boolean) => DESC_INTS + s.C + (taps ? s.kh * s.kw * s.C : 0);

/** Most terms a float32 sum of gemm.wat runs over (its KCH): a forward this short reads x through a tap table instead of packing. */
const KCH = 128;
const tapTable = (s: ConvShape) => s.kh * s.kw * s.C <= KCH;

/** Write at byte `desc` the descriptor of convolution `s` over the input at byte `x` (gemm.wat's pack_a_conv), with its tap table if `taps`. */
function describeConv(heap: Float32Array, desc: number, x: number, s: ConvShape, taps = false): void {
  const zeros = desc + DESC_INTS * 4;
  const table = zeros + s.C * 4;
  new Int32Array(heap.buffer, desc, DESC_INTS).set([
    x, s.H, s.W, s.C, s.kh, s.kw, s.OH, s.OW, s.stride[0], s.stride[1], s.dilation[0], s.dilation[1], s.padTop, s.padLeft,
    zeros, taps ? table : 0,
  ]);
  heap.fill(0, zeros / 4, table / 4);
  if (!taps) return;
  const K = s.kh * s.kw * s.C;
  const offsets = new Int32Array(heap.buffer, table, K);
  for (let ky = 0, t = 0; ky < s.kh; ky++)
    for (let kx = 0; kx < s.kw; kx++)
      for (let c = 0; c < s.C; c++, t++) offsets[t] = ((ky * s.dilation[0] * s.W + kx * s.dilation[1]) * s.C + c) * 4;
}

/**
 * dx += col2im(dcols) for output positions [p0, p1) of convolution `s`
 * (gemm.wat's col2im), dcols holding their rows; false if they do not fit.
 * Positions of different images add into different images of dx, so the
 * whole images of the range run on up to `threads` threads (a range job), and
 * a partial image at either end on this one.
 */
export function col2im(g: Gemm, dx: Float32Array, dcols: Float32Array, s: ConvShape, p0: number, p1: number, threads = 1): boolean {
  return inMemory(g, [dx, dcols], ['inout', 'in'], ([dxAt, dcolsAt], scratch) => {
    const desc = scratch(descFloats(s, false)).byteOffset;
    describeConv(new Float32Array(g.heap.buffer()), desc, dxAt, s);
    const image = s.OH * s.OW;
    const rowBytes = 4 * s.kh * s.kw * s.C;
    const first = Math.min(p1, Math.ceil(p0 / image) * image);
    const last = Math.max(first, Math.floor(p1 / image) * image);
    const rows = (p: number) => dcolsAt + (p - p0) * rowBytes;
    if (first > p0) g.exports.col2im(desc, dcolsAt, p0, first);
    if (last > first) {
      runRange(g, {
        kernel: 'col2im', args: [desc, rows(first), first, first], strides: [0, image * rowBytes, image, image],
        countArg: 3, countScale: image, items: (last - first) / image,
      }, rangeThreads(threads, (last - first) * (rowBytes / 4)));
    }
    if (p1 > last) g.exports.col2im(desc, rows(last), last, p1);
  });
}

/** Most kernel rows (kh*kw*C) a convolution's kernel gradient is computed in slices of images for. */
const MAX_SLICED_ROWS = 32;
/** Most slices it is cut into. */
const MAX_SLICES = 8;

/**
 * How many slices of its images convolution `s`'s kernel gradient is
 * computed in (gemm.wat's conv_grad_slices): the most, up to MAX_SLICES,
 * that divide the batch, when the kernel has too few rows to share out by
 * rows; 1 means one product. A function of the shape only, never of the
 * threads, so that the result is the same on any number of them.
 */
export function gradSlices(s: ConvShape): number {
  if (s.kh * s.kw * s.C > MAX_SLICED_ROWS) return 1;
  for (let n = Math.min(MAX_SLICES, s.B); n > 1; n--) if (s.B % n === 0) return n;
  return 1;
}

/**
 * Whether a first layer's kernels may read x in place through its tap table
 * for every window, with whole panels of eight filters: every window lies
 * inside the image, K fits the table. Its kernel gradient then packs
 * nothing (gemm.wat's grad_taps; MNIST's 3x3x1 with 32 filters at batch 64
 * took 3.4 ms on one thread packed and multiplied, most of it packing 9 rows
 * of 43,264 positions), and a max pool after it can run inside it (convPooled).
 */
export function tapsInPlace(s: ConvShape): boolean {
  const inside = (out: number, stride: number, k: number, dilation: number, size: number) => (out - 1) * stride + (k - 1) * dilation < size;
  return s.padTop === 0 && s.padLeft === 0 && s.F % 8 === 0 && tapTable(s) &&
    inside(s.OH, s.stride[0], s.kh, s.dilation[0], s.H) && inside(s.OW, s.stride[1], s.kw, s.dilation[1], s.W);
}

/**
 * dK [kh*kw*C, F] = im2col(x)^T dz in `slices` slices of the images
 * (gradSlices), on up to `threads` threads, their products added in float64
 * in slice order; false, leaving dK alone, if they do not fit in the memory.
 */
export function convKernelGradSliced(g: Gemm, dK: Float32Array, x: Float32Array, s: ConvShape, dz: Float32Array, slices: number, threads: number): boolean {
  const slice: ConvShape = { ...s, B: s.B / slices };
  const M = s.kh * s.kw * s.C, N = s.F, K = slice.B * s.OH * s.OW;
  const panels = Math.ceil(N / 8);
  const taps = tapsInPlace(s);
  return inMemory(g, [x, dz], ['in', 'in'], ([xAt, dzAt], scratch) => {
    const bytes = {
      desc: align(descFloats(slice, taps) * 4),
      pb: taps ? 64 : panels * 8 * K * 4, // grad_taps packs nothing
      out: M * N * 4,
      // grad_taps' float64 sums, or gemm's strips and tile
      scratch: align(taps ? Math.ceil(M / 4) * panels * 256 : Math.ceil(M / 4) * K * 16 + 384),
    };
    const take = (perSlice: number) => scratch((slices * perSlice) / 4).byteOffset;
    const at = { desc: take(bytes.desc), pb: take(bytes.pb), out: take(bytes.out), scratch: take(bytes.scratch) };
    const heap = new Float32Array(g.heap.buffer());
    for (let i = 0; i < slices; i++) describeConv(heap, at.desc + i * bytes.desc, xAt + i * slice.B * s.H * s.W * s.C * 4, slice, taps);
    runRange(g, {
      kernel: 'conv_grad_slices',
      args: [at.desc, bytes.desc, dzAt, K * N * 4, at.pb, bytes.pb, at.out, bytes.out, at.scratch, bytes.scratch, M, K, N, 0, 0, taps ? 1 : 0],
      strides: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
      countArg: 14, countScale: 1, items: slices,
    }, threads);
    const products = new Float32Array(g.heap.buffer(), at.out, slices * M * N);
    for (let i = 0; i < M * N; i++) {
      let sum = 0;
      for (let k = 0; k < slices; k++) sum += products[k * M * N + i];
      dK[i] = sum;
    }
  });
}

/**
 * Whether convolution `s` runs in Winograd's form (winogradConv): a 3x3
 * kernel with stride 1 and no dilation, over channels and filters that are
 * multiples of 4 (gemm.wat's vectors) and at least MIN_WINOGRAD_CHANNELS, and
 * enough 2x2 tiles to share the 16 transformed kernels among.
 */
export function winogradFits(s: ConvShape): boolean {
  const { kh, kw, C, F, stride, dilation } = s;
  return kh === 3 && kw === 3 && stride[0] === 1 && stride[1] === 1 && dilation[0] === 1 && dilation[1] === 1 &&
    C % 4 === 0 && F % 4 === 0 && C >= MIN_WINOGRAD_CHANNELS && F >= MIN_WINOGRAD_CHANNELS && winogradTiles(s, 2) >= MIN_WINOGRAD_TILES;
}

/**
 * The output tile winogradConv uses for a convolution that winogradFits: 2,
 * F(2x2, 3x3) (16 products per 4 outputs); with `fastMath`, 4, F(4x4, 3x3)
 * (36 per 16: 1.78x fewer multiply-adds) when there are MIN_WINOGRAD_TILES
 * 4x4 tiles to share its 36 transformed kernels among. F(4x4, 3x3)'s float32
 * error is about 10x F(2x2, 3x3)'s (gemm.wat's notes): up to a few 1e-6 of
 * the products' magnitudes, past what the kernels are tested to by default.
 */
export const winogradTile = (s: ConvShape, fastMath: boolean): 2 | 4 => (fastMath && winogradTiles(s, 4) >= MIN_WINOGRAD_TILES ? 4 : 2);

/**
 * Whether the kernel gradient of convolution `s` runs in Winograd's form
 * (winogradKernelGrad, F(2x2, 3x3)): it winogradFits, with two blocks of
 * tiles or more. With one, a single thread runs all 16 products; im2col's
 * product is shared by the threads (at 2 threads, 49 and 128 tiles ran at
 * 1.03x and 0.91x im2col's speed, 512 tiles at 1.36x).
 */
export const winogradGradFits = (s: ConvShape) => winogradFits(s) && winogradTiles(s, 2) >= 2 * GRAD_BLOCK;

/** Fewest input channels (and filters) for Winograd: below, the products' K is too short for the GEMM to run well. */
const MIN_WINOGRAD_CHANNELS = 16;
/** Fewest output tiles for Winograd: below, reading the transformed kernels costs more than the multiply-adds it saves. */
const MIN_WINOGRAD_TILES = 32;
/** gemm.wat's U_SKEW: bytes past each of Winograd's blocks, before the next. */
const SKEW_BYTES = 64;
/** Output tiles of convolution `s`: m x m blocks of each image's outputs. */
const winogradTiles = (s: ConvShape, m: 2 | 4) => s.B * Math.ceil(s.OH / m) * Math.ceil(s.OW / m);
/** Tiles per block of winograd_tiles (xis = 16) or winograd4_tiles (36): the block's V and M blocks, xis*TB*(C+F) floats, stay within about 1 MiB. */
const winogradBlock = (s: ConvShape, xis: number) => Math.max(16, Math.min(128, 4 * Math.floor((1 << 18) / (xis * (s.C + s.F)) / 4)));

/** Floats of a 3x3 kernel [3, 3, C, F] transformed for Winograd F(m x m, 3x3): (m+2)^2 matrices [C, F] in panels of 8 filters, each skewed (SKEW_BYTES). */
export const transformedFloats = (C: number, F: number, m: 2 | 4) => (m + 2) ** 2 * (Math.ceil(F / 8) * 8 * C + SKEW_BYTES / 4);

/** Transforms the kernel at byte `kAt` into transformedFloats(C, F, m) floats at byte `pu`, its panels shared out on the threads; returns pu. */
function transformKernel(g: Gemm, kAt: number, C: number, F: number, m: 2 | 4, pu: number, threads: number): number {
  const transform = m === 4 ? 'winograd4_kernel' : 'winograd_kernel';
  runRange(g, { kernel: transform, args: [kAt, C, F, pu, 0, 0], strides: [0, 0, 0, 0, 1, 1], countArg: 5, countScale: 1, items: Math.ceil(F / 8) }, rangeThreads(threads, (m + 2) ** 2 * C * F));
  return pu;
}

/**
 * A 3x3 kernel [3, 3, C, F] transformed once for winogradConv with tiles of
 * m, into the transformedFloats(C, F, m) floats at byte `pu`; the kernel is
 * copied into `take`'s memory first when it lives elsewhere. Null if that
 * copy does not fit.
 */
export function transformKernelInto(g: Gemm, pu: number, kernel: Float32Array, C: number, F: number, m: 2 | 4, take: (floats: number) => Float32Array, threads: number): TransformedKernel | null {
  let kAt = g.heap.offsetOf(kernel);
  if (kAt < 0) {
    const copy = take(9 * C * F);
    kAt = g.heap.offsetOf(copy);
    if (kAt < 0) return null;
    copy.set(kernel.subarray(0, 9 * C * F));
  }
  transformKernel(g, kAt, C, F, m, pu, threads);
  return { m, C, F, pu };
}

/**
 * out [B,OH,OW,F] = act(conv2d(x, kernel) + bias) for a convolution that
 * winogradFits, in Winograd's form with winogradTile's tiles (gemm.wat's
 * winograd_kernel and winograd_tiles, or winograd4_kernel and
 * winograd4_tiles): the kernel transformed and packed at every call (it may
 * change between calls: training) unless `opts.transformed` holds it
 * transformed already (PackedWeights), then blocks of tiles on up to `threads`
 * threads, each with its own scratch. Rounding differs from the im2col
 * product's (the transforms add and subtract before multiplying): within
 * 1e-6 of the products' magnitudes in F(2x2, 3x3), a few 1e-6 in F(4x4, 3x3)
 * (tested to 4e-6). Each tile is computed the same way
 * whatever the thread, so the result does not depend on their number.
 * With `pool`, out is the 2x2 max pool of stride 2 of that, [B,OH/2,OW/2,F].
 * False, leaving `out` alone, if it does not fit in the memory.
 */
export function winogradConv(
  g: Gemm, out: Float32Array, x: Float32Array, s: ConvShape, kernel: Float32Array, opts: GemmOptions, threads: number,
  { pool = false, fastMath = false }: { pool?: boolean; fastMath?: boolean } = {},
): boolean {
  const { bias = null, activation = 'linear' } = opts;
  if (pool && activation !== 'linear' && epilogueFlag(activation) === 0) return false;
  const { C, F } = s;
  const m = winogradTile(s, fastMath);
  const xis = (m + 2) ** 2;
  const tilesH = Math.ceil(s.OH / m), tilesW = Math.ceil(s.OW / m);
  const TB = winogradBlock(s, xis);
  const { transformed = null } = opts;
  const given = transformed && transformed.m === m && transformed.C === C && transformed.F === F ? transformed : null;
  // The kernel comes in only to be transformed.
  const operands = [x, out, ...(bias ? [bias] : []), ...(given ? [] : [kernel.subarray(0, 9 * C * F)])];
  const uses: Use[] = ['in', 'out', ...(bias ? ['in' as const] : []), ...(given ? [] : ['in' as const])];
  const ok = inMemory(g, operands, uses, (at, scratch) => {
    const [xAt, outAt] = at;
    const biasAt = bias ? at[2] : 0;
    const pu = given ? given.pu : transformKernel(g, at[at.length - 1], C, F, m, scratch(transformedFloats(C, F, m)).byteOffset, threads);
    const zeros = scratch(C).fill(0).byteOffset;
    const desc = scratch(18);
    // V and M blocks, (F(4x4, 3x3)) winograd4_input's and the output transform's work, then gemm's strips and tile
    const perThread = align((xis * TB * (C + F) + TB * C) * 4 + 2 * xis * SKEW_BYTES + (m === 4 ? WINOGRAD4_WORK_BYTES : 0) + 384);
    const scratchAt = scratch((threads * perThread) / 4).byteOffset;
    const tiles = winogradTiles(s, m);
    new Int32Array(desc.buffer, desc.byteOffset, 18).set([
      xAt, s.H, s.W, C, s.OH, s.OW, s.padTop, s.padLeft, tilesH, tilesW, F, pu, biasAt, epilogueFlag(activation) | (pool ? POOL : 0), outAt, zeros, TB, tiles,
    ]);
    const tileKernel = m === 4 ? 'winograd4_tiles' : 'winograd_tiles';
    // Items are blocks of TB tiles: a thread's slice never holds less than one block, whose products read every U_xi.
    runRange(g, {
      kernel: tileKernel, args: [desc.byteOffset, 0, 0, scratchAt], strides: [0, TB, TB, 0], countArg: 2, countScale: TB,
      items: Math.ceil(tiles / TB), perThread: { arg: 3, stride: perThread },
    }, threads);
  });
  if (ok && !pool && activation !== 'linear' && epilogueFlag(activation) === 0) activateInPlace(out, activation, F, 0, s.B * s.OH * s.OW);
  return ok;
}

/** gemm.wat's winograd4_tiles' work area: 36 cell addresses and 36 vectors in, 24 and 16 vectors out. */
const WINOGRAD4_WORK_BYTES = 768;

/** Most blocks of tiles one slice of winogradKernelGrad adds up in float32 before the slices' sums meet. */
const MAX_SLICE_BLOCKS = 16;
/** Fewest slices of winogradKernelGrad when there are blocks enough: slices are what threads share out. */
const MIN_GRAD_SLICES = 4;
/**
 * Tiles per block of winogradKernelGrad: the K of its products. Each block
 * reads and adds into all 16 [C, F] sums, so a short block spends its time
 * there (16 tiles, winogradBlock's for 512 channels, ran at half the speed
 * of im2col).
 */
const GRAD_BLOCK = 128;

/**
 * Blocks per slice of winogradKernelGrad, for `blocks` blocks of tiles: at
 * least MIN_GRAD_SLICES slices of at most MAX_SLICE_BLOCKS, and where a count
 * up to twice that many cuts the blocks into an even number of equal slices,
 * that count, so that two threads finish together (MNIST's conv2 at batch 64:
 * 18 blocks as 6 slices of 3, not 5 + 5 + 5 + 3, whose last slice left one
 * thread a tenth of the work alone).
 */
function gradSliceBlocks(blocks: number): number {
  const fewest = Math.max(Math.ceil(blocks / MAX_SLICE_BLOCKS), Math.min(blocks, MIN_GRAD_SLICES));
  for (let n = fewest; n <= 2 * fewest && n <= blocks; n++) if (n % 2 === 0 && blocks % n === 0) return blocks / n;
  return Math.ceil(blocks / fewest);
}

/**
 * dK [3,3,C,F] = the kernel gradient of a convolution that winogradGradFits,
 * given dz [B,OH,OW,F], in Winograd's form (gemm.wat's winograd_grad_slices
 * and winograd_grad_out): for each of the 16 xi, M_xi = sum over tiles of
 * V_xi^T Z_xi (V the forward's input transform, Z = A dY A^T of the tile's
 * dz), then dK = G^T M G. The tiles fall into slices fixed by the shape
 * alone, each adding its blocks into its own 16 M_xi; the threads share the
 * slices out, and the slices are added in order, so the result does not
 * depend on the number of threads. The 16 products have K = a block's tiles:
 * a product on the GEMM's best footing, at 4/9 of im2col's multiply-adds.
 * False, leaving dK alone, if it does not fit in the memory.
 */
export function winogradKernelGrad(g: Gemm, dK: Float32Array, x: Float32Array, s: ConvShape, dz: Float32Array, threads: number): boolean {
  const { C, F } = s;
  const panels = Math.ceil(F / 8);
  const tilesH = Math.ceil(s.OH / 2), tilesW = Math.ceil(s.OW / 2);
  const TB = GRAD_BLOCK;
  const tiles = winogradTiles(s, 2);
  const blocks = Math.ceil(tiles / TB);
  const sliceTiles = gradSliceBlocks(blocks) * TB;
  const slices = Math.ceil(tiles / sliceTiles);
  return inMemory(g, [x, dz, dK.subarray(0, 9 * C * F)], ['in', 'in', 'out'], ([xAt, dzAt, dkAt], scratch) => {
    const accBytes = align(16 * (C * F * 4 + SKEW_BYTES));
    const acc = scratch((slices * accBytes) / 4).byteOffset;
    const zeros = scratch(C).fill(0).byteOffset;
    const desc = scratch(20);
    const perThread = align(16 * (TB * C * 4 + SKEW_BYTES) + 16 * (TB * panels * 32 + SKEW_BYTES) + Math.ceil(C / 4) * TB * 16 + 384);
    const scratchAt = scratch((Math.min(threads, slices) * perThread) / 4).byteOffset;
    new Int32Array(desc.buffer, desc.byteOffset, 20).set([
      xAt, s.H, s.W, C, s.OH, s.OW, s.padTop, s.padLeft, tilesH, tilesW, F, dzAt, acc, sliceTiles, accBytes, zeros, TB, tiles, slices, dkAt,
    ]);
    runRange(g, {
      kernel: 'winograd_grad_slices', args: [desc.byteOffset, 0, 0, scratchAt], strides: [0, 1, 1, 0], countArg: 2, countScale: 1,
      items: slices, perThread: { arg: 3, stride: perThread },
    }, threads);
    runRange(g, { kernel: 'winograd_grad_out', args: [desc.byteOffset, 0, 0], strides: [0, 1, 1], countArg: 2, countScale: 1, items: C }, rangeThreads(threads, 16 * C * F * slices));
  });
}

/**
 * Byte offsets of one call's operands in the memory, above the heap's stack;
 * an operand that already lives in the memory is used where it is. False if
 * the call would not fit.
 */
function layout(g: Gemm, a: OperandA, b: Float32Array, out: Float32Array, bias: Float32Array | null, M: number, K: number, N: number, threads: number, packed: PackedB | null) {
  let end = g.heap.free();
  const take = (floats: number) => {
    const at = end;
    end += align(floats * 4);
    return at;
  };
  const place = (x: Float32Array | null, floats: number) => {
    const at = x ? g.heap.offsetOf(x) : -1;
    return { at: at >= 0 ? at : take(floats), copy: at < 0 };
  };
  const panels = Math.ceil(N / 8);
  const at = {
    a: 'matrix' in a ? place(a.matrix, M * K) : place(a.conv, a.conv.length),
    desc: 'conv' in a ? take(descFloats(a.shape, !a.trans && tapTable(a.shape))) : 0,
    b: packed ? { at: 0, copy: false } : place(b, K * N),
    c: place(out, outRows(a, M) * N),
    bias: place(bias, N),
    pb: packed ? packed.pb : take(panels * 8 * K),
    scratchStride: align(MC * K * 4 + 384),
    scratch: 0,
    panels,
  };
  at.scratch = end;
  end += threads * at.scratchStride;
  return g.heap.reserve(end) && at;
}

/**
 * out = act((accumulate ? out : 0) + op(a)·op(b) + bias) on `threads` threads.
 * Returns false, leaving `out` alone, if the operands do not fit in the memory.
 */
/** The rows of C for M rows of A: a pooled convolution's windows of four rows give one. */
const outRows = (a: OperandA, M: number) => ('pool' in a && a.pool ? M / 4 : M);

export function gemm(
  g: Gemm,
  out: Float32Array,
  a: Float32Array | OperandA,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  opts: GemmOptions,
  threads: number,
): boolean {
  const { transA = false, transB = false, accumulate = false, bias = null, activation = 'linear' } = opts;
  const A: OperandA = 'matrix' in a || 'conv' in a ? a : { matrix: a, trans: transA };
  const packed = opts.packedB && opts.packedB.trans === transB && opts.packedB.K === K && opts.packedB.N === N ? opts.packedB : null;
  // One row (A's layout is the same transposed or not) times a stored B: B read in place.
  if (M === 1 && !('conv' in A) && !transB && !packed) return rowProduct(g, out, A.matrix, b, K, N, accumulate, bias, activation, threads);
  const at = layout(g, A, b, out, bias, M, K, N, threads, packed);
  if (!at) return false;
  const heap = new Float32Array(g.heap.buffer());
  let aAt = at.a.at, aMode = 0;
  if ('matrix' in A) {
    if (at.a.copy) heap.set(A.matrix.subarray(0, M * K), at.a.at / 4);
    aMode = A.trans ? 1 : 0;
  } else {
    if (at.a.copy) heap.set(A.conv, at.a.at / 4);
    describeConv(heap, at.desc, at.a.at, A.shape, !A.trans && tapTable(A.shape));
    aAt = at.desc;
    aMode = A.trans ? CONV_TRANSPOSED : CONV;
  }
  if (at.b.copy) heap.set(b.subarray(0, K * N), at.b.at / 4);
  if (accumulate && at.c.copy) heap.set(out.subarray(0, M * N), at.c.at / 4);
  if (bias && at.bias.copy) heap.set(bias, at.bias.at / 4);
  const inEpilogue = epilogueFlag(activation);
  const pooled = 'conv' in A && A.pool === true;
  const flags = (accumulate ? ACCUMULATE : 0) | (bias ? BIAS : 0) | inEpilogue | (pooled ? POOL : 0);
  const x = g.exports;

  // Panels are independent: a large B is packed on the threads too.
  if (!packed) runRange(g, packJob(at.b.at, transB, K, N, at.pb), rangeThreads(threads, K * N));
  if (threads <= 1) {
    x.gemm(aAt, aMode, at.pb, at.c.at, at.bias.at, M, K, N, flags, 0, M, 0, at.panels, at.scratch, MC);
  } else {
    poolOf(g).run(x, {
      a: aAt, transA: aMode, pb: at.pb, c: at.c.at, bias: at.bias.at, M, K, N, flags,
      scratch: at.scratch, scratchStride: at.scratchStride, mc: MC, ...chunkPlan(M, K, at.panels, threads),
    }, threads);
  }

  if (at.c.copy) out.set(heap.subarray(at.c.at / 4, at.c.at / 4 + outRows(A, M) * N));
  if (activation !== 'linear' && inEpilogue === 0) activateInPlace(out, activation, N, 0, M);
  return true;
}

/**
 * out [B, OH/2, OW/2, F] = maxpool(2x2, stride 2, valid) of convolution `s`
 * of x with the epilogue of `opts` (bias, relu or relu6): in one pass, the
 * four output positions of each window computed together, so the
 * convolution's output is never written. For a 3x3 convolution in Winograd's
 * form, whose 2x2 tiles are the windows (gemm.wat's winograd_tiles with
 * POOL; with `fastMath`, 4x4 tiles of four windows each, winograd4_tiles), and for a first layer (K <= KCH, read through the tap table) whose
 * windows all lie inside the image and whose filters fill panels of 8
 * (conv_taps with POOL); false for anything else, or if it does not fit,
 * leaving out alone. The same bits as the convolution and then max_pool.
 */
export function convPooled(g: Gemm, out: Float32Array, x: Float32Array, s: ConvShape, kernel: Float32Array, opts: GemmOptions, threads: number, fastMath = false): boolean {
  const { activation = 'linear', accumulate = false } = opts;
  if (accumulate || (activation !== 'linear' && epilogueFlag(activation) === 0) || s.OH < 2 || s.OW < 2) return false;
  if (winogradFits(s)) return winogradConv(g, out, x, s, kernel, opts, threads, { pool: true, fastMath });
  if (!tapsInPlace(s)) return false;
  const PH = Math.floor(s.OH / 2), PW = Math.floor(s.OW / 2);
  const M = 4 * s.B * PH * PW, K = s.kh * s.kw * s.C;
  return gemm(g, out, { conv: x, shape: s, trans: false, pool: true }, kernel, M, K, s.F, opts, threads);
}

/** Columns of a row_product item: the float32 sums it keeps in registers. */
const ROW_GROUP = 32;

/**
 * gemm for one row of A (gemm.wat's row_product): B [K, N] read where it is,
 * without packing, groups of 32 columns shared out on the threads. The same
 * sums in the same order as the packed product, so the same bits.
 */
function rowProduct(
  g: Gemm, out: Float32Array, a: Float32Array, b: Float32Array, K: number, N: number,
  accumulate: boolean, bias: Float32Array | null, activation: Activation, threads: number,
): boolean {
  const groups = Math.ceil(N / ROW_GROUP);
  const arrays = [a.subarray(0, K), b.subarray(0, K * N), out.subarray(0, N), ...(bias ? [bias] : [])];
  const inEpilogue = epilogueFlag(activation);
  const flags = (accumulate ? ACCUMULATE : 0) | (bias ? BIAS : 0) | inEpilogue;
  const ran = inMemory(g, arrays, ['in', 'in', accumulate ? 'inout' : 'out', 'in'], ([aAt, bAt, cAt, biasAt = 0], scratch) => {
    const n = rangeThreads(threads, K * N);
    const perThread = align(groups * ROW_GROUP * 8);
    const sums = scratch((n * perThread) / 4);
    runRange(g, {
      kernel: 'row_product', args: [aAt, bAt, cAt, biasAt, K, N, flags, sums.byteOffset, 0, 0], strides: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
      countArg: 9, countScale: 1, items: groups, perThread: { arg: 7, stride: perThread },
    }, n);
  });
  if (ran && activation !== 'linear' && inEpilogue === 0) activateInPlace(out, activation, N, 0, 1);
  return ran;
}

/** Smallest number of floats a range kernel reads before a second thread is worth waking for it (lowered with MIN_PRODUCT_PER_THREAD, index.ts). */
const MIN_FLOATS_PER_THREAD = 1 << 16;

/** Threads for a range kernel that reads `floats` floats, at most `threads`. */
export const rangeThreads = (threads: number, floats: number) => Math.max(1, Math.min(threads, Math.floor(floats / MIN_FLOATS_PER_THREAD)));

/**
 * `job` (threads.ts RangeJob) on `threads` threads: slices of its items in the
 * worker pool, or one call here. Its items are independent, so the result does
 * not depend on the number of threads.
 */
export function runRange(g: Gemm, job: RangeJob, threads: number): void {
  const n = Math.min(threads, job.items);
  if (n > 1) return poolOf(g).runRange(g.exports, job, n);
  const args = job.args.map((a, k) => (k === job.countArg ? a + job.items * job.countScale : a));
  (g.exports[job.kernel] as (...args: number[]) => void)(...args);
}

/** The kernel's worker pool, created on first use. */
export function poolOf(g: Gemm): Pool {
  return (g.pool ??= new Pool(g.module, g.memory));
}

/**
 * Multiply-adds a chunk holds at least (about 15 µs of one core): claiming a
 * chunk and reporting it done costs a few µs of atomics and JS. With a small
 * K (a first convolution's 9), MC rows held 18K multiply-adds, and two
 * threads ran no faster than one.
 */
const MIN_CHUNK_MACS = 1 << 18;

/**
 * Cut C into about four chunks per thread, so that a thread that starts late
 * or is slowed down leaves its share to the others. Row blocks of at most MC
 * rows (multiples of 4, unless MC rows hold less than MIN_CHUNK_MACS of work)
 * come first; a product with fewer rows than that makes chunks by cutting
 * column panels too.
 *
 * Of the cuts that make about as many chunks, the one that reads the least
 * wins: each row chunk streams its panels of the packed B (K x N floats in
 * all) and each column group packs its rows of A (M x K). B is streamed once
 * per MC rows whatever the cut, so cutting rows finer than MC only adds
 * reads of B. BERT's [128, 768] x [768, 3072] at 2 threads was cut into 8
 * row chunks of 16 rows, and read its 9.4 MB B 8 times.
 */
function chunkPlan(M: number, K: number, panels: number, threads: number): ChunkPlan {
  const want = 4 * threads;
  const enoughWork = 4 * Math.ceil(MIN_CHUNK_MACS / (K * 8 * panels) / 4);
  const finest = Math.max(Math.min(Math.max(MC, enoughWork), 4 * Math.ceil(M / 4 / want)), 4 * Math.ceil(M / 4 / MAX_CHUNKS));
  const cut = (rowsPerChunk: number) => {
    const rowChunks = Math.ceil(M / rowsPerChunk);
    const panelsPerChunk = Math.ceil(panels / Math.min(panels, Math.ceil(want / rowChunks)));
    const colChunks = Math.ceil(panels / panelsPerChunk);
    const reads = Math.max(rowChunks, Math.ceil(M / MC)) * K * 8 * panels + colChunks * M * K;
    return { plan: { rowsPerChunk, rowChunks, panelsPerChunk, panels, chunks: rowChunks * colChunks }, reads };
  };
  let best = cut(finest);
  for (let rowsPerChunk = finest + 4; rowsPerChunk < M + 4 && rowsPerChunk <= MC; rowsPerChunk += 4) {
    const next = cut(rowsPerChunk);
    if (next.reads < best.reads) best = next;
  }
  return best.plan;
}

/** How a kernel uses an operand: read, written, or both. */
export type Use = 'in' | 'out' | 'inout';

/** Thrown by inMemory's `scratch` when the memory has no room left: inMemory then says false. */
const NO_ROOM = Symbol('no room in the kernel memory');

/**
 * Run `fn` on the byte offsets of `arrays` in the memory: an array that lives
 * elsewhere goes through the heap's scratch, copied in before the call unless
 * it is only written, and out after unless it is only read. `fn` takes any
 * scratch of its own through `scratch`, always inside the memory, before it
 * writes anything: when there is no room (past 2 GiB the heap hands out
 * ordinary buffers, whose byte offsets would point into the arena), the call
 * stops there. False, having written nothing, if the arrays or the scratch
 * would not fit.
 */
export function inMemory(g: Gemm, arrays: Float32Array[], uses: Use[], fn: (at: number[], scratch: (floats: number) => Float32Array) => void): boolean {
  const heap = g.heap;
  const mark = heap.mark();
  const scratch = (floats: number) => {
    const view = heap.take(floats);
    if (heap.offsetOf(view) < 0) throw NO_ROOM;
    return view;
  };
  try {
    const copies: (Float32Array | null)[] = [];
    const at: number[] = [];
    for (const x of arrays) {
      const offset = heap.offsetOf(x);
      const copy = offset >= 0 ? null : heap.take(x.length);
      if (copy && heap.offsetOf(copy) < 0) return false;
      copies.push(copy);
      at.push(copy ? copy.byteOffset : offset);
    }
    copies.forEach((copy, i) => uses[i] !== 'out' && copy?.set(arrays[i]));
    fn(at, scratch);
    copies.forEach((copy, i) => uses[i] !== 'in' && copy && arrays[i].set(copy));
    return true;
  } catch (e) {
    if (e === NO_ROOM) return false;
    throw e;
  } finally {
    heap.release(mark);
  }
}
