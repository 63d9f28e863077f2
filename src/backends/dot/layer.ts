/**
 * What a node is, for every view's labels: its op (a layer applying
 * activation A itself, `dense(activation = A)` or an optimizer's `fused_X`
 * node, reads `X + A`; with a batchnorm folded in, `X + bn + A`, or `X + bn`
 * without activation), key attributes (OpDef.label of the
 * node's resolved attributes), op family (the colour) and parameter count.
 * A node without resolved attributes (never typed) gets a plain label.
 */
import { paramsOf } from '../../ir/infer.js';
import { maskReads } from '../../ir/mask.js';
import type { Graph, Node } from '../../ir/types.js';
import { ownActivation } from '../../ops/common.js';
import { lookupOp } from '../../ops/index.js';
import { OpDef, OpFamily, product } from '../../ops/op.js';
import { plural } from './dot.js';
import type { DiagramOptions } from './index.js';

export interface LayerInfo {
  /** The op, or `X + A` for an optimizer's `fused_X` node with activation A. */
  title: string;
  /** The op's key attributes (OpDef.label), e.g. `32 3x3 same`. */
  detail: string;
  family: OpFamily;
  params: number;
  op?: OpDef;
}

/** Labels and counts of one node; a `fused_X` node is labelled with X's attributes. */
export function layerInfo(node: Node): LayerInfo {
  const op = lookupOp(node.op)!;
  const fused = node.op.startsWith('fused_');
  const base = fused ? lookupOp(node.op.slice('fused_'.length))! : op;
  const resolved = node.resolved as { activation?: string; batchnorm?: unknown } | undefined;
  const activation = ownActivation(op, resolved);
  const title = activation || resolved?.batchnorm ? [base.name, resolved?.batchnorm ? 'bn' : '', activation ?? ''].filter(Boolean).join(' + ') : node.op;
  if (resolved === undefined) return { title, detail: '', family: op.family, params: 0, op };
  const params = paramsOf(node).reduce((sum, p) => sum + (p.shared ? 0 : product(p.shape)), 0); // a tied or shared weight counts with its own layer
  // A layer that reads a padding or attention mask says so (ir/mask.ts).
  const detail = [base.label?.(resolved) ?? '', maskReads(node).length > 0 ? 'masked' : ''].filter(Boolean).join(' ');
  return { title, detail, family: op.family, params, op };
}

export const totalParams = (graph: Graph): number => graph.nodes.reduce((sum, n) => sum + layerInfo(n).params, 0);

/** The figure caption: the model's name and parameter count. */
export const captionText = (graph: Graph, options: DiagramOptions): string =>
  options.params ? `${graph.name} · ${plural(totalParams(graph), 'param')}` : graph.name;
