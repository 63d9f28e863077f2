/**
 * Backward of the pools (kernels/pool.ts), same windows (window.ts):
 *
 *   max  each output's gradient goes to the cell that was the max of its
 *        window; on ties to the first in row-major window order, the one the
 *        forward's strict `>` keeps (TensorFlow's and tfjs's argmax).
 *        Windows overlap when stride < size: a cell collects from each.
 *   avg  each output's gradient is spread evenly over the real cells of its
 *        window (the forward divides by their count; padding gets nothing).
 *   global max / avg: the same over all spatial cells, per channel.
 */
import type { Pool1dOptions, Pool2dOptions } from '../kernels/pool.js';
import { slidingWindow } from '../kernels/window.js';
import type { Tensor } from '../tensor.js';

type Reduce = 'max' | 'avg';

export const maxPool2dBackward = (x: Tensor, dy: Tensor, opts: Pool2dOptions): Tensor => pool2dBackward(x, dy, opts, 'max');
export const avgPool2dBackward = (x: Tensor, dy: Tensor, opts: Pool2dOptions): Tensor => pool2dBackward(x, dy, opts, 'avg');
export const maxPool1dBackward = (x: Tensor, dy: Tensor, opts: Pool1dOptions): Tensor => pool1dBackward(x, dy, opts, 'max');
export const avgPool1dBackward = (x: Tensor, dy: Tensor, opts: Pool1dOptions): Tensor => pool1dBackward(x, dy, opts, 'avg');

function pool2dBackward(x: Tensor, dy: Tensor, opts: Pool2dOptions, reduce: Reduce): Tensor {
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, H, W, C] = x.shape;
  const rowsWin = slidingWindow(H, size[0], stride[0], 1, padding, 'pool (height)');
  const colsWin = slidingWindow(W, size[1], stride[1], 1, padding, 'pool (width)');
  const OH = rowsWin.out, OW = colsWin.out;
  const xd = x.data, g = dy.data;
  const dx = new Float32Array(xd.length);
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * stride[0] - rowsWin.padBefore;
      const yFrom = Math.max(y0, 0), yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - colsWin.padBefore;
        const xFrom = Math.max(x0, 0), xTo = Math.min(x0 + size[1], W);
        if (reduce === 'avg') {
          const inv = 1 / ((yTo - yFrom) * (xTo - xFrom));
          for (let iy = yFrom; iy < yTo; iy++) {
            for (let ix = xFrom; ix < xTo; ix++) {
              const dst = ((b * H + iy) * W + ix) * C;
              for (let c = 0; c < C; c++) dx[dst + c] += g[o + c] * inv;
            }
          }
          continue;
        }
        best.fill(-Infinity);
        at.fill(-1);
        for (let iy = yFrom; iy < yTo; iy++) {
          for (let ix = xFrom; ix < xTo; ix++) {
            const src = ((b * H + iy) * W + ix) * C;
            for (let c = 0; c < C; c++) {
              if (xd[src + c] > best[c]) {
                best[c] = xd[src + c];
                at[c] = src + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += g[o + c];
      }
    }
  }
  return { shape: [...x.shape], data: dx };
}

function pool1dBackward(x: Tensor, dy: Tensor, opts: Pool1dOptions, reduce: Reduce): Tensor {
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, L, C] = x.shape;
  const dx = pool2dBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [B, 1, dy.shape[1], C], data: dy.data },
    { size: [1, size], stride: [1, stride], padding },
    reduce,
  );
  return { shape: [...x.shape], data: dx.data };
}

export function globalMaxPoolBackward(x: Tensor, dy: Tensor): Tensor {
  const { B, C, cells } = globalGeometry(x);
  const xd = x.data;
  const dx = new Float32Array(xd.length);
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

export function globalAvgPoolBackward(x: Tensor, dy: Tensor): Tensor {
  const { B, C, cells } = globalGeometry(x);
  const dx = new Float32Array(x.data.length);
  for (let b = 0; b < B; b++) {
    for (let s = 0, dst = b * cells * C; s < cells; s++, dst += C) {
      for (let c = 0; c < C; c++) dx[dst + c] = dy.data[b * C + c] / cells;
    }
  }
  return { shape: [...x.shape], data: dx };
}

function globalGeometry(x: Tensor) {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  return { B, C, cells: x.data.length / Math.max(B * C, 1) };
}
