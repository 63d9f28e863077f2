/**
 * The interpreter: runs a typed graph node by node on float32 tensors, the
 * reference semantics of the language. A table maps every op to its kernel
 * call (TypeScript reports an op without one).
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
import { contextOf } from '../../ir/infer.js';
import type { ConstTensor, Graph, Node } from '../../ir/types.js';
import type { OpName } from '../../ops/index.js';
import type { OpContext } from '../../ops/op.js';
import { innerContext } from '../../ops/recurrent.js';
import * as K from './kernels/index.js';
import { InputError } from './io.js';
import type { MemoryPlan } from './plan.js';
import { planMemory } from './plan.js';
import { createRng, Rng } from '../../runtime/random.js';
import { sizeOf, Tensor } from './tensor.js';
import { withScratch } from './wasm/heap.js';
import { heap } from './wasm/index.js';
import type { Weights } from './weights.js';

export interface RunOptions {
  /** Training mode: dropout drops units (seeded). Default: inference. */
  training?: boolean;
  seed?: number;
  stats?: boolean;
  /** Default true: activations live in the planned arena. False: every kernel allocates its output (the reference the plan is tested against). */
  arena?: boolean;
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
  /** The arena this run used (plannedBytes) and what one buffer per activation would take. */
  plan: { plannedBytes: number; naiveBytes: number };
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
  /** The planned buffer for the node's output, when it has one (plan.ts). */
  out?: Float32Array;
}

const padding = (c: Call) => c.ctx.sym('padding') as K.Padding;
/** A fused node's activation; plain dense and conv nodes have none. */
const fusedActivation = (c: Call): K.Activation => (c.ctx.attrs.activation ? (c.ctx.sym('activation') as K.Activation) : 'linear');
const pair = (xs: number[]) => xs as [number, number];

/** Runs bidirectional's or the plain recurrent layer's kernel with the params under `prefix`. */
function recurrent(c: Call, op: string, attrs: OpContext, prefix: string, reverse: boolean, out?: Float32Array): Tensor {
  const [x] = c.inputs;
  const p = (n: string) => c.param(`${prefix}${n}`);
  const sequences = attrs.bool('sequences');
  if (op === 'lstm') return K.lstm(x, p('kernel'), p('recurrent_kernel'), p('bias'), { sequences, reverse }, out);
  return K.simpleRnn(x, p('kernel'), p('recurrent_kernel'), p('bias'), { sequences, reverse, activation: attrs.sym('activation') as K.Activation }, out);
}

