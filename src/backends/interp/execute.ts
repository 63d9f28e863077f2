/**
 * The interpreter: runs a typed graph node by node on float32 tensors, the
 * reference semantics of the language. A table maps every op to its kernel
 * call, each row reading its op's resolved attributes (`Call.a`); TypeScript
 * reports an op without a row. In training mode layers with state report its
 * new values (`Call.updateState`), which a run returns and does not apply.
 *
 * Memory is planned, not allocated: for each batch size the graph runs at,
 * plan.ts assigns every activation a range of one arena (reused once the
 * activation is dead), and each kernel writes its output into its range
 * (`Call.out`); kernels take their working buffers from the heap's scratch
 * stack (wasm/heap.ts). The arena lives in the WebAssembly kernel's memory
 * when it is loaded, so the matrix products read and write activations in
 * place. Outputs are copied out of the arena at the end of a run. `stats`
 * records time per layer, the peak of live activations, and the plan's size
 * next to one buffer per activation.
 */
import { graphVars, paramsOf, specialize } from '../../ir/infer.js';
import { MASK_READERS, maskReads } from '../../ir/mask.js';
import type { ConstTensor, Graph, Node, NodeOf } from '../../ir/types.js';
import { activationOpTable, type ActivationOpName } from '../../ops/activations.js';
import { denseKernel } from '../../ops/dense.js';
import type { AttrsOf, OpName } from '../../ops/index.js';
import type { PoolAttrs } from '../../ops/pool.js';
import { DIRECTIONS, STATES, type RecurrentAttrs } from '../../ops/recurrent.js';
import { partRanges } from '../../ops/result.js';
import * as K from './kernels/index.js';
import { dimSizes, InputError } from './io.js';
import { OpError } from '../../ops/op.js';
import type { MemoryPlan } from './plan.js';
import { checkMemory, fusedAddRelus, fusedPools, planMemory, SEGMENT_BYTES } from './plan.js';
import { createRng, Rng } from '../../runtime/random.js';
import { copyOf, isFloat32Array, outputBuffer, sizeOf, Tensor } from './tensor.js';
import { withScratch } from './wasm/heap.js';
import { heap, kernelBackend, PackedWeights, withPackedWeights } from './wasm/index.js';
import { bindWeights, type Weights } from './weights.js';
import { weightName } from '../../weights/slots.js';
import { internal, messages, UserError } from '../../diagnostics.js';

export interface RunOptions {
  /** Training mode: dropout drops units (seeded). Default: inference. */
  training?: boolean;
  seed?: number;
  stats?: boolean;
  /** Default true: activations live in the planned arena. False: every kernel allocates its output (the reference the plan is tested against). */
  arena?: boolean;
  /**
   * A previous run's outputs, which the caller is done with: each output is
   * written into the array of the same name there when its length matches
   * (else copied out as without), and returned in it, so that a server's runs
   * after the first allocate no output buffer, as ONNX Runtime's pre-allocated
   * outputs and PyTorch's `out=` do. A fresh buffer costs a page fault per
   * 4 KiB page the first time it is written: GPT-2's 25.7 MB of logits took
   * 70-90 ms a run to copy out on a VM whose faults cost ~11 µs (3 ms warm).
   */
  into?: Record<string, Tensor>;
}

export interface LayerTiming {
  name: string;
  op: string;
  ms: number;
  /** The layer whose kernel computed this one's output too (a max pool run inside its convolution, a relu inside its add); its time counts there. */
  computedIn?: string;
}

export interface RunStats {
  layers: LayerTiming[];
  /** Largest number of bytes held by live activations at once. */
  peakActivationBytes: number;
  /**
   * The arena this run used (plannedBytes), what one buffer per activation
   * would take, and the first and last layer of each stretch that ran an
   * example at a time (plan.ts's segments).
   */
  plan: { plannedBytes: number; naiveBytes: number; byExample: [first: string, last: string][] };
  totalMs: number;
}

/** What a kernel sees of its node: `a` is its op's resolved attribute record. */
export interface Call<Op extends OpName = OpName> {
  node: NodeOf<Op>;
  a: AttrsOf<Op>;
  inputs: Tensor[];
  /** The weight `<layer>.<name>`, or a fixed kernel from the source. */
  param(name: string): Tensor;
  optionalParam(name: string): Tensor | null;
  training: boolean;
  rng: Rng;
  /** The planned buffer for the node's output, when it has one (plan.ts). */
  out?: Float32Array;
  /**
   * In training mode: the layer's state tensor `name` (ParamSpec.state, e.g.
   * batchnorm's moving_mean) takes a new value, which `write` puts in the
   * buffer it is given. The run reports the new values; the caller decides
   * whether to keep them.
   */
  updateState?(name: string, write: (into: Float32Array) => void): void;
  /** A training step keeps what its backward needs (autodiff's tape); a plain run does not. */
  keepTrace?: boolean;
  /** For the ops that read masks (ir/mask.ts's MASK_READERS): each input's padding mask [B*T], 1 for a real step, 0 for padding; null where unmasked. */
  masks: (Float32Array | null)[];
  /** attention's `mask =` value, as given (nonzero = attend). */
  maskArg: Tensor | null;
}

/**
 * The masks a node's kernel reads, from the values of the model inputs they
 * come from (ir/mask.ts): a padding mask is 1 where each source is nonzero.
 */
