/**
 * rnn, lstm, gru and bidirectional over a [steps, features] sequence.
 * rnn is the lecture's s_t = f(U x_t + W s_{t-1}) plus a bias (Keras SimpleRNN);
 * lstm uses Keras's gate order i, f, c, o: 4(u(in + u) + u) parameters;
 * gru uses Keras's gate order z, r, h; with reset_after (Keras's default, the
 * reset gate applied to h U + b_rec) 3(u(in + u) + 2u) parameters, the bias
 * [2, 3u] holding the input bias then the recurrent bias; with
 * reset_after = false (r applied to h before U, Keras 1's form and tf.layers's)
 * one bias [3u], 3(u(in + u) + u) parameters;
 * bidirectional runs a copy forwards and one backwards and concatenates them.
 *
 * State (Keras's return_state and initial_state): a layer's state is h [u],
 * and the lstm's cell state c [u] after it. `return_state = true` makes the
 * layer a tuple (src/ops/result.ts) of its output then its final states,
 * [output, h] or [output, h, c]; inside bidirectional, the output then the
 * forward layer's states then the backward one's ([output, h_f, c_f, h_b, c_b]
 * for an lstm). `initial_state = [h, c]` starts the recurrence from given
 * states instead of zeros: graph values, which become the node's inputs after
 * x in that order (bidirectional's: forward's, then backward's).
 */
import { shapeRules } from '../diagnostics.js';
import { ACTIVATION_OP_NAMES, backwardFrom, type Activation } from './activations.js';
import { sequences, units } from './common.js';
import { batched, defineOp, dims, OpContext, OpDef, ParamSpec } from './op.js';
import { tupleType } from './result.js';
import type { TensorType } from '../ir/types.js';

export type Cell = 'rnn' | 'lstm' | 'gru';

/** A recurrent layer's resolved attributes (bidirectional holds one per direction's copy). */
export interface RecurrentAttrs {
  cell: Cell;
  units: number;
  /** Return every step's state, not only the last. */
  sequences: boolean;
  /** rnn's f; lstm's cell activation is tanh with sigmoid gates, as Keras's defaults. */
  activation: Activation;
  /** gru only (false for the others): Keras's reset_after. */
  resetAfter: boolean;
  steps: number;
  features: number;
  /** The layer returns [output, ...final states] (a tuple). */
  returnState: boolean;
  /** The states start from the node's inputs after x, not zeros. */
  initialState: boolean;
}

const GATES: Record<Cell, number> = { rnn: 1, lstm: 4, gru: 3 };
/** States per direction: h, and the lstm's c. */
export const STATES: Record<Cell, number> = { rnn: 1, lstm: 2, gru: 1 };

/** rnn's f may be any elementwise activation whose backward reads its output (backpropagation through time keeps the states). */
const RECURRENT_ACTIVATIONS = ACTIVATION_OP_NAMES.filter((a) => a !== 'softmax' && backwardFrom(a) === 'y');

function resolveRecurrent(ctx: OpContext, cell: Cell): RecurrentAttrs {
  ctx.rank([2], shapeRules.recurrentInput);
  const [steps, features] = dims(ctx.input);
  const activation = cell === 'rnn' ? ctx.sym<Activation>('activation') : 'tanh';
  const resetAfter = cell === 'gru' && ctx.bool('reset_after');
  const returnState = ctx.bool('return_state') === true;
  return { cell, units: ctx.int('units'), sequences: ctx.bool('sequences'), activation, resetAfter, steps, features, returnState, initialState: false };
}

/** Checks the initial states (ctx's inputs after x) of `directions` copies of layer `a`; true when there are any. */
function checkInitialState(ctx: OpContext, a: RecurrentAttrs, directions: 1 | 2): boolean {
  const states = ctx.inputs.slice(1);
  const given = ctx.maybeInt('initial_state');
  if (given === undefined) return states.length === 0 ? false : ctx.fail(shapeRules.stateInputs(states.length));
  const expected = STATES[a.cell] * directions;
  if (states.length !== expected) ctx.fail(shapeRules.initialStateCount(a.cell, expected, states.length, directions === 2));
  states.forEach((t, i) => {
    if (t.parts || t.shape.length !== 2 || t.shape[1] !== a.units) ctx.fail(shapeRules.initialStateWidth(i, t.shape, a.units));
  });
  return true;
}

const outputShape = (a: RecurrentAttrs) => (a.sequences ? [a.steps, a.units] : [a.units]);

/** The node's type: the output, or with return_state the tuple of it and `directions` copies' final states. */
function resultType(a: RecurrentAttrs, output: number[], directions: 1 | 2): TensorType {
  if (!a.returnState) return batched(output);
  const states = Array.from({ length: STATES[a.cell] * directions }, () => batched([a.units]));
  return tupleType([batched(output), ...states]);
}

const initialStateSpec = {
  name: 'initial_state',
  type: { kind: 'values' as const },
  optional: true,
  doc: 'the states to start from, a list of values: [h] (rnn, gru) or [h, c] (lstm); default zeros',
};

