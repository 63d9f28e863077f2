/**
 * The sequence layers exported to ONNX (src/backends/onnx/sequence.ts) and run
 * in onnxruntime-node match the interpreter, which defines their semantics:
 * each model is compiled and optimized as `dlc compile` does, given seeded
 * weights (with noise on the biases, so that their layout is tested) and
 * random inputs, run by both, and compared elementwise.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import type { Weights } from '../../../src/backends/interp/weights.js';
import { decodeModel } from '../../../src/backends/onnx/builder.js';
import { OrtSession } from '../../../src/backends/onnx/ort.js';
import type { Graph, Node } from '../../../src/ir/types.js';
import { rnn } from '../../../src/ops/recurrent.js';
import { compileSource, selectModel } from '../../../src/compile.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { createRng } from '../../../src/runtime/random.js';
import { cliSandbox } from '../../cli/process.js';
import { modelOf, randomIds, weightsFor } from '../interp/grad/harness.js';
import { expectClose, randTensor } from '../interp/helpers.js';

/** Token ids [B, T] with padding (id 0) at the end, at the start and inside, and one example of padding only. */
function paddedIds(shape: number[], vocab: number, seed: number): Tensor {
  const t = randomIds(shape, vocab - 1, createRng(seed));
  for (let i = 0; i < t.data.length; i++) t.data[i] += 1;
  const [B, ...rest] = shape;
  const T = rest.reduce((a, b) => a * b, 1);
  const row = (b: number) => t.data.subarray(b * T, (b + 1) * T);
  row(0).fill(0, T - 2); // trailing
  if (B > 1) row(1).fill(0, 0, 2); // leading
  if (B > 2) row(2).fill(0, 1, 3); // inside
  if (B > 3) row(B - 1).fill(0); // padding only
  return t;
}

interface Case {
  body: string;
  batch?: number;
  /** Values for the dimension variables (symbolic lengths); each set is one run through the same session. */
  lengths?: Record<string, number>[];
  /** Float inputs are uniform on [-scale, scale) (default 1). */
  scale?: number;
  tol?: number;
}

/** The vocabulary of the embedding that reads input `n` (ids below it), else 10 (a mask input). */
function vocabOf(graph: Graph, n: Node): number {
  const reader = graph.nodes.find((m) => m.op === 'embedding' && m.inputs[0] === n);
  return reader ? (reader.resolved as { vocab: number }).vocab : 10;
}

/** The inputs of one run: floats uniform, integers padded ids. */
function inputsOf(graph: Graph, batch: number, lengths: Record<string, number>, scale: number, seed: number): Record<string, Tensor> {
  return Object.fromEntries(
    graph.inputs.map((n, k) => {
      const shape = [batch, ...n.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : lengths[d as string]))];
      if (shape.some((d) => d === undefined)) throw new Error(`no length for an input of ${n.name}`);
      return [n.name, n.type.dtype === 'int32' ? paddedIds(shape, vocabOf(graph, n), seed + k) : randTensor(shape, createRng(seed + k), scale)];
    }),
  );
}

/** Exports `graph` with `weights`, runs it in ONNX Runtime and in the interpreter on the same inputs, and compares every output. */
async function parity(graph: Graph, weights: Weights, runs: Record<string, Tensor>[], tol: number): Promise<void> {
  const session = await OrtSession.create(graph, weights, { sourcePath: 'test.dl', threads: 1 });
  try {
    for (const inputs of runs) {
      const expected = new Interpreter(graph, weights).run(inputs).outputs;
      const actual = await session.run(inputs);
      for (const { name } of graph.outputs) expectClose(actual[name], expected[name], tol);
    }
  } finally {
    await session.release();
  }
}

/** Weights for the source graph, as `dlc compile` and `dlc run` make them, then both engines on the graph as optimized for inference. */
async function check({ body, batch = 4, lengths = [{}], scale = 1, tol = 1e-5 }: Case, source = modelOf(body), seed = 1): Promise<void> {
  const weights = weightsFor(source, seed);
  const graph = optimize(source).graph;
  await parity(graph, weights, lengths.map((l, i) => inputsOf(graph, batch, l, scale, seed + 10 * i)), tol);
}

