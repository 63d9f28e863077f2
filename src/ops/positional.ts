/**
 * positional: adds a position encoding to a [steps, width] sequence, as the
 * Transformer does: the fixed sinusoidal table (even index 2i: sin(p / 10000^(2i/d)),
 * odd index 2i+1: cos of the same angle) or a learned [steps, width] table.
 */
import { shapeRules } from '../diagnostics.js';
import { defineOp, dims } from './op.js';

export interface PositionalAttrs {
  kind: 'sinusoidal' | 'learned';
  steps: number;
  width: number;
}

export default defineOp<PositionalAttrs>({
  name: 'positional',
  family: 'embedding',
  doc: 'Adds a sinusoidal or learned position encoding to a sequence.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'kind', type: { kind: 'symbol', choices: ['sinusoidal', 'learned'] }, positional: true, default: { symbol: 'sinusoidal' }, doc: "'sinusoidal' (fixed) or 'learned'" }],
  infer(ctx) {
    ctx.rank([2], shapeRules.positionalInput);
    const [steps, width] = dims(ctx.input);
    return { type: ctx.input, attrs: { kind: ctx.sym<PositionalAttrs['kind']>('kind'), steps, width } };
  },
  params: (a) => (a.kind === 'learned' ? [{ name: 'embeddings', shape: [a.steps, a.width], init: 'glorot_uniform', trainable: true }] : []),
  label: (a) => a.kind,
});
