/**
 * Run-time helpers of the generated TensorFlow.js modules: weights tables,
 * input checks, the layers tfjs has no single op for (recurrent layers,
 * attention, layer normalisation, 1-D convolution and pooling, dropout in
 * training), and training: the losses, the optimizers and the loop of
 * `dlc train` on tf.Variables.
 *
 * Nothing imports this file at run time. The emitter copies the declarations
 * a model needs into its generated module (see inline.ts: imports dropped,
 * `export` removed), so it may import only TensorFlow.js as `tf` and the
 * runtime (src/runtime), whose declarations are copied alike. It is ordinary
 * TypeScript so that the project's type check covers it, and it must also
 * pass the strictest settings a module's user may have (the tfjs tests check
 * generated modules with them, test/backends/tfjs/typecheck.ts). Each layer helper names the interpreter
 * kernel whose semantics it reproduces; the tfjs tests compare them.
 */
import * as tf from '@tensorflow/tfjs';
import { foldBatchNorm } from '../../runtime/batchnorm.js';
import { initialize, initializerFor, type InitializerName } from '../../runtime/init.js';
import type { LossName } from '../../runtime/losses.js';
import { inputMessages, weightProblems } from '../../runtime/messages.js';
import { decayFactor, slotCount, stepSize, type OptimizerSpec } from '../../runtime/optimizers.js';
import { sinusoidalTable } from '../../runtime/positional.js';
import { bilinearTaps, nearestTaps } from '../../runtime/upsample.js';
import { createRng, shuffled, type Rng } from '../../runtime/random.js';
import { WeightsFileError, type WeightTensor } from '../../runtime/safetensors.js';
import { showShape } from '../../runtime/tensor.js';
import { windowAxis } from '../../runtime/window.js';

// ---------------------------------------------------------------- weights and inputs

/** A generated module's table of weights: each `<layer>.<param>` with its shape and initialiser. */
/**
 * A generated module's table of weights: each `<layer>.<param>` with its shape
 * and initialiser; `state: true` marks layer state (batchnorm's moving
 * statistics), which training updates from the batch instead of a gradient.
 */
export type WeightSpecs = { readonly [name: string]: { readonly shape: readonly number[]; readonly init: InitializerName; readonly state?: true } };

/** Fresh values for every weight, as the interpreter's initWeights: each from its own stream `seed -> name`. */
export function initialValues(specs: WeightSpecs, seed: number, normalSigma?: number): Map<string, Float32Array> {
  const root = createRng(seed);
  const values = new Map<string, Float32Array>();
  for (const [name, { shape, init }] of Object.entries(specs)) values.set(name, initialize(initializerFor(init, normalSigma), [...shape], root.child(name)));
  return values;
}