const CELLS = ['rnn', 'lstm', 'gru', 'gru(reset_after = false)'] as const;
/** `cell(units, args)` as .dl: gru(reset_after = false) carries its own argument. */
const layer = (cell: string, units: number, args = '') => {
  const [name, own] = cell.includes('(') ? [cell.slice(0, cell.indexOf('(')), cell.slice(cell.indexOf('(') + 1, -1)] : [cell, ''];
  return `${name}(${[String(units), own, args].filter(Boolean).join(', ')})`;
};

describe('recurrent layers match the interpreter', () => {
  for (const cell of CELLS) {
    for (const sequences of [false, true]) {
      it(`${cell}, sequences = ${sequences}`, () =>
        check({ body: `input x: [5, 3]\noutput y = x -> ${layer(cell, 4, `sequences = ${sequences}`)}` }));
      it(`bidirectional ${cell}, sequences = ${sequences}`, () =>
        check({ body: `input x: [5, 3]\noutput y = x -> bidirectional(${layer(cell, 4, `sequences = ${sequences}`)})` }));
      it(`${cell} behind a padding mask, sequences = ${sequences}`, () =>
        check({ body: `input t: [6] int\noutput y = t -> embedding(10, 3, mask_zero = true) -> ${layer(cell, 4, `sequences = ${sequences}`)}` }));
      it(`bidirectional ${cell} behind a padding mask, sequences = ${sequences}`, () =>
        check({ body: `input t: [6] int\noutput y = t -> embedding(10, 3, mask_zero = true) -> bidirectional(${layer(cell, 4, `sequences = ${sequences}`)})` }));
    }
    it(`${cell}: return_state and initial_state`, () =>
      check({
        body: `input x: [5, 3]
  input z: [4, 2]
  ${cell.startsWith('lstm') ? 'o, h, c' : 'o, h'} = x -> ${layer(cell, 4, 'return_state = true')}
  ${cell.startsWith('lstm') ? 'p, h2, c2' : 'p, h2'} = ${layer(cell, 4, `sequences = true, return_state = true, initial_state = [${cell.startsWith('lstm') ? 'h, c' : 'h'}]`).replace('(', '(z, ')}
  output y = o
  output q = p
  output hs = h2${cell.startsWith('lstm') ? '\n  output cs = c2' : ''}`,
      }));
  }
});

describe('recurrent layers: states, activations, masks and lengths', () => {
  const choices = (rnn.attrs.find((a) => a.name === 'activation')!.type as { choices: readonly string[] }).choices;
  it('rnn offers the activations ONNX RNN can run', () => expect([...choices].sort()).toEqual(['elu', 'hard_sigmoid', 'leaky_relu', 'relu', 'relu6', 'selu', 'sigmoid', 'softsign', 'tanh']));
  // Inputs on [-4, 4) drive pre-activations past relu6's 6 and deep into elu's and selu's negative side.
  it.each(choices)('rnn(activation = %s), both directions', (activation) =>
    check({ body: `input x: [5, 3]\noutput y = x -> bidirectional(rnn(4, activation = ${activation}, sequences = true))`, scale: 4 }));
  it.each(['selu', 'relu6'])('rnn(activation = %s) behind a mask, from a given state, with return_state', (activation) =>
    check({
      body: `input t: [6] int
  input h0: [4]
  y, h = t -> embedding(10, 3, mask_zero = true) -> rnn(4, activation = ${activation}, sequences = true, return_state = true, initial_state = [h0])
  output out = y
  output state = h`,
      scale: 4,
    }));

  it('lstm behind a mask, from given states: padded steps before the first real one output the initial h', () =>
    check({
      body: `input t: [6] int
  input h0: [4]
  input c0: [4]
  y, h, c = t -> embedding(10, 3, mask_zero = true) -> lstm(4, sequences = true, return_state = true, initial_state = [h0, c0])
  output out = y
  output hs = h
  output cs = c`,
    }));

  it("bidirectional lstm: both directions' states in, both out (forward's h, c, then backward's), behind a mask", () =>
    check({
      body: `input t: [6] int
  input a: [4]
  input b: [4]
  input c: [4]
  input d: [4]
  y, hf, cf, hb, cb = t -> embedding(10, 3, mask_zero = true) -> bidirectional(lstm(4, sequences = true, return_state = true), initial_state = [a, b, c, d])
  output out = y
  output s1 = hf
  output s2 = cf
  output s3 = hb
  output s4 = cb`,
    }));

  it('bidirectional gru with reset_after = false: return_state without a mask', () =>
    check({
      body: `input x: [5, 3]
  y, hf, hb = x -> bidirectional(gru(4, reset_after = false, return_state = true))
  output out = y
  output s1 = hf
  output s2 = hb`,
    }));

  it('a symbolic length T runs at two lengths through one session', () =>
    check({
      body: `input x: [T, 3]
  input t: [T] int
  output a = x -> lstm(4, sequences = true) -> gru(3)
  output b = t -> embedding(10, 3, mask_zero = true) -> bidirectional(gru(4, sequences = true)) -> rnn(2, sequences = true)`,
      lengths: [{ T: 3 }, { T: 9 }],
    }));

  // The fused dense's elu has its default alpha 1 (the bare name's arguments), leaky_relu its 0.2.
  it('dense layers with fused elu and leaky_relu before an lstm', () =>
    check({ body: 'input x: [5, 3]\noutput y = x -> dense(4, activation = elu) -> dense(4, activation = leaky_relu) -> lstm(3)', scale: 3 }));

  it('a batch of one, and a stack of masked layers', () =>
    check({ body: `input t: [7] int\noutput y = t -> embedding(10, 3, mask_zero = true) -> lstm(5, sequences = true) -> gru(4, sequences = true) -> global_avgpool`, batch: 1 }));
});

