/**
 * Batch normalization trains (issue 12): a small ResNet-style model with
 * batchnorm (test/fixtures/bn_resnet.dl) trained by `dlc train`, as a
 * process, reaches at least the test accuracy of the plain convnet of
 * examples/mnist_train.dl trained beside it on the same digits, split and
 * budget; and the moving statistics it saves are those of its training data.
 * Also that the plain convnet trains as well with --fast-math.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Interpreter, loadWeights } from '../../src/backends/interp/index.js';
import type { Graph, Node } from '../../src/ir/types.js';
import { eliminateDeadNodes } from '../../src/passes/rewrite.js';
import { createRng, shuffled } from '../../src/runtime/random.js';
import { batchOf } from '../../src/train/data.js';
import { prepareTraining } from '../../src/train/index.js';

const FIXTURE = 'test/fixtures/bn_resnet.dl';
const dir = mkdtempSync(join(tmpdir(), 'dlc-bn-train-'));
const MEAN_STD = 0.25;
const VARIANCE_FACTOR = 1.25;

/** `dlc train` on one model of the fixture (a process, as a user runs it); its final test accuracy from the metrics file. */
function dlcTrain(model: string, run: string, ...args: string[]): { weights: string; testAccuracy: number } {
  const weights = join(dir, `${run}.safetensors`), metrics = join(dir, `${run}.json`);
  execFileSync('node', ['bin/dlc.js', 'train', FIXTURE, '--model', model, '-o', weights, '--metrics', metrics, '--quiet', ...args], { encoding: 'utf8' });
  const { epochs } = JSON.parse(readFileSync(metrics, 'utf8')) as { epochs: { test_accuracy: number }[] };
  return { weights, testAccuracy: epochs.at(-1)!.test_accuracy };
}

/** The graph whose outputs are `nodes` (the model up to them). */
function prefix(graph: Graph, nodes: Node[]): Graph {
  return eliminateDeadNodes({ ...graph, outputs: nodes.map((n) => ({ name: n.name, node: n })) }).graph;
}

/** Per channel (the last axis): the mean and biased variance of every value in `chunks`, in float64. */
function channelStats(chunks: Float32Array[], channels: number): { mean: number[]; variance: number[] } {
  const sum = new Float64Array(channels), squares = new Float64Array(channels);
  let n = 0;
  for (const data of chunks) {
    for (let i = 0; i < data.length; i++) {
      sum[i % channels] += data[i];
      squares[i % channels] += data[i] * data[i];
    }
    n += data.length / channels;
  }
  const mean = Array.from(sum, (s) => s / n);
  return { mean, variance: Array.from(squares, (q, c) => q / n - mean[c] ** 2) };
}

describe('a ResNet-style model with batchnorm, trained by dlc train', () => {
  it("reaches at least the plain convnet's test accuracy on the same digits and budget", () => {
    const resnet = dlcTrain('BnResNet', 'resnet');
    const plain = dlcTrain('PlainConvNet', 'plain');
    expect(resnet.testAccuracy).toBeGreaterThan(0.8); // chance is 0.1
    expect(resnet.testAccuracy).toBeGreaterThanOrEqual(plain.testAccuracy);
  }, 120_000);

  it('--fast-math trains the plain convnet as well (its 3x3 layer and that layer\'s input gradient in Winograd F(4x4, 3x3))', () => {
    const plain = dlcTrain('PlainConvNet', 'plain-default');
    const fast = dlcTrain('PlainConvNet', 'plain-fast', '--fast-math');
    expect(fast.testAccuracy).toBeGreaterThan(0.8); // chance is 0.1
    // Rounding differs from the first step on, so the runs part ways; on 500 digits, 3 points is 15 of them.
    expect(Math.abs(fast.testAccuracy - plain.testAccuracy)).toBeLessThanOrEqual(0.03);
    expect(readFileSync(fast.weights).equals(readFileSync(plain.weights))).toBe(false); // it did run otherwise
  }, 120_000);

  it('ends with moving statistics equal to its training data statistics', async () => {
    const trained = dlcTrain('BnResNet', 'resnet-3', '--epochs', '3');
    const { graph, config, data } = prepareTraining(FIXTURE, { model: 'BnResNet' });
    const weights = await loadWeights(trained.weights, graph); // Keras's names: <batchnorm>.moving_mean, ...
    const norms = graph.nodes.filter((n) => n.op === 'batchnorm');
    expect(norms).toHaveLength(6);
    // Each batchnorm's input over all training images with the trained weights, as training computes
    // it: in training mode, in batches of the training batch size (earlier batchnorms use the batch's statistics).
    const inputs = prefix(graph, norms.map((n) => n.inputs[0]));
    const interpreter = new Interpreter(inputs, weights);
    const order = shuffled(data.train.n, createRng(1));
    const values = new Map(norms.map((n) => [n, [] as Float32Array[]]));
    for (let start = 0; start < data.train.n; start += config.batch) {
      const { x } = batchOf(data.train, order, start, Math.min(data.train.n, start + config.batch));
      const { outputs } = interpreter.run({ image: x }, { training: true });
      for (const n of norms) values.get(n)!.push(Float32Array.from(outputs[n.inputs[0].name].data));
    }
    // The moving averages follow the batch statistics of the last ~20 steps (momentum 0.9) while the
    // weights still move, so they trail the final weights' statistics: allowed, per channel, an offset
    // of MEAN_STD of its standard deviation and a variance within a factor VARIANCE_FACTOR, so that the
    // values inference normalises are within that of the ones training normalised.
    for (const n of norms) {
      const channels = n.type.shape.at(-1) as number;
      const stats = channelStats(values.get(n)!, channels);
      const movingMean = weights.get(`${n.name}.moving_mean`)!.data;
      const movingVariance = weights.get(`${n.name}.moving_variance`)!.data;
      for (let c = 0; c < channels; c++) {
        const where = `${n.name}, channel ${c}: mean ${stats.mean[c]}, variance ${stats.variance[c]}`;
        expect(Math.abs(movingMean[c] - stats.mean[c]) / Math.sqrt(stats.variance[c]), where).toBeLessThanOrEqual(MEAN_STD);
        expect(Math.abs(Math.log(movingVariance[c] / stats.variance[c])), where).toBeLessThanOrEqual(Math.log(VARIANCE_FACTOR));
      }
    }
    // The statistics were learnt: the first layer's are far from the start (mean 0, variance 1).
    expect(Math.max(...weights.get('stem_bn.moving_variance')!.data)).toBeLessThan(0.5);
  }, 120_000);
});
