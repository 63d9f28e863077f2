/**
 * Which kernels the interpreter runs, and on how many threads.
 *
 *   'auto' (default)  the WebAssembly SIMD kernel (gemm.ts) for products big
 *                     enough to pay for copying into its memory, the TS kernel
 *                     (kernels/matmul.ts) for the rest
 *   'wasm'            the WebAssembly kernel for every product with K > 0
 *   'js'              the TS kernels only: the reference
 *
 * Besides products, 'auto' and 'wasm' run conv2d's packing, depthwise convolution, max pooling, the
 * activations, dropout's masks, the LSTM cell and some backward kernels in WebAssembly (the
 * *Wasm functions below; each says false when it is not in use and its caller
 * runs the TS twin), whatever the size: results depend on the choice only,
 * not on where the data lives, nor on the number of threads: work is shared
 * out in pieces whose results do not depend on who computes them (C's blocks,
 * images, slices of a batch summed in a fixed order).
 * `heap()` is where activations and scratch live (heap.ts).
 *
 * Environment: DLC_KERNELS=auto|wasm|js, DLC_THREADS=n (default: every core,
 * os.availableParallelism()), DLC_FMA=0 (products without fused multiply-adds:
 * gemm.wasm, not gemm-fma.wasm). Loading is synchronous, on first use; if
 * gemm.wasm is missing or cannot be compiled, everything runs on the TS
 * kernel and `kernelBackend().note` says why.
 */
import type { ConvShape } from '../kernels/conv.js';
import type { DepthwiseShape } from '../kernels/depthwise.js';
import type { Gemm, GemmOptions, Use } from './gemm.js';
import { col2im, convKernelGradSliced, convPooled, gemm, gradSlices, inMemory, loadGemm, MC, packBInto, packedFloats, poolOf, prepackB, rangeThreads, transformedFloats, transformKernelInto, winogradTile, runRange, winogradConv, winogradFits, winogradGradFits, winogradKernelGrad, type PackedB, type TransformedKernel } from './gemm.js';
import type { RangeJob } from './threads.js';
import { align, Heap, withScratch } from './heap.js';
import { internal } from '../../../diagnostics.js';
import { getMemoryLimit } from '../plan.js';
import { platform } from '../../../platform/index.js';

export type KernelChoice = 'auto' | 'wasm' | 'js';

export interface KernelBackend {
  /** What was asked for. */
  choice: KernelChoice;
  /** What large products actually run on. */
  kernel: 'wasm' | 'js';
  /** Threads a large product may use (1 = the calling thread only). */
  threads: number;
  /** Whether kernels may trade float32 accuracy for speed (setFastMath). */
  fastMath: boolean;
  /** Whether the products' multiply-adds are fused (gemm-fma.wasm; DLC_FMA=0 loads gemm.wasm instead). */
  fused: boolean;
  /** Why the WebAssembly kernel is not in use, when it was asked for. */
  note?: string;
}

// Crossovers, measured on x64 (AMD EPYC, Node 20; see the issue): below
// these, copying into wasm memory or waking a worker costs more than it saves.
// A product is M*K*N multiply-adds. Even one row (a batch of one) is faster in
// wasm above the first: the TS kernel's few-rows path runs at ~1 GFLOP/s.
/** Smallest product for the WebAssembly kernel (about 10x10x10). */
const MIN_WASM_PRODUCT = 1024;
/** Fewest floats a sum with an operand outside the kernel's memory is copied in for. */
const MIN_COPIED_ADD = 4096;
/**
 * Smallest product worth a second thread (about 64x64x64). It was 100x100x100
 * while workers slept between jobs (0.1-0.2 ms to wake); with workers that
 * spin between jobs (threads.ts SPIN_MS), a quarter of that paid: MobileNetV2
 * at batch 1 on 2 threads ran at 0.94x the time, the MNIST forward at 0.96x,
 * alternating in one process. A sixteenth no longer did (a small MLP 1.05x).
 */
const MIN_PRODUCT_PER_THREAD = 1 << 18;

let choice: KernelChoice = parseChoice(platform.env('DLC_KERNELS'));
let threads = parseThreads(platform.env('DLC_THREADS'));
let fastMath = platform.env('DLC_FAST_MATH') === '1';
/** Read once, at import (the kernel loads once): the module cannot change under the interpreter's memory. */
const fused = platform.env('DLC_FMA') !== '0';
let loaded: Gemm | string | undefined;

function parseChoice(value: string | undefined): KernelChoice {
  return value === 'js' || value === 'wasm' ? value : 'auto';
}

function parseThreads(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : platform.parallelism();
}

/** Select the matmul kernel for this process (overrides DLC_KERNELS). */
export function setKernelBackend(kind: KernelChoice): void {
  choice = kind;
}

/** Let large products use up to `n` threads, this one included (overrides DLC_THREADS). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw internal(`setThreads: expected a positive integer, got ${n}`);
  threads = n;
}

/**
 * Let the WebAssembly kernels trade float32 accuracy for speed (overrides
 * DLC_FAST_MATH=1), as Arm Compute Library's fast math does: a 3x3
 * convolution's forward pass and input gradient then run as Winograd
 * F(4x4, 3x3) (gemm.ts winogradTile), 1.78x fewer multiply-adds than
 * F(2x2, 3x3) and about 10x its rounding error (its kernel gradient stays
 * F(2x2, 3x3)). Off by default: results then stay within the
 * tolerances the kernels are tested to against the TS kernels and tf.
 */
