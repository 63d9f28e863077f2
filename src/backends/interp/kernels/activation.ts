/**
 * The activation functions, in one place, applied in place to a row-major
 * block of `rows x width` floats. Softmax normalises each row of `width`
 * (the last axis); every other activation is elementwise. Used by the
 * elementwise kernels and as the fused epilogue of matmul, dense and conv.
 */

export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

/** Apply `act` to `data[offset, offset + rows * width)`. */
export function activateInPlace(
  data: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (data.length - offset) / width,
): void {
  const end = offset + rows * width;
  switch (act) {
    case 'linear':
      return;
    case 'relu':
      for (let i = offset; i < end; i++) if (data[i] < 0) data[i] = 0;
      return;
    case 'sigmoid':
      for (let i = offset; i < end; i++) data[i] = logistic(data[i]);
      return;
    case 'tanh':
      for (let i = offset; i < end; i++) data[i] = Math.tanh(data[i]);
      return;
    case 'softmax':
      for (let r = offset; r < end; r += width) softmaxRow(data, r, width);
      return;
    default:
      throw new Error(`unknown activation '${act as string}'`);
  }
}

/** The sigmoid 1 / (1 + e^-x) of one number; e^-x overflows to Infinity for x < -88, giving the correct limit 0. */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Numerically stable softmax of `data[start, start + n)`: subtract the max, sum in float64. */
function softmaxRow(data: Float32Array, start: number, n: number): void {
  const end = start + n;
  let max = -Infinity;
  for (let i = start; i < end; i++) if (data[i] > max) max = data[i];
  let sum = 0;
  for (let i = start; i < end; i++) {
    const e = Math.exp(data[i] - max);
    data[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = start; i < end; i++) data[i] *= inv;
}
