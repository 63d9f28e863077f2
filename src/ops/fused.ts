/**
 * Fused ops, made only by the optimizer (never written in source): a dense or
 * convolution layer with its activation applied in the same pass over memory,
 * as tf.fused.matMul / tf.fused.conv2d do. Shape, parameters and FLOPs are the
 * base op's; the layer keeps the base layer's name, so its weights keep theirs.
 */
import { conv1d, conv2d } from './conv.js';
import dense from './dense.js';
import { defineOp, OpDef } from './op.js';

export const FUSABLE_ACTIVATIONS = ['relu', 'sigmoid', 'tanh'] as const;

function fused(base: OpDef): OpDef {
  return defineOp({
    ...base,
    name: `fused_${base.name}`,
    doc: `${base.name} with its activation fused in.`,
    internal: true,
    attrs: [...base.attrs, { name: 'activation', type: { kind: 'symbol', choices: FUSABLE_ACTIVATIONS }, doc: 'the fused activation' }],
    label: (ctx) => `${base.label?.(ctx) ?? ''} + ${ctx.sym('activation')}`.trim(),
  });
}

export const fused_dense = fused(dense);
export const fused_conv1d = fused(conv1d);
export const fused_conv2d = fused(conv2d);
