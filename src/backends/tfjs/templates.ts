/**
 * The TensorFlow.js code of every op: a table from op to template, each
 * template returning the TypeScript expression that computes one layer from
 * its inputs' identifiers. TypeScript reports an op without a row. Semantics
 * are the interpreter's (execute.ts and kernels/): NHWC, TensorFlow's
 * padding, Keras's gate order; helpers named here live in support.ts.
 * Each template reads its op's resolved attributes (`a`). Activations come
 * from the activation table's tfjs column; the optimizer's fused ops pass
 * their activation to tf.fused (or apply it after, for those tfjs cannot fuse).
 */
import type { ConstTensor, Dim, Node, NodeOf } from '../../ir/types.js';
import { activationDef, activationOpTable, nameArgs, type Activation, type ActivationOpName } from '../../ops/activations.js';
import { denseKernel } from '../../ops/dense.js';
import type { AttrsOf, OpName } from '../../ops/index.js';
import { DIRECTIONS, STATES, type RecurrentAttrs } from '../../ops/recurrent.js';
import { str } from './names.js';
import type * as support from './support.js';
import { internal } from '../../diagnostics.js';

/** What a template sees of its layer: `a` is its op's resolved attribute record. */
export interface Layer<Op extends OpName = OpName> {
  node: NodeOf<Op>;
  a: AttrsOf<Op>;
  /** The identifiers holding the layer's inputs, in order. */
  inputs: string[];
  /** The expression for weight `<layer>.<name>` (a literal tensor for a fixed kernel); undefined when the layer has none. */
  param(name: string): string | undefined;
  /** At inference, the expression for weight `<layer>.<name>` transposed once per weights object (transposeTables); undefined in a module that trains. */
  transposedParam(name: string): string | undefined;
  /** A float32 tensor of `shape` holding a constant's values: a literal, or a module-level array when large. */
  literal(value: ConstTensor, shape: readonly number[]): string;
  /** The layer is in a module that trains: its forward pass has `training`, the batch's seeded stream (null at inference). */
  training: boolean;
  /** A per-example size as code: the number, or the identifier holding a dimension variable's length. */
  dim(d: Dim): number | string;
  /** For layers that read masks (ir/mask.ts): per input, the identifiers of the model inputs its padding mask comes from (empty: unmasked). */
  maskSources: string[][];
  /** attention's `mask =` input, when given. */
  maskArg?: string;
}

export type Template<Op extends OpName = OpName> = (l: Layer<Op>) => string;

/**
 * The name of a support.ts helper that generated code calls; TypeScript
 * checks it exists, so a template cannot name a helper the module will lack.
 */
const helper = (name: keyof typeof support): string => name;

/** One template per op, typed by the op's attributes. */
export type TemplateTable = { [Op in OpName]: Template<Op> };

/** A layer's expression: the one place the table is indexed by a run-time op name. */
export const templateFor = (l: Layer): string => (TEMPLATES[l.node.op] as Template)(l);

const rankOf = (n: Node) => n.type.shape.length;
const tensorType = (rank: number) => (rank >= 1 && rank <= 6 ? `tf.Tensor${rank}D` : 'tf.Tensor');
const list = (xs: readonly (number | string)[]) => `[${xs.join(', ')}]`;
/** The layer's output shape without the batch, as code: numbers, and the identifiers of dimension variables. */
const dims = (l: Layer) => l.node.type.shape.slice(1).map(l.dim);
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

/** `tf.fused` applies `activation` when it can (the table's tfjs.fused); otherwise the op runs linear and the activation follows. */
function withActivation(activation: Activation, fused: (act: string) => string): string {
  const { tfjs } = activationDef(activation);
  return tfjs.fused ? fused(`'${tfjs.fused}'`) : tfjs.apply(fused("'linear'"), nameArgs(activation));
}

