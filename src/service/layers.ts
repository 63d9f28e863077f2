/**
 * Where the checked graphs came from: the nodes each call or stage of the
 * source made (one per model, or one per block instance), the instances of
 * each block call, and the value an expression stands for. Hover and inlay
 * hints read shapes, parameters and FLOPs through this.
 */
import type { Expr, Span, Stmt } from '../frontend/ast.js';
import type { BlockFrame, Graph, Node } from '../ir/types.js';
import type { SymbolTable } from './symbols.js';
import { occurrenceAt } from './symbols.js';

export interface Instance {
  graph: Graph;
  frame: BlockFrame;
  nodes: Node[];
  /** The nodes read from outside the instance: its results. */
  outputs: Node[];
}

const key = (s: Span) => `${s.start}:${s.end}`;

export class LayerIndex {
  private bySpan = new Map<string, Node[]>();
  private instances = new Map<string, Instance[]>();

  constructor(readonly graphs: Graph[]) {
    for (const graph of graphs) {
      const groups = new Map<string, Instance>();
      for (const node of graph.nodes) {
        this.add(key(node.shared?.at ?? node.span), node);
        for (const frame of node.blockPath) {
          let g = groups.get(frame.instance);
          if (!g) {
            groups.set(frame.instance, (g = { graph, frame, nodes: [], outputs: [] }));
            const list = this.instances.get(key(frame.span)) ?? [];
            list.push(g);
            this.instances.set(key(frame.span), list);
          }
          g.nodes.push(node);
        }
      }
      const read = (n: Node, by?: Node) => {
        for (const frame of n.blockPath)
          if (!by || !by.blockPath.some((f) => f.instance === frame.instance)) {
            const g = groups.get(frame.instance)!;
            if (!g.outputs.includes(n)) g.outputs.push(n);
          }
      };
      for (const node of graph.nodes) for (const input of node.inputs) read(input, node);
      for (const out of graph.outputs) read(out.node);
    }
  }

  private add(k: string, node: Node) {
    const list = this.bySpan.get(k);
    if (list) list.push(node);
    else this.bySpan.set(k, [node]);
  }

  /** The layers a call or stage made, in every model and block instance (not its block's inner layers). */
  nodesAt(span: Span): Node[] {
    return this.bySpan.get(key(span)) ?? [];
  }

  instancesAt(span: Span): Instance[] {
    return this.instances.get(key(span)) ?? [];
  }

  /** The nodes whose values `e` stands for (several where a block's line runs in several instances). */
  valueNodes(e: Expr, symbols: SymbolTable | undefined, depth = 0): Node[] {
    if (depth > 50) return [];
    switch (e.kind) {
      case 'chain':
        return this.valueNodes(e.stages.at(-1)!, symbols, depth + 1);
      case 'as': {
        const own = this.nodesAt(e.span);
        return own.length > 0 ? own : this.valueNodes(e.expr, symbols, depth + 1);
      }
      case 'call':
      case 'name': {
        const own = this.nodesAt(e.span).filter((n) => n.op !== 'result');
        if (own.length > 0) return own;
        const inst = this.instancesAt(e.span);
        if (inst.length > 0) return inst.flatMap((i) => i.outputs.slice(-1));
        if (e.kind === 'name' && symbols) {
          const sym = occurrenceAt(symbols, e.span.start)?.sym;
          if (sym?.stmt) return this.symbolNodes(sym.stmt, sym.part, symbols, depth + 1);
        }
        return [];
      }
      default:
        return [];
    }
  }

  /** The nodes a value's defining statement made. */
  symbolNodes(stmt: Stmt, part: number | undefined, symbols: SymbolTable | undefined, depth = 0): Node[] {
    if (stmt.kind === 'input') return this.nodesAt(stmt.span).filter((n) => n.op === 'input');
    if (stmt.kind === 'unpack') return this.nodesAt(stmt.span).filter((n) => n.op === 'result' && n.attrs.index === part);
    return this.valueNodes(stmt.value, symbols, depth);
  }
}
