/**
 * Convolution as TensorFlow and Keras define it: cross-correlation (the
 * kernel is not flipped), NHWC, with Keras's groups.
 *
 *   conv2d(x [B,H,W,C], kernel [kh,kw,C/G,F], bias [F] | null, opts) -> [B,OH,OW,F]
 *   conv1d(x [B,L,C],   kernel [k,C/G,F],     bias [F] | null, opts) -> [B,OL,F]
 *
 *   out[b,oy,ox,f] = act(bias[f] + sum_{ky,kx,c} x[b, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] * kernel[ky,kx,c,f])
 *
 * with cells outside the input reading as zero; output sizes and the padding
 * split (pt, pl) follow TensorFlow (see window.ts). conv1d is conv2d with H = 1.
 * With G groups, filters [g*F/G, (g+1)*F/G) read only channels
 * [g*C/G, (g+1)*C/G), through kernel rows [0, C/G): each group is an ordinary
 * convolution of its channels, run on copies of them (copyChannels), except
 * one channel per group, which is depthwise convolution (depthwise.ts).
 *
 * Implementation: im2col. Each output position becomes one row of kh*kw*C
 * input values (in the kernel's own [kh,kw,C] order), so the whole layer is
 * one matmul with the kernel viewed as [kh*kw*C, F], bias and activation fused.
 * The WebAssembly kernel packs those rows straight from x as it multiplies
 * (wasm/gemm.wat's pack_a_conv); the TS path builds them in chunks, in scratch
 * on the kernel's heap (wasm/heap.ts). A 3x3 kernel at stride 1 over enough
 * channels and tiles runs there as Winograd F(2x2, 3x3) instead
 * (wasm/gemm.ts winogradConv): 16 products with 2.25x fewer multiply-adds,
 * the same values to within rounding. `out`: the planned output
 * buffer (tensor.ts's outputBuffer). im2col and its adjoint col2im are shared
 * with the backward (grad/conv.ts).
 */
import type { Activation } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Padding } from './window.js';
import { slidingWindow } from './window.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { convPoolWasm, convWasm, heap } from '../wasm/index.js';
import { depthwiseConv2d } from './depthwise.js';
import { internal } from '../../../diagnostics.js';

export interface Conv2dOptions {
  stride?: [number, number];
  padding?: Padding;
  dilation?: [number, number];
  activation?: Activation;
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: Padding;
  dilation?: number;
  activation?: Activation;
  groups?: number;
}

/** Upper bound on one chunk of im2col rows, in floats (4 MB). */
const CHUNK_FLOATS = 1 << 20;

export function conv2d(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}, out?: Float32Array): Tensor {
  return convolve(x, kernel, bias, opts, 'conv2d', out);
}

/** A convolution's geometry: input, kernel and output sizes, and the window (window.ts). */
export interface ConvShape {
  B: number; H: number; W: number; C: number;
  kh: number; kw: number; F: number;
  OH: number; OW: number;
  stride: [number, number];
  dilation: [number, number];
  padTop: number; padLeft: number;
}

/** The geometry of x [B,H,W,C] under kernel [kh,kw,C,F], naming `who` in errors. */
export function convShape(x: Tensor, kernel: Tensor, opts: Conv2dOptions, who: string): ConvShape {
  const { stride = [1, 1], padding = 'valid', dilation = [1, 1] } = opts;
  if (x.shape.length !== 4 || kernel.shape.length !== 4 || kernel.shape[2] !== x.shape[3]) {
    throw internal(`${who}: input ${showShape(x.shape)} does not fit kernel ${showShape(kernel.shape)}`);
  }
  const [B, H, W, C] = x.shape;
  const [kh, kw, , F] = kernel.shape;
  const rows = slidingWindow(H, kh, stride[0], dilation[0], padding, `${who} (height)`);
  const cols = slidingWindow(W, kw, stride[1], dilation[1], padding, `${who} (width)`);
  return { B, H, W, C, kh, kw, F, OH: rows.out, OW: cols.out, stride, dilation, padTop: rows.padBefore, padLeft: cols.padBefore };
}

/** A 1x1 kernel with unit stride reads each pixel once, in order: x already is the im2col matrix. */
export const isPointwise = (s: ConvShape) => s.kh === 1 && s.kw === 1 && s.OH === s.H && s.OW === s.W && s.padTop === 0 && s.padLeft === 0;

/** Output positions per im2col chunk: rows of kh*kw*C floats within CHUNK_FLOATS. */
export const chunkPositions = (s: ConvShape) => Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(s.kh * s.kw * s.C, 1)));

/**
 * Copies `n` channels of each of `rows` rows: src[r, from + j] to dst[r, to + j],
 * rows of srcWidth and dstWidth floats. Gathers a group's channels, or scatters them back.
 */