export function setFastMath(on: boolean): void {
  fastMath = on;
}

/** What matmulInto runs on, loading the WebAssembly kernel if it was asked for and not tried yet. */
export function kernelBackend(): KernelBackend {
  if (choice === 'js') return { choice, kernel: 'js', threads: 1, fastMath: false, fused: false };
  const g = gemmKernel();
  return typeof g === 'string' ? { choice, kernel: 'js', threads: 1, fastMath: false, fused: false, note: g } : { choice, kernel: 'wasm', threads, fastMath, fused: g.fused };
}

/** Without the WebAssembly kernel, scratch comes from JS buffers and each Interpreter allocates its arena. */
const jsHeap = new Heap(null);

/**
 * Where the interpreter keeps activations and kernels take scratch: the
 * WebAssembly kernel's memory whenever it loads (whatever the kernel choice,
 * which only decides who multiplies), else JS buffers.
 */
export function heap(): Heap {
  const g = gemmKernel();
  return typeof g === 'string' ? jsHeap : g.heap;
}

/**
 * An array for a weight of a command that loads one model (dlc run): pinned
 * in the kernel's memory for the rest of the process (heap.ts pin), where
 * products read it in place instead of copying it in at every call; an
 * ordinary array without that memory, past its room, or once a run has
 * taken an arena.
 */
export function pinnedArray(floats: number): Float32Array {
  return heap().pin(floats) ?? new Float32Array(floats);
}

/** The WebAssembly module's exports and heap for the non-matmul kernels, unless the choice is 'js' or it did not load. */
export function wasmKernels(): Gemm | null {
  if (choice === 'js') return null;
  const g = gemmKernel();
  return typeof g === 'string' ? null : g;
}

/** The loaded kernel, or why there is none. */
export function gemmKernel(): Gemm | string {
  loaded ??= loadGemm({ fused });
  return loaded;
}

/**
 * matmulInto's fast path: compute the product with the WebAssembly kernel if
 * the current choice and the sizes call for it, and say whether it did.
 * Arguments are matmulInto's, already checked.
 */
export function matmulWasm(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  opts: GemmOptions,
): boolean {
  const g = productKernel(M, K, N);
  return g !== null && gemm(g, out, a, b, M, K, N, withPacked(opts, b, K, N), threadsFor(M * K * N));
}

/** How a weight is read, ready for its kernel: packed as a product's B, or transformed as a 3x3 kernel in Winograd's form. */
type Form = { kind: 'product'; K: number; N: number; trans: boolean } | { kind: 'winograd'; m: 2 | 4; C: number; F: number };

const formBytes = (f: Form) => align(4 * (f.kind === 'product' ? packedFloats(f.K, f.N) : transformedFloats(f.C, f.F, f.m)));

/**
 * One interpreter's weights in the forms its kernels read, for an Interpreter
 * made with `prepack` (its caller does not change the weights while it runs
 * them), as ONNX Runtime and XNNPACK pack weights once, at load: a product's
 * B packed into the kernel's panels, a 3x3 kernel in Winograd's form
 * transformed. A run notes which weights its kernels read, in which form
 * (`product`, `winograd`); `pack`, before and after each run, makes those
 * forms in the heap's packed region (heap.ts packRegion), and the next runs
 * read them there instead of copying each weight in and packing or
 * transforming it at every call. The region holds one owner's weights at a
 * time: when another owner packs or the arena grows into it, `pack` packs
 * again.
 */
export class PackedWeights {
  /** The forms noted, by weight: the first each weight was read in. */
  private readonly wanted = new Map<Float32Array, Form>();
  /** What the region holds, by weight: valid while the heap says it holds this owner's. */
  private readonly packed = new Map<Float32Array, PackedB | TransformedKernel>();
  /** Set when the region could not be had (no room in the memory, or past the memory budget): kernels then pack at each call, as without. */
  private noRoom = false;

  constructor(private readonly weights: ReadonlySet<Float32Array>) {}

  /** B packed for this product, or null (noting the product when B is one of the weights). gemm checks K, N and trans. */
  product(b: Float32Array, K: number, N: number, trans: boolean): PackedB | null {
    return this.lookup(b, { kind: 'product', K, N, trans }) as PackedB | null;
  }

  /** The kernel transformed for Winograd with tiles of m, or null (noting it when it is one of the weights). winogradConv checks m, C and F. */
  winograd(kernel: Float32Array, m: 2 | 4, C: number, F: number): TransformedKernel | null {
    return this.lookup(kernel, { kind: 'winograd', m, C, F }) as TransformedKernel | null;
  }

  private lookup(w: Float32Array, form: Form): PackedB | TransformedKernel | null {
    const p = this.packed.get(w);
    if (p) return ('pb' in p) === (form.kind === 'product') ? p : null;
    if (this.weights.has(w) && !this.wanted.has(w)) this.wanted.set(w, form);
    return null;
  }

