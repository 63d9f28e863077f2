/**
 * Depthwise and depthwise-separable convolution as TensorFlow and Keras
 * define them (tf.nn.depthwise_conv2d, SeparableConv2D), NHWC:
 *
 *   depthwiseConv2d(x [B,H,W,C], kernel [kh,kw,C,dm], bias [C*dm] | null, opts) -> [B,OH,OW,C*dm]
 *     out[b,oy,ox,c*dm+m] = act(bias[c*dm+m] + sum_{ky,kx} x[b, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] * kernel[ky,kx,c,m])
 *   separableConv2d(x, depthwise [kh,kw,C,dm], pointwise [1,1,C*dm,F], bias [F] | null, opts) -> [B,OH,OW,F]
 *     = conv2d(depthwiseConv2d(x, depthwise, null), pointwise, bias, act)
 *
 * with cells outside the input reading as zero and TensorFlow's window rule
 * (window.ts). This is conv2d with groups = C (kernels/conv.ts runs grouped
 * convolutions of one channel per group here).
 *
 * Implementation: a direct loop, not im2col: each output pixel sums its
 * window's real taps in order (ky, kx) over all channels at once, channels
 * innermost, in float32. The work is a few multiply-adds per value read, so
 * it is bound by memory and by the loop: the WebAssembly kernel
 * (gemm.wat's depthwise_conv, four channels per instruction) runs it when
 * dm = 1 (MobileNet's case); the TS loop below is its twin and the rest.
 * The bias starts the sums; the activation follows (activation.ts), or is
 * applied by the WebAssembly kernel as it stores when it is a clamp (relu, relu6).
 */
import type { Activation } from './activation.js';
import { activateInPlace } from './activation.js';
import { type ConvShape, conv2d, convShape, type Conv2dOptions } from './conv.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { depthwiseWasm, heap } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

/** A depthwise convolution's geometry: convShape's, with dm kernels per channel and F = C*dm outputs. */
export interface DepthwiseShape extends ConvShape {
  dm: number;
}

/** The geometry of x [B,H,W,C] under a depthwise kernel [kh,kw,C,dm], naming `who` in errors. */
export function depthwiseShape(x: Tensor, kernel: Tensor, opts: Conv2dOptions, who: string): DepthwiseShape {
  const s = convShape(x, kernel, opts, who); // kernel [kh,kw,C,dm] reads as conv's [kh,kw,C,F=dm]
  return { ...s, dm: s.F, F: s.C * s.F };
}

/**
 * The taps of the window at output (oy, ox) that fall inside the input:
 * ky in [ky0, ky1), kx in [kx0, kx1), and the window's origin (y0, x0).
 */
export function taps(s: ConvShape, oy: number, ox: number) {
  const [sh, sw] = s.stride;
  const [dh, dw] = s.dilation;
  const y0 = oy * sh - s.padTop, x0 = ox * sw - s.padLeft;
  const first = (origin: number, d: number) => (origin < 0 ? Math.ceil(-origin / d) : 0);
  const last = (origin: number, d: number, size: number, k: number) => Math.max(0, Math.min(k, Math.ceil((size - origin) / d)));
  return { y0, x0, ky0: first(y0, dh), ky1: last(y0, dh, s.H, s.kh), kx0: first(x0, dw), kx1: last(x0, dw, s.W, s.kw) };
}

export function depthwiseConv2d(x: Tensor, kernel: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}, out?: Float32Array): Tensor {
  const who = 'depthwise_conv2d';
  const s = depthwiseShape(x, kernel, opts, who);
  const { B, OH, OW, F } = s;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== F)) throw internal(`${who}: bias ${showShape(bias.shape)} does not match ${F} channels`);
  const data = outputBuffer(out, B * OH * OW * F, who);
  const act: Activation = opts.activation ?? 'linear';
  const clamp = CLAMPS[act];
  const inWasm = depthwiseWasm(data, x.data, kernel.data, bias?.data ?? null, s, clamp ?? CLAMPS.linear!);
  if (!inWasm) depthwiseInto(data, x.data, kernel.data, bias?.data ?? null, s);
  if (act !== 'linear' && !(inWasm && clamp)) activateInPlace(data, act, F);
  return { shape: [B, OH, OW, F], data };
}

/**
 * The activations that are a clamp of x to [lo, hi], which the WebAssembly
 * kernel applies as it stores (MobileNet's relu6 after every depthwise layer):
 * the same numbers as their rows' forward (NaN stays NaN).
 */
const CLAMPS: Partial<Record<Activation, readonly [number, number]>> = {
  linear: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
};

/** The TS twin of gemm.wat's depthwise_conv: out[p, :] = bias + the window's taps, any dm. */
function depthwiseInto(out: Float32Array, x: Float32Array, k: Float32Array, bias: Float32Array | null, s: DepthwiseShape): void {
  const { B, H, W, C, kw, OH, OW, F, dm } = s;
  const [dh, dw] = s.dilation;
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o += F) {
        if (bias) out.set(bias, o);
        else out.fill(0, o, o + F);
        const t = taps(s, oy, ox);
        for (let ky = t.ky0; ky < t.ky1; ky++) {
          const row = (b * H + t.y0 + ky * dh) * W;
          for (let kx = t.kx0; kx < t.kx1; kx++) {
            const xi = (row + t.x0 + kx * dw) * C;
            const ki = (ky * kw + kx) * F;
            if (dm === 1) for (let c = 0; c < C; c++) out[o + c] += x[xi + c] * k[ki + c];
            else for (let c = 0; c < C; c++) for (let m = 0, f = c * dm; m < dm; m++, f++) out[o + f] += x[xi + c] * k[ki + f];
          }
        }
      }
    }
  }
}

/** The depthwise step in scratch, then the 1x1 convolution (one matmul) with the bias and activation into the output. */
export function separableConv2d(
  x: Tensor, depthwise: Tensor, pointwise: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}, out?: Float32Array,
): Tensor {
  const s = depthwiseShape(x, depthwise, opts, 'separable_conv2d');
  return withScratch(heap(), (take) => {
    const mid = depthwiseConv2d(x, depthwise, null, { ...opts, activation: 'linear' }, take(s.B * s.OH * s.OW * s.F));
    return conv2d(mid, pointwise, bias, { activation: opts.activation }, out);
  });
}