function recurrentParams(a: RecurrentAttrs): ParamSpec[] {
  const g = GATES[a.cell];
  return [
    { name: 'kernel', shape: [a.features, g * a.units], init: 'glorot_uniform', trainable: true },
    { name: 'recurrent_kernel', shape: [a.units, g * a.units], init: 'orthogonal', trainable: true },
    { name: 'bias', shape: a.resetAfter ? [2, g * a.units] : [g * a.units], init: a.cell === 'lstm' ? 'lstm_bias' : 'zeros', trainable: true },
  ];
}

const recurrentFlops = (a: RecurrentAttrs) => 2 * a.steps * GATES[a.cell] * a.units * (a.features + a.units);
const recurrentLabel = (a: RecurrentAttrs) =>
  `${a.units}${a.sequences ? ' seq' : ''}${a.cell === 'gru' && !a.resetAfter ? ' reset before' : ''}${a.returnState ? ' state' : ''}`;

const DOCS: Record<Cell, string> = {
  rnn: 'Simple recurrent layer: s_t = f(x_t U + s_{t-1} W + b).',
  lstm: 'Long short-term memory layer (Keras LSTM).',
  gru: 'Gated recurrent unit (Keras GRU).',
};

function recurrentOp(cell: Cell): OpDef<RecurrentAttrs> {
  return defineOp({
    name: cell,
    family: 'recurrent',
    doc: DOCS[cell],
    inputs: { min: 1, max: 1 + STATES[cell], names: ['x', ...(cell === 'lstm' ? ['h', 'c'] : ['h'])] },
    attrs: [
      units,
      sequences,
      // Optional rather than defaulted (false), so that the IR prints it only where it was given.
      { name: 'return_state', type: { kind: 'bool' }, optional: true, doc: 'also return the final states: out, h, c = x -> lstm(...) (Keras return_state; default false)' },
      initialStateSpec,
      ...(cell === 'rnn'
        ? [{ name: 'activation', type: { kind: 'symbol' as const, choices: RECURRENT_ACTIVATIONS }, default: { symbol: 'tanh' }, doc: 'the f in s_t = f(...)' }]
        : []),
      ...(cell === 'gru'
        ? [{ name: 'reset_after', type: { kind: 'bool' as const }, default: true, doc: "Keras's reset_after: the reset gate multiplies h U + b_rec (true), or h before U (false)" }]
        : []),
    ],
    infer(ctx) {
      const a = resolveRecurrent(ctx, cell);
      a.initialState = checkInitialState(ctx, a, 1);
      return { type: resultType(a, outputShape(a), 1), attrs: a };
    },
    params: recurrentParams,
    flops: recurrentFlops,
    label: recurrentLabel,
  });
}

export const rnn = recurrentOp('rnn');
export const lstm = recurrentOp('lstm');
export const gru = recurrentOp('gru');
const WRAPPABLE: Record<string, OpDef<RecurrentAttrs>> = { rnn, lstm, gru };

/** bidirectional's resolved attributes: the wrapped layer's, shared by both directions. */
export interface BidirectionalAttrs {
  layer: RecurrentAttrs;
}

/** The two directions' weights live under these prefixes: `forward.kernel`, `backward.bias`, ... */
export const DIRECTIONS = ['forward', 'backward'] as const;

export const bidirectional = defineOp<BidirectionalAttrs>({
  name: 'bidirectional',
  family: 'recurrent',
  doc: 'Runs a recurrent layer forwards and backwards and concatenates the two outputs.',
  inputs: { min: 1, max: 5, names: ['x', 'forward state', 'forward state', 'backward state', 'backward state'] },
  attrs: [
    { name: 'layer', type: { kind: 'op' }, positional: true, doc: 'the recurrent layer to run both ways, e.g. lstm(64) or gru(32); return_state = true there returns both directions\' states' },
    { ...initialStateSpec, doc: "both directions' initial states, forward first: [h_f, c_f, h_b, c_b] for an lstm, [h_f, h_b] otherwise" },
  ],
  infer(ctx) {
    const call = ctx.call('layer');
    const op = Object.hasOwn(WRAPPABLE, call.call) ? WRAPPABLE[call.call] : ctx.fail(shapeRules.notRecurrent(call.call));
    const layer = resolveRecurrent(new OpContext(op, ctx.inputs, call.attrs), op.name as Cell);
    layer.initialState = checkInitialState(ctx, layer, 2);
    const out = outputShape(layer);
    return { type: resultType(layer, [...out.slice(0, -1), 2 * out.at(-1)!], 2), attrs: { layer } };
  },
  params: ({ layer }) => DIRECTIONS.flatMap((dir) => recurrentParams(layer).map((p) => ({ ...p, name: `${dir}.${p.name}` }))),
  flops: ({ layer }) => 2 * recurrentFlops(layer),
  label: ({ layer }) => `${layer.cell} ${recurrentLabel(layer)}`,
});
