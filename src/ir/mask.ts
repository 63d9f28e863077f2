/**
 * Keras's mask propagation, in one place: which value carries a padding mask
 * (`Node.mask`) and which layers read one. Not here: what a reading layer does
 * with it (its kernel and tfjs template).
 *
 * A mask is a list of model inputs, read as "step t of example b is real when
 * each of them is nonzero at [b, t]". Keras makes it a boolean tensor that
 * travels with the value; here it stays a reference to the token ids it came
 * from (or to a `mask =` input), because every mask Keras can make from
 * embedding(mask_zero) and merges is such a conjunction, and a reference
 * needs no node, no memory plan entry and no gradient: the few layers that
 * read it (MASK_READERS) compute it from the ids at run time.
 *
 *   source   embedding(mask_zero = true): its token ids
 *   passed   dense, dropout, layernorm, batchnorm, activations, positional,
 *            attention (the query's), recurrent layers with sequences
 *   combined add, multiply, subtract, maximum, minimum, average: AND of the
 *            inputs' masks (an unmasked input adds nothing), as Keras's Merge
 *   concat   on the last axis Keras ORs the masks: kept when every input has
 *            the same mask; an unmasked input makes every step real (none)
 *   ended    everything else (flatten, reshape, conv, pools, global pools,
 *            take/slice/permute/mean/sum, recurrent layers without sequences)
 */
import { ACTIVATION_OP_NAMES } from '../ops/activations.js';
import type { OpName } from '../ops/index.js';
import type { Node } from './types.js';

/** Ops whose output has their first input's mask (Keras's supports_masking with the default compute_mask). */
const PASS = new Set<OpName>(['dense', 'fused_dense', 'dropout', 'layernorm', 'batchnorm', 'positional', 'attention', ...ACTIVATION_OP_NAMES]);
/** Elementwise merges: the AND of their inputs' masks. */
const AND = new Set<OpName>(['add', 'multiply', 'subtract', 'maximum', 'minimum', 'average']);
/** Ops whose kernels read their inputs' masks (and attention its `mask =` argument). */
export const MASK_READERS = new Set<OpName>(['rnn', 'lstm', 'gru', 'bidirectional', 'attention', 'global_avgpool']);

/** The mask of a typed node's output, from its op and its inputs' masks. */
export function outputMask(node: Node): Node[] | undefined {
  const op = node.op;
  if (op === 'embedding') return node.attrs.mask_zero === true ? [node.inputs[0]] : undefined;
  if (PASS.has(op)) return node.inputs[0]?.mask;
  if (AND.has(op)) return union(node.inputs.map((i) => i.mask));
  if (op === 'concat') {
    const last = (node.resolved as { axis: number }).axis === node.type.shape.length - 1;
    const [first, ...rest] = node.inputs.map((i) => i.mask);
    return last && first && rest.every((m) => m && sameMask(m, first)) ? first : undefined;
  }
  if (op === 'rnn' || op === 'lstm' || op === 'gru') return (node.resolved as { sequences: boolean }).sequences ? node.inputs[0].mask : undefined;
  if (op === 'bidirectional') return (node.resolved as { layer: { sequences: boolean } }).layer.sequences ? node.inputs[0].mask : undefined;
  return undefined;
}

/** The model inputs a node's kernel reads for masks: its inputs' masks and its `mask =` argument (execute.ts keeps them alive until then). */
export function maskReads(node: Node): Node[] {
  if (!MASK_READERS.has(node.op)) return [];
  return [...new Set([...node.inputs.flatMap((i) => i.mask ?? []), ...(node.maskArg ? [node.maskArg] : [])])];
}

/** Rewrites a node's mask references after a pass copied the graph (`map` from old nodes to new). */
export function remapMasks(node: Node, map: (n: Node) => Node): void {
  if (node.mask) node.mask = node.mask.map(map);
  if (node.maskArg) node.maskArg = map(node.maskArg);
}

function union(masks: (Node[] | undefined)[]): Node[] | undefined {
  const all = [...new Set(masks.flatMap((m) => m ?? []))];
  return all.length > 0 ? all : undefined;
}

const sameMask = (a: Node[], b: Node[]) => a.length === b.length && a.every((n) => b.includes(n));
