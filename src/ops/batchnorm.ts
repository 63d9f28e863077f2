/**
 * batchnorm: batch normalization over one axis (Keras BatchNormalization),
 * the first op with layer state.
 *
 *   training   y = gamma (x - mean_B) / sqrt(var_B + epsilon) + beta, with the
 *              batch's mean and biased variance per channel (over the batch
 *              and every other axis); then each moving statistic m takes
 *              m <- m momentum + batch_stat (1 - momentum)
 *   inference  y = gamma (x - moving_mean) / sqrt(moving_variance + epsilon) + beta
 *
 * Parameters, in Keras's order and names: gamma (ones; with scale) and beta
 * (zeros; with center) are trained; moving_mean (zeros) and moving_variance
 * (ones) are state: non-trainable, updated by training steps, stored in the
 * weights file. Keras counts all four in Total params.
 */
import { shapeRules } from '../diagnostics.js';
import { defineOp, dims, product } from './op.js';

export interface BatchNormAttrs {
  /** The normalised axis, counted without the batch (0 is the first per-example axis). */
  axis: number;
  channels: number;
  /** Values per example before and after the axis: the data is [batch * outer, channels, inner]. */
  outer: number;
  inner: number;
  /** The axis is the last one (Keras's default, the channels): the only one a preceding layer's weights can absorb, and the one the diagram does not name. */
  last: boolean;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

export default defineOp<BatchNormAttrs>({
  name: 'batchnorm',
  family: 'norm',
  doc: 'Batch normalization: normalises each channel with the batch statistics in training and moving averages of them at inference.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'axis', type: { kind: 'int', min: -Infinity }, default: -1, doc: 'the channel axis, counted as Keras does: 1 is the first after the batch, -1 the last' },
    { name: 'momentum', type: { kind: 'number', min: 0, max: 1 }, default: 0.99, doc: 'weight of the old value in each moving-average update' },
    { name: 'epsilon', type: { kind: 'number', min: 0 }, default: 1e-3, doc: 'added to the variance (Keras default 1e-3)' },
    { name: 'center', type: { kind: 'bool' }, default: true, doc: 'learn an offset beta' },
    { name: 'scale', type: { kind: 'bool' }, default: true, doc: 'learn a factor gamma' },
  ],
  infer(ctx) {
    const d = dims(ctx.input);
    const rank = d.length + 1;
    const given = ctx.int('axis');
    const axis = (given < 0 ? rank + given : given) - 1;
    if (axis < 0 || axis >= d.length) ctx.fail(shapeRules.batchnormAxis(given, given === 0 || axis === -1, d));
    const a: BatchNormAttrs = {
      axis,
      channels: d[axis],
      outer: product(d.slice(0, axis)),
      inner: product(d.slice(axis + 1)),
      last: axis === d.length - 1,
      momentum: ctx.num('momentum'),
      epsilon: ctx.num('epsilon'),
      center: ctx.bool('center'),
      scale: ctx.bool('scale'),
    };
    return { type: ctx.input, attrs: a };
  },
  params: (a) => [
    ...(a.scale ? [{ name: 'gamma', shape: [a.channels], init: 'ones' as const, trainable: true }] : []),
    ...(a.center ? [{ name: 'beta', shape: [a.channels], init: 'zeros' as const, trainable: true }] : []),
    { name: 'moving_mean', shape: [a.channels], init: 'zeros', trainable: false, state: true },
    { name: 'moving_variance', shape: [a.channels], init: 'ones', trainable: false, state: true },
  ],
  // `inner === 1` is not the test: on [6, 1] the axis over the 6 steps has inner 1.
  label: (a) => (a.last ? '' : `axis ${a.axis + 1}`),
});
