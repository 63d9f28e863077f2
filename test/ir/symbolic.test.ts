/**
 * Dimension variables (`input x: [T, 64]`, `[None, 71]`): shapes checked with
 * the variables' names, located errors where a fixed size is needed, FLOPs
 * as a polynomial in T, and run time at any length — the interpreter against
 * tf.layers at two lengths, a generated module against the interpreter at
 * two lengths, and `dlc train` at the data's length.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWeights, inputsFromJson, Interpreter, InputError } from '../../src/backends/interp/index.js';
import { summarize, formatSummary } from '../../src/summary.js';
import { optimize } from '../../src/passes/pipeline.js';
import { compileText, errorsOf } from '../helpers.js';
import { createRng } from '../../src/runtime/random.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareTraining } from '../../src/train/index.js';
import { train } from '../../src/train/train.js';
import { expectClose, useTfCpu } from '../backends/interp/helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../backends/tfjs/generated.js';

beforeAll(useTfCpu);

/** A FLOPs polynomial ('' constant, 'T', 'T^2', ...) at the given sizes. */
const evaluatePoly = (p: Record<string, number>, sizes: Record<string, number>) =>
  Object.entries(p).reduce((sum, [k, c]) => sum + c * (k === '' ? 1 : k.split('*').reduce((m, f) => m * sizes[f.split('^')[0]] ** Number(f.split('^')[1] ?? 1), 1)), 0);

const TRANSFORMER = (tokens: string) => `
model M {
  input tokens: ${tokens} int
  h = tokens -> embedding(vocab = 1000, dim = 64) -> positional -> attention(heads = 2, key_dim = 16) -> layernorm -> dense(32, activation = relu)
  output y = h -> global_avgpool -> dense(1) -> sigmoid
}`;

describe('shapes and summaries', () => {
  it('a [T] int input keeps T through embedding, attention, layernorm and dense; pooling over T removes it', () => {
    const graph = compileText(TRANSFORMER('[T]'));
    expect(graph.nodes.map((n) => n.type.shape)).toEqual([
      [null, 'T'], [null, 'T', 64], [null, 'T', 64], [null, 'T', 64], [null, 'T', 64], [null, 'T', 32], [null, 32], [null, 1], [null, 1],
    ]);
  });

  it('parameters do not depend on T, and the FLOPs polynomial at T = 64 and T = 100 is the fixed-length model\'s count', () => {
    const symbolic = summarize(compileText(TRANSFORMER('[T]')));
    for (const n of [64, 100]) {
      const fixed = summarize(compileText(TRANSFORMER(`[${n}]`)));
      expect(symbolic.totalParams).toBe(fixed.totalParams);
      expect(evaluatePoly(symbolic.flopsTerms, { T: n })).toBe(fixed.flops);
      expect(symbolic.flops).toBeNaN();
      symbolic.layers.forEach((l, i) => expect(evaluatePoly(l.flopsTerms, { T: n })).toBe(fixed.layers[i].flops));
    }
    // attention: 4 projections of 2 T d^2 ... and 2 T^2 (heads x key_dim) for scores and context
    expect(symbolic.layers[3].flopsTerms).toEqual({ T: 16384, 'T^2': 128 });
  });

  it('the summary prints T in shapes and FLOPs as a polynomial, and None for an anonymous dimension', () => {
    const text = formatSummary(summarize(compileText(TRANSFORMER('[T]'))));
    expect(text).toContain('(batch, T, 64)');
    expect(text).toContain('16,384·T + 128·T²');
    expect(text).toContain('FLOPs per example: 64 + 20,480·T + 128·T²');
    const none = formatSummary(summarize(compileText('model N {\n  input x: [None, 71]\n  output y = x -> lstm(16, sequences = true)\n}')));
    // Keras's LSTM: 4 x (71 + 16 + 1) x 16 = 5,632 weights; 2 x 4 x (71 + 16) x 16 FLOPs per step
    expect(none).toMatch(/\(batch, None, 16\) +5,632 +11,136·None\n/);
  });

  it('reshape with -1 may keep T; take and slice on T give fixed sizes', () => {
    const graph = compileText('model R {\n  input x: [T, 16]\n  output y = x -> reshape([-1, 4, 4]) -> take(0, axis = 1)\n}');
    expect(graph.outputs[0].node.type.shape).toEqual([null, 4, 4]);
    expect(graph.nodes[1].type.shape).toEqual([null, 'T', 4, 4]);
  });

  it('conv and pool with padding = same and stride = 1 keep T', () => {
    const graph = compileText('model C {\n  input x: [T, 8]\n  output y = x -> conv1d(4, 3, padding = same) -> maxpool(3, stride = 1, padding = same)\n}');
    expect(graph.outputs[0].node.type.shape).toEqual([null, 'T', 4]);
  });
});

