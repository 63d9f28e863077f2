/** add (elementwise sum of equal shapes, as Keras Add) and concat (along an axis; other dimensions must agree). */
import { batched, defineOp, dims, shapeStr } from './op.js';

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
      if (a.length !== b.length) ctx.fail(`shapes ${shapeStr(first.shape)} and ${shapeStr(other.shape)} have different ranks`);
      const i = a.findIndex((n, k) => n !== b[k]);
      if (i >= 0) ctx.fail(`shapes ${shapeStr(first.shape)} and ${shapeStr(other.shape)} differ in dimension ${i + 1}`, hintFor(a, b));
    }
    return { type: first, attrs: {} };
  },
});

/** Spatial sizes that differ by an even amount usually mean a padding mismatch. */
function hintFor(a: number[], b: number[]): string | undefined {
  if (a.length === 3 && a[2] === b[2] && a[0] !== b[0]) return "the branches shrink differently: use padding = same in the convolutions";
  if (a.at(-1) !== b.at(-1)) return 'the widths differ: add a dense or 1x1 conv to match them';
  return undefined;
}

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
    if (axis <= 0 || axis >= rank) ctx.fail(`axis ${given} is ${axis === 0 ? 'the batch dimension' : 'out of range'} for inputs ${shapeStr(ctx.inputs[0].shape)}`);
    let joined = 0;
    for (const t of ctx.inputs) {
      const d = dims(t);
      const bad = d.length !== first.length || d.some((n, k) => k !== axis - 1 && n !== first[k]);
      if (bad)
        ctx.fail(`shapes ${shapeStr(ctx.inputs[0].shape)} and ${shapeStr(t.shape)} must agree except in dimension ${axis}`, 'flatten the inputs first, e.g. concat(a -> flatten, b -> flatten)');
      joined += d[axis - 1];
    }
    return { type: batched(first.map((n, k) => (k === axis - 1 ? joined : n))), attrs: { axis } };
  },
});
