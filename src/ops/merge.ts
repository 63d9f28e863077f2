/** add (elementwise sum of equal shapes, as Keras Add) and concat (along an axis; other dimensions must agree). */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims } from './op.js';

export const add = defineOp<{}>({
  name: 'add',
  family: 'merge',
  doc: 'Elementwise sum of two or more tensors of the same shape.',
  inputs: { min: 2, max: Infinity, names: ['a', 'b'] },
  attrs: [],
  infer(ctx) {
    const [first, ...rest] = ctx.inputs;
    for (const other of rest) {
      const a = dims(first), b = dims(other);
      if (a.length !== b.length) ctx.fail(shapeRules.addRanks(a, b));
      const i = a.findIndex((n, k) => n !== b[k]);
      if (i >= 0) ctx.fail(shapeRules.addDimension(a, b, i));
    }
    return { type: first, attrs: {} };
  },
});

/** concat's axis, counted as Keras does (0 is the batch), resolved to be positive. */
export interface ConcatAttrs {
  axis: number;
}

export const concat = defineOp<ConcatAttrs>({
  name: 'concat',
  family: 'merge',
  doc: 'Joins tensors along an axis (default: the last).',
  inputs: { min: 1, max: Infinity, names: ['a', 'b'] },
  attrs: [{ name: 'axis', type: { kind: 'int', min: -Infinity }, default: -1, doc: 'axis counted as Keras does: 0 is the batch, -1 the last' }],
  infer(ctx) {
    const first = dims(ctx.inputs[0]);
    const rank = first.length + 1;
    const given = ctx.int('axis');
    const axis = given < 0 ? rank + given : given;
    if (axis <= 0 || axis >= rank) ctx.fail(shapeRules.concatAxis(given, axis === 0, first));
    let joined = 0;
    for (const t of ctx.inputs) {
      const d = dims(t);
      const bad = d.length !== first.length || d.some((n, k) => k !== axis - 1 && n !== first[k]);
      if (bad) ctx.fail(shapeRules.concatShapes(first, d, axis));
      joined += d[axis - 1];
    }
    return { type: batched(first.map((n, k) => (k === axis - 1 ? joined : n))), attrs: { axis } };
  },
});
