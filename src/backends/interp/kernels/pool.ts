/**
 * Pooling, NHWC, per channel, with TensorFlow's semantics:
 *
 *   maxPool2d / avgPool2d(x [B,H,W,C], {size: [ph,pw], stride, padding}) -> [B,OH,OW,C]
 *   maxPool1d / avgPool1d(x [B,L,C],   {size, stride, padding})          -> [B,OL,C]
 *   globalMaxPool / globalAvgPool(x [B, ...spatial, C])                  -> [B,C]
 *
 * Output sizes and the padding split are those of window.ts (stride defaults
 * to the pool size, as in Keras). Padded cells are not values: max ignores
 * them and the average divides by the number of real cells in the window.
 * The 1-D pools are the 2-D ones with H = 1.
 */
import type { Padding } from './window.js';
import { slidingWindow } from './window.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';

export interface Pool2dOptions {
  size: [number, number];
  stride?: [number, number];
  padding?: Padding;
}

export interface Pool1dOptions {
  size: number;
  stride?: number;
  padding?: Padding;
}

type Reduce = 'max' | 'avg';

export const maxPool2d = (x: Tensor, opts: Pool2dOptions): Tensor => pool2d(x, opts, 'max', 'maxPool2d');
export const avgPool2d = (x: Tensor, opts: Pool2dOptions): Tensor => pool2d(x, opts, 'avg', 'avgPool2d');
export const maxPool1d = (x: Tensor, opts: Pool1dOptions): Tensor => pool1d(x, opts, 'max', 'maxPool1d');
export const avgPool1d = (x: Tensor, opts: Pool1dOptions): Tensor => pool1d(x, opts, 'avg', 'avgPool1d');
export const globalMaxPool = (x: Tensor): Tensor => globalPool(x, 'max', 'globalMaxPool');
export const globalAvgPool = (x: Tensor): Tensor => globalPool(x, 'avg', 'globalAvgPool');

function pool2d(x: Tensor, opts: Pool2dOptions, reduce: Reduce, who: string): Tensor {
  if (x.shape.length !== 4) throw new Error(`${who}: expected input [B,H,W,C], got ${showShape(x.shape)}`);
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, H, W, C] = x.shape;
  const rowsWin = slidingWindow(H, size[0], stride[0], 1, padding, `${who} (height)`);
  const colsWin = slidingWindow(W, size[1], stride[1], 1, padding, `${who} (width)`);
  const OH = rowsWin.out;
  const OW = colsWin.out;
  const xd = x.data;
  const out = new Float32Array(B * OH * OW * C);
  // Accumulate each output pixel's C channels in float64, one window cell at a time (contiguous reads).
  const acc = new Float64Array(C);
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      // Clip the window to the real rows and columns: padding contributes nothing.
      const y0 = oy * stride[0] - rowsWin.padBefore;
      const yFrom = Math.max(y0, 0);
      const yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - colsWin.padBefore;
        const xFrom = Math.max(x0, 0);
        const xTo = Math.min(x0 + size[1], W);
        acc.fill(reduce === 'max' ? -Infinity : 0);
        for (let iy = yFrom; iy < yTo; iy++) {
          for (let ix = xFrom; ix < xTo; ix++) {
            const src = ((b * H + iy) * W + ix) * C;
            if (reduce === 'max') {
              for (let c = 0; c < C; c++) if (xd[src + c] > acc[c]) acc[c] = xd[src + c];
            } else {
              for (let c = 0; c < C; c++) acc[c] += xd[src + c];
            }
          }
        }
        const count = reduce === 'max' ? 1 : (yTo - yFrom) * (xTo - xFrom);
        for (let c = 0; c < C; c++) out[o + c] = acc[c] / count;
      }
    }
  }
  return { shape: [B, OH, OW, C], data: out };
}

function pool1d(x: Tensor, opts: Pool1dOptions, reduce: Reduce, who: string): Tensor {
  if (x.shape.length !== 3) throw new Error(`${who}: expected input [B,L,C], got ${showShape(x.shape)}`);
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, L, C] = x.shape;
  const y = pool2d({ shape: [B, 1, L, C], data: x.data }, { size: [1, size], stride: [1, stride], padding }, reduce, who);
  return { shape: [B, y.shape[2], C], data: y.data };
}

/** Reduce every axis between the batch and the channels. */
function globalPool(x: Tensor, reduce: Reduce, who: string): Tensor {
  if (x.shape.length < 3) throw new Error(`${who}: expected input [B, ...spatial, C], got ${showShape(x.shape)}`);
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const cells = x.shape.slice(1, -1).reduce((n, d) => n * d, 1);
  const xd = x.data;
  const out = new Float32Array(B * C);
  const acc = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    acc.fill(reduce === 'max' ? -Infinity : 0);
    for (let s = 0, src = b * cells * C; s < cells; s++, src += C) {
      if (reduce === 'max') {
        for (let c = 0; c < C; c++) if (xd[src + c] > acc[c]) acc[c] = xd[src + c];
      } else {
        for (let c = 0; c < C; c++) acc[c] += xd[src + c];
      }
    }
    const count = reduce === 'max' ? 1 : cells;
    for (let c = 0; c < C; c++) out[b * C + c] = acc[c] / count;
  }
  return { shape: [B, C], data: out };
}
