/**
 * Reverse-mode automatic differentiation over the IR: one training step's
 * forward pass (dropout active, seeded) recorded on a tape, the loss, and one
 * reverse pass. Not the optimizer or the training loop (src/train/), and no
 * weight decay: those are the caller's.
 *
 * The forward runs the interpreter's own kernels (execute.ts's KERNELS), so
 * training computes exactly what inference computes; the few ops whose
 * backward needs intermediate values (the recurrent layers' states, the
 * attention probabilities) run a forward from grad/ that keeps them. Every
 * activation stays alive until the step ends.
 *
 * The reverse pass visits the nodes in reverse topological order and calls
 * BACKWARD[op], a table (TypeScript reports an op without a backward) whose
 * entries each say in a line or two how the op's gradient is formed; the
 * numerics live in grad/<family>.ts beside the forward they invert. A value
 * read by several nodes sums their gradients; a parameter's gradient is
 * stored under its weight name `<layer>.<param>`. Only nodes that depend on a
 * trainable weight (or on an input whose gradient was asked for) are visited.
 *
 * Memory: a step's kept activations (each kernel writes into its own buffer,
 * sized by plan.ts) and its gradients come from the step's memory
 * (grad/util.ts's duringStep), given back when the step ends; the results
 * (outputs, gradients) are returned as copies.
 *
 * Keras's from_logits: when the loss's output is a softmax (categorical
 * crossentropies) or a sigmoid (binary crossentropy), including a layer with
 * the activation fused in, the loss and its gradient are computed from the
 * logits (losses.ts, lossAndGradFromLogits) and the reverse pass starts below
 * the activation.
 */
import { paramsOf } from '../../ir/infer.js';
import type { Graph, Node, NodeOf } from '../../ir/types.js';
import { activationOpTable, isNameArgs, type ActivationAttrs, type ActivationOpName } from '../../ops/activations.js';
import { type AttrsOf, lookupOp, type OpName } from '../../ops/index.js';
import { ownActivation } from '../../ops/common.js';
import { denseKernel } from '../../ops/dense.js';
import type { ParamSpec } from '../../ops/op.js';
import { DIRECTIONS, STATES, type RecurrentAttrs } from '../../ops/recurrent.js';
import { attentionOptions, attentionWeights, batchNormTrained, Call, convOptions, convTranspose1d, convTranspose2d, depthwiseOptions, masksOf, paramAccess, poolOptions, recurrentMask, runKernel, stateBuffers } from './execute.js';
import { partRanges } from '../../ops/result.js';
import { repeatVectorBackward } from './kernels/repeat.js';
import type { BatchNormTrace } from './kernels/index.js';
import { batchNormBackward } from './grad/batchnorm.js';
import { mergeBackward } from './grad/merge.js';
import type { Activation, ActivationArgs } from './kernels/index.js';
import { activate, bitsOf, concat, dropout, shiftCopy, upsampleBilinearBackward, upsampleNearestBackward } from './kernels/index.js';
import { inversePerm, padAxis, permute, spreadAxis } from './kernels/tensor.js';
import type { LossName } from '../../runtime/losses.js';
import { lossAndGrad, lossAndGradFromLogits } from './losses.js';
import { createRng } from '../../runtime/random.js';
import type { Tensor } from './tensor.js';
import { showShape, sizeOf } from './tensor.js';
import type { Weights } from './weights.js';
import { weightSlots } from './weights.js';
import { weightName } from '../../weights/slots.js';
import { activationGrad, gradientFrom } from './grad/activation.js';
import { AttentionTrace, attentionBackward, attentionForward } from './grad/attention.js';
import { conv1dBackward, conv2dBackward } from './grad/conv.js';
import { conv1dTransposeBackward, conv2dTransposeBackward } from './grad/conv_transpose.js';
import { depthwiseConv2dBackward, separableConv2dBackward } from './grad/depthwise.js';
import { LayerGrads, denseBackward } from './grad/dense.js';
import { concatBackward, dropoutBackward } from './grad/elementwise.js';
import { embeddingBackward, positionalTableBackward } from './grad/embedding.js';
import { layerNormBackward } from './grad/layernorm.js';
import * as P from './grad/pool.js';
import { RecurrentTrace, recurrentBackward, recurrentForward } from './grad/recurrent.js';
import { addInto, buffer, duringStep, keep, zeros } from './grad/util.js';
import type { MemoryPlan } from './plan.js';
import { planMemory } from './plan.js';
import { internal } from '../../diagnostics.js';

/** What a backward sees of its node: `a` is its op's resolved attribute record. */
export interface GradCall<Op extends OpName = OpName> {
  node: NodeOf<Op>;
  a: AttrsOf<Op>;
  /** The forward's inputs and output. */
  inputs: Tensor[];
  output: Tensor;
  /** What the op's training forward kept (TRAINING_FORWARD), else undefined. */
  saved: unknown;
  /** d loss / d output. */
  dy: Tensor;
  /** Which inputs want a gradient (the others may get null). */
  needsInput: boolean[];
  param(name: string): Tensor;
  optionalParam(name: string): Tensor | null;
  /** The parameter is a weight that takes a gradient (false for fixed kernels from the source). */
  trainable(name: string): boolean;
  /** The padding masks the forward read (Call.masks). */
  masks: (Tensor['data'] | null)[];
  /** A max pool whose input is a relu's output read by nothing else: its backward applies the relu's too (reluPools). */
  reluMask: boolean;
  /** dy is past this node's relu already (the max pool reading it applied relu's backward): its activation's backward is skipped. */
  reluApplied: boolean;
}

