/**
 * Run-time helpers of the generated TensorFlow.js modules: weights tables,
 * input checks, and the layers tfjs has no single op for (recurrent layers,
 * attention, layer normalisation, 1-D convolution and pooling).
 *
 * Nothing imports this file at run time. The emitter copies the declarations
 * a model needs into its generated module (see inline.ts: imports dropped,
 * `export` removed), so it may import only TensorFlow.js as `tf` and the
 * declarations inline.ts inlines too. It is ordinary TypeScript so that the
 * project's type check covers it. Each layer helper names the interpreter
 * kernel whose semantics it reproduces; the tfjs tests compare them.
 */
import * as tf from '@tensorflow/tfjs';
import type { InitKind as OpInitKind } from '../../ops/op.js';
import { initialize, type InitKind } from '../interp/init.js';
import { sinusoidalTable } from '../interp/kernels/positional.js';
import { createRng } from '../interp/random.js';
import { showShape } from '../interp/tensor.js';
import { WeightsFileError, type WeightTensor } from '../../weights/safetensors-codec.js';

// ---------------------------------------------------------------- weights and inputs

/** A generated module's table of weights: each `<layer>.<param>` with its shape and initialiser. */
export type WeightSpecs = { readonly [name: string]: { readonly shape: readonly number[]; readonly init: OpInitKind } };

/** Fresh values for every weight, as the interpreter's initWeights: each from its own stream `seed -> name`. */
export function initialValues(specs: WeightSpecs, seed: number, normalSigma?: number): Map<string, Float32Array> {
  const root = createRng(seed);
  const values = new Map<string, Float32Array>();
  for (const [name, { shape, init }] of Object.entries(specs)) {
    const kind: InitKind = normalSigma !== undefined && init !== 'zeros' && init !== 'ones' && init !== 'lstm_bias' ? { normal: normalSigma } : init;
    values.set(name, initialize(kind, [...shape], root.child(name)));
  }
  return values;
}

