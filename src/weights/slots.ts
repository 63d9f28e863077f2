/**
 * The weights a graph needs: one float32 tensor per parameter, named
 * `<layer>.<param>` (`conv2d.kernel`, `lstm.recurrent_kernel`,
 * `bidirectional.forward.kernel`), with its shape and initialiser. Fixed
 * kernels written in the source are constants of the graph, not weights.
 * A tensor several nodes read (a shared layer's calls, a head tied to an
 * embedding: ParamSpec.shared) is one slot, under its own layer's name.
 * The interpreter allocates these and the TensorFlow.js emitter lists them.
 */
import { layerStats } from '../ir/infer.js';
import type { Graph, Node } from '../ir/types.js';
import type { ParamSpec } from '../ops/op.js';

export interface WeightSlot {
  /** The name in the weights file. */
  name: string;
  node: Node;
  spec: ParamSpec;
}

/** The name in the weights file of `node`'s parameter `spec`: its own layer's, or the one the spec names (a folded batchnorm, a tied or shared weight). */
export const weightName = (node: Node, spec: ParamSpec): string => `${spec.layer ?? node.name}.${spec.name}`;

/** Every weight a graph needs, once each, in the order of the nodes that first read them; fixed (source-given) kernels excluded. */
export function weightSlots(graph: Graph): WeightSlot[] {
  const slots = new Map<string, WeightSlot>();
  for (const node of graph.nodes)
    for (const spec of layerStats(node).params) {
      if (spec.value) continue;
      const name = weightName(node, spec);
      const seen = slots.get(name);
      // The owner's spec (its initialiser) replaces a reader's met first, in place.
      if (!seen || (seen.spec.shared && !spec.shared)) slots.set(name, { name, node, spec });
    }
  return [...slots.values()];
}
