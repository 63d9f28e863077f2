/**
 * The rewrite rules as the command line cannot show them. Each rule's effect
 * at inference is a golden case (test/cases/opt_*.dl, with the IR after its
 * pass); what is left here is the training build, which `dlc compile` only
 * makes for a tfjs module with a train section.
 */
import { describe, expect, it } from 'vitest';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { compileText } from '../helpers.js';

/** The IR body lines after `pass`, without source locations. */
function after(pass: string, body: string, training: boolean): string[] {
  const graph = compileText(`model M {\n  input x: [8]\n  ${body}\n}\n`);
  let dump = '';
  optimize(graph, { training, after: (p, g) => p === pass && (dump = printGraph(g)) });
  return dump.split('\n').slice(1, -1).map((l) => l.replace(/\s+#.*$/, '').trim());
}

describe('training builds', () => {
  it('keep dropout (drop-dropout is inference-only)', () => {
    expect(after('simplify', 'output y = x -> dropout(0.5) -> relu', true)).toEqual([
      '%dropout: [8] = dropout(%x, rate=0.5)',
      '%relu: [8] = relu(%dropout)',
      'return y = %relu',
    ]);
  });
  it('still fuse activations, and never share layers with weights', () => {
    expect(after('dce', 'output y = add(x -> dense(4) -> relu, x -> dense(4) -> relu) -> dropout(0.1)', true)).toEqual([
      '%dense: [4] = fused_dense(%x, units=4, bias=true, activation=relu)',
      '%dense_1: [4] = fused_dense(%x, units=4, bias=true, activation=relu)',
      '%add: [4] = add(%dense, %dense_1)',
      '%dropout: [4] = dropout(%add, rate=0.1)',
      'return y = %dropout',
    ]);
  });
});