  /** Weights and bytes in the packed region now. */
  held(): { weights: number; bytes: number } {
    if (!heap().holdsPacked(this)) return { weights: 0, bytes: 0 };
    let bytes = 0;
    for (const w of this.packed.keys()) bytes += formBytes(this.wanted.get(w)!);
    return { weights: this.packed.size, bytes };
  }

  /** Gives the packed region back to the heap; a later `pack` packs again. */
  release(): void {
    heap().dropPacked(this);
    this.packed.clear();
  }

  /** Outside any run, with no scratch taken: makes every noted form unless the region holds them all already. */
  pack(): void {
    const g = wasmKernels();
    if (!g || this.noRoom || g.heap.scratchTaken()) return;
    if (g.heap.holdsPacked(this) && this.packed.size === this.wanted.size) return;
    this.packed.clear();
    if (this.wanted.size === 0) return;
    const forms = [...this.wanted];
    const sizes = forms.map(([, f]) => formBytes(f));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    // Within the memory budget (--max-memory), counting the kernel's memory as it stands: else no region, as when it cannot grow.
    const region = g.heap.memory!.buffer.byteLength + bytes <= getMemoryLimit() ? g.heap.packRegion(this, bytes / 4) : null;
    if (!region) return void (this.noRoom = true);
    let at = region.byteOffset;
    forms.forEach(([w, f], i) => {
      const p = withScratch(g.heap, (take) =>
        f.kind === 'product' ? packBInto(g, at, w, f.K, f.N, f.trans, take, threads) : transformKernelInto(g, at, w, f.C, f.F, f.m, take, threads),
      );
      if (p) this.packed.set(w, p);
      at += sizes[i];
    });
  }
}

/** The running interpreter's packed weights (withPackedWeights), or null. */
let activePacked: PackedWeights | null = null;

/** Runs `fn` (an interpreter's run) with its products reading B from `packed`. */
export function withPackedWeights<T>(packed: PackedWeights, fn: () => T): T {
  const before = activePacked;
  activePacked = packed;
  try {
    return fn();
  } finally {
    activePacked = before;
  }
}

/** `opts` with the running interpreter's packed B for this product, when it has one. */
function withPacked(opts: GemmOptions, b: Float32Array, K: number, N: number): GemmOptions {
  const packedB = !opts.packedB && activePacked?.product(b, K, N, opts.transB ?? false);
  return packedB ? { ...opts, packedB } : opts;
}

/** `opts` with the running interpreter's transformed kernel for this convolution in Winograd's form, when it has one. */
function withTransformed(opts: GemmOptions, kernel: Float32Array, s: ConvShape): GemmOptions {
  const transformed = activePacked?.winograd(kernel, winogradTile(s, fastMath), s.C, s.F);
  return transformed ? { ...opts, transformed } : opts;
}

/**
 * B [K, N] packed once for the products `matmulInto(..., { packedB })` will
 * make with it (gemm.ts prepackB), in memory from `take` (withScratch on
 * heap()), or the running interpreter's copy packed once for all its runs
 * (prepack: a recurrent kernel U); null when products of this size do not
 * run in WebAssembly.
 */
export function prepackRight(b: Float32Array, M: number, K: number, N: number, take: (floats: number) => Float32Array): PackedB | null {
  const g = productKernel(M, K, N);
  return g && (activePacked?.product(b, K, N, false) ?? prepackB(g, b, K, N, take));
}

/** A recurrent layer's operands for recurrentLayerWasm, all [rows, columns] row-major; G is 4 (LSTM) or 3 (GRU). */
export interface RecurrentLayer {
  /** x W + b for every step: [B*T, G*u], row b*T + t. */
  xw: Float32Array;
  /** Room for h U: [B, G*u]. */
  zh: Float32Array;
  /** The state [B, u], holding the initial one; left holding the final one. */
  h: Float32Array;
  /** The LSTM's cell state, as h. */
  c: Float32Array;
  /** Where every step's h goes, [B, T, u] (return_sequences), or null. */
  out: Float32Array | null;
  /** U [u, G*u], packed by prepackRight. */
  packedB: PackedB;
  B: number;
  T: number;
  units: number;
  reverse: boolean;
  /**
   * For a training step's backward (grad/recurrent.ts), each [B, T, ...] as
   * `out` is: h before each step, the cell's gates [B, T, 4u], and the LSTM's
   * c before and after each step. `out` then takes h after each step.
   */
  trace?: { hPrev: Float32Array; gates: Float32Array; cPrev?: Float32Array; cAfter?: Float32Array };
}

/** Which cell recurrentLayerWasm runs: the LSTM's, or the GRU's with reset_after and its recurrent bias [3u]. */
export type RecurrentCell = { kind: 'lstm' } | { kind: 'gru'; recurrentBias: Float32Array };

