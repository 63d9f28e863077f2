/**
 * Shape inference: one pass over the nodes in topological order calling each
 * op's shape rule. A failing node reports one located diagnostic naming the op
 * and the shapes; nodes downstream of it are skipped, not reported again.
 * Also computes each layer's parameters and FLOPs for summaries.
 */
import { Diagnostic, messages } from '../diagnostics.js';
import { lookupOp } from '../ops/index.js';
import { OpContext, OpError, ParamSpec, product } from '../ops/op.js';
import type { Graph, Node } from './types.js';

export const contextOf = (node: Node): OpContext => new OpContext(lookupOp(node.op)!, node.inputs.map((n) => n.type), node.attrs);

/** Types every node in place; returns false if any node failed. */
export function inferShapes(graph: Graph, diagnostics: Diagnostic[]): boolean {
  const failed = new Set<Node>();
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    if (node.inputs.some((i) => failed.has(i))) {
      failed.add(node);
      continue;
    }
    const op = lookupOp(node.op)!;
    const intInput = node.inputs.find((i) => i.type.dtype === 'int32');
    if (intInput && !op.acceptsInt) {
      diagnostics.push(messages.intInput(node.span, node.op));
      failed.add(node);
      continue;
    }
    try {
      node.type = op.infer(contextOf(node));
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

/** Parameters and FLOPs of a typed node. */
export function layerStats(node: Node): LayerStats {
  const op = lookupOp(node.op)!;
  const ctx = contextOf(node);
  const params = op.params?.(ctx) ?? [];
  const count = (ps: ParamSpec[]) => ps.reduce((sum, p) => sum + product(p.shape), 0);
  return {
    node,
    params,
    paramCount: count(params),
    trainableCount: count(params.filter((p) => p.trainable)),
    flops: op.flops?.(ctx, node.type) ?? 0,
  };
}
