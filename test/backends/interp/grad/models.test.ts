/**
 * lossAndGradients end to end: a small convnet and an LSTM model against
 * tf.variableGrads of the same models built from tf.layers holding the same
 * weights (Keras's from_logits: the tf models end in the logits and the loss
 * is tf.losses' softmax/sigmoid crossentropy, which is what Keras computes for
 * a softmax or sigmoid output). Then every example model: gradients shaped like
 * its weights, and the directional derivative of its loss by central differences.
 */
import { graphVars, specialize } from '../../../../src/ir/infer.js';
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../../src/backends/interp/execute.js';
import { lossAndGrad } from '../../../../src/backends/interp/losses.js';
import type { LossName } from '../../../../src/runtime/losses.js';
import { createRng } from '../../../../src/runtime/random.js';
import type { Tensor } from '../../../../src/backends/interp/tensor.js';
import { weightSlots, type Weights } from '../../../../src/backends/interp/weights.js';
import { compileFile } from '../../../../src/compile.js';
import type { Graph } from '../../../../src/ir/types.js';
import { optimize } from '../../../../src/passes/pipeline.js';
import { IMAGENET_EXAMPLES } from '../../../helpers.js';
import { expectClose, randTensor, toTf, useTfCpu } from '../helpers.js';
import { modelOf, randomIds, weightsFor } from './harness.js';

beforeAll(useTfCpu);

/** tf.variableGrads of `loss(model(x))` for a tf.layers model given our weights in `names` order. */
function tfStep(model: tf.LayersModel, weights: Weights, names: string[], x: tf.Tensor, loss: (logits: tf.Tensor) => tf.Scalar) {
  model.setWeights(names.map((n) => toTf(weights.get(n)!)));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  expect(vars.length).toBe(names.length);
  const { value, grads } = tf.variableGrads(() => loss(model.apply(x) as tf.Tensor), vars);
  return { loss: value.dataSync()[0], grads: Object.fromEntries(names.map((n, i) => [n, grads[vars[i].name]])) };
}

function expectSameStep(ours: { loss: number; grads: Map<string, Tensor> }, theirs: { loss: number; grads: Record<string, tf.Tensor> }) {
  expect(Math.abs(ours.loss - theirs.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, theirs.loss));
  expect([...ours.grads.keys()].sort()).toEqual(Object.keys(theirs.grads).sort());
  for (const [name, g] of ours.grads) {
    try {
      expectClose(g, theirs.grads[name], 1e-4);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
}

describe('a small convnet', () => {
  const body = `input image: [9, 9, 2]
output probs = image
  -> conv2d(4, kernel = 3, padding = same) -> relu
  -> maxpool(2, padding = same)
  -> conv2d(6, kernel = 3, stride = 2) -> relu
  -> flatten
  -> dense(5) -> softmax`;
  const names = ['conv2d.kernel', 'conv2d.bias', 'conv2d_1.kernel', 'conv2d_1.bias', 'dense.kernel', 'dense.bias'];
  const tfModel = () =>
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5 }),
      ],
    });
  const rng = createRng(31);
  const image = randTensor([4, 9, 9, 2], rng);
  const labels = randomIds([4], 5, rng);
  const hot = tf.oneHot(tf.tensor1d(labels.data, 'int32'), 5);

  it.each([false, true])('sparse_categorical_crossentropy, optimized (fused conv+relu): %s', (optimized) => {
    const graph = modelOf(body, optimized ? ['fused_conv2d'] : undefined);
    const weights = weightsFor(graph, 2);
    const ours = lossAndGradients(graph, weights, { image }, labels, 'sparse_categorical_crossentropy', { seed: 5 });
    const theirs = tfStep(tfModel(), weights, names, toTf(image), (z) => tf.losses.softmaxCrossEntropy(hot, z) as tf.Scalar);
    expectSameStep(ours, theirs);
  });

  it('categorical_crossentropy with one-hot targets gives the same step', () => {
    const graph = modelOf(body);
    const weights = weightsFor(graph, 3);
    const a = lossAndGradients(graph, weights, { image }, labels, 'sparse_categorical_crossentropy');
    const b = lossAndGradients(graph, weights, { image }, { shape: [4, 5], data: hot.dataSync() as Float32Array }, 'categorical_crossentropy');
    expect(b.loss).toBeCloseTo(a.loss, 6);
    for (const [name, g] of a.grads) expectClose(b.grads.get(name)!, g, 1e-6);
  });
});

