/**
 * The TensorFlow.js code of every op: a table from op to template, each
 * template returning the TypeScript expression that computes one layer from
 * its inputs' identifiers. TypeScript reports an op without a row. Semantics
 * are the interpreter's (execute.ts and kernels/): NHWC, TensorFlow's
 * padding, Keras's gate order; helpers named here live in support.ts.
 * The optimizer's fused ops are one row each, passing their activation to
 * tf.fused (or applying it after, for those tfjs cannot fuse).
 */
import type { ConstTensor, Node } from '../../ir/types.js';
import type { OpName } from '../../ops/index.js';
import type { OpContext } from '../../ops/op.js';
import { innerContext } from '../../ops/recurrent.js';
import { str } from './names.js';
import { internal } from '../../diagnostics.js';

/** What a template sees of its layer. */
export interface Layer {
  node: Node;
  ctx: OpContext;
  /** The identifiers holding the layer's inputs, in order. */
  inputs: string[];
  /** The expression for weight `<layer>.<name>` (a literal tensor for a fixed kernel); undefined when the layer has none. */
  param(name: string): string | undefined;
  /** A float32 tensor of `shape` holding a constant's values: a literal, or a module-level array when large. */
  literal(value: ConstTensor, shape: readonly number[]): string;
  /** The layer is in a module that trains: its forward pass has `training`, the batch's seeded stream (null at inference). */
  training: boolean;
}

export type Template = (l: Layer) => string;

/** The activations tf.fused applies itself; others follow the fused op. */
const FUSED_IN_TFJS = new Set(['linear', 'relu', 'sigmoid']);

const rankOf = (n: Node) => n.type.shape.length;
const tensorType = (rank: number) => (rank >= 1 && rank <= 6 ? `tf.Tensor${rank}D` : 'tf.Tensor');
const list = (xs: readonly (number | string)[]) => `[${xs.join(', ')}]`;
/** Per-example dimensions of a node (all static). */
const dims = (n: Node) => n.type.shape.slice(1) as number[];
const required = (l: Layer, name: string) => l.param(name) ?? fail(l, `has no weight '${name}'`);

function fail(l: Layer, message: string): never {
  throw internal(`tfjs: layer '${l.node.name}' (${l.node.op}) ${message}`);
}

/** Optional arguments of a tfjs call: `bias: ...` only when there is one. */
const fields = (entries: [string, string | undefined][]) =>
  `{ ${entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')} }`;

/** `tf.fused` applies `activation` when it can; otherwise the op runs linear and the activation follows. */
function withActivation(activation: string, fused: (act: string) => string): string {
  if (FUSED_IN_TFJS.has(activation)) return fused(`'${activation}'`);
  const apply = ({ tanh: 'tf.tanh', softmax: 'tf.softmax' } as Record<string, string | undefined>)[activation];
  if (!apply) throw internal(`tfjs: unknown activation '${activation}'`);
  return `${apply}(${fused("'linear'")})`;
}

/** dense: y = x W + b over the last axis, as one fused matmul (rows of a sequence flattened). */
function dense(l: Layer, activation: string): string {
  const [x] = l.inputs;
  const rank = rankOf(l.node.inputs[0]);
  const width = dims(l.node.inputs[0]).at(-1)!;
  const units = dims(l.node).at(-1)!;
  return withActivation(activation, (act) => {
    const a = rank === 2 ? x : `tf.reshape(${x}, [-1, ${width}])`;
    const y = `tf.fused.matMul(${fields([['a', a], ['b', required(l, 'kernel')], ['bias', l.param('bias')], ['activation', act]])})`;
    return rank === 2 ? `${y} as tf.Tensor2D` : `tf.reshape(${y}, ${list([-1, ...dims(l.node).slice(0, -1), units])})`;
  });
}

/** conv2d: tf.fused.conv2d with TensorFlow's padding; stride and dilation both above 1 need support.ts's helper. */
function conv2d(l: Layer, activation: string): string {
  const strides = l.ctx.ints('stride', 2);
  const dilations = l.ctx.ints('dilation', 2);
  const call = strides.some((s) => s > 1) && dilations.some((d) => d > 1) ? 'stridedDilatedConv2d' : 'tf.fused.conv2d';
  return withActivation(activation, (act) =>
    `${call}(${fields([
      ['x', l.inputs[0]],
      ['filter', required(l, 'kernel')],
      ['bias', l.param('bias')],
      ['strides', list(strides)],
      ['pad', `'${l.ctx.sym('padding')}'`],
      ['dilations', list(dilations)],
      ['activation', act],
    ])})`,
  );
}

/** conv1d: conv2d over a height-1 image (support.ts), as the interpreter defines it. */
function conv1d(l: Layer, activation: string): string {
  return withActivation(activation, (act) =>
    `fusedConv1d(${fields([
      ['x', l.inputs[0]],
      ['filter', required(l, 'kernel')],
      ['bias', l.param('bias')],
      ['stride', `${l.ctx.ints('stride', 1)[0]}`],
      ['pad', `'${l.ctx.sym('padding')}'`],
      ['dilation', `${l.ctx.ints('dilation', 1)[0]}`],
      ['activation', act],
    ])})`,
  );
}

