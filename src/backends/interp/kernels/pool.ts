/**
 * Pooling, NHWC, per channel, with TensorFlow's semantics:
 *
 *   maxPool2d / avgPool2d(x [B,H,W,C], {size: [ph,pw], stride, padding}) -> [B,OH,OW,C]
 *   maxPool1d / avgPool1d(x [B,L,C],   {size, stride, padding})          -> [B,OL,C]
 *   globalMaxPool / globalAvgPool(x [B, ...spatial, C])                  -> [B,C]
 *   globalAvgPool(x [B,T,C], out, mask [B*T]): the mean of the real steps only
 *     (mask nonzero), Keras's sum(x mask) / sum(mask): NaN for a sequence of padding only
 *
 * Output sizes and the padding split are those of window.ts (stride defaults
 * to the pool size, as in Keras). Padded cells are not values: max ignores
 * them and the average divides by the number of real cells in the window.
 * The 1-D pools are the 2-D ones with H = 1. 2-D max pooling and global
 * pooling without a mask run in WebAssembly when it is loaded (wasm/gemm.wat's
 * max_pool and global_pool, same rules, same bits). `out`: the planned output
 * buffer (tensor.ts's outputBuffer).
 */
import type { Padding } from './window.js';
import { slidingWindow } from './window.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { globalPoolWasm, maxPoolWasm } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

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

export const maxPool2d = (x: Tensor, opts: Pool2dOptions, out?: Float32Array): Tensor => pool2d(x, opts, 'max', 'maxPool2d', out);
export const avgPool2d = (x: Tensor, opts: Pool2dOptions, out?: Float32Array): Tensor => pool2d(x, opts, 'avg', 'avgPool2d', out);
export const maxPool1d = (x: Tensor, opts: Pool1dOptions, out?: Float32Array): Tensor => pool1d(x, opts, 'max', 'maxPool1d', out);
export const avgPool1d = (x: Tensor, opts: Pool1dOptions, out?: Float32Array): Tensor => pool1d(x, opts, 'avg', 'avgPool1d', out);
export const globalMaxPool = (x: Tensor, out?: Float32Array): Tensor => globalPool(x, 'max', 'globalMaxPool', out);
export const globalAvgPool = (x: Tensor, out?: Float32Array, mask?: Float32Array): Tensor => globalPool(x, 'avg', 'globalAvgPool', out, mask);

function pool2d(x: Tensor, opts: Pool2dOptions, reduce: Reduce, who: string, out?: Float32Array): Tensor {
  if (x.shape.length !== 4) throw internal(`${who}: expected input [B,H,W,C], got ${showShape(x.shape)}`);
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, H, W, C] = x.shape;
  const rowsWin = slidingWindow(H, size[0], stride[0], 1, padding, `${who} (height)`);
  const colsWin = slidingWindow(W, size[1], stride[1], 1, padding, `${who} (width)`);
  const OH = rowsWin.out;
  const OW = colsWin.out;
  const data = outputBuffer(out, B * OH * OW * C, who);
  if (x.data.length < B * H * W * C) throw internal(`${who}: input ${showShape(x.shape)} holds ${x.data.length} values`);
  const args = [B, H, W, C, OH, OW, size, stride, rowsWin.padBefore, colsWin.padBefore] as const;
  if (reduce === 'max' && !maxPoolWasm(data, x.data, ...args)) maxWindows(x.data, data, ...args);
  if (reduce === 'avg') avgWindows(x.data, data, ...args);
  return { shape: [B, OH, OW, C], data };
}

/**
 * Each output pixel's C channels from its window clipped to the real cells
 * (padding contributes nothing), one window cell at a time: contiguous reads.
 * Max keeps a cell only when strictly greater, as TensorFlow (NaN never wins).
 */
