/**
 * Shape inference and attribute resolution: one pass over the nodes in
 * topological order calling each op's shape rule, which stores the node's
 * output type and its resolved attribute record (`Node.resolved`). A failing
 * node reports one located diagnostic naming the op and the shapes; nodes
 * downstream of it are skipped, not reported again.
 * Also computes each layer's parameters and FLOPs for summaries.
 */
import { Diagnostic, messages } from '../diagnostics.js';
import { lookupOp } from '../ops/index.js';
import { OpContext, OpDef, OpError, ParamSpec, product } from '../ops/op.js';
import { outputMask } from './mask.js';
import type { Graph, Node } from './types.js';

const opOf = (node: Node): OpDef => lookupOp(node.op)!;

/**
 * Runs `node`'s shape rule on its inputs' types, storing its type, resolved
 * attributes and padding mask (ir/mask.ts); throws OpError when the inputs do
 * not fit. Passes call it for the nodes they make.
 */
export function resolveNode(node: Node): Node {
  const { type, attrs } = opOf(node).infer(new OpContext(opOf(node), node.inputs.map((n) => n.type), node.attrs, node.maskArg?.type));
  node.type = type;
  node.resolved = attrs;
  node.mask = outputMask(node);
  return node;
}

/** Types every node in place; returns false if any node failed. */
export function inferShapes(graph: Graph, diagnostics: Diagnostic[]): boolean {
  const failed = new Set<Node>();
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    if (node.inputs.some((i) => failed.has(i))) {
      failed.add(node);
      continue;
    }
    const intInput = node.inputs.find((i) => i.type.dtype === 'int32');
    if (intInput && !opOf(node).acceptsInt) {
      diagnostics.push(messages.intInput(node.span, node.op));
      failed.add(node);
      continue;
    }
    try {
      resolveNode(node);
    } catch (e) {
      if (!(e instanceof OpError)) throw e;
      diagnostics.push(messages.shape(node.span, node.op, e.message, e.hint));
      failed.add(node);
    }
  }
  return failed.size === 0;
}

export interface LayerStats {
  node: Node;
  params: ParamSpec[];
  paramCount: number;
  trainableCount: number;
  flops: number;
}

/**
 * The parameters (weights, state and fixed kernels) of a typed node. A shared
 * layer's later calls (Node.shared) read its first call's weights: theirs are
 * marked shared, under the layer's name.
 */
export function paramsOf(node: Node): ParamSpec[] {
  const specs = opOf(node).params?.(node.resolved) ?? [];
  if (!node.shared || node.shared.use === 0) return specs;
  const layer = node.shared.layer;
  return specs.map((p) => (p.value || p.layer !== undefined ? p : { ...p, layer, shared: true }));
}

/** Parameters and FLOPs of a typed node; another layer's weights that it reads (ParamSpec.shared) count with that layer. */
export function layerStats(node: Node): LayerStats {
  const params = paramsOf(node);
  const count = (ps: ParamSpec[]) => ps.reduce((sum, p) => sum + (p.shared ? 0 : product(p.shape)), 0);
  return {
    node,
    params,
    paramCount: count(params),
    trainableCount: count(params.filter((p) => p.trainable)),
    flops: opOf(node).flops?.(node.resolved) ?? 0,
  };
}

/** The node's short label for diagrams and summaries (`32 3x3 same`), '' when its op has none. */
export const labelOf = (node: Node): string => opOf(node).label?.(node.resolved) ?? '';
