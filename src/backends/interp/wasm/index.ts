/**
 * Which matmul kernel the interpreter runs, and on how many threads.
 *
 *   'auto' (default)  the WebAssembly SIMD kernel (gemm.ts) for products big
 *                     enough to pay for copying into its memory, the TS kernel
 *                     (kernels/matmul.ts) for the rest
 *   'wasm'            the WebAssembly kernel for every product with K > 0
 *   'js'              the TS kernel only: the reference
 *
 * Environment: DLC_KERNELS=auto|wasm|js, DLC_THREADS=n (default: every core,
 * os.availableParallelism()). Loading is synchronous, on first use; if
 * gemm.wasm is missing or cannot be compiled, everything runs on the TS
 * kernel and `kernelBackend().note` says why.
 */
import os from 'node:os';
import type { Gemm, GemmOptions } from './gemm.js';
import { gemm, loadGemm, poolOf } from './gemm.js';

export type KernelChoice = 'auto' | 'wasm' | 'js';

export interface KernelBackend {
  /** What was asked for. */
  choice: KernelChoice;
  /** What large products actually run on. */
  kernel: 'wasm' | 'js';
  /** Threads a large product may use (1 = the calling thread only). */
  threads: number;
  /** Why the WebAssembly kernel is not in use, when it was asked for. */
  note?: string;
}

// Crossovers, measured on x64 (AMD EPYC, Node 20; see the issue): below
// these, copying into wasm memory or waking a worker costs more than it saves.
// A product is M*K*N multiply-adds. Even one row (a batch of one) is faster in
// wasm above the first: the TS kernel's few-rows path runs at ~1 GFLOP/s.
/** Smallest product for the WebAssembly kernel (about 10x10x10). */
const MIN_WASM_PRODUCT = 1024;
/** Smallest product worth a second thread (about 100x100x100, 0.05 ms on one: 1.1-1.3x on two). */
const MIN_PRODUCT_PER_THREAD = 1 << 20;

let choice: KernelChoice = parseChoice(process.env.DLC_KERNELS);
let threads = parseThreads(process.env.DLC_THREADS);
let loaded: Gemm | string | undefined;

function parseChoice(value: string | undefined): KernelChoice {
  return value === 'js' || value === 'wasm' ? value : 'auto';
}

function parseThreads(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : os.availableParallelism();
}

/** Select the matmul kernel for this process (overrides DLC_KERNELS). */
export function setKernelBackend(kind: KernelChoice): void {
  choice = kind;
}

/** Let large products use up to `n` threads, this one included (overrides DLC_THREADS). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
  threads = n;
}

/** What matmulInto runs on, loading the WebAssembly kernel if it was asked for and not tried yet. */
export function kernelBackend(): KernelBackend {
  if (choice === 'js') return { choice, kernel: 'js', threads: 1 };
  const g = gemmKernel();
  return typeof g === 'string' ? { choice, kernel: 'js', threads: 1, note: g } : { choice, kernel: 'wasm', threads };
}

/** The loaded kernel, or why there is none. */
export function gemmKernel(): Gemm | string {
  loaded ??= loadGemm();
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
  if (choice === 'js' || K === 0 || M === 0 || N === 0) return false;
  const product = M * K * N;
  if (choice === 'auto' && product < MIN_WASM_PRODUCT) return false;
  const g = gemmKernel();
  if (typeof g === 'string') return false;
  const useThreads = Math.max(1, Math.min(threads, Math.floor(product / MIN_PRODUCT_PER_THREAD)));
  return gemm(g, out, a, b, M, K, N, opts, useThreads);
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
