/**
 * Batchnorm folding (passes/rules.ts fold-batchnorm, runtime/batchnorm.ts):
 * at inference a batchnorm on the channel axis of a dense or convolution
 * whose output nothing else reads becomes part of that layer. The reference
 * is the same model unfolded (--opt 0: the interpreter's own batchnorm
 * kernel, itself checked against tf.layers.batchNormalization): the folded
 * interpreter (--opt 1) and the generated TensorFlow.js module must give its
 * outputs to 1e-5, on weights whose biases, gammas, betas and moving
 * statistics are random and far from their initial 0 and 1.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter, initWeights, weightProblems, type Weights } from '../../src/backends/interp/index.js';
import { backprop } from '../../src/backends/interp/autodiff.js';
import { layerInfo } from '../../src/backends/dot/layer.js';
import { weightSlots } from '../../src/weights/slots.js';
import type { Graph } from '../../src/ir/types.js';
import { optimize } from '../../src/passes/pipeline.js';
import { createRng } from '../../src/runtime/random.js';
import { encodeSafetensors } from '../../src/weights/safetensors.js';
import { summarize } from '../../src/summary.js';
import { compileText } from '../helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../backends/tfjs/generated.js';
import { expectClose, fromTf, randTensor, useTfCpu } from '../backends/interp/helpers.js';

const model = (input: string, body: string) => compileText(`model M {\n  input x: ${input}\n  output y = x -> ${body}\n}\n`);

/** Every folding case: the layer, and the batchnorm's settings. */
const FOLDED: [string, string, string][] = [
  ['conv2d', '[7, 6, 3]', 'conv2d(5, kernel = 3, padding = same) -> batchnorm'],
  ['conv2d without bias, strided, then relu', '[9, 9, 2]', 'conv2d(4, kernel = [3, 2], stride = 2, bias = false) -> batchnorm(epsilon = 0.01) -> relu'],
  ['conv2d, batchnorm without center', '[6, 6, 2]', 'conv2d(3, kernel = 2) -> batchnorm(center = false) -> sigmoid'],
  ['conv2d, batchnorm without scale', '[6, 6, 2]', 'conv2d(3, kernel = 2, dilation = 2) -> batchnorm(scale = false)'],
  ['conv1d', '[10, 3]', 'conv1d(4, kernel = 3) -> batchnorm'],
  ['conv1d without bias, batchnorm without center and scale', '[10, 3]', 'conv1d(4, kernel = 3, bias = false, padding = same) -> batchnorm(center = false, scale = false) -> tanh'],
  ['dense', '[6]', 'dense(5) -> batchnorm'],
  ['dense without bias, batchnorm axis 1 (its channels)', '[6]', 'dense(5, bias = false) -> batchnorm(axis = 1) -> relu'],
  ['dense over steps', '[4, 6]', 'dense(3) -> batchnorm(axis = 2, center = false)'],
  ['depthwise_conv2d without bias, then relu6 (MobileNet)', '[7, 7, 3]', 'depthwise_conv2d(3, padding = same, bias = false) -> batchnorm -> relu6'],
  ['depthwise_conv2d, depth multiplier 2, strided', '[8, 8, 2]', 'depthwise_conv2d(3, stride = 2, depth_multiplier = 2) -> batchnorm(center = false)'],
  ['separable_conv2d (into its pointwise step)', '[6, 6, 3]', 'separable_conv2d(4, 3, depth_multiplier = 2) -> batchnorm(scale = false) -> relu'],
  ['two in a row', '[8, 8, 1]', 'conv2d(4, kernel = 3) -> batchnorm -> relu -> conv2d(2, kernel = 3, bias = false) -> batchnorm -> flatten -> dense(3) -> batchnorm'],
];

