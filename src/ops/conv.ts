/**
 * conv1d and conv2d: cross-correlation as in TensorFlow (NWC / NHWC), with
 * stride, dilation, valid/same padding and an optional bias.
 * `kernel` is either the window size (a number, or one entry per spatial
 * dimension) or a constant tensor of fixed weights: [k] / [kh, kw] for a
 * one-channel filter, or [k, C, F] / [kh, kw, C, F] in full.
 */
import type { ConstTensor } from '../ir/types.js';
import { bias, padding } from './common.js';
import { batched, defineOp, dims, OpContext, OpDef, product, windowOut } from './op.js';

/** The kernel's window and, for fixed weights, the weights as [...window, C, F]. */
function kernelOf(ctx: OpContext, rank: number): { window: number[]; fixed?: ConstTensor } {
  const fixed = ctx.fixed('kernel');
  const channels = dims(ctx.input).at(-1)!;
  if (!fixed) return { window: ctx.ints('kernel', rank) };
  const isSizeList = fixed.shape.length === 1 && fixed.shape[0] === rank;
  if (isSizeList) {
    const window = Array.from(fixed.data);
    if (!window.every((k) => Number.isInteger(k) && k > 0)) ctx.fail(`kernel size [${window.join(', ')}] must be positive whole numbers`);
    return { window };
  }
  if (fixed.shape.length === rank) {
    if (channels !== 1)
      ctx.fail(
        `a fixed ${fixed.shape.join('x')} kernel filters a 1-channel input, but the input has ${channels} channels`,
        `give the kernel as a [${fixed.shape.join(', ')}, ${channels}, filters] tensor`,
      );
    return { window: fixed.shape, fixed: { shape: [...fixed.shape, 1, 1], data: fixed.data } };
  }
  if (fixed.shape.length === rank + 2) {
    if (fixed.shape[rank] !== channels)
      ctx.fail(`fixed kernel [${fixed.shape.join(', ')}] expects ${fixed.shape[rank]} input channels, the input has ${channels}`);
    return { window: fixed.shape.slice(0, rank), fixed };
  }
  return ctx.fail(`a fixed kernel must have ${rank} or ${rank + 2} dimensions, got [${fixed.shape.join(', ')}]`);
}

function filtersOf(ctx: OpContext, fixed: ConstTensor | undefined): number {
  const given = ctx.attrs.filters as number | undefined;
  if (fixed) {
    const f = fixed.shape.at(-1)!;
    if (given !== undefined && given !== f) ctx.fail(`filters = ${given} but the fixed kernel has ${f}`);
    return f;
  }
  return given ?? ctx.fail("missing required argument 'filters'");
}

const useBias = (ctx: OpContext, fixed: ConstTensor | undefined) => (ctx.attrs.bias as boolean | undefined) ?? !fixed;

function convOp(rank: 1 | 2): OpDef {
  const name = `conv${rank}d`;
  const layout = rank === 1 ? '[steps, channels]' : '[height, width, channels]';
  return defineOp({
    name,
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
    ],
    infer(ctx) {
      ctx.rank([rank + 1], `a ${layout} input`, rank === 2 ? 'conv2d needs an image: reshape to [height, width, channels]' : undefined);
      const { window, fixed } = kernelOf(ctx, rank);
      const stride = ctx.ints('stride', rank);
      const dilation = ctx.ints('dilation', rank);
      const spatial = dims(ctx.input).slice(0, rank);
      const out = spatial.map((len, i) => windowOut(len, window[i], stride[i], dilation[i], ctx.sym('padding')));
      if (out.some((n) => n < 1)) {
        const span = window.map((k, i) => dilation[i] * (k - 1) + 1);
        ctx.fail(
          `kernel ${window.join('x')}${dilation.some((d) => d > 1) ? ` (dilated to ${span.join('x')})` : ''} is larger than the input ${'['}${dims(ctx.input).join(', ')}]`,
          "use a smaller kernel or padding = same",
        );
      }
      return batched([...out, filtersOf(ctx, fixed)]);
    },
    params(ctx) {
      const { window, fixed } = kernelOf(ctx, rank);
      const channels = dims(ctx.input).at(-1)!;
      const filters = filtersOf(ctx, fixed);
      return [
        fixed
          ? { name: 'kernel', shape: fixed.shape, init: 'zeros' as const, trainable: false, value: fixed }
          : { name: 'kernel', shape: [...window, channels, filters], init: 'glorot_uniform' as const, trainable: true },
        ...(useBias(ctx, fixed) ? [{ name: 'bias', shape: [filters], init: 'zeros' as const, trainable: true }] : []),
      ];
    },
    flops(ctx, out) {
      const { window } = kernelOf(ctx, rank);
      return 2 * product(dims(out)) * product(window) * dims(ctx.input).at(-1)!;
    },
    label(ctx) {
      const { window, fixed } = kernelOf(ctx, rank);
      const stride = ctx.ints('stride', rank);
      const parts = [fixed ? 'fixed' : `${filtersOf(ctx, fixed)}`, window.join('x')];
      if (stride.some((s) => s > 1)) parts.push(`/${stride.join('x')}`);
      if (ctx.sym('padding') === 'same') parts.push('same');
      return parts.join(' ');
    },
  });
}

export const conv1d = convOp(1);
export const conv2d = convOp(2);
