/**
 * The dense float32 tensor that dlc's interpreter computes on and its
 * initialisers fill: row-major, batch first (NHWC for images), with the two
 * shape helpers that messages and the initialisers need. The interpreter's
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