export function copyChannels(dst: Float32Array, dstWidth: number, to: number, src: Float32Array, srcWidth: number, from: number, n: number, rows: number): void {
  for (let r = 0, d = to, s = from; r < rows; r++, d += dstWidth, s += srcWidth) for (let j = 0; j < n; j++) dst[d + j] = src[s + j];
}

/** A grouped convolution's sizes: kernel [kh,kw,Cg,F] over x [B,H,W,C = G*Cg], Fg = F/G filters per group. */
export function groupShape(x: Tensor, kernel: Tensor, groups: number, who: string) {
  const [B, H, W, C] = x.shape;
  const [kh, kw, Cg, F] = kernel.shape;
  if (x.shape.length !== 4 || kernel.shape.length !== 4 || Cg * groups !== C || F % groups !== 0) {
    throw internal(`${who}: input ${showShape(x.shape)} does not fit kernel ${showShape(kernel.shape)} in ${groups} groups`);
  }
  return { B, H, W, C, kh, kw, Cg, F, Fg: F / groups };
}

/** Each group as its own convolution on copies of its channels, kernel columns and bias; one channel per group is depthwise. */
function convolveGroups(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions, who: string, out?: Float32Array): Tensor {
  const G = opts.groups!;
  const { B, H, W, C, kh, kw, Cg, F, Fg } = groupShape(x, kernel, G, who);
  const one = { ...opts, groups: 1 };
  if (Cg === 1) return depthwiseConv2d(x, { shape: [kh, kw, C, Fg], data: kernel.data }, bias, one, out);
  return withScratch(heap(), (take) => {
    const xg = { shape: [B, H, W, Cg], data: take(B * H * W * Cg) };
    const kg = { shape: [kh, kw, Cg, Fg], data: take(kh * kw * Cg * Fg) };
    const s = convShape(xg, kg, opts, who);
    const positions = B * s.OH * s.OW;
    const yg = take(positions * Fg);
    const data = outputBuffer(out, positions * F, who);
    for (let g = 0; g < G; g++) {
      copyChannels(xg.data, Cg, 0, x.data, C, g * Cg, Cg, B * H * W);
      copyChannels(kg.data, Fg, 0, kernel.data, F, g * Fg, Fg, kh * kw * Cg);
      const bg = bias && { shape: [Fg], data: bias.data.subarray(g * Fg, (g + 1) * Fg) };
      convolve(xg, kg, bg, one, who, yg);
      copyChannels(data, F, g * Fg, yg, Fg, 0, Fg, positions);
    }
    return { shape: [B, s.OH, s.OW, F], data };
  });
}

/** conv2d, naming `who` in its errors. */
function convolve(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions, who: string, out?: Float32Array): Tensor {
  if ((opts.groups ?? 1) > 1) return convolveGroups(x, kernel, bias, opts, who, out);
  const s = convShape(x, kernel, opts, who);
  const { B, C, kh, kw, F, OH, OW } = s;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== F)) {
    throw internal(`${who}: bias ${showShape(bias.shape)} does not match ${F} filters`);
  }
  const positions = B * OH * OW;
  const depth = kh * kw * C;
  const data = outputBuffer(out, positions * F, who);
  const epilogue = { bias: bias?.data ?? null, activation: opts.activation ?? 'linear' };
  if (isPointwise(s)) {
    matmulInto(data, x.data, kernel.data, positions, C, F, epilogue);
    return { shape: [B, OH, OW, F], data };
  }
  if (kernel.data.length < depth * F || x.data.length < B * s.H * s.W * C) throw internal(`${who}: input or kernel holds too few values`);
  if (convWasm(data, x.data, s, kernel.data, epilogue)) return { shape: [B, OH, OW, F], data };
  const chunk = Math.min(chunkPositions(s), positions);
  withScratch(heap(), (take) => {
    // On the kernel's heap, so that the matmul reads the rows where they are written.
    const cols = take(chunk * depth);
    for (let p0 = 0; p0 < positions; p0 += chunk) {
      const p1 = Math.min(positions, p0 + chunk);
      im2col(cols, x.data, s, p0, p1);
      matmulInto(data.subarray(p0 * F, p1 * F), cols, kernel.data, p1 - p0, depth, F, epilogue);
    }
  });
  return { shape: [B, OH, OW, F], data };
}

/**
 * maxpool(2x2, stride 2, valid) of conv2d(x, kernel, bias, opts) in one pass,
 * when the WebAssembly kernel runs that layer that way (a first layer whose
 * windows lie inside the image, or a 3x3 convolution in Winograd's form:
 * wasm/gemm.ts convPooled); null otherwise, for the caller to run the two.
 * The same values as the two one after the other. The caller's `out` must not
 * overlap x (plan.ts keeps a fused convolution's inputs alive until its pool).
 */
