/**
 * The DOT emitter: golden DOT files for each view and fit, and SVG for some (re-accept
 * with `npm run accept`), and the properties the issue asks
 * for checked on the text: fonts, colours per family, a legend of the families
 * present, shapes and parameter counts, skip edges, collapsed repeats, escaping,
 * refusals and determinism.
 */
import { describe, expect, it } from 'vitest';
import { DiagramOptions, graphToDot, renderDiagram } from '../../../src/backends/dot/index.js';
import { escapeText } from '../../../src/backends/dot/dot.js';
import { DIAGRAM_FONT } from '../../../src/backends/dot/render.js';
import { CompileError } from '../../../src/diagnostics.js';
import type { Graph, Node } from '../../../src/ir/types.js';
import { resolveNode } from '../../../src/ir/infer.js';
import { compileFile } from '../../../src/compile.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { compileText, errorsOf } from '../../helpers.js';
import { DENSE_MODELS, ISSUE_MODELS, RECURRENT_MODELS, UNICODE_NAMES } from './models.js';

/** One strip with shapes on the edges, as before fitting; the fitted views have tests of their own below. */
const defaults: DiagramOptions = { direction: 'LR', detail: 'layers', theme: 'light', shapes: 'edges', params: true, fit: 'none' };
const dot = (graph: Graph, options: Partial<DiagramOptions> = {}) => graphToDot(graph, { ...defaults, ...options });
const fitted: Partial<DiagramOptions> = { shapes: 'nodes', fit: '16:9' };

const mnist = () => compileText(ISSUE_MODELS, 'MnistConvNet');
const resnet = () => compileText(ISSUE_MODELS, 'TinyResNet');