describe('attention matches the interpreter', () => {
  const cases: Record<string, Case> = {
    'self-attention': { body: 'input x: [5, 6]\noutput y = x -> attention(heads = 2, key_dim = 3)' },
    'causal self-attention': { body: 'input x: [5, 6]\noutput y = x -> attention(heads = 3, key_dim = 2, causal = true)' },
    'cross-attention with value_dim and output_dim': { body: 'input q: [3, 6]\ninput kv: [7, 5]\noutput y = attention(q, kv, heads = 2, key_dim = 3, value_dim = 4, output_dim = 5)' },
    'query, value and key all given': { body: 'input q: [3, 6]\ninput v: [7, 5]\ninput k: [7, 4]\noutput y = attention(q, v, k, heads = 2, key_dim = 3)' },
    'padding mask from the tokens, causal': {
      body: 'input t: [7] int\noutput y = t -> embedding(12, 6, mask_zero = true) -> attention(heads = 2, key_dim = 3, causal = true)',
    },
    'padding masks of query, value and key': {
      body: `input a: [3] int
  input b: [7] int
  input c: [7] int
  output y = attention(a -> embedding(12, 6, mask_zero = true), b -> embedding(12, 5, mask_zero = true), c -> embedding(12, 4, mask_zero = true), heads = 2, key_dim = 3)`,
    },
    'mask = [S], integer': { body: 'input x: [7, 6]\ninput padding: [7] int\noutput y = attention(x, mask = padding, heads = 2, key_dim = 3)' },
    'mask = [S], float': { body: 'input x: [7, 6]\ninput padding: [7]\noutput y = attention(x, mask = padding, heads = 2, key_dim = 3)' },
    'mask = [T, S] with cross-attention': {
      body: 'input q: [3, 6]\ninput kv: [7, 5]\ninput pairs: [3, 7] int\noutput y = attention(q, kv, mask = pairs, heads = 2, key_dim = 3)',
    },
    'mask = [T, S] with a padding mask and causal': {
      body: 'input t: [5] int\ninput pairs: [5, 5] int\noutput y = attention(t -> embedding(12, 6, mask_zero = true), mask = pairs, heads = 2, key_dim = 3, causal = true)',
    },
    'a symbolic length at two lengths, causal, with mask = [T]': {
      body: 'input x: [T, 6]\ninput keep: [T] int\noutput y = attention(x, mask = keep, heads = 2, key_dim = 3, causal = true)',
      lengths: [{ T: 2 }, { T: 8 }],
    },
    'cross-attention between two symbolic lengths': {
      body: 'input q: [T, 6]\ninput kv: [S, 5]\noutput y = attention(q, kv, heads = 2, key_dim = 3)',
      lengths: [{ T: 2, S: 9 }, { T: 6, S: 3 }],
    },
  };
  it.each(Object.entries(cases))('%s', (_, c) => check(c));
});

