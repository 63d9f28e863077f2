/**
 * The language as the issue specifies it: the sample program compiles, and
 * each construct lowers to the IR it should, checked through the graph. (The
 * IR text of every example and case is golden, in test/cases.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compile.js';
import type { ConstTensor } from '../../src/ir/types.js';
import { compileText } from '../helpers.js';

describe('the sample program of the language issue', () => {
  const file = compileFile('test/fixtures/issue-sample.dl');

  it('compiles all four models', () => {
    expect(file.graphs.map((g) => g.name)).toEqual(['MnistConvNet', 'TinyResNet', 'Sentiment', 'Seq2Class']);
  });

  it('names layers Keras-style, honours `as`, inlines blocks and expands repeat', () => {
    const resnet = file.graphs[1];
    const names = resnet.nodes.map((n) => n.name);
    expect(names.slice(0, 5)).toEqual(['image', 'stem_conv', 'relu', 'conv2d', 'relu_1']);
    const adds = resnet.nodes.filter((n) => n.op === 'add');
    expect(adds.map((n) => n.name)).toEqual(['add', 'add_1', 'add_2']);
    expect(adds.map((n) => n.blockPath.map((f) => [f.instance, f.label, f.repeat?.index, f.repeat?.count]))).toEqual([
      [['residual', 'residual(16)', 0, 3]],
      [['residual_1', 'residual(16)', 1, 3]],
      [['residual_2', 'residual(16)', 2, 3]],
    ]);
    // The skip connection: each add reads the block's input.
    expect(adds[0].inputs[0].name).toBe('relu');
  });

  it('folds constant arithmetic at compile time', () => {
    const g = compileText('const blur = [[1, 1, 1], [1, 1, 1], [1, 1, 1]] / 9\nconst n = (2 + 3) * 2 ** 3 // 3 - -1\nmodel M {\n  input x: [8, 8, 1]\n  output y = x -> conv2d(kernel = blur) -> flatten -> dense(n)\n}');
    const kernel = g.nodes[1].attrs.kernel as ConstTensor;
    expect(kernel.shape).toEqual([3, 3]);
    expect(Array.from(kernel.data)).toEqual(Array(9).fill(1 / 9));
    expect(g.nodes.at(-1)!.attrs.units).toBe(Math.floor((5 * 8) / 3) + 1);
  });

  it('accepts chains as arguments, explicit inputs and several outputs', () => {
    const g = compileText('model M {\n  input a: [4, 4, 2]\n  input b: [3]\n  output joined = concat(a -> flatten, b -> flatten)\n  output other = b\n}');
    expect(g.outputs.map((o) => [o.name, o.node.type.shape])).toEqual([['joined', [null, 35]], ['other', [null, 3]]]);
  });

  it('uses values before the line that defines them', () => {
    const g = compileText('model M {\n  input x: [3]\n  output y = h -> dense(2)\n  h = x -> dense(4) -> relu\n}');
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'dense', 'relu', 'dense']);
  });

  it('reads TypeScript-style numbers and underscores', () => {
    const g = compileText('model M {\n  input x: [1_000]\n  output y = x -> dropout(5e-1) -> layernorm(epsilon = 1e-6) -> dense(.5e1 * 2)\n}');
    expect(g.nodes.map((n) => Object.values(n.attrs)[0])).toEqual([g.nodes[0].attrs.type, 0.5, 1e-6, 10]);
    expect(g.inputs[0].type.shape).toEqual([null, 1000]);
  });

  it('picks the last model by default and any model by name', () => {
    expect(compileText('model A {\n  input x: [1]\n  output y = x\n}\nmodel B {\n  input x: [2]\n  output y = x\n}').name).toBe('B');
    expect(compileText('model A {\n  input x: [1]\n  output y = x\n}\nmodel B {\n  input x: [2]\n  output y = x\n}', 'A').name).toBe('A');
  });
});
