/**
 * maxpool and avgpool over a [steps, channels] (1-D) or [height, width,
 * channels] (2-D) input, chosen by the input's rank; TensorFlow semantics
 * (with same padding, averages count only real cells).
 */
import { padding } from './common.js';
import { batched, defineOp, dims, OpContext, OpDef, windowOut } from './op.js';

function geometry(ctx: OpContext) {
  const rank = ctx.rank([2, 3], 'a [steps, channels] or [height, width, channels] input') - 1;
  const size = ctx.ints('size', rank);
  const stride = ctx.attrs.stride === undefined ? size : ctx.ints('stride', rank);
  return { rank, size, stride };
}

function poolOp(kind: 'max' | 'avg'): OpDef {
  return defineOp({
    name: `${kind}pool`,
    family: 'pool',
    doc: `${kind === 'max' ? 'Maximum' : 'Average'} over each window (1-D or 2-D by input rank).`,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [
      { name: 'size', type: { kind: 'ints' }, positional: true, default: 2, doc: 'window size' },
      { name: 'stride', type: { kind: 'ints' }, optional: true, doc: 'step between windows (default: the size)' },
      padding,
    ],
    infer(ctx) {
      const { rank, size, stride } = geometry(ctx);
      const spatial = dims(ctx.input).slice(0, rank);
      const out = spatial.map((len, i) => windowOut(len, size[i], stride[i], 1, ctx.sym('padding')));
      if (out.some((n) => n < 1))
        ctx.fail(`pool window ${size.join('x')} is larger than the input [${dims(ctx.input).join(', ')}]`, 'use a smaller size or padding = same');
      return batched([...out, dims(ctx.input).at(-1)!]);
    },
    label(ctx) {
      const { size, stride } = geometry(ctx);
      const same = size.every((s, i) => s === stride[i]);
      return `${size.join('x')}${same ? '' : ` /${stride.join('x')}`}${ctx.sym('padding') === 'same' ? ' same' : ''}`;
    },
  });
}

export const maxpool = poolOp('max');
export const avgpool = poolOp('avg');

function globalPoolOp(kind: 'max' | 'avg'): OpDef {
  return defineOp({
    name: `global_${kind}pool`,
    family: 'pool',
    doc: `${kind === 'max' ? 'Maximum' : 'Average'} over all steps or positions, per channel.`,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [],
    infer(ctx) {
      ctx.rank([2, 3], 'a [steps, channels] or [height, width, channels] input');
      return batched([dims(ctx.input).at(-1)!]);
    },
  });
}

export const global_maxpool = globalPoolOp('max');
export const global_avgpool = globalPoolOp('avg');