/** Initial weights with every value moved: kernels and biases uniform in [-1, 1), gammas in [0.5, 2) with random signs, betas and means in [-2, 2), variances in [0.1, 3). */
function randomWeights(graph: Graph, seed: number): Weights {
  const weights = initWeights(graph, { seed });
  const rng = createRng(seed + 100);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
  for (const [name, t] of weights) {
    const param = name.slice(name.lastIndexOf('.') + 1);
    for (let i = 0; i < t.data.length; i++) {
      if (param === 'gamma') t.data[i] = u(0.5, 2) * (rng.uniform() < 0.5 ? -1 : 1);
      else if (param === 'moving_variance') t.data[i] = u(0.1, 3);
      else if (param === 'beta' || param === 'moving_mean') t.data[i] = u(-2, 2);
      else t.data[i] = u(-1, 1);
    }
  }
  return weights;
}

const inputsOf = (graph: Graph, seed: number) => ({ x: randTensor([3, ...(graph.inputs[0].type.shape.slice(1) as number[])], createRng(seed)) });
const ops = (g: Graph) => g.nodes.map((n) => n.op);

describe('fold-batchnorm', () => {
  for (const [what, input, body] of FOLDED)
    it(`${what}: the folded interpreter gives the unfolded outputs`, () => {
      const source = model(input, body);
      const folded = optimize(source).graph;
      expect(ops(folded)).not.toContain('batchnorm');
      expect(folded.nodes.filter((n) => (n.resolved as { batchnorm?: unknown }).batchnorm)).toHaveLength(ops(source).filter((op) => op === 'batchnorm').length);
      const weights = randomWeights(source, 3);
      const inputs = inputsOf(source, 4);
      const expected = new Interpreter(optimize(source, { level: 0 }).graph, weights).run(inputs).outputs.y;
      expectClose(new Interpreter(folded, weights).run(inputs).outputs.y, expected, 1e-5);
    });

  it('keeps the weights file: the same names and shapes, and the same parameter totals', () => {
    for (const [, input, body] of FOLDED) {
      const source = model(input, body);
      const folded = optimize(source).graph;
      const slots = (g: Graph) => weightSlots(g).map((s) => `${s.name} ${s.spec.shape.join('x')} ${s.spec.trainable}`).sort();
      expect(slots(folded)).toEqual(slots(source));
      expect(weightProblems(folded, initWeights(source, { seed: 1 }))).toEqual([]);
      const [before, after] = [summarize(source), summarize(folded)];
      expect([after.totalParams, after.trainableParams]).toEqual([before.totalParams, before.trainableParams]);
    }
  });

  it('folds only on the channel axis of a layer whose output nothing else reads', () => {
    const kept = (input: string, body: string) => ops(optimize(model(input, body)).graph).includes('batchnorm');
    expect(kept('[6, 6, 2]', 'conv2d(3, kernel = 2) -> batchnorm(axis = 1)')).toBe(true); // normalises rows, not channels
    expect(kept('[6, 6, 2]', 'conv2d(3, kernel = 2) -> batchnorm(axis = -2)')).toBe(true);
    expect(kept('[4, 6]', 'dense(3) -> batchnorm(axis = 1)')).toBe(true); // the steps
    expect(kept('[6]', 'dense(3) -> relu -> batchnorm')).toBe(true); // after a nonlinearity
    expect(kept('[6]', 'dense(3) -> batchnorm -> batchnorm')).toBe(true); // the second one: one fold per layer
    expect(kept('[6]', 'batchnorm')).toBe(true); // nothing to fold into
    const shared = compileText('model M {\n  input x: [6, 6, 2]\n  h = x -> conv2d(3, kernel = 2)\n  output y = add(h -> batchnorm, h)\n}\n');
    expect(ops(optimize(shared).graph)).toContain('batchnorm');
    const exposed = compileText('model M {\n  input x: [6]\n  h = x -> dense(3)\n  output y = h -> batchnorm\n  output z = h\n}\n');
    expect(ops(optimize(exposed).graph)).toContain('batchnorm');
    const fixed = compileText('model M {\n  input x: [5, 5, 1]\n  output y = x -> conv2d(kernel = [[1, 0], [0, -1]]) -> batchnorm\n}\n');
    expect(ops(optimize(fixed).graph)).toContain('batchnorm');
  });

  it('never folds a training build, nor at --opt 0', () => {
    const source = model('[7, 6, 3]', 'conv2d(5, kernel = 3) -> batchnorm -> relu');
    expect(ops(optimize(source, { training: true }).graph)).toEqual(['input', 'conv2d', 'batchnorm', 'relu']);
    expect(ops(optimize(source, { level: 0 }).graph)).toEqual(['input', 'conv2d', 'batchnorm', 'relu']);
    expect(ops(optimize(source).graph)).toEqual(['input', 'fused_conv2d']);
    // A folded graph handed to training anyway is refused, not trained with the batchnorm left out.
    const folded = optimize(source).graph;
    expect(() => backprop(folded, initWeights(source, { seed: 1 }), inputsOf(source, 2))).toThrow('has a batchnorm folded in, which is for inference only');
  });

  it('labels the folded layer in diagrams', () => {
    const [, conv, , dense] = optimize(model('[6, 6, 2]', 'conv2d(8, kernel = 3, padding = same) -> batchnorm -> relu -> flatten -> dense(3) -> batchnorm')).graph.nodes;
    expect([layerInfo(conv).title, layerInfo(conv).detail, layerInfo(conv).params]).toEqual(['conv2d + bn + relu', '8 3x3 same', 3 * 3 * 2 * 8 + 8 + 4 * 8]);
    expect([layerInfo(dense).title, layerInfo(dense).params]).toEqual(['dense + bn', 6 * 6 * 8 * 3 + 3 + 4 * 3]);
  });

  it('derives the folded weights when they are bound, leaving the given ones as they were', () => {
    const source = model('[6]', 'dense(5) -> batchnorm');
    const weights = randomWeights(source, 5);
    const before = new Map([...weights].map(([k, t]) => [k, Float32Array.from(t.data)]));
    const interpreter = new Interpreter(optimize(source).graph, weights);
    for (const [name, data] of before) expect(weights.get(name)!.data).toEqual(data);
    // What the interpreter runs with: kernel * s and (bias - mean) * s + beta, s = gamma / sqrt(var + eps), written out.
    const w = (n: string) => weights.get(n)!.data;
    const s = Array.from(w('batchnorm.gamma'), (g, c) => g / Math.sqrt(w('batchnorm.moving_variance')[c] + 1e-3));
    const kernel = interpreter.weights.get('dense.kernel')!.data;
    w('dense.kernel').forEach((k, i) => expect(kernel[i]).toBeCloseTo(k * s[i % 5], 6));
    const bias = interpreter.weights.get('dense.bias')!.data;
    s.forEach((sc, c) => expect(bias[c]).toBeCloseTo((w('dense.bias')[c] - w('batchnorm.moving_mean')[c]) * sc + w('batchnorm.beta')[c], 5));
  });
});