/**
 * A recurrent layer's whole time loop (recurrent.ts recur) in WebAssembly
 * (gemm.wat's recurrent_rows): each step's h U (the same kernel as
 * matmulInto's, U packed once) and the cell (lstm_cell or gru_cell), for a
 * block of batch rows at a time, blocks on the worker pool. Rows are
 * independent, so a thread runs its rows through every step without waiting
 * for the others (a product per step on the pool waited for both threads 50
 * times in a 50-step layer), and the values are those of the step-by-step
 * loop, on any number of threads. False, having written nothing, where it
 * does not apply (units not a multiple of 4, the TS kernels chosen, no room
 * in the memory).
 */
export function recurrentLayerWasm(l: RecurrentLayer, cell: RecurrentCell): boolean {
  const g = wasmKernels();
  if (!g || l.units % 4 !== 0 || l.B === 0 || l.T === 0) return false;
  if (l.trace && (!l.out || (cell.kind === 'lstm' && !(l.trace.cPrev && l.trace.cAfter)))) return false;
  const lstm = cell.kind === 'lstm';
  // Each operand with its use; those absent are left at byte 0, which the descriptor's flags say not to read.
  const operands: [Float32Array | null | undefined, Use][] = [
    [l.xw, 'in'], [l.zh, 'out'], [l.h, 'inout'], [lstm ? l.c : cell.recurrentBias, lstm ? 'inout' : 'in'], [l.out, 'out'],
    [l.trace?.hPrev, 'out'], [l.trace?.cPrev, 'out'], [l.trace?.cAfter, 'out'], [l.trace?.gates, 'out'],
  ];
  const present = operands.filter(([array]) => array);
  return inMemory(g, present.map(([array]) => array!), present.map(([, use]) => use), (offsets, scratch) => {
    let next = 0;
    const [xw, zh, h, c, out, hPrev, cPrev, cAfter, gates] = operands.map(([array]) => (array ? offsets[next++]! : 0));
    const blocks = Math.ceil(l.B / 4);
    // Per block of 4 rows: gemm's strip (u*16 bytes) and its 384-byte tile.
    const perBlock = l.units * 16 + 384;
    const gemmScratch = scratch((blocks * perBlock) / 4).byteOffset;
    const desc = scratch(19);
    const fields = [
      xw, l.T, l.units, l.packedB.pb, zh, h, c, out, l.reverse ? 1 : 0, gemmScratch, perBlock, l.B, l.out ? 1 : 0, lstm ? 0 : 1,
      l.trace ? 1 : 0, hPrev, cPrev, cAfter, gates,
    ];
    new Int32Array(desc.buffer, desc.byteOffset, fields.length).set(fields);
    const macs = l.T * l.B * l.units * (cell.kind === 'lstm' ? 4 : 3) * l.units;
    runRange(g, { kernel: 'recurrent_rows', args: [desc.byteOffset, 0, 0], strides: [0, 4, 4], countArg: 2, countScale: 4, items: blocks }, threadsFor(macs));
  });
}

/** The WebAssembly kernel if the choice and the size of an [M,K]x[K,N] product call for it. */
function productKernel(M: number, K: number, N: number): Gemm | null {
  if (choice === 'js' || K === 0 || M === 0 || N === 0) return null;
  if (choice === 'auto' && M * K * N < MIN_WASM_PRODUCT) return null;
  const g = gemmKernel();
  return typeof g === 'string' ? null : g;
}

const threadsFor = (product: number) => Math.max(1, Math.min(threads, Math.floor(product / MIN_PRODUCT_PER_THREAD)));

/**
 * conv2d's fast path: out [P,F] = act(im2col(x) kernel + bias), P = B*OH*OW,
 * with the WebAssembly kernel packing the im2col rows straight from x (no
 * im2col matrix is written). Says whether it ran, as matmulWasm.
 */
export function convWasm(out: Float32Array, x: Float32Array, s: ConvShape, kernel: Float32Array, opts: GemmOptions): boolean {
  const M = s.B * s.OH * s.OW, K = s.kh * s.kw * s.C, N = s.F;
  const g = productKernel(M, K, N);
  if (g === null) return false;
  if (winogradFits(s) && winogradConv(g, out, x, s, kernel, withTransformed(opts, kernel, s), threadsFor(M * K * N), { fastMath })) return true;
  return gemm(g, out, { conv: x, shape: s, trans: false }, kernel, M, K, N, withPacked(opts, kernel, K, N), threadsFor(M * K * N));
}

/** convWasm followed by a 2x2 max pool of stride 2, in one pass (gemm.ts convPooled); false if not in use or not such a layer. */
export function convPoolWasm(out: Float32Array, x: Float32Array, s: ConvShape, kernel: Float32Array, opts: GemmOptions): boolean {
  const M = s.B * s.OH * s.OW, K = s.kh * s.kw * s.C, N = s.F;
  const g = productKernel(M, K, N);
  return g !== null && convPooled(g, out, x, s, kernel, winogradFits(s) ? withTransformed(opts, kernel, s) : withPacked(opts, kernel, K, N), threadsFor(M * K * N), fastMath);
}

/**
 * The input gradient dx [B,H,W,C] of a 3x3 convolution `s` with stride 1
 * and no dilation, given dz [B,OH,OW,F], as a convolution Winograd runs
 * (winogradConv): dx is dz correlated with the kernel turned by 180 degrees
 * and its C and F swapped, k'[ky,kx,f,c] = k[2-ky,2-kx,c,f], over dz padded
 * by 2 - pad on each leading side. Overwrites dx; false if not in use (other
 * shapes, or too few tiles), leaving dx alone.
 */
