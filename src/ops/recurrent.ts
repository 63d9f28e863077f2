/**
 * rnn, lstm and bidirectional over a [steps, features] sequence.
 * rnn is the lecture's s_t = f(U x_t + W s_{t-1}) plus a bias (Keras SimpleRNN);
 * lstm uses Keras's gate order i, f, c, o: 4(u(in + u) + u) parameters;
 * bidirectional runs a copy forwards and one backwards and concatenates them.
 */
import { sequences, units } from './common.js';
import { batched, defineOp, dims, OpContext, OpDef, ParamSpec } from './op.js';

const sequenceInput = (ctx: OpContext) => {
  ctx.rank([2], 'a [steps, features] sequence', 'a recurrent layer reads a sequence: reshape or embed the input first');
  const [steps, features] = dims(ctx.input);
  return { steps, features };
};

function recurrentOp(name: 'rnn' | 'lstm', gates: number): OpDef {
  return defineOp({
    name,
    family: 'recurrent',
    doc: name === 'rnn' ? 'Simple recurrent layer: s_t = f(x_t U + s_{t-1} W + b).' : 'Long short-term memory layer (Keras LSTM).',
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [
      units,
      sequences,
      ...(name === 'rnn'
        ? [{ name: 'activation', type: { kind: 'symbol' as const, choices: ['tanh', 'relu', 'sigmoid'] }, default: { symbol: 'tanh' }, doc: 'the f in s_t = f(...)' }]
        : []),
    ],
    infer(ctx) {
      const { steps } = sequenceInput(ctx);
      const u = ctx.int('units');
      return batched(ctx.bool('sequences') ? [steps, u] : [u]);
    },
    params(ctx): ParamSpec[] {
      const { features } = sequenceInput(ctx);
      const u = ctx.int('units');
      return [
        { name: 'kernel', shape: [features, gates * u], init: 'glorot_uniform', trainable: true },
        { name: 'recurrent_kernel', shape: [u, gates * u], init: 'orthogonal', trainable: true },
        { name: 'bias', shape: [gates * u], init: gates === 4 ? 'lstm_bias' : 'zeros', trainable: true },
      ];
    },
    flops(ctx) {
      const { steps, features } = sequenceInput(ctx);
      const u = ctx.int('units');
      return 2 * steps * gates * u * (features + u);
    },
    label: (ctx) => `${ctx.int('units')}${ctx.bool('sequences') ? ' seq' : ''}`,
  });
}

export const rnn = recurrentOp('rnn', 1);
export const lstm = recurrentOp('lstm', 4);
const WRAPPABLE: Record<string, OpDef> = { rnn, lstm };

/** The wrapped layer's own context: same inputs, its validated attributes. */
export function innerContext(ctx: OpContext): OpContext {
  const call = ctx.call('layer');
  const inner = WRAPPABLE[call.call] ?? ctx.fail(`wraps rnn or lstm, got '${call.call}'`);
  return new OpContext(inner, ctx.inputs, call.attrs);
}

export const bidirectional = defineOp({
  name: 'bidirectional',
  family: 'recurrent',
  doc: 'Runs a recurrent layer forwards and backwards and concatenates the two outputs.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'layer', type: { kind: 'op' }, positional: true, doc: 'the recurrent layer to run both ways, e.g. lstm(64)' }],
  infer(ctx) {
    const inner = innerContext(ctx);
    const out = dims(inner.op.infer(inner));
    return batched([...out.slice(0, -1), 2 * out.at(-1)!]);
  },
  params(ctx) {
    const inner = innerContext(ctx);
    const own = inner.op.params!(inner);
    return ['forward', 'backward'].flatMap((dir) => own.map((p) => ({ ...p, name: `${dir}.${p.name}` })));
  },
  flops(ctx, out) {
    const inner = innerContext(ctx);
    return 2 * inner.op.flops!(inner, out);
  },
  label(ctx) {
    const inner = innerContext(ctx);
    return `${inner.op.name} ${inner.op.label!(inner)}`;
  },
});
