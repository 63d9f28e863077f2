/**
 * The ONNX lowering of every op: a table from op to a function that adds the
 * layer's nodes to the graph and returns the names of the values it outputs
 * (one, or several for a layer with `return_state`, which `result` picks
 * from). TypeScript reports an op without a row.
 *
 * Semantics are the interpreter's, in standard ai.onnx ops only. dlc's
 * tensors are channels-last (Keras); ONNX's Conv, pools and
 * BatchNormalization are channels-first, so those layers transpose in and
 * out (ONNX Runtime's transpose optimizer cancels the pairs between
 * neighbouring layers) and their kernels are permuted once, at export.
 */
import { internal } from '../../diagnostics.js';
import type { ConstTensor, Node, NodeOf } from '../../ir/types.js';
import { activationOpTable, nameArgs, type Activation, type ActivationArgs, type ActivationOpName } from '../../ops/activations.js';
import { denseKernel } from '../../ops/dense.js';
import type { AttrsOf, OpName } from '../../ops/index.js';
import { sinusoidalTable } from '../../runtime/positional.js';
import type { Tensor } from '../interp/tensor.js';
import { ELEM, f, type OnnxGraph } from './builder.js';
import { lowerAttention, lowerBidirectional, lowerRecurrent } from './sequence.js';

/** What a lowering sees of its layer. */
export interface OnnxLayer<Op extends OpName = OpName> {
  node: NodeOf<Op>;
  a: AttrsOf<Op>;
  g: OnnxGraph;
  /** The ONNX values of the layer's inputs, in order. */
  inputs: string[];
  /** Weight `<layer>.<name>` (or a fixed kernel from the source), as numbers: lowerings permute kernels into ONNX's layouts. */
  tensor(name: string): Tensor | undefined;
  /** Weight `<layer>.<name>` as an initializer, stored as it is; undefined when the layer has none. */
  param(name: string): string | undefined;
  /** Per input, the model inputs whose padding masks it carries (ir/mask.ts); empty when unmasked. */
  maskSources: string[][];
  /** attention's `mask =` input, when given. */
  maskArg?: string;
  /** Refuses the layer with a located error (messages.noOnnxMapping): something about it has no ONNX form. */
  unsupported(what: string): never;
}

export type Lowering<Op extends OpName = OpName> = (l: OnnxLayer<Op>) => string[];
export type LoweringTable = { [Op in OpName]: Lowering<Op> };

export const loweringFor = (l: OnnxLayer): string[] => (LOWERINGS[l.node.op] as Lowering)(l);

// ---------------------------------------------------------------- helpers

const rankOf = (n: Node) => n.type.shape.length;
/** Per-example dimensions of a node, each a size or a dimension variable's name. */
const dims = (n: Node) => n.type.shape.slice(1);

export function required(l: OnnxLayer, name: string): Tensor {
  return l.tensor(name) ?? fail(l, `has no weight '${name}'`);
}
export function requiredParam(l: OnnxLayer, name: string): string {
  return l.param(name) ?? fail(l, `has no weight '${name}'`);
}
function fail(l: OnnxLayer, message: string): never {
  throw internal(`onnx: layer '${l.node.name}' (${l.node.op}) ${message}`);
}

/** `t` with its axes permuted: out axis i is in axis perm[i]. Walks the output in order with an odometer of input offsets (no division per element). */
export function permuted(t: Tensor, perm: readonly number[]): Tensor {
  const shape = perm.map((p) => t.shape[p]);
  const inStrides = strides(t.shape);
  const step = perm.map((p) => inStrides[p]); // input offset per unit of each output axis
  const data = new Float32Array(t.data.length);
  const index = new Array<number>(shape.length).fill(0);
  const last = shape.length - 1;
  let from = 0;
  for (let o = 0; o < data.length; o++) {
    data[o] = t.data[from];
    for (let i = last; i >= 0; i--) {
      from += step[i];
      if (++index[i] < shape[i]) break;
      from -= step[i] * shape[i];
      index[i] = 0;
    }
  }
  return { shape, data };
}
const strides = (shape: readonly number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
const reshaped = (t: Tensor, shape: number[]): Tensor => ({ shape, data: t.data });

/** Channels-last to channels-first and back, for a tensor of `rank` axes with the batch. */
const toChannelsFirst = (rank: number) => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
const toChannelsLast = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];

