/**
 * The dense float32 tensor that dlc's interpreter computes on and its
 * initialisers fill: row-major, batch first (NHWC for images), with the two
 * shape helpers that messages and the initialisers need, and the finite check
 * that weights files and training steps need. The interpreter's
 * kernel helpers (tensor, outputBuffer, ...) live in backends/interp/tensor.ts.
 */

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `[2, 3, 4]` as text, for error messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Whether every value is finite: a plain loop (25.6M values: 25 ms, where `some` with a callback took 173 and `for...of` 147). */
export function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}
