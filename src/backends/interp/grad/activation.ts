/**
 * Backward of the activations (activation.ts), from the forward's output y:
 * every activation here has a derivative that is a function of y alone.
 *
 *   relu     y = max(0, x)          dx = dy [y > 0]          (0 at the kink, as TensorFlow)
 *   sigmoid  y = 1 / (1 + e^-x)     dx = dy y (1 - y)
 *   tanh     y = tanh x             dx = dy (1 - y^2)
 *   softmax  y = e^x / sum e^x      dx = y (dy - sum_j dy_j y_j)   per row of `width`
 *   linear   y = x                  dx = dy
 */
import type { Activation } from '../kernels/activation.js';
import { reluGradWasm } from '../wasm/index.js';
import { buffer } from './util.js';
import { internal } from '../../../diagnostics.js';

/** dx[offset, offset + rows*width) from y and dy over the same range; dx may alias dy. */
export function activationGradInto(
  dx: Float32Array,
  y: Float32Array,
  dy: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (y.length - offset) / width,
): void {
  const end = offset + rows * width;
  switch (act) {
    case 'linear':
      if (dx !== dy) dx.set(dy.subarray(offset, end), offset);
      return;
    case 'relu':
      if (end > offset && reluGradWasm(dx.subarray(offset, end), y.subarray(offset, end), dy.subarray(offset, end))) return;
      for (let i = offset; i < end; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
      return;
    case 'sigmoid':
      for (let i = offset; i < end; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
      return;
    case 'tanh':
      for (let i = offset; i < end; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
      return;
    case 'softmax':
      for (let r = offset; r < end; r += width) {
        let dot = 0;
        for (let i = r; i < r + width; i++) dot += dy[i] * y[i];
        for (let i = r; i < r + width; i++) dx[i] = y[i] * (dy[i] - dot);
      }
      return;
    default:
      throw internal(`unknown activation '${act as string}'`);
  }
}

/** A fresh dx for y = act(x) over a whole tensor's data, rows of `width` (the last axis). */
export function activationGrad(y: Float32Array, dy: Float32Array, act: Activation, width: number): Float32Array {
  const dx = buffer(y.length);
  activationGradInto(dx, y, dy, act, width);
  return dx;
}