function maxWindows(
  xd: Float32Array, od: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number,
): void {
  const rowStride = W * C;
  for (let b = 0, o = 0; b < B; b++) {
    const image = b * H * rowStride;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * stride[0] - padTop;
      const yFrom = y0 < 0 ? 0 : y0;
      const yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - padLeft;
        const xFrom = x0 < 0 ? 0 : x0;
        const xTo = Math.min(x0 + size[1], W);
        for (let c = 0; c < C; c++) od[o + c] = -Infinity;
        for (let iy = yFrom; iy < yTo; iy++) {
          for (let ix = xFrom, src = image + iy * rowStride + xFrom * C; ix < xTo; ix++, src += C) {
            for (let c = 0; c < C; c++) {
              const v = xd[src + c];
              if (v > od[o + c]) od[o + c] = v;
            }
          }
        }
      }
    }
  }
}

/** As maxWindows, summing in float64 and dividing by the number of real cells. */
function avgWindows(
  xd: Float32Array, od: Float32Array, B: number, H: number, W: number, C: number, OH: number, OW: number,
  size: [number, number], stride: [number, number], padTop: number, padLeft: number,
): void {
  if (acc.length < C) acc = new Float64Array(C);
  const sum = acc;
  const rowStride = W * C;
  for (let b = 0, o = 0; b < B; b++) {
    const image = b * H * rowStride;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * stride[0] - padTop;
      const yFrom = y0 < 0 ? 0 : y0;
      const yTo = Math.min(y0 + size[0], H);
      for (let ox = 0; ox < OW; ox++, o += C) {
        const x0 = ox * stride[1] - padLeft;
        const xFrom = x0 < 0 ? 0 : x0;
        const xTo = Math.min(x0 + size[1], W);
        sum.fill(0, 0, C);
        for (let iy = yFrom; iy < yTo; iy++) {
          for (let ix = xFrom, src = image + iy * rowStride + xFrom * C; ix < xTo; ix++, src += C) {
            for (let c = 0; c < C; c++) sum[c] += xd[src + c];
          }
        }
        const count = (yTo - yFrom) * (xTo - xFrom);
        for (let c = 0; c < C; c++) od[o + c] = sum[c] / count;
      }
    }
  }
}

/** Float64 sums of one output pixel, reused. */
let acc = new Float64Array(64);

function pool1d(x: Tensor, opts: Pool1dOptions, reduce: Reduce, who: string, out?: Float32Array): Tensor {
  if (x.shape.length !== 3) throw internal(`${who}: expected input [B,L,C], got ${showShape(x.shape)}`);
  const { size, stride = size, padding = 'valid' } = opts;
  const [B, L, C] = x.shape;
  const y = pool2d({ shape: [B, 1, L, C], data: x.data }, { size: [1, size], stride: [1, stride], padding }, reduce, who, out);
  return { shape: [B, y.shape[2], C], data: y.data };
}

/** Reduce every axis between the batch and the channels. */
function globalPool(x: Tensor, reduce: Reduce, who: string, out?: Float32Array, mask?: Float32Array): Tensor {
  if (x.shape.length < 3) throw internal(`${who}: expected input [B, ...spatial, C], got ${showShape(x.shape)}`);
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const cells = x.shape.slice(1, -1).reduce((n, d) => n * d, 1);
  const xd = x.data;
  const data = outputBuffer(out, B * C, who);
  if (!mask && xd.length >= B * cells * C && globalPoolWasm(data, xd.subarray(0, B * cells * C), B, cells, C, reduce === 'max')) return { shape: [B, C], data };
  if (acc.length < C) acc = new Float64Array(C);
  const sum = acc;
  for (let b = 0; b < B; b++) {
    sum.fill(reduce === 'max' ? -Infinity : 0, 0, C);
    let count = reduce === 'max' ? 1 : cells;
    if (mask) count = mask.subarray(b * cells, (b + 1) * cells).reduce((n, m) => n + (m !== 0 ? 1 : 0), 0);
    for (let s = 0, src = b * cells * C; s < cells; s++, src += C) {
      if (mask && mask[b * cells + s] === 0) continue;
      if (reduce === 'max') {
        for (let c = 0; c < C; c++) if (xd[src + c] > sum[c]) sum[c] = xd[src + c];
      } else {
        for (let c = 0; c < C; c++) sum[c] += xd[src + c];
      }
    }
    for (let c = 0; c < C; c++) data[b * C + c] = sum[c] / count;
  }
  return { shape: [B, C], data };
}