export function masksOf(node: Node, valueOf: (n: Node) => Tensor): Pick<Call, 'masks' | 'maskArg'> {
  if (!MASK_READERS.has(node.op)) return { masks: [], maskArg: null };
  return { masks: node.inputs.map((i) => (i.mask ? allNonzero(i.mask.map(valueOf)) : null)), maskArg: node.maskArg ? valueOf(node.maskArg) : null };
}

/** 1 where every tensor (same size) is nonzero, else 0. */
function allNonzero(ts: Tensor[]): Float32Array {
  const flags = new Float32Array(ts[0].data.length).fill(1);
  for (const t of ts) t.data.forEach((v, i) => v === 0 && (flags[i] = 0));
  return flags;
}

/** What multi-head attention hides (kernels/attention.ts's AttentionMask) from its inputs' padding masks and its `mask =`, as Keras builds it; undefined when nothing is masked. */
export function attentionMask(c: Pick<Call<'attention'>, 'a' | 'masks' | 'maskArg'>): K.AttentionMask | undefined {
  const [query = null, value = query, key = value] = c.masks;
  const explicit = c.maskArg && allNonzero([c.maskArg]);
  const keys = [value, key, c.a.maskArg === 'keys' ? explicit : null].filter((m): m is Float32Array => m !== null);
  const pairs = c.a.maskArg === 'pairs' ? explicit : null;
  if (!query && keys.length === 0 && !pairs) return undefined;
  return { query, key: keys.length === 0 ? null : keys.reduce((a, b) => a.map((x, i) => x * b[i])), pairs };
}

/** One kernel per op, typed by the op's attributes. */
export type KernelTable = { [Op in OpName]: (c: Call<Op>) => Tensor };

/** Runs a node's kernel: the one place the table is indexed by a run-time op name. */
export const runKernel = (c: Call): Tensor => (KERNELS[c.node.op] as (c: Call) => Tensor)(c);

/** Runs rnn's, lstm's or gru's kernel (alone, or one direction of bidirectional) with the params under `prefix`. */
function recurrent(c: Call, a: RecurrentAttrs, prefix: string, reverse: boolean, out?: Float32Array, states: Pick<K.RecurrentOptions, 'initial' | 'final'> = {}): Tensor {
  const [x] = c.inputs;
  const p = (n: string) => c.param(`${prefix}${n}`);
  const o = { sequences: a.sequences, reverse, ...states, ...recurrentMask(c, a) };
  if (a.cell === 'lstm') return K.lstm(x, p('kernel'), p('recurrent_kernel'), p('bias'), o, out);
  if (a.cell === 'gru') return K.gru(x, p('kernel'), p('recurrent_kernel'), p('bias'), { ...o, resetAfter: a.resetAfter }, out);
  return K.simpleRnn(x, p('kernel'), p('recurrent_kernel'), p('bias'), { ...o, activation: a.activation }, out);
}

/**
 * The initial states of direction `d` (the node's inputs after x, STATES per
 * direction) and, with return_state, the parts of the tuple `packed` its
 * final states go to (result.ts's layout: output, then each direction's states).
 */
export function stateBuffers(c: Call, a: RecurrentAttrs, d: number, packed?: Float32Array): Pick<K.RecurrentOptions, 'initial' | 'final'> {
  const n = STATES[a.cell];
  const initial = a.initialState ? c.inputs.slice(1 + d * n, 1 + (d + 1) * n).map((t) => t.data) : undefined;
  if (!packed) return { initial };
  const ranges = partRanges(c.node.type, c.inputs[0].shape[0]).slice(1 + d * n, 1 + (d + 1) * n);
  return { initial, final: ranges.map(([at, length]) => packed.subarray(at, at + length)) };
}

/** A tuple's packed buffer (result.ts) with its output part, or undefined without return_state. */
function tupleBuffer(c: Call, a: RecurrentAttrs): { packed: Float32Array; output: Float32Array; tensor: Tensor } | undefined {
  if (!a.returnState) return undefined;
  const B = c.inputs[0].shape[0];
  const size = sizeOf([B, ...(c.node.type.shape.slice(1) as number[])]);
  const packed = outputBuffer(c.out, size, c.node.op);
  const [at, length] = partRanges(c.node.type, B)[0];
  return { packed, output: packed.subarray(at, at + length), tensor: { shape: [B, size / B], data: packed } };
}

/** rnn, lstm, gru: the output, or the tuple of it and the final states. */
function recurrentLayer(c: Call<'rnn' | 'lstm' | 'gru'>): Tensor {
  const tuple = tupleBuffer(c, c.a);
  const y = recurrent(c, c.a, '', false, tuple?.output ?? c.out, stateBuffers(c, c.a, 0, tuple?.packed));
  return tuple?.tensor ?? y;
}

/** A recurrent layer's padding mask; inside bidirectional with sequences a padded step outputs zeros (Keras's Bidirectional forces zero_output_for_mask). */
export function recurrentMask(c: Pick<Call, 'node' | 'masks'>, a: RecurrentAttrs): { mask?: Float32Array; zeroMasked?: boolean } {
  const mask = c.masks[0];
  return mask ? { mask, zeroMasked: c.node.op === 'bidirectional' && a.sequences } : {};
}

