/**
 * The op contracts, enforced: every op that .dl source may call has one
 * sample here (a few lines of .dl and an independent TensorFlow.js reference
 * over the same weights), and each sample goes through five checks:
 *
 *   forward    the interpreter against the reference (tf ops, differentiable)
 *              and, where tfjs has the layer, against tf.layers holding the
 *              same weights; inference mode, 1e-5
 *   gradients  harness.ts's checkGradients: tf.grads of the reference (in
 *              training mode) and central differences
 *   tfjs       the module src/backends/tfjs emits, run on the same weights
 *              and inputs, against the interpreter, 1e-5
 *   kernels    the interpreter on its WebAssembly kernels against its
 *              TypeScript kernels: inference outputs, and the training
 *              forward and every gradient of backprop, 1e-5
 *   diagram    the layer view's node for the op: its title, its family's
 *              colours and legend entry, and its OpDef.label when non-empty
 *
 * SAMPLES is typed by the callable op names, so TypeScript reports an op
 * without a sample; activation ops take theirs from ACTIVATION_REFERENCES,
 * keyed by ActivationOpName, so a new callable row in ACTIVATIONS needs
 * exactly one reference here. At run time the suite walks callableOps().
 * Per-op edge cases (every padding, stride, axis) stay in the per-op tests;
 * this file is the floor every op must stand on.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backprop } from '../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../src/backends/interp/execute.js';
import { createRng } from '../../src/runtime/random.js';
import type { Tensor } from '../../src/backends/interp/tensor.js';
import { kernelBackend, setKernelBackend } from '../../src/backends/interp/wasm/index.js';
import type { Weights } from '../../src/backends/interp/weights.js';
import { escapeText } from '../../src/backends/dot/dot.js';
import { DEFAULT_DIAGRAM_OPTIONS, graphToDot } from '../../src/backends/dot/index.js';
import { layerInfo } from '../../src/backends/dot/layer.js';
import { FAMILY_NAMES, themeOf } from '../../src/backends/dot/theme.js';
import type { Graph } from '../../src/ir/types.js';
import type { ActivationAttrs, ActivationOpName } from '../../src/ops/activations.js';
import { ACTIVATION_OP_NAMES } from '../../src/ops/activations.js';
import { callableOps, type OpName } from '../../src/ops/index.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from '../backends/interp/helpers.js';
import { checkGradients, modelOf, randomIds, tfConv1d, tfConv2d, tfDense, weightsFor, type GradCase } from '../backends/interp/grad/harness.js';
import { tfAttention, tfAvgPool, tfRecurrent } from '../backends/interp/grad/references.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../backends/tfjs/generated.js';
import { kerasActivation } from '../backends/interp/keras-activations.js';

/**
 * The ops source may call. OpDef's `internal` flag is not visible in the
 * registry's type (defineOp widens it to boolean), so the internal ops are
 * named here; the first test checks this list against callableOps().
 */
type CallableOpName = Exclude<OpName, 'input' | 'constant' | `fused_${string}`>;

type Tensors = Record<string, tf.Tensor>;
/** A computation on the model's inputs and weights (by file name, `<layer>.<name>`). */
type Reference = (inputs: Tensors, w: Tensors) => tf.Tensor;

interface Sample {
  /** The model's body: inputs and one output, small shapes. */
  body: string;
  batch?: number;
  /** Integer inputs: name -> vocabulary size (ids drawn below it). */
  ids?: Record<string, number>;
  /** The op in tf ops (or a weightless tf.layers layer), differentiable; inference mode. */
  reference: Reference;
  /** tf.layers's layer holding the same weights, where tfjs has the layer: a second forward reference. */
  layer?: Reference;
  /**
   * Training mode, where it differs from inference: its reference (batch
   * statistics), or why none can be written independently; the gradient
   * check is then numeric only.
   */
  training?: Reference | { unreproducible: string };
  grad?: Pick<GradCase, 'eps' | 'distinct' | 'tol' | 'fdTol'>;
}

/** Builds a tf.layers layer on `x`, loads `weights` into it (in its getWeights order) and applies it in inference mode. */
function applyLayer(layer: tf.layers.Layer, x: tf.Tensor | tf.Tensor[], weights: tf.Tensor[] = []): tf.Tensor {
  layer.apply(x);
  if (weights.length > 0) layer.setWeights(weights);
  return layer.apply(x, { training: false }) as tf.Tensor;
}

