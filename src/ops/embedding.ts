/** embedding: integer token ids [steps] -> vectors [steps, dim] by table lookup (Keras Embedding). */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims } from './op.js';

export interface EmbeddingAttrs {
  vocab: number;
  dim: number;
}

export default defineOp<EmbeddingAttrs>({
  name: 'embedding',
  family: 'embedding',
  doc: 'Looks up a learned vector for each integer token id.',
  inputs: { min: 1, max: 1, names: ['tokens'] },
  acceptsInt: true,
  attrs: [
    { name: 'vocab', type: { kind: 'int' }, positional: true, doc: 'number of distinct token ids (Keras input_dim)' },
    { name: 'dim', type: { kind: 'int' }, positional: true, doc: 'vector width (Keras output_dim)' },
  ],
  infer(ctx) {
    if (ctx.input.dtype !== 'int32') ctx.fail(shapeRules.tokenIdsNotInt(dims(ctx.input)));
    const a = { vocab: ctx.int('vocab'), dim: ctx.int('dim') };
    return { type: batched([...dims(ctx.input), a.dim]), attrs: a };
  },
  params: (a) => [{ name: 'embeddings', shape: [a.vocab, a.dim], init: 'uniform', trainable: true }],
  label: (a) => `${a.vocab} x ${a.dim}`,
});
