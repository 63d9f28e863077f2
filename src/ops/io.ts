/** Graph-internal ops that source code cannot call: model inputs and constants. Their types are set when built. */
import type { ConstTensor, TensorType } from '../ir/types.js';
import { defineOp } from './op.js';

export const input = defineOp({
  name: 'input',
  family: 'io',
  doc: 'A model input.',
  internal: true,
  acceptsInt: true,
  inputs: { min: 0, max: 0, names: [] },
  attrs: [],
  infer: (ctx) => ctx.attrs.type as unknown as TensorType,
});

export const constant = defineOp({
  name: 'constant',
  family: 'io',
  doc: 'A constant tensor, shared by every example in the batch.',
  internal: true,
  inputs: { min: 0, max: 0, names: [] },
  attrs: [],
  infer: (ctx) => ({ shape: [null, ...(ctx.attrs.value as ConstTensor).shape], dtype: 'float32' }),
});