describe('fold-batchnorm in generated TensorFlow.js modules', () => {
  const dir = generatedDir();
  beforeAll(useTfCpu);
  afterAll(() => removeGenerated(dir));

  it('predict on the folded module gives the unfolded interpreter outputs, from the same weights file', async () => {
    const sources = FOLDED.map(([, input, body]) => model(input, body));
    const graphs = sources.map((g) => optimize(g).graph);
    const files = await emitModules(dir, graphs.map((graph) => ({ graph, sourcePath: 'test.dl' })));
    for (const [i, source] of sources.entries()) {
      const mod = await loadModule(files[i]);
      const weights = randomWeights(source, 7 + i);
      const inputs = inputsOf(source, 8 + i);
      const expected = new Interpreter(source, weights).run(inputs).outputs.y;
      const tfWeights = mod.loadWeights(encodeSafetensors(weights));
      const x = tf.tensor(inputs.x.data, inputs.x.shape);
      // Twice: the second call reuses the kernels and biases folded by the first.
      const first = fromTf(mod.predict(tfWeights, { x }).y);
      const tensors = tf.memory().numTensors;
      expectClose(fromTf(mod.predict(tfWeights, { x }).y), expected, 1e-5);
      expect(tf.memory().numTensors).toBe(tensors);
      expectClose(first, expected, 1e-5);
      expect(Object.keys(mod.weightSpecs).sort()).toEqual([...weights.keys()].sort()); // still Keras's separate weights
      tf.dispose([tfWeights, x]);
    }
  });
});