/** Throws a WeightsFileError listing every way `tensors` do not fit `specs` (the interpreter's messages). */
export function checkWeights(specs: WeightSpecs, tensors: ReadonlyMap<string, WeightTensor>): void {
  const problems = weightProblems(
    Object.entries(specs).map(([name, { shape }]) => ({ name, shape })),
    tensors,
  );
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

/** Per-example shapes: null is the batch, a string a dimension variable (T; `None$1` an anonymous one) of any length, the same wherever it occurs. */
export type InputShapes = { readonly [name: string]: readonly (number | null | string)[] };
export type InputDtypes = { readonly [name: string]: 'float32' | 'int32' };

/** Checks each input against its static shape (null: the batch) and dtype; messages as `dlc run` gives them. */
export function checkInputs(shapes: InputShapes, dtypes: InputDtypes, inputs: object): void {
  let batch: number | undefined;
  const lengths = new Map<string, { size: number; input: string }>();
  const dimText = (d: number | null | string) => (typeof d === 'string' && d.includes('$') ? 'None' : d);
  for (const [name, shape] of Object.entries(shapes)) {
    const x: unknown = (inputs as Record<string, unknown>)[name];
    const dtype = dtypes[name] ?? 'float32';
    const needs = `[batch, ${shape.slice(1).map(dimText).join(', ')}]`;
    if (!(x instanceof tf.Tensor)) throw new Error(inputMessages.missing(name, needs, inputMessages.tensorHint(dtype)));
    const dims: number[] = x.shape;
    const has = showShape(dims);
    const size = dims[0] ?? 0;
    const fits = (d: number, i: number) => d === shape[i] || typeof shape[i] === 'string';
    if (dims.length === shape.length - 1 && dims.every((d, i) => d === shape[i + 1])) throw new Error(inputMessages.unbatched(name, has, needs, inputMessages.tensorBatchHint));
    if (dims.length !== shape.length || dims.some((d, i) => i > 0 && !fits(d, i)) || size === 0) throw new Error(inputMessages.shape(name, has, needs));
    if (x.dtype !== dtype) throw new Error(inputMessages.dtype(name, x.dtype, dtype));
    if (batch !== undefined && size !== batch) throw new Error(inputMessages.batchSize(name, size, batch));
    dims.forEach((n, i) => {
      const d = shape[i];
      if (typeof d !== 'string') return;
      const seen = lengths.get(d);
      if (seen && seen.size !== n) throw new Error(inputMessages.dimension(String(dimText(d)), name, n, seen.input, seen.size));
      if (!seen) lengths.set(d, { size: n, input: name });
    });
    batch = size;
  }
}

// ---------------------------------------------------------------- batchnorm folded at inference

/**
 * A layer with a batchnorm folded into it by dlc's optimizer: the weights its
 * kernel and bias derive from (null: the layer has no bias, the batchnorm no
 * gamma or beta) and the batchnorm's epsilon.
 */
export type BatchNormFold = {
  readonly kernel: string;
  readonly bias: string | null;
  readonly gamma: string | null;
  readonly beta: string | null;
  readonly movingMean: string;
  readonly movingVariance: string;
  readonly epsilon: number;
};
export type BatchNormFolds = { readonly [layer: string]: BatchNormFold };
export type FoldedWeights = { readonly kernel: tf.Tensor; readonly bias: tf.Tensor1D };

/** What derivedOnce keeps for a weights object, by kind: the value, the weights it came from and the tensors it made. */
type Derived = { value: unknown; sources: tf.Tensor[]; own: tf.Tensor[] };
const derivedCache = new WeakMap<object, Map<string, Derived>>();
/** Frees a weights object's derived tensors once the object itself is garbage (tf.dispose(weights) reaches only its own). */
const derivedRelease = new FinalizationRegistry<tf.Tensor[]>((tensors) => tf.dispose(tensors));

/**
 * Tensors derived from `weights` (folded kernels, transposed tables): made by
 * `derive` on the first call for a weights object and kind, and kept for the
 * next (out of any tf.tidy), so predict pays for them once, not per call. A
 * Weights object is read as immutable: its tensors are not replaced. After a
 * weight it read is disposed, they are derived again, which fails as reading
 * the weight does.
 */
function derivedOnce<T>(weights: object, kind: string, derive: (read: (name: string) => tf.Tensor) => { value: T; own: tf.Tensor[] }): T {
  const byKind = derivedCache.get(weights) ?? new Map<string, Derived>();
  derivedCache.set(weights, byKind);
  const cached = byKind.get(kind);
  if (cached && cached.sources.every((t) => !t.isDisposed)) return cached.value as T;
  if (cached) {
    derivedRelease.unregister(cached);
    tf.dispose(cached.own);
  }
  const sources: tf.Tensor[] = [];
  const read = (name: string): tf.Tensor => {
    const t = (weights as Record<string, unknown>)[name];
    if (!(t instanceof tf.Tensor)) throw new WeightsFileError(`cannot derive ${kind} weights: "${name}" is not a tf.Tensor`);
    sources.push(t);
    return t;
  };
  const { value, own } = derive(read);
  const entry: Derived = { value, sources, own: own.map((t) => tf.keep(t)) };
  byKind.set(kind, entry);
  derivedRelease.register(weights, entry.own, entry);
  return value;
}

/** The folded layers' kernels and biases for `weights` (foldBatchNorm, the interpreter's arithmetic), once per weights object (derivedOnce). */
export function foldBatchNorms<F extends BatchNormFolds>(weights: Readonly<Record<string, tf.Tensor>>, folds: F): { readonly [L in keyof F]: FoldedWeights } {
  return derivedOnce(weights, 'folded', (read) => {
    const values = (name: string): Float32Array => {
      const data = read(name).dataSync();
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    };
    const optional = (name: string | null) => (name === null ? null : values(name));
    const folded: { [layer: string]: FoldedWeights } = {};
    for (const [layer, f] of Object.entries(folds)) {
      const kernel = values(f.kernel);
      const shape = weights[f.kernel]!.shape;
      const w = { kernel, bias: optional(f.bias), gamma: optional(f.gamma), beta: optional(f.beta), movingMean: values(f.movingMean), movingVariance: values(f.movingVariance) };
      const r = foldBatchNorm(w, shape, f.epsilon);
      folded[layer] = { kernel: tf.tensor(r.kernel.data, r.kernel.shape, 'float32'), bias: tf.tensor1d(r.bias.data, 'float32') };
    }
    return { value: folded as { readonly [L in keyof F]: FoldedWeights }, own: Object.values(folded).flatMap((f) => [f.kernel, f.bias]) };
  });
}

// ---------------------------------------------------------------- tied heads' tables, transposed at inference

/**
 * The tables that tied heads multiply by ([vocab, d] embeddings), transposed
 * to [d, vocab] once per weights object (derivedOnce). tf.matMul with
 * transposeB: true transposes its operand on every call in tfjs's CPU and
 * WebAssembly backends: for GPT-2's [50257, 768] table, several times the
 * product itself.
 */
export function transposeTables<N extends string>(weights: Readonly<Record<string, tf.Tensor>>, names: readonly N[]): { readonly [K in N]: tf.Tensor2D } {
  return derivedOnce(weights, 'transposed', (read) => {
    const tables = Object.fromEntries(names.map((name) => [name, tf.transpose(read(name) as tf.Tensor2D)])) as { [K in N]: tf.Tensor2D };
    return { value: tables, own: Object.values(tables) };
  });
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
 * for the strided convolution (runtime/window.ts), convolve at stride 1, keep
 * every stride-th output. `depthwise`: the same for tf.fused.depthwiseConv2d.
 */
export function stridedDilatedConv2d({ x, strides, pad, dilations, ...rest }: ConvArgs<tf.Tensor4D>, depthwise = false): tf.Tensor4D {
  const [kh, kw] = rest.filter.shape;
  const axis = (size: number, k: number, stride: number, dilation: number) => {
    const { out, padBefore, padAfter } = windowAxis(size, k, stride, dilation, pad);
    return { out, padding: [padBefore, padAfter] as [number, number] };
  };
  const rows = axis(x.shape[1], kh, strides[0], dilations[0]);
  const cols = axis(x.shape[2], kw, strides[1], dilations[1]);
  const full = depthwise // tf.fused.depthwiseConv2d takes no explicit padding
    ? tf.fused.depthwiseConv2d({ x: tf.pad(x, [[0, 0], rows.padding, cols.padding, [0, 0]]), ...rest, strides: 1, pad: 'valid', dilations })
    : tf.fused.conv2d({ x, ...rest, strides: 1, pad: [[0, 0], rows.padding, cols.padding, [0, 0]], dilations });
  const end = [x.shape[0], (rows.out - 1) * strides[0] + 1, (cols.out - 1) * strides[1] + 1, full.shape[3]];
  return tf.stridedSlice(full, [0, 0, 0, 0], end, [1, strides[0], strides[1], 1]) as tf.Tensor4D;
}

/**
 * The interpreter's grouped conv2d (kernels/conv.ts; tfjs has no groups): x,
 * the filter's columns and the bias split into `groups` blocks, each block a
 * convolution of its own channels, the outputs concatenated.
 */
export function groupedConv2d({ x, filter, bias, ...rest }: ConvArgs<tf.Tensor4D>, groups: number): tf.Tensor4D {
  const conv = rest.strides.some((s) => s > 1) && rest.dilations.some((d) => d > 1) ? stridedDilatedConv2d : tf.fused.conv2d<tf.Tensor4D>;
  const filters = tf.split<tf.Tensor4D>(filter, groups, 3);
  const biases = bias ? tf.split<tf.Tensor1D>(bias, groups) : [];
  const outputs = tf.split<tf.Tensor4D>(x, groups, 3).map((xg, g) => {
    const b = biases[g];
    return conv({ ...rest, x: xg, filter: filters[g]!, ...(b ? { bias: b } : {}) });
  });
  return tf.concat(outputs, 3);
}

/** The interpreter's conv1d: conv2d over a height-1 image, so that tf.fused.conv2d adds the bias and activation. */
export function fusedConv1d(
  args: Omit<ConvArgs<tf.Tensor3D>, 'filter' | 'strides' | 'dilations'> & { filter: tf.Tensor3D; stride: number; dilation: number; groups?: number },
): tf.Tensor3D {
  const { x, filter, stride, dilation, groups = 1, ...rest } = args;
  const conv =
    groups > 1 ? (a: ConvArgs<tf.Tensor4D>) => groupedConv2d(a, groups) : stride > 1 && dilation > 1 ? stridedDilatedConv2d : tf.fused.conv2d<tf.Tensor4D>;
  const y = conv({ ...rest, x: tf.expandDims<tf.Tensor4D>(x, 1), filter: tf.expandDims<tf.Tensor4D>(filter, 0), strides: [1, stride], dilations: [1, dilation] });
  return tf.squeeze<tf.Tensor3D>(y, [1]);
}

/** The interpreter's maxPool1d and avgPool1d: the 2-D pools over a height-1 image. */
export function pool1d(kind: 'max' | 'avg', x: tf.Tensor3D, size: number, stride: number, pad: 'valid' | 'same'): tf.Tensor3D {
  const image = tf.expandDims<tf.Tensor4D>(x, 1);
  const y = kind === 'max' ? tf.maxPool(image, [1, size], [1, stride], pad) : tf.avgPool(image, [1, size], [1, stride], pad);
  return tf.squeeze<tf.Tensor3D>(y, [1]);
}

/**
 * One spatial axis of the interpreter's upsampleNearest and upsampleBilinear
 * (kernels/resize.ts): `x` along `axis` from its n cells to n * size, with
 * the taps of runtime/upsample.ts built here when the module runs (not
 * written into it as literals: the module's size does not grow with the
 * factor). Gathers, so that tf.grads reaches `x`: bilinear blends the lo and
 * hi gathers with its weights as a column along the axis.
 */
export function upsampleAxis<T extends tf.Tensor>(x: T, axis: number, size: number, interpolation: 'nearest' | 'bilinear'): T {
  const n = x.shape[axis]!;
  if (interpolation === 'nearest') return tf.gather(x, tf.tensor1d(nearestTaps(n, size), 'int32'), axis);
  const { lo, hi, w } = bilinearTaps(n, size);
  const column = (ws: Float64Array) => tf.tensor(Float32Array.from(ws), [ws.length, ...Array<number>(x.rank - axis - 1).fill(1)]);
  return tf.add(tf.mul(tf.gather(x, tf.tensor1d(lo, 'int32'), axis), column(w.map((v) => 1 - v))), tf.mul(tf.gather(x, tf.tensor1d(hi, 'int32'), axis), column(w)));
}

/**
 * A kernel spread out `dilation` times along `axis`: the taps stay, with
 * dilation - 1 rows of zeros between them, so that tf.conv2dTranspose (which
 * has no dilation) computes the dilated transposed convolution. The index is
 * built here when the module runs, so the module's size does not grow with
 * the dilation. A gather from the kernel and one zero row, so tf.grads reaches
 * the kernel.
 */
export function dilateKernel(kernel: tf.Tensor4D, axis: number, dilation: number): tf.Tensor4D {
  const k = kernel.shape[axis]!;
  const taps = new Int32Array(dilation * (k - 1) + 1).map((_, t) => (t % dilation === 0 ? t / dilation : k)); // k: the zero row
  const zeroRow = tf.zeros(kernel.shape.map((n, i) => (i === axis ? 1 : n)));
  return tf.gather(tf.concat([kernel, zeroRow], axis), tf.tensor1d(taps, 'int32'), axis) as tf.Tensor4D;
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

/**
 * batchnorm in training (the interpreter's batchNormTraining and
 * movingAverage): normalises with the batch's mean and biased variance over
 * every axis but `axis` (the channels, counting the batch as 0), then moves
 * the state toward them, m <- m - (m - batch) (1 - momentum), when it is a
 * tf.Variable (inside train()). The weights are the layer's [channels] vectors.
 */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  axis: number,
  weights: { movingMean: tf.Tensor; movingVariance: tf.Tensor; gamma?: tf.Tensor; beta?: tf.Tensor },
  momentum: number,
  epsilon: number,
): T {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const { mean, variance } = tf.moments(x, axes, true);
  for (const [moving, value] of [[weights.movingMean, mean], [weights.movingVariance, variance]] as const) {
    if (moving instanceof tf.Variable) moving.assign(tf.sub(moving, tf.mul(tf.sub(moving, tf.reshape(value, moving.shape)), 1 - momentum)));
  }
  // Plain ops rather than tf.batchNorm, whose gradient mishandles statistics of rank 2.
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  const scaled = weights.gamma ? tf.mul(normed, tf.reshape(weights.gamma, mean.shape)) : normed;
  return (weights.beta ? tf.add(scaled, tf.reshape(weights.beta, mean.shape)) : scaled) as T;
}

export type RecurrentOutput<S extends boolean> = S extends true ? tf.Tensor3D : tf.Tensor2D;
/** `initialState`: h (and the lstm's c) to start from, default zeros (Keras's initial_state); `mask` [B, T] (1 real, 0 padding) and `zeroMasked`: the interpreter's padding mask (kernels/recurrent.ts). */
export type RecurrentOptions<S extends boolean> = { sequences: S; reverse?: boolean; initialState?: tf.Tensor2D[]; mask?: tf.Tensor2D; zeroMasked?: boolean };
/** A layer's output and its final states: h, and the lstm's c (Keras's return_state). */
export type RecurrentResult<S extends boolean> = { output: RecurrentOutput<S>; states: tf.Tensor2D[] };

/**
 * A padding mask [B, T] (or an attention mask [B, T, S]) as float 1 / 0: 1
 * where every source (token ids, a mask input) is nonzero, as the
 * interpreter's masksOf (src/ir/mask.ts says which layers read one).
 */
export function paddingMask<T extends tf.Tensor>(...sources: T[]): T {
  return sources.map((s) => tf.cast(tf.notEqual(s, 0), 'float32')).reduce((a, b) => tf.mul(a, b)) as T;
}

/** `m` (1 / 0, broadcast) picks `next` where 1 and `previous` where 0, exactly, and differentiably. */
function blend<T extends tf.Tensor>(m: tf.Tensor, next: T, previous: T): T {
  return tf.add(tf.mul(m, next), tf.mul(tf.sub(1, m), previous)) as T;
}

/**
 * The loop of the interpreter's recurrent kernels (kernels/recurrent.ts), from
 * zero or the given initial h: x W + b for all steps in one matmul, then per step
 * h = cell(xw_t, h U, h). `reverse` reads t = T-1 down to 0 and stores each state
 * at its step's index (Keras's Bidirectional backward layer). The output is every
 * state [B, T, u] with `sequences`, else the last one [B, u]; the states, the last h.
 * With a `mask`, a padded step keeps the state (the cell gets the step's mask
 * [B, 1] to keep its own, the LSTM's c) and outputs it, or zeros with `zeroMasked`.
 */
export function recur<S extends boolean>(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  { sequences, reverse = false, initialState, mask, zeroMasked = false }: RecurrentOptions<S>,
  cell: (xw: tf.Tensor2D, hu: tf.Tensor2D, h: tf.Tensor2D, m?: tf.Tensor2D) => tf.Tensor2D,
): RecurrentResult<S> {
  const [batch, steps, features] = x.shape;
  const width = kernel.shape[1];
  const xw = tf.reshape(tf.fused.matMul({ a: tf.reshape(x, [batch * steps, features]), b: kernel, bias }), [batch, steps, width]);
  const inputs = tf.unstack(xw, 1) as tf.Tensor2D[];
  let h: tf.Tensor2D = initialState?.[0] ?? tf.zeros([batch, recurrentKernel.shape[0]]);
  const states: tf.Tensor2D[] = [];
  const masks = mask && (tf.unstack(tf.expandDims(mask, 2), 1) as tf.Tensor2D[]);
  for (let step = 0; step < steps; step++) {
    const t = reverse ? steps - 1 - step : step;
    const m = masks?.[t];
    const next = cell(inputs[t]!, tf.matMul(h, recurrentKernel), h, m);
    h = m ? blend(m, next, h) : next;
    states[t] = m && zeroMasked ? tf.mul(h, m) : h;
  }
  return { output: (sequences ? tf.stack(states, 1) : h) as RecurrentOutput<S>, states: [h] };
}

/** A layer with return_state as the generated code holds it: [output, ...final states] (bidirectional's: forward's, then backward's). */
export function withStates(...layers: RecurrentResult<boolean>[]): tf.Tensor[] {
  const output = layers.length === 1 ? layers[0]!.output : tf.concat(layers.map((l) => l.output), -1);
  return [output, ...layers.flatMap((l) => l.states)];
}

/** The interpreter's simpleRnn: s_t = f(x_t W + s_{t-1} U + b). */
export function simpleRnnLayer<S extends boolean>(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  options: RecurrentOptions<S> & { activation: (z: tf.Tensor2D) => tf.Tensor2D },
): RecurrentResult<S> {
  return recur(x, kernel, recurrentKernel, bias, options, (xw, hu) => options.activation(tf.add(xw, hu)));
}

/** The interpreter's lstm, Keras's gate order i, f, c, o: c = f c + i tanh(z_c), h = o tanh(c). */
export function lstmLayer<S extends boolean>(x: tf.Tensor3D, kernel: tf.Tensor2D, recurrentKernel: tf.Tensor2D, bias: tf.Tensor1D, options: RecurrentOptions<S>): RecurrentResult<S> {
  let c: tf.Tensor2D = options.initialState?.[1] ?? tf.zeros([x.shape[0], recurrentKernel.shape[0]]);
  const r = recur(x, kernel, recurrentKernel, bias, options, (xw, hu, _h, m) => {
    const [i, f, g, o] = tf.split(tf.add(xw, hu), 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const next: tf.Tensor2D = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    const h: tf.Tensor2D = tf.mul(tf.sigmoid(o), tf.tanh(next));
    c = m ? blend(m, next, c) : next;
    return h;
  });
  return { output: r.output, states: [...r.states, c] };
}

/**
 * The interpreter's gru, Keras's gates z, r, h. With reset_after the bias is
 * [2, 3u], the input bias then the recurrent bias: a = x W + b_x,
 * e = h U + b_h, h~ = tanh(a_h + r e_h); without it one bias [3u] in a and
 * h~ = tanh(a_h + (r h) U_h). Then h = z h + (1 - z) h~.
 */
export function gruLayer<S extends boolean>(
  x: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D | tf.Tensor2D,
  options: RecurrentOptions<S> & { resetAfter: boolean },
): RecurrentResult<S> {
  const units = recurrentKernel.shape[0];
  const [inputBias, recurrentBias] = options.resetAfter ? (tf.unstack(bias) as [tf.Tensor1D, tf.Tensor1D]) : [bias as tf.Tensor1D, tf.zeros([3 * units])];
  const candidateKernel = tf.slice(recurrentKernel, [0, 2 * units], [units, units]);
  return recur(x, kernel, recurrentKernel, inputBias, options, (xw, hu, h) => {
    const [az, ar, ah] = tf.split(xw, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [ez, er, eh] = tf.split(tf.add(hu, recurrentBias), 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const z = tf.sigmoid(tf.add(az, ez));
    const r = tf.sigmoid(tf.add(ar, er));
    const candidate = tf.tanh(tf.add(ah, options.resetAfter ? tf.mul(r, eh) : tf.matMul(tf.mul(r, h), candidateKernel)));
    return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
  });
}

/** The interpreter's AttentionMask (kernels/attention.ts) as 1 / 0 tensors: the query's padding [B, T], the value's and key's [B, S], a [T, S] `mask =` [B, T, S]. */
export type AttentionMask = { query?: tf.Tensor2D; key?: tf.Tensor2D; pairs?: tf.Tensor3D };

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
  { heads, keyDim, valueDim, causal, mask = {} }: { heads: number; keyDim: number; valueDim: number; causal: boolean; mask?: AttentionMask },
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
  // What each query step sees, 1 / 0, broadcast to [B, H, T, S]; hidden scores become -1e9, as Keras's masked softmax.
  const parts: tf.Tensor[] = [];
  if (causal) parts.push(tf.linalg.bandPart(tf.ones([T, S]), -1, 0));
  if (mask.query) parts.push(tf.reshape(mask.query, [batch, 1, T, 1]));
  if (mask.key) parts.push(tf.reshape(mask.key, [batch, 1, 1, S]));
  if (mask.pairs) parts.push(tf.reshape(mask.pairs, [batch, 1, T, S]));
  if (parts.length > 0) scores = blend(parts.reduce((a, b) => tf.mul(a, b)), scores, tf.fill(scores.shape, -1e9));
  const context = tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]); // [B, T, H, V]
  const out = tf.fused.matMul({ a: tf.reshape(context, [-1, heads * valueDim]), b: w.outputKernel, bias: w.outputBias });
  return tf.reshape(out, [batch, T, w.outputKernel.shape[1]]);
}

/**
 * The interpreter's dropout in training (kernels/elementwise.ts): unit i, in
 * row-major order, is zeroed when the stream's i-th uniform is below `rate`,
 * the others are scaled by 1 / (1 - rate); the same stream gives the same mask.
 */
export function applyDropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng): T {
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < rate ? 0 : scale;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

// ---------------------------------------------------------------- training

/** A generated module's train section: src/train/config.ts's TrainConfig without its source spans. */
export type TrainingConfig = {
  /** The section's data source and its settings, e.g. { source: 'mnist', train: 8000, test: 2000 }. */
  readonly data: { readonly source: string; readonly [setting: string]: string | number };
  readonly loss: LossName;
  readonly optimizer: OptimizerSpec;
  readonly epochs: number;
  readonly batch: number;
  /** L2 factor: the loss gains weightDecay * sum(w^2) over every kernel. */
  readonly weightDecay: number;
  /** Seeds the shuffling and dropout; `dlc train` also initialises with it (createWeights(seed)). */
  readonly seed: number;
};

/**
 * Examples: `x` holds n inputs and `y` their targets, batch first, as tensors
 * or as flat row-major arrays (dlc's loadData gives these). Targets are what
 * the loss compares with the output: one-hot rows for categorical
 * crossentropy, class ids for sparse, 0 or 1 for binary, values for mse.
 */
export type TrainingData = { readonly x: tf.Tensor | Float32Array | Int32Array; readonly y: tf.Tensor | Float32Array };

/** What train may change of the train section, and a callback after each epoch. */
export type TrainOptions = {
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Held-out examples, evaluated after each epoch (testLoss, testAccuracy); null or absent: none. */
  validation?: TrainingData | null;
  onEpoch?(metrics: EpochMetrics): void;
};

/** One epoch, as `dlc train` reports it: means over the epoch's batches, the data loss without the weight decay term. */
export type EpochMetrics = {
  epoch: number;
  loss: number;
  /** Null for mse, which has no accuracy. */
  accuracy: number | null;
  /** Null without validation data. */
  testLoss: number | null;
  testAccuracy: number | null;
  seconds: number;
};

export type Trained<W> = {
  /** New tf.Variables; the weights passed in are unchanged. */
  weights: W;
  history: EpochMetrics[];
  /** Set when a batch's loss was NaN or infinite: training stopped before that batch's update. */
  stopped?: string;
};

export type Evaluation = { loss: number; accuracy: number | null };

/** What fit and evaluateModel know of a model: the generated module's `trainable`. */
export type Trainable<W> = {
  config: TrainingConfig;
  specs: WeightSpecs;
  /** Per-example shapes of the input and of the targets. */
  input: { shape: readonly number[]; dtype: 'float32' | 'int32' };
  targetShape: readonly number[];
  /**
   * The model's layers on one batch: its predictions and, when the loss takes
   * them (a softmax or sigmoid output with a crossentropy, Keras's from_logits),
   * the logits beneath. `training`: dropout on, drawing from this stream.
   */
  forward(weights: W, x: tf.Tensor, training: Rng | null): { predictions: tf.Tensor; logits?: tf.Tensor };
};

/**
 * `dlc train`'s loop (src/train/train.ts) on tf.Variables. Each epoch visits
 * the examples in a seeded order, in batches; each batch runs forward with
 * dropout on, the loss (from the logits when the model gives them), its
 * gradients (tf.variableGrads) and one optimizer step; then `validation` is
 * evaluated. For the same seed, examples and batch size the order and the
 * dropout masks are the interpreter's. A batch whose loss is NaN or infinite
 * stops the run before its update.
 */
export async function fit<W extends Readonly<Record<string, tf.Tensor>>>(model: Trainable<W>, weights: W, data: TrainingData, options: TrainOptions = {}): Promise<Trained<W>> {
  const { loss: lossName, optimizer } = model.config;
  const epochs = options.epochs ?? model.config.epochs;
  const batch = options.batch ?? model.config.batch;
  const rng = createRng(options.seed ?? model.config.seed);
  const names = Object.keys(model.specs);
  for (const [name, { shape }] of Object.entries(model.specs)) {
    const w: unknown = weights[name];
    if (!(w instanceof tf.Tensor) || w.shape.join() !== shape.join()) throw new Error(`train: weight "${name}" must be a tf.Tensor of shape ${showShape(shape)}`);
  }
  const owned: { dispose(): void }[] = []; // freed at the end; the variables are returned
  const variables = names.map((name) => tf.variable(weights[name] as tf.Tensor)); // each checked above
  const current = Object.fromEntries(names.map((name, i) => [name, variables[i]])) as unknown as W;
  try {
    const { x, y } = asExamples(model, data);
    owned.push(x, y);
    const validation = options.validation ? asExamples(model, options.validation) : null;
    if (validation) owned.push(validation.x, validation.y);
    // Gradients and updates for the trained weights; layer state moves inside the forward (batchNormTraining).
    const trained = names.flatMap((name, i) => (model.specs[name]!.state ? [] : [{ name, variable: variables[i]! }]));
    const update = createUpdater({ ...optimizer, lr: options.lr ?? optimizer.lr }, model.config.weightDecay, trained.map((t) => t.name), trained.map((t) => t.variable));
    owned.push(update);
    const n = x.shape[0];
    const batches = Math.ceil(n / batch);
    const history: EpochMetrics[] = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      const order = shuffled(n, rng.child(`epoch ${epoch}`));
      let lossSum = 0, accSum = 0, seen = 0;
      for (let b = 0; b < batches; b++) {
        const ids = Int32Array.from(order.subarray(b * batch, Math.min(n, (b + 1) * batch)));
        // The interpreter seeds the batch's forward with this stream; each dropout layer draws from its child named after it.
        const dropout = rng.child(`dropout ${epoch}.${b}`);
        const step = tf.tidy(() => {
          const indices = tf.tensor1d(ids, 'int32');
          const [xb, yb] = [tf.gather(x, indices), tf.gather(y, indices)];
          let predictions: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const out = model.forward(current, xb, dropout);
            predictions = tf.keep(out.predictions);
            return out.logits ? lossFromLogits(lossName, out.logits, yb) : lossOf(lossName, out.predictions, yb);
          }, trained.map((t) => t.variable));
          const hits = accuracyOf(lossName, predictions!, yb);
          predictions!.dispose();
          return { value, correct: hits?.correct ?? tf.scalar(0), count: hits?.count ?? 1, grads: trained.map(({ variable }) => grads[variable.name] ?? tf.zerosLike(variable)) };
        });
        let loss: number, accuracy: number;
        try {
          loss = (await step.value.data())[0] ?? NaN;
          accuracy = ((await step.correct.data())[0] ?? 0) / step.count;
          if (!Number.isFinite(loss)) return { weights: current, history, stopped: `epoch ${epoch}, batch ${b + 1} of ${batches}: the loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'}` };
          update(step.grads);
        } finally {
          tf.dispose(step);
        }
        lossSum += loss * ids.length;
        accSum += accuracy * ids.length;
        seen += ids.length;
      }
      const test = validation ? await evaluateExamples(model, current, validation.x, validation.y, 256) : null;
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / seen,
        accuracy: lossName === 'mse' ? null : accSum / seen,
        testLoss: test?.loss ?? null,
        testAccuracy: test?.accuracy ?? null,
        seconds: (performance.now() - start) / 1000,
      };
      history.push(metrics);
      options.onEpoch?.(metrics);
    }
    return { weights: current, history };
  } catch (e) {
    tf.dispose(variables);
    throw e;
  } finally {
    owned.forEach((o) => o.dispose());
  }
}