const pair = (xs: number[]) => xs as [number, number];
/** The node's output shape for this batch. */
const outShape = (c: Call) => [c.inputs[0].shape[0], ...(c.node.type.shape.slice(1) as number[])];

export const KERNELS: KernelTable = {
  input: () => {
    throw internal('input nodes are bound, not executed');
  },
  constant: (c) => {
    const v = c.a.value;
    const data = c.out ?? new Float32Array(v.data.length);
    data.set(v.data);
    return { shape: [1, ...v.shape], data };
  },
  // The kernels apply a fused activation in the same pass as the bias (see matmulInto).
  dense: (c) => dense(c),
  fused_dense: (c) => dense(c),
  conv1d: (c) => conv(c),
  conv2d: (c) => conv(c),
  fused_conv1d: (c) => conv(c),
  fused_conv2d: (c) => conv(c),
  // One kernel per channel (depthwise.ts); separable adds the 1x1 conv to `filters` after it.
  depthwise_conv2d: (c) => K.depthwiseConv2d(c.inputs[0], c.param('depthwise_kernel'), c.optionalParam('bias'), depthwiseOptions(c.a), c.out),
  fused_depthwise_conv2d: (c) => K.depthwiseConv2d(c.inputs[0], c.param('depthwise_kernel'), c.optionalParam('bias'), depthwiseOptions(c.a), c.out),
  separable_conv2d: (c) => separable(c),
  fused_separable_conv2d: (c) => separable(c),
  conv1d_transpose: (c) => K.conv1dTranspose(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), convTranspose1d(c.a), c.out),
  conv2d_transpose: (c) => K.conv2dTranspose(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), convTranspose2d(c.a), c.out),
  maxpool: (c) => pool(c.inputs[0], c.a, c.out),
  avgpool: (c) => pool(c.inputs[0], c.a, c.out),
  global_maxpool: (c) => K.globalMaxPool(c.inputs[0], c.out),
  global_avgpool: (c) => K.globalAvgPool(c.inputs[0], c.out, c.masks[0] ?? undefined),
  ...activationOpTable((c: Call<ActivationOpName>) => K.activate(c.inputs[0], c.a.activation, c.out, c.a.args)),
  dropout: (c) => (c.training ? K.dropout(c.inputs[0], c.a.rate, c.rng, c.out) : c.inputs[0]),
  // flatten and reshape keep the data; only the per-example shape changes.
  flatten: (c) => ({ shape: [c.inputs[0].shape[0], ...c.a.shape], data: c.inputs[0].data }),
  reshape: (c) => ({ shape: [c.inputs[0].shape[0], ...c.a.shape], data: c.inputs[0].data }),
  // The input seen through a window: zeros around it, or its edges cut off.
  zero_padding: (c) => K.shiftCopy(c.inputs[0], c.a.out, c.a.margins.map(([before]) => -before), c.out),
  cropping: (c) => K.shiftCopy(c.inputs[0], c.a.out, c.a.margins.map(([before]) => before), c.out),
  upsampling: (c) => (c.a.interpolation === 'bilinear' ? K.upsampleBilinear : K.upsampleNearest)(c.inputs[0], c.a.size, c.out),
  // One axis as [outer, n, inner] (kernels/tensor.ts): a run of it copied, or summed over.
  take: (c) => K.sliceAxis(c.inputs[0], c.a, c.a.start, 1, outShape(c), c.out),
  slice: (c) => K.sliceAxis(c.inputs[0], c.a, c.a.start, c.a.length, outShape(c), c.out),
  mean: (c) => K.reduceAxis(c.inputs[0], c.a, 1 / c.a.n, outShape(c), c.out),
  sum: (c) => K.reduceAxis(c.inputs[0], c.a, 1, outShape(c), c.out),
  permute: (c) => K.permute(c.inputs[0], c.a.perm, c.a.in, c.out),
  // A constant input holds one example: add repeats it over the batch.
  add: (c) => K.add(c.inputs, c.out),
  concat: (c) => K.concat(c.inputs, c.a.axis, c.out), // both count the batch as axis 0
  // Broadcasting over dimensions of 1, the batch too (a constant holds one example).
  multiply: (c) => K.merge('multiply', c.inputs, c.out),
  subtract: (c) => K.merge('subtract', c.inputs, c.out),
  maximum: (c) => K.merge('maximum', c.inputs, c.out),
  minimum: (c) => K.merge('minimum', c.inputs, c.out),
  average: (c) => K.merge('average', c.inputs, c.out),
  embedding: (c) => {
    // Token ids are data: an id outside the vocabulary is the user's input error.
    try {
      return K.embedding(c.inputs[0], c.param('embeddings'), c.out);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new InputError(messages.layerInput(c.node.inputs[0].name, c.node.name, (e as Error).message));
    }
  },
  positional: (c) => K.addPositional(c.inputs[0], c.a.kind === 'learned' ? c.param('embeddings') : sinusoidal(c.a.steps, c.a.width), c.out),
  rnn: (c) => recurrentLayer(c),
  lstm: (c) => recurrentLayer(c),
  gru: (c) => recurrentLayer(c),
  bidirectional: (c) => {
    // Each direction's outputs in scratch, joined into the output (with return_state, the tuple's first part).
    const a = c.a.layer;
    const tuple = tupleBuffer(c, a);
    const half = (tuple ? tuple.output.length : sizeOf([c.inputs[0].shape[0], ...(c.node.type.shape.slice(1) as number[])])) / 2;
    return withScratch(heap(), (take) => {
      const [forward, backward] = DIRECTIONS.map((dir, i) => recurrent(c, a, `${dir}.`, i === 1, take(half), stateBuffers(c, a, i, tuple?.packed)));
      const y = K.concat([forward, backward], -1, tuple?.output ?? c.out);
      return tuple?.tensor ?? y;
    });
  },
  // One part of a tuple, copied out of its packed buffer (result.ts's layout).
  result: (c) => {
    const B = c.inputs[0].shape[0];
    const [at, length] = partRanges(c.node.inputs[0].type, B)[c.a.index];
    const data = outputBuffer(c.out, length, 'result');
    data.set(c.inputs[0].data.subarray(at, at + length));
    return { shape: [B, ...(c.a.part.shape.slice(1) as number[])], data };
  },
  repeat_vector: (c) => K.repeatVector(c.inputs[0], c.a.n, c.out),
  attention: (c) => {
    const [query, value = query, key = value] = c.inputs;
    return K.multiHeadAttention(query, value, key, attentionWeights(c.param), attentionOptions(c), c.out);
  },
  layernorm: (c) => K.layerNorm(c.inputs[0], c.param('gamma'), c.param('beta'), c.a.epsilon, c.out),
  // Batch statistics (and moving-average updates of the state) in training; the moving statistics at inference.
  batchnorm: (c) =>
    c.training
      ? batchNormTrained(c).output
      : K.batchNormInference(c.inputs[0], c.a, c.optionalParam('gamma'), c.optionalParam('beta'), c.param('moving_mean'), c.param('moving_variance'), c.out),
};