export const KERNELS: Record<OpName, (c: Call) => Tensor> = {
  input: () => {
    throw new Error('input nodes are bound, not executed');
  },
  constant: (c) => {
    const v = c.node.attrs.value as ConstTensor;
    const data = c.out ?? new Float32Array(v.data.length);
    data.set(v.data);
    return { shape: [1, ...v.shape], data };
  },
  dense: (c) => K.dense(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), fusedActivation(c), c.out),
  conv1d: (c) =>
    K.conv1d(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), {
      stride: c.ctx.ints('stride', 1)[0],
      dilation: c.ctx.ints('dilation', 1)[0],
      padding: padding(c),
      activation: fusedActivation(c),
    }, c.out),
  conv2d: (c) =>
    K.conv2d(c.inputs[0], c.param('kernel'), c.optionalParam('bias'), {
      stride: pair(c.ctx.ints('stride', 2)),
      dilation: pair(c.ctx.ints('dilation', 2)),
      padding: padding(c),
      activation: fusedActivation(c),
    }, c.out),
  // The kernels apply the activation in the same pass as the bias (see matmulInto).
  fused_dense: (c) => KERNELS.dense(c),
  fused_conv1d: (c) => KERNELS.conv1d(c),
  fused_conv2d: (c) => KERNELS.conv2d(c),
  maxpool: (c) => pool(c, 'max'),
  avgpool: (c) => pool(c, 'avg'),
  global_maxpool: (c) => K.globalMaxPool(c.inputs[0], c.out),
  global_avgpool: (c) => K.globalAvgPool(c.inputs[0], c.out),
  relu: (c) => K.relu(c.inputs[0], c.out),
  sigmoid: (c) => K.sigmoid(c.inputs[0], c.out),
  tanh: (c) => K.tanh(c.inputs[0], c.out),
  softmax: (c) => K.softmax(c.inputs[0], c.out),
  dropout: (c) => (c.training ? K.dropout(c.inputs[0], c.ctx.num('rate'), c.rng, c.out) : c.inputs[0]),
  flatten: (c) => reshapeTo(c),
  reshape: (c) => reshapeTo(c),
  // A constant input holds one example: add repeats it over the batch.
  add: (c) => K.add(c.inputs, c.out),
  concat: (c) => K.concat(c.inputs, c.ctx.int('axis'), c.out), // both count the batch as axis 0
  embedding: (c) => {
    // Token ids are data: an id outside the vocabulary is the user's input error.
    try {
      return K.embedding(c.inputs[0], c.param('embeddings'), c.out);
    } catch (e) {
      throw new InputError(`'${c.node.inputs[0].name}' -> layer '${c.node.name}': ${(e as Error).message}`);
    }
  },
  positional: (c) => {
    const [, T, d] = c.inputs[0].shape;
    return K.addPositional(c.inputs[0], c.ctx.sym('kind') === 'learned' ? c.param('embeddings') : sinusoidal(T, d), c.out);
  },
  rnn: (c) => recurrent(c, 'rnn', c.ctx, '', false, c.out),
  lstm: (c) => recurrent(c, 'lstm', c.ctx, '', false, c.out),
  bidirectional: (c) => {
    const inner = innerContext(c.ctx);
    // Each direction's states in scratch, joined into the output.
    const half = sizeOf([c.inputs[0].shape[0], ...(c.node.type.shape.slice(1) as number[])]) / 2;
    return withScratch(heap(), (take) => {
      const forward = recurrent(c, inner.op.name, inner, 'forward.', false, take(half));
      const backward = recurrent(c, inner.op.name, inner, 'backward.', true, take(half));
      return K.concat([forward, backward], -1, c.out);
    });
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
      c.out,
    );
  },
  layernorm: (c) => K.layerNorm(c.inputs[0], c.param('gamma'), c.param('beta'), c.ctx.num('epsilon'), c.out),
};

/** The sinusoidal table of each size, computed once. */
const tables = new Map<string, Tensor>();
function sinusoidal(T: number, d: number): Tensor {
  const key = `${T}x${d}`;
  let table = tables.get(key);
  if (!table) tables.set(key, (table = K.sinusoidalTable(T, d)));
  return table;
}

function pool(c: Call, kind: 'max' | 'avg'): Tensor {
  const x = c.inputs[0];
  const rank = x.shape.length - 2;
  const size = c.ctx.ints('size', rank);
  const stride = c.ctx.attrs.stride === undefined ? size : c.ctx.ints('stride', rank);
  if (rank === 1) return (kind === 'max' ? K.maxPool1d : K.avgPool1d)(x, { size: size[0], stride: stride[0], padding: padding(c) }, c.out);
  return (kind === 'max' ? K.maxPool2d : K.avgPool2d)(x, { size: pair(size), stride: pair(stride), padding: padding(c) }, c.out);
}

/** flatten and reshape keep the data; only the per-example shape changes. */
function reshapeTo(c: Call): Tensor {
  const x = c.inputs[0];
  return { shape: [x.shape[0], ...(c.node.type.shape.slice(1) as number[])], data: x.data };
}

/** One batch size's plan and the views of the arena it assigns. */
interface Arena {
  plan: MemoryPlan;
  views: Map<Node, Float32Array>;
}

/** Arenas kept per interpreter (batch sizes x training): evaluation runs at one batch and a last, smaller one. */
const MAX_ARENAS = 4;

export class Interpreter {
  /** For each node, the index of the last node that reads it (outputs live to the end). */
  private lastUse = new Map<Node, number>();
  private contexts = new Map<Node, OpContext>();
  private arenas = new Map<string, Arena>();

