/**
 * conv1d and conv2d: cross-correlation as in TensorFlow (NWC / NHWC), with
 * stride, dilation, valid/same padding and an optional bias.
 * `kernel` is either the window size (a number, or one entry per spatial
 * dimension) or a constant tensor of fixed weights: [k] / [kh, kw] for a
 * one-channel filter, or [k, C, F] / [kh, kw, C, F] in full.
 */
import { shapeRules } from '../diagnostics.js';
import type { ConstTensor } from '../ir/types.js';
import type { Activation } from './activations.js';
import { activation, bias, padding } from './common.js';
import { batched, defineOp, dims, OpContext, OpDef, Padding, product, windowAxis, WindowAxis } from './op.js';

/** A convolution's resolved attributes. Lists have one entry per spatial axis. */
export interface ConvAttrs {
  rank: 1 | 2;
  filters: number;
  window: number[];
  stride: number[];
  dilation: number[];
  padding: Padding;
  /** Input spatial sizes and channels. */
  spatial: number[];
  channels: number;
  /** Output spatial sizes, and each axis's window geometry. */
  axes: WindowAxis[];
  /** Fixed weights from the source, as [...window, C, F]. */
  fixed?: ConstTensor;
  bias: boolean;
  /** Applied in the same pass ('linear' but for the optimizer's fused nodes). */
  activation: Activation;
}

/** The kernel's window and, for fixed weights, the weights as [...window, C, F]. */
function kernelOf(ctx: OpContext, rank: number, channels: number): { window: number[]; fixed?: ConstTensor } {
  const fixed = ctx.fixed('kernel');
  if (!fixed) return { window: ctx.ints('kernel', rank) };
  const isSizeList = fixed.shape.length === 1 && fixed.shape[0] === rank;
  if (isSizeList) {
    const window = Array.from(fixed.data);
    if (!window.every((k) => Number.isInteger(k) && k > 0)) ctx.fail(shapeRules.kernelSizeNotPositive(window));
    return { window };
  }
  if (fixed.shape.length === rank) {
    if (channels !== 1) ctx.fail(shapeRules.fixedKernelOneChannel(fixed.shape, channels));
    return { window: fixed.shape, fixed: { shape: [...fixed.shape, 1, 1], data: fixed.data } };
  }
  if (fixed.shape.length === rank + 2) {
    if (fixed.shape[rank] !== channels) ctx.fail(shapeRules.fixedKernelChannels(fixed.shape, fixed.shape[rank], channels));
    return { window: fixed.shape.slice(0, rank), fixed };
  }
  return ctx.fail(shapeRules.fixedKernelRank(rank, fixed.shape));
}

function filtersOf(ctx: OpContext, fixed: ConstTensor | undefined): number {
  const given = ctx.maybeInt('filters');
  if (fixed) {
    const f = fixed.shape.at(-1)!;
    if (given !== undefined && given !== f) ctx.fail(shapeRules.filtersDisagree(given, f));
    return f;
  }
  return given ?? ctx.fail(shapeRules.missingFilters());
}

function resolveConv(ctx: OpContext, rank: 1 | 2): ConvAttrs {
  ctx.rank([rank + 1], (got) => shapeRules.convInput(rank, got));
  const channels = dims(ctx.input).at(-1)!;
  const { window, fixed } = kernelOf(ctx, rank, channels);
  const stride = ctx.ints('stride', rank);
  const dilation = ctx.ints('dilation', rank);
  const pad = ctx.sym<Padding>('padding');
  const spatial = dims(ctx.input).slice(0, rank);
  const axes = spatial.map((len, i) => windowAxis(len, window[i], stride[i], dilation[i], pad));
  if (axes.some((a) => a.out < 1)) ctx.fail(shapeRules.kernelLargerThanInput(window, dilation, dims(ctx.input)));
  const filters = filtersOf(ctx, fixed);
  const useBias = (ctx.attrs.bias as boolean | undefined) ?? !fixed;
  const activation = ctx.attrs.activation === undefined ? 'linear' : ctx.sym<Activation>('activation');
  return { rank, filters, window, stride, dilation, padding: pad, spatial, channels, axes, fixed, bias: useBias, activation };
}

function convOp(rank: 1 | 2): OpDef<ConvAttrs> {
  const layout = rank === 1 ? '[steps, channels]' : '[height, width, channels]';
  return defineOp({
    name: `conv${rank}d`,
    family: 'conv',
    doc: `${rank}-D convolution over a ${layout} input.`,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [
      { name: 'filters', type: { kind: 'int' }, positional: true, optional: true, doc: 'output channels (taken from a fixed kernel when left out)' },
      { name: 'kernel', type: { kind: 'kernel' }, positional: true, doc: 'window size, or a constant tensor of fixed weights' },
      { name: 'stride', type: { kind: 'ints' }, default: 1, doc: 'step between windows' },
      padding,
      { name: 'dilation', type: { kind: 'ints' }, default: 1, doc: 'spacing between kernel taps' },
      { ...bias, default: undefined, optional: true, doc: 'add a learned bias (default: yes, unless the kernel is fixed)' },
      activation,
    ],
    infer(ctx) {
      const a = resolveConv(ctx, rank);
      return { type: batched([...a.axes.map((x) => x.out), a.filters]), attrs: a };
    },
    params: (a) => [
      a.fixed
        ? { name: 'kernel', shape: a.fixed.shape, init: 'zeros', trainable: false, value: a.fixed }
        : { name: 'kernel', shape: [...a.window, a.channels, a.filters], init: 'glorot_uniform', trainable: true },
      ...(a.bias ? [{ name: 'bias', shape: [a.filters], init: 'zeros' as const, trainable: true }] : []),
    ],
    flops: (a) => 2 * product(a.axes.map((x) => x.out)) * a.filters * product(a.window) * a.channels,
    label(a) {
      const parts = [a.fixed ? 'fixed' : `${a.filters}`, a.window.join('x')];
      if (a.stride.some((s) => s > 1)) parts.push(`/${a.stride.join('x')}`);
      if (a.padding === 'same') parts.push('same');
      return parts.join(' ');
    },
  });
}

export const conv1d = convOp(1);
export const conv2d = convOp(2);