export interface Grads {
  /** One per input, null where there is none or none was wanted. */
  inputs: (Tensor | null)[];
  /** By local parameter name (`kernel`, `forward.bias`, `query.kernel`). */
  params?: Record<string, Tensor>;
}

/** One backward per op, typed by the op's attributes. */
export type BackwardTable = { [Op in OpName]: (g: GradCall<Op>) => Grads };

/** A forward that keeps what its backward needs. */
type TrainingForward<Op extends OpName> = (c: Call<Op>) => { output: Tensor; saved: unknown };

/** Forwards that keep what their backward needs; all other ops run the interpreter's kernel. */
const TRAINING_FORWARD: { [Op in OpName]?: TrainingForward<Op> } = {
  rnn: (c) => recurrentLayerTrained(c),
  lstm: (c) => recurrentLayerTrained(c),
  gru: (c) => recurrentLayerTrained(c),
  bidirectional: (c) => {
    const a = c.a.layer;
    const [forward, backward] = DIRECTIONS.map((dir, i) => recurrentTrained(c, a, `${dir}.`, i));
    const output = concat([forward.output, backward.output], -1, a.returnState ? undefined : c.out);
    return { output: a.returnState ? pack(c, [output, ...forward.states, ...backward.states]) : output, saved: [forward.saved, backward.saved] };
  },
  attention: (c) => {
    const [query, value = query, key = value] = c.inputs;
    const { output, trace } = attentionForward(query, value, key, attentionWeights((n) => c.optionalParam(n) ?? missingWeight(n)), attentionOptions(c));
    return { output, saved: trace };
  },
  // The stream's values stay for the backward's mask (drawing them again cost as much as the forward's draw).
  dropout: (c) => {
    const values = bitsOf(buffer(c.inputs[0].data.length));
    return { output: dropout(c.inputs[0], c.a.rate, c.rng, c.out ?? buffer(c.inputs[0].data.length), values), saved: values };
  },
  batchnorm: (c) => batchNormTrained({ ...c, out: c.out ?? buffer(c.inputs[0].data.length) }, buffer(c.inputs[0].data.length)),
  dense: (c) => keepPreActivation(c),
  conv1d: (c) => keepPreActivation(c),
  conv2d: (c) => keepPreActivation(c),
  conv1d_transpose: (c) => keepPreActivation(c),
  conv2d_transpose: (c) => keepPreActivation(c),
  depthwise_conv2d: (c) => keepPreActivation(c),
  separable_conv2d: (c) => keepPreActivation(c),
};

/**
 * dense and conv (plain or transposed) with `activation =` an activation whose backward reads its
 * input x (gelu, silu, softplus...): the layer stays one node, and its
 * training forward keeps the pre-activation z for the backward (saved);
 * with any other activation the layer's kernel applies it, as at inference.
 */
function keepPreActivation(c: Call<'dense' | 'conv1d' | 'conv2d' | 'conv1d_transpose' | 'conv2d_transpose' | 'depthwise_conv2d' | 'separable_conv2d'>): { output: Tensor; saved: Tensor | undefined } {
  const act = c.a.activation;
  // An own training forward gets no planned buffer: the output comes from the step's memory.
  const out = () => buffer(c.inputs[0].shape[0] * c.node.type.shape.slice(1).reduce<number>((n, d) => n * ((d as number | null) ?? 1), 1));
  if (act === 'linear' || gradientFrom(act) === 'y') return { output: runKernel({ ...c, out: out() } as Call), saved: undefined };
  const z = runKernel({ ...c, a: { ...c.a, activation: 'linear' }, out: out() } as Call);
  return { output: activate(z, act, out()), saved: z };
}
const trainingForwardOf = (op: OpName) => TRAINING_FORWARD[op] as TrainingForward<OpName> | undefined;

