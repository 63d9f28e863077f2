/**
 * The ONNX lowerings of the sequence layers, with the interpreter's semantics
 * (kernels/recurrent.ts, kernels/attention.ts, execute.ts's masks):
 *
 *   rnn, lstm, gru   ONNX's RNN, LSTM and GRU, one direction; bidirectional
 *                    the same op with direction = "bidirectional"
 *   attention        MatMul, Reshape, Transpose, Where and Softmax
 *
 * Weights are converted once, at export: Keras's kernel [in, G u] and
 * recurrent kernel [u, G u] become ONNX's W [dirs, G u, in] and
 * R [dirs, G u, u], their gate blocks reordered (lstm's Keras i, f, c, o is
 * ONNX's i, o, f, c; gru's z, r, h is the same in both); the bias becomes
 * B [dirs, 2 G u], the input bias then the recurrent one (gru's reset_after
 * [2, 3u] holds both, and is ONNX's linear_before_reset = 1; the other
 * layers have no recurrent bias, so it is zero).
 *
 * ONNX Runtime runs RNN, LSTM and GRU only time-major (layout = 0:
 * X [T, B, in], Y [T, dirs, B, u]), so x is transposed in and Y out;
 * reshaping Y [B, T, dirs, u] to [B, T, dirs u] is Keras's concat of the two
 * directions at each step.
 *
 * Padding masks (ir/mask.ts: embedding(mask_zero) feeding the layer): the
 * interpreter skips a padded step, its state carried over, wherever the step
 * is. Each example's real steps are moved to the front, in order (a TopK on
 * the step index, pushed back T for real steps), and their count is ONNX's
 * sequence_lens: both directions then read exactly the real steps, so the
 * final states are the interpreter's for padding at the end, the start or
 * inside. With `sequences` the outputs are gathered back to the steps they
 * belong to: a padded step repeats the last real step's output (the initial
 * state before any), as a bare Keras layer does, or is zero inside
 * bidirectional (Keras's zero_output_for_mask).
 */
import { internal } from '../../diagnostics.js';
import { nameArgs, SELU_ALPHA, SELU_SCALE, type Activation } from '../../ops/activations.js';
import { DIRECTIONS, STATES, type Cell, type RecurrentAttrs } from '../../ops/recurrent.js';
import { HIDDEN_SCORE } from '../interp/kernels/attention.js';
import type { Tensor } from '../interp/tensor.js';
import { ELEM, f, type AttrValue, type OnnxGraph } from './builder.js';
import { paddingMask, requiredParam, type OnnxLayer } from './lower.js';

const ONNX_OP: Record<Cell, string> = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/** Keras's gate blocks in ONNX's order: lstm i, f, c, o -> i, o, f, c; gru z, r, h as it is. */
const GATE_ORDER: Record<Cell, readonly number[]> = { rnn: [0], lstm: [0, 3, 1, 2], gru: [0, 1, 2] };

/**
 * rnn's f as an ONNX RNN activation (with its alpha and beta): the bare
 * name's arguments (ops/activations.ts). relu6 is Relu of the input clipped
 * to [-6, 6] (RNN's `clip`); selu is SELU_SCALE elu(x; SELU_ALPHA), run as Elu
 * on h / SELU_SCALE (see `scale`).
 */
interface RnnActivation {
  name: string;
  alpha?: number;
  beta?: number;
  clip?: number;
  /** The state the RNN carries is h / scale: R is multiplied by it, the outputs by it, initial states divided. */
  scale?: number;
}

