/** dense: y = x W + b over the last axis (Keras Dense). Accepts [features] or [steps, features]. */
import { bias, units } from './common.js';
import { batched, defineOp, dims, product } from './op.js';

export default defineOp({
  name: 'dense',
  family: 'core',
  doc: 'Fully connected layer: every input unit connects to every output unit.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [units, bias],
  infer(ctx) {
    // Keras would apply Dense to the last axis of an image too; on a [H, W, C]
    // feature map that is nearly always a forgotten flatten, so we reject it.
    ctx.rank([1, 2], 'a [features] or [steps, features] input', 'insert flatten before dense');
    return batched([...dims(ctx.input).slice(0, -1), ctx.int('units')]);
  },
  params(ctx) {
    const inWidth = dims(ctx.input).at(-1)!;
    const u = ctx.int('units');
    return [
      { name: 'kernel', shape: [inWidth, u], init: 'glorot_uniform', trainable: true },
      ...(ctx.bool('bias') ? [{ name: 'bias', shape: [u], init: 'zeros' as const, trainable: true }] : []),
    ];
  },
  flops: (ctx, out) => 2 * product(dims(out)) * dims(ctx.input).at(-1)!,
  label: (ctx) => `${ctx.int('units')}`,
});
