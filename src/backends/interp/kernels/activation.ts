/**
 * The activation functions, in one place, applied in place to a row-major
 * block of `rows x width` floats. Softmax normalises each row of `width`
 * (the last axis); every other activation is elementwise. Used by the
 * elementwise kernels and as the fused epilogue of matmul, dense and conv.
 * With the WebAssembly kernels loaded they run there (wasm/gemm.wat's
 * activate and softmax_rows: float32, exp within 2 ulp), wherever the data
 * lives, so that results depend on the kernel choice only; else here, in
 * float64 per element.
 */

import { activateWasm } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

/** Apply `act` to `data[offset, offset + rows * width)`. */
export function activateInPlace(
  data: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (data.length - offset) / width,
): void {
  activateInto(data, data, act, width, offset, rows);
}

/** dst = act(src) over `[offset, offset + rows * width)` of both; dst may be src. */
export function activateInto(
  dst: Float32Array,
  src: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (src.length - offset) / width,
): void {
  const end = offset + rows * width;
  if (act !== 'linear' && end > offset && activateWasm(dst.subarray(offset, end), src === dst ? dst.subarray(offset, end) : src.subarray(offset, end), act, width)) {
    return;
  }
  switch (act) {
    case 'linear':
      if (dst !== src) dst.set(src.subarray(offset, end), offset);
      return;
    case 'relu':
      for (let i = offset; i < end; i++) {
        const v = src[i];
        dst[i] = v < 0 ? 0 : v;
      }
      return;
    case 'sigmoid':
      for (let i = offset; i < end; i++) dst[i] = 1 / (1 + Math.exp(-src[i]));
      return;
    case 'tanh':
      for (let i = offset; i < end; i++) dst[i] = Math.tanh(src[i]);
      return;
    case 'softmax':
      for (let r = offset; r < end; r += width) softmaxRow(dst, src, r, width);
      return;
    default:
      throw internal(`unknown activation '${act as string}'`);
  }
}

/** The sigmoid 1 / (1 + e^-x) of one number; e^-x overflows to Infinity for x < -88, giving the correct limit 0. */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Numerically stable softmax of `src[start, start + n)` into dst: subtract the max, sum in float64. */
function softmaxRow(dst: Float32Array, src: Float32Array, start: number, n: number): void {
  const end = start + n;
  let max = -Infinity;
  for (let i = start; i < end; i++) if (src[i] > max) max = src[i];
  let sum = 0;
  for (let i = start; i < end; i++) {
    const e = Math.exp(src[i] - max);
    dst[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = start; i < end; i++) dst[i] *= inv;
}