export const BACKWARD: BackwardTable = {
  input: () => ({ inputs: [] }),
  constant: () => ({ inputs: [] }),
  // x W + b, then the activation (fused nodes): dz = act'(y) dy; dW = x^T dz, db = sum dz, dx = dz W^T.
  dense: (g) => denseGrads(g),
  // im2col x W + b: dW = cols^T dz, dx = col2im(dz W^T).
  conv1d: (g) => convBackward(g),
  conv2d: (g) => convBackward(g),
  // The activation's backward, then the base layer's.
  fused_dense: (g) => denseGrads(g),
  fused_conv1d: (g) => convBackward(g),
  fused_conv2d: (g) => convBackward(g),
  // col2im(x K^T) + b, the adjoint of a conv: dx = that conv of dz, dK = im2col(dz)^T x.
  conv1d_transpose: (g) => layerGrads(conv1dTransposeBackward(g.inputs[0], g.param('kernel'), preActivation(g), convTranspose1d(g.a), want(g))),
  conv2d_transpose: (g) => layerGrads(conv2dTransposeBackward(g.inputs[0], g.param('kernel'), preActivation(g), convTranspose2d(g.a), want(g))),
  // Per channel, over each tap's cells: dK = sum x dz, dx += K dz (grad/depthwise.ts).
  depthwise_conv2d: (g) => depthwiseBackward(g),
  fused_depthwise_conv2d: (g) => depthwiseBackward(g),
  // The 1x1 conv's backward on the recomputed depthwise output, then the depthwise backward.
  separable_conv2d: (g) => separableBackward(g),
  fused_separable_conv2d: (g) => separableBackward(g),
  // To the window's (first) max; spread over the window's real cells.
  maxpool: (g) => ({ inputs: [poolBackward(g)] }),
  avgpool: (g) => ({ inputs: [poolBackward(g)] }),
  global_maxpool: (g) => ({ inputs: [P.globalMaxPoolBackward(g.inputs[0], g.dy)] }),
  global_avgpool: (g) => ({ inputs: [P.globalAvgPoolBackward(g.inputs[0], g.dy, g.masks[0] ?? undefined)] }),
  // The activation table's backward, from the output y or the input x.
  ...activationOpTable((g: GradCall<ActivationOpName>) => elementwise(g, g.a.activation, g.a.args)),
  // The same mask, from the stream's values the forward kept.
  dropout: (g) => ({ inputs: [dropoutBackward(g.dy, g.a.rate, g.saved as Uint32Array)] }),
  // The same numbers in the input's shape.
  flatten: (g) => ({ inputs: [{ shape: [...g.inputs[0].shape], data: g.dy.data }] }),
  reshape: (g) => ({ inputs: [{ shape: [...g.inputs[0].shape], data: g.dy.data }] }),
  // Each is the other's backward: crop dy back to the input, or pad it back out.
  zero_padding: (g) => ({ inputs: [shiftCopy(g.dy, g.a.spatial, g.a.margins.map(([before]) => before))] }),
  cropping: (g) => ({ inputs: [shiftCopy(g.dy, g.a.spatial, g.a.margins.map(([before]) => -before))] }),
  // Each cell takes the sum of its copies' gradients (bilinear: weighted by its share in each).
  upsampling: (g) => ({ inputs: [(g.a.interpolation === 'bilinear' ? upsampleBilinearBackward : upsampleNearestBackward)(g.dy, g.inputs[0].shape, g.a.size)] }),
  // The adjoints of kernels/tensor.ts: dy put back in place, spread over the axis, or permuted back.
  take: (g) => ({ inputs: [padAxis(g.dy, g.a, g.a.start, 1, [...g.inputs[0].shape], buffer(sizeOf(g.inputs[0].shape)))] }),
  slice: (g) => ({ inputs: [padAxis(g.dy, g.a, g.a.start, g.a.length, [...g.inputs[0].shape], buffer(sizeOf(g.inputs[0].shape)))] }),
  mean: (g) => ({ inputs: [spreadAxis(g.dy, g.a, 1 / g.a.n, [...g.inputs[0].shape], buffer(sizeOf(g.inputs[0].shape)))] }),
  sum: (g) => ({ inputs: [spreadAxis(g.dy, g.a, 1, [...g.inputs[0].shape], buffer(sizeOf(g.inputs[0].shape)))] }),
  permute: (g) => ({ inputs: [permute(g.dy, inversePerm(g.a.perm), g.a.perm.map((k) => g.a.in[k]), buffer(sizeOf(g.inputs[0].shape)))] }),
  // dy to each input; a constant (one example, repeated over the batch) takes none.
  add: (g) => ({ inputs: g.inputs.map((x) => (x.shape[0] === g.dy.shape[0] ? g.dy : null)) }),
  // dy times each input's local derivative, summed over where its broadcast value went (grad/merge.ts).
  multiply: (g) => ({ inputs: mergeBackward('multiply', g.inputs, g.output, g.dy, g.needsInput) }),
  subtract: (g) => ({ inputs: mergeBackward('subtract', g.inputs, g.output, g.dy, g.needsInput) }),
  maximum: (g) => ({ inputs: mergeBackward('maximum', g.inputs, g.output, g.dy, g.needsInput) }),
  minimum: (g) => ({ inputs: mergeBackward('minimum', g.inputs, g.output, g.dy, g.needsInput) }),
  average: (g) => ({ inputs: mergeBackward('average', g.inputs, g.output, g.dy, g.needsInput) }),
  // Each input's slice of dy.
  concat: (g) => ({ inputs: concatBackward(g.dy, g.inputs.map((x) => x.shape), g.a.axis) }),
  // Scatter-add dy into the table rows read; the integer ids take none.
  embedding: (g) => ({ inputs: [null], params: { embeddings: embeddingBackward(g.inputs[0], g.dy, g.param('embeddings').shape) } }),
  // x + table: dy passes through; a learned table sums dy over the batch.
  positional: (g) => ({
    inputs: [g.dy],
    params: g.trainable('embeddings') ? { embeddings: positionalTableBackward(g.dy, g.param('embeddings').shape) } : undefined,
  }),
  // Backpropagation through time (grad/recurrent.ts); with return_state dy is the tuple's: the output's, then the final states'.
  rnn: (g) => recurrentLayerGrads(g),
  lstm: (g) => recurrentLayerGrads(g),
  gru: (g) => recurrentLayerGrads(g),
  // Split dy between the two directions (and the tuple's final states between their layers); their input gradients add.
  bidirectional: (g) => {
    const a = g.a.layer;
    const [fwd, bwd] = g.saved as [RecurrentTrace, RecurrentTrace];
    const [dy, ...dFinal] = unpack(g, a);
    const half = [...dy.shape.slice(0, -1), a.units];
    const [dyF, dyB] = concatBackward(dy, [half, half], -1);
    const n = dFinal.length / 2;
    const f = recurrentGrads(g, a, fwd, dyF, dFinal.slice(0, n), 0);
    const b = recurrentGrads(g, a, bwd, dyB, dFinal.slice(n), 1);
    if (f.dx && b.dx) addInto(f.dx.data, b.dx.data);
    return { inputs: [f.dx, ...f.dInitial, ...b.dInitial], params: { ...f.params, ...b.params } };
  },
  // The part's gradient in its place of the tuple's, zeros elsewhere.
  result: (g) => {
    const B = g.dy.shape[0];
    const tuple = g.node.inputs[0].type;
    const ranges = partRanges(tuple, B);
    const data = zeros(ranges.reduce((n, [, length]) => n + length, 0));
    data.set(g.dy.data, ranges[g.a.index][0]);
    return { inputs: [{ shape: [B, data.length / B], data }] };
  },
  // Each copy's gradient summed back into the vector.
  repeat_vector: (g) => ({ inputs: [repeatVectorBackward(g.dy)] }),
  // Both products and the softmax per head, then the four projections (grad/attention.ts).
  attention: (g) => {
    const n = g.inputs.length;
    // query, value = query, key = value: an input standing for several roles sums their gradients.
    const roleOf = [0, Math.min(1, n - 1), Math.min(2, n - 1)];
    const wants = roleOf.map((i) => g.needsInput[i]);
    const r = attentionBackward(g.saved as AttentionTrace, g.dy, { query: wants[0], value: wants[1], key: wants[2] });
    const inputs: (Tensor | null)[] = g.inputs.map(() => null);
    [r.dQuery, r.dValue, r.dKey].forEach((d, role) => {
      const i = roleOf[role];
      if (!d) return;
      if (inputs[i]) addInto(inputs[i]!.data, d.data);
      else inputs[i] = d;
    });
    return { inputs, params: r.params };
  },
  // Through the normalisation: dx = inv (g - mean g - xhat mean(g xhat)), g = dy gamma.
  // With the batch statistics kept by the forward (grad/batchnorm.ts); the moving ones take no gradient.
  batchnorm: (g) => {
    const r = batchNormBackward(g.a, g.saved as BatchNormTrace, g.optionalParam('gamma'), g.dy, g.needsInput[0]);
    return { inputs: [r.dx], params: { gamma: r.dGamma, beta: r.dBeta } };
  },
  layernorm: (g) => {
    const r = layerNormBackward(g.inputs[0], g.param('gamma'), g.a.epsilon, g.dy, g.needsInput[0]);
    return { inputs: [r.dx], params: { gamma: r.dGamma, beta: r.dBeta } };
  },
};

