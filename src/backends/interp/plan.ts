/**
 * The memory plan of one forward pass, made before it runs: every activation
 * gets a byte range in one arena, and two activations share bytes only if
 * they are never alive at the same time. Not here: the arena itself
 * (wasm/heap.ts) and running the graph (execute.ts).
 *
 *   size       4 bytes x the batch x the per-example elements of the node's
 *              type; a constant and whatever is computed from constants alone
 *              hold one example (batch 1)
 *   aliases    flatten, reshape and (at inference) dropout return their input's
 *              buffer: they take no bytes and extend their source's life
 *   live range from the node's position to the last node that reads it or any
 *              alias of it; graph outputs live to the end; a node nobody reads
 *              lives at its own step only
 *   placement  greedy by size (largest first, as TensorFlow Lite's arena
 *              planner): each buffer goes at the lowest 64-byte-aligned offset
 *              where it overlaps no placed buffer whose live range meets its own
 *
 *   segments   at inference with batch > 1, stretches of consecutive layers that
 *              act on each example alone (convolutions, adds, activations,
 *              pools) run one example at a time (execute.ts), around a
 *              depthwise convolution (its speed is the memory's) that
 *              reads or writes a tensor of at least `segmentBytes` for the
 *              whole batch (SEGMENT_BYTES; the interpreter asks for them on
 *              one thread only): an example's tensors then stay in the caches
 *              from one layer to the next, where the whole batch's go out to
 *              memory (MobileNetV2 at batch 8: 38.5 MB after its first
 *              expansion). A tensor made and last read inside a segment
 *              holds one example (each example's overwrites the last's); one
 *              read after it holds the batch and lives from the segment's
 *              first layer, and one made before it and read in it lives to
 *              its last.
 *
 * Inputs (and aliases of them) are the caller's and are not in the arena. A
 * node's output is live while its inputs are read, so no kernel's output
 * overlaps its inputs. At inference, a convolution that runs with the max
 * pool after it as one kernel (fusedPools) writes the pool's output while it
 * reads its own inputs: they live until the pool; and a relu that runs in the
 * add before it (fusedAddRelus) is an alias of the add.
 *
 * Also here: the memory budget (`--max-memory`). Whatever would allocate a
 * plan, a model's weights or a training run's buffers asks `checkMemory`
 * first, with the bytes it is about to need, so that a run too large for the
 * machine is a message with the need and the limit, not a silent
 * multi-gigabyte allocation or V8's `Array buffer allocation failed`.
 */
import { messages, UserError } from '../../diagnostics.js';
import { maskReads } from '../../ir/mask.js';
import type { Graph, Node } from '../../ir/types.js';
import type { AttrsOf } from '../../ops/index.js';
import type { PoolAttrs } from '../../ops/pool.js';
import { ACTIVATION_OP_NAMES, type ActivationAttrs, isNameArgs } from '../../ops/activations.js';
import { humanBytes } from '../../units.js';
import { align } from './wasm/heap.js';
import { platform } from '../../platform/index.js';

export interface Slot {
  /** Byte offset in the arena. */
  offset: number;
  /** Floats the node's output holds. */
  floats: number;
  /** Positions in graph.nodes of its definition and last read. */
  first: number;
  last: number;
}

/**
 * Layers graph.nodes[first..last] that run one example at a time: every
 * example through all of them, then the next example. `perExample`: the
 * layers whose slot holds one example (made and last read in the segment).
 */
export interface Segment {
  first: number;
  last: number;
  perExample: Set<Node>;
}

export interface MemoryPlan {
  batch: number;
  /** The stretches of layers that run an example at a time, in graph order (none in training or at batch 1). */
  segments: Segment[];
  /** Where each node that owns arena bytes keeps its output. */
  slots: Map<Node, Slot>;
  /** For each alias, the node whose buffer it shares (never itself an alias). */
  aliases: Map<Node, Node>;
  /** The arena's size: the end of the highest slot. */
  plannedBytes: number;
  /** What one buffer per activation would take: the sum of the slots' sizes. */
  naiveBytes: number;
  /** The most bytes alive at one step: no plan can use fewer. */
  liveBytes: number;
}