/** Mean loss and accuracy at inference (dropout off), in chunks of `batch`, as `dlc eval` computes them (from the predictions). */
export async function evaluateModel<W>(model: Trainable<W>, weights: W, data: TrainingData, batch = 256): Promise<Evaluation> {
  const { x, y } = asExamples(model, data);
  try {
    return await evaluateExamples(model, weights, x, y, batch);
  } finally {
    tf.dispose([x, y]);
  }
}

async function evaluateExamples<W>(model: Trainable<W>, weights: W, x: tf.Tensor, y: tf.Tensor, batch: number): Promise<Evaluation> {
  const n = x.shape[0];
  const lossName = model.config.loss;
  let lossSum = 0, accSum = 0;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const { loss, correct, count } = tf.tidy(() => {
      const [xb, yb] = [tf.slice(x, start, size), tf.slice(y, start, size)];
      const { predictions } = model.forward(weights, xb, null);
      const hits = accuracyOf(lossName, predictions, yb);
      return { loss: lossOf(lossName, predictions, yb), correct: hits?.correct ?? tf.scalar(0), count: hits?.count ?? 1 };
    });
    lossSum += ((await loss.data())[0] ?? NaN) * size;
    accSum += (((await correct.data())[0] ?? 0) / count) * size;
    tf.dispose([loss, correct]);
  }
  return { loss: lossSum / n, accuracy: lossName === 'mse' ? null : accSum / n };
}