/** dense, plain or fused; a tied head reads its embedding's table as the kernel, transposed. */
function dense(c: Call<'dense' | 'fused_dense'>): Tensor {
  const kernel = denseKernel(c.a);
  return K.dense(c.inputs[0], c.param(kernel.name), c.optionalParam('bias'), c.a.activation, c.out, kernel.transposed);
}

/**
 * batchnorm in training: normalises with the batch's statistics and reports
 * the updated moving ones. `xhat`: where to keep the normalised values when
 * c.keepTrace asks for them (default: a new buffer).
 */
export function batchNormTrained(c: Call<'batchnorm'>, xhat?: Float32Array): { output: Tensor; saved: K.BatchNormTrace | undefined } {
  const r = K.batchNormTraining(c.inputs[0], c.a, c.optionalParam('gamma'), c.optionalParam('beta'), c.out, c.keepTrace ? (xhat ?? true) : false);
  for (const [name, batch] of [['moving_mean', r.mean], ['moving_variance', r.variance]] as const) {
    c.updateState?.(name, (into) => K.movingAverageInto(into, c.param(name).data, batch, c.a.momentum));
  }
  return { output: r.y, saved: r.trace };
}

/** Attention's eight projection weights, by the names its op gives them. */
export function attentionWeights<T>(p: (name: string) => T) {
  return {
    queryKernel: p('query.kernel'), queryBias: p('query.bias'),
    keyKernel: p('key.kernel'), keyBias: p('key.bias'),
    valueKernel: p('value.kernel'), valueBias: p('value.bias'),
    outputKernel: p('output.kernel'), outputBias: p('output.bias'),
  };
}

export const attentionOptions = (c: Pick<Call<'attention'>, 'a' | 'masks' | 'maskArg'>) => ({ heads: c.a.H, keyDim: c.a.K, valueDim: c.a.V, causal: c.a.causal, mask: attentionMask(c) });

/** The kernels' options for a convolution (plain or fused). */
export function convOptions(a: AttrsOf<'conv2d'>) {
  return a.rank === 1
    ? { rank: 1 as const, stride: a.stride[0], dilation: a.dilation[0], padding: a.padding, activation: a.activation, groups: a.groups }
    : { rank: 2 as const, stride: pair(a.stride), dilation: pair(a.dilation), padding: a.padding, activation: a.activation, groups: a.groups };
}

/** The kernels' options for depthwise_conv2d and separable_conv2d (their depthwise step's window). */
export function depthwiseOptions(a: AttrsOf<'depthwise_conv2d'>) {
  return { stride: pair(a.stride), dilation: pair(a.dilation), padding: a.padding, activation: a.activation };
}

function separable(c: Call<'separable_conv2d' | 'fused_separable_conv2d'>): Tensor {
  return K.separableConv2d(c.inputs[0], c.param('depthwise_kernel'), c.param('pointwise_kernel'), c.optionalParam('bias'), depthwiseOptions(c.a), c.out);
}

/** A transposed convolution's geometry as its kernels take it (kernels/conv_transpose.ts). */
export function convTranspose2d(a: AttrsOf<'conv2d_transpose'>): K.ConvTransposeGeometry {
  return { stride: pair(a.stride), dilation: pair(a.dilation), out: pair(a.out), padBefore: pair(a.padBefore), activation: a.activation };
}
export function convTranspose1d(a: AttrsOf<'conv1d_transpose'>): K.ConvTranspose1dGeometry {
  return { stride: a.stride[0], dilation: a.dilation[0], out: a.out[0], padBefore: a.padBefore[0], activation: a.activation };
}