/** Runs `body` on `x` transposed to channels-first, and transposes its result back. */
function channelsFirst(g: OnnxGraph, x: string, rank: number, body: (x: string) => string): string {
  const inside = body(g.op1('Transpose', [x], { perm: toChannelsFirst(rank) }));
  return g.op1('Transpose', [inside], { perm: toChannelsLast(rank) });
}

/**
 * An activation applied to `x`, with its arguments; each activation's formula
 * in ONNX ops, matching the interpreter's (ops/activations.ts).
 */
export function activate(g: OnnxGraph, x: string, activation: Activation, p: ActivationArgs): string {
  const num = (k: string) => p[k] as number;
  const s = (v: number) => g.scalar(v);
  switch (activation) {
    case 'linear':
      return x;
    case 'relu': {
      const m = num('max_value') ?? Infinity, slope = num('negative_slope') ?? 0, t = num('threshold') ?? 0;
      if (m === Infinity && slope === 0 && t === 0) return g.op1('Relu', [x]);
      // As keras.activations.relu: x where x > t, clipped above at m; slope (x - t) elsewhere.
      const above = m === Infinity ? x : g.op1('Min', [x, s(m)]);
      const below = g.op1('Mul', [g.op1('Sub', [x, s(t)]), s(slope)]);
      return g.op1('Where', [g.op1('Greater', [x, s(t)]), above, below]);
    }
    case 'sigmoid':
      return g.op1('Sigmoid', [x]);
    case 'tanh':
      return g.op1('Tanh', [x]);
    case 'relu6':
      return g.op1('Clip', [x, s(0), s(6)]);
    case 'leaky_relu':
      return g.op1('LeakyRelu', [x], { alpha: f(num('negative_slope')) });
    case 'elu':
      return g.op1('Elu', [x], { alpha: f(num('alpha')) });
    case 'selu':
      return g.op1('Selu', [x]); // ONNX's default alpha and gamma are Keras's constants
    case 'softplus':
      return g.op1('Softplus', [x]);
    case 'softsign':
      return g.op1('Softsign', [x]);
    case 'silu':
    case 'swish':
      return g.op1('Mul', [x, g.op1('Sigmoid', [x])]);
    case 'gelu':
      return g.op1('Gelu', [x], { approximate: p.approximate ? 'tanh' : 'none' });
    case 'mish':
      return g.op1('Mish', [x]);
    case 'hard_sigmoid':
      // Keras 3: relu6(x + 3) / 6, which is ONNX's HardSigmoid with alpha 1/6, beta 1/2.
      return g.op1('HardSigmoid', [x], { alpha: f(1 / 6), beta: f(0.5) });
    case 'hard_swish':
      return g.op1('HardSwish', [x]);
    case 'softmax':
      return g.op1('Softmax', [x], { axis: num('axis') });
  }
  const exhaustive: never = activation;
  return exhaustive;
}

/** The activation a fused or activated layer applies, with its bare name's arguments. */
const activated = (g: OnnxGraph, x: string, activation: Activation) => activate(g, x, activation, nameArgs(activation));

// ---------------------------------------------------------------- layers

/** dense: MatMul over the last axis (it broadcasts over the leading ones), then the bias; a tied head multiplies by its table transposed. */
function dense(l: OnnxLayer<'dense' | 'fused_dense'>): string[] {
  const { g } = l;
  const kernel = denseKernel(l.a);
  const weight = requiredParam(l, kernel.name);
  const w = kernel.transposed ? g.op1('Transpose', [weight], { perm: [1, 0] }) : weight;
  let y = g.op1('MatMul', [l.inputs[0], w]);
  const bias = l.param('bias');
  if (bias) y = g.op1('Add', [y, bias]);
  return [activated(g, y, l.a.activation)];
}

