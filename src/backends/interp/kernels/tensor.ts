/**
 * take, slice, mean, sum and permute (src/ops/tensor.ts), and their
 * backwards. All but permute see one axis of a [B, ...] tensor as
 * [B * outer, n, inner] (AxisLayout):
 *
 *   sliceAxis   y[r, k, i] = x[r, start + k, i]           k < length
 *   padAxis     the adjoint: dy placed at start, zeros elsewhere
 *   reduceAxis  y[r, i] = scale * sum_k x[r, k, i]         (float64 sums)
 *   spreadAxis  the adjoint: dx[r, k, i] = scale * dy[r, i]
 *   permute     y[b, j...] = x[b, i...] with j_k = i_perm[k]; its adjoint is
 *               the inverse permutation
 *
 * `shape` is the result's full shape (batch first), which the caller knows.
 */
import type { AxisLayout } from '../../../ops/tensor.js';
import { outputBuffer, type Tensor } from '../tensor.js';

const rowsOf = (x: Tensor, a: AxisLayout) => x.shape[0] * a.outer;

export function sliceAxis(x: Tensor, a: AxisLayout, start: number, length: number, shape: number[], out?: Float32Array): Tensor {
  const rows = rowsOf(x, a), run = length * a.inner;
  const y = outputBuffer(out, rows * run, 'sliceAxis');
  for (let r = 0; r < rows; r++) {
    const from = (r * a.n + start) * a.inner;
    y.set(x.data.subarray(from, from + run), r * run);
  }
  return { shape, data: y };
}

export function padAxis(dy: Tensor, a: AxisLayout, start: number, length: number, shape: number[], out?: Float32Array): Tensor {
  const rows = dy.shape[0] * a.outer, run = length * a.inner;
  const dx = outputBuffer(out, rows * a.n * a.inner, 'padAxis').fill(0);
  for (let r = 0; r < rows; r++) dx.set(dy.data.subarray(r * run, (r + 1) * run), (r * a.n + start) * a.inner);
  return { shape, data: dx };
}

export function reduceAxis(x: Tensor, a: AxisLayout, scale: number, shape: number[], out?: Float32Array): Tensor {
  const rows = rowsOf(x, a);
  const y = outputBuffer(out, rows * a.inner, 'reduceAxis');
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < a.inner; i++) {
      let acc = 0;
      for (let k = 0, at = r * a.n * a.inner + i; k < a.n; k++, at += a.inner) acc += x.data[at];
      y[r * a.inner + i] = acc * scale;
    }
  }
  return { shape, data: y };
}

export function spreadAxis(dy: Tensor, a: AxisLayout, scale: number, shape: number[], out?: Float32Array): Tensor {
  const rows = dy.shape[0] * a.outer;
  const dx = outputBuffer(out, rows * a.n * a.inner, 'spreadAxis');
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < a.n; k++) {
      const to = (r * a.n + k) * a.inner;
      for (let i = 0; i < a.inner; i++) dx[to + i] = dy.data[r * a.inner + i] * scale;
    }
  }
  return { shape, data: dx };
}

/** y's per-example axis k is x's per-example axis perm[k]; `inDims` is x's per-example shape. */
export function permute(x: Tensor, perm: readonly number[], inDims: readonly number[], out?: Float32Array): Tensor {
  const B = x.shape[0];
  const outDims = perm.map((k) => inDims[k]);
  const size = inDims.reduce((p, n) => p * n, 1);
  const inStrides = inDims.map((_, k) => inDims.slice(k + 1).reduce((p, n) => p * n, 1));
  // The input stride of each output axis: walking y in order reads x at these steps.
  const steps = perm.map((k) => inStrides[k]);
  const y = outputBuffer(out, B * size, 'permute');
  const idx = new Array<number>(perm.length).fill(0);
  for (let b = 0; b < B; b++) {
    idx.fill(0);
    let from = b * size;
    for (let o = 0; o < size; o++) {
      y[b * size + o] = x.data[from];
      // Advance the output index like an odometer, moving `from` with it.
      for (let k = perm.length - 1; k >= 0; k--) {
        if (++idx[k] < outDims[k]) {
          from += steps[k];
          break;
        }
        from -= steps[k] * (outDims[k] - 1);
        idx[k] = 0;
      }
    }
  }
  return { shape: [B, ...outDims], data: y };
}

/** The permutation that undoes `perm` (permute's backward). */
export const inversePerm = (perm: readonly number[]): number[] => perm.map((_, k) => perm.indexOf(k));