function conv(c: Call<'conv1d' | 'conv2d' | 'fused_conv1d' | 'fused_conv2d'>): Tensor {
  const o = convOptions(c.a);
  const args = [c.inputs[0], c.param('kernel'), c.optionalParam('bias')] as const;
  return o.rank === 1 ? K.conv1d(...args, o, c.out) : K.conv2d(...args, o, c.out);
}

/** The sinusoidal table of each size, computed once. */
const tables = new Map<string, Tensor>();
function sinusoidal(T: number, d: number): Tensor {
  const key = `${T}x${d}`;
  let table = tables.get(key);
  if (!table) tables.set(key, (table = K.sinusoidalTable(T, d)));
  return table;
}

/** The pool of convolution `node`'s output in one pass, into `out` (the pool's buffer), or null when the kernels do not run it so. */
function pooledConv(node: NodeOf<'conv2d'>, x: Tensor, params: Pick<Call, 'param' | 'optionalParam'>, out: Float32Array | undefined): Tensor | null {
  const o = convOptions(node.resolved as AttrsOf<'conv2d'>);
  if (o.rank !== 2) return null;
  return K.conv2dPooled(x, params.param('kernel'), params.optionalParam('bias'), o, out);
}

/** The kernels' options for a pool. */
export function poolOptions(a: PoolAttrs) {
  return a.rank === 1
    ? { rank: 1 as const, size: a.size[0], stride: a.stride[0], padding: a.padding }
    : { rank: 2 as const, size: pair(a.size), stride: pair(a.stride), padding: a.padding };
}

function pool(x: Tensor, a: PoolAttrs, out?: Float32Array): Tensor {
  const o = poolOptions(a);
  if (o.rank === 1) return (a.kind === 'max' ? K.maxPool1d : K.avgPool1d)(x, o, out);
  return (a.kind === 'max' ? K.maxPool2d : K.avgPool2d)(x, o, out);
}

/** One batch size's plan and the views of the arena it assigns. */
interface Arena {
  plan: MemoryPlan;
  views: Map<Node, Float32Array>;
}

/** Arenas kept per interpreter (batch sizes x training): evaluation runs at one batch and a last, smaller one. */
const MAX_ARENAS = 4;

/**
 * Layers run an example at a time (plan.ts's segments) with the WebAssembly
 * kernel on one thread: MobileNetV2 at batch 8, 0.95-0.97x the time. Not on
 * two: each example's layer is a job a batch's eighth the size, and the
 * worker waited for the main thread a sixth more (1.01-1.07x the time).
 */
function defaultSegmentBytes(): number {
  const { kernel, threads } = kernelBackend();
  return kernel === 'wasm' && threads === 1 ? SEGMENT_BYTES : Infinity;
}
/** Specializations kept per interpreter of a graph with dimension variables (one per set of lengths, oldest dropped). */
const MAX_SPECIALIZED = 8;

export class Interpreter {
  /** For each node, the index of the last node that reads it (outputs live to the end). */
  private lastUse = new Map<Node, number>();
  /**
   * Convolutions whose output only a 2x2 max pool of stride 2 reads, with
   * that pool (plan.ts fusedPools, which the memory plan allows for too): at
   * inference the two may run as one kernel (kernels/conv.ts conv2dPooled),
   * which never writes the convolution's output; the pool then has nothing
   * left to do, and `--stats` says which layer computed it.
   */
  private pooledBy = new Map<Node, Node>();
  /**
   * Adds whose output only a plain relu reads, with that relu (plan.ts
   * fusedAddRelus, whose relu the memory plan makes an alias of the add): at
   * inference the add applies the relu as it sums, and the relu takes the
   * add's tensor.
   */
  private reluAfter = new Map<Node, Node>();
  private arenas = new Map<string, Arena>();
  private states = new Map<string, Tensor>();
  /**
   * A graph with dimension variables runs as its specialization to the
   * inputs' lengths (ir/infer.ts specialize), each an interpreter of its own
   * with its own memory plans; undefined for a graph without variables.
   */
  private specialized?: Map<string, Interpreter>;

  /** The weights as the kernels read them (bindWeights: batchnorms folded in once, here). */
  readonly weights: Weights;
  /**
   * The weights packed for the kernels, with `prepack`; null without. A graph
   * with variables shares its own with its specializations, whose kernels
   * read the same weights at every length (a batchnorm folded per
   * specialization makes kernels of its own, which are not packed).
   */
  private packed: PackedWeights | null = null;
  /** Given to planMemory in place of defaultSegmentBytes (tests: 0 runs every segment that may be, Infinity none). */
  private readonly segmentBytes?: number;

