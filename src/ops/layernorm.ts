/** layernorm: normalises each position over its last axis, then scales and shifts (Keras LayerNormalization). */
import { defineOp, dims } from './op.js';

export interface LayerNormAttrs {
  epsilon: number;
  /** The normalised (last) axis's width. */
  width: number;
}

export default defineOp<LayerNormAttrs>({
  name: 'layernorm',
  family: 'norm',
  doc: 'Layer normalisation over the last axis.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'epsilon', type: { kind: 'number', min: 0 }, default: 1e-3, doc: 'added to the variance (Keras default 1e-3)' }],
  infer: (ctx) => ({ type: ctx.input, attrs: { epsilon: ctx.num('epsilon'), width: dims(ctx.input).at(-1)! } }),
  params: (a) => [
    { name: 'gamma', shape: [a.width], init: 'ones', trainable: true },
    { name: 'beta', shape: [a.width], init: 'zeros', trainable: true },
  ],
});
