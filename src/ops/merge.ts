/**
 * Merges: add (elementwise sum of equal shapes, as Keras Add); multiply,
 * subtract, maximum, minimum and average (elementwise, broadcasting as Keras
 * does: each dimension equal, or 1 in some of the inputs); concat (along an
 * axis; other dimensions must agree).
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims, type OpDef } from './op.js';

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

export type MergeKind = 'multiply' | 'subtract' | 'maximum' | 'minimum' | 'average';

/** A broadcasting merge's kind; the output's per-example shape is the inputs' dimension-wise maximum. */
export interface MergeAttrs {
  kind: MergeKind;
}

function mergeOp(kind: MergeKind, doc: string, inputs: { min: number; max: number }): OpDef<MergeAttrs> {
  return defineOp({
    name: kind,
    family: 'merge',
    doc,
    inputs: { ...inputs, names: ['a', 'b'] },
    attrs: [],
    infer(ctx) {
      const [first, ...rest] = ctx.inputs.map(dims);
      const shape = [...first];
      for (const other of rest) {
        if (other.length !== shape.length) ctx.fail(shapeRules.addRanks(shape, other));
        other.forEach((n, i) => {
          if (n !== shape[i] && n !== 1 && shape[i] !== 1) ctx.fail(shapeRules.notBroadcastable(shape, other, i));
          shape[i] = Math.max(shape[i], n);
        });
      }
      return { type: batched(shape), attrs: { kind } };
    },
  });
}

export const multiply = mergeOp('multiply', 'Elementwise product of two or more tensors (broadcasting dimensions of 1).', { min: 2, max: Infinity });
export const subtract = mergeOp('subtract', 'The first tensor minus the second, elementwise (broadcasting dimensions of 1).', { min: 2, max: 2 });
export const maximum = mergeOp('maximum', 'Elementwise maximum of two or more tensors (broadcasting dimensions of 1).', { min: 2, max: Infinity });
export const minimum = mergeOp('minimum', 'Elementwise minimum of two or more tensors (broadcasting dimensions of 1).', { min: 2, max: Infinity });
export const average = mergeOp('average', 'Elementwise mean of two or more tensors (broadcasting dimensions of 1).', { min: 2, max: Infinity });