/** x W + b; a tied head's W is its embedding's table transposed, whose gradient goes to that table. */
function denseGrads(g: GradCall<'dense' | 'fused_dense'>): Grads {
  const kernel = denseKernel(g.a);
  const r = denseBackward(g.inputs[0], g.param(kernel.name), preActivation(g), { ...want(g), kernel: g.trainable(kernel.name) }, kernel.transposed);
  const grads = layerGrads(r);
  if (kernel.transposed && grads.params?.kernel) {
    grads.params = { ...grads.params, [kernel.name]: grads.params.kernel };
    delete grads.params.kernel;
  }
  return grads;
}

/** im2col x W + b: dW = cols^T dz, dx = col2im(dz W^T). */
function convBackward(g: GradCall<'conv1d' | 'conv2d' | 'fused_conv1d' | 'fused_conv2d'>): Grads {
  const o = convOptions(g.a);
  const args = [g.inputs[0], g.param('kernel'), preActivation(g)] as const;
  return layerGrads(o.rank === 1 ? conv1dBackward(...args, o, want(g)) : conv2dBackward(...args, o, want(g)));
}

function depthwiseBackward(g: GradCall<'depthwise_conv2d' | 'fused_depthwise_conv2d'>): Grads {
  const want = { input: g.needsInput[0], kernel: g.trainable('depthwise_kernel'), bias: g.trainable('bias') };
  const r = depthwiseConv2dBackward(g.inputs[0], g.param('depthwise_kernel'), preActivation(g), depthwiseOptions(g.a), want);
  const params: Record<string, Tensor> = {};
  if (r.dKernel) params.depthwise_kernel = r.dKernel;
  if (r.dBias) params.bias = r.dBias;
  return { inputs: [r.dx], params };
}

function separableBackward(g: GradCall<'separable_conv2d' | 'fused_separable_conv2d'>): Grads {
  const want = { input: g.needsInput[0], kernel: g.trainable('depthwise_kernel'), pointwise: g.trainable('pointwise_kernel'), bias: g.trainable('bias') };
  const r = separableConv2dBackward(g.inputs[0], g.param('depthwise_kernel'), g.param('pointwise_kernel'), preActivation(g), depthwiseOptions(g.a), want);
  const params: Record<string, Tensor> = {};
  if (r.dDepthwise) params.depthwise_kernel = r.dDepthwise;
  if (r.dPointwise) params.pointwise_kernel = r.dPointwise;
  if (r.dBias) params.bias = r.dBias;
  return { inputs: [r.dx], params };
}