/** conv1d / conv2d: Conv on channels-first, the kernel [k..., in / groups, out] permuted to [out, in / groups, k...]. */
function conv(l: OnnxLayer<'conv1d' | 'conv2d' | 'fused_conv1d' | 'fused_conv2d'>): string[] {
  const { g, a } = l;
  const r = a.rank;
  const kernel = g.weight(`${l.node.name}.kernel`, permuted(required(l, 'kernel'), [r + 1, r, ...Array.from({ length: r }, (_, i) => i)]));
  const bias = l.param('bias');
  const y = channelsFirst(g, l.inputs[0], r + 2, (x) =>
    g.op1('Conv', bias ? [x, kernel, bias] : [x, kernel], { kernel_shape: a.window, strides: a.stride, dilations: a.dilation, group: a.groups, pads: pads(a.axes) }),
  );
  return [activated(g, y, a.activation)];
}

/** ONNX's pads: every axis's start, then every axis's end. */
const pads = (axes: readonly { padBefore: number; padAfter: number }[]) => [...axes.map((x) => x.padBefore), ...axes.map((x) => x.padAfter)];

type DepthwiseOp = 'depthwise_conv2d' | 'fused_depthwise_conv2d' | 'separable_conv2d' | 'fused_separable_conv2d';

/** The depthwise step on channels-first `x`: a Conv with one group per channel, kernel [kh, kw, C, M] as [C M, 1, kh, kw] (output channel c M + m, as Keras orders them). */
function depthwiseStep(l: OnnxLayer<DepthwiseOp>, x: string, bias: string | undefined): string {
  const { g, a } = l;
  const k = required(l, 'depthwise_kernel');
  const [kh, kw, C, M] = k.shape;
  const kernel = g.weight(`${l.node.name}.depthwise_kernel`, reshaped(permuted(k, [2, 3, 0, 1]), [C * M, 1, kh, kw]));
  return g.op1('Conv', bias ? [x, kernel, bias] : [x, kernel], { kernel_shape: a.window, strides: a.stride, dilations: a.dilation, group: C, pads: pads(a.axes) });
}

function depthwise(l: OnnxLayer<'depthwise_conv2d' | 'fused_depthwise_conv2d'>): string[] {
  const y = channelsFirst(l.g, l.inputs[0], 4, (x) => depthwiseStep(l, x, l.param('bias')));
  return [activated(l.g, y, l.a.activation)];
}

/** separable_conv2d: the depthwise step, then a 1x1 Conv with the bias. */
function separable(l: OnnxLayer<'separable_conv2d' | 'fused_separable_conv2d'>): string[] {
  const { g } = l;
  const pointwise = g.weight(`${l.node.name}.pointwise_kernel`, permuted(required(l, 'pointwise_kernel'), [3, 2, 0, 1]));
  const bias = l.param('bias');
  const y = channelsFirst(g, l.inputs[0], 4, (x) => {
    const d = depthwiseStep(l, x, undefined);
    return g.op1('Conv', bias ? [d, pointwise, bias] : [d, pointwise], { kernel_shape: [1, 1] });
  });
  return [activated(g, y, l.a.activation)];
}

/**
 * conv1d_transpose / conv2d_transpose: ConvTranspose with the shape rule's
 * output size. ONNX's output is stride (in - 1) + output_padding + e - pads
 * (e the dilated kernel), so the pads are padBefore and whatever is left at
 * the end; a negative end pad becomes output_padding. Kernel [k..., out, in]
 * as [in, out, k...].
 */
function convTranspose(l: OnnxLayer<'conv1d_transpose' | 'conv2d_transpose'>): string[] {
  const { g, a } = l;
  const r = a.rank;
  const kernel = g.weight(`${l.node.name}.kernel`, permuted(required(l, 'kernel'), [r + 1, r, ...Array.from({ length: r }, (_, i) => i)]));
  const ends = a.spatial.map((L, i) => a.stride[i] * (L - 1) + a.dilation[i] * (a.window[i] - 1) + 1 - a.padBefore[i] - a.out[i]);
  const bias = l.param('bias');
  const y = channelsFirst(g, l.inputs[0], r + 2, (x) =>
    g.op1('ConvTranspose', bias ? [x, kernel, bias] : [x, kernel], {
      kernel_shape: a.window,
      strides: a.stride,
      dilations: a.dilation,
      pads: [...a.padBefore, ...ends.map((e) => Math.max(e, 0))],
      output_padding: ends.map((e) => Math.max(-e, 0)),
    }),
  );
  return [activated(g, y, a.activation)];
}

