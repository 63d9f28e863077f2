/**
 * embedding: integer token ids [steps] -> vectors [steps, dim] by table lookup
 * (Keras Embedding). With mask_zero, id 0 is padding: the output carries a
 * mask (ir/mask.ts) that recurrent layers, attention and global_avgpool
 * respect, as Keras's; the table still has a row for id 0 (vocab counts it).
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims } from './op.js';

export interface EmbeddingAttrs {
  vocab: number;
  dim: number;
  maskZero: boolean;
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
    // Optional rather than default false, so that IR dumps of unmasked models stay as they were.
    { name: 'mask_zero', type: { kind: 'bool' }, optional: true, doc: 'id 0 is padding: later layers skip those steps (Keras mask_zero; default false)' },
  ],
  infer(ctx) {
    if (ctx.input.dtype !== 'int32') ctx.fail(shapeRules.tokenIdsNotInt(dims(ctx.input)));
    const a = { vocab: ctx.int('vocab'), dim: ctx.int('dim'), maskZero: ctx.attrs.mask_zero === true };
    if (a.maskZero && dims(ctx.input).length !== 1) ctx.fail(shapeRules.maskZeroIds(dims(ctx.input)));
    return { type: batched([...dims(ctx.input), a.dim]), attrs: a };
  },
  params: (a) => [{ name: 'embeddings', shape: [a.vocab, a.dim], init: 'uniform', trainable: true }],
  label: (a) => `${a.vocab} x ${a.dim}${a.maskZero ? ' mask 0' : ''}`,
});
