/**
 * batchnorm, the first op with layer state, against TensorFlow.js's
 * tf.layers.batchNormalization (the port of Keras's BatchNormalization):
 * its parameter counts, its inference output, its training output and
 * moving-statistics update, its gradients (through the harness: tf.grads
 * and finite differences), and `dlc train` keeping the updated statistics.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import type { Weights } from '../../../src/backends/interp/weights.js';
import { summarize } from '../../../src/summary.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { prepareTraining, train } from '../../../src/train/index.js';
import { compileText } from '../../helpers.js';
import { checkGradients } from './grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

/** A model `x -> batchnorm(args)` with the given per-example input shape. */
const bnModel = (shape: number[], args = '') => compileText(`model M {\n  input x: [${shape.join(', ')}]\n  output y = x -> batchnorm(${args})\n}\n`);

/** Random gamma, beta, moving mean and a positive moving variance for `channels`. */
function randomState(channels: number, seed: number): Weights {
  const rng = createRng(seed);
  const weights: Weights = new Map();
  weights.set('batchnorm.gamma', randTensor([channels], rng, 2));
  weights.set('batchnorm.beta', randTensor([channels], rng, 1));
  weights.set('batchnorm.moving_mean', randTensor([channels], rng, 1));
  const variance = randTensor([channels], rng, 0.5);
  variance.data.forEach((v, i) => (variance.data[i] = v + 1));
  weights.set('batchnorm.moving_variance', variance);
  return weights;
}

