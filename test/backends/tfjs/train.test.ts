/**
 * Training in the generated TensorFlow.js modules against the interpreter's.
 * Models with a train section are emitted as `dlc compile` emits them (the
 * training build of the optimizer, so dropout stays) into
 * .generated/train-XXXXXX/, type-checked in one strict program and imported.
 *
 * - Two optimizer steps of the module (train on one batch, two epochs) give the
 *   interpreter's losses and weights (lossAndGradients + createOptimizer) to
 *   1e-4: sgd with and without momentum, adam, weight decay, every loss, from
 *   logits (fused and not) and from probabilities, dense and conv layers.
 * - Whole runs with dropout follow the interpreter's `train` (same order and
 *   masks): a small MNIST MLP reaches the interpreter's accuracy, XOR 100%.
 * - Trained weights go through saveWeights into the interpreter's loadWeights
 *   and predict as the module does.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { initWeights, loadWeights, type Weights } from '../../../src/backends/interp/weights.js';
import { emitTfjs, tfjsModuleNames } from '../../../src/backends/tfjs/index.js';
import { tfjsTraining } from '../../../src/train/index.js';
import { compileFile, compileSource, type CompiledFile } from '../../../src/compile.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { loadData, type Dataset } from '../../../src/train/data.js';
import { createOptimizer } from '../../../src/train/optimizers.js';
import { evaluate as interpEvaluate, train as interpTrain } from '../../../src/train/train.js';
import { expectClose, randTensor, useTfCpu } from '../interp/helpers.js';
import { typeCheck } from './typecheck.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

type TfWeights = Record<string, tf.Tensor>;
type Data = { x: tf.Tensor | Float32Array; y: tf.Tensor | Float32Array };
interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
}

/** The API of a generated module with a train section, as the tests use it. */
interface TrainingModule {
  trainingConfig: { loss: string; epochs: number; batch: number; seed: number; weightDecay: number; optimizer: { kind: string; lr: number } };
  predict(weights: TfWeights, inputs: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  createWeights(seed: number): TfWeights;
  loadWeights(bytes: Uint8Array): TfWeights;
  saveWeights(weights: TfWeights): Uint8Array;
  train(weights: TfWeights, data: Data, options?: { epochs?: number; batch?: number; lr?: number; seed?: number; validation?: Data | null; onEpoch?(m: EpochMetrics): void }): Promise<{ weights: TfWeights; history: EpochMetrics[]; stopped?: string }>;
  evaluate(weights: TfWeights, data: Data, batch?: number): Promise<{ loss: number; accuracy: number | null }>;
}

interface Case {
  name: string;
  file: CompiledFile;
  /** The model as written, whose weights files both sides read. */
  source: Graph;
  /** What the module was emitted from: the training build (or the source itself at --opt 0). */
  graph: Graph;
  config: TrainConfig;
  /** The .dl file as the module's comments name it. */
  sourcePath: string;
  /** The generated module. */
  path: string;
  code: string;
}

/**
 * Small models whose steps the tests compare: every loss, both optimizers, logits fused or not,
 * probabilities, conv, token ids, recurrent and attention layers. (Attention's key bias has a zero
 * gradient, up to rounding noise that Adam would scale into full steps: it trains with sgd.)
 */
const STEPS = `
model SoftmaxMomentum {
  input x: [6]
  output p = x -> dense(5) -> relu -> dense(3) -> softmax
}
train SoftmaxMomentum { data = spirals()  loss = crossentropy  optimizer = sgd(lr = 0.1, momentum = 0.9)  weight_decay = 0.01 }

model SigmoidAdam {
  input x: [6]
  output p = x -> dense(4) -> tanh -> dense(1) -> sigmoid
}
train SigmoidAdam { data = spirals()  loss = binary_crossentropy  optimizer = adam(lr = 0.01)  weight_decay = 0.001 }

model SparseConv {
  input image: [6, 6, 1]
  output p = image -> conv2d(2, kernel = 3) -> relu -> maxpool(2) -> flatten -> dense(3) -> softmax
}
train SparseConv { data = spirals()  loss = sparse_categorical_crossentropy  optimizer = sgd(lr = 0.2)  weight_decay = 0.01 }

model Regression {
  input x: [6]
  output v = x -> dense(4) -> relu -> dense(2)
}
train Regression { data = spirals()  loss = mse  optimizer = adam(lr = 0.02, beta1 = 0.8)  weight_decay = 0.01 }

model SigmoidClasses {
  input x: [6]
  output p = x -> dense(3) -> sigmoid
}
train SigmoidClasses { data = spirals()  loss = categorical_crossentropy  optimizer = sgd(lr = 0.5, momentum = 0.5) }

model Tokens {
  input tokens: [5] int
  output p = tokens -> embedding(vocab = 7, dim = 3) -> lstm(4) -> dense(2) -> softmax
}
train Tokens { data = spirals()  loss = sparse_categorical_crossentropy  optimizer = adam(lr = 0.05)  weight_decay = 0.01 }

model TokensGru {
  input tokens: [5] int
  output p = tokens -> embedding(vocab = 7, dim = 3) -> bidirectional(gru(3, sequences = true)) -> gru(2, reset_after = false) -> dense(2) -> softmax
}
train TokensGru { data = spirals()  loss = sparse_categorical_crossentropy  optimizer = adam(lr = 0.05)  weight_decay = 0.01 }

model Attending {
  input x: [4, 6]
  output p = x -> attention(heads = 2, key_dim = 3) -> layernorm -> global_avgpool -> dense(2) -> softmax
}
train Attending { data = spirals()  loss = crossentropy  optimizer = sgd(lr = 0.1, momentum = 0.9) }

model Normalized {
  input image: [6, 6, 1]
  # A bias before batchnorm gets a zero gradient (up to rounding): sgd keeps it, where Adam would scale the rounding up.
  output p = image -> conv2d(3, kernel = 3) -> batchnorm(momentum = 0.8) -> relu -> flatten -> dense(4) -> batchnorm(axis = 1) -> dense(3) -> softmax
}
train Normalized { data = spirals()  loss = sparse_categorical_crossentropy  optimizer = sgd(lr = 0.1, momentum = 0.9) }
`;

/** Layer and output names that the training code uses itself. */
const HOSTILE = `
model Hostile {
  input x: [4]
  output training = x -> dense(3) as forward -> relu as trainable -> dropout(0.5) as logits -> dense(2) as outputs -> softmax as fit
}
train Hostile { data = spirals()  loss = crossentropy  optimizer = sgd(lr = 0.1, momentum = 0.5)  weight_decay = 0.01  batch = 4 }
`;

/** A quicker copy of examples/mnist_mlp_train.dl: 1,000 training and 500 test digits, 3 epochs. */
const MNIST_MLP = readFileSync(join(examples, 'mnist_mlp_train.dl'), 'utf8')
  .replace('mnist(train = 8000, test = 2000)', 'mnist(train = 1000, test = 500)')
  .replace('epochs = 5', 'epochs = 3');

let cases: Case[] = [];
let diagnostics: string[] = [];
let generated: string;

function casesOf(file: CompiledFile, sourcePath: string, level = 1): Omit<Case, 'code' | 'path'>[] {
  return file.graphs.flatMap((source) => {
    const config = tfjsTraining(file, source);
    if (!config) return [];
    const graph = optimize(source, { level, training: true }).graph;
    return [{ name: level === 1 ? source.name : `${source.name}_opt0`, file, source, graph, config, sourcePath }];
  });
}

beforeAll(async () => {
  await useTfCpu();
  mkdirSync(join(here, '.generated'), { recursive: true });
  generated = mkdtempSync(join(here, '.generated', 'train-'));
  const steps = compileSource({ path: 'steps.dl', text: STEPS });
  const all = [
    ...['xor.dl', 'mnist_mlp_train.dl', 'mnist_train.dl'].flatMap((f) => casesOf(compileFile(join(examples, f)), `examples/${f}`)),
    ...casesOf(compileSource({ path: 'mnist_small.dl', text: MNIST_MLP }), 'mnist_small.dl').map((c) => ({ ...c, name: 'MnistSmall' })),
    ...casesOf(steps, 'steps.dl'),
    ...casesOf(steps, 'steps.dl', 0), // unfused: softmax and sigmoid layers of their own
    ...casesOf(compileSource({ path: 'hostile.dl', text: HOSTILE }), 'hostile.dl'),
  ];
  const names = tfjsModuleNames(all.map((c) => ({ ...c.graph, name: c.name })));
  cases = await Promise.all(
    all.map(async (c, i) => {
      const code = await emitTfjs(c.graph, { sourcePath: c.sourcePath, training: c.config });
      const path = join(generated, `${names[i]}.ts`);
      writeFileSync(path, code);
      return { ...c, path, code };
    }),
  );
  diagnostics = [...typeCheck(cases.map((c) => c.path)).values()].flat();
}, 60_000);

afterAll(() => rmSync(generated, { recursive: true, force: true }));

const caseNamed = (name: string) => cases.find((c) => c.name === name) ?? expect.fail(`no case ${name}`);
const load = (c: Case) => import(pathToFileURL(c.path).href) as Promise<TrainingModule>;

/** The module's weights as the interpreter holds them (the tensors are kept). */
function asInterp(weights: TfWeights): Weights {
  return new Map(Object.entries(weights).map(([name, t]) => [name, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
}

function expectSameWeights(actual: TfWeights, expected: Weights, tol: number, what: string): void {
  for (const [name, t] of expected) {
    try {
      expectClose({ shape: [...actual[name].shape], data: actual[name].dataSync() as Float32Array }, t, tol);
    } catch (e) {
      throw new Error(`${what}: weight ${name}: ${(e as Error).message}`);
    }
  }
}

/** A batch of 8 for a step model: inputs in [-1, 1) (token ids below 7), targets that fit its loss. */
function stepBatch(c: Case): { x: Tensor; y: Tensor } {
  const rng = createRng(c.name.length);
  const n = 8;
  const [input] = c.graph.inputs;
  const x = randTensor([n, ...(input.type.shape.slice(1) as number[])], rng);
  if (input.type.dtype === 'int32') x.data = x.data.map((v) => Math.floor(3.5 * (v + 1)));
  const width = c.graph.outputs[0].node.type.shape.at(-1) as number;
  const ids = Array.from({ length: n }, (_, i) => i % width);
  switch (c.config.loss) {
    case 'sparse_categorical_crossentropy':
      return { x, y: { shape: [n], data: Float32Array.from(ids) } };
    case 'categorical_crossentropy':
      return { x, y: { shape: [n, width], data: Float32Array.from({ length: n * width }, (_, k) => (ids[Math.floor(k / width)] === k % width ? 1 : 0)) } };
    case 'binary_crossentropy':
      return { x, y: { shape: [n, 1], data: Float32Array.from(ids, (_, i) => i % 2) } };
    default:
      return { x, y: randTensor([n, width], rng) };
  }
}

describe('generated modules with a train section', () => {
  it('type-check under strict settings, without Node types', () => {
    expect(diagnostics).toEqual([]);
    expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['XorNet', 'DigitsMLP', 'MnistConvNet', 'SparseConv_opt0']));
  });

  it('export trainingConfig, train and evaluate over the same layers as predict', () => {
    const c = caseNamed('MnistConvNet');
    expect(c.code).toContain(
      "export const trainingConfig = {\n  data: { source: 'mnist', train: 8000, test: 2000 },\n  loss: 'categorical_crossentropy',\n  optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },\n  epochs: 3,\n  batch: 64,\n  weightDecay: 0,\n  seed: 0,\n} as const satisfies TrainingConfig;",
    );
    expect(c.code).toContain("const dropout: tf.Tensor2D = training\n    ? applyDropout(flatten, 0.5, training.child('dropout'))\n    : flatten;");
    expect(c.code).toContain('return { outputs: { probs: softmax }, logits: dense };');
    expect(c.code).toContain('return tf.tidy((): Outputs => forward(weights, inputs, null).outputs);');
    expect(c.code.match(/const \w+: tf\.Tensor\dD = /g)!.length).toBe(c.graph.nodes.length - 1); // each layer once
    // A sigmoid fused into the dense layer: the loss takes the logits from before it.
    expect(caseNamed('XorNet').code).toMatch(/const dense_1_logits: tf\.Tensor2D = tf\.fused\.matMul\(\{[^}]*\}\) as tf\.Tensor2D;\n\s*const dense_1: tf\.Tensor2D = tf\.sigmoid\(dense_1_logits\);/);
    for (const c of cases) expect(c.code.match(/^import .*$/gm)).toEqual(["import * as tf from '@tensorflow/tfjs';"]);
  });
});

describe('the generated training module', () => {
  it('stays under review', async () => {
    await expect(caseNamed('DigitsMLP').code).toMatchFileSnapshot('__snapshots__/DigitsMLP.train.ts.snap');
  });
});

describe('one training step', () => {
  it("equals the interpreter's loss and updated weights for each loss and optimizer", async () => {
    const steps = cases.filter((c) => c.sourcePath === 'steps.dl');
    expect(steps.length).toBe(18);
    for (const c of steps) {
      const mod = await load(c);
      const { x, y } = stepBatch(c);
      const output = c.graph.outputs[0].name;
      // The interpreter: two steps on the batch (the second shows momentum and Adam's moments).
      const weights = initWeights(c.source, { seed: 3 });
      const start = mod.createWeights(3);
      const optimizer = createOptimizer(c.config.optimizer, c.config.weightDecay);
      const losses: number[] = [];
      for (let step = 0; step < 2; step++) {
        const r = lossAndGradients(c.graph, weights, { [c.graph.inputs[0].name]: x }, y, c.config.loss, { output });
        losses.push(r.loss);
        optimizer.step(weights, r.grads);
        for (const [name, value] of r.state) weights.set(name, value); // batchnorm's moving statistics, as dlc train keeps them
      }
      // The module: two epochs of one batch (its shuffled order sums the same gradients).
      const data = { x: x.data, y: y.data };
      const { weights: trained, history } = await mod.train(start, data, { epochs: 2, batch: 8 });
      try {
        history.forEach((m, i) => expect(m.loss, `${c.name}: loss ${i + 1}`).toBeCloseTo(losses[i], 5));
        expectSameWeights(trained, weights, 1e-4, c.name);
        // evaluate: the interpreter's from the predictions (clipped), to 1e-5.
        const ds: Dataset = { n: 8, x: x.data, xShape: x.shape.slice(1), y: y.data, yShape: y.shape.slice(1) };
        const ours = await mod.evaluate(trained, data);
        const theirs = interpEvaluate(c.graph, asInterp(trained), ds, c.config.loss);
        expect(ours.loss, `${c.name}: evaluate`).toBeCloseTo(theirs.loss, 5);
        expect(ours.accuracy).toBe(theirs.accuracy);
      } finally {
        tf.dispose([start, trained]);
      }
    }
  });

  it("draws the interpreter's dropout masks, and frees what it allocates", async () => {
    const c = caseNamed('MnistSmall');
    const mod = await load(c);
    const { train } = loadData(c.config, c.source);
    const subset: Dataset = { ...train, n: 64, x: train.x.subarray(0, 64 * 784), y: train.y.subarray(0, 640) };
    const start = mod.createWeights(0);
    const before = tf.memory().numTensors;
    const run = interpTrain(c.source, { ...c.config, epochs: 1, batch: 64 }, { train: subset, test: null, description: '' });
    const { weights, history } = await mod.train(start, subset, { epochs: 1, batch: 64 });
    expect(history[0].loss).toBeCloseTo(run.history[0].loss, 5);
    expectSameWeights(weights, run.weights, 1e-4, 'one step with dropout');
    tf.dispose(weights);
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(start).every((name) => !start[name].isDisposed)).toBe(true);
    tf.dispose(start);
  });
});

