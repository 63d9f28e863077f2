/**
 * Graph building's bounds (issue 16): deep but legal programs build, and
 * programs past a limit get a located error that names it, before the work
 * that would exhaust the stack or the heap.
 */
import { describe, expect, it } from 'vitest';
import { GRAPH_LIMITS } from '../../src/ir/build.js';
import { compileText, errorsOf } from '../helpers.js';

/** `n` values, each the previous one through relu, written last-defined first. */
function reverseOrder(n: number): string {
  const lines = Array.from({ length: n - 1 }, (_, k) => `  v${n - 1 - k} = v${n - 2 - k} -> relu`);
  return `model M {\n  input x: [4]\n  output y = v${n - 1}\n${lines.join('\n')}\n  v0 = x -> relu\n}\n`;
}

/** Block b0 calls b1, which calls b2, ... b(n-1) applies relu. */
function blockChain(n: number): string {
  const blocks = Array.from({ length: n }, (_, i) => `block b${i}() {\n  input x\n  output y = x -> ${i + 1 < n ? `b${i + 1}()` : 'relu'}\n}`);
  return `${blocks.join('\n')}\nmodel M {\n  input x: [4]\n  output y = x -> b0()\n}\n`;
}

describe('values defined in reverse order', () => {
  for (const n of [3_000, 10_000]) {
    it(`${n.toLocaleString('en-US')} of them build a chain of ${n} relus, in dependency order`, () => {
      const g = compileText(reverseOrder(n));
      expect(g.nodes).toHaveLength(n + 1);
      // Each relu reads the one before it: a path from the input to the output.
      g.nodes.slice(1).forEach((node, i) => expect(node.inputs[0]).toBe(g.nodes[i]));
      expect(g.outputs[0].node).toBe(g.nodes[n]);
    });
  }

  it('a short reverse chain keeps first-use numbering', () => {
    const g = compileText(reverseOrder(5));
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'relu', 'relu_1', 'relu_2', 'relu_3', 'relu_4']);
  });

  it(`a cycle of 3,000 values is an error once it is ${GRAPH_LIMITS.valueDepth} deep, not a stack overflow`, () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `  v${i} = v${(i + 1) % 3000} -> relu`);
    const errors = errorsOf(`model M {\n  input x: [4]\n  output y = v0\n${lines.join('\n')}\n}\n`);
    expect(errors.map((e) => e.message)).toContain(`values depend on values more than ${GRAPH_LIMITS.valueDepth} deep while checking this line`);
  });
});

describe(`blocks calling blocks (limit ${GRAPH_LIMITS.blockDepth})`, () => {
  it(`${GRAPH_LIMITS.blockDepth} deep builds`, () => {
    const g = compileText(blockChain(GRAPH_LIMITS.blockDepth));
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'relu']);
    expect(g.nodes[1].blockPath).toHaveLength(GRAPH_LIMITS.blockDepth);
  });

  for (const n of [GRAPH_LIMITS.blockDepth + 1, 1_000]) {
    it(`${n} deep is one located error at the call one too deep`, () => {
      const text = blockChain(n);
      const errors = errorsOf(text);
      expect(errors).toHaveLength(1);
      expect(errors[0].code).toBe('limit');
      expect(errors[0].message).toMatch(new RegExp(`^blocks call blocks more than ${GRAPH_LIMITS.blockDepth} deep: b0 -> b1 -> b2 -> \\.\\.\\. -> b63 -> b64$`));
      expect(text.slice(errors[0].span!.start, errors[0].span!.end)).toBe('b64');
    });
  }
});

describe(`graph size (limit ${GRAPH_LIMITS.nodes.toLocaleString('en-US')} layers)`, () => {
  it('repeat(1000000000, dense(8)) is refused at its count, before expanding', () => {
    const text = 'model M {\n  input x: [4]\n  output y = x -> repeat(1000000000, dense(8))\n}\n';
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.at, e.message])).toEqual([['3:26', 'the model would have at least 1,000,000,000 layers; the limit is 100,000']]);
  });

  it('a repeat whose rounds add up past the limit is refused after its first round', () => {
    // Each round of block pair adds 2 layers: 60,000 rounds make 120,001 with the input.
    const text = 'block pair() {\n  input x\n  output y = x -> dense(4) -> relu\n}\nmodel M {\n  input x: [4]\n  output y = x -> repeat(60000, pair())\n}\n';
    expect(errorsOf(text).map((e) => [e.at, e.message])).toEqual([['7:26', 'the model would have about 120,001 layers; the limit is 100,000']]);
  });

  it('blocks that double at each level stop at the limit with one error', () => {
    const blocks = ['block b0() {\n  input x\n  output y = x -> relu\n}'];
    for (let i = 1; i < 30; i++) blocks.push(`block b${i}() {\n  input x\n  output y = add(x -> b${i - 1}(), x -> b${i - 1}())\n}`);
    const errors = errorsOf(`${blocks.join('\n')}\nmodel M {\n  input x: [4]\n  output y = x -> b29()\n}\n`);
    expect(errors.map((e) => e.message)).toEqual(['the model would have more than 100,000 layers; the limit is 100,000']);
  });

  it('a 30,000-layer repeat builds', () => {
    expect(compileText('model M {\n  input x: [4]\n  output y = x -> repeat(30000, relu())\n}\n').nodes).toHaveLength(30_001);
  });
});
