/**
 * Layer names and value names (issue 13's papercuts): `as NAME` names the
 * layer of any call form, as Keras's `name=` does, and a named output is a
 * value like any other. Parameter counts are Keras's (Dense `u * (C + 1)`,
 * MultiHeadAttention as in test/cases/README.md); the summary is checked
 * through `dlc summary` as a process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileText, errorsOf } from '../helpers.js';

const model = (body: string, inputs = 'input x: [4]') => `model M {\n  ${inputs}\n  ${body.split('\n').join('\n  ')}\n}\n`;
const names = (src: string) => compileText(src).nodes.map((n) => n.name);
const errors = (src: string) => errorsOf(src).map((e) => `${e.at} ${e.message}${e.hint ? ` (${e.hint})` : ''}`);

describe('`as` names a layer in every call form', () => {
  it('an op call with explicit inputs', () => {
    expect(names(model('output y = dense(x, 4) as d'))).toEqual(['x', 'd']);
  });

  it('a call with several inputs, the form of the issue', () => {
    const g = compileText(model('output y = attention(q, kv, heads = 2, key_dim = 5) as cross', 'input q: [3, 8]\n  input kv: [6, 4]'));
    expect(g.nodes.map((n) => [n.name, n.op])).toEqual([['q', 'input'], ['kv', 'input'], ['cross', 'attention']]);
    expect(g.nodes[2].inputs.map((n) => n.name)).toEqual(['q', 'kv']);
  });

  it('calls nested as arguments, and the head of a chain', () => {
    const g = compileText(model('output y = add(dense(x, 4) as left, x -> dense(4) as right) as joined -> relu as out\nz = dense(x, 2) as head -> relu'));
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'left', 'right', 'joined', 'out', 'head', 'relu']);
    expect(g.nodes[3].inputs.map((n) => n.name)).toEqual(['left', 'right']);
  });

  it('a chain in parentheses names its last layer, as `x -> f as NAME` does', () => {
    expect(names(model('output y = (x -> dense(4) -> relu) as act'))).toEqual(['x', 'dense', 'act']);
  });

  it('a block call with explicit inputs names the instance; `as` inside a block is prefixed with it', () => {
    const src = `block proj(u) {\n  input x\n  output dense(x, u) as inner -> relu\n}\n${model('a = proj(x, 3) as first\noutput y = a -> proj(2) -> proj(2) as third')}`;
    const g = compileText(src);
    expect(g.nodes.map((n) => [n.name, n.blockPath.map((f) => f.instance).join('/')])).toEqual([
      ['x', ''],
      ['first/inner', 'first'],
      ['relu', 'first'],
      ['proj/inner', 'proj'],
      ['relu_1', 'proj'],
      ['third/inner', 'third'],
      ['relu_2', 'third'],
    ]);
  });

  it('a block instance named inside another block is prefixed with the outer instance', () => {
    const src = `block inner(u) {\n  input x\n  output dense(x, u) as d\n}\nblock outer(u) {\n  input x\n  output inner(x, u) as part\n}\n${model('output y = x -> outer(2) as a -> outer(2) as b')}`;
    expect(names(src)).toEqual(['x', 'a/part/d', 'b/part/d']);
  });

  it('layer names and value names are separate, as for chain stages: `h = dense(x, 4) as h` is fine', () => {
    expect(names(model('h = dense(x, 4) as h\noutput y = h -> dense(2) as y'))).toEqual(['x', 'h', 'y']);
  });
});

describe('`as` errors', () => {
  it('a layer name used twice, in any call form, or an input name', () => {
    expect(errors(model('a = x -> dense(4) as d\nb = dense(x, 4) as d\nc = add(a, x) as x\noutput y = c'))).toEqual([
      "4:22 layer name 'd' is already used",
      "5:20 layer name 'x' is already used",
    ]);
  });

  it('a block instance name used twice; inside blocks the message gives the full name', () => {
    const src = `block blk(u) {\n  input x\n  output x -> dense(u) as d -> dense(u) as d\n}\n${model('a = blk(x, 2) as b\noutput y = x -> blk(2) as b')}`;
    expect(errors(src)).toEqual(["3:44 layer name 'b/d' is already used", "8:29 layer name 'b' is already used"]);
  });

  it('`as` after something that is not a call', () => {
    expect(errors(model('output y = x as copy'))).toEqual(["3:14 'as copy' names the layer of an op or block call, got the name 'x'"]);
    expect(errors(model('output y = (dense(x, 4) as a) as b'))).toEqual(["3:14 'as b' names the layer of an op or block call, got a layer already named 'a'"]);
  });

  it('`as` after a call that has no input', () => {
    expect(errors(model('output y = dense(4) as d'))).toEqual([
      "3:14 'as d' names the layer of an op or block call, got the call dense(...), which has no input (chain it: x -> dense(4) as d)",
    ]);
  });

  it('`as` on repeat, which makes several layers', () => {
    expect(errors(model('output y = x -> repeat(2, dense(4)) as r'))).toEqual([
      "3:42 'as r' cannot name repeat(...), which makes several layers (name a layer inside the repeated block: each copy prefixes it with its instance)",
    ]);
  });
});

describe('outputs are values', () => {
  it('a later line uses an output by name, sharing its node', () => {
    const g = compileText(model('output sequence = x -> lstm(8, sequences = true)\npooled = sequence -> global_avgpool\noutput y = pooled -> dense(1)', 'input x: [5, 3]'));
    expect(g.outputs.map((o) => [o.name, o.node.name])).toEqual([['sequence', 'lstm'], ['y', 'dense']]);
    expect(g.nodes.filter((n) => n.op === 'lstm')).toHaveLength(1);
    expect(g.nodes.find((n) => n.op === 'global_avgpool')!.inputs[0]).toBe(g.outputs[0].node);
  });

  it('in any order, as other values', () => {
    const g = compileText(model('output y = h -> dense(2)\noutput h = x -> dense(3)'));
    expect(g.outputs.map((o) => [o.name, o.node.type.shape])).toEqual([['y', [null, 2]], ['h', [null, 3]]]);
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'dense', 'dense_1']);
  });

  it("a block's output name is a value in the block", () => {
    const src = `block b() {\n  input x\n  output h = x -> dense(3)\n  unused = h -> relu\n}\n${model('output y = x -> b()')}`;
    expect(compileText(src).outputs[0].node.op).toBe('dense');
  });

  it('an output name defined twice, or clashing with a value or input, is an error (it used to be accepted)', () => {
    expect(errors(model('output y = x -> relu\noutput y = x -> sigmoid\nh = x -> relu\noutput h = x\noutput x = x -> relu'))).toEqual([
      "4:10 'y' is already defined (at line 3)",
      "6:10 'h' is already defined (at line 5)",
      "7:10 'x' is already defined (at line 2)",
    ]);
  });

  it('an output that uses itself is a cycle', () => {
    expect(errors(model('output y = y -> relu'))).toEqual(["3:14 'y' depends on itself: y -> y"]);
    expect(errors(model('output a = b -> relu\noutput b = a -> relu'))).toEqual(["4:14 'a' depends on itself: a -> b -> a"]);
    expect(errors(model('output w = add(x, w)'))).toEqual(["3:21 'w' depends on itself: w -> w"]);
  });

  it('a bare name that an op argument takes as a symbol is the symbol, and an op name right of -> is the op, whatever values are named', () => {
    const body = 'output learned = x -> positional(learned)\noutput same = x -> positional(kind = learned)\noutput relu = x -> conv1d(2, 3, padding = same) -> relu\noutput softmax = x -> flatten -> dense(3, activation = relu) -> softmax';
    const g = compileText(model(body, 'input x: [5, 4]'));
    expect(g.nodes.map((n) => [n.op, n.attrs.kind ?? n.attrs.padding ?? n.attrs.activation])).toEqual([
      ['input', undefined],
      ['positional', { symbol: 'learned' }],
      ['positional', { symbol: 'learned' }],
      ['conv1d', { symbol: 'same' }],
      ['relu', undefined],
      ['flatten', undefined],
      ['dense', { symbol: 'relu' }],
      ['softmax', undefined],
    ]);
    expect(g.outputs.map((o) => o.name)).toEqual(['learned', 'same', 'relu', 'softmax']);
  });

  it('a value where a tensor input is expected is still the value', () => {
    const g = compileText(model('output same = x -> dense(4)\noutput y = add(x, same)'));
    expect(g.nodes.at(-1)!.inputs.map((n) => n.name)).toEqual(['x', 'dense']);
  });
});

describe('dlc summary shows the names', () => {
  it('lists every named layer with Keras parameter counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-names-'));
    const path = join(dir, 'names.dl');
    writeFileSync(path, model('output enc = attention(q, kv, heads = 2, key_dim = 5) as cross\nh = dense(enc, 4) as proj\noutput y = add(h, dense(enc, 4) as skip) as joined', 'input q: [3, 8]\n  input kv: [6, 4]'));
    const r = spawnSync('node', ['bin/dlc.js', 'summary', path, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { layers: { name: string; op: string; params: number }[]; totalParams: number };
    // Keras MultiHeadAttention(2, 5) on query width 8, value width 4: query 8*10+10, key 4*10+10, value 4*10+10, output 10*8+8.
    const attention = 90 + 50 + 50 + 88;
    expect(json.layers.map((l) => [l.name, l.op, l.params])).toEqual([
      ['q', 'input', 0],
      ['kv', 'input', 0],
      ['cross', 'attention', attention],
      ['proj', 'dense', 4 * (8 + 1)],
      ['skip', 'dense', 4 * (8 + 1)],
      ['joined', 'add', 0],
    ]);
    expect(json.totalParams).toBe(attention + 2 * 36);
  });
});
