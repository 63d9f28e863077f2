/**
 * Backward of the pools (kernels/pool.ts), same windows (window.ts):
 *
 *   max  each output's gradient goes to the cell that was the max of its
 *        window; on ties to the first in row-major window order, the one the
 *        forward's strict `>` keeps (TensorFlow's and tfjs's argmax).
 *        Windows overlap when stride < size: a cell collects from each.
 *        With `reluMask` (x is a relu's output, and the pool its only
 *        reader), only a maximum above 0 takes the gradient: relu's backward
 *        (dx = y > 0 ? dy : 0) folded in, bit for bit, since the one cell of a
 *        window that gets anything is its max; the relu then skips its pass.
 *   avg  each output's gradient is spread evenly over the real cells of its
 *        window (the forward divides by their count; padding gets nothing).
 *   global max / avg: the same over all spatial cells, per channel.
 *
 * 2-D max pooling's backward runs in WebAssembly when it is loaded
 * (wasm/gemm.wat's max_pool_grad, the same rule).
 */
import type { Pool1dOptions, Pool2dOptions } from '../kernels/pool.js';
import { slidingWindow } from '../kernels/window.js';
import type { Tensor } from '../tensor.js';
import { maxPoolGradWasm } from '../wasm/index.js';
import { buffer, zeros } from './util.js';

type Reduce = 'max' | 'avg';

export const maxPool2dBackward = (x: Tensor, dy: Tensor, opts: Pool2dOptions, reluMask = false): Tensor => pool2dBackward(x, dy, opts, 'max', reluMask);
export const avgPool2dBackward = (x: Tensor, dy: Tensor, opts: Pool2dOptions): Tensor => pool2dBackward(x, dy, opts, 'avg');
export const maxPool1dBackward = (x: Tensor, dy: Tensor, opts: Pool1dOptions, reluMask = false): Tensor => pool1dBackward(x, dy, opts, 'max', reluMask);
export const avgPool1dBackward = (x: Tensor, dy: Tensor, opts: Pool1dOptions): Tensor => pool1dBackward(x, dy, opts, 'avg');

function pool2dBackward(x: Tensor, dy: Tensor, opts: Pool2dOptions, reduce: Reduce, reluMask = false): Tensor {
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, H, W, C] = x.shape;
  const rowsWin = slidingWindow(H, size[0], stride[0], 1, padding, 'pool (height)');
  const colsWin = slidingWindow(W, size[1], stride[1], 1, padding, 'pool (width)');
  const OH = rowsWin.out, OW = colsWin.out;
  const args = [B, H, W, C, OH, OW, size, stride, rowsWin.padBefore, colsWin.padBefore] as const;
  // The WebAssembly kernel writes dx in full; the TS ones add into zeros.
  let dx = buffer(x.data.length);
  if (reduce === 'max' && maxPoolGradWasm(dx, x.data, dy.data, ...args, reluMask)) return { shape: [...x.shape], data: dx };
  dx = dx.fill(0);
  if (reduce === 'avg') avgWindowsBackward(dx, dy.data, ...args);
  else maxWindowsBackward(dx, x.data, dy.data, ...args, reluMask ? 0 : -Infinity);
  return { shape: [...x.shape], data: dx };
}

/** dx += each output's gradient at its window's first maximal cell above `floor` (the TS twin of gemm.wat's max_pool_grad). */
function maxWindowsBackward(
  dx: Float32Array, xd: Float32Array, g: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number, floor: number,
): void {
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * stride[0] - padTop;
      const yFrom = Math.max(y0, 0), yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - padLeft;
        const xFrom = Math.max(x0, 0), xTo = Math.min(x0 + size[1], W);
        for (let c = 0; c < C; c++) {
          let best = floor, at = -1;
          for (let iy = yFrom; iy < yTo; iy++) {
            for (let ix = xFrom, i = ((b * H + iy) * W + xFrom) * C + c; ix < xTo; ix++, i += C) {
              if (xd[i] > best) {
                best = xd[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += g[o + c];
        }
      }
    }
  }
}

/** dx += each output's gradient spread evenly over its window's real cells. */
function avgWindowsBackward(
  dx: Float32Array, g: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number,
): void {
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * stride[0] - padTop;
      const yFrom = Math.max(y0, 0), yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - padLeft;
        const xFrom = Math.max(x0, 0), xTo = Math.min(x0 + size[1], W);
        const inv = 1 / ((yTo - yFrom) * (xTo - xFrom));
        for (let iy = yFrom; iy < yTo; iy++) {
          for (let ix = xFrom, dst = ((b * H + iy) * W + xFrom) * C; ix < xTo; ix++, dst += C) {
            for (let c = 0; c < C; c++) dx[dst + c] += g[o + c] * inv;
          }
        }
      }
    }
  }
}

function pool1dBackward(x: Tensor, dy: Tensor, opts: Pool1dOptions, reduce: Reduce, reluMask = false): Tensor {
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, L, C] = x.shape;
  const dx = pool2dBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [B, 1, dy.shape[1], C], data: dy.data },
    { size: [1, size], stride: [1, stride], padding },
    reduce,
    reluMask,
  );
  return { shape: [...x.shape], data: dx.data };
}

export function globalMaxPoolBackward(x: Tensor, dy: Tensor): Tensor {
  const { B, C, cells } = globalGeometry(x);
  const xd = x.data;
  const dx = zeros(xd.length);
  for (let b = 0; b < B; b++) {
    const base = b * cells * C;
    for (let c = 0; c < C; c++) {
      let at = base + c;
      for (let src = at + C; src < base + cells * C; src += C) if (xd[src] > xd[at]) at = src;
      dx[at] = dy.data[b * C + c];
    }
  }
  return { shape: [...x.shape], data: dx };
}

/** dy / count to each real cell (all, or the steps `mask` keeps: kernels/pool.ts); padded steps take none. */
export function globalAvgPoolBackward(x: Tensor, dy: Tensor, mask?: Float32Array): Tensor {
  const { B, C, cells } = globalGeometry(x);
  const dx = zeros(x.data.length);
  for (let b = 0; b < B; b++) {
    const count = mask ? mask.subarray(b * cells, (b + 1) * cells).reduce((n, m) => n + (m !== 0 ? 1 : 0), 0) : cells;
    for (let s = 0, dst = b * cells * C; s < cells; s++, dst += C) {
      if (mask && mask[b * cells + s] === 0) continue;
      for (let c = 0; c < C; c++) dx[dst + c] = dy.data[b * C + c] / count;
    }
  }
  return { shape: [...x.shape], data: dx };
}

function globalGeometry(x: Tensor) {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  return { B, C, cells: x.data.length / Math.max(B * C, 1) };
}