/** The examples as tensors [n, ...shape] of the model's input dtype and float32 targets; new tensors, the caller's are kept. */
export function asExamples<W>(model: Trainable<W>, data: TrainingData): { x: tf.Tensor; y: tf.Tensor } {
  const batchOf = (what: string, values: tf.Tensor | Float32Array | Int32Array, shape: readonly number[], dtype: 'float32' | 'int32') => {
    const size = values instanceof tf.Tensor ? values.size : values.length;
    const n = size / shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n === 0) throw new Error(`training data: ${what} holds ${size} values, not a whole number of examples of shape [${shape.join(', ')}]`);
    return tf.tidy(() => {
      const t = values instanceof tf.Tensor ? tf.reshape(values, [n, ...shape]) : tf.tensor(values, [n, ...shape], dtype);
      return t.dtype === dtype ? t : tf.cast(t, dtype);
    });
  };
  const x = batchOf('x', data.x, model.input.shape, model.input.dtype);
  const y = batchOf('y', data.y, model.targetShape, 'float32');
  if (x.shape[0] !== y.shape[0]) {
    tf.dispose([x, y]);
    throw new Error(`training data: x holds ${x.shape[0]} examples but y holds targets for ${y.shape[0]}`);
  }
  return { x, y };
}

/**
 * The optimizers of runtime/optimizers.ts (Keras's update rules, its state,
 * step size and weight decay) on tf.Variables: the elementwise update as tf
 * ops, where the interpreter's (src/train/optimizers.ts) loops over arrays.
 */
