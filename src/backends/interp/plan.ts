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
import { type ActivationAttrs, isNameArgs } from '../../ops/activations.js';
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

export interface MemoryPlan {
  batch: number;
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

export function planMemory(graph: Graph, batch: number, options: { training?: boolean } = {}): MemoryPlan {
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

  const slots = new Map<Node, Slot>();
  for (const node of owners) {
    const first = position.get(node)!;
    const floats = batchOf.get(node)! * node.type.shape.slice(1).reduce((n: number, d) => n * ((d as number | null) ?? 1), 1);
    slots.set(node, { offset: 0, floats, first, last: last.get(node) ?? first });
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

  let naiveBytes = 0;
  const alive = new Array<number>(end + 1).fill(0);
  for (const slot of slots.values()) {
    naiveBytes += slot.floats * 4;
    for (let i = slot.first; i <= slot.last; i++) alive[i] += align(slot.floats * 4);
  }
  return { batch, slots, aliases, plannedBytes, naiveBytes, liveBytes: Math.max(0, ...alive) };
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
