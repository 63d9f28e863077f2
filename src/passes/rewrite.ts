/**
 * The rewrite engine every pass uses: walks the graph in topological order,
 * offers each node (with its inputs already rewritten) to a table of rules, and
 * rebuilds the graph. A rule returns a replacement node (new, or an existing one
 * such as its own input) or nothing. Graphs are never mutated; each pass makes
 * a new one, so a dump after any pass shows exactly that pass's result.
 */
import { resolveNode } from '../ir/infer.js';
import { outputMask } from '../ir/mask.js';
import type { Graph, Node, TensorType } from '../ir/types.js';

const UNTYPED: TensorType = { shape: [], dtype: 'float32' };

export interface PassOptions {
  /** Training builds keep dropout and anything gradients need. */
  training: boolean;
}

export interface RuleContext {
  options: PassOptions;
  /** How many nodes read `node` in the graph being rewritten. */
  uses(node: Node): number;
  isOutput(node: Node): boolean;
  /** Makes a node for the rebuilt graph, typed and resolved by its op's shape rule (ids are assigned at the end). */
  make(fields: Omit<Node, 'id' | 'type' | 'resolved'>): Node;
}

export interface Rule {
  name: string;
  /** One line: the pattern and its replacement, e.g. `dropout(x) -> x`. */
  doc: string;
  inferenceOnly?: boolean;
  apply(node: Node, cx: RuleContext): Node | undefined;
}

export interface RewriteResult {
  graph: Graph;
  /** One line per rewrite applied: `<rule>: <layer>`. */
  changes: string[];
}

export function rewriteGraph(graph: Graph, rules: readonly Rule[], options: PassOptions): RewriteResult {
  const active = rules.filter((r) => !(r.inferenceOnly && options.training));
  const uses = new Map<Node, number>();
  for (const node of graph.nodes) for (const input of node.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
  const outputs = new Set(graph.outputs.map((o) => o.node));
  // Counts and output marks follow each node to its rewritten form.
  const newUses = new Map<Node, number>();
  const newOutputs = new Set<Node>();
  const mapped = new Map<Node, Node>();
  const nodes: Node[] = [];
  const placed = new Set<Node>();
  /** Appends a node after any inputs a rule made for it (e.g. a folded constant). */
  const place = (node: Node): void => {
    if (placed.has(node)) return;
    node.inputs.forEach(place);
    placed.add(node);
    nodes.push(node);
  };
  const changes: string[] = [];
  const cx: RuleContext = {
    options,
    uses: (n) => newUses.get(n) ?? 0,
    isOutput: (n) => newOutputs.has(n),
    make: (fields) => resolveNode({ id: -1, type: UNTYPED, resolved: undefined, ...fields }),
  };
  for (const old of graph.nodes) {
    let node: Node = { ...old, inputs: old.inputs.map((i) => mapped.get(i)!), ...(old.maskArg && { maskArg: mapped.get(old.maskArg) }) };
    node.mask = outputMask(node); // references the rebuilt graph's inputs
    newUses.set(node, uses.get(old) ?? 0);
    if (outputs.has(old)) newOutputs.add(node);
    for (let round = 0, changed = true; changed && round < 8; round++) {
      changed = false;
      for (const rule of active) {
        const replacement = node.op === 'input' ? undefined : rule.apply(node, cx);
        if (!replacement) continue;
        changes.push(`${rule.name}: ${node.name}`);
        newUses.set(replacement, (newUses.get(replacement) ?? 0) + (newUses.get(node) ?? 0));
        if (newOutputs.has(node)) newOutputs.add(replacement);
        node = replacement;
        changed = true;
        break;
      }
    }
    mapped.set(old, node);
    place(node);
  }
  return { graph: withIds({ ...graph, nodes, inputs: graph.inputs.map((i) => mapped.get(i)!), outputs: graph.outputs.map((o) => ({ name: o.name, node: mapped.get(o.node)! })) }), changes };
}

/**
 * Keeps the nodes that an output depends on (and every model input, which is
 * part of the model's signature), in order, with fresh ids.
 */
export function eliminateDeadNodes(graph: Graph): RewriteResult {
  const live = new Set<Node>(graph.inputs);
  const stack = graph.outputs.map((o) => o.node);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (live.has(n) && n.op !== 'input') continue;
    live.add(n);
    stack.push(...n.inputs.filter((i) => !live.has(i)));
  }
  const nodes = graph.nodes.filter((n) => live.has(n));
  // New node objects so that ids can change without touching the input graph.
  const copy = new Map<Node, Node>();
  for (const n of nodes) {
    const c: Node = { ...n, inputs: n.inputs.map((i) => copy.get(i)!), ...(n.maskArg && { maskArg: copy.get(n.maskArg) }) };
    if (c.op !== 'input') c.mask = outputMask(c);
    copy.set(n, c);
  }
  const changes = graph.nodes.filter((n) => !live.has(n)).map((n) => `dead: ${n.name}`);
  return {
    graph: withIds({ ...graph, nodes: [...copy.values()], inputs: graph.inputs.map((i) => copy.get(i)!), outputs: graph.outputs.map((o) => ({ name: o.name, node: copy.get(o.node)! })) }),
    changes,
  };
}

function withIds(graph: Graph): Graph {
  graph.nodes.forEach((n, i) => (n.id = i));
  return graph;
}