/** dense: y = x W + b over the last axis, as one fused matmul (rows of a sequence flattened); a tied head multiplies by its embedding's table transposed. */
function dense(l: Layer<'dense' | 'fused_dense'>): string {
  const [x] = l.inputs;
  const rank = rankOf(l.node.inputs[0]);
  const { inWidth: width, units } = l.a;
  const kernel = denseKernel(l.a);
  return withActivation(l.a.activation, (act) => {
    const a = rank === 2 ? x : `tf.reshape(${x}, [-1, ${width}])`;
    // A tied head's table: transposed once at inference; in training, by matMul (its gradient flows to the embedding).
    const once = kernel.transposed ? l.transposedParam(kernel.name) : undefined;
    const b = once ?? required(l, kernel.name);
    const y = `tf.fused.matMul(${fields([['a', a], ['b', b], ['transposeB', kernel.transposed && !once ? 'true' : undefined], ['bias', l.param('bias')], ['activation', act]])})`;
    return rank === 2 ? `${y} as tf.Tensor2D` : `tf.reshape(${y}, ${list([-1, ...dims(l).slice(0, -1), units])})`;
  });
}

const stridedAndDilated = (a: { stride: number[]; dilation: number[] }) => a.stride.some((s) => s > 1) && a.dilation.some((d) => d > 1);

/** The arguments of tf.fused.conv2d / depthwiseConv2d for `x` and `filter` with the layer's window. */
const convArgs = (l: Layer<'conv2d' | 'fused_conv2d' | DepthwiseOp>, filter: string, bias: string | undefined, act: string) =>
  fields([
    ['x', l.inputs[0]],
    ['filter', filter],
    ['bias', bias],
    ['strides', list(l.a.stride)],
    ['pad', `'${l.a.padding}'`],
    ['dilations', list(l.a.dilation)],
    ['activation', act],
  ]);

/** conv2d: tf.fused.conv2d with TensorFlow's padding; stride and dilation both above 1, and groups, need support.ts's helpers. */
function conv2d(l: Layer<'conv2d' | 'fused_conv2d'>): string {
  return withActivation(l.a.activation, (act) => {
    const args = convArgs(l, required(l, 'kernel'), l.param('bias'), act);
    if (l.a.groups > 1) return `${helper('groupedConv2d')}(${args}, ${l.a.groups})`;
    return `${stridedAndDilated(l.a) ? helper('stridedDilatedConv2d') : 'tf.fused.conv2d'}(${args})`;
  });
}

type DepthwiseOp = 'depthwise_conv2d' | 'fused_depthwise_conv2d' | 'separable_conv2d' | 'fused_separable_conv2d';

/** tf.fused.depthwiseConv2d (support.ts's helper for stride and dilation both above 1). */
function depthwise(l: Layer<DepthwiseOp>, bias: string | undefined, act: string): string {
  const args = convArgs(l, required(l, 'depthwise_kernel'), bias, act);
  return stridedAndDilated(l.a) ? `${helper('stridedDilatedConv2d')}(${args}, true)` : `tf.fused.depthwiseConv2d(${args})`;
}

/** separable_conv2d as the interpreter runs it: the depthwise step, then a 1x1 tf.fused.conv2d with the bias and activation. */
function separable(l: Layer<'separable_conv2d' | 'fused_separable_conv2d'>): string {
  return withActivation(l.a.activation, (act) =>
    `tf.fused.conv2d(${fields([
      ['x', depthwise(l, undefined, "'linear'")],
      ['filter', required(l, 'pointwise_kernel')],
      ['bias', l.param('bias')],
      ['strides', '1'],
      ['pad', "'valid'"],
      ['activation', act],
    ])})`,
  );
}

/** conv1d: conv2d over a height-1 image (support.ts), as the interpreter defines it. */
function conv1d(l: Layer<'conv1d' | 'fused_conv1d'>): string {
  return withActivation(l.a.activation, (act) =>
    `${helper('fusedConv1d')}(${fields([
      ['x', l.inputs[0]],
      ['filter', required(l, 'kernel')],
      ['bias', l.param('bias')],
      ['stride', `${l.a.stride[0]}`],
      ['pad', `'${l.a.padding}'`],
      ['dilation', `${l.a.dilation[0]}`],
      ['groups', l.a.groups > 1 ? `${l.a.groups}` : undefined],
      ['activation', act],
    ])})`,
  );
}