/** Ops whose output is their input's buffer: the kernel changes the shape only. */
export function isAlias(node: Node, training: boolean): boolean {
  return node.op === 'flatten' || node.op === 'reshape' || (node.op === 'dropout' && !training);
}

/**
 * The batch-wide tensor size from which layers run an example at a time
 * (segments above): well beyond what a core's level-2 cache holds (1 MiB on
 * the machines measured). MobileNetV2 at batch 8 on one thread: its stride-2
 * depthwise layers took 2.2-2.6x the time per example of batch 1, and 1.0x
 * by example; 4, 8 and 12 MiB measured alike (0.95-0.97x the whole model's
 * time), and 8 leaves its 28x28 layers, which gained nothing, out.
 */
export const SEGMENT_BYTES = 8 * 2 ** 20;

/**
 * The layers a segment is made around: they read and write about as many
 * bytes as they compute multiply-adds, so their speed is the memory's, and
 * they gained where their tensors came from the caches (above). Pools gained
 * nothing measurable (ResNet-50 at batch 8: 0.998x the time; Inception v3:
 * 1.004x), nor did DenseNet's relus before its 1x1 convolutions (1.01-1.03x).
 */
const DEPTHWISE_OPS = new Set<string>(['depthwise_conv2d', 'fused_depthwise_conv2d']);

/** `segmentBytes`: SEGMENT_BYTES but for tests (0: every stretch that may, Infinity: none). */
export function planMemory(graph: Graph, batch: number, options: { training?: boolean; segmentBytes?: number } = {}): MemoryPlan {
  const training = options.training ?? false;
  const end = graph.nodes.length;
  const position = new Map<Node, number>();
  const aliases = new Map<Node, Node>();
  const batchOf = new Map<Node, number>();
  const root = (n: Node) => aliases.get(n) ?? n;
  const owners: Node[] = [];
  const reluInAdd = new Set(training ? [] : fusedAddRelus(graph).values());
  graph.nodes.forEach((node, i) => {
    position.set(node, i);
    const b = node.op === 'input' ? batch : node.op === 'constant' || node.inputs.length === 0 ? 1 : Math.max(...node.inputs.map((n) => batchOf.get(n)!));
    batchOf.set(node, b);
    if (isAlias(node, training) || reluInAdd.has(node)) aliases.set(node, root(node.inputs[0]));
    else if (node.op !== 'input') owners.push(node);
  });
  const last = new Map<Node, number>();
  graph.nodes.forEach((node, i) => node.inputs.forEach((n) => last.set(root(n), i)));
  for (const out of graph.outputs) last.set(root(out.node), end);
  if (!training) {
    for (const [conv, pool] of fusedPools(graph)) {
      for (const n of conv.inputs) last.set(root(n), Math.max(last.get(root(n)) ?? 0, position.get(pool)!));
    }
  }

  const exampleFloats = (node: Node) => node.type.shape.slice(1).reduce((n: number, d) => n * ((d as number | null) ?? 1), 1);
  const segments =
    training || batch === 1 ? [] : segmentsOf(graph, (node) => batchOf.get(node) === batch && !aliases.has(node), (node) => batchOf.get(node)! * exampleFloats(node) * 4, options.segmentBytes ?? SEGMENT_BYTES);
  const slots = new Map<Node, Slot>();
  for (const node of owners) {
    const first = position.get(node)!;
    slots.set(node, { offset: 0, floats: batchOf.get(node)! * exampleFloats(node), first, last: last.get(node) ?? first });
  }
  for (const segment of segments) {
    for (const [node, slot] of slots) {
      if (slot.first >= segment.first && slot.first <= segment.last) {
        if (slot.last <= segment.last) {
          slot.floats /= batch; // every example's in the same bytes
          segment.perExample.add(node);
        } else slot.first = segment.first; // written example by example from the segment's start
      } else if (slot.first < segment.first && slot.last >= segment.first) slot.last = Math.max(slot.last, segment.last); // read by every example's pass
    }
  }

  // Largest first; each at the lowest gap among the placed slots that are alive with it.
  const bySize = [...slots.values()].sort((a, b) => b.floats - a.floats || a.first - b.first);
  const placed: Slot[] = [];
  let plannedBytes = 0;
  for (const slot of bySize) {
    const bytes = align(slot.floats * 4);
    const busy = placed.filter((p) => p.first <= slot.last && slot.first <= p.last).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + bytes <= p.offset) break;
      offset = Math.max(offset, p.offset + align(p.floats * 4));
    }
    slot.offset = offset;
    placed.push(slot);
    plannedBytes = Math.max(plannedBytes, offset + bytes);
  }

  // Whole batches, as a run without the arena allocates them (segments need the arena).
  let naiveBytes = 0;
  for (const node of owners) naiveBytes += batchOf.get(node)! * exampleFloats(node) * 4;
  const alive = new Array<number>(end + 1).fill(0);
  for (const slot of slots.values()) {
    for (let i = slot.first; i <= slot.last; i++) alive[i] += align(slot.floats * 4);
  }
  return { batch, segments, slots, aliases, plannedBytes, naiveBytes, liveBytes: Math.max(0, ...alive) };
}