export function convInputGradWasm(dx: Float32Array, dz: Float32Array, s: ConvShape, kernel: Float32Array): boolean {
  const { B, H, W, C, F } = s;
  if (s.kh !== 3 || s.kw !== 3) return false;
  const adjoint: ConvShape = {
    B, H: s.OH, W: s.OW, C: F, kh: 3, kw: 3, F: C, OH: H, OW: W,
    stride: s.stride, dilation: s.dilation, padTop: 2 - s.padTop, padLeft: 2 - s.padLeft,
  };
  const M = B * H * W, K = 9 * F;
  const g = productKernel(M, K, C);
  if (g === null || !winogradFits(adjoint)) return false;
  const mark = g.heap.mark();
  try {
    const turned = g.heap.take(9 * C * F);
    for (let t = 0; t < 9; t++)
      for (let c = 0, from = (8 - t) * C * F; c < C; c++, from += F)
        for (let f = 0, to = t * F * C + c; f < F; f++, to += C) turned[to] = kernel[from + f];
    return winogradConv(g, dx, dz, adjoint, turned, {}, threadsFor(M * K * C), { fastMath });
  } finally {
    g.heap.release(mark);
  }
}

/**
 * The kernel gradient of that convolution, dK [kh*kw*C, F] = im2col(x)^T dz,
 * packed from x the same way, or in Winograd's form for a convolution that
 * winogradGradFits (gemm.ts winogradKernelGrad); false if not in use.
 */
export function convKernelGradWasm(dK: Float32Array, x: Float32Array, s: ConvShape, dz: Float32Array): boolean {
  const M = s.kh * s.kw * s.C, K = s.B * s.OH * s.OW, N = s.F;
  const g = productKernel(M, K, N);
  if (g === null) return false;
  if (winogradGradFits(s) && winogradKernelGrad(g, dK, x, s, dz, threadsFor(M * K * N))) return true;
  const slices = gradSlices(s);
  if (slices > 1) return convKernelGradSliced(g, dK, x, s, dz, slices, threadsFor(M * K * N));
  return gemm(g, dK, { conv: x, shape: s, trans: true }, dz, M, K, N, {}, threadsFor(M * K * N));
}