/**
 * dz = d loss / d(pre-activation) for dense and conv layers: their
 * activation's backward, if any, from the output, or from the pre-activation
 * the training forward kept (fused layers only hold activations that
 * differentiate from y).
 */
const LAYERS_WITH_ACTIVATION = [
  'dense', 'fused_dense', 'conv1d', 'conv2d', 'fused_conv1d', 'fused_conv2d', 'conv1d_transpose', 'conv2d_transpose',
  'depthwise_conv2d', 'fused_depthwise_conv2d', 'separable_conv2d', 'fused_separable_conv2d',
] as const satisfies readonly OpName[];
function preActivation(g: GradCall<(typeof LAYERS_WITH_ACTIVATION)[number]>): Tensor {
  if (g.a.activation === 'linear' || g.reluApplied) return g.dy;
  const width = g.output.shape[g.output.shape.length - 1];
  const v = gradientFrom(g.a.activation) === 'y' ? g.output : (g.saved as Tensor); // keepPreActivation's z
  return { shape: [...g.dy.shape], data: activationGrad(v.data, g.dy.data, g.a.activation, width) };
}

function want(g: GradCall) {
  return { input: g.needsInput[0], kernel: g.trainable('kernel'), bias: g.trainable('bias') };
}

/** A dense or conv layer's gradients as the reverse pass takes them. */
function layerGrads(r: LayerGrads): Grads {
  const params: Record<string, Tensor> = {};
  if (r.dKernel) params.kernel = r.dKernel;
  if (r.dBias) params.bias = r.dBias;
  return { inputs: [r.dx], params };
}

function elementwise(g: GradCall, act: Activation, p: ActivationArgs): Grads {
  if (g.reluApplied) return { inputs: [g.dy] };
  const width = g.output.shape[g.output.shape.length - 1];
  const v = gradientFrom(act, p) === 'y' ? g.output : g.inputs[0];
  return { inputs: [{ shape: [...g.dy.shape], data: activationGrad(v.data, g.dy.data, act, width, p) }] };
}

function poolBackward(g: GradCall<'maxpool' | 'avgpool'>): Tensor {
  const x = g.inputs[0];
  const o = poolOptions(g.a);
  if (g.a.kind === 'max') return o.rank === 1 ? P.maxPool1dBackward(x, g.dy, o, g.reluMask) : P.maxPool2dBackward(x, g.dy, o, g.reluMask);
  return o.rank === 1 ? P.avgPool1dBackward(x, g.dy, o) : P.avgPool2dBackward(x, g.dy, o);
}

/**
 * The max pools whose input is the output of a relu (the op, or a layer's
 * `activation = relu`) that nothing else reads, with that relu's node. The
 * pool's backward then routes a window's gradient only to a maximum above 0
 * (grad/pool.ts's reluMask), which is the relu's backward already, and the
 * relu skips its own pass over the tensor: the same bits, one pass fewer
 * (MNIST's convnet: 4% of a training step). `logitsOf`'s activation belongs
 * to the loss: it is a graph output, read by the loss, so never one of these.
 */
const reluPoolsOf = new WeakMap<Graph, Map<Node, Node>>();
function reluPools(graph: Graph): Map<Node, Node> {
  let pools = reluPoolsOf.get(graph);
  if (pools) return pools;
  const readers = new Map<Node, number>();
  for (const node of graph.nodes) for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
  for (const o of graph.outputs) readers.set(o.node, (readers.get(o.node) ?? 0) + 1);
  const appliesRelu = (node: Node): boolean => {
    const a = node.resolved as Partial<ActivationAttrs>;
    if (a.activation !== 'relu') return false;
    if (node.op === 'relu') return a.args !== undefined && isNameArgs('relu', a.args);
    return (LAYERS_WITH_ACTIVATION as readonly string[]).includes(node.op);
  };
  pools = new Map();
  for (const node of graph.nodes) {
    if (node.op !== 'maxpool' || (node.resolved as AttrsOf<'maxpool'>).kind !== 'max') continue;
    const input = node.inputs[0];
    if (readers.get(input) === 1 && appliesRelu(input)) pools.set(node, input);
  }
  reluPoolsOf.set(graph, pools);
  return pools;
}

/** Direction `d` of a recurrent layer (0 alone or forwards, 1 backwards), from its initial states if given; keeps its trace. */
function recurrentTrained(c: Call, a: RecurrentAttrs, prefix: string, d: number): { output: Tensor; saved: RecurrentTrace; states: Tensor[] } {
  const p = (n: string) => c.param(`${prefix}${n}`);
  const activation = a.cell === 'rnn' ? a.activation : undefined;
  const { output, trace, states } = recurrentForward(c.inputs[0], p('kernel'), p('recurrent_kernel'), c.optionalParam(`${prefix}bias`), {
    cell: a.cell, sequences: a.sequences, reverse: d === 1, activation, resetAfter: a.resetAfter, initial: stateBuffers(c, a, d).initial, ...recurrentMask(c, a),
  });
  return { output, saved: trace, states };
}

function recurrentLayerTrained(c: Call<'rnn' | 'lstm' | 'gru'>): { output: Tensor; saved: RecurrentTrace } {
  const { output, saved, states } = recurrentTrained(c, c.a, '', 0);
  return { output: c.a.returnState ? pack(c, [output, ...states]) : output, saved };
}