/** The label of node `id` (already escaped, as written in the DOT). */
const labelOf = (text: string, id: string) => new RegExp(`\\n\\s*${id} \\[label="([^"]*)"`).exec(text)?.[1];
const nodeLines = (text: string) => text.split('\n').filter((l) => /^\s*n\d+ \[/.test(l));
const edgeLines = (text: string) => text.split('\n').filter((l) => /^\s*n\d+ -> n\d+/.test(l));

describe('golden DOT', () => {
  const cases: [string, () => Graph, Partial<DiagramOptions>][] = [
    ['mnist.layers.dot', mnist, {}],
    ['mnist.layers.tb.print.dot', mnist, { direction: 'TB', theme: 'print' }],
    ['tinyresnet.layers.dot', resnet, {}],
    ['tinyresnet.blocks.dot', resnet, { detail: 'blocks' }],
    ['tinyresnet.blocks.tb.dark.dot', resnet, { detail: 'blocks', direction: 'TB', theme: 'dark' }],
    ['sentiment.layers.dot', () => compileText(ISSUE_MODELS, 'Sentiment'), {}],
    ['seq2class.layers.dot', () => compileText(ISSUE_MODELS, 'Seq2Class'), {}],
    ['deepmlp.neurons.dot', () => compileText(DENSE_MODELS, 'DeepMLP'), { detail: 'neurons' }],
    ['perceptron.neurons.tb.dot', () => compileText(DENSE_MODELS, 'Perceptron'), { detail: 'neurons', direction: 'TB' }],
    ['charrnn.unrolled.dot', () => compileText(RECURRENT_MODELS, 'CharRNN'), { unroll: 4 }],
    ['bitagger.unrolled.dot', () => compileText(RECURRENT_MODELS, 'BiTagger'), { unroll: 3 }],
    // Fitted to a page (the defaults of `dlc diagram`: shapes in the nodes), one per view and fit.
    ['mnist.layers.16x9.dot', mnist, fitted],
    ['mnist.layers.tb.a4.dot', mnist, { ...fitted, direction: 'TB', fit: 'a4' }],
    ['mnist.params.4x3.dot', mnist, { ...fitted, detail: 'params', fit: '4:3' }],
    ['tinyresnet.layers.16x9.dot', resnet, fitted],
    ['tinyresnet.blocks.column.dot', resnet, { ...fitted, detail: 'blocks', fit: 'column' }],
    ['tinyresnet.outline.16x9.dark.dot', resnet, { ...fitted, detail: 'outline', theme: 'dark' }],
    ['sentiment.layers.4x3.edges.dot', () => compileText(ISSUE_MODELS, 'Sentiment'), { ...fitted, fit: '4:3', shapes: 'edges' }],
  ];
  for (const [file, graph, options] of cases)
    it(file, async () => {
      await expect(dot(graph(), options)).toMatchFileSnapshot(`./__snapshots__/${file}`);
    });
  // The SVG Graphviz draws from some of them (the WebAssembly Graphviz is pinned by the lockfile).
  const svgCases: [string, () => Graph, Partial<DiagramOptions>][] = [
    ['mnist.layers.16x9.svg', mnist, fitted],
    ['tinyresnet.blocks.4x3.svg', resnet, { ...fitted, detail: 'blocks', fit: '4:3' }],
    ['tinyresnet.outline.column.svg', resnet, { ...fitted, detail: 'outline', fit: 'column' }],
  ];
  for (const [file, graph, options] of svgCases)
    it(file, async () => {
      await expect(await renderDiagram(graph(), { ...defaults, ...options, format: 'svg' })).toMatchFileSnapshot(`./__snapshots__/${file}`);
    });
});

describe('layer view', () => {
  it('uses the diagram font on the graph, its nodes and its edges', () => {
    const text = dot(mnist());
    for (const kind of ['graph', 'node', 'edge']) expect(text).toMatch(new RegExp(`^  ${kind} \\[fontname="${DIAGRAM_FONT}"`, 'm'));
    expect(text).not.toMatch(/fontname="(?!Arimo")/);
  });

  it('labels layers with op, key attributes, name and parameter count', () => {
    const text = dot(mnist());
    expect(labelOf(text, 'n4')).toBe('conv2d\\n64 3x3\\nconv2d_1\\n18,496 params');
    expect(dot(mnist(), { direction: 'TB' })).toContain('label="conv2d 64 3x3\\nconv2d_1 &#183; 18,496 params"');
    expect(labelOf(text, 'n0')).toBe('input\\nimage\\n28&#215;28&#215;1');
    expect(labelOf(text, 'n11')).toBe('output\\nprobs');
  });

  // The shapes of Keras's summary of this model (keras.io/examples/vision/mnist_convnet).
  it('labels every edge after a layer with its per-example shape, once per tensor', () => {
    const edges = edgeLines(dot(mnist())).map((l) => /label="([^"]*)"/.exec(l)?.[1]?.replace(/&#215;/g, 'x'));
    expect(edges).toEqual([undefined, '26x26x32', '26x26x32', '13x13x32', '11x11x64', '11x11x64', '5x5x64', '1600', '1600', '10', '10']);
  });

  it('writes shapes inside the nodes with --shapes nodes, after activations too', () => {
    const text = dot(mnist(), { shapes: 'nodes' });
    expect(edgeLines(text).every((l) => !l.includes('label='))).toBe(true);
    expect(labelOf(text, 'n2')).toBe('relu\\n&#8594; 26&#215;26&#215;32'.replace('\\\\', '\\'));
    expect(labelOf(text, 'n8')).toBe('dropout\\n0.5\\n&#8594; 1600'.replace(/\\\\/g, '\\'));
  });

  it('lists each weight with its shape in --detail params, as Netron does', () => {
    const text = dot(mnist(), { detail: 'params', shapes: 'none' });
    // conv2d_1: 3x3 kernel from 32 to 64 channels and 64 biases: 18,496 parameters.
    expect(labelOf(text, 'n4')).toBe('conv2d\\n64 3x3\\nconv2d_1\\n18,496 params\\nkernel 3&#215;3&#215;32&#215;64\\nbias 64'.replace(/\\\\/g, '\\'));
  });

  it('colours each family consistently and lists only the families present in the legend', () => {
    const text = dot(mnist());
    const conv = nodeLines(text).filter((l) => l.includes('conv2d'));
    expect(conv).toHaveLength(2);
    for (const line of conv) expect(line).toContain('fillcolor="#FDE2C4"');
    const legend = [...text.matchAll(/legend\d+ \[label="([^"]*)"/g)].map((m) => m[1]);
    expect(legend).toEqual(['input / output', 'dense', 'convolution', 'pooling', 'activation', 'reshape', 'regularization']);
  });

  it('hides edge shapes and parameter counts on request (inputs keep their shape)', () => {
    const text = dot(mnist(), { shapes: 'none', params: false });
    expect(text.match(/&#215;/g)).toHaveLength(2);
    expect(text).not.toContain('param');
    expect(edgeLines(text).every((l) => !l.includes('label='))).toBe(true);
  });

  it('draws residual connections as skip edges that do not constrain the chain', () => {
    const skips = edgeLines(dot(resnet())).filter((l) => l.includes('constraint=false'));
    expect(skips).toHaveLength(3);
    for (const line of skips) expect(line).toContain('color="#D1242F"');
    expect(edgeLines(dot(mnist())).some((l) => l.includes('constraint'))).toBe(false);
  });

  it('draws each block instance as a light cluster titled with its call', () => {
    const titles = [...dot(resnet()).matchAll(/subgraph cluster_\d+ \{\n\s*label="([^"]*)"/g)].map((m) => m[1]);
    expect(titles).toEqual(['residual(16) &#183; 1 of 3\\l', 'residual(16) &#183; 2 of 3\\l', 'residual(16) &#183; 3 of 3\\l']);
  });

  it('colours skip connections only: not a late input (seq2seq), not parallel branches (Inception)', () => {
    const skips = (file: string) => edgeLines(dot(compileFile(file).graphs[0])).filter((l) => l.includes('#D1242F'));
    expect(skips('examples/seq2seq.dl')).toEqual([]);
    expect(skips('examples/inception_v3.dl')).toEqual([]);
    // ResNet-50: 16 bottleneck blocks, of which 4 start a stage with a projection shortcut (a branch with a conv2d): 12 identity skips.
    expect(skips('examples/resnet50.dl')).toHaveLength(12);
    for (const line of skips('examples/resnet50.dl')) expect(line).toContain('constraint=false');
  });

  it('lists input / output and constants in the legend, with the families used', () => {
    // The optimizer folds a sinusoidal positional encoding into a constant added to the input.
    const graph = optimize(compileText('model C {\n  input x: [4, 8]\n  output y = x -> positional(kind = sinusoidal) -> relu\n}'), { level: 1 }).graph;
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'constant', 'add', 'relu']);
    const text = dot(graph);
    const legend = [...text.matchAll(/legend\d+ \[label="([^"]*)"/g)].map((m) => m[1]);
    expect(legend).toEqual(['input / output', 'constant', 'activation', 'merge']);
    expect(labelOf(text, 'n1')).toBe('constant\\n4&#215;8'.replace('\\\\', '\\'));
    expect(nodeLines(text)[1]).toContain('style="rounded,dashed,filled"');
  });

  it('names the roles of attention inputs', () => {
    expect(dot(compileText(ISSUE_MODELS, 'Seq2Class'))).toContain('n1 -> n2 [label="50&#215;16\\n(query, value)"');
    expect(dot(compileText(ISSUE_MODELS, 'Seq2Class'), { shapes: 'nodes' })).toContain('n1 -> n2 [label="(query, value)"');
  });

  it('writes print diagrams in black without fills or legend', () => {
    const text = dot(mnist(), { theme: 'print' });
    expect(text).not.toContain('filled');
    expect(text).not.toContain('legend');
    expect(new Set(text.match(/#[0-9A-F]{6}/g))).toEqual(new Set(['#000000', '#FFFFFF']));
  });

  it('refuses unknown options with a message naming the choices', () => {
    expect(() => dot(mnist(), { theme: 'neon' as never })).toThrow("unknown diagram theme 'neon' (expected light, dark, print, paper)");
    expect(() => dot(mnist(), { direction: 'RL' as never })).toThrow("unknown diagram direction 'RL' (expected LR, TB)");
  });

  it('is deterministic', () => {
    for (const detail of ['layers', 'blocks'] as const) expect(dot(resnet(), { detail })).toBe(dot(resnet(), { detail }));
  });
});

describe('block view', () => {
  it('collapses repeat(3, residual(16)) into one cluster marked × 3', () => {
    const text = dot(resnet(), { detail: 'blocks' });
    const titles = [...text.matchAll(/subgraph cluster_\d+ \{\n\s*label="([^"]*)"/g)].map((m) => m[1]);
    // 3 x (2 x (3 x 3 x 16 x 16 + 16)) = 13,920 parameters in all: 4,640 per block.
    expect(titles).toEqual(['residual(16)\\l&#215; 3, 4,640 params each\\l']);
    // stem relu -> block, the block's own skip edge, block -> pooling: no edge from one repeat to the next
    expect(nodeLines(text)).toHaveLength(2 + 5 + 3 + 1);
    expect(edgeLines(text).filter((l) => l.includes('constraint=false'))).toHaveLength(1);
  });

  it('draws a block nested in a block as one chip', () => {
    const graph = compileText(`
      block inner(n) {
        input x
        output x -> dense(n) -> relu
      }
      block outer(n) {
        input x
        output x -> repeat(2, inner(n)) -> dropout(0.1)
      }
      model Nested {
        input x: [4]
        output y = x -> outer(8) -> dense(1)
      }`);
    const text = dot(graph, { detail: 'blocks' });
    expect(text).toContain('label="inner(8)  &#215; 2"'); // the argument's value, not the parameter's name
    expect(text).toContain('label="outer(8)\\l');
  });
});

describe('neuron view', () => {
  it('draws a circle per unit, eliding wide layers, in input / hidden / output colours', () => {
    const text = dot(compileText(DENSE_MODELS, 'DeepMLP'), { detail: 'neurons' });
    expect(text).toContain('layout="neato"');
    const circles = nodeLines(text).filter((l) => l.includes('fillcolor'));
    expect(circles).toHaveLength(4 * 6); // 784, 128, 64 and 10 units: 3 + 3 shown each
    expect(text).toContain('label="x&#8327;&#8328;&#8324;"'); // x₇₈₄
    expect(text).toContain('Hidden layer 2');
    expect(edgeLines(text)).toHaveLength(3 * 6 * 6);
  });

  it('refuses models that are not a chain of dense layers', () => {
    expect(() => dot(mnist(), { detail: 'neurons' })).toThrow(CompileError);
    expect(() => dot(mnist(), { detail: 'neurons' })).toThrow(/^the neuron view draws a chain of dense layers .* but model 'MnistConvNet' has input 'image' of shape \[28, 28, 1\], not a vector$/);
    const chain = (body: string) => compileText(`model M {\n  input x: [4]\n  ${body}\n}`);
    expect(() => dot(chain('output y = x -> dense(3) -> layernorm'), { detail: 'neurons' })).toThrow(/model 'M' has a layernorm layer \('layernorm'\)$/);
    expect(() => dot(chain('h = x -> dense(3)\n  output y = add(h, h)'), { detail: 'neurons' })).toThrow(/model 'M' branches at layer 'add'$/);
    expect(() => dot(chain('output y = x -> relu'), { detail: 'neurons' })).toThrow(/model 'M' has no dense layer$/);
  });
});

describe('unrolled view', () => {
  it('draws x, s and o over the steps with U, W and V', () => {
    const text = dot(compileText(RECURRENT_MODELS, 'CharRNN'), { unroll: 3 });
    for (const name of ['x&#8321;', 's&#8320;', 's&#8322;', 'o&#8322;', 'x&#8322;&#8320;']) expect(text).toContain(`label="${name}"`);
    expect(text).toContain('s&#8348; = tanh(U x&#8348; + W s&#8348;&#8331;&#8321; + b)');
    expect(text).toContain('o&#8348; = softmax(V s&#8348; + c)');
    for (const w of ['U', 'W', 'V']) expect(text).toContain(`label="${w}"`);
  });

  it('gives a layer that returns its last state one output', () => {
    const text = dot(compileText(RECURRENT_MODELS, 'LastState'), { unroll: 3 });
    expect(text.match(/label="o[^"]*"/g)).toEqual(['label="o"', 'label="o&#8321;&#8322;"']);
  });

  it('refuses models without exactly one recurrent layer', () => {
    expect(() => dot(mnist(), { unroll: 3 })).toThrow(/the unrolled view draws a recurrent layer.*'MnistConvNet' has none/);
    expect(() => dot(compileText(ISSUE_MODELS, 'Sentiment'), { unroll: 3 })).toThrow(/has 2: 'bidirectional', 'lstm'/);
    expect(() => dot(compileText(RECURRENT_MODELS, 'CharRNN'), { unroll: 0 })).toThrow(/unroll needs a whole number/);
  });
});

describe('fused ops', () => {
  /** MNIST with its first conv2d -> relu fused as the optimizer would (resolved by the fused op's shape rule). */
  function fusedMnist(): Graph {
    const graph = mnist();
    const [conv, relu] = [graph.nodes[1], graph.nodes[2]];
    const fused = resolveNode({ ...conv, op: 'fused_conv2d', attrs: { ...conv.attrs, activation: { symbol: 'relu' } } });
    const nodes = graph.nodes.filter((n) => n !== conv && n !== relu).map((n) => ({ ...n }));
    const byId = new Map<number, Node>([[conv.id, fused], [relu.id, fused], ...nodes.map((n): [number, Node] => [n.id, n])]);
    for (const n of [fused, ...nodes]) n.inputs = n.inputs.map((i) => byId.get(i.id)!);
    return { ...graph, nodes: [nodes[0], fused, ...nodes.slice(1)], outputs: graph.outputs.map((o) => ({ ...o, node: byId.get(o.node.id)! })) };
  }

  it('labels fused_X with activation A as X + A', () => {
    const text = dot(fusedMnist());
    expect(text).toContain('label="conv2d + relu\\n32 3x3\\n320 params"');
    expect(dot(fusedMnist(), { direction: 'TB' })).toContain('label="conv2d + relu 32 3x3\\n320 params"');
  });
});

describe('escaping', () => {
  it('turns every character that could end or bend a DOT string into an entity or escape', () => {
    expect(escapeText('"<>&{}|\\')).toBe('&quot;&lt;&gt;&amp;&#123;&#125;&#124;\\\\');
    expect(escapeText('a\nb\u0007c')).toBe('a b c');
    expect(escapeText('Ψ数😀')).toBe('&#936;&#25968;&#128512;');
    expect(escapeText('\ud800')).toBe('&#65533;');
  });

  it('writes Unicode model, block and layer names as ASCII entities, with generated node IDs', () => {
    const text = dot(compileText(UNICODE_NAMES));
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text).toContain('label="Mod&#232;le_&#936;_&#25968; &#183; 46 params"');
    expect(text).toContain('&#1089;&#1083;&#1086;&#1081;_1'); // слой_1
    expect(text).toContain('label="bloc_&#233;(4)\\l"');
    const ids = [...text.matchAll(/^\s*([^\s[{}]+) \[/gm)].map((m) => m[1]);
    expect(ids.every((id) => /^(graph|node|edge|n\d+|t\d+|legend\d+)$/.test(id))).toBe(true);
  });

  it('cannot receive a hostile name: `as "x` is not an identifier', () => {
    expect(errorsOf('model M {\n  input x: [2]\n  output y = x -> dense(1) as "x\n}')).not.toHaveLength(0);
  });
});
