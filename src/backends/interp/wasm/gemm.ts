/**
 * The WebAssembly SIMD matrix product: gemm.wat's kernel, its memory, and the
 * copies in and out. Same contract as kernels/matmul.ts's `matmulInto`:
 *
 *   out[M,N] = act((accumulate ? out : 0) + op(a)[M,K] · op(b)[K,N] + bias)
 *
 * Float32 products are summed in float32 over at most 128 terms, then in
 * float64 (see gemm.wat), so results agree with the TS kernel and tfjs to a
 * few float32 ulps. Bias and relu are fused into the kernel's store; sigmoid,
 * tanh and softmax run afterwards in TS (activateInPlace).
 *
 * Every call copies a, b (and out when accumulating) into one shared
 * WebAssembly.Memory, packs B there once, computes C there, copies C out.
 * The memory grows on demand and is never shrunk. Layout, in bytes:
 *   [a | b | c | bias | packed B | scratch of thread 0 | scratch of thread 1 | ...]
 * With more than one thread, row blocks and column panels of C are handed
 * out to worker threads running the same kernel on the same memory (threads.ts).
 *
 * Not here: the choice of when to use this (index.ts), memory reuse across
 * layers, conv-specific packing (conv.ts builds im2col in JS memory).
 */
import { readFileSync } from 'node:fs';
import type { Activation } from '../kernels/activation.js';
import { activateInPlace } from '../kernels/activation.js';
import { MAX_CHUNKS, Pool } from './threads.js';
import type { ChunkPlan } from './threads.js';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  bias?: Float32Array | null;
  activation?: Activation;
}

/** gemm.wat's exports; pointers are byte offsets into the shared memory. */
export interface GemmExports {
  pack_b(b: number, transB: number, K: number, N: number, pb: number, p0: number, p1: number): void;
  gemm(
    a: number, transA: number, pb: number, c: number, bias: number, M: number, K: number, N: number,
    flags: number, r0: number, r1: number, p0: number, p1: number, scratch: number, mc: number,
  ): void;
}

/** Flags of gemm.wat's store. */
const ACCUMULATE = 1;
const BIAS = 2;
const RELU = 4;

/** Rows of A packed per block: their strips (MC*K floats) stay in L2 while every B panel meets them. */
const MC = 64;
const PAGE = 65536;
/** 2 GiB keeps every byte offset a positive i32; bigger products take the TS kernel. */
const MAX_PAGES = 32768;
const ALIGN = 64;

/** A loaded kernel: the module (shared with workers), its memory, and the main thread's instance. */
export interface Gemm {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: GemmExports;
  pool: Pool | null;
}

/** Compile gemm.wasm (generated next to this file by scripts/build-wasm.js); a string says why not. */
export function loadGemm(file = new URL('./gemm.wasm', import.meta.url)): Gemm | string {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    return 'gemm.wasm not found (run `npm run build`)';
  }
  try {
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { module, memory, exports: instance.exports as unknown as GemmExports, pool: null };
  } catch (e) {
    return `WebAssembly SIMD or shared memory unavailable (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Byte offsets of one call's operands in the memory; false if it would not fit. */
function layout(g: Gemm, M: number, K: number, N: number, threads: number) {
  let end = 0;
  const take = (floats: number) => {
    const at = end;
    end += Math.ceil((floats * 4) / ALIGN) * ALIGN;
    return at;
  };
  const panels = Math.ceil(N / 8);
  const at = {
    a: take(M * K),
    b: take(K * N),
    c: take(M * N),
    bias: take(N),
    pb: take(panels * 8 * K),
    scratchStride: Math.ceil((MC * K * 4 + 384) / ALIGN) * ALIGN,
    scratch: 0,
    panels,
  };
  at.scratch = end;
  end += threads * at.scratchStride;
  const have = g.memory.buffer.byteLength;
  if (end > have) {
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    g.memory.grow(pages);
  }
  return at;
}

/**
 * out = act((accumulate ? out : 0) + op(a)·op(b) + bias) on `threads` threads.
 * Returns false, leaving `out` alone, if the operands do not fit in the memory.
 */
export function gemm(
  g: Gemm,
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  opts: GemmOptions,
  threads: number,
): boolean {
  const { transA = false, transB = false, accumulate = false, bias = null, activation = 'linear' } = opts;
  const at = layout(g, M, K, N, threads);
  if (!at) return false;
  const heap = new Float32Array(g.memory.buffer);
  heap.set(a.subarray(0, M * K), at.a / 4);
  heap.set(b.subarray(0, K * N), at.b / 4);
  if (accumulate) heap.set(out.subarray(0, M * N), at.c / 4);
  if (bias) heap.set(bias, at.bias / 4);
  const flags = (accumulate ? ACCUMULATE : 0) | (bias ? BIAS : 0) | (activation === 'relu' ? RELU : 0);
  const x = g.exports;

  x.pack_b(at.b, transB ? 1 : 0, K, N, at.pb, 0, at.panels);
  if (threads <= 1) {
    x.gemm(at.a, transA ? 1 : 0, at.pb, at.c, at.bias, M, K, N, flags, 0, M, 0, at.panels, at.scratch, MC);
  } else {
    poolOf(g).run(x, {
      a: at.a, transA: transA ? 1 : 0, pb: at.pb, c: at.c, bias: at.bias, M, K, N, flags,
      scratch: at.scratch, scratchStride: at.scratchStride, mc: MC, ...chunkPlan(M, at.panels, threads),
    }, threads);
  }

  out.set(heap.subarray(at.c / 4, at.c / 4 + M * N));
  if (activation !== 'linear' && activation !== 'relu') activateInPlace(out, activation, N, 0, M);
  return true;
}

/** The kernel's worker pool, created on first use. */
export function poolOf(g: Gemm): Pool {
  return (g.pool ??= new Pool(g.module, g.memory));
}

/**
 * Cut C into about four chunks per thread, so that a thread that starts late
 * or is slowed down leaves its share to the others: row blocks (multiples of
 * 4 rows, at most MC) first, then column panels when there are too few rows.
 */
function chunkPlan(M: number, panels: number, threads: number): ChunkPlan {
  const want = 4 * threads;
  const rowsPerChunk = Math.max(Math.min(MC, 4 * Math.ceil(M / 4 / want)), 4 * Math.ceil(M / 4 / MAX_CHUNKS));
  const rowChunks = Math.ceil(M / rowsPerChunk);
  const colChunks = Math.min(panels, Math.ceil(want / rowChunks));
  const panelsPerChunk = Math.ceil(panels / colChunks);
  return { rowsPerChunk, rowChunks, panelsPerChunk, panels, chunks: rowChunks * Math.ceil(panels / panelsPerChunk) };
}