/** A tuple's parts in one buffer (result.ts's layout). */
function pack(c: Call, parts: Tensor[]): Tensor {
  const B = c.inputs[0].shape[0];
  const ranges = partRanges(c.node.type, B);
  const data = buffer(ranges.reduce((n, [, length]) => n + length, 0));
  parts.forEach((t, i) => data.set(t.data, ranges[i][0]));
  return { shape: [B, data.length / B], data };
}

/** dy as the layer's output gradient and its final states' (with return_state), else just dy. */
function unpack(g: GradCall, a: RecurrentAttrs): Tensor[] {
  if (!a.returnState) return [g.dy];
  const B = g.dy.shape[0];
  return partRanges(g.node.type, B).map(([at, length], i) => ({ shape: [B, ...(g.node.type.parts![i].shape.slice(1) as number[])], data: g.dy.data.subarray(at, at + length) }));
}

function recurrentLayerGrads(g: GradCall<'rnn' | 'lstm' | 'gru'>): Grads {
  const [dy, ...dFinal] = unpack(g, g.a);
  const r = recurrentGrads(g, g.a, g.saved as RecurrentTrace, dy, dFinal, 0);
  return { inputs: [r.dx, ...r.dInitial], params: r.params };
}

/** Direction `d`'s gradients: its input's, its initial states' (when given and wanted), its weights' under its prefix. */
function recurrentGrads(g: GradCall, a: RecurrentAttrs, trace: RecurrentTrace, dy: Tensor, dFinal: Tensor[], d: number) {
  const n = STATES[a.cell];
  const wantInitial = a.initialState && g.needsInput.slice(1 + d * n, 1 + (d + 1) * n).some(Boolean);
  const r = recurrentBackward(trace, dy, g.needsInput[0], dFinal, wantInitial);
  const prefix = g.node.op === 'bidirectional' ? `${DIRECTIONS[d]}.` : '';
  const params: Record<string, Tensor> = { [`${prefix}kernel`]: r.dKernel, [`${prefix}recurrent_kernel`]: r.dRecurrentKernel };
  if (r.dBias) params[`${prefix}bias`] = r.dBias;
  const dInitial: (Tensor | null)[] = a.initialState ? (wantInitial ? r.dInitial : Array(n).fill(null)) : [];
  return { dx: r.dx, dInitial, params };
}

function missingWeight(name: string): never {
  throw internal(`no weight for attention parameter "${name}"`);
}

// ---------------------------------------------------------------------------
// The tape.

interface Entry {
  node: Node;
  /** Null for the graph's inputs. */
  call: Call | null;
  /** The op's parameters (a fixed kernel carries its value). */
  specs: ParamSpec[];
  output: Tensor;
  saved: unknown;
  /** The node depends on something that takes a gradient. */
  needsGrad: boolean;
}

export interface BackpropOptions {
  /** Seeds dropout (as RunOptions.seed); default 0. */
  seed?: number;
  /** Also return gradients for the graph's float inputs. */
  inputGrads?: boolean;
  /** Where the reverse pass starts: d loss / d value of these outputs. */
  outputGrads?: Record<string, Tensor>;
  /** Internal: the output whose fused activation the loss took (its gradient is w.r.t. the pre-activation). */
  logitsOf?: Node;
}

export interface BackpropResult {
  /** Every graph output of the training-mode forward. */
  outputs: Record<string, Tensor>;
  /** d loss / d weight for every trainable weight (zeros where the loss does not depend on it). */
  grads: Map<string, Tensor>;
  /** With inputGrads: d loss / d input for each float input. */
  inputGrads: Record<string, Tensor>;
  /** The step's new values of the layers' state tensors (batchnorm's moving statistics), by weight name; the caller applies them. */
  state: Map<string, Tensor>;
}

/** The forward of a training step, every value kept. */
/** `reuseState`: a previous step's state tensors, whose arrays the new values are written into. */
function record(graph: Graph, weights: Weights, inputs: Record<string, Tensor>, seed: number, inputGrads: boolean, logitsOf?: Node, reuseState?: Map<string, Tensor>) {
  const root = createRng(seed);
  const batch = Math.max(1, ...graph.inputs.map((n) => inputs[n.name]?.shape[0] ?? 1));
  const plan = planOf(graph, batch);
  const tape = new Map<Node, Entry>();
  const logits = new Map<Node, Tensor>();
  const state = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (node.op === 'input') {
      const value = inputs[node.name];
      if (!value) throw internal(`no value for input "${node.name}"`);
      tape.set(node, { node, call: null, specs: [], output: value, saved: undefined, needsGrad: inputGrads && node.type.dtype === 'float32' });
      continue;
    }
    if ((node.resolved as { batchnorm?: unknown }).batchnorm) throw internal(`layer "${node.name}" has a batchnorm folded in, which is for inference only: train optimize(graph, { training: true })`);
    const specs = paramsOf(node);
    const own = trainingForwardOf(node.op);
    const call: Call = {
      node: node as NodeOf<OpName>,
      a: node.resolved as AttrsOf<OpName>,
      inputs: node.inputs.map((n) => tape.get(n)!.output),
      ...paramAccess(node, weights),
      training: true,
      rng: root.child(node.name),
      // The op's own training forward allocates what it keeps; bidirectional joins its two into `out`, and the loss's logits go there.
      out: plan.slots.has(node) && (!own || node.op === 'bidirectional' || node === logitsOf) ? buffer(plan.slots.get(node)!.floats) : undefined,
      // New values of state tensors outlive the step: written outside its memory.
      updateState: (name, write) => {
        const spec = specs.find((s) => s.name === name)!;
        const key = weightName(node, spec);
        const n = spec.shape.reduce((a, b) => a * b, 1);
        const previous = reuseState?.get(key)?.data;
        const data = previous?.length === n ? previous : new Float32Array(n);
        write(data);
        state.set(key, { shape: [...spec.shape], data });
      },
      keepTrace: true,
      ...masksOf(node, (n) => tape.get(n)!.output),
    };
    const needsGrad = specs.some((s) => s.trainable && !s.value) || node.inputs.some((n) => tape.get(n)!.needsGrad);
    let output: Tensor, saved: unknown;
    if (node === logitsOf) {
      // The loss takes the fused activation: keep the logits, output the activation of them.
      const { activation } = node.resolved as { activation: Activation };
      const z = runKernel({ ...call, a: { ...(call.a as object), activation: 'linear' } as AttrsOf<OpName> });
      logits.set(node, z);
      output = activate(z, activation, call.out && buffer(call.out.length));
    } else if (own) ({ output, saved } = own(call));
    else output = runKernel(call);
    tape.set(node, { node, call, specs, output, saved, needsGrad });
  }
  return { tape, logits, state };
}