/** Throws a WeightsFileError listing every way `tensors` do not fit `specs` (the interpreter's messages). */
export function checkWeights(specs: WeightSpecs, tensors: ReadonlyMap<string, WeightTensor>): void {
  const problems: string[] = [];
  for (const [name, { shape }] of Object.entries(specs)) {
    const t = tensors.get(name);
    if (!t) problems.push(`weights file has no tensor "${name}" (expected shape ${showShape(shape)})`);
    else if (t.shape.join() !== shape.join()) problems.push(`tensor "${name}" has shape ${showShape(t.shape)} but the model needs ${showShape(shape)}`);
    else if (t.data.some((x) => !Number.isFinite(x))) problems.push(`tensor "${name}" contains NaN or infinite values`);
  }
  const extra = [...tensors.keys()].filter((n) => !Object.hasOwn(specs, n));
  if (extra.length > 0) problems.push(`weights file has tensors this model does not use: ${extra.slice(0, 5).map((n) => `"${n}"`).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  if (problems.length > 0) throw new WeightsFileError(problems.join('\n  '));
}

/** One float32 tf.Tensor per weight, from its values. */
export function toTensors(specs: WeightSpecs, values: (name: string) => Float32Array): Record<string, tf.Tensor> {
  const weights: Record<string, tf.Tensor> = {};
  for (const [name, { shape }] of Object.entries(specs)) weights[name] = tf.tensor(values(name), [...shape], 'float32');
  return weights;
}

/** The weights' values, read back from the backend, for the safetensors encoder. */
export function fromTensors(specs: WeightSpecs, weights: Readonly<Record<string, tf.Tensor>>): Map<string, WeightTensor> {
  const tensors = new Map<string, WeightTensor>();
  for (const name of Object.keys(specs)) {
    const t = weights[name];
    if (!(t instanceof tf.Tensor)) throw new WeightsFileError(`cannot save weights: "${name}" is not a tf.Tensor`);
    const values = t.dataSync();
    tensors.set(name, { shape: [...t.shape], data: values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>) });
  }
  return tensors;
}

export type InputShapes = { readonly [name: string]: readonly (number | null)[] };
export type InputDtypes = { readonly [name: string]: 'float32' | 'int32' };

/** Checks each input against its static shape (null: the batch) and dtype; messages as `dlc run` gives them. */
export function checkInputs(shapes: InputShapes, dtypes: InputDtypes, inputs: object): void {
  let batch: number | undefined;
  for (const [name, shape] of Object.entries(shapes)) {
    const x: unknown = (inputs as Record<string, unknown>)[name];
    const dtype = dtypes[name];
    const needs = `[batch, ${shape.slice(1).join(', ')}]`;
    if (!(x instanceof tf.Tensor)) throw new Error(`missing input "${name}": a ${dtype} tf.Tensor of shape ${needs}`);
    const dims: number[] = x.shape;
    const has = `[${dims.join(', ')}]`;
    if (dims.length === shape.length - 1 && dims.every((d, i) => d === shape[i + 1]))
      throw new Error(`input "${name}" has shape ${has} but needs ${needs}: add the batch dimension, e.g. tf.expandDims(x, 0)`);
    if (dims.length !== shape.length || dims.some((d, i) => i > 0 && d !== shape[i]) || dims[0] === 0)
      throw new Error(`input "${name}" has shape ${has} but the model needs ${needs}`);
    if (x.dtype !== dtype)
      throw new Error(`input "${name}" is ${x.dtype} but the model needs ${dtype}${dtype === 'int32' ? ' token ids' : ''}: convert it with tf.cast(x, '${dtype}')`);
    if (batch !== undefined && dims[0] !== batch) throw new Error(`input "${name}" has batch size ${dims[0]}, other inputs have ${batch}`);
    batch = dims[0];
  }
}

// ---------------------------------------------------------------- layers

export type ConvArgs<T extends tf.Tensor> = {
  x: T;
  filter: tf.Tensor4D;
  bias?: tf.Tensor1D;
  strides: [number, number];
  pad: 'valid' | 'same';
  dilations: [number, number];
  activation: tf.fused.Activation;
};

/**
 * tf.fused.conv2d for strides and dilations both above 1, which tfjs refuses
 * (the interpreter's conv2d allows it): pad as TensorFlow's padding rule would
 * for the strided convolution (kernels/window.ts), convolve at stride 1, keep
 * every stride-th output.
 */
export function stridedDilatedConv2d({ x, strides, pad, dilations, ...rest }: ConvArgs<tf.Tensor4D>): tf.Tensor4D {
  const [kh, kw] = rest.filter.shape;
  const axis = (size: number, k: number, stride: number, dilation: number) => {
    const extent = dilation * (k - 1) + 1;
    const out = pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - extent) / stride) + 1;
    const total = pad === 'same' ? Math.max((out - 1) * stride + extent - size, 0) : 0;
    return { out, padding: [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number] };
  };
  const rows = axis(x.shape[1], kh, strides[0], dilations[0]);
  const cols = axis(x.shape[2], kw, strides[1], dilations[1]);
  const full = tf.fused.conv2d({ x, ...rest, strides: 1, pad: [[0, 0], rows.padding, cols.padding, [0, 0]], dilations });
  const end = [x.shape[0], (rows.out - 1) * strides[0] + 1, (cols.out - 1) * strides[1] + 1, full.shape[3]];
  return tf.stridedSlice(full, [0, 0, 0, 0], end, [1, strides[0], strides[1], 1]) as tf.Tensor4D;
}

/** The interpreter's conv1d: conv2d over a height-1 image, so that tf.fused.conv2d adds the bias and activation. */
export function fusedConv1d(args: Omit<ConvArgs<tf.Tensor3D>, 'filter' | 'strides' | 'dilations'> & { filter: tf.Tensor3D; stride: number; dilation: number }): tf.Tensor3D {
  const { x, filter, stride, dilation, ...rest } = args;
  const conv = stride > 1 && dilation > 1 ? stridedDilatedConv2d : tf.fused.conv2d<tf.Tensor4D>;
  const y = conv({ ...rest, x: tf.expandDims<tf.Tensor4D>(x, 1), filter: tf.expandDims<tf.Tensor4D>(filter, 0), strides: [1, stride], dilations: [1, dilation] });
  return tf.squeeze<tf.Tensor3D>(y, [1]);
}

/** The interpreter's maxPool1d and avgPool1d: the 2-D pools over a height-1 image. */
export function pool1d(kind: 'max' | 'avg', x: tf.Tensor3D, size: number, stride: number, pad: 'valid' | 'same'): tf.Tensor3D {
  const image = tf.expandDims<tf.Tensor4D>(x, 1);
  const y = kind === 'max' ? tf.maxPool(image, [1, size], [1, stride], pad) : tf.avgPool(image, [1, size], [1, stride], pad);
  return tf.squeeze<tf.Tensor3D>(y, [1]);
}

/** The interpreter's fixed sinusoidal position table (kernels/positional.ts) as a [steps, width] tensor. */
export function positionEncoding(steps: number, width: number): tf.Tensor2D {
  return tf.tensor2d(sinusoidalTable(steps, width).data, [steps, width]);
}

/** The interpreter's layerNorm: over the last axis, biased variance, then scale and shift. */
export function layerNormalization<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

export type RecurrentOutput<S extends boolean> = S extends true ? tf.Tensor3D : tf.Tensor2D;
export type RecurrentOptions<S extends boolean> = { sequences: S; reverse?: boolean };

/**
 * The loop of the interpreter's recurrent kernels (kernels/recurrent.ts), zero
 * initial state: x W + b for all steps in one matmul, then per step
 * h = cell(xw_t + h U). `reverse` reads t = T-1 down to 0 and stores each state
 * at its step's index (Keras's Bidirectional backward layer). Returns every
 * state [B, T, u] with `sequences`, else the last one [B, u].
 */
export function recur<S extends boolean>(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  { sequences, reverse = false }: RecurrentOptions<S>,
  cell: (z: tf.Tensor2D) => tf.Tensor2D,
): RecurrentOutput<S> {
  const [batch, steps, features] = x.shape;
  const width = kernel.shape[1];
  const xw = tf.reshape(tf.fused.matMul({ a: tf.reshape(x, [batch * steps, features]), b: kernel, bias }), [batch, steps, width]);
  const inputs = tf.unstack(xw, 1) as tf.Tensor2D[];
  let h: tf.Tensor2D = tf.zeros([batch, recurrentKernel.shape[0]]);
  const states: tf.Tensor2D[] = [];
  for (let step = 0; step < steps; step++) {
    const t = reverse ? steps - 1 - step : step;
    h = cell(tf.add(inputs[t], tf.matMul(h, recurrentKernel)));
    states[t] = h;
  }
  return (sequences ? tf.stack(states, 1) : h) as RecurrentOutput<S>;
}

/** The interpreter's simpleRnn: s_t = f(x_t W + s_{t-1} U + b). */
export function simpleRnnLayer<S extends boolean>(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  options: RecurrentOptions<S> & { activation: (z: tf.Tensor2D) => tf.Tensor2D },
): RecurrentOutput<S> {
  return recur(x, kernel, recurrentKernel, bias, options, options.activation);
}

/** The interpreter's lstm, Keras's gate order i, f, c, o: c = f c + i tanh(z_c), h = o tanh(c). */
export function lstmLayer<S extends boolean>(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrentKernel: tf.Tensor2D, bias: tf.Tensor1D, options: RecurrentOptions<S>): RecurrentOutput<S> {
  let c: tf.Tensor2D = tf.zeros([x.shape[0], recurrentKernel.shape[0]]);
  return recur(x, kernel, recurrentKernel, bias, options, (z) => {
    const [i, f, g, o] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return tf.mul(tf.sigmoid(o), tf.tanh(c));
  });
}

export type AttentionWeights = {
  queryKernel: tf.Tensor2D;
  queryBias: tf.Tensor1D;
  keyKernel: tf.Tensor2D;
  keyBias: tf.Tensor1D;
  valueKernel: tf.Tensor2D;
  valueBias: tf.Tensor1D;
  outputKernel: tf.Tensor2D;
  outputBias: tf.Tensor1D;
};

/**
 * The interpreter's multiHeadAttention (kernels/attention.ts): project, split
 * heads [B, L, H*K] -> [B, H, L, K], scale the query by 1/sqrt(K), softmax over
 * the S keys (later steps hidden when causal), weight the values, merge heads,
 * project out.
 */
export function multiHeadAttention(
  query: tf.Tensor3D,
  value: tf.Tensor3D,
  key: tf.Tensor3D,
  w: AttentionWeights,
  { heads, keyDim, valueDim, causal }: { heads: number; keyDim: number; valueDim: number; causal: boolean },
): tf.Tensor3D {
  const [batch, T] = query.shape;
  const S = value.shape[1];
  const project = (x: tf.Tensor3D, kernel: tf.Tensor2D, bias: tf.Tensor1D, size: number): tf.Tensor4D => {
    const flat = tf.fused.matMul({ a: tf.reshape(x, [-1, x.shape[2]]), b: kernel, bias });
    return tf.transpose(tf.reshape(flat, [batch, x.shape[1], heads, size]), [0, 2, 1, 3]);
  };
  const q = tf.mul(project(query, w.queryKernel, w.queryBias, keyDim), 1 / Math.sqrt(keyDim));
  const k = project(key, w.keyKernel, w.keyBias, keyDim);
  const v = project(value, w.valueKernel, w.valueBias, valueDim);
  let scores = tf.matMul(q, k, false, true); // [B, H, T, S]
  if (causal) {
    const hidden = new Float32Array(T * S);
    for (let t = 0; t < T; t++) hidden.fill(-Infinity, t * S + Math.min(t + 1, S), (t + 1) * S);
    scores = tf.add(scores, tf.tensor2d(hidden, [T, S]));
  }
  const context = tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]); // [B, T, H, V]
  const out = tf.fused.matMul({ a: tf.reshape(context, [-1, heads * valueDim]), b: w.outputKernel, bias: w.outputBias });
  return tf.reshape(out, [batch, T, w.outputKernel.shape[1]]);
}