describe('an LSTM model', () => {
  const body = `input tokens: [6] int
output positive = tokens -> embedding(vocab = 12, dim = 4)
  -> bidirectional(lstm(5, sequences = true))
  -> lstm(3)
  -> dense(1) -> sigmoid`;
  const cell = (p: string) => [`${p}kernel`, `${p}recurrent_kernel`, `${p}bias`];
  const names = ['embedding.embeddings', ...cell('bidirectional.forward.'), ...cell('bidirectional.backward.'), ...cell('lstm.'), 'dense.kernel', 'dense.bias'];
  const lstm = (units: number, returnSequences: boolean) =>
    tf.layers.lstm({ units, returnSequences, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' });
  const tfModel = () =>
    tf.sequential({
      layers: [
        tf.layers.embedding({ inputShape: [6], inputDim: 12, outputDim: 4 }),
        tf.layers.bidirectional({ layer: lstm(5, true) as tf.RNN, mergeMode: 'concat' }),
        lstm(3, false),
        tf.layers.dense({ units: 1 }),
      ],
    });
  const rng = createRng(41);
  const tokens = randomIds([5, 6], 12, rng);
  const labels = { shape: [5, 1], data: Float32Array.from([1, 0, 0, 1, 1]) };

  it.each([false, true])('binary_crossentropy, optimized (dense+sigmoid fused): %s', (optimized) => {
    const graph = modelOf(body, optimized ? ['fused_dense'] : undefined);
    const weights = weightsFor(graph, 4);
    const ours = lossAndGradients(graph, weights, { tokens }, labels, 'binary_crossentropy');
    const theirs = tfStep(tfModel(), weights, names, tf.tensor(tokens.data, tokens.shape, 'int32'), (z) => tf.losses.sigmoidCrossEntropy(toTf(labels), z) as tf.Scalar);
    expectSameStep(ours, theirs);
  });
});

describe('dropout in a training step', () => {
  it('the seed fixes the mask: the same seed gives the same step, another seed another one', () => {
    const graph = modelOf('input x: [6]\noutput y = x -> dense(8) -> relu -> dropout(0.5) -> dense(3) -> softmax');
    const weights = weightsFor(graph, 1);
    const rng = createRng(2);
    const x = randTensor([4, 6], rng);
    const y = randomIds([4], 3, rng);
    const step = (seed: number) => lossAndGradients(graph, weights, { x }, y, 'sparse_categorical_crossentropy', { seed });
    const [a, b, c] = [step(1), step(1), step(2)];
    expect(b.loss).toBe(a.loss);
    expect(Array.from(b.grads.get('dense.kernel')!.data)).toEqual(Array.from(a.grads.get('dense.kernel')!.data));
    expect(c.loss).not.toBe(a.loss);
  });
});

describe('every example model', () => {
  /** Small inputs for each example (the first output's loss), in the shapes it declares. */
  function batchFor(graph: Graph, B: number, seed: number): { inputs: Record<string, Tensor>; targets: Tensor; loss: LossName } {
    const rng = createRng(seed);
    const inputs: Record<string, Tensor> = {};
    for (const node of graph.inputs) {
      const shape = [B, ...(node.type.shape.slice(1) as number[])];
      inputs[node.name] = node.type.dtype === 'int32' ? randomIds(shape, 50, rng) : randTensor(shape, rng);
    }
    const out = graph.outputs[0].node;
    const shape = [B, ...(out.type.shape.slice(1) as number[])];
    const C = shape.at(-1)!;
    if (out.op === 'softmax') return { inputs, targets: randomIds(shape.slice(0, -1), C, rng), loss: 'sparse_categorical_crossentropy' };
    if (out.op === 'sigmoid' || out.attrs.activation) {
      const t = randomIds(shape, 2, rng);
      return { inputs, targets: t, loss: 'binary_crossentropy' };
    }
    return { inputs, targets: randTensor(shape, rng), loss: 'mse' };
  }

  // The ImageNet-sized models are left out: a step takes 50 s each, and central differences along one
  // direction through 50+ batch-normalised layers at batch 2 only approach <grad, v> below eps = 1e-5.
  const examples = readdirSync('examples').filter((f) => f.endsWith('.dl') && f !== 'fully_connected.dl' && !IMAGENET_EXAMPLES.includes(f));
  it.each(examples)('%s: one step, and its loss along a random direction by central differences', (file) => {
    for (const source of compileFile(`examples/${file}`).graphs) {
      // A model over a length T (the transformer, seq2seq) is stepped at T = 6: the backward pass runs concrete graphs.
      const optimized = optimize(source, { training: true }).graph;
      const graph = graphVars(optimized).length > 0 ? specialize(optimized, new Map(graphVars(optimized).map((v) => [v, 6]))) : optimized;
      // Gradients for the trained weights; layer state (batchnorm's moving statistics) comes back as the step's new values.
      const all = weightSlots(graph);
      const slots = all.filter((s) => s.spec.trainable);
      if (slots.length === 0) continue;
      const weights = weightsFor(graph, 6);
      const { inputs, targets, loss } = batchFor(graph, 2, 7);
      const step = lossAndGradients(graph, weights, inputs, targets, loss, { seed: 9 });
      expect([...step.grads.keys()].sort()).toEqual(slots.map((s) => s.name).sort());
      for (const { name } of slots) expect(step.grads.get(name)!.shape).toEqual(weights.get(name)!.shape);
      expect([...step.state.keys()].sort()).toEqual(all.filter((s) => s.spec.state).map((s) => s.name).sort());

      // L(w + eps v) - L(w - eps v) over 2 eps against <grad, v>, v random over every weight at once.
      const rng = createRng(13);
      const dirs = new Map(slots.map(({ name }) => [name, Float32Array.from(weights.get(name)!.data, () => 2 * rng.uniform() - 1)]));
      // Batch normalization makes the loss curve faster (every value's gradient sees its whole channel): a smaller step.
      const eps = graph.nodes.some((n) => n.op === 'batchnorm') ? 1e-4 : 1e-3;
      const lossAt = (sign: number) => {
        const moved: Weights = new Map([...weights].map(([n, t]) => [n, { shape: t.shape, data: t.data.map((v, i) => v + sign * eps * (dirs.get(n)?.[i] ?? 0)) }]));
        const out = new Interpreter(graph, moved).run(inputs, { training: true, seed: 9 }).outputs[graph.outputs[0].name];
        return lossAndGrad(loss, out, targets).loss;
      };
      const numeric = (lossAt(1) - lossAt(-1)) / (2 * eps);
      let analytic = 0, norm = 0;
      for (const [name, v] of dirs) {
        const g = step.grads.get(name)!.data;
        for (let i = 0; i < v.length; i++) {
          analytic += g[i] * v[i];
          norm += g[i] * g[i];
        }
      }
      expect(Math.abs(numeric - analytic), `${graph.name}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(2e-2 * Math.max(Math.abs(analytic), Math.sqrt(norm)) + 1e-4);
      expect(step.loss).toBeCloseTo(lossAndGrad(loss, step.predictions, targets).loss, 4);
    }
  });
});