describe('located errors', () => {
  const one = (text: string) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    return errors[0];
  };

  it('adding [T, 64] to [S, 64] names T and S', () => {
    const e = one('model A {\n  input a: [T, 64]\n  input b: [S, 64]\n  output y = add(a, b)\n}');
    expect(e.at).toBe('4:14');
    expect(e.message).toBe('add: shapes [T, 64] and [S, 64] differ in dimension 1');
  });

  it('two None dimensions are distinct, and the hint says to name them', () => {
    const e = one('model B {\n  input a: [None, 64]\n  input b: [None, 64]\n  output y = add(a, b)\n}');
    expect(e.message).toBe('add: shapes [None, 64] and [None, 64] differ in dimension 1');
    expect(e.hint).toMatch(/each None is a dimension of its own.*\[T, 64\]/);
  });

  it.each([
    ['flatten', '[T, 64]', 'flatten -> dense(2)', '3:19', /^flatten: a symbolic dimension used where a fixed one is needed: axis 1 of the output \(T = \d+ gives \d+\) would depend on T$/],
    ['conv1d, padding = valid', '[T, 8]', 'conv1d(4, 3)', '3:19', /^conv1d: a symbolic dimension used where a fixed one is needed: .* would depend on T$/],
    ['a strided pool', '[T, 8]', 'maxpool(2)', '3:19', /^maxpool: a symbolic dimension used where a fixed one is needed/],
    ['dense over T', '[T]', 'dense(3)', '3:19', /^dense: a symbolic dimension used where a fixed one is needed: the shape of its weight kernel \[T, 3\] would depend on T$/],
    ['a learned position table without length', '[T, 8]', 'positional(learned)', '3:19', /^positional: a symbolic dimension used where a fixed one is needed: a learned position table/],
  ])('%s', (_what, shape, stage, at, message) => {
    const e = one(`model E {\n  input x: ${shape}\n  output y = x -> ${stage}\n}`);
    expect(e.at).toBe(at);
    expect(e.message).toMatch(message);
    expect(e.hint).toBeTruthy();
  });

  it('concatenating T with T along T (2 T steps)', () => {
    const e = one('model K {\n  input x: [T, 8]\n  output y = concat(x, x, axis = 1)\n}');
    expect(e.message).toMatch(/^concat: a symbolic dimension used where a fixed one is needed: axis 1 of the output .* would depend on T$/);
  });

  it('a learned table of length rows takes a fixed length up to it, not beyond', () => {
    expect(compileText('model P {\n  input x: [T, 8]\n  output y = x -> positional(learned, max_len = 16)\n}').outputs[0].node.type.shape).toEqual([null, 'T', 8]);
    const e = one('model P {\n  input x: [20, 8]\n  output y = x -> positional(learned, max_len = 16)\n}');
    expect(e.message).toBe('positional: the sequence has 20 steps but the table holds max_len = 16 positions');
  });

  it('a constant of the file is a size, not a variable', () => {
    expect(compileText('const T = 5\nmodel Q {\n  input x: [T, 2]\n  output y = x -> relu\n}').inputs[0].type.shape).toEqual([null, 5, 2]);
  });
});

