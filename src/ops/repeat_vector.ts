/**
 * repeat_vector: [d] -> [n, d], the vector repeated n times (Keras
 * RepeatVector): the bridge from an encoder's last state to a decoder that
 * reads one step per output, as in Keras's repeat-vector seq2seq. No
 * parameters, no FLOPs (a copy).
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims } from './op.js';

export interface RepeatVectorAttrs {
  n: number;
  width: number;
}

export default defineOp<RepeatVectorAttrs>({
  name: 'repeat_vector',
  family: 'shape',
  doc: 'Repeats a vector n times: [d] -> [n, d] (Keras RepeatVector).',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'n', type: { kind: 'int' }, positional: true, doc: 'how many times: the steps of the output sequence' }],
  infer(ctx) {
    ctx.rank([1], shapeRules.repeatVectorInput);
    const [width] = dims(ctx.input);
    const n = ctx.int('n');
    return { type: batched([n, width]), attrs: { n, width } };
  },
  label: (a) => `x${a.n}`,
});