  /**
   * `foldInPlace`: the caller gives `weights` up to this interpreter
   * (bindWeights's inPlace: `dlc run`, which reads them once), so that a
   * batchnorm folded into a kernel does not keep a second copy of it. A graph
   * with dimension variables binds per specialization, so it always copies.
   *
   * `prepack`: the caller does not change `weights` while it runs this
   * interpreter (a server, `dlc eval`, the benchmark), so the WebAssembly
   * kernels make the forms they read from them once, after the first run
   * (products' right operands packed, Winograd's 3x3 kernels transformed),
   * and read those from then on (PackedWeights), as ONNX Runtime packs a
   * session's weights: they take about as much memory again, in the
   * kernels' memory.
   */
  constructor(
    readonly graph: Graph,
    weights: Weights,
    { foldInPlace = false, prepack = false, segmentBytes }: { foldInPlace?: boolean; prepack?: boolean; segmentBytes?: number } = {},
  ) {
    this.segmentBytes = segmentBytes;
    const packedWeights = (w: Weights) => new PackedWeights(new Set([...w.values()].map((t) => t.data)));
    if (graphVars(graph).length > 0) {
      this.specialized = new Map();
      this.weights = weights;
      if (prepack) this.packed = packedWeights(weights); // shared by the specializations (at)
      return;
    }
    this.weights = bindWeights(graph, weights, { inPlace: foldInPlace });
    if (prepack) this.packed = packedWeights(this.weights);
    // A mask's sources are read by the layers that use the mask (ir/mask.ts).
    graph.nodes.forEach((node, i) => [...node.inputs, ...maskReads(node)].forEach((input) => this.lastUse.set(input, i)));
    for (const out of graph.outputs) this.lastUse.set(out.node, Infinity);
    this.pooledBy = fusedPools(graph);
    this.reluAfter = fusedAddRelus(graph);
  }

  /**
   * The plan for `batch` and its views on an arena. With the WebAssembly
   * kernel, the arena is the bottom of its memory (above any pinned weights), shared by all interpreters
   * (a run owns it while it runs); otherwise one ArrayBuffer per plan.
   */
  arena(batch: number, training = false): Arena {
    const segmentBytes = this.segmentBytes ?? defaultSegmentBytes();
    const key = `${batch}/${training}/${segmentBytes}`;
    let arena = this.arenas.get(key);
    if (!arena) {
      const plan = planMemory(this.graph, batch, { training, segmentBytes });
      this.checkMemory(batch, plan.plannedBytes);
      const { buffer, base } = heap().arena(plan.plannedBytes) ?? { buffer: new ArrayBuffer(plan.plannedBytes), base: 0 };
      const views = new Map<Node, Float32Array>();
      for (const [node, slot] of plan.slots) views.set(node, new Float32Array(buffer, base + slot.offset, slot.floats));
      if (this.arenas.size >= MAX_ARENAS) this.arenas.delete(this.arenas.keys().next().value!);
      this.arenas.set(key, (arena = { plan, views }));
    }
    return arena;
  }

  /** The interpreter of this graph specialized to the lengths of `inputs`; a length the graph cannot take is an InputError. */
  at(inputs: Record<string, Tensor>): Interpreter {
    const sizes = dimSizes(this.graph, inputs);
    const key = [...sizes].map(([d, n]) => `${d}=${n}`).join(',');
    let interpreter = this.specialized!.get(key);
    if (!interpreter) {
      let graph: Graph;
      try {
        graph = specialize(this.graph, sizes);
      } catch (e) {
        if (e instanceof OpError) throw new InputError(e.message);
        throw e;
      }
      if (this.specialized!.size >= MAX_SPECIALIZED) this.specialized!.delete(this.specialized!.keys().next().value!);
      this.specialized!.set(key, (interpreter = new Interpreter(graph, this.weights, { segmentBytes: this.segmentBytes })));
      interpreter.packed = this.packed;
    }
    return interpreter;
  }

  /** Refuses a run whose activations, with the weights and inputs, exceed the budget (--max-memory), before they are allocated. */
  private checkMemory(batch: number, activationBytes: number): void {
    let weightBytes = 0;
    for (const t of this.weights.values()) weightBytes += t.data.byteLength;
    const inputBytes = this.graph.inputs.reduce((sum, n) => sum + batch * bytesOf(n.type.shape.slice(1) as number[]), 0);
    checkMemory(
      messages.runningModel(this.graph.name, batch),
      [['activations', activationBytes], ['weights', weightBytes], ['inputs', inputBytes]],
      messages.smallerBatch,
    );
  }

  /**
   * The buffer of a state tensor's new value, one per interpreter and tensor,
   * so that runs after the first allocate nothing.
   */
  private stateBuffer(node: Node, name: string, write: (into: Float32Array) => void): Tensor {
    const spec = paramsOf(node).find((p) => p.name === name)!;
    const key = weightName(node, spec);
    let t = this.states.get(key);
    if (!t) {
      const shape = this.weights.get(key)?.shape ?? spec.shape;
      this.states.set(key, (t = { shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }));
    }
    write(t.data);
    return t;
  }

  /**
   * Runs the graph on inputs keyed by input name (already validated: see io.ts).
   * In training mode `state` holds the new values of the layers' state
   * tensors by weight name (`<layer>.moving_mean`), valid until the next run;
   * the weights are not changed.
   */
  run(inputs: Record<string, Tensor>, options: RunOptions = {}): { outputs: Record<string, Tensor>; stats?: RunStats; state: Map<string, Tensor> } {
    if (this.specialized) {
      const concrete = this.at(inputs);
      // Inputs that give no length for a variable would specialize forever.
      if (concrete.specialized) throw internal(`interpreter: inputs give no length for ${graphVars(concrete.graph).join(', ')}`);
      return concrete.run(inputs, options);
    }
    const packed = this.packed;
    if (!packed) return this.runGraph(inputs, options);
    packed.pack();
    const result = withPackedWeights(packed, () => this.runGraph(inputs, options));
    packed.pack();
    return result;
  }