/** Output sizes of a training step's nodes, per graph and batch (plan.ts's rule). */
const plans = new WeakMap<Graph, Map<number, MemoryPlan>>();
function planOf(graph: Graph, batch: number): MemoryPlan {
  let byBatch = plans.get(graph);
  if (!byBatch) plans.set(graph, (byBatch = new Map()));
  let plan = byBatch.get(batch);
  if (!plan) byBatch.set(batch, (plan = planMemory(graph, batch, { training: true })));
  return plan;
}

/**
 * A training-mode forward and the reverse pass from the given output
 * gradients. The building block of lossAndGradients, and of the tests, which
 * seed arbitrary output gradients and also ask for input gradients.
 */
export function backprop(graph: Graph, weights: Weights, inputs: Record<string, Tensor>, options: BackpropOptions = {}): BackpropResult {
  return duringStep(() => {
    const { tape, state } = record(graph, weights, inputs, options.seed ?? 0, options.inputGrads ?? false, options.logitsOf);
    const seeds = new Map<Node, Tensor>();
    for (const [name, grad] of Object.entries(options.outputGrads ?? {})) {
      const out = graph.outputs.find((o) => o.name === name) ?? missingOutput(graph, name);
      seeds.set(out.node, grad);
    }
    const r = reverse(graph, weights, tape, seeds, options);
    const copy = (t: Tensor) => ({ shape: t.shape, data: keep(t.data) });
    const copies = (ts: Record<string, Tensor>) => Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, copy(t)]));
    return { outputs: copies(r.outputs), inputGrads: copies(r.inputGrads), grads: new Map([...r.grads].map(([k, t]) => [k, copy(t)])), state };
  });
}

function reverse(graph: Graph, weights: Weights, tape: Map<Node, Entry>, seeds: Map<Node, Tensor>, options: BackpropOptions): Omit<BackpropResult, 'state'> {
  const grads = new Map<Node, Tensor>();
  const paramGrads = new Map<string, Tensor>();
  // Buffers this pass allocated for a sum, safe to add into; others may be shared (dy passed through).
  const owned = new Set<Float32Array>();
  const accumulate = <K>(map: Map<K, Tensor>, key: K, g: Tensor) => {
    const prev = map.get(key);
    if (!prev) return void map.set(key, g);
    if (!owned.has(prev.data)) {
      const sum = { shape: prev.shape, data: buffer(prev.data.length) };
      sum.data.set(prev.data);
      owned.add(sum.data);
      map.set(key, sum);
      addInto(sum.data, g.data);
    } else addInto(prev.data, g.data);
  };
  for (const [node, g] of seeds) {
    const expected = tape.get(node)!.output.shape;
    if (g.shape.join() !== expected.join()) throw internal(`output gradient ${showShape(g.shape)} does not match output ${showShape(expected)}`);
    accumulate(grads, node, g);
  }
  const pools = reluPools(graph);
  // Nodes whose relu backward a max pool applied (reluPools).
  const reluApplied = new Set<Node>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    const entry = tape.get(node)!;
    const dy = grads.get(node);
    const { call, specs } = entry;
    if (!dy || !entry.needsGrad || !call) continue;
    // The loss took a fused activation: differentiate the layer as if linear.
    const a = node === options.logitsOf ? ({ ...(call.a as object), activation: 'linear' } as AttrsOf<OpName>) : call.a;
    const backward = BACKWARD[node.op] as (g: GradCall) => Grads; // the table's entry for this very op
    const r = backward({
      node: call.node,
      a,
      inputs: call.inputs,
      output: entry.output,
      saved: entry.saved,
      dy,
      needsInput: node.inputs.map((n) => tape.get(n)!.needsGrad),
      param: call.param,
      optionalParam: call.optionalParam,
      trainable: (name) => specs.some((s) => s.name === name && s.trainable && !s.value),
      masks: call.masks,
      reluMask: pools.has(node),
      reluApplied: reluApplied.has(node),
    });
    if (pools.has(node)) reluApplied.add(pools.get(node)!);
    r.inputs.forEach((g, k) => {
      if (g && tape.get(node.inputs[k])!.needsGrad) accumulate(grads, node.inputs[k], g);
    });
    for (const [name, g] of Object.entries(r.params ?? {})) {
      // Under the weight's own name, so that the uses of a tied or shared weight add up.
      const spec = specs.find((s) => s.name === name && s.trainable && !s.value && (s.layer === undefined || s.shared));
      if (spec) accumulate(paramGrads, weightName(node, spec), g);
    }
    grads.delete(node);
  }
  const out: Map<string, Tensor> = new Map();
  for (const { name, spec } of weightSlots(graph)) {
    if (!spec.trainable) continue;
    const shape = weights.get(name)?.shape ?? spec.shape;
    out.set(name, paramGrads.get(name) ?? { shape: [...shape], data: zeros(shape.reduce((n, d) => n * d, 1)) });
  }
  const inputGrads: Record<string, Tensor> = {};
  if (options.inputGrads) {
    for (const node of graph.inputs) {
      if (node.type.dtype !== 'float32') continue;
      const x = tape.get(node)!.output;
      inputGrads[node.name] = grads.get(node) ?? { shape: [...x.shape], data: zeros(x.data.length) };
    }
  }
  const outputs: Record<string, Tensor> = {};
  for (const o of graph.outputs) outputs[o.name] = tape.get(o.node)!.output;
  return { outputs, grads: out, inputGrads };
}