/** maxpool / avgpool on channels-first; an average leaves the padding out of its count, as TensorFlow does. */
function pool(l: OnnxLayer<'maxpool' | 'avgpool'>): string[] {
  const { g, a } = l;
  const type = a.kind === 'max' ? 'MaxPool' : 'AveragePool';
  return [channelsFirst(g, l.inputs[0], a.rank + 2, (x) => g.op1(type, [x], { kernel_shape: a.size, strides: a.stride, pads: pads(a.axes) }))];
}

/** Reduce every axis between the batch and the channels; a masked average divides by the real steps. */
function globalPool(l: OnnxLayer, reduce: 'ReduceMax' | 'ReduceMean'): string[] {
  const { g } = l;
  const spatial = Array.from({ length: rankOf(l.node.inputs[0]) - 2 }, (_, i) => i + 1);
  const mask = reduce === 'ReduceMean' ? paddingMask(l, 0) : undefined;
  if (mask) {
    const m = g.op1('Unsqueeze', [mask, g.ints([2])]);
    const sum = g.op1('ReduceSum', [g.op1('Mul', [l.inputs[0], m]), g.ints([1])], { keepdims: 0 });
    return [g.op1('Div', [sum, g.op1('ReduceSum', [mask, g.ints([1])], { keepdims: 1 })])];
  }
  return [g.op1(reduce, [l.inputs[0], g.ints(spatial)], { keepdims: 0 })];
}

/** Input i's padding mask [B, T] as 1 / 0 floats: 1 where every model input it comes from has a token other than 0. */
export function paddingMask(l: OnnxLayer, i: number): string | undefined {
  const sources = l.maskSources[i];
  if (!sources || sources.length === 0) return undefined;
  const { g } = l;
  const masks = sources.map((ids) => g.op1('Cast', [g.op1('Not', [g.op1('Equal', [ids, g.constant([0], [], 'int32')])])], { to: ELEM.float }));
  return masks.reduce((a, b) => g.op1('Mul', [a, b]));
}

/** A per-example shape as Reshape's target: the batch kept (0), sizes as they are; a dimension variable is copied from the input only where it stays in place. */
function reshapeTarget(l: OnnxLayer): string {
  const out = dims(l.node);
  if (out.some((d) => typeof d !== 'number')) l.unsupported('a reshape of a dimension that is a variable');
  return l.g.ints([0, ...(out as number[])]);
}

/** Gathers `indices` of `x` along `axis` (a constant index list, int64). */
const gather = (g: OnnxGraph, x: string, indices: number[], axis: number) => g.op1('Gather', [x, g.ints(indices)], { axis });

/**
 * upsampling as the interpreter computes it: nearest gathers floor(i / size)
 * along each axis; bilinear blends two gathers per axis with TensorFlow 2's
 * half-pixel weights (kernels/resize.ts).
 */
function upsampling(l: OnnxLayer<'upsampling'>): string[] {
  const { g } = l;
  const { size, out, interpolation } = l.a;
  let y = l.inputs[0];
  out.forEach((n, i) => {
    const axis = i + 1;
    if (interpolation === 'nearest') {
      y = gather(g, y, Array.from({ length: n }, (_, j) => Math.floor(j / size[i]!)), axis);
      return;
    }
    const inSize = n / size[i]!;
    const t = Array.from({ length: n }, (_, j) => (j + 0.5) / size[i]! - 0.5);
    const lo = t.map((v) => Math.max(Math.floor(v), 0));
    const hi = t.map((v) => Math.min(Math.ceil(v), inSize - 1));
    const w = t.map((v) => v - Math.floor(v));
    // Weights as a column along this axis, broadcast over the later ones.
    const column = (ws: number[]) => g.constant(ws, [n, ...Array<number>(out.length - i).fill(1)]);
    y = g.op1('Add', [g.op1('Mul', [gather(g, y, lo, axis), column(w.map((x) => 1 - x))]), g.op1('Mul', [gather(g, y, hi, axis), column(w)])]);
  });
  return [y];
}

