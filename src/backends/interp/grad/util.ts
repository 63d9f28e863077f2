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
import { columnSumsWasm, heap } from '../wasm/index.js';

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
export const keep = (data: Float32Array): Float32Array => data.slice();

let sums = new Float64Array(64);

/** The sum of each of the n columns of a row-major [rows, n] block (a bias gradient), in float64. */
export function columnSums(data: Float32Array, rows: number, n: number): Float32Array {
  const out = buffer(n);
  if (columnSumsWasm(out, data, rows, n)) return out;
  if (sums.length < n) sums = new Float64Array(n);
  const acc = sums.fill(0, 0, n);
  for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < n; j++, o++) acc[j] += data[o];
  for (let j = 0; j < n; j++) out[j] = acc[j];
  return out;
}

/** dst += src, elementwise. */
export function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}
