/**
 * Time of one training step (lossAndGradients: forward in training mode, loss,
 * reverse pass) of examples/mnist_convnet.dl at batch 64, against tfjs's CPU
 * backend doing the same with tf.variableGrads (about half a minute; only with
 * TFJS=1). Not part of `npm test`; run
 *   [TFJS=1] npx vitest bench --run test/backends/interp/grad/step.bench.ts
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, bench, describe } from 'vitest';
import { lossAndGradients } from '../../../../src/backends/interp/autodiff.js';
import { createRng } from '../../../../src/runtime/random.js';
import { initWeights } from '../../../../src/backends/interp/weights.js';
import { compileFile, selectModel } from '../../../../src/compile.js';
import { optimize } from '../../../../src/passes/pipeline.js';
import { randTensor, toTf, useTfCpu } from '../helpers.js';

beforeAll(useTfCpu);

const B = 64;
const graph = optimize(selectModel(compileFile('examples/mnist_convnet.dl')), { training: true }).graph;
const weights = initWeights(graph, { seed: 1 });
const rng = createRng(2);
const image = randTensor([B, 28, 28, 1], rng);
const labels = { shape: [B], data: Float32Array.from({ length: B }, () => Math.floor(rng.uniform() * 10)) };

describe(`mnist_convnet training step, batch ${B}`, () => {
  bench('interp lossAndGradients', () => {
    lossAndGradients(graph, weights, { image }, labels, 'sparse_categorical_crossentropy', { seed: 3 });
  }, { iterations: 10, warmupIterations: 2 });

  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const x = toTf(image);
  const y = tf.oneHot(tf.tensor1d(labels.data, 'int32'), 10);
  bench.skipIf(!process.env.TFJS)('tfjs cpu variableGrads', () => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  }, { iterations: 1, warmupIterations: 0, time: 0 });
});