/**
 * conv1d_transpose / conv2d_transpose: tf.conv2dTranspose (conv1d over a
 * height-1 image) with the output shape and the padding split of the shape
 * rule, given explicitly: tfjs would otherwise derive them from the output
 * shape, which cannot express every Keras size. tf.conv2dTranspose has no
 * dilations: a dilated kernel is spread out first, taps gathered between rows
 * of zeros (differentiable, so the module trains). Bias and activation follow.
 */
function convTranspose(l: Layer<'conv1d_transpose' | 'conv2d_transpose'>): string {
  const a = l.a;
  const [x] = l.inputs;
  const two = (xs: number[], one: number) => (a.rank === 1 ? [one, xs[0]] : xs);
  const [window, stride, dilation, spatial, out, padBefore] = [two(a.window, 1), two(a.stride, 1), two(a.dilation, 1), two(a.spatial, 1), two(a.out, 1), two(a.padBefore, 0)];
  const plain = a.rank === 1 ? `tf.reshape(${required(l, 'kernel')}, ${list([1, a.window[0], a.filters, a.channels])}) as tf.Tensor4D` : required(l, 'kernel');
  const kernel = dilation.reduce((k, d, axis) => (d === 1 ? k : `${helper('dilateKernel')}(${k}, ${axis}, ${d})`), plain);
  const pads = spatial.map((L, i) => {
    const total = (L - 1) * stride[i] + dilation[i] * (window[i] - 1) + 1 - out[i];
    return list([padBefore[i], Math.max(total - padBefore[i], 0)]);
  });
  const input = a.rank === 1 ? `tf.reshape(${x}, ${list([-1, 1, a.spatial[0], a.channels])}) as tf.Tensor4D` : x;
  const shape = list([`${x}.shape[0]`, ...out, a.filters]);
  let y = `tf.conv2dTranspose(${input}, ${kernel}, ${shape}, ${list(stride)}, ${list([list([0, 0]), ...pads, list([0, 0])])})`;
  const bias = l.param('bias');
  if (bias) y = `tf.add(${y}, ${bias})`;
  y = activationDef(a.activation).tfjs.apply(y, nameArgs(a.activation));
  return a.rank === 1 ? `tf.reshape(${y}, ${list([-1, a.out[0], a.filters])}) as tf.Tensor3D` : `${y} as tf.Tensor4D`;
}

/**
 * upsampling: one support.ts upsampleAxis per spatial axis (gathers,
 * differentiable in tfjs), with TensorFlow 2's half-pixel weights for
 * bilinear (runtime/upsample.ts): tfjs's resizeBilinear computes the same
 * forward with halfPixelCenters, but its gradient ignores that flag, and
 * tf.layers.upSampling2d uses TF1's corners. The taps are built when the
 * module runs: as literals here they grew with the factor (a [7, 5, 3]
 * input upsampled a million times took minutes and gigabytes to emit).
 */
function upsampling(l: Layer<'upsampling'>): string {
  const { size, interpolation } = l.a;
  // A factor of 1 copies the axis, for either interpolation (bilinear's t is i itself).
  return size.reduce((y, s, i) => (s === 1 ? y : `${helper('upsampleAxis')}(${y}, ${i + 1}, ${s}, '${interpolation}')`), l.inputs[0]);
}

/** maxpool / avgpool: 2-D or 1-D by input rank; stride defaults to the size. */
function pool(l: Layer<'maxpool' | 'avgpool'>): string {
  const { kind, rank, size, stride } = l.a;
  const pad = `'${l.a.padding}'`;
  if (rank === 1) return `${helper('pool1d')}('${kind}', ${l.inputs[0]}, ${size[0]}, ${stride[0]}, ${pad})`;
  return `tf.${kind}Pool(${l.inputs[0]}, ${list(size)}, ${list(stride)}, ${pad})`;
}