export function conv2dPooled(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions, out?: Float32Array): Tensor | null {
  if ((opts.groups ?? 1) > 1) return null;
  const s = convShape(x, kernel, opts, 'conv2d');
  const shape = [s.B, Math.floor(s.OH / 2), Math.floor(s.OW / 2), s.F];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== s.F)) return null;
  const data = outputBuffer(out, shape[0] * shape[1] * shape[2] * shape[3], 'conv2d');
  const epilogue = { bias: bias?.data ?? null, activation: opts.activation ?? 'linear' };
  return convPoolWasm(data, x.data, s, kernel.data, epilogue) ? { shape, data } : null;
}

/**
 * cols[r, :] for output positions p = p0 + r < p1, p = (b*OH + oy)*OW + ox:
 * the kh*kw*C input values the window at p reads, in the kernel's [kh,kw,C]
 * order, zero for padding. Without dilation a kernel row's kw cells are
 * contiguous in x, and are copied as one run.
 */
export function im2col(cols: Float32Array, xd: Float32Array, s: ConvShape, p0: number, p1: number): void {
  const { H, W, C, kh, kw, OH, OW, padTop, padLeft } = s;
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const run = kw * C;
  let ox = p0 % OW;
  let oy = Math.floor(p0 / OW) % OH;
  let b = Math.floor(p0 / (OW * OH));
  for (let p = p0, r = 0; p < p1; p++) {
    const y0 = oy * sh - padTop;
    const x0 = ox * sw - padLeft;
    const whole = dw === 1 && x0 >= 0 && x0 + kw <= W;
    for (let ky = 0; ky < kh; ky++, r += run) {
      const iy = y0 + ky * dh;
      if (iy < 0 || iy >= H) {
        for (let j = 0; j < run; j++) cols[r + j] = 0;
      } else if (whole) {
        const src = ((b * H + iy) * W + x0) * C;
        for (let j = 0; j < run; j++) cols[r + j] = xd[src + j];
      } else {
        for (let kx = 0, at = r; kx < kw; kx++, at += C) {
          const ix = x0 + kx * dw;
          if (ix < 0 || ix >= W) for (let c = 0; c < C; c++) cols[at + c] = 0;
          else for (let c = 0, src = ((b * H + iy) * W + ix) * C; c < C; c++) cols[at + c] = xd[src + c];
        }
      }
    }
    if (++ox === OW) {
      ox = 0;
      if (++oy === OH) {
        oy = 0;
        b++;
      }
    }
  }
}

/** The adjoint of im2col: dx[cell] += dcols[r, :] for every real input cell the rows of p0..p1 read. */
export function col2im(dx: Float32Array, dcols: Float32Array, s: ConvShape, p0: number, p1: number): void {
  const { H, W, C, kh, kw, OH, OW, padTop, padLeft } = s;
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const run = kw * C;
  let ox = p0 % OW;
  let oy = Math.floor(p0 / OW) % OH;
  let b = Math.floor(p0 / (OW * OH));
  for (let p = p0, r = 0; p < p1; p++) {
    const y0 = oy * sh - padTop;
    const x0 = ox * sw - padLeft;
    const whole = dw === 1 && x0 >= 0 && x0 + kw <= W;
    for (let ky = 0; ky < kh; ky++, r += run) {
      const iy = y0 + ky * dh;
      if (iy < 0 || iy >= H) continue;
      if (whole) {
        const dst = ((b * H + iy) * W + x0) * C;
        for (let j = 0; j < run; j++) dx[dst + j] += dcols[r + j];
      } else {
        for (let kx = 0, at = r; kx < kw; kx++, at += C) {
          const ix = x0 + kx * dw;
          if (ix >= 0 && ix < W) for (let c = 0, dst = ((b * H + iy) * W + ix) * C; c < C; c++) dx[dst + c] += dcols[at + c];
        }
      }
    }
    if (++ox === OW) {
      ox = 0;
      if (++oy === OH) {
        oy = 0;
        b++;
      }
    }
  }
}

export function conv1d(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv1dOptions = {}, out?: Float32Array): Tensor {
  if (x.shape.length !== 3 || kernel.shape.length !== 3) {
    throw internal(`conv1d: expected input [B,L,C] and kernel [k,C,F], got ${showShape(x.shape)} and ${showShape(kernel.shape)}`);
  }
  const { stride = 1, padding = 'valid', dilation = 1, activation = 'linear', groups = 1 } = opts;
  const [B, L, C] = x.shape;
  const y = convolve(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    bias,
    { stride: [1, stride], padding, dilation: [1, dilation], activation, groups },
    'conv1d',
    out,
  );
  return { shape: [B, y.shape[2], y.shape[3]], data: y.data };
}
