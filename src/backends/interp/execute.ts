/**
 * The interpreter: runs a typed graph node by node on float32 tensors, the
 * reference semantics of the language. A table maps every op to its kernel
 * call (TypeScript reports an op without one). Each activation is released
 * after its last use; `stats` records time per layer and peak live memory.
 */
import { contextOf } from '../../ir/infer.js';
import type { ConstTensor, Graph, Node } from '../../ir/types.js';
import type { OpName } from '../../ops/index.js';
import type { OpContext } from '../../ops/op.js';
import { innerContext } from '../../ops/recurrent.js';
import * as K from './kernels/index.js';
import { InputError } from './io.js';
import { createRng, Rng } from './random.js';
import { sizeOf, Tensor } from './tensor.js';
import type { Weights } from './weights.js';

export interface RunOptions {
  /** Training mode: dropout drops units (seeded). Default: inference. */
  training?: boolean;
  seed?: number;
  stats?: boolean;
}

export interface LayerTiming {
  name: string;
  op: string;
  ms: number;
}

export interface RunStats {
  layers: LayerTiming[];
  /** Largest number of bytes held by live activations at once. */
  peakActivationBytes: number;
  totalMs: number;
}

/** What a kernel sees of its node. */
interface Call {
  node: Node;
  ctx: OpContext;
  inputs: Tensor[];
  /** The weight `<layer>.<name>`, or a fixed kernel from the source. */
  param(name: string): Tensor;
  optionalParam(name: string): Tensor | null;
  training: boolean;
  rng: Rng;
}

const padding = (c: Call) => c.ctx.sym('padding') as K.Padding;
/** A fused node's activation; plain dense and conv nodes have none. */
const fusedActivation = (c: Call): K.Activation => (c.ctx.attrs.activation ? (c.ctx.sym('activation') as K.Activation) : 'linear');
const pair = (xs: number[]) => xs as [number, number];

/** Runs bidirectional's or the plain recurrent layer's kernel with the params under `prefix`. */
function recurrent(c: Call, op: string, attrs: OpContext, prefix: string, reverse: boolean): Tensor {
  const [x] = c.inputs;
  const p = (n: string) => c.param(`${prefix}${n}`);
  const sequences = attrs.bool('sequences');
  if (op === 'lstm') return K.lstm(x, p('kernel'), p('recurrent_kernel'), p('bias'), { sequences, reverse });
  return K.simpleRnn(x, p('kernel'), p('recurrent_kernel'), p('bias'), { sequences, reverse, activation: attrs.sym('activation') as K.Activation });
}

export const KERNELS: Record<OpName, (c: Call) => Tensor> = {
  input: () => {
    throw new Error('input nodes are bound, not executed');
  },
  constant: (c) => {
    const v = c.node.attrs.value as ConstTensor;
    return { shape: [1, ...v.shape], data: Float32Array.from(v.data) };
  },
  dense: (c) => K.dense(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), fusedActivation(c)),
  conv1d: (c) =>
    K.conv1d(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), {
      stride: c.ctx.ints('stride', 1)[0],
      dilation: c.ctx.ints('dilation', 1)[0],
      padding: padding(c),
      activation: fusedActivation(c),
    }),
  conv2d: (c) =>
    K.conv2d(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), {
      stride: pair(c.ctx.ints('stride', 2)),
      dilation: pair(c.ctx.ints('dilation', 2)),
      padding: padding(c),
      activation: fusedActivation(c),
    }),
  // The kernels apply the activation in the same pass as the bias (see matmulInto).
  fused_dense: (c) => KERNELS.dense(c),
  fused_conv1d: (c) => KERNELS.conv1d(c),
  fused_conv2d: (c) => KERNELS.conv2d(c),
  maxpool: (c) => pool(c, 'max'),
  avgpool: (c) => pool(c, 'avg'),
  global_maxpool: (c) => K.globalMaxPool(c.inputs[0]),
  global_avgpool: (c) => K.globalAvgPool(c.inputs[0]),
  relu: (c) => K.relu(c.inputs[0]),
  sigmoid: (c) => K.sigmoid(c.inputs[0]),
  tanh: (c) => K.tanh(c.inputs[0]),
  softmax: (c) => K.softmax(c.inputs[0]),
  dropout: (c) => (c.training ? K.dropout(c.inputs[0], c.ctx.num('rate'), c.rng) : c.inputs[0]),
  flatten: (c) => reshapeTo(c),
  reshape: (c) => reshapeTo(c),
  add: (c) => K.add(broadcastBatch(c.inputs)),
  concat: (c) => K.concat(c.inputs, c.ctx.int('axis')), // both count the batch as axis 0
  embedding: (c) => {
    // Token ids are data: an id outside the vocabulary is the user's input error.
    try {
      return K.embedding(c.inputs[0], c.param('embeddings'));
    } catch (e) {
      throw new InputError(`'${c.node.inputs[0].name}' -> layer '${c.node.name}': ${(e as Error).message}`);
    }
  },
  positional: (c) => {
    const [, T, d] = c.inputs[0].shape;
    return K.addPositional(c.inputs[0], c.ctx.sym('kind') === 'learned' ? c.param('embeddings') : K.sinusoidalTable(T, d));
  },
  rnn: (c) => recurrent(c, 'rnn', c.ctx, '', false),
  lstm: (c) => recurrent(c, 'lstm', c.ctx, '', false),
  bidirectional: (c) => {
    const inner = innerContext(c.ctx);
    const forward = recurrent(c, inner.op.name, inner, 'forward.', false);
    const backward = recurrent(c, inner.op.name, inner, 'backward.', true);
    return K.concat([forward, backward], -1);
  },
  attention: (c) => {
    const [query, value = query, key = value] = c.inputs;
    const p = (n: string) => c.param(n);
    return K.multiHeadAttention(
      query,
      value,
      key,
      {
        queryKernel: p('query.kernel'), queryBias: p('query.bias'),
        keyKernel: p('key.kernel'), keyBias: p('key.bias'),
        valueKernel: p('value.kernel'), valueBias: p('value.bias'),
        outputKernel: p('output.kernel'), outputBias: p('output.bias'),
      },
      {
        heads: c.ctx.int('heads'),
        keyDim: c.ctx.int('key_dim'),
        valueDim: (c.ctx.attrs.value_dim as number | undefined) ?? c.ctx.int('key_dim'),
        causal: c.ctx.bool('causal'),
      },
    );
  },
  layernorm: (c) => K.layerNorm(c.inputs[0], c.param('gamma'), c.param('beta'), c.ctx.num('epsilon')),
};

