/** layernorm: normalises each position over its last axis, then scales and shifts (Keras LayerNormalization). */
import { defineOp, dims } from './op.js';

export default defineOp({
  name: 'layernorm',
  family: 'norm',
  doc: 'Layer normalisation over the last axis.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'epsilon', type: { kind: 'number', min: 0 }, default: 1e-3, doc: 'added to the variance (Keras default 1e-3)' }],
  infer: (ctx) => ctx.input,
  params: (ctx) => {
    const d = dims(ctx.input).at(-1)!;
    return [
      { name: 'gamma', shape: [d], init: 'ones', trainable: true },
      { name: 'beta', shape: [d], init: 'zeros', trainable: true },
    ];
  },
});
