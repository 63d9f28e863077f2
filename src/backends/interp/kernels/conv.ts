/**
 * Convolution as TensorFlow and Keras define it: cross-correlation (the
 * kernel is not flipped), NHWC, no groups.
 *
 *   conv2d(x [B,H,W,C], kernel [kh,kw,C,F], bias [F] | null, opts) -> [B,OH,OW,F]
 *   conv1d(x [B,L,C],   kernel [k,C,F],     bias [F] | null, opts) -> [B,OL,F]
 *
 *   out[b,oy,ox,f] = act(bias[f] + sum_{ky,kx,c} x[b, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] * kernel[ky,kx,c,f])
 *
 * with cells outside the input reading as zero; output sizes and the padding
 * split (pt, pl) follow TensorFlow (see window.ts). conv1d is conv2d with H = 1.
 *
 * Implementation: im2col. Each output position becomes one row of kh*kw*C
 * input values (in the kernel's own [kh,kw,C] order), so the whole layer is
 * one matmul with the kernel viewed as [kh*kw*C, F], bias and activation fused.
 * Rows are built in chunks into a reused scratch buffer to bound memory.
 */
import type { Activation } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Padding } from './window.js';
import { slidingWindow } from './window.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';

export interface Conv2dOptions {
  stride?: [number, number];
  padding?: Padding;
  dilation?: [number, number];
  activation?: Activation;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: Padding;
  dilation?: number;
  activation?: Activation;
}

/** Upper bound on the im2col scratch, in floats (4 MB). */
const CHUNK_FLOATS = 1 << 20;
let cols = new Float32Array(0);

export function conv2d(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  return convolve(x, kernel, bias, opts, 'conv2d');
}

/** conv2d, naming `who` in its errors. */
function convolve(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions, who: string): Tensor {
  const { stride = [1, 1], padding = 'valid', dilation = [1, 1], activation = 'linear' } = opts;
  if (x.shape.length !== 4 || kernel.shape.length !== 4 || kernel.shape[2] !== x.shape[3]) {
    throw new Error(`${who}: input ${showShape(x.shape)} does not fit kernel ${showShape(kernel.shape)}`);
  }
  const [B, H, W, C] = x.shape;
  const [kh, kw, , F] = kernel.shape;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== F)) {
    throw new Error(`${who}: bias ${showShape(bias.shape)} does not match ${F} filters`);
  }
  const rowsWin = slidingWindow(H, kh, stride[0], dilation[0], padding, `${who} (height)`);
  const colsWin = slidingWindow(W, kw, stride[1], dilation[1], padding, `${who} (width)`);
  const OH = rowsWin.out;
  const OW = colsWin.out;
  const positions = B * OH * OW;
  const depth = kh * kw * C;
  const out = new Float32Array(positions * F);
  const epilogue = { bias: bias?.data ?? null, activation };

  // A 1x1 kernel with unit stride reads each pixel once, in order: x already is the im2col matrix.
  if (kh === 1 && kw === 1 && OH === H && OW === W && rowsWin.padBefore === 0 && colsWin.padBefore === 0) {
    matmulInto(out, x.data, kernel.data, positions, C, F, epilogue);
    return { shape: [B, OH, OW, F], data: out };
  }

  const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(depth, 1)));
  if (cols.length < Math.min(chunk, positions) * depth) cols = new Float32Array(Math.min(chunk, positions) * depth);
  const xd = x.data;
  for (let p0 = 0; p0 < positions; p0 += chunk) {
    const p1 = Math.min(positions, p0 + chunk);
    // Fill one im2col row per output position p = (b*OH + oy)*OW + ox.
    for (let p = p0, r = 0; p < p1; p++) {
      const ox = p % OW;
      const oy = Math.floor(p / OW) % OH;
      const b = Math.floor(p / (OW * OH));
      const y0 = oy * stride[0] - rowsWin.padBefore;
      const x0 = ox * stride[1] - colsWin.padBefore;
      for (let ky = 0; ky < kh; ky++) {
        const iy = y0 + ky * dilation[0];
        const rowInside = iy >= 0 && iy < H;
        for (let kx = 0; kx < kw; kx++, r += C) {
          const ix = x0 + kx * dilation[1];
          if (rowInside && ix >= 0 && ix < W) {
            const src = ((b * H + iy) * W + ix) * C;
            for (let c = 0; c < C; c++) cols[r + c] = xd[src + c];
          } else {
            cols.fill(0, r, r + C);
          }
        }
      }
    }
    matmulInto(out.subarray(p0 * F, p1 * F), cols, kernel.data, p1 - p0, depth, F, epilogue);
  }
  return { shape: [B, OH, OW, F], data: out };
}

export function conv1d(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  if (x.shape.length !== 3 || kernel.shape.length !== 3) {
    throw new Error(`conv1d: expected input [B,L,C] and kernel [k,C,F], got ${showShape(x.shape)} and ${showShape(kernel.shape)}`);
  }
  const { stride = 1, padding = 'valid', dilation = 1, activation = 'linear' } = opts;
  const [B, L, C] = x.shape;
  const y = convolve(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    bias,
    { stride: [1, stride], padding, dilation: [1, dilation], activation },
    'conv1d',
  );
  return { shape: [B, y.shape[2], y.shape[3]], data: y.data };
}
