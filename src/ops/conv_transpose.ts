/**
 * conv1d_transpose and conv2d_transpose (Keras Conv1DTranspose /
 * Conv2DTranspose): the adjoint of a convolution, which spreads each input
 * cell over a kernel-sized patch of a larger output, `stride` cells apart.
 * NWC / NHWC; the kernel is [k, F, C] / [kh, kw, F, C], filters before input
 * channels, as in Keras. No groups and no fixed kernels.
 *
 * Output size per spatial axis: Keras's deconv_output_length, with the
 * dilated kernel e = dilation * (k - 1) + 1 and input length L:
 *
 *   no output_padding   valid: L * stride + max(e - stride, 0)   same: L * stride
 *   with output_padding (L - 1) * stride + e - 2 * pad + output_padding,
 *                       pad = floor(e / 2) for same, 0 for valid
 *
 * Input cell i reaches output cells i * stride - padBefore + t * dilation,
 * t in [0, k); cells that fall outside the output are dropped. padBefore is
 * TensorFlow's split for the convolution this one is the adjoint of:
 * floor(max((L - 1) * stride + e - out, 0) / 2) for same, 0 for valid (the
 * same number Keras's JAX backend derives from its explicit padding, also
 * where TensorFlow's own conv2d_transpose rejects the shape).
 */
import { shapeRules } from '../diagnostics.js';
import type { Activation } from './activations.js';
import { activation, bias, padding } from './common.js';
import { batched, defineOp, dims, type OpDef, type Padding, product } from './op.js';

/** A transposed convolution's resolved attributes. Lists have one entry per spatial axis. */
export interface ConvTransposeAttrs {
  rank: 1 | 2;
  filters: number;
  window: number[];
  stride: number[];
  dilation: number[];
  padding: Padding;
  /** As given; undefined when left out (Keras's None, which picks the sizes above). */
  outputPadding?: number[];
  /** Input spatial sizes and channels. */
  spatial: number[];
  channels: number;
  /** Output spatial sizes, and the output cells cut off before the first input cell's patch. */
  out: number[];
  padBefore: number[];
  bias: boolean;
  activation: Activation;
}

/** One axis of Keras's deconv_output_length and the matching padBefore (see the file comment). */
export function transposeAxis(L: number, k: number, stride: number, dilation: number, pad: Padding, outputPadding?: number): { out: number; padBefore: number } {
  const e = dilation * (k - 1) + 1;
  const out =
    outputPadding === undefined
      ? pad === 'valid' ? L * stride + Math.max(e - stride, 0) : L * stride
      : (L - 1) * stride + e - 2 * (pad === 'same' ? Math.floor(e / 2) : 0) + outputPadding;
  const padBefore = pad === 'valid' ? 0 : Math.floor(Math.max((L - 1) * stride + e - out, 0) / 2);
  return { out, padBefore };
}

function convTransposeOp(rank: 1 | 2): OpDef<ConvTransposeAttrs> {
  const layout = rank === 1 ? '[steps, channels]' : '[height, width, channels]';
  return defineOp({
    name: `conv${rank}d_transpose`,
    family: 'conv',
    doc: `${rank}-D transposed convolution (deconvolution) over a ${layout} input: upsamples by the stride.`,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [
      { name: 'filters', type: { kind: 'int' }, positional: true, doc: 'output channels' },
      { name: 'kernel', type: { kind: 'ints' }, positional: true, doc: 'window size' },
      { name: 'stride', type: { kind: 'ints' }, default: 1, doc: 'step between the patches written in the output (the upsampling factor)' },
      padding,
      { name: 'output_padding', type: { kind: 'ints', min: 0 }, optional: true, doc: 'cells added at the end of each output axis, below the stride (default: sized as Keras)' },
      { name: 'dilation', type: { kind: 'ints' }, default: 1, doc: 'spacing between kernel taps' },
      bias,
      activation,
    ],
    infer(ctx) {
      ctx.rank([rank + 1], (got) => shapeRules.convInput(rank, got));
      const d = dims(ctx.input);
      const spatial = d.slice(0, rank);
      const window = ctx.ints('kernel', rank);
      const stride = ctx.ints('stride', rank);
      const dilation = ctx.ints('dilation', rank);
      const pad = ctx.sym<Padding>('padding');
      const outputPadding = ctx.attrs.output_padding === undefined ? undefined : ctx.ints('output_padding', rank);
      if (outputPadding?.some((p, i) => p >= stride[i])) ctx.fail(shapeRules.outputPaddingNotBelowStride(outputPadding, stride));
      const axes = spatial.map((L, i) => transposeAxis(L, window[i], stride[i], dilation[i], pad, outputPadding?.[i]));
      const out = axes.map((a) => a.out);
      if (out.some((n) => n < 1)) ctx.fail(shapeRules.transposeOutputNotPositive(out, d));
      const filters = ctx.int('filters');
      const attrs: ConvTransposeAttrs = {
        rank, filters, window, stride, dilation, padding: pad, outputPadding, spatial, channels: d.at(-1)!,
        out, padBefore: axes.map((a) => a.padBefore), bias: ctx.bool('bias'), activation: ctx.attrs.activation === undefined ? 'linear' : ctx.sym<Activation>('activation'),
      };
      return { type: batched([...out, filters]), attrs };
    },
    params: (a) => [
      { name: 'kernel', shape: [...a.window, a.filters, a.channels], init: 'glorot_uniform', trainable: true },
      ...(a.bias ? [{ name: 'bias', shape: [a.filters], init: 'zeros' as const, trainable: true }] : []),
    ],
    // Every input cell meets every kernel tap once: the multiply-adds of the convolution it is the adjoint of.
    flops: (a) => 2 * product(a.spatial) * a.channels * a.filters * product(a.window),
    label(a) {
      const parts = [`${a.filters}`, a.window.join('x')];
      if (a.stride.some((s) => s > 1)) parts.push(`×${a.stride.join('x')}`);
      if (a.padding === 'same') parts.push('same');
      return parts.join(' ');
    },
  });
}

export const conv1d_transpose = convTransposeOp(1);
export const conv2d_transpose = convTransposeOp(2);