const pick = (w: Tensors, prefix: string, names: string[]) => names.map((n) => w[`${prefix}.${n}`]);

const relu6 = (x: tf.Tensor) => tf.minimum(tf.maximum(x, 0), 6);

/**
 * One row per callable activation: its call in the sample, with Keras's
 * arguments where it has some, and its formula in tf ops with the same
 * arguments (its Keras activation in tfjs is the layer reference:
 * keras-activations.ts).
 */
const ACTIVATION_REFERENCES: Record<ActivationOpName, { call?: string; formula: (x: tf.Tensor) => tf.Tensor }> = {
  relu: { call: 'relu(max_value = 0.5)', formula: (x) => tf.minimum(tf.maximum(x, 0), 0.5) },
  sigmoid: { formula: (x) => tf.div(1, tf.add(1, tf.exp(tf.neg(x)))) },
  tanh: { formula: (x) => tf.tanh(x) },
  softmax: { call: 'softmax(axis = 1)', formula: (x) => tf.div(tf.exp(x), tf.sum(tf.exp(x), 1, true)) },
  relu6: { formula: relu6 },
  leaky_relu: { call: 'leaky_relu(negative_slope = 0.1)', formula: (x) => tf.maximum(x, tf.mul(0.1, x)) },
  elu: { call: 'elu(alpha = 0.5)', formula: (x) => tf.add(tf.relu(x), tf.mul(0.5, tf.sub(tf.exp(tf.minimum(x, 0)), 1))) },
  selu: { formula: (x) => tf.mul(1.0507009873554805, tf.add(tf.relu(x), tf.mul(1.6732632423543772, tf.sub(tf.exp(tf.minimum(x, 0)), 1)))) },
  softplus: { formula: (x) => tf.log(tf.add(1, tf.exp(x))) },
  softsign: { formula: (x) => tf.div(x, tf.add(1, tf.abs(x))) },
  silu: { formula: (x) => tf.div(x, tf.add(1, tf.exp(tf.neg(x)))) },
  swish: { formula: (x) => tf.div(x, tf.add(1, tf.exp(tf.neg(x)))) },
  gelu: { formula: (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))) },
  hard_sigmoid: { formula: (x) => tf.div(relu6(tf.add(x, 3)), 6) },
  hard_swish: { formula: (x) => tf.mul(x, tf.div(relu6(tf.add(x, 3)), 6)) },
  mish: { formula: (x) => tf.mul(x, tf.tanh(tf.log(tf.add(1, tf.exp(x))))) },
};

const activationSamples = Object.fromEntries(
  ACTIVATION_OP_NAMES.map((name): [ActivationOpName, Sample] => {
    const { call = name, formula } = ACTIVATION_REFERENCES[name];
    const body = `input x: [3, 5]\noutput y = x -> ${call}`;
    const { args } = modelOf(body).nodes.find((n) => n.op === name)!.resolved as ActivationAttrs;
    return [
      name,
      {
        body,
        reference: (i) => formula(i.x),
        layer: (i) => kerasActivation(name, args)(i.x),
        // relu's kink: a smaller step is less likely to cross it.
        grad: name === 'relu' ? { eps: 1e-4 } : undefined,
      },
    ];
  }),
) as Record<ActivationOpName, Sample>;

