/**
 * positional: adds a position encoding to a [steps, width] sequence, as the
 * Transformer does: the fixed sinusoidal table (even index 2i: sin(p / 10000^(2i/d)),
 * odd index 2i+1: cos of the same angle) or a learned [steps, width] table.
 * `length` gives the table its own number of rows (Keras-NLP's
 * PositionEmbedding(sequence_length)): a sequence of any length up to it
 * adds the table's first rows, so a learned table works for a symbolic T
 * (checked against T at run time).
 */
import { shapeRules } from '../diagnostics.js';
import { defineOp, dims } from './op.js';

export interface PositionalAttrs {
  kind: 'sinusoidal' | 'learned';
  steps: number;
  width: number;
  /** Rows of the learned table (`length`, else steps). */
  rows: number;
}

export default defineOp<PositionalAttrs>({
  name: 'positional',
  family: 'embedding',
  doc: 'Adds a sinusoidal or learned position encoding to a sequence.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'kind', type: { kind: 'symbol', choices: ['sinusoidal', 'learned'] }, positional: true, default: { symbol: 'sinusoidal' }, doc: "'sinusoidal' (fixed) or 'learned'" },
    { name: 'length', type: { kind: 'int' }, optional: true, doc: 'rows of the learned table, the longest sequence it takes (default: the input\'s steps)' },
  ],
  infer(ctx) {
    ctx.rank([2], shapeRules.positionalInput);
    const [steps, width] = dims(ctx.input);
    const kind = ctx.sym<PositionalAttrs['kind']>('kind');
    const length = ctx.maybeInt('length');
    if (kind === 'learned' && length === undefined && ctx.isSymbolic(0, 1)) ctx.fail(shapeRules.positionalLength());
    if (length !== undefined && steps > length && !ctx.isSymbolic(0, 1)) ctx.fail(shapeRules.positionalTooLong(steps, length));
    return { type: ctx.input, attrs: { kind, steps, width, rows: length ?? steps } };
  },
  params: (a) => (a.kind === 'learned' ? [{ name: 'embeddings', shape: [a.rows, a.width], init: 'glorot_uniform', trainable: true }] : []),
  label: (a) => a.kind,
});