function pool(c: Call, kind: 'max' | 'avg'): Tensor {
  const x = c.inputs[0];
  const rank = x.shape.length - 2;
  const size = c.ctx.ints('size', rank);
  const stride = c.ctx.attrs.stride === undefined ? size : c.ctx.ints('stride', rank);
  if (rank === 1) return (kind === 'max' ? K.maxPool1d : K.avgPool1d)(x, { size: size[0], stride: stride[0], padding: padding(c) });
  return (kind === 'max' ? K.maxPool2d : K.avgPool2d)(x, { size: pair(size), stride: pair(stride), padding: padding(c) });
}

/** Constants hold one example; repeat them over the batch of the other inputs. */
function broadcastBatch(xs: Tensor[]): Tensor[] {
  const batch = Math.max(...xs.map((x) => x.shape[0]));
  return xs.map((x) => {
    if (x.shape[0] === batch) return x;
    const data = new Float32Array(x.data.length * batch);
    for (let b = 0; b < batch; b++) data.set(x.data, b * x.data.length);
    return { shape: [batch, ...x.shape.slice(1)], data };
  });
}

/** flatten and reshape keep the data; only the per-example shape changes. */
function reshapeTo(c: Call): Tensor {
  const x = c.inputs[0];
  return { shape: [x.shape[0], ...(c.node.type.shape.slice(1) as number[])], data: x.data };
}

export class Interpreter {
  /** For each node, the index of the last node that reads it (outputs live to the end). */
  private lastUse = new Map<Node, number>();

  constructor(
    readonly graph: Graph,
    readonly weights: Weights,
  ) {
    graph.nodes.forEach((node, i) => node.inputs.forEach((input) => this.lastUse.set(input, i)));
    for (const out of graph.outputs) this.lastUse.set(out.node, Infinity);
  }

  /** Runs the graph on inputs keyed by input name (already validated: see inputs.ts). */
  run(inputs: Record<string, Tensor>, options: RunOptions = {}): { outputs: Record<string, Tensor>; stats?: RunStats } {
    const rng = createRng(options.seed ?? 0);
    const live = new Map<Node, Tensor>();
    // Reshapes share their input's buffer: count holders so a buffer is freed once.
    const holders = new Map<Float32Array, number>();
    const timings: LayerTiming[] = [];
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
    this.graph.nodes.forEach((node, i) => {
      const t0 = options.stats ? performance.now() : 0;
      if (node.op === 'input') hold(node, inputs[node.name]);
      else {
        const ctx = contextOf(node);
        const fixed = (name: string) => {
          const v = node.attrs[name];
          return v && typeof v === 'object' && 'data' in v ? fixedWeights(ctx, name) : undefined;
        };
        const call: Call = {
          node,
          ctx,
          inputs: node.inputs.map((n) => live.get(n)!),
          param: (name) => fixed(name) ?? this.weights.get(`${node.name}.${name}`) ?? missing(node, name),
          optionalParam: (name) => fixed(name) ?? this.weights.get(`${node.name}.${name}`) ?? null,
          training: options.training ?? false,
          rng: rng.child(node.name),
        };
        hold(node, KERNELS[node.op as OpName](call));
      }
      if (options.stats) timings.push({ name: node.name, op: node.op, ms: performance.now() - t0 });
      for (const input of new Set(node.inputs)) if (this.lastUse.get(input) === i) release(input);
    });
    const outputs: Record<string, Tensor> = {};
    for (const out of this.graph.outputs) outputs[out.name] = live.get(out.node)!;
    const stats = options.stats ? { layers: timings, peakActivationBytes: peak, totalMs: performance.now() - start } : undefined;
    return { outputs, stats };
  }
}

/** A conv's fixed kernel from the source, in the [..window, C, F] layout the kernels take. */
/**
 * A conv's fixed kernel from the source, in the [..window, C, F] layout the
 * kernels take; undefined when the attribute is a size list such as [3, 2].
 */
function fixedWeights(ctx: OpContext, name: string): Tensor | undefined {
  const spec = ctx.op.params?.(ctx).find((p) => p.name === name);
  return spec?.value && { shape: spec.shape, data: Float32Array.from(spec.value.data) };
}

function missing(node: Node, name: string): never {
  throw new Error(`no weight "${node.name}.${name}"`);
}

export const bytesOf = (shape: number[]) => sizeOf(shape) * 4;

/** Evaluates one node whose inputs are all constants (for constant folding); returns its per-example value. */
export function evaluateNode(node: Node): ConstTensor {
  const inputs = node.inputs as Node[];
  const graph: Graph = { name: 'fold', nodes: [...inputs, node], inputs: [], outputs: [{ name: 'out', node }], span: node.span };
  const { outputs } = new Interpreter(graph, new Map()).run({});
  const t = outputs.out;
  return { shape: t.shape.slice(1), data: Float64Array.from(t.data) };
}
