/** Argument specs shared by several ops, so that they read and default alike. */
import { type Activation, ACTIVATIONS } from './activations.js';
import type { AttrSpec, OpDef } from './op.js';

export const padding: AttrSpec = {
  name: 'padding',
  type: { kind: 'symbol', choices: ['valid', 'same'] },
  default: { symbol: 'valid' },
  doc: "'valid' (no padding) or 'same' (zero padding so that output = ceil(input / stride))",
};
export const sequences: AttrSpec = {
  name: 'sequences',
  type: { kind: 'bool' },
  default: false,
  doc: 'return the whole sequence [steps, units] instead of the last state [units] (Keras return_sequences)',
};
export const units: AttrSpec = { name: 'units', type: { kind: 'int' }, positional: true, doc: 'output width' };
/**
 * Keras's `activation=` of dense and conv: any name of the activation table,
 * meaning Keras's string form (the function's default arguments, nameArgs).
 * Left out, the layer is linear; optional rather than defaulted, so that the
 * IR prints it only where it was given. The layer applies it itself: one node,
 * one row in the summary, as Keras shows it.
 */
export const activation: AttrSpec = {
  name: 'activation',
  type: { kind: 'symbol', choices: Object.keys(ACTIVATIONS) },
  optional: true,
  doc: "an activation applied to the output, by name (Keras's activation='relu'; default: none)",
};
/**
 * The activation layer `op` applies to its own output, given its resolved
 * attributes: dense's or a convolution's `activation =`, or the optimizer's
 * fused one; undefined for none ('linear') and for ops without one (an rnn's
 * activation is inside its recurrence).
 */
export function ownActivation(op: OpDef, resolved: unknown): Activation | undefined {
  if (op.family !== 'core' && op.family !== 'conv') return undefined;
  const a = (resolved as { activation?: Activation } | undefined)?.activation;
  return a === undefined || a === 'linear' ? undefined : a;
}

export const bias: AttrSpec = { name: 'bias', type: { kind: 'bool' }, default: true, doc: 'add a learned bias (Keras use_bias)' };
