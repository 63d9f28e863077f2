/**
 * Each rewrite rule on a minimal model: the IR after its pass, as text.
 * (Source in, IR out; the expected IR is written by hand from the rule's doc line.)
 */
import { describe, expect, it } from 'vitest';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { compileText } from '../helpers.js';

/** The IR body lines after `pass`, without source locations. */
function after(pass: string, body: string, input = 'input x: [8]', training = false): string[] {
  const graph = compileText(`model M {\n  ${input}\n  ${body}\n}\n`);
  let dump = '';
  optimize(graph, { training, after: (p, g) => p === pass && (dump = printGraph(g)) });
  return dump.split('\n').slice(1, -1).map((l) => l.replace(/\s+#.*$/, '').trim());
}

describe('simplify', () => {
  it('dropout(x) -> x at inference', () => {
    expect(after('simplify', 'output y = x -> dropout(0.5) -> relu')).toEqual(['%relu: [8] = relu(%x)', 'return y = %relu']);
  });
  it('keeps dropout when training', () => {
    expect(after('simplify', 'output y = x -> dropout(0.5) -> relu', undefined, true)).toEqual([
      '%dropout: [8] = dropout(%x, rate=0.5)',
      '%relu: [8] = relu(%dropout)',
      'return y = %relu',
    ]);
  });
  it('reshape to the same shape -> x; flatten of a vector -> x; concat(x) -> x', () => {
    expect(after('simplify', 'output y = concat(x -> reshape([8]) -> flatten) -> relu')).toEqual(['%relu: [8] = relu(%x)', 'return y = %relu']);
  });
  it('keeps a reshape that changes the shape', () => {
    expect(after('simplify', 'output y = x -> reshape([2, 4])')).toEqual(['%reshape: [2, 4] = reshape(%x, shape=[2, 4])', 'return y = %reshape']);
  });
});

describe('cse', () => {
  it('two identical weight-free nodes become one', () => {
    expect(after('dce', 'output y = add(x -> relu, x -> relu)')).toEqual(['%relu: [8] = relu(%x)', '%add: [8] = add(%relu, %relu)', 'return y = %add']);
  });
  it('never merges layers with weights', () => {
    expect(after('dce', 'output y = add(x -> dense(8), x -> dense(8))')).toHaveLength(4);
  });
});

describe('fuse', () => {
  it('dense -> relu becomes fused_dense with the dense layer name', () => {
    expect(after('dce', 'output y = x -> dense(4) -> relu')).toEqual(['%dense: [4] = fused_dense(%x, units=4, bias=true, activation=relu)', 'return y = %dense']);
  });
  it('conv2d -> sigmoid and conv1d -> tanh fuse', () => {
    expect(after('dce', 'output y = x -> conv2d(2, kernel = 3) -> sigmoid', 'input x: [5, 5, 1]')[0]).toContain('fused_conv2d(%x, filters=2, kernel=3, stride=1, padding=valid, dilation=1, activation=sigmoid)');
    expect(after('dce', 'output y = x -> conv1d(2, kernel = 3) -> tanh', 'input x: [5, 1]')[0]).toContain('fused_conv1d(');
  });
  it('does not fuse when the pre-activation value is used elsewhere', () => {
    expect(after('dce', 'h = x -> dense(8)\n  output y = add(h, h -> relu)')).toEqual([
      '%dense: [8] = dense(%x, units=8, bias=true)',
      '%relu: [8] = relu(%dense)',
      '%add: [8] = add(%dense, %relu)',
      'return y = %add',
    ]);
  });
  it('does not fuse softmax (no fused kernel takes it)', () => {
    expect(after('dce', 'output y = x -> dense(4) -> softmax')).toHaveLength(3);
  });
});

describe('fold', () => {
  it('the sinusoidal table becomes a constant added to the input', () => {
    const lines = after('fold', 'output y = x -> positional(kind = sinusoidal)', 'input x: [3, 4]');
    expect(lines[0]).toBe('%positional/table: [3, 4] = constant(value=tensor<3x4>[0, 1, 0, 1, 0.841471, 0.540302, 0.00999983, 0.99995, 0.909297, ...])');
    expect(lines[1]).toBe('%positional: [3, 4] = add(%x, %positional/table)');
    // sin(1) = 0.841471, cos(1) = 0.540302; the second pair uses 1/10000^(2/4) = 0.01: sin(0.01), cos(0.01).
  });
  it('learned positions are weights, not constants', () => {
    expect(after('fold', 'output y = x -> positional(kind = learned)', 'input x: [3, 4]')).toEqual(['%positional: [3, 4] = positional(%x, kind=learned)', 'return y = %positional']);
  });
});

describe('dce', () => {
  it('drops values no output needs', () => {
    expect(after('dce', 'unused = x -> dense(3)\n  output y = x -> relu')).toEqual(['%relu: [8] = relu(%x)', 'return y = %relu']);
  });
});
