/**
 * A model's weights in the interpreter: one float32 tensor per weight slot
 * (weights/slots.ts: `<layer>.<param>`), created, checked, read and written.
 * Initialisation follows Keras's defaults and depends only on the seed and
 * each tensor's name (see random.ts), so the same seed gives the same weights.
 */
import type { Graph } from '../../ir/types.js';
import { readWeightsFile, WeightsFileError, writeWeightsFile } from '../../weights/safetensors.js';
import { encodeSafetensors } from '../../runtime/safetensors.js';
import { weightSlots } from '../../weights/slots.js';
import { ERRNO_TEXT, internal, messages, UserError } from '../../diagnostics.js';
import { checkMemory } from './plan.js';
import type { FoldedBatchNorm } from '../../ops/fused.js';
import { foldBatchNorm } from '../../runtime/batchnorm.js';
import { humanBytes } from '../../units.js';
import { initialize, initializerFor } from '../../runtime/init.js';
import { weightMessages, weightProblems as problemsOf } from '../../runtime/messages.js';
import { createRng } from '../../runtime/random.js';
import type { Tensor } from './tensor.js';

export type Weights = Map<string, Tensor>;

export { weightSlots, type WeightSlot } from '../../weights/slots.js';

/** Where a tensor's values go: a new array by default, or memory the caller keeps weights in (wasm/index.ts pinnedArray). */
export type Alloc = (floats: number) => Float32Array;

export interface InitOptions {
  seed: number;
  alloc?: Alloc;
  /** Replace Keras's initialisers by the lecture's N(0, sigma^2) for every kernel (biases stay zero). */
  normalSigma?: number;
}

/** The largest model we allocate: a float32 array holds at most 2^31 - 1 values, and memory runs out before that. */
const MAX_PARAMETERS = 1_000_000_000;

export function initWeights(graph: Graph, options: InitOptions): Weights {
  const total = weightSlots(graph).reduce((n, { spec }) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  if (total > MAX_PARAMETERS)
    throw new UserError(weightMessages.tooMany(graph.name, total.toLocaleString('en-US'), humanBytes(total * 4), MAX_PARAMETERS.toLocaleString('en-US')));
  checkMemory(messages.initialisingModel(graph.name), [['weights', total * 4]], messages.smallerModel);
  const root = createRng(options.seed);
  const weights: Weights = new Map();
  for (const { name, spec } of weightSlots(graph)) {
    const out = options.alloc?.(spec.shape.reduce((a, b) => a * b, 1));
    weights.set(name, { shape: spec.shape, data: initialize(initializerFor(spec.init, options.normalSigma), spec.shape, root.child(name), out) });
  }
  return weights;
}

/** What is wrong with a set of weights for a graph; empty when they fit (the runtime's texts, shared with generated modules). */
export function weightProblems(graph: Graph, weights: Weights): string[] {
  return problemsOf(weightSlots(graph).map(({ name, spec }) => ({ name, shape: spec.shape })), weights);
}

/** Reads a weights file (its tensors into `alloc`'s arrays) and checks it against the graph; every problem is reported at once. */
export async function loadWeights(path: string, graph: Graph, { alloc }: { alloc?: Alloc } = {}): Promise<Weights> {
  const file = await readWeightsFile(path, alloc).catch((e: NodeJS.ErrnoException) => {
    if (e.code) throw new WeightsFileError(weightMessages.cannotRead(ERRNO_TEXT[e.code] ?? e.code), path);
    throw e;
  });
  const problems = weightProblems(graph, file.tensors);
  const madeFor = file.metadata.model;
  if (problems.length > 0 && madeFor && madeFor !== graph.name) problems.push(weightMessages.writtenFor(madeFor, graph.name));
  if (problems.length > 0) throw new WeightsFileError(problems.join('\n  '), path);
  return file.tensors;
}

/**
 * The weights as a graph's kernels read them: `weights` itself, except that a
 * layer with a batchnorm folded in (ops/fused.ts) reads the kernel and bias
 * derived from its own and the batchnorm's weights (runtime/batchnorm.ts),
 * computed here once per binding (the Interpreter's construction), not per
 * run. `weights` is not modified: it keeps the file's separate tensors.
 *
 * With `inPlace`, the caller gives the weights up: each folded kernel is
 * written over the layer's own kernel buffer (a fresh bias is set beside it),
 * so that a run does not hold every convolution's kernel twice (ResNet-50:
 * 94 MB more). `weights` then reads as the bound weights; bind it only once.
 */
export function bindWeights(graph: Graph, weights: Weights, { inPlace = false } = {}): Weights {
  const folded = graph.nodes.filter((n) => (n.resolved as { batchnorm?: FoldedBatchNorm } | undefined)?.batchnorm);
  if (folded.length === 0) return weights;
  const bound: Weights = new Map(weights);
  for (const node of folded) {
    const bn = (node.resolved as { batchnorm: FoldedBatchNorm }).batchnorm;
    const get = (name: string) => weights.get(name) ?? missing(name);
    const optional = (name: string) => weights.get(name)?.data ?? null;
    const kernel = get(`${node.name}.${bn.kernel}`);
    const { kernel: k, bias } = foldBatchNorm(
      {
        kernel: kernel.data,
        bias: optional(`${node.name}.bias`),
        gamma: bn.scale ? get(`${bn.layer}.gamma`).data : null,
        beta: bn.center ? get(`${bn.layer}.beta`).data : null,
        movingMean: get(`${bn.layer}.moving_mean`).data,
        movingVariance: get(`${bn.layer}.moving_variance`).data,
      },
      kernel.shape,
      bn.epsilon,
      inPlace ? kernel.data : undefined,
    );
    bound.set(`${node.name}.${bn.kernel}`, k);
    bound.set(`${node.name}.bias`, bias);
  }
  return bound;
}

function missing(name: string): never {
  throw internal(`no weight "${name}" to fold a batchnorm with`);
}

/** Writes `weights` as a safetensors file (atomically), with dlc's metadata (format, model) and `metadata`. */
export async function saveWeights(path: string, graph: Graph, weights: Weights, metadata: Record<string, string> = {}): Promise<void> {
  await writeWeightsFile(path, weights, weightsMetadata(graph, metadata));
}

/** saveWeights's file as bytes (the playground's download). */
export function weightsFileBytes(graph: Graph, weights: Weights, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(weights, weightsMetadata(graph, metadata));
}

const weightsMetadata = (graph: Graph, metadata: Record<string, string>) => ({ format: 'dlc', model: graph.name, ...metadata });