const SAMPLES: Record<CallableOpName, Sample> = {
  ...activationSamples,
  dense: {
    body: 'input x: [5]\noutput y = x -> dense(4)',
    batch: 3,
    reference: (i, w) => tfDense(i.x, w['dense.kernel'], w['dense.bias']),
    layer: (i, w) => applyLayer(tf.layers.dense({ units: 4 }), i.x, pick(w, 'dense', ['kernel', 'bias'])),
  },
  conv1d: {
    body: 'input x: [9, 2]\noutput y = x -> conv1d(3, kernel = 3, stride = 2, padding = same)',
    reference: (i, w) => tf.add(tfConv1d(i.x, w['conv1d.kernel'], 2, 'same'), w['conv1d.bias']),
    layer: (i, w) => applyLayer(tf.layers.conv1d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), i.x, pick(w, 'conv1d', ['kernel', 'bias'])),
  },
  conv2d: {
    body: 'input x: [7, 6, 2]\noutput y = x -> conv2d(3, kernel = 3, padding = same, dilation = 2)',
    reference: (i, w) => tf.add(tfConv2d(i.x, w['conv2d.kernel'], 1, 'same', 2), w['conv2d.bias']),
    layer: (i, w) => applyLayer(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2 }), i.x, pick(w, 'conv2d', ['kernel', 'bias'])),
  },
  // 18 channels: the WebAssembly kernel's blocks of 16 and its single channels.
  depthwise_conv2d: {
    body: 'input x: [7, 6, 18]\noutput y = x -> depthwise_conv2d(3, stride = 2, padding = same)',
    reference: (i, w) => tf.add(tf.depthwiseConv2d(i.x as tf.Tensor4D, w['depthwise_conv2d.depthwise_kernel'] as tf.Tensor4D, 2, 'same'), w['depthwise_conv2d.bias']),
    layer: (i, w) =>
      applyLayer(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), i.x, pick(w, 'depthwise_conv2d', ['depthwise_kernel', 'bias'])),
  },
  separable_conv2d: {
    body: 'input x: [6, 5, 3]\noutput y = x -> separable_conv2d(4, 3, padding = same, depth_multiplier = 2)',
    reference: (i, w) => {
      const [dk, pk, bias] = pick(w, 'separable_conv2d', ['depthwise_kernel', 'pointwise_kernel', 'bias']);
      return tf.add(tf.separableConv2d(i.x as tf.Tensor4D, dk as tf.Tensor4D, pk as tf.Tensor4D, 1, 'same'), bias);
    },
    layer: (i, w) =>
      applyLayer(
        tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2 }),
        i.x,
        pick(w, 'separable_conv2d', ['depthwise_kernel', 'pointwise_kernel', 'bias']),
      ),
  },
  // tfjs's own padding from the output shape agrees with Keras's here (no output_padding); conv1d as a height-1 image.
  conv1d_transpose: {
    body: 'input x: [5, 2]\noutput y = x -> conv1d_transpose(3, 4, stride = 2, padding = same)',
    reference: (i, w) => {
      const [B, L, C] = i.x.shape;
      const [k, F] = w['conv1d_transpose.kernel'].shape;
      const y = tf.conv2dTranspose(i.x.reshape([B, 1, L, C]) as tf.Tensor4D, w['conv1d_transpose.kernel'].reshape([1, k, F, C]) as tf.Tensor4D, [B, 1, 2 * L, F], 2, 'same');
      return tf.add(y.reshape([B, 2 * L, F]), w['conv1d_transpose.bias']);
    },
  },
  conv2d_transpose: {
    body: 'input x: [4, 3, 2]\noutput y = x -> conv2d_transpose(3, 3, stride = 2)',
    reference: (i, w) => tf.add(tf.conv2dTranspose(i.x as tf.Tensor4D, w['conv2d_transpose.kernel'] as tf.Tensor4D, [i.x.shape[0], 9, 7, 3], 2, 'valid'), w['conv2d_transpose.bias']),
    layer: (i, w) => applyLayer(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2 }), i.x, pick(w, 'conv2d_transpose', ['kernel', 'bias'])),
  },
  maxpool: {
    body: 'input x: [7, 5, 2]\noutput y = x -> maxpool(3, stride = 2, padding = same)',
    reference: (i) => tf.maxPool(i.x as tf.Tensor4D, 3, 2, 'same'),
    layer: (i) => applyLayer(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), i.x),
    grad: { distinct: true },
  },
  avgpool: {
    body: 'input x: [9, 2]\noutput y = x -> avgpool(3, stride = 2, padding = same)',
    reference: (i) => {
      const [B, L, C] = i.x.shape;
      const y = tfAvgPool(i.x.reshape([B, 1, L, C]) as tf.Tensor4D, [1, 3], [1, 2], 'same');
      return y.reshape([B, y.shape[2], C]);
    },
    layer: (i) => applyLayer(tf.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }), i.x),
  },
  global_maxpool: {
    body: 'input x: [5, 4, 3]\noutput y = x -> global_maxpool',
    reference: (i) => tf.max(i.x, [1, 2]),
    layer: (i) => applyLayer(tf.layers.globalMaxPooling2d({}), i.x),
    grad: { distinct: true },
  },
  global_avgpool: {
    body: 'input x: [6, 3]\noutput y = x -> global_avgpool',
    reference: (i) => tf.mean(i.x, 1),
    layer: (i) => applyLayer(tf.layers.globalAveragePooling1d({}), i.x),
  },
  dropout: {
    body: 'input x: [4, 6]\noutput y = x -> dropout(0.4)',
    reference: (i) => i.x,
    layer: (i) => applyLayer(tf.layers.dropout({ rate: 0.4 }), i.x),
    training: { unreproducible: 'the mask comes from our seeded random stream, which no independent implementation draws' },
  },
  flatten: {
    body: 'input x: [2, 3, 2]\noutput y = x -> flatten',
    reference: (i) => i.x.reshape([-1, 12]),
    layer: (i) => applyLayer(tf.layers.flatten(), i.x),
  },
  zero_padding: {
    body: 'input x: [4, 5, 2]\noutput y = x -> zero_padding([[1, 2], [0, 3]])',
    reference: (i) => tf.pad(i.x, [[0, 0], [1, 2], [0, 3], [0, 0]]),
    layer: (i) => applyLayer(tf.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] }), i.x),
  },
  cropping: {
    body: 'input x: [6, 5, 2]\noutput y = x -> cropping([[1, 2], [0, 1]])',
    reference: (i) => tf.slice(i.x, [0, 1, 0, 0], [-1, 3, 4, -1]),
    layer: (i) => applyLayer(tf.layers.cropping2D({ cropping: [[1, 2], [0, 1]] }), i.x),
  },
  upsampling: {
    body: 'input x: [3, 2, 2]\noutput y = x -> upsampling([2, 3])',
    // Written as gathers of rows floor(i / 2) and columns floor(j / 3): tfjs's gradient of resizeNearestNeighbor
    // is off for unequal factors, and it has no gradient for rank-6 tiles.
    reference: (i) => tf.gather(tf.gather(i.x, [0, 0, 1, 1, 2, 2], 1), [0, 0, 0, 1, 1, 1], 2),
    layer: (i) => applyLayer(tf.layers.upSampling2d({ size: [2, 3] }), i.x),
  },
  reshape: {
    body: 'input x: [12]\noutput y = x -> reshape([3, -1])',
    reference: (i) => i.x.reshape([-1, 3, 4]),
    layer: (i) => applyLayer(tf.layers.reshape({ targetShape: [3, 4] }), i.x),
  },
  take: {
    body: 'input x: [4, 3, 2]\noutput y = x -> take(-2, axis = 2)',
    reference: (i) => tf.gather(i.x, 1, 2),
  },
  slice: {
    body: 'input x: [5, 3]\noutput y = x -> slice(1, -1)',
    reference: (i) => tf.slice(i.x, [0, 1, 0], [-1, 3, -1]),
  },
  permute: {
    body: 'input x: [4, 3, 2]\noutput y = x -> permute([3, 1, 2])',
    reference: (i) => tf.transpose(i.x, [0, 3, 1, 2]),
    layer: (i) => applyLayer(tf.layers.permute({ dims: [3, 1, 2] }), i.x),
  },
  mean: {
    body: 'input x: [4, 3, 2]\noutput y = x -> mean(axis = 2, keepdims = true)',
    reference: (i) => tf.mean(i.x, 2, true),
  },
  sum: {
    body: 'input x: [4, 3, 2]\noutput y = x -> sum(1)',
    reference: (i) => tf.sum(i.x, 1),
  },
  add: {
    body: 'input a: [4]\ninput b: [4]\noutput y = add(a, b, a)',
    reference: (i) => tf.addN([i.a, i.b, i.a]),
    layer: (i) => applyLayer(tf.layers.add(), [i.a, i.b, i.a]),
  },
  // The broadcasting merges: b's dimensions of 1 repeat (a squeeze-and-excite scale), c has a's shape.
  multiply: {
    body: 'input a: [3, 4, 2]\ninput b: [1, 1, 2]\ninput c: [3, 4, 2]\noutput y = multiply(a, b, c)',
    reference: (i) => tf.mul(tf.mul(i.a, i.b), i.c),
    layer: (i) => applyLayer(tf.layers.multiply(), [i.a, i.c]).mul(i.b),
  },
  subtract: {
    body: 'input a: [3, 4]\ninput b: [3, 1]\noutput y = subtract(a, b)',
    reference: (i) => tf.sub(i.a, i.b),
  },
  maximum: {
    body: 'input a: [3, 4]\ninput b: [1, 4]\ninput c: [3, 4]\noutput y = maximum(a, b, c)',
    // b tiled explicitly: tfjs's gradient of a broadcasting tf.maximum does not reduce to b's shape.
    reference: (i) => tf.maximum(tf.maximum(i.a, tf.tile(i.b, [1, 3, 1])), i.c),
    layer: (i) => applyLayer(tf.layers.maximum(), [i.a, i.c]).maximum(i.b),
    grad: { distinct: true },
  },
  minimum: {
    body: 'input a: [2, 3, 2]\ninput b: [2, 3, 2]\noutput y = minimum(a, b)',
    reference: (i) => tf.minimum(i.a, i.b),
    layer: (i) => applyLayer(tf.layers.minimum(), [i.a, i.b]),
    grad: { distinct: true },
  },
  average: {
    body: 'input a: [5]\ninput b: [5]\ninput c: [1]\noutput y = average(a, b, c)',
    reference: (i) => tf.div(tf.add(tf.add(i.a, i.b), i.c), 3),
    layer: (i) => tf.div(tf.add(applyLayer(tf.layers.add(), [i.a, i.b]), i.c), 3),
  },
  concat: {
    body: 'input a: [3, 2]\ninput b: [2, 2]\noutput y = concat(a, b, axis = 1)',
    reference: (i) => tf.concat([i.a, i.b], 1),
    layer: (i) => applyLayer(tf.layers.concatenate({ axis: 1 }), [i.a, i.b]),
  },
  embedding: {
    body: 'input t: [5] int\noutput y = t -> embedding(vocab = 7, dim = 3)',
    batch: 3,
    ids: { t: 7 },
    reference: (i, w) => tf.gather(w['embedding.embeddings'], i.t),
    layer: (i, w) => applyLayer(tf.layers.embedding({ inputDim: 7, outputDim: 3 }), i.t, [w['embedding.embeddings']]),
  },
  // TensorFlow.js has no positional-embedding layer. A table of 6 positions: the first 4 are added, the last 2 get no gradient.
  positional: {
    body: 'input x: [4, 3]\noutput y = x -> positional(learned, max_len = 6)',
    reference: (i, w) => tf.add(i.x, tf.slice(w['positional.embeddings'], [0, 0], [4, 3])),
  },
  rnn: {
    body: 'input x: [5, 3]\noutput y = x -> rnn(4, sequences = true)',
    reference: (i, w) => tfRecurrent('rnn', i.x, w, 'rnn.', { sequences: true }),
    layer: (i, w) => applyLayer(tf.layers.simpleRNN({ units: 4, returnSequences: true }), i.x, pick(w, 'rnn', ['kernel', 'recurrent_kernel', 'bias'])),
  },
  lstm: {
    body: 'input x: [5, 3]\noutput y = x -> lstm(4)',
    reference: (i, w) => tfRecurrent('lstm', i.x, w, 'lstm.', { sequences: false }),
    // tfjs's LSTM defaults to hard_sigmoid for its gates; Keras 2 and dlc use the sigmoid.
    layer: (i, w) => applyLayer(tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid' }), i.x, pick(w, 'lstm', ['kernel', 'recurrent_kernel', 'bias'])),
  },
  // tf.layers.gru refuses resetAfter = true (Keras's default): the reference is Keras's cell written out.
  gru: {
    body: 'input x: [5, 3]\noutput y = x -> gru(4, sequences = true)',
    reference: (i, w) => tfRecurrent('gru', i.x, w, 'gru.', { sequences: true }),
  },
  bidirectional: {
    body: 'input x: [5, 3]\noutput y = x -> bidirectional(lstm(3, sequences = true))',
    reference: (i, w) =>
      tf.concat([
        tfRecurrent('lstm', i.x, w, 'bidirectional.forward.', { sequences: true }),
        tfRecurrent('lstm', i.x, w, 'bidirectional.backward.', { sequences: true, reverse: true }),
      ], -1),
    layer: (i, w) =>
      applyLayer(
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true }) as tf.RNN, mergeMode: 'concat' }),
        i.x,
        ['forward', 'backward'].flatMap((d) => pick(w, `bidirectional.${d}`, ['kernel', 'recurrent_kernel', 'bias'])),
      ),
  },
  // TensorFlow.js has no MultiHeadAttention layer.
  attention: {
    body: 'input x: [4, 5]\noutput y = x -> attention(heads = 2, key_dim = 3, causal = true)',
    reference: (i, w) => tfAttention(i.x, i.x, i.x, w, { heads: 2, keyDim: 3, causal: true }),
  },
  layernorm: {
    body: 'input x: [3, 6]\noutput y = x -> layernorm',
    reference: (i, w) => {
      const { mean, variance } = tf.moments(i.x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(i.x, mean), tf.sqrt(tf.add(variance, 1e-3))), w['layernorm.gamma']), w['layernorm.beta']);
    },
    layer: (i, w) => applyLayer(tf.layers.layerNormalization({ epsilon: 1e-3 }), i.x, pick(w, 'layernorm', ['gamma', 'beta'])),
  },
  batchnorm: {
    body: 'input x: [3, 4]\noutput y = x -> batchnorm(momentum = 0.9)',
    batch: 3,
    // Inference: the moving statistics.
    reference: (i, w) => {
      const [gamma, beta, mean, variance] = pick(w, 'batchnorm', ['gamma', 'beta', 'moving_mean', 'moving_variance']);
      return tf.add(tf.mul(tf.div(tf.sub(i.x, mean), tf.sqrt(tf.add(variance, 1e-3))), gamma), beta);
    },
    layer: (i, w) =>
      applyLayer(tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3 }), i.x, pick(w, 'batchnorm', ['gamma', 'beta', 'moving_mean', 'moving_variance'])),
    // Training: the batch's statistics over every axis but the channels.
    training: (i, w) => {
      const { mean, variance } = tf.moments(i.x, [0, 1], true);
      return tf.add(tf.mul(tf.div(tf.sub(i.x, mean), tf.sqrt(tf.add(variance, 1e-3))), w['batchnorm.gamma']), w['batchnorm.beta']);
    },
  },
};

