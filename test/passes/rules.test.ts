/**
 * The rewrite rules as the command line cannot show them. Each rule's effect
 * at inference is a golden case (test/cases/opt_*.dl, with the IR after its
 * pass); what is left here is the training build, which `dlc compile` only
 * makes for a tfjs module with a train section.
 */
import { describe, expect, it } from 'vitest';
import { printGraph } from '../../src/ir/print.js';
import { Interpreter } from '../../src/backends/interp/execute.js';
import type { Graph } from '../../src/ir/types.js';
import { optimize } from '../../src/passes/pipeline.js';
import { MAX_FOLDED_VALUES } from '../../src/passes/rules.js';
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

describe('folding stops at MAX_FOLDED_VALUES', () => {
  const positional = (steps: number, width: number) => compileText(`model M {\n  input x: [${steps}, ${width}]\n  output y = x -> positional(kind = sinusoidal)\n}\n`);
  const ops = (g: Graph) => g.nodes.map((n) => n.op);

  it('folds a [128, 128] table (16,384 values) into a constant and keeps a [129, 128] one an op', () => {
    expect(MAX_FOLDED_VALUES).toBe(128 * 128);
    expect(ops(optimize(positional(128, 128)).graph)).toEqual(['input', 'constant', 'add']);
    expect(ops(optimize(positional(129, 128)).graph)).toEqual(['input', 'positional']);
  });

  it('computes the unfolded [10000, 500] table at run time: pe[p, 2i] = sin(p / 10000^(2i/500)), pe[p, 2i+1] = cos of it', () => {
    const { graph } = optimize(positional(10000, 500));
    const x = { shape: [1, 10000, 500], data: new Float32Array(10000 * 500) };
    const y = new Interpreter(graph, new Map()).run({ x }).outputs.y.data;
    // Written out from the Transformer paper's formula, in float64.
    for (const [p, j] of [[0, 0], [0, 1], [1, 0], [9999, 0], [9999, 1], [9999, 100], [9999, 101], [5000, 499]]) {
      const angle = p / 10000 ** ((j - (j % 2)) / 500);
      expect(y[p * 500 + j]).toBeCloseTo(j % 2 === 0 ? Math.sin(angle) : Math.cos(angle), 5);
    }
  });
});
