/** Graph-internal ops that source code cannot call: model inputs and constants. Their types are set when built. */
import type { ConstTensor, TensorType } from '../ir/types.js';
import { defineOp } from './op.js';

export const input = defineOp<{}>({
  name: 'input',
  family: 'io',
  doc: 'A model input.',
  internal: true,
  acceptsInt: true,
  inputs: { min: 0, max: 0, names: [] },
  attrs: [],
  infer: (ctx) => ({ type: ctx.attrs.type as unknown as TensorType, attrs: {} }),
});

/** A constant's value: one example, shared by every example in the batch. */
export interface ConstantAttrs {
  value: ConstTensor;
}

export const constant = defineOp<ConstantAttrs>({
  name: 'constant',
  family: 'io',
  doc: 'A constant tensor, shared by every example in the batch.',
  internal: true,
  inputs: { min: 0, max: 0, names: [] },
  attrs: [],
  infer(ctx) {
    const value = ctx.attrs.value as ConstTensor;
    return { type: { shape: [null, ...value.shape], dtype: 'float32' }, attrs: { value } };
  },
});
