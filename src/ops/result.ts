/**
 * result: one part of a tuple, the value of a name in a destructuring
 * statement (`out, h, c = x -> lstm(256, return_state = true)` makes three
 * result nodes of the lstm). Like ONNX's and TensorFlow's tuple access, it is
 * the only op that reads a tuple (src/ir/types.ts, TensorType.parts); it has
 * no parameters and no FLOPs. Not callable from source.
 *
 * Also here, the one definition of the tuple layout every backend that packs
 * a tuple into one buffer uses (the interpreter, its autodiff): part after
 * part, each part batch-major as a tensor of its own.
 */
import { shapeRules } from '../diagnostics.js';
import type { TensorType } from '../ir/types.js';
import { defineOp, dims, product } from './op.js';

export interface ResultAttrs {
  index: number;
  /** How many names the destructuring statement gives: must be the tuple's number of parts. */
  count: number;
  part: TensorType;
}

export default defineOp<ResultAttrs>({
  name: 'result',
  family: 'core',
  doc: 'One result of a layer with several (a recurrent layer with return_state).',
  inputs: { min: 1, max: 1, names: ['tuple'] },
  attrs: [
    { name: 'index', type: { kind: 'int', min: 0 }, doc: 'which result, from 0' },
    { name: 'count', type: { kind: 'int' }, doc: 'how many results the destructuring names' },
  ],
  internal: true,
  infer(ctx) {
    const count = ctx.int('count');
    const parts = ctx.input.parts ?? ctx.fail(shapeRules.notATuple(count));
    if (parts.length !== count) ctx.fail(shapeRules.unpackCount(parts.length, count));
    const part = parts[ctx.int('index')];
    return { type: part, attrs: { index: ctx.int('index'), count, part } };
  },
});

/** Where each part of a tuple lies in its packed buffer for `batch` examples: [offset, length] in floats. */
export function partRanges(tuple: TensorType, batch: number): [number, number][] {
  let offset = 0;
  return tuple.parts!.map((p) => {
    const length = batch * product(dims(p));
    offset += length;
    return [offset - length, length];
  });
}

/**
 * The tuple type of `parts`: see TensorType.parts. While a part has a
 * dimension variable the packed size is unknown (null): a graph is
 * specialized to numbers before the interpreter packs anything.
 */
export function tupleType(parts: TensorType[]): TensorType {
  const sizes = parts.map((p) => p.shape.slice(1));
  const known = sizes.every((s) => s.every((d) => typeof d === 'number'));
  return { shape: [null, known ? sizes.reduce((n, s) => n + product(s as number[]), 0) : null], dtype: 'float32', parts };
}