const SEED = 3;

/** A sample's model, weights (constants perturbed, harness.ts) and inputs: floats on [-1, 1), ids below their vocabulary. */
interface Prepared {
  graph: Graph;
  weights: Weights;
  inputs: Record<string, Tensor>;
}

function prepare(sample: Sample): Prepared {
  const graph = modelOf(sample.body);
  const rng = createRng(SEED);
  const inputs: Record<string, Tensor> = {};
  for (const node of graph.inputs) {
    const shape = [sample.batch ?? 2, ...(node.type.shape.slice(1) as number[])];
    const vocab = sample.ids?.[node.name];
    inputs[node.name] = vocab === undefined ? randTensor(shape, rng) : randomIds(shape, vocab, rng);
  }
  return { graph, weights: weightsFor(graph, SEED), inputs };
}

const tfInputs = ({ graph, inputs }: Prepared): Tensors =>
  Object.fromEntries(graph.inputs.map((n) => [n.name, tf.tensor(inputs[n.name].data, inputs[n.name].shape, n.type.dtype)]));
const tfWeights = ({ weights }: Prepared): Tensors => Object.fromEntries([...weights].map(([name, t]) => [name, toTf(t)]));

/** Runs `f` with the interpreter's kernels set to `kind`, restoring the previous choice after. */
function withKernels<T>(kind: 'wasm' | 'js', f: () => T): T {
  const before = kernelBackend().choice;
  setKernelBackend(kind);
  try {
    return f();
  } finally {
    setKernelBackend(before);
  }
}