/** Reduce every axis between the batch and the channels; a masked average, over the real steps (Keras's sum(x m) / sum(m)). */
function globalPool(l: Layer, reduce: 'max' | 'mean'): string {
  const spatial = rankOf(l.node.inputs[0]) - 2;
  const mask = reduce === 'mean' ? paddingMask(l, 0) : undefined;
  if (mask) return `((m: tf.Tensor2D) => tf.div(tf.sum(tf.mul(${l.inputs[0]}, tf.expandDims(m, 2)), 1), tf.sum(m, 1, true)))(${mask}) as tf.Tensor2D`;
  return `tf.${reduce}(${l.inputs[0]}, ${list(Array.from({ length: spatial }, (_, i) => i + 1))})`;
}

/** Input i's padding mask [B, T] as 1 / 0 (support.ts's paddingMask), when it has one. */
function paddingMask(l: Layer, i: number): string | undefined {
  const sources = l.maskSources[i];
  return sources && sources.length > 0 ? `${helper('paddingMask')}(${sources.join(', ')})` : undefined;
}

/** flatten and reshape keep the data; the batch stays first. */
const reshape: Template = (l) => `tf.reshape(${l.inputs[0]}, ${list([-1, ...dims(l)])})`;

/**
 * rnn, lstm or gru over `x` with the weights under `prefix` (bidirectional's
 * `forward.` / `backward.`), direction `d`'s initial states the layer's inputs
 * after x; a support.ts RecurrentResult (output and final states).
 */
function recurrent(l: Layer, a: RecurrentAttrs, prefix: string, d: number): string {
  const p = (name: string) => required(l, `${prefix}${name}`);
  const options = [['sequences', `${a.sequences}`]];
  if (d === 1) options.push(['reverse', 'true']);
  const n = STATES[a.cell];
  if (a.initialState) options.push(['initialState', list(l.inputs.slice(1 + d * n, 1 + (d + 1) * n).map((s) => `${s} as tf.Tensor2D`))]);
  const mask = paddingMask(l, 0);
  // Keras's Bidirectional outputs zeros at padded steps (zero_output_for_mask), a bare layer the carried state.
  if (mask) options.push(['mask', mask], ...(l.node.op === 'bidirectional' && a.sequences ? [['zeroMasked', 'true']] : []));
  if (a.cell === 'gru') options.push(['resetAfter', `${a.resetAfter}`]);
  if (a.cell === 'rnn') options.push(['activation', `(z: tf.Tensor2D) => ${activationDef(a.activation).tfjs.apply('z', nameArgs(a.activation))} as tf.Tensor2D`]);
  const layer = helper(({ rnn: 'simpleRnnLayer', lstm: 'lstmLayer', gru: 'gruLayer' } as const)[a.cell]);
  return `${layer}(${l.inputs[0]}, ${p('kernel')}, ${p('recurrent_kernel')}, ${p('bias')}, ${fields(options as [string, string][])})`;
}

const recurrentLayer = (l: Layer, a: RecurrentAttrs) => (a.returnState ? `${helper('withStates')}(${recurrent(l, a, '', 0)})` : `${recurrent(l, a, '', 0)}.output`);