/** 2-D max pooling of x [B,H,W,C] into out [B,OH,OW,C] in WebAssembly (see gemm.wat's max_pool); false if not in use. */
export function maxPoolWasm(
  out: Float32Array, x: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number,
): boolean {
  const g = wasmKernels();
  if (!g || out.length === 0) return false;
  // Images are independent: a slice of them moves x and out by whole images.
  return inMemory(g, [x, out], ['in', 'out'], ([xAt, outAt]) =>
    onThreads(g, x.length, {
      kernel: 'max_pool',
      args: [xAt, outAt, H, W, C, OH, OW, stride[0], stride[1], size[0], size[1], padTop, padLeft, 0],
      strides: [4 * H * W * C, 4 * OH * OW * C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      countArg: 13,
      countScale: OH * OW,
      items: B,
    }),
  );
}

/**
 * Global average or max pooling of x [B, cells, C] into out [B, C] in
 * WebAssembly (gemm.wat's global_pool: the TS loops' float64 sums, so the
 * same bits), images shared out on the threads; false if not in use.
 */
export function globalPoolWasm(out: Float32Array, x: Float32Array, B: number, cells: number, C: number, max: boolean): boolean {
  const g = wasmKernels();
  if (!g || out.length === 0) return false;
  return inMemory(g, [x, out], ['in', 'out'], ([xAt, outAt]) =>
    onThreads(g, x.length, {
      kernel: 'global_pool',
      args: [xAt, outAt, cells, C, max ? 1 : 0, 0],
      strides: [4 * cells * C, 4 * C, 0, 0, 0, 0],
      countArg: 5,
      countScale: 1,
      items: B,
    }),
  );
}

/** How many values of a memory-bound kernel one value of an exp-based activation is worth, for rangeThreads. */
const TRANSCENDENTAL_COST = 8;
/** The same for a value of layer normalisation: three float64 passes over its row. */
const ROW_STATISTICS_COST = 3;

/** A float64's low and high 32 bits, as gemm.wat's f64_of takes them (a range job passes i32s only). */
function f64Halves(x: number): [number, number] {
  const bits = new Int32Array(Float64Array.of(x).buffer);
  return [bits[0], bits[1]];
}

/** `job` on as many threads as the `floats` it reads pay for (rangeThreads). */
function onThreads(g: Gemm, floats: number, job: RangeJob): void {
  runRange(g, job, rangeThreads(threads, floats));
}

/**
 * Depthwise convolution with one kernel per channel (dm = 1) of x [B,H,W,C]
 * into out [B,OH,OW,C] in WebAssembly (gemm.wat's depthwise_conv), with the
 * bias, clamped to [lo, hi] (an activation that is a clamp: relu, relu6);
 * false if not in use or dm > 1.
 */
export function depthwiseWasm(
  out: Float32Array, x: Float32Array, kernel: Float32Array, bias: Float32Array | null, s: DepthwiseShape, [lo, hi]: readonly [number, number],
): boolean {
  const g = wasmKernels();
  if (!g || s.dm !== 1 || out.length === 0) return false;
  const arrays = [x, kernel.subarray(0, s.kh * s.kw * s.C), out, ...(bias ? [bias] : [])];
  return inMemory(g, arrays, ['in', 'in', 'out', 'in'], ([xAt, kAt, outAt, biasAt = 0], scratch) => {
    // Output pixels are independent: slices of them on the worker pool, the arguments in a descriptor
    // (gemm.wat's depthwise_conv_slice: a range job passes at most 16 integers).
    const desc = scratch(20);
    new Int32Array(desc.buffer, desc.byteOffset, 18).set([
      xAt, kAt, biasAt, bias ? 1 : 0, outAt, s.H, s.W, s.C, s.OH, s.OW,
      s.stride[0], s.stride[1], s.kh, s.kw, s.dilation[0], s.dilation[1], s.padTop, s.padLeft,
    ]);
    desc.set([lo, hi], 18);
    const pixels = s.B * s.OH * s.OW;
    onThreads(g, out.length * s.kh * s.kw, { kernel: 'depthwise_conv_slice', args: [desc.byteOffset, 0, 0], strides: [0, 1, 1], countArg: 2, countScale: 1, items: pixels });
  });
}

/** Output pixels per call of depthwise_conv_grad: each kernel gradient entry sums at most this many terms in float32. */
const DEPTHWISE_GRAD_CHUNK = 128;

/**
 * depthwiseWasm's backward (gemm.wat's depthwise_conv_grad): dx (zero on
 * entry) += each tap's k dz, and dk += its x dz, summed in float32 over
 * chunks of pixels and across them in float64; either may be null. False if
 * not in use or dm > 1.
 */
export function depthwiseGradWasm(
  dx: Float32Array | null, dk: Float64Array | null, x: Float32Array, kernel: Float32Array, dz: Float32Array, s: DepthwiseShape,
): boolean {
  const g = wasmKernels();
  if (!g || s.dm !== 1 || dz.length === 0) return false;
  const P = s.B * s.OH * s.OW, K = s.kh * s.kw * s.C;
  const arrays = [x, kernel.subarray(0, K), dz, ...(dx ? [dx] : [])];
  return inMemory(g, arrays, ['in', 'in', 'in', 'inout'], ([xAt, kAt, dzAt, dxAt = 0], scratch) => {
    const part = dk ? scratch(K) : null;
    for (let p0 = 0; p0 < P; p0 += DEPTHWISE_GRAD_CHUNK) {
      part?.fill(0);
      g.exports.depthwise_conv_grad(
        xAt, kAt, dzAt, dxAt, part?.byteOffset ?? 0, dx ? 1 : 0, part ? 1 : 0, s.H, s.W, s.C, s.OH, s.OW,
        s.stride[0], s.stride[1], s.kh, s.kw, s.dilation[0], s.dilation[1], s.padTop, s.padLeft, p0, Math.min(P, p0 + DEPTHWISE_GRAD_CHUNK),
      );
      if (dk && part) for (let i = 0; i < K; i++) dk[i] += part[i];
    }
  });
}

/**
 * maxPoolWasm's backward: dx = dy routed to each window's max, written in full (gemm.wat's max_pool_grad zeroes it image by image).
 * reluMask: only to a max above 0, which is also relu's backward when x is a relu's output (grad/pool.ts).
 */
export function maxPoolGradWasm(
  dx: Float32Array, x: Float32Array, dy: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number, reluMask: boolean,
): boolean {
  const g = wasmKernels();
  if (!g || dy.length === 0) return false;
  // Windows of different images never meet: slices of images can add into dx side by side.
  return inMemory(g, [x, dy, dx], ['in', 'in', 'out'], ([xAt, dyAt, dxAt]) =>
    onThreads(g, x.length, {
      kernel: 'max_pool_grad',
      args: [xAt, dyAt, dxAt, H, W, C, OH, OW, stride[0], stride[1], size[0], size[1], padTop, padLeft, 0, reluMask ? 1 : 0],
      strides: [4 * H * W * C, 4 * OH * OW * C, 4 * H * W * C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      countArg: 14,
      countScale: OH * OW,
      items: B,
    }),
  );
}

/**
 * out = a + b elementwise (gemm.wat's add), then relu(out) in the same pass
 * with `relu`: in place when all three live in the kernel's memory (the
 * interpreter's arena), else through copies from MIN_COPIED_ADD floats up.
 * False for a smaller sum outside it, or if not in use.
 */
export function addWasm(out: Float32Array, a: Float32Array, b: Float32Array, relu = false): boolean {
  const g = wasmKernels();
  if (!g || out.length === 0) return false;
  const at = [out, a, b].map((x) => g.heap.offsetOf(x));
  // Values are independent: slices of them on the worker pool.
  const run = (o: number, x: number, y: number) =>
    onThreads(g, out.length, { kernel: 'add', args: [x, y, o, 0, relu ? 1 : 0], strides: [4, 4, 4, 0, 0], countArg: 3, countScale: 1, items: out.length });
  if (at.every((offset) => offset >= 0)) {
    run(at[0], at[1], at[2]);
    return true;
  }
  // A caller's input (a residual connection straight from the model's input): copying it in
  // and adding there beats the TS loop (an encoder block at batch 8: 0.4 ms a run).
  return out.length >= MIN_COPIED_ADD && inMemory(g, [out, a, b], ['out', 'in', 'in'], ([o, x, y]) => run(o, x, y));
}

/** The dimensions of attention's heads: B examples, T query and S key steps, H heads of K-wide keys and V-wide values. */
export interface HeadsShape {
  B: number;
  T: number;
  S: number;
  H: number;
  K: number;
  V: number;
  causal: boolean;
}

/** Bytes of scratch one thread of gemm.wat's attention_heads lays out (its notes), each part 64-byte aligned. */
function headsScratchBytes({ T, S, K, V }: HeadsShape): number {
  const panels = (n: number) => Math.ceil(n / 8);
  const parts = [T * K * 4, S * K * 4, S * V * 4, panels(S) * K * 32, panels(V) * S * 32, T * S * 4, T * V * 4, MC * Math.max(K, S) * 4 + 384];
  return parts.reduce((sum, bytes) => sum + align(bytes), 0);
}

/**
 * Attention's heads in WebAssembly (gemm.wat's attention_heads): for every
 * example b and head h, head h's columns of ctx [B*T, H*V] = softmax(Q_h
 * Kp_h^T, s > t hidden when causal) Vp_h, with Q [B*T, H*K] already scaled,
 * Kp [B*S, H*K] and Vp [B*S, H*V]; the probabilities go to P [B, H, T, S]
 * when it is given. The (example, head) pairs are shared out on the threads,
 * each with its own scratch; each pair is computed the same way on any
 * thread. False, having written nothing, if not in use or out of room.
 */
export function attentionHeadsWasm(ctx: Float32Array, Q: Float32Array, Kp: Float32Array, Vp: Float32Array, P: Float32Array | null, d: HeadsShape): boolean {
  const g = wasmKernels();
  if (!g || d.B * d.H === 0 || d.T === 0 || d.S === 0) return false;
  const arrays = [Q, Kp, Vp, ctx, ...(P ? [P] : [])];
  return inMemory(g, arrays, ['in', 'in', 'in', 'out', 'out'], ([q, k, v, c, p = 0], scratch) => {
    const pairs = d.B * d.H;
    const n = Math.min(pairs, threadsFor(pairs * d.T * d.S * (d.K + d.V)));
    const perThread = headsScratchBytes(d);
    const desc = scratch(11);
    const room = scratch((n * perThread) / 4);
    new Int32Array(desc.buffer, desc.byteOffset, 11).set([q, k, v, c, p, d.T, d.S, d.H, d.K, d.V, d.causal ? 1 : 0]);
    runRange(g, {
      kernel: 'attention_heads', args: [desc.byteOffset, 0, 0, room.byteOffset], strides: [0, 1, 1, 0], countArg: 2, countScale: 1,
      items: pairs, perThread: { arg: 3, stride: perThread },
    }, n);
  });
}

/**
 * dst's rows r < rows (n floats each, dstStride floats apart, from dst[0]) =
 * src's (srcStride apart, from src[0]) (gemm.wat's copy_rows), when both live
 * in the kernel's memory; false otherwise, or if not in use.
 */
export function copyRowsWasm(dst: Float32Array, src: Float32Array, rows: number, n: number, dstStride: number, srcStride: number): boolean {
  const g = wasmKernels();
  if (!g) return false;
  const to = g.heap.offsetOf(dst), from = g.heap.offsetOf(src);
  if (to < 0 || from < 0) return false;
  g.exports.copy_rows(to, from, rows, n, 4 * dstStride, 4 * srcStride);
  return true;
}

/** x[i] *= s in place, in float64 rounded once as the TS loop (gemm.wat's scale); false if not in use. */
export function scaleWasm(x: Float32Array, s: number): boolean {
  const g = wasmKernels();
  if (!g || x.length === 0) return false;
  const [lo, hi] = f64Halves(s);
  return inMemory(g, [x], ['inout'], ([at]) => onThreads(g, x.length, { kernel: 'scale', args: [at, at, 0, lo, hi], strides: [4, 4, 0, 0, 0], countArg: 2, countScale: 1, items: x.length }));
}

/** relu's backward dx = y > 0 ? dy : 0 (gemm.wat's relu_grad); false if not in use. */
export function reluGradWasm(dx: Float32Array, y: Float32Array, dy: Float32Array): boolean {
  const g = wasmKernels();
  if (!g || dx.length === 0) return false;
  return inMemory(g, [y, dy, dx], ['in', 'in', 'out'], ([yAt, dyAt, dxAt]) =>
    onThreads(g, 2 * dx.length, { kernel: 'relu_grad', args: [yAt, dyAt, dxAt, 0], strides: [4, 4, 4, 0], countArg: 3, countScale: 1, items: dx.length }),
  );
}

/**
 * Dropout's mask, to = from masked and scaled as applyMask (kernels/elementwise.ts)
 * defines it by the stream's values (u32), in WebAssembly (gemm.wat's
 * dropout_mask); false if not in use.
 */
export function dropoutMaskWasm(from: Float32Array, to: Float32Array, rate: number, values: Uint32Array): boolean {
  const g = wasmKernels();
  const threshold = Math.ceil(rate * 2 ** 32); // u < rate * 2^32 exactly when u < threshold
  if (!g || to.length === 0 || threshold >= 2 ** 32) return false;
  const floats = new Float32Array(values.buffer, values.byteOffset, values.length);
  return inMemory(g, [floats, from, to], ['in', 'in', 'out'], ([valuesAt, fromAt, toAt]) => {
    g.exports.dropout_mask(valuesAt, fromAt, toAt, to.length, threshold | 0, 1 / (1 - rate));
  });
}

/**
 * The float64 sums of each block of `block` rows of src [rows, n] (gemm.wat's
 * column_sums), into sums [blocks, n], the blocks on the worker pool; false
 * if not in use. grad/util.ts's columnSums adds them up.
 */
export function blockSumsWasm(sums: Float64Array, src: Float32Array, rows: number, n: number, block: number): boolean {
  const g = wasmKernels();
  if (!g || n === 0) return false;
  const blocks = Math.ceil(rows / block);
  return inMemory(g, [src.subarray(0, rows * n)], ['in'], ([srcAt], scratch) => {
    const acc = scratch(2 * n * blocks).byteOffset; // float64
    runRange(g, { kernel: 'column_sums', args: [srcAt, rows, n, block, acc, 0, 0], strides: [0, 0, 0, 0, 0, 1, 1], countArg: 6, countScale: 1, items: blocks }, rangeThreads(threads, rows * n));
    sums.set(new Float64Array(g.heap.buffer(), acc, n * blocks));
  });
}

/** layerNorm over rows of d (gemm.wat's layer_norm, statistics in float64); false if not in use. */
export function layerNormWasm(y: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, d: number, epsilon: number): boolean {
  const g = wasmKernels();
  if (!g || x.length === 0) return false;
  // Rows are independent: slices of them on the worker pool.
  const [lo, hi] = f64Halves(epsilon);
  return inMemory(g, [x, gamma, beta, y], ['in', 'in', 'in', 'out'], ([xAt, gAt, bAt, yAt]) =>
    onThreads(g, x.length * ROW_STATISTICS_COST, { kernel: 'layer_norm', args: [xAt, gAt, bAt, yAt, 0, d, lo, hi], strides: [4 * d, 0, 0, 4 * d, 0, 0, 0, 0], countArg: 4, countScale: 1, items: x.length / d }),
  );
}

/** dx += col2im(dcols) over output positions [p0, p1) of convolution `s` (gemm.wat's col2im); false if not in use. */
export function col2imWasm(dx: Float32Array, dcols: Float32Array, s: ConvShape, p0: number, p1: number): boolean {
  const g = wasmKernels();
  return g !== null && p1 > p0 && col2im(g, dx, dcols, s, p0, p1, threads);
}

/**
 * dst = act(src) in WebAssembly: gemm.wat's `activate` with the activation
 * table's code for it, or its `softmax_rows` over rows of `width`; false if
 * not in use.
 */
export function activateWasm(dst: Float32Array, src: Float32Array, kernel: number | 'softmax_rows', width: number): boolean {
  const g = wasmKernels();
  if (!g || dst.length === 0) return false;
  // activate's values are independent: slices of them on the worker pool. A value of relu costs a compare; of
  // sigmoid, tanh or gelu (codes 1, 2, 6, 7) an exp4, worth a thread at a few times fewer values.
  const costly = kernel === 1 || kernel === 2 || kernel === 6 || kernel === 7;
  const run = ([s, d]: number[]) =>
    kernel === 'softmax_rows'
      ? onThreads(g, dst.length * TRANSCENDENTAL_COST, { kernel: 'softmax_rows', args: [s, d, 0, width], strides: [4 * width, 4 * width, 0, 0], countArg: 2, countScale: 1, items: dst.length / width })
      : onThreads(g, dst.length * (costly ? TRANSCENDENTAL_COST : 1), { kernel: 'activate', args: [kernel, s, d, 0], strides: [0, 4, 4, 0], countArg: 3, countScale: 1, items: dst.length });
  return dst === src ? inMemory(g, [dst], ['inout'], ([d]) => run([d, d])) : inMemory(g, [src, dst], ['in', 'out'], run);
}

/** Start the worker threads now rather than at the first large product; resolves when they are up. */
export async function warmUpThreads(n = threads): Promise<void> {
  const g = gemmKernel();
  if (typeof g === 'string' || n <= 1) return;
  await poolOf(g).warmUp(n);
}

/** Chunks of C computed by each thread so far (main thread first): shows that workers take part. */
export function chunksByThread(): number[] {
  const g = gemmKernel();
  return typeof g === 'string' || !g.pool ? [] : g.pool.chunksByThread();
}
