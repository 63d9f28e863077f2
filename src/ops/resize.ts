/**
 * Resizing a [steps, channels] or [height, width, channels] input, 1-D or
 * 2-D by its rank: zero_padding, cropping and upsampling.
 *
 * zero_padding and cropping: add zeros around, or cut rows and columns off,
 * a [steps, channels] (1-D) or [height, width, channels] (2-D) input, by
 * the input's rank (Keras ZeroPadding1D/2D, Cropping1D/2D). Each spatial
 * axis takes [before, after]: written as one number for every side, one per
 * axis, or [[top, bottom], [left, right]].
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims, OpContext, OpDef } from './op.js';

/** Per spatial axis: the margins and the output size; channels pass through. */
export interface ResizeAttrs {
  rank: 1 | 2;
  /** [before, after] for each spatial axis: added by zero_padding, removed by cropping. */
  margins: [number, number][];
  spatial: number[];
  out: number[];
  channels: number;
}

function resolve(ctx: OpContext, name: string, sign: 1 | -1): ResizeAttrs {
  const rank = (ctx.rank([2, 3], shapeRules.spatialInput) - 1) as 1 | 2;
  const d = dims(ctx.input);
  const spatial = d.slice(0, rank);
  const margins = ctx.margins(name, rank);
  const out = spatial.map((n, i) => n + sign * (margins[i][0] + margins[i][1]));
  if (out.some((n) => n < 1)) ctx.fail(shapeRules.croppedAway(margins, d));
  return { rank, margins, spatial, out, channels: d.at(-1)! };
}

const label = (a: ResizeAttrs) => a.margins.map(([b, e]) => (b === e ? `${b}` : `${b}+${e}`)).join(' x ');

function resizeOp(name: 'zero_padding' | 'cropping', arg: 'padding' | 'cropping', sign: 1 | -1, doc: string, argDoc: string, fallback?: number): OpDef<ResizeAttrs> {
  return defineOp({
    name,
    family: 'shape',
    doc,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [{ name: arg, type: { kind: 'margins' }, positional: true, ...(fallback === undefined ? {} : { default: fallback }), doc: argDoc }],
    infer(ctx) {
      const a = resolve(ctx, arg, sign);
      return { type: batched([...a.out, a.channels]), attrs: a };
    },
    label,
  });
}

export const zero_padding = resizeOp('zero_padding', 'padding', 1, 'Adds rows and columns of zeros around each example (1-D or 2-D by input rank).', 'zeros added before and after each spatial axis', 1);
// Keras's default cropping differs by rank (1-D: 1, 2-D: 0, a no-op), so dlc asks for it.
export const cropping = resizeOp('cropping', 'cropping', -1, 'Cuts rows and columns off the edges of each example (1-D or 2-D by input rank).', 'cells removed before and after each spatial axis');

export type Interpolation = 'nearest' | 'bilinear';

/** upsampling's factor per spatial axis, with the sizes before and after. */
export interface UpsamplingAttrs {
  rank: 1 | 2;
  size: number[];
  spatial: number[];
  out: number[];
  channels: number;
  interpolation: Interpolation;
}

/**
 * upsampling: Keras's UpSampling1D/2D. Nearest repeats each step (1-D) or
 * each row and column (2-D) `size` times. Bilinear (2-D only, as in Keras)
 * is TensorFlow 2's tf.image.resize(method = 'bilinear'), which Keras calls:
 * half-pixel centres, output cell i reads the input at (i + 0.5) / size - 0.5,
 * clamped to the edge cells (kernels/resize.ts).
 */
export const upsampling = defineOp<UpsamplingAttrs>({
  name: 'upsampling',
  family: 'shape',
  doc: 'Upsamples each step, or each row and column, size times: repeated (nearest) or interpolated (bilinear, 2-D); 1-D or 2-D by input rank.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'size', type: { kind: 'ints' }, positional: true, default: 2, doc: 'the factor per spatial axis' },
    { name: 'interpolation', type: { kind: 'symbol', choices: ['nearest', 'bilinear'] }, default: { symbol: 'nearest' }, doc: "'nearest' (repeat) or 'bilinear' (2-D inputs, as tf.image.resize)" },
  ],
  infer(ctx) {
    const rank = (ctx.rank([2, 3], shapeRules.spatialInput) - 1) as 1 | 2;
    const d = dims(ctx.input);
    const interpolation = ctx.sym<Interpolation>('interpolation');
    if (interpolation === 'bilinear' && rank !== 2) ctx.fail(shapeRules.bilinearNeeds2d(d));
    const size = ctx.ints('size', rank);
    const spatial = d.slice(0, rank);
    const out = spatial.map((n, i) => n * size[i]);
    const channels = d.at(-1)!;
    return { type: batched([...out, channels]), attrs: { rank, size, spatial, out, channels, interpolation } };
  },
  label: (a) => `${a.size.join('x')}${a.interpolation === 'bilinear' ? ' bilinear' : ''}`,
});