export const TEMPLATES: TemplateTable = {
  input: () => {
    throw internal('tfjs: input nodes are bound, not emitted');
  },
  constant: (l) => {
    const { value } = l.a;
    return l.literal(value, [1, ...value.shape]); // the interpreter's batch of one, broadcast by its users
  },
  dense,
  conv1d,
  conv2d,
  fused_dense: dense,
  fused_conv1d: conv1d,
  fused_conv2d: conv2d,
  conv1d_transpose: convTranspose,
  conv2d_transpose: convTranspose,
  depthwise_conv2d: (l) => withActivation(l.a.activation, (act) => depthwise(l, l.param('bias'), act)),
  fused_depthwise_conv2d: (l) => withActivation(l.a.activation, (act) => depthwise(l, l.param('bias'), act)),
  separable_conv2d: separable,
  fused_separable_conv2d: separable,
  maxpool: pool,
  avgpool: pool,
  global_maxpool: (l) => globalPool(l, 'max'),
  global_avgpool: (l) => globalPool(l, 'mean'),
  ...activationOpTable((l: Layer<ActivationOpName>) => activationDef(l.a.activation).tfjs.apply(l.inputs[0], l.a.args)),
  // Identity at inference; in training the interpreter's mask, from the layer's own stream.
  dropout: (l) => (l.training ? `training ? ${helper('applyDropout')}(${l.inputs[0]}, ${l.a.rate}, training.child(${str(l.node.name)})) : ${l.inputs[0]}` : l.inputs[0]),
  flatten: reshape,
  reshape,
  // tf.pad with the batch and channels unpadded; tf.slice keeps the middle.
  zero_padding: (l) => `tf.pad(${l.inputs[0]}, ${list([[0, 0], ...l.a.margins, [0, 0]].map((m) => list(m)))})`,
  cropping: (l) => `tf.slice(${l.inputs[0]}, ${list([0, ...l.a.margins.map(([before]) => before), 0])}, ${list([-1, ...l.a.out, -1])})`,
  upsampling,
  // One axis, counted with the batch as the interpreter's resolved axis is.
  // gather types its result as its input's rank, which a scalar index lowers by one.
  take: (l) => `tf.gather<tf.Tensor>(${l.inputs[0]}, ${l.a.start}, ${l.a.axis}) as ${tensorType(rankOf(l.node))}`,
  slice: (l) => {
    const rank = rankOf(l.node);
    const at = (k: number, fill: number) => Array.from({ length: rank }, (_, i) => (i === l.a.axis ? k : fill));
    return `tf.slice(${l.inputs[0]}, ${list(at(l.a.start, 0))}, ${list(at(l.a.length, -1))})`;
  },
  mean: (l) => `tf.mean(${l.inputs[0]}, ${l.a.axis}, ${l.a.keepdims}) as ${tensorType(rankOf(l.node))}`,
  sum: (l) => `tf.sum(${l.inputs[0]}, ${l.a.axis}, ${l.a.keepdims}) as ${tensorType(rankOf(l.node))}`,
  permute: (l) => `tf.transpose(${l.inputs[0]}, ${list([0, ...l.a.perm.map((k) => k + 1)])})`,
  add: (l) => l.inputs.reduce((sum, x) => `tf.add(${sum}, ${x})`), // left to right, as the interpreter sums
  // tf's own broadcasting, folded left to right as the interpreter folds them.
  multiply: (l) => l.inputs.reduce((y, x) => `tf.mul(${y}, ${x})`),
  subtract: (l) => `tf.sub(${l.inputs[0]}, ${l.inputs[1]})`,
  maximum: (l) => l.inputs.reduce((y, x) => `tf.maximum(${y}, ${x})`),
  minimum: (l) => l.inputs.reduce((y, x) => `tf.minimum(${y}, ${x})`),
  average: (l) => `tf.div(${l.inputs.reduce((y, x) => `tf.add(${y}, ${x})`)}, ${l.inputs.length})`,
  concat: (l) => `tf.concat(${list(l.inputs)}, ${l.a.axis})`, // both count the batch as axis 0
  embedding: (l) => `tf.gather<tf.Tensor>(${required(l, 'embeddings')}, ${l.inputs[0]}) as ${tensorType(rankOf(l.node))}`,
  positional: (l) => {
    // The input's own length, so that a symbolic T works; a learned table of max_len rows adds its first T.
    const { steps, width, maxLen } = l.a;
    const x = l.inputs[0];
    const length = typeof steps === 'number' ? `${steps}` : `${x}.shape[1]`;
    const table = l.a.kind === 'sinusoidal' ? `${helper('positionEncoding')}(${length}, ${width})` : maxLen === steps ? required(l, 'embeddings') : `tf.slice(${required(l, 'embeddings')}, [0, 0], [${length}, ${width}])`;
    return `tf.add(${x}, ${table})`;
  },
  // With return_state, the layer's value is an array: [output, ...final states] (support.ts's withStates); result picks one.
  rnn: (l) => recurrentLayer(l, l.a),
  lstm: (l) => recurrentLayer(l, l.a),
  gru: (l) => recurrentLayer(l, l.a),
  bidirectional: (l) => {
    const [f, b] = DIRECTIONS.map((dir, i) => recurrent(l, l.a.layer, `${dir}.`, i));
    return l.a.layer.returnState ? `${helper('withStates')}(${f}, ${b})` : `tf.concat([${f}.output, ${b}.output], -1)`;
  },
  result: (l) => `${l.inputs[0]}[${l.a.index}] as ${tensorType(rankOf(l.node))}`,
  repeat_vector: (l) => `tf.tile(tf.expandDims(${l.inputs[0]}, 1), [1, ${l.a.n}, 1]) as tf.Tensor3D`,
  attention: (l) => {
    const [query, value = query, key = value] = l.inputs;
    const p = (n: string) => required(l, n);
    const weights = fields(
      ['query', 'key', 'value', 'output'].flatMap((role): [string, string][] => [
        [`${role}Kernel`, p(`${role}.kernel`)],
        [`${role}Bias`, p(`${role}.bias`)],
      ]),
    );
    // As the interpreter's attentionMask: the query's padding, the value's and key's (and a [S] mask =) ANDed, a [T, S] mask = per pair.
    const [q, v = q, k = v] = l.inputs.map((_, i) => paddingMask(l, i));
    const explicit = l.maskArg && `${helper('paddingMask')}(${l.maskArg})`;
    const keys = [...new Set([v, k, l.a.maskArg === 'keys' ? explicit : undefined].filter((m) => m !== undefined))];
    const parts: [string, string | undefined][] = [['query', q], ['key', keys.length > 0 ? keys.reduce((a, b) => `tf.mul(${a}, ${b})`) : undefined], ['pairs', l.a.maskArg === 'pairs' ? explicit : undefined]];
    const mask = parts.some(([, m]) => m !== undefined) ? fields(parts) : undefined;
    const options = fields([['heads', `${l.a.H}`], ['keyDim', `${l.a.K}`], ['valueDim', `${l.a.V}`], ['causal', `${l.a.causal}`], ['mask', mask]]);
    return `${helper('multiHeadAttention')}(${query}, ${value}, ${key}, ${weights}, ${options})`;
  },
  // Inference: the moving statistics. Training: the batch's, moving the state variables (support.ts).
  batchnorm: (l) => {
    const { axis, channels, momentum, epsilon } = l.a;
    const rank = rankOf(l.node);
    // Parameters broadcast over the axes after the channels.
    const after = rank - 2 - axis;
    const p = (name: string) => {
      const w = l.param(name);
      return w && after > 0 ? `tf.reshape(${w}, ${list([channels, ...Array<number>(after).fill(1)])})` : w;
    };
    const [mean, variance, beta, gamma] = [p('moving_mean'), p('moving_variance'), p('beta'), p('gamma')];
    const inference = `tf.batchNorm(${l.inputs[0]}, ${mean}, ${variance}, ${beta ?? 'undefined'}, ${gamma ?? 'undefined'}, ${epsilon})`;
    if (!l.training) return inference;
    const weights = fields([['movingMean', l.param('moving_mean')], ['movingVariance', l.param('moving_variance')], ['gamma', l.param('gamma')], ['beta', l.param('beta')]]);
    return `training ? ${helper('batchNormTraining')}(${l.inputs[0]}, ${axis + 1}, ${weights}, ${momentum}, ${epsilon}) : ${inference}`;
  },
  layernorm: (l) => `${helper('layerNormalization')}(${l.inputs[0]}, ${required(l, 'gamma')}, ${required(l, 'beta')}, ${l.a.epsilon})`,
};

export { list, tensorType };
