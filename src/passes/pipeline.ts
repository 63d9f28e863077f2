/**
 * The optimizer: the named passes in the order they run. `--opt 0` runs none,
 * `--opt 1` (the default) runs them all; training builds skip the rules marked
 * inference-only (dropout stays, batchnorm is not folded). Each pass's result can be dumped by name.
 */
import type { Graph } from '../ir/types.js';
import { eliminateDeadNodes, PassOptions, RewriteResult, rewriteGraph } from './rewrite.js';
import { BATCHNORM, cseRules, FOLD, FUSE, SIMPLIFY } from './rules.js';

export interface Pass {
  name: string;
  doc: string;
  run(graph: Graph, options: PassOptions): RewriteResult;
}

export const PIPELINE: readonly Pass[] = [
  { name: 'fold', doc: 'evaluate constant subgraphs (the sinusoidal table, ops on constants)', run: (g, o) => rewriteGraph(g, FOLD, o) },
  { name: 'simplify', doc: 'remove dropout at inference and identity reshapes/concats; fold a zero padding into the window after it', run: (g, o) => rewriteGraph(g, SIMPLIFY, o) },
  { name: 'cse', doc: 'share nodes that compute the same thing', run: (g, o) => rewriteGraph(g, cseRules(), o) },
  { name: 'bnfold', doc: 'fold batchnorm into the dense/conv before it at inference', run: (g, o) => rewriteGraph(g, BATCHNORM, o) },
  { name: 'fuse', doc: 'fuse dense/conv with a following activation', run: (g, o) => rewriteGraph(g, FUSE, o) },
  { name: 'dce', doc: 'drop nodes that reach no output', run: (g) => eliminateDeadNodes(g) },
];

export interface PassStats {
  pass: string;
  nodesBefore: number;
  nodesAfter: number;
  changes: string[];
}

export interface OptimizeOptions {
  level?: number;
  training?: boolean;
  /** Called with the graph after each pass (for --dump-after). */
  after?: (pass: string, graph: Graph) => void;
}

export function optimize(graph: Graph, options: OptimizeOptions = {}): { graph: Graph; stats: PassStats[] } {
  const stats: PassStats[] = [];
  if ((options.level ?? 1) === 0) return { graph, stats };
  let current = graph;
  for (const pass of PIPELINE) {
    const result = pass.run(current, { training: options.training ?? false });
    stats.push({ pass: pass.name, nodesBefore: current.nodes.length, nodesAfter: result.graph.nodes.length, changes: result.changes });
    current = result.graph;
    options.after?.(pass.name, current);
  }
  return { graph: current, stats };
}

export const passNames = (): string[] => PIPELINE.map((p) => p.name);
