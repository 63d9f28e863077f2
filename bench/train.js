// One training step of the MNIST convnet (examples/mnist_train.dl) at batch 64
// on real digits, in the interpreter (forward with dropout, loss, backward,
// SGD with momentum: what `dlc train` does per batch) and in TensorFlow.js's
// CPU backend (the same layers and weights as a tf.layers model,
// model.trainOnBatch with tf.train.momentum), side by side.
// The last column checks the gradients agree: one step's gradients without
// dropout (the inference graph), interpreter vs tf.variableGrads.
import * as tf from '@tensorflow/tfjs';
import { lossAndGradients } from '../dist/src/backends/interp/autodiff.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { initWeights } from '../dist/src/backends/interp/weights.js';
import { batchOf } from '../dist/src/train/data.js';
import { prepareTraining } from '../dist/src/train/index.js';
import { createOptimizer } from '../dist/src/train/optimizers.js';
import { fixed, machine, medianMs, table } from './util.js';

const BATCH = 64;

/** The convnet in tf.layers with our weights; `layers` maps our layer names to theirs. */
function tfModel(weights, rate) {
  const input = tf.input({ shape: [28, 28, 1] });
  const layers = {
    conv2d: tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
    conv2d_1: tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    dense: tf.layers.dense({ units: 10, activation: 'softmax' }),
  };
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
  const out = [layers.conv2d, pool(), layers.conv2d_1, pool(), tf.layers.flatten(), tf.layers.dropout({ rate }), layers.dense].reduce((h, l) => l.apply(h), input);
  const net = tf.model({ inputs: input, outputs: out });
  for (const [name, layer] of Object.entries(layers)) layer.setWeights([weights.get(`${name}.kernel`), weights.get(`${name}.bias`)].map((t) => tf.tensor(t.data, t.shape)));
  return { net, layers };
}

export async function run() {
  await tf.setBackend('cpu');
  const { graph, config, data } = prepareTraining(new URL('../examples/mnist_train.dl', import.meta.url).pathname);
  const order = Uint32Array.from({ length: BATCH }, (_, i) => i);
  const { x, y } = batchOf(data.train, order, 0, BATCH);
  const input = graph.inputs[0].name, output = graph.outputs[0].name;
  const { lr, momentum } = config.optimizer;

  // The interpreter: the training graph, fresh weights and optimizer state per measured run series.
  const trainGraph = optimize(graph, { training: true }).graph;
  const weights = initWeights(graph, { seed: 0 });
  const sgd = createOptimizer(config.optimizer);
  let seed = 0;
  const ours = await medianMs(() => {
    const step = lossAndGradients(trainGraph, weights, { [input]: x }, y, config.loss, { seed: seed++, output });
    sgd.step(weights, step.grads);
  }, { warmup: 1, min: 5, max: 7 });

  // TensorFlow.js: the same weights, trainOnBatch (forward, loss, backward, update).
  const start = initWeights(graph, { seed: 0 });
  const { net } = tfModel(start, 0.5);
  net.compile({ optimizer: tf.train.momentum(lr, momentum), loss: 'categoricalCrossentropy' });
  const [tx, ty] = [tf.tensor(x.data, x.shape), tf.tensor(y.data, y.shape)];
  // tfjs's CPU conv gradients take tens of seconds a step here: three runs.
  const theirs = await medianMs(() => net.trainOnBatch(tx, ty), { warmup: 1, min: 3, max: 3 });
  net.dispose();

  // Gradients without dropout, from the same starting weights.
  const plain = lossAndGradients(optimize(graph).graph, start, { [input]: x }, y, config.loss, { output });
  const { net: plainNet, layers } = tfModel(start, 0);
  const tfGrads = tf.variableGrads(() => tf.metrics.categoricalCrossentropy(ty, plainNet.apply(tx, { training: false })).mean());
  let worst = 0, scale = 0;
  for (const [name, layer] of Object.entries(layers)) {
    const [kernel, bias] = layer.trainableWeights.map((w) => tfGrads.grads[w.read().name].dataSync());
    for (const [param, theirsGrad] of [['kernel', kernel], ['bias', bias]]) {
      const g = plain.grads.get(`${name}.${param}`).data;
      for (let i = 0; i < g.length; i++) {
        worst = Math.max(worst, Math.abs(g[i] - theirsGrad[i]));
        scale = Math.max(scale, Math.abs(theirsGrad[i]));
      }
    }
  }
  const lossDiff = Math.abs(plain.loss - tfGrads.value.dataSync()[0]);
  tf.dispose([tx, ty, tfGrads.value, ...Object.values(tfGrads.grads)]);
  plainNet.dispose();

  return [
    '## Training step: interpreter vs TensorFlow.js (CPU backend)',
    '',
    `Machine: ${machine()}. tfjs ${tf.version.tfjs}. One step of examples/mnist_train.dl (the MNIST convnet with dropout 0.5, ${config.loss}, sgd(lr = ${lr}, momentum = ${momentum})) on ${BATCH} real digits: forward, loss, backward and update. Median ms after a warm-up (runs in parentheses); ratio = tfjs ms / interpreter ms (above 1x the interpreter is faster).`,
    '',
    table(
      ['workload', 'interp ms', 'tfjs-cpu ms', 'interp samples/s', 'tfjs samples/s', 'ratio', 'max \\|grad diff\\| (max \\|grad\\|)', '\\|loss diff\\|'],
      [[
        `MNIST convnet train step, batch ${BATCH}`,
        `${fixed(ours.ms)} (${ours.runs})`,
        `${fixed(theirs.ms)} (${theirs.runs})`,
        fixed((BATCH * 1000) / ours.ms, 0),
        fixed((BATCH * 1000) / theirs.ms, 0),
        `${fixed(theirs.ms / ours.ms, 2)}x`,
        `${worst.toExponential(1)} (${scale.toExponential(1)})`,
        lossDiff.toExponential(1),
      ]],
    ),
  ].join('\n');
}
