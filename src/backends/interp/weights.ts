/**
 * A model's weights: one float32 tensor per parameter, named `<layer>.<param>`
 * (`conv2d.kernel`, `lstm.recurrent_kernel`, `bidirectional.forward.kernel`).
 * Fixed kernels written in the source are constants of the graph, not weights.
 * Initialisation follows Keras's defaults and depends only on the seed and
 * each tensor's name (see random.ts), so the same seed gives the same weights.
 */
import { layerStats } from '../../ir/infer.js';
import type { Graph, Node } from '../../ir/types.js';
import type { ParamSpec } from '../../ops/op.js';
import { readWeightsFile, WeightsFileError, writeWeightsFile } from '../../weights/safetensors.js';
import { ERRNO_TEXT, UserError } from '../../diagnostics.js';
import { humanBytes } from '../../summary.js';
import { initialize, InitKind } from './init.js';
import { createRng } from './random.js';
import { showShape, Tensor } from './tensor.js';

export type Weights = Map<string, Tensor>;

export interface WeightSlot {
  /** The name in the weights file. */
  name: string;
  node: Node;
  spec: ParamSpec;
}

/** Every weight a graph needs, in graph order; fixed (source-given) kernels excluded. */
export function weightSlots(graph: Graph): WeightSlot[] {
  return graph.nodes.flatMap((node) =>
    layerStats(node)
      .params.filter((spec) => !spec.value)
      .map((spec) => ({ name: `${node.name}.${spec.name}`, node, spec })),
  );
}

export interface InitOptions {
  seed: number;
  /** Replace Keras's initialisers by the lecture's N(0, sigma^2) for every kernel (biases stay zero). */
  normalSigma?: number;
}

/** The largest model we allocate: a float32 array holds at most 2^31 - 1 values, and memory runs out before that. */
const MAX_PARAMETERS = 1_000_000_000;

export function initWeights(graph: Graph, options: InitOptions): Weights {
  const total = weightSlots(graph).reduce((n, { spec }) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  if (total > MAX_PARAMETERS)
    throw new UserError(`model '${graph.name}' has ${total.toLocaleString('en-US')} parameters (${humanBytes(total * 4)} at fp32): too many to allocate (the limit is ${MAX_PARAMETERS.toLocaleString('en-US')})`);
  const root = createRng(options.seed);
  const weights: Weights = new Map();
  for (const { name, spec } of weightSlots(graph)) {
    const kind: InitKind = options.normalSigma !== undefined && spec.init !== 'zeros' && spec.init !== 'ones' && spec.init !== 'lstm_bias' ? { normal: options.normalSigma } : spec.init;
    weights.set(name, { shape: spec.shape, data: initialize(kind, spec.shape, root.child(name)) });
  }
  return weights;
}

/** What is wrong with a set of weights for a graph; empty when they fit. */
export function weightProblems(graph: Graph, weights: Weights): string[] {
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const { name, spec } of weightSlots(graph)) {
    expected.add(name);
    const t = weights.get(name);
    if (!t) problems.push(`weights file has no tensor "${name}" (expected shape ${showShape(spec.shape)})`);
    else if (t.shape.join() !== spec.shape.join())
      problems.push(`tensor "${name}" has shape ${showShape(t.shape)} but the model needs ${showShape(spec.shape)}`);
    else if (t.data.some((x) => !Number.isFinite(x))) problems.push(`tensor "${name}" contains NaN or infinite values`);
  }
  const extra = [...weights.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) problems.push(`weights file has tensors this model does not use: ${extra.slice(0, 5).map((n) => `"${n}"`).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  return problems;
}

/** Reads a weights file and checks it against the graph; every problem is reported at once. */
export async function loadWeights(path: string, graph: Graph): Promise<Weights> {
  const file = await readWeightsFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code) throw new WeightsFileError(`cannot read: ${ERRNO_TEXT[e.code] ?? e.code}`, path);
    throw e;
  });
  const problems = weightProblems(graph, file.tensors);
  const madeFor = file.metadata.model;
  if (problems.length > 0 && madeFor && madeFor !== graph.name) problems.push(`(this file was written for model '${madeFor}', not '${graph.name}')`);
  if (problems.length > 0) throw new WeightsFileError(problems.join('\n  '), path);
  return file.tensors;
}

export async function saveWeights(path: string, graph: Graph, weights: Weights, metadata: Record<string, string> = {}): Promise<void> {
  await writeWeightsFile(path, weights, { format: 'dlc', model: graph.name, ...metadata });
}
