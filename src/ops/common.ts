/** Argument specs shared by several ops, so that they read and default alike. */
import type { AttrSpec } from './op.js';

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
export const bias: AttrSpec = { name: 'bias', type: { kind: 'bool' }, default: true, doc: 'add a learned bias (Keras use_bias)' };
