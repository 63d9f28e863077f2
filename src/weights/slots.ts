/**
 * The weights a graph needs: one float32 tensor per parameter, named
 * `<layer>.<param>` (`conv2d.kernel`, `lstm.recurrent_kernel`,
 * `bidirectional.forward.kernel`), with its shape and initialiser. Fixed
 * kernels written in the source are constants of the graph, not weights.
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

/** Every weight a graph needs, in graph order; fixed (source-given) kernels excluded. */
export function weightSlots(graph: Graph): WeightSlot[] {
  return graph.nodes.flatMap((node) =>
    layerStats(node)
      .params.filter((spec) => !spec.value)
      .map((spec) => ({ name: `${spec.layer ?? node.name}.${spec.name}`, node, spec })),
  );
}
