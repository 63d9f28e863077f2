/** flatten and reshape: change the per-example shape, keep the data and the batch dimension. */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims, product } from './op.js';

/** The per-example shape after the op, -1 resolved. */
export interface ReshapeAttrs {
  shape: number[];
}

export const flatten = defineOp<ReshapeAttrs>({
  name: 'flatten',
  family: 'shape',
  doc: 'Flattens each example to one dimension.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [],
  infer(ctx) {
    const shape = [product(dims(ctx.input))];
    return { type: batched(shape, ctx.input.dtype), attrs: { shape } };
  },
});

export const reshape = defineOp<ReshapeAttrs & { written: number[] }>({
  name: 'reshape',
  family: 'shape',
  doc: 'Reshapes each example; one dimension may be -1 (inferred).',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'shape', type: { kind: 'shape' }, positional: true, doc: 'the new per-example shape' }],
  infer(ctx) {
    const written = ctx.attrs.shape as number[];
    const size = product(dims(ctx.input));
    const known = product(written.filter((d) => d !== -1));
    const free = written.filter((d) => d === -1).length;
    const shape =
      free === 1 && size % known === 0
        ? written.map((d) => (d === -1 ? size / known : d))
        : free === 0 && known === size
          ? written
          : ctx.fail(shapeRules.cannotReshape(dims(ctx.input), size, written));
    return { type: batched(shape, ctx.input.dtype), attrs: { shape, written } };
  },
  label: (a) => `[${a.written.join(', ')}]`,
});