/** tf.layers.batchNormalization holding the same four tensors. */
function tfLayer(weights: Weights, inputShape: number[], config: { momentum?: number } = {}) {
  const layer = tf.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, ...config });
  layer.build([null, ...inputShape]);
  layer.setWeights(['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => toTf(weights.get(`batchnorm.${n}`)!)));
  return layer;
}

describe('batchnorm', () => {
  it("counts Keras's parameters: 4 per channel, 2 trainable (Conv2D(32, 3) + BatchNormalization: 448, 384 trainable)", () => {
    const s = summarize(compileText('model M {\n  input x: [28, 28, 1]\n  output y = x -> conv2d(32, 3) -> batchnorm\n}\n'));
    expect([s.totalParams, s.trainableParams, s.nonTrainableParams]).toEqual([448, 384, 64]);
    const bare = summarize(bnModel([10], 'center = false, scale = false'));
    expect([bare.totalParams, bare.trainableParams]).toEqual([20, 0]);
  });

  /**
   * The reference for other axes, written out with tf ops: tf.layers's
   * BatchNormalization broadcasts its weights along the wrong axis when the
   * channels are not last (with axis 1 on [2, 3] it alternates gamma along
   * the last axis), so it serves as the reference for axis -1 only.
   */
  function reference(x: tf.Tensor, weights: Weights, axis: number, training: boolean, momentum: number) {
    const rank = x.shape.length;
    const channelAxis = axis < 0 ? rank + axis : axis;
    const bshape = x.shape.map((d, i) => (i === channelAxis ? d : 1));
    const w = (n: string) => tf.reshape(toTf(weights.get(`batchnorm.${n}`)!), bshape);
    const { mean, variance } = training ? tf.moments(x, x.shape.map((_, i) => i).filter((i) => i !== channelAxis), true) : { mean: w('moving_mean'), variance: w('moving_variance') };
    const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3))), w('gamma')), w('beta'));
    // Keras: moving <- moving - (moving - batch) (1 - momentum).
    const moved = (n: string, batch: tf.Tensor) => tf.sub(w(n), tf.mul(tf.sub(w(n), batch), 1 - momentum)).reshape([-1]);
    return { y, mean: moved('moving_mean', mean), variance: moved('moving_variance', variance) };
  }

  it.each([
    { shape: [5, 6, 3], axis: -1 },
    { shape: [4, 7], axis: 1 },
    { shape: [3, 4, 5], axis: 2 },
  ])('inference on $shape, axis $axis: the moving statistics', ({ shape, axis }) => {
    const graph = bnModel(shape, `axis = ${axis}`);
    const channels = shape.at(axis === -1 ? -1 : axis - 1)!;
    const weights = randomState(channels, 3);
    const x = randTensor([4, ...shape], createRng(4), 2);
    const ours = new Interpreter(graph, weights).run({ x }).outputs.y;
    expectClose(ours, reference(toTf(x), weights, axis, false, 0.99).y);
    if (axis === -1) expectClose(ours, tfLayer(weights, shape).apply(toTf(x), { training: false }) as tf.Tensor);
  });

  it.each([
    { shape: [5, 6, 3], axis: -1, momentum: 0.99 },
    { shape: [4, 7], axis: 1, momentum: 0.9 },
    { shape: [3, 4, 5], axis: 2, momentum: 0.5 },
  ])('training on $shape, axis $axis: batch statistics, and the moving ones updated as Keras updates them', ({ shape, axis, momentum }) => {
    const graph = bnModel(shape, `axis = ${axis}, momentum = ${momentum}`);
    const channels = shape.at(axis === -1 ? -1 : axis - 1)!;
    const weights = randomState(channels, 5);
    const x = randTensor([6, ...shape], createRng(6), 2);
    const run = new Interpreter(graph, weights).run({ x }, { training: true });
    const expected = reference(toTf(x), weights, axis, true, momentum);
    expectClose(run.outputs.y, expected.y);
    expectClose(run.state.get('batchnorm.moving_mean')!, expected.mean);
    expectClose(run.state.get('batchnorm.moving_variance')!, expected.variance);
    if (axis === -1) {
      const layer = tfLayer(weights, shape, { momentum });
      expectClose(run.outputs.y, layer.apply(toTf(x), { training: true }) as tf.Tensor);
      const [, , mean, variance] = layer.getWeights();
      expectClose(run.state.get('batchnorm.moving_mean')!, fromTf(mean));
      expectClose(run.state.get('batchnorm.moving_variance')!, fromTf(variance));
    }
    // The run reports the new state; the weights it ran with are unchanged.
    expectClose(weights.get('batchnorm.moving_mean')!, randomState(channels, 5).get('batchnorm.moving_mean')!, 0);
  });

  it.each([
    { body: 'input x: [4, 3]\noutput y = x -> batchnorm', axes: [0, 1], bshape: [1, 1, 3] },
    { body: 'input x: [3, 5]\noutput y = x -> batchnorm(axis = 1, epsilon = 0.01)', axes: [0, 2], bshape: [1, 3, 1], eps: 0.01 },
    { body: 'input x: [3, 3, 2]\noutput y = x -> conv2d(4, 2) -> batchnorm -> relu', axes: [0, 1, 2], bshape: [1, 1, 1, 4], conv: true },
  ])('gradients in training ($body)', ({ body, axes, bshape, eps = 1e-3, conv }) => {
    checkGradients({
      body,
      batch: 3,
      reference: (i, w) => {
        const x = conv ? tf.add(tf.conv2d(i.x as tf.Tensor4D, w['conv2d.kernel'] as tf.Tensor4D, 1, 'valid'), w['conv2d.bias']) : i.x;
        const { mean, variance } = tf.moments(x, axes, true);
        const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), tf.reshape(w['batchnorm.gamma'], bshape)), tf.reshape(w['batchnorm.beta'], bshape));
        return conv ? tf.relu(y) : y;
      },
    });
  });

  it('folded into a convolution, copying the weights or folding in place (dlc run), it computes tf.layers conv2d then batchNormalization', () => {
    const graph = compileText('model M {\n  input x: [6, 6, 3]\n  output y = x -> conv2d(4, 3, bias = false) -> batchnorm\n}\n');
    const folded = optimize(graph).graph;
    expect(folded.nodes.map((n) => n.op)).toContain('fused_conv2d');
    const rng = createRng(11);
    const fresh = (): Weights => {
      const w = randomState(4, 12);
      w.set('conv2d.kernel', randTensor([3, 3, 3, 4], createRng(13)));
      return w;
    };
    const x = randTensor([2, 6, 6, 3], rng);
    // The reference: Keras's layers on the same weights, unfolded.
    const w = fresh();
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false });
    const bn = tf.layers.batchNormalization({});
    bn.apply(conv.apply(toTf(x))); // builds both
    conv.setWeights([toTf(w.get('conv2d.kernel')!)]);
    bn.setWeights(['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => toTf(w.get(`batchnorm.${n}`)!)));
    const expected = fromTf(bn.apply(conv.apply(toTf(x))) as tf.Tensor);
    const copying = new Interpreter(folded, w);
    expectClose(copying.run({ x }).outputs.y, expected);
    expect(w.get('conv2d.kernel')!.data).not.toBe(copying.weights.get('conv2d.kernel')!.data);
    const given = fresh();
    const kernelBuffer = given.get('conv2d.kernel')!.data;
    const inPlace = new Interpreter(folded, given, { foldInPlace: true });
    expectClose(inPlace.run({ x }).outputs.y, expected);
    // No second kernel: the folded one is written over the layer's own buffer.
    expect(inPlace.weights.get('conv2d.kernel')!.data).toBe(kernelBuffer);
  });

  it('dlc train keeps the moving statistics: momentum 0 and one batch of the whole data leave its mean and biased variance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-bn-'));
    const rng = createRng(11);
    const rows = Array.from({ length: 16 }, () => [3 + 2 * rng.uniform(), -1 + 0.5 * rng.uniform(), rng.uniform() < 0.5 ? 0 : 1]);
    writeFileSync(join(dir, 'data.csv'), ['a,b,label', ...rows.map((r) => r.join(','))].join('\n'));
    const file = join(dir, 'bn.dl');
    writeFileSync(
      file,
      'model Net {\n  input x: [2]\n  output p = x -> batchnorm(momentum = 0) -> dense(1) -> sigmoid\n}\n' +
        'train Net {\n  data = csv("data.csv", test = 0)\n  loss = binary_crossentropy\n  optimizer = sgd(lr = 0.1)\n  epochs = 1\n  batch = 16\n}\n',
    );
    const { graph, config, data } = prepareTraining(file);
    const run = train(graph, config, data);
    const column = (j: number) => rows.map((r) => r[j]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = (xs: number[]) => mean(xs.map((v) => (v - mean(xs)) ** 2));
    const expected = (f: (xs: number[]) => number): Tensor => ({ shape: [2], data: Float32Array.from([0, 1].map((j) => f(column(j)))) });
    expectClose(run.weights.get('batchnorm.moving_mean')!, expected(mean));
    expectClose(run.weights.get('batchnorm.moving_variance')!, expected(variance));
  });
});