const callable = callableOps();
const samples = new Map(callable.map((op) => [op, SAMPLES[op as CallableOpName] as Sample | undefined]));
const prepared = new Map<OpName, Prepared>();
let modules = new Map<OpName, string>();
let dir: string;

beforeAll(async () => {
  await useTfCpu();
  for (const [op, sample] of samples) if (sample) prepared.set(op, prepare(sample));
  // One batch of generated modules for every sample.
  dir = generatedDir();
  const ops = [...prepared.keys()];
  const files = await emitModules(dir, ops.map((op) => ({ graph: prepared.get(op)!.graph, sourcePath: `contracts/${op}.dl` })));
  modules = new Map(ops.map((op, i) => [op, files[i]]));
});

afterAll(() => removeGenerated(dir));

it('SAMPLES covers exactly the callable ops of the registry', () => {
  expect(Object.keys(SAMPLES).sort()).toEqual([...callable].sort());
});

describe.each(callable)('%s', (op) => {
  const sample = samples.get(op);
  const sampleOf = () => {
    if (!sample) expect.fail(`callable op '${op}' has no sample in test/ops/contracts.test.ts`);
    return { sample, p: prepared.get(op)! };
  };

  it('has a sample whose model calls it', () => {
    const { p } = sampleOf();
    expect(p.graph.nodes.map((n) => n.op)).toContain(op);
  });

  it('forward: the interpreter against the TensorFlow.js reference' + (sample?.layer ? ' and tf.layers' : ''), () => {
    const { sample, p } = sampleOf();
    const ours = new Interpreter(p.graph, p.weights).run(p.inputs).outputs[p.graph.outputs[0].name];
    const [i, w] = [tfInputs(p), tfWeights(p)];
    // Cloned: expectClose disposes what it reads, and a reference may return an input (dropout).
    expectClose(ours, tf.tidy(() => sample.reference(i, w).clone()));
    if (sample.layer) expectClose(ours, tf.tidy(() => sample.layer!(i, w).clone()));
    tf.dispose([i, w]);
  });

  const training = sample?.training;
  const unreproducible = training && typeof training === 'object' ? training.unreproducible : undefined;
  it(unreproducible ? `gradients: numeric only (${unreproducible})` : 'gradients: against tf.grads of the reference and central differences', () => {
    const { sample, p } = sampleOf();
    const reference = unreproducible ? undefined : typeof sample.training === 'function' ? sample.training : sample.reference;
    const ids = Object.fromEntries(Object.keys(sample.ids ?? {}).map((name) => [name, p.inputs[name]]));
    checkGradients({ body: sample.body, batch: sample.batch, inputs: ids, reference, seed: SEED, ...sample.grad });
  });

  it('tfjs: the emitted module predicts what the interpreter computes', async () => {
    const { p } = sampleOf();
    const mod = await loadModule(modules.get(op)!);
    const expected = new Interpreter(p.graph, p.weights).run(p.inputs).outputs;
    const [i, w] = [tfInputs(p), tfWeights(p)];
    const outputs = mod.predict(w, i);
    for (const { name } of p.graph.outputs) expectClose(fromTf(outputs[name]), expected[name]);
    tf.dispose([i, w, outputs]);
  });

  it('kernels: WebAssembly and TypeScript agree, forward and backward', () => {
    const { p } = sampleOf();
    const run = () => {
      const out = p.graph.outputs[0];
      const inference = new Interpreter(p.graph, p.weights).run(p.inputs).outputs[out.name];
      const dy = randTensor(inference.shape, createRng(SEED + 7));
      const trained = backprop(p.graph, p.weights, p.inputs, { outputGrads: { [out.name]: dy }, inputGrads: true, seed: SEED });
      return { inference, training: trained.outputs[out.name], grads: trained.grads, inputGrads: trained.inputGrads };
    };
    expect(withKernels('wasm', () => kernelBackend().kernel), 'the WebAssembly kernels load').toBe('wasm');
    const wasm = withKernels('wasm', run);
    const js = withKernels('js', run);
    expectClose(wasm.inference, js.inference);
    expectClose(wasm.training, js.training);
    expect([...wasm.grads.keys()]).toEqual([...js.grads.keys()]);
    for (const [name, g] of js.grads) expectClose(wasm.grads.get(name)!, g);
    expect(Object.keys(wasm.inputGrads)).toEqual(Object.keys(js.inputGrads));
    for (const [name, g] of Object.entries(js.inputGrads)) expectClose(wasm.inputGrads[name], g);
  });

  it("diagram: the layer view names the op in its family's colours, with its label", () => {
    const { p } = sampleOf();
    const node = p.graph.nodes.find((n) => n.op === op)!;
    const info = layerInfo(node);
    expect(info.title).toBe(op);
    const dot = graphToDot(p.graph, DEFAULT_DIAGRAM_OPTIONS);
    const { fill, border } = themeOf(DEFAULT_DIAGRAM_OPTIONS.theme).family[info.family];
    // The label's lines are joined by \n: title, then OpDef.label (when non-empty), name, parameters.
    const lines = (l: string) => /^\s*n\d+ \[label="([^"]*)"/.exec(l)?.[1].split('\\n') ?? [];
    const line = dot.split('\n').find((l) => lines(l)[0] === escapeText(info.title));
    expect(line, `a node labelled ${info.title}`).toBeDefined();
    expect(line).toContain(`fillcolor="${fill}"`);
    expect(line).toContain(`color="${border}"`);
    expect(dot).toContain(escapeText(FAMILY_NAMES[info.family]));
    const label = info.op?.label?.(node.resolved as never) ?? '';
    if (label) expect(lines(line!)[1]).toBe(escapeText(label));
  });
});
