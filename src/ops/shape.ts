/** flatten and reshape: change the per-example shape, keep the data and the batch dimension. */
import { batched, defineOp, dims, product } from './op.js';

export const flatten = defineOp({
  name: 'flatten',
  family: 'shape',
  doc: 'Flattens each example to one dimension.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [],
  infer: (ctx) => batched([product(dims(ctx.input))], ctx.input.dtype),
});

export const reshape = defineOp({
  name: 'reshape',
  family: 'shape',
  doc: 'Reshapes each example; one dimension may be -1 (inferred).',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'shape', type: { kind: 'shape' }, positional: true, doc: 'the new per-example shape' }],
  infer(ctx) {
    const target = ctx.attrs.shape as number[];
    const size = product(dims(ctx.input));
    const known = product(target.filter((d) => d !== -1));
    const free = target.filter((d) => d === -1).length;
    if (free === 1 && size % known === 0) return batched(target.map((d) => (d === -1 ? size / known : d)), ctx.input.dtype);
    if (free === 0 && known === size) return batched(target, ctx.input.dtype);
    return ctx.fail(`cannot reshape [${dims(ctx.input).join(', ')}] (${size} values) to [${target.join(', ')}]`);
  },
  label: (ctx) => `[${(ctx.attrs.shape as number[]).join(', ')}]`,
});
