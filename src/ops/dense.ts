/** dense: y = x W + b over the last axis (Keras Dense). Accepts [features] or [steps, features]. */
import { shapeRules } from '../diagnostics.js';
import type { Activation } from './activations.js';
import { activation, bias, units } from './common.js';
import { batched, defineOp, dims, OpContext, product } from './op.js';

export interface DenseAttrs {
  units: number;
  bias: boolean;
  /** Width of the input's last axis, and the positions per example it applies to (steps, or 1). */
  inWidth: number;
  positions: number;
  /** `activation =`, or the optimizer's fused one, with its bare name's arguments ('linear': none); applied in the same pass. */
  activation: Activation;
}

function resolveDense(ctx: OpContext): DenseAttrs {
  // Keras would apply Dense to the last axis of an image too; on a [H, W, C]
  // feature map that is nearly always a forgotten flatten, so we reject it.
  ctx.rank([1, 2], shapeRules.denseInput);
  const d = dims(ctx.input);
  const activation = ctx.attrs.activation === undefined ? 'linear' : ctx.sym<Activation>('activation');
  return { units: ctx.int('units'), bias: ctx.bool('bias'), inWidth: d.at(-1)!, positions: product(d.slice(0, -1)), activation };
}

export default defineOp<DenseAttrs>({
  name: 'dense',
  family: 'core',
  doc: 'Fully connected layer: every input unit connects to every output unit.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [units, bias, activation],
  infer(ctx) {
    const a = resolveDense(ctx);
    return { type: batched([...dims(ctx.input).slice(0, -1), a.units]), attrs: a };
  },
  params: (a) => [
    { name: 'kernel', shape: [a.inWidth, a.units], init: 'glorot_uniform', trainable: true },
    ...(a.bias ? [{ name: 'bias', shape: [a.units], init: 'zeros' as const, trainable: true }] : []),
  ],
  flops: (a) => 2 * a.positions * a.units * a.inWidth,
  label: (a) => `${a.units}`,
});