  constructor(
    readonly graph: Graph,
    readonly weights: Weights,
  ) {
    graph.nodes.forEach((node, i) => node.inputs.forEach((input) => this.lastUse.set(input, i)));
    for (const out of graph.outputs) this.lastUse.set(out.node, Infinity);
    for (const node of graph.nodes) if (node.op !== 'input') this.contexts.set(node, contextOf(node));
  }

  /**
   * The plan for `batch` and its views on an arena. With the WebAssembly
   * kernel, the arena is the bottom of its memory, shared by all interpreters
   * (a run owns it while it runs); otherwise one ArrayBuffer per plan.
   */
  arena(batch: number, training = false): Arena {
    const key = `${batch}/${training}`;
    let arena = this.arenas.get(key);
    if (!arena) {
      const plan = planMemory(this.graph, batch, { training });
      const buffer = heap().arena(plan.plannedBytes) ?? new ArrayBuffer(plan.plannedBytes);
      const views = new Map<Node, Float32Array>();
      for (const [node, slot] of plan.slots) views.set(node, new Float32Array(buffer, slot.offset, slot.floats));
      if (this.arenas.size >= MAX_ARENAS) this.arenas.delete(this.arenas.keys().next().value!);
      this.arenas.set(key, (arena = { plan, views }));
    }
    return arena;
  }

  /** Runs the graph on inputs keyed by input name (already validated: see inputs.ts). */
  run(inputs: Record<string, Tensor>, options: RunOptions = {}): { outputs: Record<string, Tensor>; stats?: RunStats } {
    const rng = createRng(options.seed ?? 0);
    const training = options.training ?? false;
    const batch = Math.max(1, ...this.graph.inputs.map((n) => inputs[n.name]?.shape[0] ?? 1));
    const { plan, views } = options.arena === false ? { plan: planMemory(this.graph, batch, { training }), views: new Map<Node, Float32Array>() } : this.arena(batch, training);
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
        const ctx = this.contexts.get(node)!;
        const fixed = (name: string) => {
          const v = node.attrs[name];
          return v && typeof v === 'object' && 'data' in v ? fixedWeights(node, ctx, name) : undefined;
        };
        const call: Call = {
          node,
          ctx,
          inputs: node.inputs.map((n) => live.get(n)!),
          param: (name) => fixed(name) ?? this.weights.get(`${node.name}.${name}`) ?? missing(node, name),
          optionalParam: (name) => fixed(name) ?? this.weights.get(`${node.name}.${name}`) ?? null,
          training,
          rng: rng.child(node.name),
          out: views.get(node),
        };
        hold(node, KERNELS[node.op as OpName](call));
      }
      if (options.stats) timings.push({ name: node.name, op: node.op, ms: performance.now() - t0 });
      for (const input of new Set(node.inputs)) if (this.lastUse.get(input) === i) release(input);
    });
    // The arena is reused by the next run: outputs leave it as copies.
    const outputs: Record<string, Tensor> = {};
    for (const out of this.graph.outputs) {
      const t = live.get(out.node)!;
      const inArena = views.has(plan.aliases.get(out.node) ?? out.node);
      outputs[out.name] = inArena ? { shape: t.shape, data: t.data.slice() } : t;
    }
    const stats = options.stats
      ? { layers: timings, peakActivationBytes: peak, plan: { plannedBytes: plan.plannedBytes, naiveBytes: plan.naiveBytes }, totalMs: performance.now() - start }
      : undefined;
    return { outputs, stats };
  }
}

/**
 * A conv's fixed kernel from the source, in the [..window, C, F] layout the
 * kernels take; undefined when the attribute is a size list such as [3, 2].
 * Converted once per node.
 */
function fixedWeights(node: Node, ctx: OpContext, name: string): Tensor | undefined {
  let byName = fixedCache.get(node);
  if (!byName) fixedCache.set(node, (byName = new Map()));
  if (!byName.has(name)) {
    const spec = ctx.op.params?.(ctx).find((p) => p.name === name);
    byName.set(name, spec?.value && { shape: spec.shape, data: Float32Array.from(spec.value.data) });
  }
  return byName.get(name);
}
const fixedCache = new WeakMap<Node, Map<string, Tensor | undefined>>();

function missing(node: Node, name: string): never {
  throw new Error(`no weight "${node.name}.${name}"`);
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
