/**
 * Small helpers shared by the backward kernels, and the training step's
 * memory.
 *
 * While a training step runs (autodiff.ts opens it with duringStep), every
 * activation it keeps and every gradient it forms is taken from the kernel
 * heap's scratch stack (wasm/heap.ts), and all of it is given back when the
 * step ends; the step's results leave as copies. So once the heap has grown
 * to the first step's size, a step allocates no buffer, and the WebAssembly
 * kernels find their operands in place. Outside a step (a backward called on
 * its own), the same calls allocate.
 *
 * The rule that keeps this sound: never take step memory inside a
 * withScratch block (it would be given back when the block ends).
 */
import type { Heap } from '../wasm/heap.js';
import { blockSumsWasm, heap } from '../wasm/index.js';
import { copyOf } from '../tensor.js';

let step: Heap | null = null;

/** Run one training step's `fn` with its memory; what `fn` returns must not be step memory. */
export function duringStep<T>(fn: () => T): T {
  if (step) return fn(); // a nested call is part of the enclosing step
  const h = heap();
  const mark = h.mark();
  step = h;
  try {
    return fn();
  } finally {
    step = null;
    h.release(mark);
  }
}

/** n floats of undefined contents, for a result its maker writes in full. */
export function buffer(n: number): Float32Array {
  return step ? step.take(n) : new Float32Array(n);
}

/** n zero floats. */
export function zeros(n: number): Float32Array {
  return step ? step.take(n).fill(0) : new Float32Array(n);
}

/** A copy that outlives the step. */
export const keep = copyOf;

/** Rows summed on their own before the blocks' sums are added up (see columnSums). */
const SUM_BLOCK = 1024;
let sums = new Float64Array(64);

/**
 * The sum of each of the n columns of a row-major [rows, n] block (a bias
 * gradient), in float64, rounded once: each block of SUM_BLOCK rows summed
 * in order, then the blocks' sums in order. Blocks, so that the WebAssembly
 * kernel can share them out between threads (wasm/index.ts blockSumsWasm)
 * and give the same sums on any number of them.
 */
export function columnSums(data: Float32Array, rows: number, n: number): Float32Array {
  const out = buffer(n);
  const blocks = Math.max(1, Math.ceil(rows / SUM_BLOCK));
  if (sums.length < n * blocks) sums = new Float64Array(n * blocks);
  const partial = sums.subarray(0, n * blocks).fill(0);
  if (!blockSumsWasm(partial, data, rows, n, SUM_BLOCK)) {
    for (let r = 0, o = 0; r < rows; r++) for (let j = 0, at = Math.floor(r / SUM_BLOCK) * n; j < n; j++, o++) partial[at + j] += data[o];
  }
  for (let j = 0; j < n; j++) {
    let total = 0;
    for (let b = 0; b < blocks; b++) total += partial[b * n + j];
    out[j] = total;
  }
  return out;
}

/** dst += src, elementwise. */
export function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}