export function createUpdater(spec: OptimizerSpec, weightDecay: number, names: readonly string[], weights: readonly tf.Variable[]): ((grads: tf.Tensor[]) => void) & { dispose(): void } {
  const count = slotCount(spec);
  const slots = weights.map((w) => Array.from({ length: count }, () => tf.tidy(() => tf.variable(tf.zerosLike(w), false))));
  let t = 0;
  const step = (grads: tf.Tensor[]) => {
    t++;
    const lr = stepSize(spec, t);
    tf.tidy(() =>
      weights.forEach((w, i) => {
        // names, grads and slots run parallel to weights; each weight has slotCount(spec) slots.
        const decay = decayFactor(names[i]!, weightDecay);
        const g = decay > 0 ? tf.add(grads[i]!, tf.mul(w, decay)) : grads[i]!;
        if (spec.kind === 'sgd' && count === 0) w.assign(tf.sub(w, tf.mul(g, lr)));
        else if (spec.kind === 'sgd') {
          const v = slots[i]![0]!;
          v.assign(tf.sub(tf.mul(v, spec.momentum), tf.mul(g, lr)));
          w.assign(tf.add(w, v));
        } else {
          const [m, v] = slots[i] as [tf.Variable, tf.Variable];
          m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - spec.beta1)));
          v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - spec.beta2)));
          w.assign(tf.sub(w, tf.div(tf.mul(m, lr), tf.add(tf.sqrt(v), spec.epsilon))));
        }
      }),
    );
  };
  return Object.assign(step, { dispose: () => tf.dispose(slots.flat()) });
}

