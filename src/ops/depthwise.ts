/**
 * depthwise_conv2d and separable_conv2d (Keras DepthwiseConv2D and
 * SeparableConv2D), NHWC, TensorFlow's window rule (conv.ts's slidingGeometry).
 *
 * depthwise_conv2d filters each input channel on its own with
 * `depth_multiplier` kernels: depthwise_kernel [kh, kw, C, dm], output
 * channel c*dm + m from channel c and kernel [:, :, c, m] (Keras's order), so
 * it is conv2d with groups = C and F = C*dm over the same weights viewed as
 * [kh, kw, 1, C*dm]. separable_conv2d is that depthwise step (no bias) and a
 * 1x1 conv2d to `filters` (pointwise_kernel [1, 1, C*dm, F], bias [F]) in one
 * layer. Both records are a ConvAttrs: window, stride, dilation and padding
 * are the depthwise step's, `filters` the layer's output channels.
 */
import { activation, bias, padding } from './common.js';
import { activationOf, slidingGeometry, type ConvAttrs } from './conv.js';
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims, type AttrSpec, type OpContext, product } from './op.js';

export interface DepthwiseAttrs extends ConvAttrs {
  /** Kernels per input channel; the depthwise step has channels * depthMultiplier outputs. */
  depthMultiplier: number;
}

const window: AttrSpec[] = [
  { name: 'kernel', type: { kind: 'ints' }, positional: true, doc: 'window size' },
  { name: 'stride', type: { kind: 'ints' }, default: 1, doc: 'step between windows' },
  padding,
  { name: 'dilation', type: { kind: 'ints' }, default: 1, doc: 'spacing between kernel taps' },
  { name: 'depth_multiplier', type: { kind: 'int' }, default: 1, doc: 'kernels per input channel' },
  bias,
  activation,
];

/** The depthwise step's record; `filters` is the layer's output channels (depthwise: C*dm; separable: given). */
function resolve(ctx: OpContext, filters: ((depthwise: number) => number)): DepthwiseAttrs {
  ctx.rank([3], (got) => shapeRules.convInput(2, got));
  const channels = dims(ctx.input)[2];
  const kernel = ctx.ints('kernel', 2);
  const depthMultiplier = ctx.int('depth_multiplier');
  const geometry = slidingGeometry(ctx, 2, kernel);
  return {
    rank: 2, window: kernel, ...geometry, channels, groups: channels, depthMultiplier,
    filters: filters(channels * depthMultiplier), bias: ctx.bool('bias'), activation: activationOf(ctx),
  };
}

const outputs = (a: DepthwiseAttrs) => product(a.axes.map((x) => x.out));

function label(a: DepthwiseAttrs, filters?: number): string {
  const parts = [filters === undefined ? '' : `${filters}`, a.window.join('x'), a.depthMultiplier > 1 ? `x${a.depthMultiplier}` : ''];
  if (a.stride.some((s) => s > 1)) parts.push(`/${a.stride.join('x')}`);
  if (a.padding === 'same') parts.push('same');
  return parts.filter((p) => p).join(' ');
}

export const depthwise_conv2d = defineOp<DepthwiseAttrs>({
  name: 'depthwise_conv2d',
  family: 'conv',
  doc: 'Depthwise 2-D convolution over a [height, width, channels] input: each channel filtered on its own by depth_multiplier kernels.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: window,
  infer(ctx) {
    const a = resolve(ctx, (depthwise) => depthwise);
    return { type: batched([...a.axes.map((x) => x.out), a.filters]), attrs: a };
  },
  params: (a) => [
    { name: 'depthwise_kernel', shape: [...a.window, a.channels, a.depthMultiplier], init: 'glorot_uniform', trainable: true },
    ...(a.bias ? [{ name: 'bias', shape: [a.filters], init: 'zeros' as const, trainable: true }] : []),
  ],
  flops: (a) => 2 * outputs(a) * a.filters * product(a.window),
  label: (a) => label(a),
});

export const separable_conv2d = defineOp<DepthwiseAttrs>({
  name: 'separable_conv2d',
  family: 'conv',
  doc: 'Depthwise separable 2-D convolution: a depthwise convolution, then a 1x1 convolution to `filters` channels.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'filters', type: { kind: 'int' }, positional: true, doc: 'output channels' }, ...window],
  infer(ctx) {
    const a = resolve(ctx, () => ctx.int('filters'));
    return { type: batched([...a.axes.map((x) => x.out), a.filters]), attrs: a };
  },
  params: (a) => [
    { name: 'depthwise_kernel', shape: [...a.window, a.channels, a.depthMultiplier], init: 'glorot_uniform', trainable: true },
    { name: 'pointwise_kernel', shape: [1, 1, a.channels * a.depthMultiplier, a.filters], init: 'glorot_uniform', trainable: true },
    ...(a.bias ? [{ name: 'bias', shape: [a.filters], init: 'zeros' as const, trainable: true }] : []),
  ],
  flops: (a) => 2 * outputs(a) * a.channels * a.depthMultiplier * (product(a.window) + a.filters),
  label: (a) => label(a, a.filters),
});