/** Ops whose output for an example depends on that example alone, and whose kernels write into the planned buffer. */
const PER_EXAMPLE_OPS = new Set<string>([
  'conv1d',
  'conv2d',
  'fused_conv1d',
  'fused_conv2d',
  'separable_conv2d',
  'fused_separable_conv2d',
  ...DEPTHWISE_OPS,
  'add',
  'maxpool',
  'avgpool',
  ...ACTIVATION_OP_NAMES,
]);

/**
 * The segments of an inference graph: maximal runs of consecutive layers of
 * PER_EXAMPLE_OPS over the whole batch (`wholeBatch`), without the layers
 * that run fused with a neighbour (fusedPools, fusedAddRelus: the pair's
 * kernel reads or writes both), trimmed at both ends to the layers around a
 * depthwise convolution (DEPTHWISE_OPS) that reads or writes at least
 * `minBytes` (`bytes`: a node's output for the whole batch): that layer, the
 * one that makes its input and the one that reads its output. They are what
 * an example at a time speeds up, where its tensors come from the caches; a
 * product-bound layer (a 3x3 convolution) gains nothing and may lose (ResNet-50
 * at batch 8, one thread: 1.04x the time with its blocks by example).
 * Kept if two or more layers are left.
 */
function segmentsOf(graph: Graph, wholeBatch: (node: Node) => boolean, bytes: (node: Node) => number, minBytes: number): Segment[] {
  const paired = new Set([...fusedPools(graph), ...fusedAddRelus(graph)].flat());
  const runs = (node: Node) => PER_EXAMPLE_OPS.has(node.op) && wholeBatch(node) && !paired.has(node) && maskReads(node).length === 0;
  const heavy = new Set(graph.nodes.filter((node) => runs(node) && DEPTHWISE_OPS.has(node.op) && [node, ...node.inputs].some((n) => bytes(n) >= minBytes)));
  const readers = readersOf(graph);
  const near = (node: Node) => heavy.has(node) || node.inputs.some((n) => heavy.has(n)) || (readers.get(node) ?? []).some((n) => heavy.has(n));
  const segments: Segment[] = [];
  const nodes = graph.nodes;
  for (let i = 0; i < nodes.length; i++) {
    if (!runs(nodes[i])) continue;
    let end = i;
    while (end + 1 < nodes.length && runs(nodes[end + 1])) end++;
    let [first, last] = [i, end];
    while (first <= last && !near(nodes[first])) first++;
    while (last >= first && !near(nodes[last])) last--;
    if (last > first) segments.push({ first, last, perExample: new Set() });
    i = end;
  }
  return segments;
}