describe('the examples with sequence layers match the interpreter', () => {
  /** The example's model, with each `[from, to]` replaced in its text first (a change the text no longer allows is a test error). */
  const example = (file: string, ...changes: [string, string][]) => {
    let text = readFileSync(`examples/${file}`, 'utf8');
    for (const [from, to] of changes) {
      if (!text.includes(from)) throw new Error(`test: examples/${file} no longer contains ${JSON.stringify(from)}`);
      text = text.replace(from, to);
    }
    return selectModel(compileSource({ path: `examples/${file}`, text }));
  };
  const cases: [string, Omit<Case, 'body'>, [string, string][]?][] = [
    ['rnn.dl', { batch: 3 }],
    ['gru_classifier.dl', { batch: 2 }],
    ['lstm_sentiment.dl', { batch: 2 }],
    ['seq2seq.dl', { batch: 2, lengths: [{ T: 5, S: 3 }, { T: 2, S: 7 }] }],
    ['transformer.dl', { batch: 2, lengths: [{ T: 7 }, { T: 3 }], tol: 1e-4 }],
    // Two of their twelve blocks, a vocabulary of 1,000 and one short sequence: the same layers and their
    // lowering (the tied head included) at about an eighth of the weights. Exporting 110 and 124 million weights and
    // loading them into ONNX Runtime took a minute and a half, most of this file's time. The full models'
    // parameter counts are checked in test/examples.test.ts, their outputs against tf ops in
    // test/backends/tfjs/language-models.test.ts.
    ['bert_base.dl', { batch: 1, lengths: [{ T: 4 }], tol: 1e-4 }, [['repeat(12, encoder', 'repeat(2, encoder'], ['vocab = 30522', 'vocab = 1000']]],
    ['gpt2.dl', { batch: 1, lengths: [{ T: 4 }], tol: 1e-4 }, [['repeat(12, decoder', 'repeat(2, decoder'], ['vocab = 50257', 'vocab = 1000'], ['dense(50257', 'dense(1000']]],
  ];
  for (const [file, c, changes = []] of cases) it(file, () => check({ body: '', ...c }, example(file, ...changes)), 120_000);
});

describe('through the command line', () => {
  const { dlc, file } = cliSandbox('dlc-onnx-seq-');
  const source = file(
    'tagger.dl',
    `# A masked tagger: both directions' states, then causal attention over them.
model Tagger {
  input tokens: [T] int
  y, forward, backward = tokens -> embedding(50, 8, mask_zero = true) -> bidirectional(gru(6, sequences = true, return_state = true))
  output tags = y -> attention(heads = 2, key_dim = 4, causal = true) -> dense(3)
  output state = forward
}
`,
  );

  it('dlc compile --target onnx writes the sequence layers', () => {
    const out = `${source}.onnx`;
    const r = dlc('compile', source, '--target', 'onnx', '-o', out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const ops = decodeModel(readFileSync(out)).graph!.node!.map((n) => n.opType);
    expect(ops).toContain('GRU');
    expect(ops).toContain('Softmax');
  });

  it('dlc run --engine ort prints what the interpreter prints, for padding at the end, the start and inside', () => {
    const input = file('in.json', JSON.stringify({ tokens: [[3, 5, 9, 0, 0], [0, 0, 2, 7, 1], [4, 0, 0, 8, 6], [0, 0, 0, 0, 0]] }));
    const run = (engine: string) => {
      const r = dlc('run', source, '--input', input, '--json', '--engine', engine);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const [ort, interp] = [run('ort'), run('interp')];
    expect(Object.keys(ort)).toEqual(['tags', 'state']);
    for (const name of Object.keys(interp)) {
      const [a, e] = [ort[name], interp[name]].map((v) => Float32Array.from((v as number[]).flat(2) as number[]));
      expectClose({ shape: [a.length], data: a }, { shape: [e.length], data: e }, 1e-5);
    }
  });
});