/** maxpool / avgpool: 2-D or 1-D by input rank; stride defaults to the size. */
function pool(l: Layer, kind: 'max' | 'avg'): string {
  const rank = rankOf(l.node.inputs[0]) - 2;
  const size = l.ctx.ints('size', rank);
  const stride = l.ctx.attrs.stride === undefined ? size : l.ctx.ints('stride', rank);
  const pad = `'${l.ctx.sym('padding')}'`;
  if (rank === 1) return `pool1d('${kind}', ${l.inputs[0]}, ${size[0]}, ${stride[0]}, ${pad})`;
  return `tf.${kind}Pool(${l.inputs[0]}, ${list(size)}, ${list(stride)}, ${pad})`;
}

/** Reduce every axis between the batch and the channels. */
function globalPool(l: Layer, reduce: 'max' | 'mean'): string {
  const spatial = rankOf(l.node.inputs[0]) - 2;
  return `tf.${reduce}(${l.inputs[0]}, ${list(Array.from({ length: spatial }, (_, i) => i + 1))})`;
}

/** flatten and reshape keep the data; the batch stays first. */
const reshape: Template = (l) => `tf.reshape(${l.inputs[0]}, ${list([-1, ...dims(l.node)])})`;

/** rnn or lstm over `x` with the weights under `prefix` (bidirectional's `forward.` / `backward.`). */
function recurrent(l: Layer, inner: OpContext, prefix: string, reverse: boolean): string {
  const p = (name: string) => required(l, `${prefix}${name}`);
  const options = [['sequences', `${inner.bool('sequences')}`]];
  if (reverse) options.push(['reverse', 'true']);
  if (inner.op.name === 'rnn') options.push(['activation', `tf.${inner.sym('activation')}`]);
  const helper = inner.op.name === 'lstm' ? 'lstmLayer' : 'simpleRnnLayer';
  return `${helper}(${l.inputs[0]}, ${p('kernel')}, ${p('recurrent_kernel')}, ${p('bias')}, ${fields(options as [string, string][])})`;
}

export const TEMPLATES: Record<OpName, Template> = {
  input: () => {
    throw internal('tfjs: input nodes are bound, not emitted');
  },
  constant: (l) => {
    const value = l.node.attrs.value as ConstTensor;
    return l.literal(value, [1, ...value.shape]); // the interpreter's batch of one, broadcast by its users
  },
  dense: (l) => dense(l, 'linear'),
  conv1d: (l) => conv1d(l, 'linear'),
  conv2d: (l) => conv2d(l, 'linear'),
  fused_dense: (l) => dense(l, l.ctx.sym('activation')),
  fused_conv1d: (l) => conv1d(l, l.ctx.sym('activation')),
  fused_conv2d: (l) => conv2d(l, l.ctx.sym('activation')),
  maxpool: (l) => pool(l, 'max'),
  avgpool: (l) => pool(l, 'avg'),
  global_maxpool: (l) => globalPool(l, 'max'),
  global_avgpool: (l) => globalPool(l, 'mean'),
  relu: (l) => `tf.relu(${l.inputs[0]})`,
  sigmoid: (l) => `tf.sigmoid(${l.inputs[0]})`,
  tanh: (l) => `tf.tanh(${l.inputs[0]})`,
  softmax: (l) => `tf.softmax(${l.inputs[0]})`,
  // Identity at inference; in training the interpreter's mask, from the layer's own stream.
  dropout: (l) => (l.training ? `training ? applyDropout(${l.inputs[0]}, ${l.ctx.num('rate')}, training.child(${str(l.node.name)})) : ${l.inputs[0]}` : l.inputs[0]),
  flatten: reshape,
  reshape,
  add: (l) => l.inputs.reduce((sum, x) => `tf.add(${sum}, ${x})`), // left to right, as the interpreter sums
  concat: (l) => `tf.concat(${list(l.inputs)}, ${l.ctx.int('axis')})`, // both count the batch as axis 0
  embedding: (l) => `tf.gather<tf.Tensor>(${required(l, 'embeddings')}, ${l.inputs[0]}) as ${tensorType(rankOf(l.node))}`,
  positional: (l) => {
    const [steps, width] = dims(l.node);
    const table = l.ctx.sym('kind') === 'learned' ? required(l, 'embeddings') : `positionEncoding(${steps}, ${width})`;
    return `tf.add(${l.inputs[0]}, ${table})`;
  },
  rnn: (l) => recurrent(l, l.ctx, '', false),
  lstm: (l) => recurrent(l, l.ctx, '', false),
  bidirectional: (l) => {
    const inner = innerContext(l.ctx);
    return `tf.concat([${recurrent(l, inner, 'forward.', false)}, ${recurrent(l, inner, 'backward.', true)}], -1)`;
  },
  attention: (l) => {
    const [query, value = query, key = value] = l.inputs;
    const p = (n: string) => required(l, n);
    const weights = fields(
      ['query', 'key', 'value', 'output'].flatMap((role): [string, string][] => [
        [`${role}Kernel`, p(`${role}.kernel`)],
        [`${role}Bias`, p(`${role}.bias`)],
      ]),
    );
    const keyDim = l.ctx.int('key_dim');
    const valueDim = (l.ctx.attrs.value_dim as number | undefined) ?? keyDim;
    const options = fields([['heads', `${l.ctx.int('heads')}`], ['keyDim', `${keyDim}`], ['valueDim', `${valueDim}`], ['causal', `${l.ctx.bool('causal')}`]]);
    return `multiHeadAttention(${query}, ${value}, ${key}, ${weights}, ${options})`;
  },
  layernorm: (l) => `layerNormalization(${l.inputs[0]}, ${required(l, 'gamma')}, ${required(l, 'beta')}, ${l.ctx.num('epsilon')})`,
};

export { list, tensorType };