/** A constant with the interpreter's batch of one, broadcast by its users. */
function constant(l: OnnxLayer<'constant'>): string[] {
  const value: ConstTensor = l.a.value;
  return [l.g.constant(Array.from(value.data), [1, ...value.shape])];
}

/** positional: x plus the table of its length: sinusoidal computed at export, learned from the weights (its first T rows of max_len). */
function positional(l: OnnxLayer<'positional'>): string[] {
  const { g, a } = l;
  const x = l.inputs[0];
  if (typeof a.steps !== 'number') {
    if (a.kind === 'sinusoidal') return [g.op1('Add', [x, sinusoidalOfLength(g, x, a.width)])];
    const length = g.op1('Slice', [g.op1('Shape', [x]), g.ints([1]), g.ints([2])]);
    return [g.op1('Add', [x, g.op1('Slice', [requiredParam(l, 'embeddings'), g.ints([0]), length, g.ints([0])])])];
  }
  if (a.kind === 'sinusoidal') {
    const table = sinusoidalTable(a.steps, a.width);
    return [g.op1('Add', [x, g.constant(Array.from(table.data), table.shape)])];
  }
  const table = requiredParam(l, 'embeddings');
  return [g.op1('Add', [x, a.maxLen === a.steps ? table : g.op1('Slice', [table, g.ints([0]), g.ints([a.steps]), g.ints([0])])])];
}

/**
 * sinusoidalTable(T, d) for the length T of x's axis 1, computed at run time:
 * pos / 10000^(2i / d) (the divisors a constant, in float32 where the
 * interpreter's table uses float64: within 1.2e-7 T of its angles), the sine
 * on even columns and the cosine on odd ones.
 */
function sinusoidalOfLength(g: OnnxGraph, x: string, d: number): string {
  const T = g.op1('Gather', [g.op1('Shape', [x]), g.constant([1], [], 'int64')], { axis: 0 });
  const pos = g.op1('Unsqueeze', [g.op1('Cast', [g.op1('Range', [g.constant([0], [], 'int64'), T, g.constant([1], [], 'int64')])], { to: ELEM.float }), g.ints([1])]);
  const columns = Array.from({ length: d }, (_, j) => j);
  const angle = g.op1('Div', [pos, g.constant(columns.map((j) => Math.pow(10000, (j - (j % 2)) / d)), [d])]);
  const even = g.constant(columns.map((j) => (j % 2 === 0 ? 1 : 0)), [d]);
  const odd = g.constant(columns.map((j) => j % 2), [d]);
  return g.op1('Add', [g.op1('Mul', [g.op1('Sin', [angle]), even]), g.op1('Mul', [g.op1('Cos', [angle]), odd])]);
}

/** batchnorm: BatchNormalization on the channels moved to axis 1; gamma 1 and beta 0 where the layer has none. */
function batchnorm(l: OnnxLayer<'batchnorm'>): string[] {
  const { g, a } = l;
  const ones = () => g.constant(Array<number>(a.channels).fill(1), [a.channels]);
  const zeros = () => g.constant(Array<number>(a.channels).fill(0), [a.channels]);
  const args = [l.param('gamma') ?? ones(), l.param('beta') ?? zeros(), requiredParam(l, 'moving_mean'), requiredParam(l, 'moving_variance')];
  const rank = rankOf(l.node);
  const axis = a.axis + 1; // counted with the batch
  const bn = (x: string) => g.op1('BatchNormalization', [x, ...args], { epsilon: f(a.epsilon) });
  if (axis === 1) return [bn(l.inputs[0])];
  // Move the channels axis to 1 and back.
  const order = [0, axis, ...Array.from({ length: rank - 1 }, (_, i) => i + 1).filter((k) => k !== axis)];
  const back = order.map((_, i) => order.indexOf(i));
  return [g.op1('Transpose', [bn(g.op1('Transpose', [l.inputs[0]], { perm: order }))], { perm: back })];
}

