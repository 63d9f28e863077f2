/** dropout: zeroes a fraction `rate` of units while training (inverted: kept units scale by 1/(1-rate)); identity at inference. */
import { defineOp } from './op.js';

export default defineOp<{ rate: number }>({
  name: 'dropout',
  family: 'regularization',
  doc: 'Randomly drops units during training.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'rate', type: { kind: 'number', min: 0, max: 1, exclusiveMax: true }, positional: true, doc: 'fraction of units to drop, in [0, 1)' }],
  infer: (ctx) => ({ type: ctx.input, attrs: { rate: ctx.num('rate') } }),
  label: (a) => `${a.rate}`,
});