/**
 * The 2-D convolutions whose output one node alone reads, a 2x2 max pool of
 * stride 2 without padding, with that pool: at inference the two may run as
 * one kernel (kernels/conv.ts conv2dPooled; execute.ts's Interpreter decides
 * at each run, and runs them apart when the kernel declines). Graph outputs
 * excepted.
 */
export function fusedPools(graph: Graph): Map<Node, Node> {
  const readers = readersOf(graph);
  const outputs = new Set(graph.outputs.map((o) => o.node));
  const pairs = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if ((node.op !== 'conv2d' && node.op !== 'fused_conv2d') || outputs.has(node)) continue;
    const [pool, ...others] = readers.get(node) ?? [];
    if (!pool || others.length > 0 || pool.op !== 'maxpool' || pool.inputs.length !== 1) continue;
    const conv = node.resolved as AttrsOf<'conv2d'>;
    const p = pool.resolved as PoolAttrs;
    const halves = p.rank === 2 && p.size.every((n) => n === 2) && p.stride.every((n) => n === 2) && p.padding === 'valid';
    if (conv.rank === 2 && (conv.groups ?? 1) === 1 && p.kind === 'max' && halves) pairs.set(node, pool);
  }
  return pairs;
}

/**
 * The adds whose output one node alone reads, a plain relu (no arguments),
 * with that relu: at inference the add applies it in the same pass over the
 * values (kernels/elementwise.ts add's `relu`; ResNet's blocks end so), and
 * the relu, which then has nothing left to do, shares the add's buffer.
 * Graph outputs excepted.
 */
export function fusedAddRelus(graph: Graph): Map<Node, Node> {
  const readers = readersOf(graph);
  const outputs = new Set(graph.outputs.map((o) => o.node));
  const pairs = new Map<Node, Node>();
  for (const node of graph.nodes) {
    if (node.op !== 'add' || outputs.has(node)) continue;
    const [relu, ...others] = readers.get(node) ?? [];
    if (!relu || others.length > 0 || relu.op !== 'relu' || relu.inputs.length !== 1) continue;
    const { activation, args } = relu.resolved as ActivationAttrs;
    if (isNameArgs(activation, args)) pairs.set(node, relu);
  }
  return pairs;
}

/** Each node's readers: the nodes that take it as an input or read it as a mask. */
function readersOf(graph: Graph): Map<Node, Node[]> {
  const readers = new Map<Node, Node[]>();
  for (const node of graph.nodes) for (const input of new Set([...node.inputs, ...maskReads(node)])) readers.set(input, [...(readers.get(input) ?? []), node]);
  return readers;
}

/**
 * The default budget: half the machine's memory, leaving the rest to Node
 * itself, the operating system and whatever else runs (a dlc run that needs
 * more swaps or is killed, and the user learns nothing from either).
 */
export const DEFAULT_MEMORY_LIMIT = Math.floor(platform.totalMemory() / 2);

let memoryLimit = DEFAULT_MEMORY_LIMIT;

/** Sets the budget in bytes (`--max-memory`); every later checkMemory compares with it. */
export function setMemoryLimit(bytes: number): void {
  memoryLimit = bytes;
}

export const getMemoryLimit = (): number => memoryLimit;

/**
 * Throws a UserError when `parts` (what each kind of buffer takes, in bytes)
 * add up to more than the budget. `what` says whose memory it is ("running
 * model 'Big' at batch 64"), `hint` how to need less; the message adds the
 * flag that raises the limit.
 */
export function checkMemory(what: string, parts: readonly (readonly [kind: string, bytes: number])[], hint: string): void {
  const need = parts.reduce((sum, [, bytes]) => sum + bytes, 0);
  if (need <= memoryLimit) return;
  const shown = parts.filter(([, bytes]) => bytes > 0).map(([kind, bytes]) => `${kind} ${humanBytes(bytes)}`);
  throw new UserError(messages.memoryLimit(what, humanBytes(need), shown, humanBytes(memoryLimit), hint, Math.ceil(need / 2 ** 30), humanBytes(platform.totalMemory())));
}
