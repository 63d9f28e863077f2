// One training step of the MNIST convnet (examples/mnist_train.dl) at batch 64
// on real digits, three ways side by side: the interpreter (forward with
// dropout, loss, backward, SGD with momentum: what `dlc train` does per batch);
// the TensorFlow.js module dlc generates for the file (its `train` on one
// batch: tf.variableGrads and the same update, on tfjs's CPU backend); and
// tf.layers with the same layers and weights (model.trainOnBatch with
// tf.train.momentum, CPU backend).
// The checks: one step's gradients without dropout (the inference graph),
// interpreter vs tf.variableGrads; and the generated module's first step
// against `dlc train`'s (same order and dropout masks): loss and weights.
// Requires `npm run build`; the generated module goes to node_modules/.cache/.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { lossAndGradients } from '../dist/src/backends/interp/autodiff.js';
import { emitTfjs } from '../dist/src/backends/tfjs/index.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { initWeights } from '../dist/src/backends/interp/weights.js';
import { batchOf } from '../dist/src/train/data.js';
import { prepareTraining } from '../dist/src/train/index.js';
import { createOptimizer } from '../dist/src/train/optimizers.js';
import { train as dlcTrain } from '../dist/src/train/train.js';
import { fixed, machine, medianMs, table } from './util.js';

const BATCH = 64;
const CACHE = new URL('../node_modules/.cache/dlc-bench-train/', import.meta.url);

/** The module `dlc compile --target tfjs` writes for a model with a train section, transpiled to JavaScript and imported. */
async function generatedModule(trainGraph, config) {
  const code = await emitTfjs(trainGraph, { sourcePath: 'examples/mnist_train.dl', training: config });
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  mkdirSync(CACHE, { recursive: true });
  const out = new URL(`${trainGraph.name}.train.js`, CACHE);
  writeFileSync(out, js);
  return import(`${out.href}?${Date.now()}`);
}

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
  let previous;
  // As dlc train's loop: each step writes into the previous step's arrays; the steady state, after
  // 20 warm-up steps (the first ten or so run 20-300% slower while V8 tiers the code up).
  const ours = await medianMs(() => {
    const step = lossAndGradients(trainGraph, weights, { [input]: x }, y, config.loss, { seed: seed++, output, into: previous });
    sgd.step(weights, step.grads);
    previous = step;
  }, { warmup: 20, min: 15, max: 60 });

  // The generated module: train() on exactly one batch is one step (plus copying the weights into tf.Variables).
  // Its first (warm-up) step is checked against `dlc train`'s on the same 64 digits: same order, same dropout masks.
  const mod = await generatedModule(trainGraph, config);
  const digits = { ...data.train, n: BATCH, x: data.train.x.subarray(0, x.data.length), y: data.train.y.subarray(0, y.data.length) };
  const reference = dlcTrain(graph, { ...config, epochs: 1, batch: BATCH }, { train: digits, test: null, description: '' });
  const initial = mod.createWeights(config.seed);
  let check;
  // A step takes tens of seconds on tfjs's CPU backend: one warm-up (checked) and one timed.
  const generated = await medianMs(async () => {
    const run = await mod.train(initial, digits, { epochs: 1, batch: BATCH });
    if (!check) {
      let worstW = 0;
      for (const [name, t] of reference.weights) run.weights[name].dataSync().forEach((v, i) => (worstW = Math.max(worstW, Math.abs(v - t.data[i]))));
      check = { loss: Math.abs(run.history[0].loss - reference.history[0].loss), weights: worstW };
    }
    tf.dispose(run.weights);
  }, { warmup: 1, min: 1, max: 1 });
  tf.dispose(initial);

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

  const row = (name, { ms, runs }, check) => [name, `${fixed(ms)} (${runs})`, fixed((BATCH * 1000) / ms, 0), `${fixed(ms / ours.ms, 2)}x`, check];
  return [
    '## Training step: interpreter vs TensorFlow.js (CPU backend)',
    '',
    `Machine: ${machine()}. tfjs ${tf.version.tfjs}. One step of examples/mnist_train.dl (the MNIST convnet with dropout 0.5, ${config.loss}, sgd(lr = ${lr}, momentum = ${momentum})) on ${BATCH} real digits: forward, loss, backward and update. Median ms after a warm-up (runs in parentheses); "vs interp" = its ms / the interpreter's (above 1x the interpreter is faster).`,
    '',
    table(
      ['MNIST convnet train step, batch ' + BATCH, 'ms', 'samples/s', 'vs interp', 'check'],
      [
        row('interpreter (`dlc train`)', ours, '-'),
        row('generated module `train` (tfjs-cpu)', generated, `first step vs \`dlc train\`'s, same dropout masks: \\|loss diff\\| ${check.loss.toExponential(1)}, max \\|weight diff\\| ${check.weights.toExponential(1)}`),
        row('tf.layers `trainOnBatch` (tfjs-cpu)', theirs, `gradients without dropout vs interpreter: max \\|grad diff\\| ${worst.toExponential(1)} (max \\|grad\\| ${scale.toExponential(1)}), \\|loss diff\\| ${lossDiff.toExponential(1)}`),
      ],
      ['l', 'r', 'r', 'r', 'l'],
    ),
  ].join('\n');
}
