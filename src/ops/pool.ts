/**
 * maxpool and avgpool over a [steps, channels] (1-D) or [height, width,
 * channels] (2-D) input, chosen by the input's rank; TensorFlow semantics
 * (with same padding, averages count only real cells).
 */
import { shapeRules } from '../diagnostics.js';
import { padding } from './common.js';
import { batched, defineOp, dims, OpDef, Padding, windowAxis, WindowAxis } from './op.js';

/** A pool's resolved attributes; lists have one entry per spatial axis. */
export interface PoolAttrs {
  kind: 'max' | 'avg';
  rank: 1 | 2;
  size: number[];
  /** The size when not given (Keras's pool_size default for strides). */
  stride: number[];
  padding: Padding;
  spatial: number[];
  channels: number;
  axes: WindowAxis[];
}

function poolOp(kind: 'max' | 'avg'): OpDef<PoolAttrs> {
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
      const rank = (ctx.rank([2, 3], shapeRules.spatialInput) - 1) as 1 | 2;
      const size = ctx.ints('size', rank);
      const stride = ctx.attrs.stride === undefined ? size : ctx.ints('stride', rank);
      const pad = ctx.sym<Padding>('padding');
      const d = dims(ctx.input);
      const spatial = d.slice(0, rank);
      const axes = spatial.map((len, i) => windowAxis(len, size[i], stride[i], 1, pad));
      if (axes.some((a) => a.out < 1)) ctx.fail(shapeRules.poolLargerThanInput(size, d));
      const channels = d.at(-1)!;
      return { type: batched([...axes.map((a) => a.out), channels]), attrs: { kind, rank, size, stride, padding: pad, spatial, channels, axes } };
    },
    label(a) {
      const same = a.size.every((s, i) => s === a.stride[i]);
      return `${a.size.join('x')}${same ? '' : ` /${a.stride.join('x')}`}${a.padding === 'same' ? ' same' : ''}`;
    },
  });
}

export const maxpool = poolOp('max');
export const avgpool = poolOp('avg');

function globalPoolOp(kind: 'max' | 'avg'): OpDef<{ kind: 'max' | 'avg' }> {
  return defineOp({
    name: `global_${kind}pool`,
    family: 'pool',
    doc: `${kind === 'max' ? 'Maximum' : 'Average'} over all steps or positions, per channel.`,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [],
    infer(ctx) {
      ctx.rank([2, 3], shapeRules.spatialInput);
      return { type: batched([dims(ctx.input).at(-1)!]), attrs: { kind } };
    },
  });
}

export const global_maxpool = globalPoolOp('max');
export const global_avgpool = globalPoolOp('avg');