  /** Gives back the memory of the weights packed for this interpreter (`prepack`): for a caller done with it; a later run packs again. */
  releasePackedWeights(): void {
    this.packed?.release();
  }

  /** How many weights, and bytes, are packed for this interpreter's kernels now (`prepack`). */
  packedWeights(): { weights: number; bytes: number } {
    return this.packed?.held() ?? { weights: 0, bytes: 0 };
  }

  /**
   * Runs a segment's layers (plan.ts) an example at a time: each example
   * through all of them, then the next. A layer reads, per example, its
   * inputs' rows of that example (a tensor of batch 1, such as a constant,
   * whole) and writes that example's rows of its slot, or, for a layer in
   * `perExample`, its whole slot, which holds one example. Each example gets
   * the values a run of it alone gives: a run of the whole batch's to float32
   * rounding (bit for bit for depthwise and 1x1 convolutions; a 3x3 one may
   * cut one example into Winograd's tiles otherwise). Returns each layer's
   * time in ms, summed over the examples (with `timed`).
   */
  private runByExample(
    layers: Node[],
    perExample: Set<Node>,
    batch: number,
    live: Map<Node, Tensor>,
    views: Map<Node, Float32Array>,
    compute: (node: Node, inputs: Tensor[], out: Float32Array) => Tensor,
    timed: boolean,
  ): number[] {
    const ms = layers.map(() => 0);
    const rows = (t: Tensor, b: number): Tensor => {
      if (t.shape[0] !== batch) return t;
      const n = t.data.length / batch;
      return { shape: [1, ...t.shape.slice(1)], data: t.data.subarray(b * n, (b + 1) * n) };
    };
    const example = new Map<Node, Tensor>();
    for (let b = 0; b < batch; b++) {
      layers.forEach((node, k) => {
        const t0 = timed ? performance.now() : 0;
        const slot = views.get(node)!;
        const n = slot.length / (perExample.has(node) ? 1 : batch);
        const out = perExample.has(node) ? slot : slot.subarray(b * n, (b + 1) * n);
        const result = compute(node, node.inputs.map((input) => example.get(input) ?? rows(live.get(input)!, b)), out);
        if (result.data !== out) out.set(result.data); // the next example's pass and the layers after the segment read the slot
        example.set(node, { shape: result.shape, data: out });
        if (timed) ms[k] += performance.now() - t0;
      });
    }
    return ms;
  }