describe('run time', () => {
  const source = 'model S {\n  input tokens: [T] int\n  output y = tokens -> embedding(vocab = 20, dim = 6) -> lstm(5, sequences = true) -> dense(3)\n}';
  const graph = compileText(source);
  const weights = initWeights(graph, { seed: 3 });
  const ids = (B: number, T: number) => Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % 20);
  let dir: string;
  afterAll(() => dir && removeGenerated(dir));

  it.each([5, 9])('the interpreter at T = %i matches tf.layers (embedding -> LSTM -> dense)', (T) => {
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 20, outputDim: 6, inputShape: [null] }),
        tf.layers.lstm({ units: 5, returnSequences: true, recurrentActivation: 'sigmoid' }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const w = (name: string) => tf.tensor(weights.get(name)!.data, weights.get(name)!.shape);
    model.setWeights(['embedding.embeddings', 'lstm.kernel', 'lstm.recurrent_kernel', 'lstm.bias', 'dense.kernel', 'dense.bias'].map(w));
    const x = { shape: [2, T], data: Float32Array.from(ids(2, T)) };
    const { outputs } = new Interpreter(optimize(graph).graph, weights).run({ tokens: x });
    expect(outputs.y.shape).toEqual([2, T, 3]);
    expectClose(outputs.y, model.predict(tf.tensor2d(ids(2, T), [2, T])) as tf.Tensor);
  });

  it('inputs whose T disagrees are an error naming T', () => {
    const two = compileText('model D {\n  input a: [T, 2]\n  input b: [T, 2]\n  output y = add(a, b)\n}');
    const rows = (n: number) => [Array.from({ length: n }, () => [0, 1])];
    expect(() => inputsFromJson(two, { a: rows(10), b: rows(12) })).toThrow(new InputError('input "b" has T = 12 but input "a" has T = 10: every T of the model is one length'));
    expect(inputsFromJson(two, { a: rows(3), b: rows(3) }).a.shape).toEqual([1, 3, 2]);
  });

  it('a generated module runs at two lengths as the interpreter does, and refuses lengths that disagree', async () => {
    dir = generatedDir();
    const two = compileText('model G {\n  input tokens: [T] int\n  input mask: [T, 3]\n  h = tokens -> embedding(vocab = 20, dim = 6) -> positional -> lstm(5, sequences = true) -> dense(3)\n  output y = add(h, mask)\n}');
    const w = initWeights(two, { seed: 4 });
    const [file] = await emitModules(dir, [{ graph: two, sourcePath: 'test.dl' }]);
    const mod = await loadModule(file);
    expect(mod.inputShapes.tokens).toEqual([null, 'T']);
    const tfWeights = Object.fromEntries([...w].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
    const rng = createRng(8);
    for (const T of [4, 11]) {
      const mask = Float32Array.from({ length: 2 * T * 3 }, () => rng.uniform() - 0.5);
      const ours = new Interpreter(optimize(two).graph, w).run({ tokens: { shape: [2, T], data: Float32Array.from(ids(2, T)) }, mask: { shape: [2, T, 3], data: mask } });
      const theirs = mod.predict(tfWeights, { tokens: tf.tensor2d(ids(2, T), [2, T], 'int32'), mask: tf.tensor3d(mask, [2, T, 3]) });
      expectClose(ours.outputs.y, theirs.y);
    }
    expect(() => mod.predict(tfWeights, { tokens: tf.tensor2d(ids(1, 4), [1, 4], 'int32'), mask: tf.zeros([1, 5, 3]) })).toThrow(
      'input "mask" has T = 5 but input "tokens" has T = 4: every T of the model is one length',
    );
  });
});

describe('training', () => {
  it('dlc train runs a [T, 1] model at the length of its data (sine windows of 10 steps) and its loss falls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-symbolic-'));
    try {
      const file = join(dir, 'wave.dl');
      writeFileSync(file, 'model Wave {\n  input w: [T, 1]\n  output next = w -> rnn(8) -> dense(1)\n}\ntrain Wave {\n  data = sine(10, n = 400)\n  loss = mse\n  optimizer = adam(lr = 0.01)\n  epochs = 10\n  batch = 16\n}\n');
      const p = prepareTraining(file);
      expect(p.graph.inputs[0].type.shape).toEqual([null, 10, 1]);
      expect(p.data.sizes).toEqual(new Map([['T', 10]]));
      const run = train(p.graph, p.config, p.data);
      expect(run.history.at(-1)!.testLoss).toBeLessThan(run.history[0].testLoss! / 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
