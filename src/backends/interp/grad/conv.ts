/**
 * Backward of conv1d and conv2d (kernels/conv.ts), given dz = d loss / d(conv
 * + bias) [B,OH,OW,F], the gradient before the activation.
 *
 * The forward is one matmul on the im2col matrix: z [P, F] = cols [P, D] W [D, F]
 * with P = B*OH*OW output positions and D = kh*kw*C. So, chunk by chunk of
 * positions, exactly as the forward builds cols:
 *
 *   dW    = cols^T dz               (im2col again, then one matmul)
 *   dcols = dz W^T;  dx = col2im(dcols)   (col2im is im2col's adjoint: it
 *                                   adds each entry back to the input cell it was read from;
 *                                   padded cells read as zero and receive nothing)
 *   db    = sum over positions of dz
 *
 * A 1x1 kernel at unit stride has cols = x, as in the forward.
 */
import { matmulInto } from '../kernels/matmul.js';
import type { Padding, Window } from '../kernels/window.js';
import { slidingWindow } from '../kernels/window.js';
import type { Tensor } from '../tensor.js';
import type { LayerGrads, Want } from './dense.js';
import { columnSums } from './util.js';

export interface ConvGeometry {
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
}

/** Same bound as the forward's scratch (4 MB per buffer). */
const CHUNK_FLOATS = 1 << 20;
let cols = new Float32Array(0);
let dcols = new Float32Array(0);

interface Shape {
  H: number; W: number; C: number;
  kh: number; kw: number; F: number;
  rows: Window; cols: Window;
  geo: ConvGeometry;
}

/** cols[r, :] for output positions p0..p1: the kh*kw*C input values each reads, in the kernel's order. */
function im2col(out: Float32Array, xd: Float32Array, s: Shape, p0: number, p1: number): void {
  const { H, W, C, kh, kw, geo } = s;
  const OH = s.rows.out, OW = s.cols.out;
  for (let p = p0, r = 0; p < p1; p++) {
    const ox = p % OW;
    const oy = Math.floor(p / OW) % OH;
    const b = Math.floor(p / (OW * OH));
    const y0 = oy * geo.stride[0] - s.rows.padBefore;
    const x0 = ox * geo.stride[1] - s.cols.padBefore;
    for (let ky = 0; ky < kh; ky++) {
      const iy = y0 + ky * geo.dilation[0];
      const rowInside = iy >= 0 && iy < H;
      for (let kx = 0; kx < kw; kx++, r += C) {
        const ix = x0 + kx * geo.dilation[1];
        if (rowInside && ix >= 0 && ix < W) {
          const src = ((b * H + iy) * W + ix) * C;
          for (let c = 0; c < C; c++) out[r + c] = xd[src + c];
        } else out.fill(0, r, r + C);
      }
    }
  }
}

/** The adjoint of im2col: dx[cell] += dcols[r, :] for every real input cell the rows of p0..p1 read. */
function col2im(dx: Float32Array, dc: Float32Array, s: Shape, p0: number, p1: number): void {
  const { H, W, C, kh, kw, geo } = s;
  const OH = s.rows.out, OW = s.cols.out;
  for (let p = p0, r = 0; p < p1; p++) {
    const ox = p % OW;
    const oy = Math.floor(p / OW) % OH;
    const b = Math.floor(p / (OW * OH));
    const y0 = oy * geo.stride[0] - s.rows.padBefore;
    const x0 = ox * geo.stride[1] - s.cols.padBefore;
    for (let ky = 0; ky < kh; ky++) {
      const iy = y0 + ky * geo.dilation[0];
      const rowInside = iy >= 0 && iy < H;
      for (let kx = 0; kx < kw; kx++, r += C) {
        const ix = x0 + kx * geo.dilation[1];
        if (rowInside && ix >= 0 && ix < W) {
          const dst = ((b * H + iy) * W + ix) * C;
          for (let c = 0; c < C; c++) dx[dst + c] += dc[r + c];
        }
      }
    }
  }
}

export function conv2dBackward(x: Tensor, kernel: Tensor, dz: Tensor, geo: ConvGeometry, want: Want): LayerGrads {
  const [B, H, W, C] = x.shape;
  const [kh, kw, , F] = kernel.shape;
  const s: Shape = {
    H, W, C, kh, kw, F, geo,
    rows: slidingWindow(H, kh, geo.stride[0], geo.dilation[0], geo.padding, 'conv2d (height)'),
    cols: slidingWindow(W, kw, geo.stride[1], geo.dilation[1], geo.padding, 'conv2d (width)'),
  };
  const positions = B * s.rows.out * s.cols.out;
  const depth = kh * kw * C;
  const dBias = want.bias ? { shape: [F], data: columnSums(dz.data, positions, F) } : null;
  const dK = want.kernel ? new Float32Array(depth * F) : null;
  const dX = want.input ? new Float32Array(x.data.length) : null;

  const direct = kh === 1 && kw === 1 && s.rows.out === H && s.cols.out === W && s.rows.padBefore === 0 && s.cols.padBefore === 0;
  if (direct) {
    if (dK) matmulInto(dK, x.data, dz.data, C, positions, F, { transA: true });
    if (dX) matmulInto(dX, dz.data, kernel.data, positions, F, C, { transB: true });
  } else {
    const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(depth, 1)));
    const need = Math.min(chunk, positions) * depth;
    if (dK && cols.length < need) cols = new Float32Array(need);
    if (dX && dcols.length < need) dcols = new Float32Array(need);
    for (let p0 = 0; p0 < positions; p0 += chunk) {
      const p1 = Math.min(positions, p0 + chunk);
      const n = p1 - p0;
      const dzChunk = dz.data.subarray(p0 * F, p1 * F);
      if (dK) {
        im2col(cols, x.data, s, p0, p1);
        matmulInto(dK, cols, dzChunk, depth, n, F, { transA: true, accumulate: p0 > 0 });
      }
      if (dX) {
        matmulInto(dcols, dzChunk, kernel.data, n, F, depth, { transB: true });
        col2im(dX, dcols, s, p0, p1);
      }
    }
  }
  return {
    dx: dX && { shape: [...x.shape], data: dX },
    dKernel: dK && { shape: [...kernel.shape], data: dK },
    dBias,
  };
}

/** conv1d is conv2d with height 1, as in the forward. */
export function conv1dBackward(
  x: Tensor,
  kernel: Tensor,
  dz: Tensor,
  geo: { stride: number; dilation: number; padding: Padding },
  want: Want,
): LayerGrads {
  const [B, L, C] = x.shape;
  const g = conv2dBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    { shape: [B, 1, ...dz.shape.slice(1)], data: dz.data },
    { stride: [1, geo.stride], dilation: [1, geo.dilation], padding: geo.padding },
    want,
  );
  return {
    dx: g.dx && { shape: [...x.shape], data: g.dx.data },
    dKernel: g.dKernel && { shape: [...kernel.shape], data: g.dKernel.data },
    dBias: g.dBias,
  };
}
