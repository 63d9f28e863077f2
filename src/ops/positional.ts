/**
 * positional: adds a position encoding to a [steps, width] sequence, as the
 * Transformer does: the fixed sinusoidal table (even index 2i: sin(p / 10000^(2i/d)),
 * odd index 2i+1: cos of the same angle) or a learned [max_len, width] table
 * (Keras-NLP PositionEmbedding(sequence_length = max_len)) of which the first
 * `steps` rows are added. max_len defaults to the input's steps; a learned
 * table longer than the sequence is how BERT (512) and GPT-2 (1024) hold
 * positions for inputs up to that length. Steps beyond max_len are an error
 * for both kinds, so that max_len means the same for each.
 */
import { shapeRules } from '../diagnostics.js';
import { defineOp, dims } from './op.js';

export interface PositionalAttrs {
  kind: 'sinusoidal' | 'learned';
  steps: number;
  width: number;
  /** The table's rows (>= steps). */
  maxLen: number;
}

export default defineOp<PositionalAttrs>({
  name: 'positional',
  family: 'embedding',
  doc: 'Adds a sinusoidal or learned position encoding to a sequence.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'kind', type: { kind: 'symbol', choices: ['sinusoidal', 'learned'] }, positional: true, default: { symbol: 'sinusoidal' }, doc: "'sinusoidal' (fixed) or 'learned'" },
    { name: 'max_len', type: { kind: 'int' }, optional: true, doc: 'the longest sequence, the rows of the table (Keras-NLP sequence_length; default: the input\'s steps)' },
  ],
  infer(ctx) {
    ctx.rank([2], shapeRules.positionalInput);
    const [steps, width] = dims(ctx.input);
    const kind = ctx.sym<PositionalAttrs['kind']>('kind');
    const given = ctx.maybeInt('max_len');
    // A symbolic T is checked against max_len at run time; a learned table needs its rows fixed.
    const symbolic = ctx.isSymbolic(0, 1);
    if (kind === 'learned' && given === undefined && symbolic) ctx.fail(shapeRules.positionalLength());
    const maxLen = given ?? steps;
    if (steps > maxLen && !symbolic) ctx.fail(shapeRules.positionalTooLong(steps, maxLen));
    return { type: ctx.input, attrs: { kind, steps, width, maxLen } };
  },
  params: (a) => (a.kind === 'learned' ? [{ name: 'embeddings', shape: [a.maxLen, a.width], init: 'glorot_uniform', trainable: true }] : []),
  label: (a) => (a.maxLen === a.steps ? a.kind : `${a.kind}, max_len ${a.maxLen}`),
});
