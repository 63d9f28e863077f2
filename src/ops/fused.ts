/**
 * Fused ops, made only by the optimizer (never written in source): a dense or
 * convolution layer with its activation applied in the same pass over memory,
 * as tf.fused.matMul / tf.fused.conv2d do. Shape, parameters and FLOPs are the
 * base op's, and so is the resolved attribute record (its `activation` is the
 * fused one); the layer keeps the base layer's name, so its weights keep theirs.
 */
import { type Activation, FUSABLE_ACTIVATIONS } from './activations.js';
import { conv1d, conv2d } from './conv.js';
import dense from './dense.js';
import { defineOp, OpDef } from './op.js';

function fused<A extends { activation: Activation }>(base: OpDef<A>): OpDef<A> {
  return defineOp({
    ...base,
    name: `fused_${base.name}`,
    doc: `${base.name} with its activation fused in.`,
    internal: true,
    attrs: [
      ...base.attrs.filter((spec) => spec.name !== 'activation'),
      { name: 'activation', type: { kind: 'symbol', choices: FUSABLE_ACTIVATIONS }, doc: 'the fused activation' },
    ],
    label: (a) => `${base.label?.(a) ?? ''} + ${a.activation}`.trim(),
  });
}

export const fused_dense = fused(dense);
export const fused_conv1d = fused(conv1d);
export const fused_conv2d = fused(conv2d);