describe('names the training code uses', () => {
  it('become unique identifiers, and the module trains as the interpreter', async () => {
    const c = caseNamed('Hostile');
    expect(c.code).toContain('const forward_2: tf.Tensor2D = tf.fused.matMul({'); // relu (`trainable`) fused in
    expect(c.code).toContain("const logits: tf.Tensor2D = training\n    ? applyDropout(forward_2, 0.5, training.child('logits'))");
    expect(c.code).toContain('return { outputs: { training: fit_2 }, logits: outputs };');
    const mod = await load(c);
    const rng = createRng(5);
    const x = randTensor([10, 4], rng);
    const ds: Dataset = { n: 10, x: x.data, xShape: [4], y: Float32Array.from({ length: 20 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0)), yShape: [2] };
    const run = interpTrain(c.source, { ...c.config, epochs: 2 }, { train: ds, test: null, description: '' });
    const start = mod.createWeights(c.config.seed);
    const { weights, history } = await mod.train(start, ds, { epochs: 2 });
    history.forEach((m, i) => expect(m.loss).toBeCloseTo(run.history[i].loss, 5));
    expectSameWeights(weights, run.weights, 1e-4, 'Hostile');
    tf.dispose([start, weights]);
  });
});

describe('training runs', () => {
  it("train a small MNIST MLP to the interpreter's accuracy on the same digits", async () => {
    const c = caseNamed('MnistSmall');
    const mod = await load(c);
    const data = loadData(c.config, c.source);
    const run = interpTrain(c.source, c.config, data);
    const start = mod.createWeights(c.config.seed);
    const { weights, history } = await mod.train(start, data.train, { validation: data.test });
    try {
      const ours = history.at(-1)!.testAccuracy!;
      const theirs = run.history.at(-1)!.testAccuracy!;
      let drift = 0;
      for (const [name, t] of run.weights) weights[name].dataSync().forEach((v, i) => (drift = Math.max(drift, Math.abs(v - t.data[i]))));
      console.log(
        `MNIST MLP, 1000 training and 500 test digits, 3 epochs: test accuracy generated module ${(100 * ours).toFixed(1)}%, ` +
          `interpreter ${(100 * theirs).toFixed(1)}%; largest weight difference after ${run.updates} steps ${drift.toExponential(1)}`,
      );
      expect(ours).toBeGreaterThan(0.8);
      expect(Math.abs(ours - theirs)).toBeLessThan(0.01);
      expect(drift).toBeLessThan(1e-4); // the same examples, order and dropout masks: the same run
      history.forEach((m, i) => expect(m.loss).toBeCloseTo(run.history[i].loss, 2));
      const again = await mod.evaluate(weights, data.test!);
      expect(again.accuracy).toBe(ours);

      // Round trip: the module's weights file, the interpreter's reader, the same predictions.
      const path = join(generated, 'mnist-small.safetensors');
      writeFileSync(path, mod.saveWeights(weights));
      const loaded = await loadWeights(path, c.source);
      const x = { shape: [50, 784], data: data.test!.x.subarray(0, 50 * 784) };
      const expected = new Interpreter(optimize(c.source).graph, loaded).run({ pixels: x }).outputs.probs;
      const { probs } = mod.predict(weights, { pixels: tf.tensor(x.data, x.shape) });
      expectClose({ shape: [...probs.shape], data: probs.dataSync() as Float32Array }, expected, 1e-5);
      probs.dispose();
    } finally {
      tf.dispose([start, weights]);
    }
  });

  it('train XOR to 100%, as the interpreter does', async () => {
    const c = caseNamed('XorNet');
    const mod = await load(c);
    const data = loadData(c.config, c.source);
    const run = interpTrain(c.source, c.config, data);
    const start = mod.createWeights(c.config.seed);
    const epochs: number[] = [];
    const { weights, history } = await mod.train(start, data.train, { onEpoch: (m) => epochs.push(m.epoch) });
    try {
      expect(epochs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(await mod.evaluate(weights, data.train)).toMatchObject({ accuracy: 1 });
      expect(history.at(-1)!.accuracy).toBe(1);
      expect(run.history.at(-1)!.accuracy).toBe(1);
      expectSameWeights(weights, run.weights, 1e-3, 'XOR after 100 steps');
    } finally {
      tf.dispose([start, weights]);
    }
  });

  it('take the options over the train section, stop on a non-finite loss, and say what is wrong with the data', async () => {
    const regression = await load(caseNamed('Regression'));
    const { x: rx, y: ry } = stepBatch(caseNamed('Regression'));
    const first = regression.createWeights(0);
    const short = await regression.train(first, { x: rx.data, y: ry.data }, { epochs: 2, batch: 3, lr: 0.001 });
    expect(short.history.map((m) => [m.epoch, m.accuracy])).toEqual([[1, null], [2, null]]);
    expect(short.stopped).toBeUndefined();
    const diverged = await regression.train(first, { x: rx.data, y: ry.data }, { batch: 3, lr: 1e30 });
    expect(diverged.stopped).toMatch(/^epoch 1, batch [23] of 3: the loss became (NaN|infinite)$/);
    expect(Object.values(diverged.weights).every((w) => w.dataSync().every(Number.isFinite))).toBe(true);
    tf.dispose([first, short.weights, diverged.weights]);

    const mod = await load(caseNamed('XorNet'));
    const start = mod.createWeights(0);
    const x = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
    const before = tf.memory().numTensors;
    await expect(mod.train({}, { x, y: Float32Array.of(0, 1, 1, 0) })).rejects.toThrow('train: weight "dense.kernel" must be a tf.Tensor of shape [2, 8]');
    await expect(mod.train(start, { x: x.subarray(1), y: Float32Array.of(0, 1, 1, 0) })).rejects.toThrow('training data: x holds 7 values, not a whole number of examples of shape [2]');
    await expect(mod.train(start, { x, y: Float32Array.of(0, 1, 1) })).rejects.toThrow('training data: x holds 4 examples but y holds targets for 3');
    await expect(mod.train(start, { x, y: Float32Array.of(0, 1, 1, 0) }, { validation: { x, y: x } })).rejects.toThrow('training data: x holds 4 examples but y holds targets for 8');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(start);
  });
});