/** Elementwise merges fold left to right, as the interpreter's do. */
const fold = (type: string) => (l: OnnxLayer) => [l.inputs.reduce((y, x) => l.g.op1(type, [y, x]))];

export const LOWERINGS: LoweringTable = {
  input: () => {
    throw internal('onnx: input nodes are graph inputs, not lowered');
  },
  constant,
  dense,
  fused_dense: dense,
  conv1d: conv,
  conv2d: conv,
  fused_conv1d: conv,
  fused_conv2d: conv,
  conv1d_transpose: convTranspose,
  conv2d_transpose: convTranspose,
  depthwise_conv2d: depthwise,
  fused_depthwise_conv2d: depthwise,
  separable_conv2d: separable,
  fused_separable_conv2d: separable,
  maxpool: pool,
  avgpool: pool,
  global_maxpool: (l) => globalPool(l, 'ReduceMax'),
  global_avgpool: (l) => globalPool(l, 'ReduceMean'),
  ...activationOpTable((l: OnnxLayer<ActivationOpName>) => [activate(l.g, l.inputs[0], l.a.activation, l.a.args)]),
  dropout: (l) => [l.inputs[0]], // identity at inference
  flatten: (l) => [l.g.op1('Flatten', [l.inputs[0]], { axis: 1 })],
  reshape: (l) => [l.g.op1('Reshape', [l.inputs[0], reshapeTarget(l)])],
  zero_padding: (l) => {
    const m = l.a.margins;
    return [l.g.op1('Pad', [l.inputs[0], l.g.ints([0, ...m.map(([before]) => before), 0, 0, ...m.map(([, after]) => after), 0])])];
  },
  cropping: (l) => {
    const axes = l.a.margins.map((_, i) => i + 1);
    return [l.g.op1('Slice', [l.inputs[0], l.g.ints(l.a.margins.map(([before]) => before)), l.g.ints(l.a.margins.map(([before], i) => before + l.a.out[i])), l.g.ints(axes)])];
  },
  upsampling,
  take: (l) => [l.g.op1('Gather', [l.inputs[0], l.g.constant([l.a.start], [], 'int64')], { axis: l.a.axis })],
  slice: (l) => [l.g.op1('Slice', [l.inputs[0], l.g.ints([l.a.start]), l.g.ints([l.a.start + l.a.length]), l.g.ints([l.a.axis])])],
  mean: (l) => [l.g.op1('ReduceMean', [l.inputs[0], l.g.ints([l.a.axis])], { keepdims: l.a.keepdims ? 1 : 0 })],
  sum: (l) => [l.g.op1('ReduceSum', [l.inputs[0], l.g.ints([l.a.axis])], { keepdims: l.a.keepdims ? 1 : 0 })],
  permute: (l) => [l.g.op1('Transpose', [l.inputs[0]], { perm: [0, ...l.a.perm.map((k) => k + 1)] })],
  add: fold('Add'),
  multiply: fold('Mul'),
  subtract: fold('Sub'),
  maximum: fold('Max'),
  minimum: fold('Min'),
  average: (l) => [l.g.op1('Div', [fold('Add')(l)[0], l.g.scalar(l.inputs.length)])],
  concat: (l) => [l.g.op1('Concat', l.inputs, { axis: l.a.axis })],
  embedding: (l) => [l.g.op1('Gather', [requiredParam(l, 'embeddings'), l.inputs[0]], { axis: 0 })],
  positional,
  repeat_vector: (l) => [l.g.op1('Tile', [l.g.op1('Unsqueeze', [l.inputs[0], l.g.ints([1])]), l.g.ints([1, l.a.n, 1])])],
  result: () => {
    throw internal('onnx: result nodes pick a value of the layer before them, and are not lowered');
  },
  rnn: lowerRecurrent,
  lstm: lowerRecurrent,
  gru: lowerRecurrent,
  bidirectional: lowerBidirectional,
  attention: lowerAttention,
  batchnorm,
  layernorm: (l) => [l.g.op1('LayerNormalization', [l.inputs[0], requiredParam(l, 'gamma'), requiredParam(l, 'beta')], { axis: -1, epsilon: f(l.a.epsilon) })],
};