  private runGraph(inputs: Record<string, Tensor>, options: RunOptions): { outputs: Record<string, Tensor>; stats?: RunStats; state: Map<string, Tensor> } {
    const rng = createRng(options.seed ?? 0);
    const training = options.training ?? false;
    const batch = Math.max(1, ...this.graph.inputs.map((n) => inputs[n.name]?.shape[0] ?? 1));
    const unplanned = () => {
      const plan = planMemory(this.graph, batch, { training });
      this.checkMemory(batch, plan.naiveBytes); // each kernel allocates its own output
      return { plan, views: new Map<Node, Float32Array>() };
    };
    const { plan, views } = options.arena === false ? unplanned() : this.arena(batch, training);
    const live = new Map<Node, Tensor>();
    // Reshapes share their input's buffer: count holders so a buffer is freed once.
    const holders = new Map<Float32Array, number>();
    const timings: LayerTiming[] = [];
    const state = new Map<string, Tensor>();
    let liveBytes = 0, peak = 0;
    const start = performance.now();
    const hold = (node: Node, t: Tensor) => {
      live.set(node, t);
      const n = holders.get(t.data) ?? 0;
      holders.set(t.data, n + 1);
      if (n === 0) liveBytes += t.data.byteLength;
      peak = Math.max(peak, liveBytes);
    };
    const release = (node: Node) => {
      const t = live.get(node)!;
      live.delete(node);
      const n = holders.get(t.data)! - 1;
      if (n === 0) {
        holders.delete(t.data);
        liveBytes -= t.data.byteLength;
      } else holders.set(t.data, n);
    };
    // Pools whose convolution computed them already (pooledBy), and relus their add applied (reluAfter): the tensor, and the layer that did.
    const computed = new Map<Node, { tensor: Tensor; by: Node }>();
    const call = (node: Node, inputs: Tensor[], out: Float32Array | undefined): Call => ({
      node: node as NodeOf<OpName>,
      a: node.resolved as AttrsOf<OpName>,
      inputs,
      ...paramAccess(node, this.weights),
      training,
      rng: rng.child(node.name),
      out,
      updateState: training ? (name, write) => state.set(weightName(node, paramsOf(node).find((p) => p.name === name)!), this.stateBuffer(node, name, write)) : undefined,
      ...masksOf(node, (n) => live.get(n)!),
    });
    const releaseInputs = (node: Node, i: number, held: (input: Node) => boolean = () => true) => {
      for (const input of new Set([...node.inputs, ...maskReads(node)])) if (this.lastUse.get(input) === i && held(input)) release(input);
    };
    // The plan's segments run an example at a time (plan.ts); a run without the arena has no slots for them.
    const segmentAt = new Map(options.arena === false ? [] : plan.segments.map((s) => [s.first, s]));
    const nodes = this.graph.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const segment = segmentAt.get(i);
      if (segment) {
        const segmentNodes = nodes.slice(segment.first, segment.last + 1);
        // An example's tensors, with what is alive around them (an upper bound: not all at once).
        const exampleBytes = [...segment.perExample].reduce((sum, node) => sum + views.get(node)!.byteLength, 0);
        peak = Math.max(peak, liveBytes + exampleBytes);
        const ms = this.runByExample(segmentNodes, segment.perExample, batch, live, views, (node, inputs, out) => runKernel(call(node, inputs, out)), options.stats ?? false);
        segmentNodes.forEach((node, k) => {
          if (!segment.perExample.has(node)) hold(node, { shape: [batch, ...(node.type.shape.slice(1) as number[])], data: views.get(node)! });
          if (options.stats) timings.push({ name: node.name, op: node.op, ms: ms[k] });
        });
        segmentNodes.forEach((node, k) => releaseInputs(node, segment.first + k, (input) => !segment.perExample.has(input)));
        i = segment.last;
        continue;
      }
      const node = nodes[i];
      const t0 = options.stats ? performance.now() : 0;
      const pool = training ? undefined : this.pooledBy.get(node);
      const both = pool && pooledConv(node as NodeOf<'conv2d'>, live.get(node.inputs[0])!, paramAccess(node, this.weights), views.get(pool));
      const relu = training ? undefined : this.reluAfter.get(node);
      if (node.op === 'input') hold(node, inputs[node.name]);
      else if (both) {
        computed.set(pool!, { tensor: both, by: node });
        hold(node, both); // read by the pool alone, which takes the same tensor
      } else if (relu) {
        const sum = K.add(node.inputs.map((n) => live.get(n)!), views.get(node), { relu: true });
        computed.set(relu, { tensor: sum, by: node });
        hold(node, sum); // read by the relu alone, which takes the same tensor
      } else if (computed.has(node)) hold(node, computed.get(node)!.tensor);
      else hold(node, runKernel(call(node, node.inputs.map((n) => live.get(n)!), views.get(node))));
      if (options.stats) {
        const computedIn = computed.get(node)?.by.name;
        timings.push({ name: node.name, op: node.op, ms: performance.now() - t0, ...(computedIn && { computedIn }) });
      }
      releaseInputs(node, i);
    }
    // The arena is reused by the next run: outputs leave it as copies, into the caller's arrays when given.
    const outputs: Record<string, Tensor> = Object.create(null); // an output may be named __proto__
    const written = new Set<Float32Array>(); // an array given twice takes one output
    for (const out of this.graph.outputs) {
      const t = live.get(out.node)!;
      if (!views.has(plan.aliases.get(out.node) ?? out.node)) {
        outputs[out.name] = t;
        continue;
      }
      const target = options.into && Object.hasOwn(options.into, out.name) ? options.into[out.name]?.data : undefined;
      if (isFloat32Array(target) && target.length === t.data.length && !written.has(target)) {
        target.set(t.data);
        written.add(target);
        outputs[out.name] = { shape: t.shape, data: target };
      } else outputs[out.name] = { shape: t.shape, data: copyOf(t.data) };
    }
    const stats = options.stats
      ? {
          layers: timings,
          peakActivationBytes: peak,
          plan: { plannedBytes: plan.plannedBytes, naiveBytes: plan.naiveBytes, byExample: [...segmentAt.values()].map((s): [string, string] => [nodes[s.first].name, nodes[s.last].name]) },
          totalMs: performance.now() - start,
        }
      : undefined;
    return { outputs, stats, state };
  }
}

/**
 * A node's parameters as kernels read them, by local name: fixed kernels from
 * the source (converted to float32 once per node), else the weight its spec
 * names (weights/slots.ts's weightName: `<layer>.<name>`, another layer's for
 * a tied or shared weight).
 */
export function paramAccess(node: Node, weights: Weights): Pick<Call, 'param' | 'optionalParam'> {
  let bound = bindingCache.get(node);
  if (!bound) {
    bound = new Map(paramsOf(node).filter((p) => p.layer === undefined || p.shared).map((p) => [p.name, p.value ? { shape: p.shape, data: Float32Array.from(p.value.data) } : weightName(node, p)]));
    bindingCache.set(node, bound);
  }
  const known = bound;
  const optionalParam = (name: string) => {
    const p = known.get(name) ?? `${node.name}.${name}`;
    return typeof p === 'string' ? (weights.get(p) ?? null) : p;
  };
  return { optionalParam, param: (name) => optionalParam(name) ?? missing(known.get(name) ?? `${node.name}.${name}`) };
}
/** Per node: each parameter's fixed value, or the name of the weight it reads. */
const bindingCache = new WeakMap<Node, Map<string, Tensor | string>>();

function missing(name: string | Tensor): never {
  throw internal(`no weight "${name as string}"`);
}

export const bytesOf = (shape: number[]) => sizeOf(shape) * 4;

/** Evaluates one node whose inputs are all constants (for constant folding); returns its per-example value. */
export function evaluateNode(node: Node): ConstTensor {
  const inputs = node.inputs as Node[];
  const graph: Graph = { name: 'fold', nodes: [...inputs, node], inputs: [], outputs: [{ name: 'out', node }], span: node.span };
  const { outputs } = new Interpreter(graph, new Map()).run({}, { arena: false }); // one small node: no plan needed
  const t = outputs.out;
  return { shape: t.shape.slice(1), data: Float64Array.from(t.data) };
}