/** Keras's crossentropies clip probabilities to [1e-7, 1 - 1e-7] as float32 holds them; no gradient flows through a clipped value. */
function clipProbabilities(p: tf.Tensor): tf.Tensor {
  return tf.clipByValue(p, Math.fround(1e-7), Math.fround(1 - 1e-7));
}

/**
 * The interpreter's losses of probabilities (losses.ts, lossAndGrad; Keras's),
 * means over the batch, q = clipProbabilities(p), rows along the last axis:
 *   mse                       mean of (p - y)^2
 *   binary_crossentropy       mean of -(y log q + (1 - y) log(1 - q))
 *   categorical_crossentropy  mean over rows of -sum y log clip(p / sum p)
 *   sparse_...                mean over rows of log(sum q) - log q_id   (y: class ids)
 */
export function lossOf(loss: LossName, p: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    switch (loss) {
      case 'mse':
        return tf.mean<tf.Scalar>(tf.squaredDifference(p, y));
      case 'binary_crossentropy': {
        const q = clipProbabilities(p);
        return tf.neg(tf.mean<tf.Scalar>(tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q))))));
      }
      case 'categorical_crossentropy': {
        const q = clipProbabilities(tf.div(p, tf.sum(p, -1, true)));
        return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(y, tf.log(q)), -1)));
      }
      case 'sparse_categorical_crossentropy': {
        const q = clipProbabilities(p);
        const picked = tf.sum(tf.mul(q, oneHotIds(y, p)), -1);
        return tf.mean<tf.Scalar>(tf.sub(tf.log(tf.sum(q, -1)), tf.log(picked)));
      }
    }
  });
}

