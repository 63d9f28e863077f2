/**
 * dense: y = x W + b over the last axis (Keras Dense). Accepts [features] or [steps, features].
 *
 * `tie = wte` makes W the transpose of the embedding wte's table [vocab, dim]
 * (GPT-2's LM head: logits = h wte^T; Keras-NLP's ReversibleEmbedding, and
 * MaskedLMHead's token_embedding with its bias): the head adds no kernel of
 * its own, only its bias if it has one, and the table's gradient sums both uses.
 */
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
  /** The embedding layer whose table [units, inWidth] is the kernel, transposed (`tie =`). */
  tied?: string;
}

function resolveDense(ctx: OpContext): DenseAttrs {
  // Keras would apply Dense to the last axis of an image too; on a [H, W, C]
  // feature map that is nearly always a forgotten flatten, so we reject it.
  ctx.rank([1, 2], shapeRules.denseInput);
  const d = dims(ctx.input);
  const activation = ctx.attrs.activation === undefined ? 'linear' : ctx.sym<Activation>('activation');
  const a: DenseAttrs = { units: ctx.int('units'), bias: ctx.bool('bias'), inWidth: d.at(-1)!, positions: product(d.slice(0, -1)), activation };
  if (ctx.attrs.tie === undefined) return a;
  const tie = ctx.call('tie');
  const layer = tie.attrs.layer as string;
  if (tie.call !== 'embedding') ctx.fail(shapeRules.tieNotEmbedding(layer, tie.call));
  const [vocab, dim] = [tie.attrs.vocab as number, tie.attrs.dim as number];
  if (dim !== a.inWidth) ctx.fail(shapeRules.tiedWidth(layer, dim, a.inWidth));
  if (vocab !== a.units) ctx.fail(shapeRules.tiedUnits(layer, vocab, a.units));
  return { ...a, tied: layer };
}

export default defineOp<DenseAttrs>({
  name: 'dense',
  family: 'core',
  doc: 'Fully connected layer: every input unit connects to every output unit.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    units,
    bias,
    activation,
    { name: 'tie', type: { kind: 'layer' }, optional: true, doc: "an embedding whose table, transposed, is the kernel (GPT-2's LM head; Keras-NLP's ReversibleEmbedding)" },
  ],
  infer(ctx) {
    const a = resolveDense(ctx);
    return { type: batched([...dims(ctx.input).slice(0, -1), a.units]), attrs: a };
  },
  params: (a) => [
    a.tied === undefined
      ? { name: 'kernel', shape: [a.inWidth, a.units], init: 'glorot_uniform', trainable: true }
      : { name: 'embeddings', layer: a.tied, shape: [a.units, a.inWidth], init: 'uniform', trainable: true, shared: true },
    ...(a.bias ? [{ name: 'bias', shape: [a.units], init: 'zeros' as const, trainable: true }] : []),
  ],
  flops: (a) => 2 * a.positions * a.units * a.inWidth,
  label: (a) => `${a.units}${a.tied === undefined ? '' : ` tied to ${a.tied}`}`,
});

/** The kernel's local parameter name, and whether it is stored transposed ([units, inWidth]: a tied embedding's table). */
export const denseKernel = (a: DenseAttrs): { name: string; transposed: boolean } =>
  a.tied === undefined ? { name: 'kernel', transposed: false } : { name: 'embeddings', transposed: true };
