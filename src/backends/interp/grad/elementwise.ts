/**
 * Backward of the shape-preserving and joining kernels (kernels/elementwise.ts;
 * activations are in activation.ts):
 *
 *   dropout  y = x m,  m = 0 or 1/(1-rate)     dx = dy m, m from the stream's values
 *                                              the forward drew and kept
 *   add      y = sum_i x_i                     dx_i = dy
 *   concat   y = [x_1 | x_2 | ...] on `axis`    dx_i = dy's slice of x_i
 */
import type { Tensor } from '../tensor.js';
import { buffer } from './util.js';
import { applyMask } from '../kernels/elementwise.js';

/** `values`: the stream's values the forward kept (dropout's `keep`). */
export function dropoutBackward(dy: Tensor, rate: number, values: Uint32Array): Tensor {
  const dx = buffer(dy.data.length);
  applyMask(dy.data, dx, rate, values);
  return { shape: [...dy.shape], data: dx };
}

/** Splits dy into the pieces that `concat(inputs, axis)` joined; `shapes` are the inputs' shapes. */
export function concatBackward(dy: Tensor, shapes: number[][], axis: number): Tensor[] {
  const rank = dy.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const outer = dy.shape.slice(0, ax).reduce((n, d) => n * d, 1);
  const inner = dy.shape.slice(ax + 1).reduce((n, d) => n * d, 1);
  const outWidth = dy.shape[ax] * inner;
  let offset = 0;
  return shapes.map((shape) => {
    const w = shape[ax] * inner;
    const data = buffer(outer * w);
    for (let r = 0; r < outer; r++) for (let j = 0, from = r * outWidth + offset; j < w; j++) data[r * w + j] = dy.data[from + j];
    offset += w;
    return { shape: [...shape], data };
  });
}
