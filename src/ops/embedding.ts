/** embedding: integer token ids [steps] -> vectors [steps, dim] by table lookup (Keras Embedding). */
import { batched, defineOp, dims } from './op.js';

export default defineOp({
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
    if (ctx.input.dtype !== 'int32') ctx.fail(`input [${dims(ctx.input).join(', ')}] must be integer token ids`, "declare the input as 'int', e.g. 'input tokens: [200] int'");
    return batched([...dims(ctx.input), ctx.int('dim')]);
  },
  params: (ctx) => [{ name: 'embeddings', shape: [ctx.int('vocab'), ctx.int('dim')], init: 'uniform', trainable: true }],
  label: (ctx) => `${ctx.int('vocab')} x ${ctx.int('dim')}`,
});