/**
 * The interpreter's losses from the logits z of a softmax or sigmoid output
 * (losses.ts, lossAndGradFromLogits; Keras's from_logits), stable and unclipped:
 *   binary       mean of softplus(z) - z y                   (gradient sigmoid(z) - y)
 *   categorical  mean over rows of -sum y logSoftmax(z)      (gradient softmax(z) sum y - y)
 *   sparse       mean over rows of -logSoftmax(z)_id
 */
export function lossFromLogits(loss: LossName, z: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    switch (loss) {
      case 'binary_crossentropy':
        return tf.mean<tf.Scalar>(tf.sub(tf.softplus(z), tf.mul(z, y)));
      case 'categorical_crossentropy':
        return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(y, tf.logSoftmax(z)), -1)));
      case 'sparse_categorical_crossentropy':
        return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(oneHotIds(y, z), tf.logSoftmax(z)), -1)));
      default:
        throw new Error(`loss '${loss}' has no logits form`);
    }
  });
}

/**
 * Correct predictions out of `count`, as the interpreter's accuracy counts
 * them: per row, the argmax matches the target's (categorical) or the class id
 * (sparse); for binary, p > 0.5 matches y > 0.5 element by element. Null for mse.
 */
export function accuracyOf(loss: LossName, p: tf.Tensor, y: tf.Tensor): { correct: tf.Scalar; count: number } | null {
  if (loss === 'mse') return null;
  const hits = tf.tidy(() =>
    loss === 'binary_crossentropy'
      ? tf.equal(tf.greater(p, 0.5), tf.greater(y, 0.5))
      : tf.equal(tf.argMax(p, -1), loss === 'sparse_categorical_crossentropy' ? tf.reshape(tf.cast(y, 'int32'), p.shape.slice(0, -1)) : tf.argMax(y, -1)),
  );
  const correct = tf.sum<tf.Scalar>(tf.cast(hits, 'float32'));
  const count = hits.size;
  tf.dispose(hits);
  return { correct, count };
}

/** Class ids y, one per row of `like`, as float32 one-hot rows of its width. */
function oneHotIds(y: tf.Tensor, like: tf.Tensor): tf.Tensor {
  const ids = tf.reshape(tf.cast(y, 'int32'), like.shape.slice(0, -1));
  return tf.oneHot(ids, like.shape[like.shape.length - 1]!, 1, 0, 'float32');
}