// ---------------------------------------------------------------------------
// One training step.

export interface StepResult {
  loss: number;
  predictions: Tensor;
  /** Same names and shapes as the trainable weights. */
  grads: Map<string, Tensor>;
  /** New values of the layers' state tensors by weight name, for the caller to apply with the update (BackpropResult.state). */
  state: Map<string, Tensor>;
}

/**
 * One forward pass in training mode (dropout active, seeded by `seed`) and one
 * reverse pass. `output` names the graph output the loss applies to (default:
 * the first). A softmax (or sigmoid) output with a crossentropy loss is
 * differentiated from its logits, as Keras does.
 */
export function lossAndGradients(
  graph: Graph,
  weights: Weights,
  inputs: Record<string, Tensor>,
  targets: Tensor,
  loss: LossName,
  options: {
    seed?: number;
    output?: string;
    /**
     * The previous step's result, which the caller is done with: this step's
     * predictions, gradients and state are written into its arrays, so that a
     * step after the first allocates no buffer.
     */
    into?: StepResult;
  } = {},
): StepResult {
  const out = options.output === undefined ? graph.outputs[0] : (graph.outputs.find((o) => o.name === options.output) ?? missingOutput(graph, options.output));
  if (!out) throw internal('lossAndGradients: the graph has no outputs');
  const head = logitsHead(out.node, loss);
  const seed = options.seed ?? 0;
  const logitsOf = head?.fused ? out.node : undefined;
  return duringStep(() => {
    const { tape, logits, state } = record(graph, weights, inputs, seed, false, logitsOf, options.into?.state);
    const predictions = tape.get(out.node)!.output;
    const seeds = new Map<Node, Tensor>();
    let value: number;
    if (head) {
      // Softmax/sigmoid node: its input holds the logits. Fused layer: the tape kept them.
      const at = head.fused ? out.node : out.node.inputs[0];
      const z = head.fused ? logits.get(out.node)! : tape.get(at)!.output;
      const r = lossAndGradFromLogits(loss, z, targets);
      value = r.loss;
      seeds.set(at, r.grad);
    } else {
      const r = lossAndGrad(loss, predictions, targets);
      value = r.loss;
      seeds.set(out.node, r.grad);
    }
    const { grads } = reverse(graph, weights, tape, seeds, { seed, logitsOf });
    // Out of the step's memory: into the previous result's arrays where they fit, else copies.
    const written = (t: Tensor, previous?: Tensor): Tensor => {
      if (previous?.data.length !== t.data.length) return { shape: t.shape, data: keep(t.data) };
      previous.data.set(t.data);
      return { shape: t.shape, data: previous.data };
    };
    return {
      loss: value,
      predictions: written(predictions, options.into?.predictions),
      grads: new Map([...grads].map(([k, t]) => [k, written(t, options.into?.grads.get(k))])),
      state,
    };
  });
}

/** Whether the loss can start from the logits below `node`'s activation, and where they are. */
function logitsHead(node: Node, loss: LossName): { fused: boolean } | null {
  const wanted: Activation | null =
    loss === 'binary_crossentropy' ? 'sigmoid' : loss === 'categorical_crossentropy' || loss === 'sparse_categorical_crossentropy' ? 'softmax' : null;
  if (!wanted) return null;
  // A softmax op on another axis than the last is not the loss's softmax.
  if (node.op === wanted) return isNameArgs(wanted, (node.resolved as ActivationAttrs).args) ? { fused: false } : null;
  // A layer applying it itself (dense(activation = softmax), a fused one): the record keeps its logits.
  return ownActivation(lookupOp(node.op)!, node.resolved) === wanted ? { fused: true } : null;
}

function missingOutput(graph: Graph, name: string): never {
  throw internal(`model ${graph.name} has no output "${name}" (outputs: ${graph.outputs.map((o) => o.name).join(', ')})`);
}
