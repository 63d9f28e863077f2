/**
 * What a node is, for every view's labels: its op (an optimizer's `fused_X`
 * node with activation A reads `X + A`), key attributes (OpDef.label), op
 * family (the colour) and parameter count. Never throws on an op missing from
 * the registry: such a node gets a plain label.
 */
import type { Graph, Node } from '../../ir/types.js';
import { lookupOp } from '../../ops/index.js';
import { OpContext, OpDef, OpFamily, product } from '../../ops/op.js';
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
  const registered = lookupOp(node.op);
  if (!node.op.startsWith('fused_')) return registered ? infoFrom(node, registered, node.op, registered) : { title: node.op, detail: '', family: 'core', params: 0 };
  const base = node.op.slice('fused_'.length);
  const act = node.attrs.activation;
  const activation = typeof act === 'string' ? act : act && typeof act === 'object' && 'symbol' in act ? act.symbol : undefined;
  const title = activation ? `${base} + ${activation}` : base;
  const baseOp = lookupOp(base);
  const op = registered ?? baseOp;
  if (!op) return { title, detail: '', family: 'core', params: 0 };
  try {
    return infoFrom(node, op, title, baseOp ?? op);
  } catch {
    return { title, detail: '', family: op.family, params: 0, op };
  }
}

/** `labelOp` gives the attribute label: a fused op's base, whose label leaves out the activation. */
function infoFrom(node: Node, op: OpDef, title: string, labelOp: OpDef): LayerInfo {
  const types = node.inputs.map((i) => i.type);
  const params = (op.params?.(new OpContext(op, types, node.attrs)) ?? []).reduce((sum, p) => sum + product(p.shape), 0);
  return { title, detail: labelOp.label?.(new OpContext(labelOp, types, node.attrs)) ?? '', family: op.family, params, op };
}

export const totalParams = (graph: Graph): number => graph.nodes.reduce((sum, n) => sum + layerInfo(n).params, 0);

/** The figure caption: the model's name and parameter count. */
export const captionText = (graph: Graph, options: DiagramOptions): string =>
  options.params ? `${graph.name} · ${plural(totalParams(graph), 'param')}` : graph.name;
