/**
 * Transposed convolution (Keras Conv2DTranspose / Conv1DTranspose), NHWC:
 *
 *   conv2dTranspose(x [B,H,W,C], kernel [kh,kw,F,C], bias [F] | null, geo) -> [B,OH,OW,F]
 *   conv1dTranspose(x [B,L,C],   kernel [k,F,C],     bias [F] | null, geo) -> [B,OL,F]
 *
 *   y[b, i*sh - pt + ky*dh, j*sw - pl + kx*dw, f] += x[b,i,j,c] * kernel[ky,kx,f,c]
 *
 * then bias and activation; contributions that land outside [OH, OW] are
 * dropped. Output sizes and (pt, pl) come from the shape rule
 * (src/ops/conv_transpose.ts). conv1dTranspose is conv2dTranspose with H = 1.
 *
 * It is the adjoint of conv2d (kernels/conv.ts) over the output: the conv
 * with input [B,OH,OW,F], kernel [kh,kw,F,C] viewed as [kh*kw*F, C] and
 * output [B,H,W,C] (`adjointConv`). So, chunk by chunk of input cells, each
 * cell's row of C values times the kernel transposed gives the kh*kw*F values
 * it writes, and conv's col2im adds them into place (WebAssembly when loaded).
 * Its backward (grad/conv_transpose.ts) is that conv's forward and kernel
 * gradient.
 */
import type { Activation } from './activation.js';
import { activateInPlace } from './activation.js';
import { chunkPositions, col2im, type ConvShape } from './conv.js';
import { matmulInto } from './matmul.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { col2imWasm, heap } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

/** Per spatial axis (height, width): the resolved geometry of the op. */
export interface ConvTransposeGeometry {
  stride: [number, number];
  dilation: [number, number];
  /** Output spatial sizes. */
  out: [number, number];
  /** Output cells before the first input cell's patch (TensorFlow's padding split). */
  padBefore: [number, number];
  activation?: Activation;
}

/** The conv2d whose adjoint conv2dTranspose is: it reads [B,OH,OW,F] and writes x's [B,H,W,C]. */
export function adjointConv(xShape: readonly number[], kernelShape: readonly number[], g: ConvTransposeGeometry, who: string): ConvShape {
  if (xShape.length !== 4 || kernelShape.length !== 4 || kernelShape[3] !== xShape[3]) {
    throw internal(`${who}: input ${showShape(xShape)} does not fit kernel ${showShape(kernelShape)}`);
  }
  const [B, H, W, C] = xShape;
  const [kh, kw, F] = kernelShape;
  return {
    B, H: g.out[0], W: g.out[1], C: F, kh, kw, F: C, OH: H, OW: W,
    stride: g.stride, dilation: g.dilation, padTop: g.padBefore[0], padLeft: g.padBefore[1],
  };
}

export function conv2dTranspose(x: Tensor, kernel: Tensor, bias: Tensor | null, g: ConvTransposeGeometry, out?: Float32Array, who = 'conv2d_transpose'): Tensor {
  const s = adjointConv(x.shape, kernel.shape, g, who);
  // In the adjoint conv's names: C is our filters, F our input channels, OH x OW our input.
  const filters = s.C, channels = s.F;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== filters)) throw internal(`${who}: bias ${showShape(bias.shape)} does not match ${filters} filters`);
  const cells = s.B * s.OH * s.OW;
  const depth = s.kh * s.kw * filters;
  const outCells = s.B * s.H * s.W;
  const data = outputBuffer(out, outCells * filters, who);
  const chunk = Math.min(chunkPositions(s), Math.max(cells, 1));
  withScratch(heap(), (take) => {
    // On the kernel's heap, so that the WebAssembly col2im adds in place: the rows where the product
    // wrote them, and the output (the planned arena is there; any other buffer is summed in scratch, copied out once).
    const sum = heap().offsetOf(data) >= 0 ? data : take(data.length);
    sum.fill(0);
    const rows = take(chunk * depth);
    for (let p0 = 0; p0 < cells; p0 += chunk) {
      const p1 = Math.min(cells, p0 + chunk);
      matmulInto(rows, x.data.subarray(p0 * channels, p1 * channels), kernel.data, p1 - p0, channels, depth, { transB: true });
      if (!col2imWasm(sum, rows, s, p0, p1)) col2im(sum, rows, s, p0, p1);
    }
    if (sum !== data) data.set(sum);
  });
  if (bias) {
    const b = bias.data;
    for (let at = 0; at < outCells * filters; at += filters) for (let f = 0; f < filters; f++) data[at + f] += b[f];
  }
  if (g.activation && g.activation !== 'linear') activateInPlace(data, g.activation, filters, 0, outCells);
  return { shape: [s.B, s.H, s.W, filters], data };
}

/** Per-axis geometry of conv1dTranspose: one entry each. */
export interface ConvTranspose1dGeometry {
  stride: number;
  dilation: number;
  out: number;
  padBefore: number;
  activation?: Activation;
}

/** The height-1 conv2dTranspose geometry of a 1-D one. */
export const as2d = (g: ConvTranspose1dGeometry): ConvTransposeGeometry => ({
  stride: [1, g.stride], dilation: [1, g.dilation], out: [1, g.out], padBefore: [0, g.padBefore], activation: g.activation,
});

export function conv1dTranspose(x: Tensor, kernel: Tensor, bias: Tensor | null, g: ConvTranspose1dGeometry, out?: Float32Array): Tensor {
  if (x.shape.length !== 3 || kernel.shape.length !== 3) {
    throw internal(`conv1d_transpose: expected input [B,L,C] and kernel [k,F,C], got ${showShape(x.shape)} and ${showShape(kernel.shape)}`);
  }
  const [B, L, C] = x.shape;
  const y = conv2dTranspose({ shape: [B, 1, L, C], data: x.data }, { shape: [1, ...kernel.shape], data: kernel.data }, bias, as2d(g), out, 'conv1d_transpose');
  return { shape: [B, y.shape[2], y.shape[3]], data: y.data };
}