function rnnActivation(activation: Activation): RnnActivation | undefined {
  const p = nameArgs(activation);
  switch (activation) {
    case 'relu':
      return p.max_value === Infinity && p.negative_slope === 0 && p.threshold === 0 ? { name: 'Relu' } : undefined;
    case 'relu6':
      return { name: 'Relu', clip: 6 };
    case 'sigmoid':
      return { name: 'Sigmoid' };
    case 'tanh':
      return { name: 'Tanh' };
    case 'leaky_relu':
      return { name: 'LeakyRelu', alpha: p.negative_slope as number };
    case 'elu':
      return { name: 'Elu', alpha: p.alpha as number };
    case 'selu':
      return { name: 'Elu', alpha: SELU_ALPHA, scale: SELU_SCALE };
    case 'softsign':
      return { name: 'Softsign' };
    case 'hard_sigmoid':
      // Keras 3: relu6(x + 3) / 6, ONNX's HardSigmoid max(0, min(1, alpha x + beta)).
      return { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- recurrent layers

/** rnn, lstm, gru: one direction of ONNX's op. */
export function lowerRecurrent(l: OnnxLayer<'rnn' | 'lstm' | 'gru'>): string[] {
  return recurrence(l, l.a, ['']);
}

/** bidirectional: both directions in one ONNX op, weights stacked forward first. */
export function lowerBidirectional(l: OnnxLayer<'bidirectional'>): string[] {
  return recurrence(l, l.a.layer, DIRECTIONS.map((d) => `${d}.`));
}

/**
 * The layer's values: its output, then with return_state each direction's
 * final states (h, and the lstm's c), as result.ts lays out the tuple.
 * `prefixes` name each direction's weights ('' alone, or forward. and backward.).
 */
function recurrence(l: OnnxLayer, a: RecurrentAttrs, prefixes: readonly string[]): string[] {
  const { g } = l;
  const dirs = prefixes.length;
  const act = a.cell === 'rnn' ? (rnnActivation(a.activation) ?? l.unsupported(`rnn's activation ${a.activation}`)) : undefined;
  const scale = act?.scale ?? 1;
  const n = STATES[a.cell];

  // The initial states [B, u] of each direction, in the node's inputs after x: h then c per direction.
  const initial = a.initialState ? prefixes.map((_, d) => l.inputs.slice(1 + d * n, 1 + (d + 1) * n)) : undefined;
  const stacked = (k: number, divide = 1) => {
    if (!initial) return '';
    const parts = initial.map((states) => g.op1('Unsqueeze', [divide === 1 ? states[k] : g.op1('Div', [states[k], g.scalar(divide)]), g.ints([0])]));
    return parts.length === 1 ? parts[0] : g.op1('Concat', parts, { axis: 0 });
  };

  const mask = paddingMask(l, 0);
  const packed = mask ? compact(g, l.inputs[0], mask) : { x: l.inputs[0], lens: '' };
  const inputs = [
    g.op1('Transpose', [packed.x], { perm: [1, 0, 2] }),
    ...onnxWeights(l, a, prefixes, scale),
    packed.lens,
    stacked(0, scale),
    ...(a.cell === 'lstm' ? [stacked(1)] : []),
  ];
  while (inputs.at(-1) === '') inputs.pop(); // trailing optional inputs are left out
  const attrs: Record<string, AttrValue | undefined> = {
    hidden_size: a.units,
    direction: dirs === 2 ? 'bidirectional' : 'forward',
    ...(a.cell === 'gru' && { linear_before_reset: a.resetAfter ? 1 : 0 }),
    ...(act && rnnAttrs(act, dirs)),
  };
  const [Y, Yh, Yc] = g.op(ONNX_OP[a.cell], inputs, attrs, { outputs: a.cell === 'lstm' ? 3 : 2 });
  const unscale = (v: string) => (scale === 1 ? v : g.op1('Mul', [v, g.scalar(scale)]));

  // An example with no real step keeps its initial state (ONNX Runtime gives zeros).
  const anyReal = mask && g.op1('Greater', [g.op1('ReduceSum', [mask, g.ints([1])], { keepdims: 1 }), g.scalar(0)]);
  const orInitial = (state: string, d: number, k: number) => (anyReal ? g.op1('Where', [anyReal, state, initial ? initial[d][k] : g.scalar(0)]) : state);
  const finals = a.returnState || !a.sequences ? prefixes.map((_, d) => {
    const pick = (states: string) => g.op1('Gather', [states, g.constant([d], [], 'int64')], { axis: 0 });
    return [orInitial(unscale(pick(Yh)), d, 0), ...(a.cell === 'lstm' ? [orInitial(pick(Yc), d, 1)] : [])];
  }) : []; // the output alone, from Y: no states picked

  let output: string;
  if (!a.sequences) output = dirs === 1 ? finals[0][0] : g.op1('Concat', [finals[0][0], finals[1][0]], { axis: -1 });
  else {
    // Y [T, dirs, B, u] -> [B, T, dirs u]: each step's directions side by side.
    const steps = g.op1('Reshape', [g.op1('Transpose', [unscale(Y)], { perm: [2, 0, 1, 3] }), g.ints([0, 0, -1])]);
    output = mask ? unpack(g, steps, mask, dirs === 2 ? 'zeros' : { initial: initial?.[0][0] }) : steps;
  }
  return a.returnState ? [output, ...finals.flat()] : [output];
}

/** RNN's activation attributes, the same function for every direction. */
function rnnAttrs(act: RnnActivation, dirs: number): Record<string, AttrValue> {
  const each = <T>(v: T) => Array.from({ length: dirs }, () => v);
  return {
    activations: { strings: each(act.name) },
    ...(act.alpha !== undefined && { activation_alpha: { floats: each(act.alpha) } }),
    ...(act.beta !== undefined && { activation_beta: { floats: each(act.beta) } }),
    ...(act.clip !== undefined && { clip: f(act.clip) }),
  };
}

/** W, R and B as initializers: every direction's weights converted and stacked. */
function onnxWeights(l: OnnxLayer, a: RecurrentAttrs, prefixes: readonly string[], scale: number): string[] {
  const u = a.units;
  const order = GATE_ORDER[a.cell];
  const G = order.length;
  const weight = (p: string, name: string) => l.tensor(`${p}${name}`) ?? fail(l, `has no weight '${p}${name}'`);
  const W = prefixes.map((p) => gatesFirst(weight(p, 'kernel'), order, u, 1));
  const R = prefixes.map((p) => gatesFirst(weight(p, 'recurrent_kernel'), order, u, scale));
  const B = prefixes.map((p) => {
    const bias = weight(p, 'bias');
    const out = new Float32Array(2 * G * u);
    // gru's reset_after bias [2, 3u] is the input bias then the recurrent one; the others' [G u] is the input bias alone.
    const rows = bias.shape.length === 2 ? 2 : 1;
    for (let r = 0; r < rows; r++) {
      order.forEach((k, j) => out.set(bias.data.subarray(r * G * u + k * u, r * G * u + (k + 1) * u), r * G * u + j * u));
    }
    return out;
  });
  const stack = (parts: Float32Array[], shape: number[]): Tensor => {
    const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.forEach((p, i) => data.set(p, i * p.length));
    return { shape: [parts.length, ...shape], data };
  };
  const name = l.node.name;
  return [
    l.g.weight(`${name}.W`, stack(W, [G * u, a.features])),
    l.g.weight(`${name}.R`, stack(R, [G * u, u])),
    l.g.weight(`${name}.B`, stack(B, [2 * G * u])),
  ];
}

/** Keras's [rows, G u] as ONNX's [G u, rows]: transposed, the gate blocks in `order`, times `scale`. */
function gatesFirst(t: Tensor, order: readonly number[], u: number, scale: number): Float32Array {
  const [rows, width] = t.shape;
  const out = new Float32Array(rows * width);
  order.forEach((k, j) => {
    for (let i = 0; i < u; i++) {
      for (let r = 0; r < rows; r++) out[(j * u + i) * rows + r] = t.data[r * width + k * u + i] * scale;
    }
  });
  return out;
}

function fail(l: OnnxLayer, message: string): never {
  throw internal(`onnx: layer '${l.node.name}' (${l.node.op}) ${message}`);
}

/** The scalar length of axis 1 (int64), and the same as a one-element list. */
const axisLength = (g: OnnxGraph, x: string) => g.op1('Gather', [g.op1('Shape', [x]), g.constant([1], [], 'int64')], { axis: 0 });
const axisLength1 = (g: OnnxGraph, x: string) => g.op1('Shape', [x], { start: 1, end: 2 });

/** 0, 1, ..., n - 1 for a scalar int64 n, as floats. */
const range = (g: OnnxGraph, n: string) => g.op1('Cast', [g.op1('Range', [g.constant([0], [], 'int64'), n, g.constant([1], [], 'int64')])], { to: ELEM.float });

/**
 * x [B, T, F] with each example's real steps (mask [B, T], 1 real, 0 padding)
 * moved to the front in their order, padding after them; and the number of
 * real steps per example as ONNX's sequence_lens (int32 [B]).
 */
function compact(g: OnnxGraph, x: string, mask: string): { x: string; lens: string } {
  const T = axisLength(g, x);
  // Sort key t - T for a real step, t for padding: ascending, real steps come first, each group in step order.
  const key = g.op1('Sub', [range(g, T), g.op1('Mul', [mask, g.op1('Cast', [T], { to: ELEM.float })])]);
  const [, order] = g.op('TopK', [key, axisLength1(g, x)], { axis: 1, largest: 0, sorted: 1 }, { outputs: 2 });
  return {
    x: g.op1('GatherND', [x, g.op1('Unsqueeze', [order, g.ints([2])])], { batch_dims: 1 }),
    lens: g.op1('Cast', [g.op1('ReduceSum', [mask, g.ints([1])], { keepdims: 0 })], { to: ELEM.int32 }),
  };
}

/**
 * The outputs of the compacted sequence [B, T, D] back at the steps they
 * belong to: step t's is the one after the last real step up to t (position
 * count - 1 of the real steps so far). A padded step outputs `'zeros'`
 * (bidirectional), or carries the last real step's output, before any the
 * initial state [B, D] (zeros when there is none).
 */
function unpack(g: OnnxGraph, steps: string, mask: string, padded: 'zeros' | { initial?: string }): string {
  const seen = g.op1('CumSum', [mask, g.constant([1], [], 'int64')]);
  const at = g.op1('Cast', [g.op1('Max', [g.op1('Sub', [seen, g.scalar(1)]), g.scalar(0)])], { to: ELEM.int64 });
  const gathered = g.op1('GatherND', [steps, g.op1('Unsqueeze', [at, g.ints([2])])], { batch_dims: 1 });
  const keep = (flags: string) => g.op1('Unsqueeze', [g.op1('Greater', [flags, g.scalar(0)]), g.ints([2])]);
  if (padded === 'zeros') return g.op1('Where', [keep(mask), gathered, g.scalar(0)]);
  const start = padded.initial ? g.op1('Unsqueeze', [padded.initial, g.ints([1])]) : g.scalar(0);
  return g.op1('Where', [keep(seen), gathered, start]);
}

// ---------------------------------------------------------------- attention

/**
 * Keras's MultiHeadAttention in standard ops, as kernels/attention.ts
 * computes it: projections, the query scaled by 1/sqrt(K), heads split by
 * Reshape [B, L, H, K] (0 copies the batch and the length, so any length
 * runs) and Transpose, scores [B, H, T, S], hidden scores replaced by
 * HIDDEN_SCORE (a query step that sees nothing spreads evenly), Softmax,
 * the heads joined and projected.
 */
export function lowerAttention(l: OnnxLayer<'attention'>): string[] {
  const { g, a } = l;
  const [query, value = query, key = value] = l.inputs;
  const project = (x: string, name: string) => {
    const y = g.op1('MatMul', [x, requiredParam(l, `${name}.kernel`)]);
    const bias = l.param(`${name}.bias`);
    return bias ? g.op1('Add', [y, bias]) : y;
  };
  const heads = (x: string, size: number, perm: number[]) => g.op1('Transpose', [g.op1('Reshape', [x, g.ints([0, 0, a.H, size])])], { perm });
  const Q = heads(g.op1('Mul', [project(query, 'query'), g.scalar(1 / Math.sqrt(a.K))]), a.K, [0, 2, 1, 3]); // [B, H, T, K]
  const K = heads(project(key, 'key'), a.K, [0, 2, 3, 1]); // [B, H, K, S]
  const V = heads(project(value, 'value'), a.V, [0, 2, 1, 3]); // [B, H, S, V]
  let scores = g.op1('MatMul', [Q, K]);
  const keep = attentionKeep(l, query, value);
  if (keep) scores = g.op1('Where', [keep, scores, g.scalar(HIDDEN_SCORE)]);
  const P = g.op1('Softmax', [scores], { axis: -1 });
  const joined = g.op1('Reshape', [g.op1('Transpose', [g.op1('MatMul', [P, V])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, a.H * a.V])]);
  return [project(joined, 'output')];
}

/**
 * Which scores are kept (bool, broadcasting to [B, H, T, S]), as
 * execute.ts's attentionMask and kernels/attention.ts's hideScores: the
 * query's padding mask keeps rows, the value's and key's (and a [S]
 * `mask =`) keep columns, a [T, S] `mask =` keeps pairs, causal keeps s <= t.
 * Undefined when nothing is hidden.
 */
function attentionKeep(l: OnnxLayer<'attention'>, query: string, value: string): string | undefined {
  const { g, a } = l;
  const nonzero = (x: string) => g.op1('Cast', [x], { to: ELEM.bool });
  const parts: string[] = [];
  // Padding masks per input, as execute.ts defaults them: the value's is the query's, the key's the value's.
  const [qMask, vMask = qMask, kMask = vMask] = l.node.inputs.map((_, i) => paddingMask(l, i));
  if (qMask) parts.push(g.op1('Unsqueeze', [nonzero(qMask), g.ints([1, 3])])); // [B, 1, T, 1]
  for (const m of new Set([vMask, kMask])) if (m) parts.push(g.op1('Unsqueeze', [nonzero(m), g.ints([1, 2])])); // [B, 1, 1, S]
  if (l.maskArg && a.maskArg !== 'none') {
    const given = l.node.maskArg!;
    const zero = g.constant([0], [], given.type.dtype === 'int32' ? 'int32' : 'float');
    const flags = g.op1('Not', [g.op1('Equal', [l.maskArg, zero])]);
    parts.push(g.op1('Unsqueeze', [flags, g.ints(a.maskArg === 'keys' ? [1, 2] : [1])])); // [B, 1, 1, S] or [B, 1, T, S]
  }
  if (a.causal) {
    const t = g.op1('Unsqueeze', [range(g, axisLength(g, query)), g.ints([1])]); // [T, 1]
    const s = g.op1('Unsqueeze', [range(g, axisLength(g, value)), g.ints([0])]); // [1, S]
    parts.push(g.op1('LessOrEqual', [s, t]));
  }
  return parts.length === 0 ? undefined : parts.reduce((x, y) => g.op1('And', [x, y]));
}
