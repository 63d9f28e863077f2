/**
 * Every example model end to end: the interpreter against an independent
 * TensorFlow.js reference built from tf.layers (or tf ops where tf.layers has
 * no such layer: attention, sinusoidal positions), both holding the same
 * weights. The weights come from initWeights; those it sets to a constant
 * (biases, LayerNorm's gamma and beta) get random noise added, so the
 * comparison also checks how each bias is laid out and applied. Also the
 * lecture's numbers, read through the example .dl and .json files. Each model
 * runs as written and after the optimizer, as `dlc run` runs it.
 *
 * Keras layouts match ours: dense kernel [in, out], conv kernel [kh, kw, in,
 * out], recurrent kernels [in, g*u] and [u, g*u] with LSTM gates i, f, c, o,
 * Bidirectional's weights forward then backward. tfjs's LSTM defaults to
 * hard_sigmoid gates where Keras uses the sigmoid, so the references ask for it.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // registers the 'wasm' backend, for the model zoo
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as zoo from '../../../bench/keras_zoo.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { inputsFromJson } from '../../../src/backends/interp/io.js';
import { createRng, type Rng } from '../../../src/runtime/random.js';
import { sizeOf, type Tensor } from '../../../src/backends/interp/tensor.js';
import { initWeights, weightSlots, type Weights } from '../../../src/backends/interp/weights.js';
import { compileFile, compileSource, selectModel } from '../../../src/compile.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { summarize } from '../../../src/summary.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';
import { tfRecurrent } from './grad/references.js';

beforeAll(useTfCpu);

const example = (name: string) => selectModel(compileFile(`examples/${name}.dl`));

/** An example's source with each `[from, to]` replaced (each must occur in it), compiled. */
function edited(name: string, ...changes: [string, string][]): Graph {
  let text = readFileSync(`examples/${name}.dl`, 'utf8');
  for (const [from, to] of changes) {
    if (!text.includes(from)) throw new Error(`test: examples/${name}.dl no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return selectModel(compileSource({ path: `${name}-edited.dl`, text }));
}

/**
 * An example with `tail` cut from its source, so that its output is an inner
 * layer's: the full models end in a handful of numbers (a pool, a softmax over
 * two classes), which would hide errors in the large activations before them.
 */
const cut = (name: string, tail: string): Graph => edited(name, [tail, '']);

/** initWeights, with noise added to every tensor that starts as a constant. */
function weightsFor(graph: Graph, seed: number): Weights {
  const weights = initWeights(graph, { seed });
  const noise = createRng(seed + 1000);
  for (const { name, spec } of weightSlots(graph)) {
    if (spec.init !== 'zeros' && spec.init !== 'ones' && spec.init !== 'lstm_bias') continue;
    const data = weights.get(name)!.data;
    for (let i = 0; i < data.length; i++) data[i] += 0.5 * (2 * noise.uniform() - 1);
  }
  return weights;
}

/** Whole numbers in [0, vocab), as the interpreter takes them (float32). */
function randomIds(shape: number[], vocab: number, rng: Rng): Tensor {
  return { shape, data: Float32Array.from({ length: sizeOf(shape) }, () => Math.floor(rng.uniform() * vocab)) };
}

/**
 * Runs the reference and the interpreter on the same inputs and compares every
 * output: the graph as written, and as `dlc run` executes it after the
 * optimizer (fused layers keep their names, so the weights fit both).
 */
function compare(
  graph: Graph,
  weights: Weights,
  inputs: Record<string, Tensor>,
  reference: (w: (name: string) => tf.Tensor) => Record<string, tf.Tensor>,
  tol: number,
): void {
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`test: no weight ${name}`);
    return toTf(t);
  };
  const expected = Object.fromEntries(Object.entries(reference(w)).map(([name, t]) => [name, fromTf(t)]));
  for (const g of [graph, optimize(graph).graph]) {
    const { outputs } = new Interpreter(g, weights).run(inputs);
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(expected).sort());
    for (const name of Object.keys(outputs)) expectClose(outputs[name], expected[name], tol);
  }
}

/** Gives a built layer (one already applied in a functional model) our weights, by name, in Keras's order. */
function set<L extends tf.layers.Layer>(layer: L, w: (name: string) => tf.Tensor, ...names: string[]): L {
  layer.setWeights(names.map(w));
  return layer;
}

type Sym = tf.SymbolicTensor;
/** Applies layers in order, the `->` of a functional model. */
const chain = (x: Sym, ...layers: tf.layers.Layer[]): Sym => layers.reduce((h, layer) => layer.apply(h) as Sym, x);
const act = (activation: 'relu' | 'sigmoid' | 'tanh' | 'softmax') => tf.layers.activation({ activation });

/** A model's predictions, keyed by our output names. */
function predict(inputs: Sym[], outputs: Record<string, Sym>, values: tf.Tensor[]): Record<string, tf.Tensor> {
  const names = Object.keys(outputs);
  const model = tf.model({ inputs, outputs: names.map((n) => outputs[n]) });
  const got = model.predict(values);
  const list = Array.isArray(got) ? got : [got];
  return Object.fromEntries(names.map((n, i) => [n, list[i]]));
}

/** `set` for several layers at once. */
function withWeights(pairs: [tf.layers.Layer, string[]][], w: (name: string) => tf.Tensor): void {
  for (const [layer, names] of pairs) set(layer, w, ...names);
}

describe('dense models', () => {
  it('perceptron: sigmoid(x W + b)', () => {
    const graph = example('perceptron');
    const rng = createRng(1);
    const x = randTensor([3, 3], rng);
    compare(graph, weightsFor(graph, 1), { x }, (w) => {
      const input = tf.input({ shape: [3] });
      const dense = tf.layers.dense({ units: 1 });
      const y = chain(input, dense, act('sigmoid'));
      set(dense, w, 'neuron.kernel', 'neuron.bias');
      return predict([input], { y }, [toTf(x)]);
    }, 1e-6);
  });

  it('mlp: dense -> relu -> dropout (inference) -> dense -> relu -> dense -> softmax', () => {
    const graph = example('mlp');
    const rng = createRng(2);
    const pixels = randTensor([3, 784], rng);
    compare(graph, weightsFor(graph, 2), { pixels }, (w) => {
      const input = tf.input({ shape: [784] });
      const [d0, d1, d2] = [128, 64, 10].map((units) => tf.layers.dense({ units }));
      const probs = chain(input, d0, act('relu'), tf.layers.dropout({ rate: 0.2 }), d1, act('relu'), d2, act('softmax'));
      withWeights([[d0, ['dense.kernel', 'dense.bias']], [d1, ['dense_1.kernel', 'dense_1.bias']], [d2, ['dense_2.kernel', 'dense_2.bias']]], w);
      return predict([input], { probs }, [toTf(pixels)]);
    }, 1e-5);
  });

  it('xor: dense(8) -> tanh -> dense(1) -> sigmoid', () => {
    const graph = example('xor');
    const x = randTensor([4, 2], createRng(14));
    compare(graph, weightsFor(graph, 14), { x }, (w) => {
      const input = tf.input({ shape: [2] });
      const [d0, d1] = [8, 1].map((units) => tf.layers.dense({ units }));
      const y = chain(input, d0, act('tanh'), d1, act('sigmoid'));
      withWeights([[d0, ['dense.kernel', 'dense.bias']], [d1, ['dense_1.kernel', 'dense_1.bias']]], w);
      return predict([input], { y }, [toTf(x)]);
    }, 1e-6);
  });

  it('mnist_mlp_train: dense(128) -> relu -> dropout (inference) -> dense(10) -> softmax', () => {
    const graph = example('mnist_mlp_train');
    const pixels = randTensor([3, 784], createRng(15));
    compare(graph, weightsFor(graph, 15), { pixels }, (w) => {
      const input = tf.input({ shape: [784] });
      const [d0, d1] = [128, 10].map((units) => tf.layers.dense({ units }));
      const probs = chain(input, d0, act('relu'), tf.layers.dropout({ rate: 0.2 }), d1, act('softmax'));
      withWeights([[d0, ['dense.kernel', 'dense.bias']], [d1, ['dense_1.kernel', 'dense_1.bias']]], w);
      return predict([input], { probs }, [toTf(pixels)]);
    }, 1e-5);
  });

  it('fully_connected: 16 billion weights are counted, never allocated; a 20x20 -> 400 copy runs', () => {
    const summary = summarize(example('fully_connected'));
    expect(summary.totalParams).toBe(16_000_400_000);
    expect(summary.layers.at(-1)).toMatchObject({ op: 'dense', outputShape: [null, 400_000], params: 16_000_400_000 });

    const text = readFileSync('examples/fully_connected.dl', 'utf8');
    const small = text.replace('[200, 200]', '[20, 20]').replace('dense(400_000)', 'dense(400)');
    expect(small).not.toBe(text);
    const graph = selectModel(compileSource({ path: 'small.dl', text: small }));
    expect(summarize(graph).totalParams).toBe(400 * 400 + 400);
    const image = randTensor([2, 20, 20], createRng(3));
    compare(graph, weightsFor(graph, 3), { image }, (w) => {
      const input = tf.input({ shape: [20, 20] });
      const dense = tf.layers.dense({ units: 400 });
      const hidden = chain(input, tf.layers.flatten(), dense);
      set(dense, w, 'dense.kernel', 'dense.bias');
      return predict([input], { hidden }, [toTf(image)]);
    }, 1e-5);
  });
});

describe('fixed kernels and pooling: the lecture through the example files', () => {
  const lectureInputs = (graph: Graph, name: string) => inputsFromJson(graph, JSON.parse(readFileSync(`examples/${name}.json`, 'utf8')));

  it('conv1d.json gives s = [5, 11, 15, 7]', () => {
    const graph = example('conv1d');
    const { outputs } = new Interpreter(graph, initWeights(graph, { seed: 0 })).run(lectureInputs(graph, 'conv1d'));
    expect(outputs.s.shape).toEqual([1, 4, 1]);
    expect(Array.from(outputs.s.data)).toEqual([5, 11, 15, 7]);
  });

  it('conv1d: the fixed kernel [1, 3, 1] with same padding matches tf.layers.conv1d', () => {
    const graph = example('conv1d');
    const x = randTensor([3, 4, 1], createRng(4));
    compare(graph, new Map(), { x }, () => {
      const input = tf.input({ shape: [4, 1] });
      const conv = tf.layers.conv1d({ filters: 1, kernelSize: 3, padding: 'same', useBias: false });
      const s = chain(input, conv);
      conv.setWeights([tf.tensor3d([1, 3, 1], [3, 1, 1])]);
      return predict([input], { s }, [toTf(x)]);
    }, 1e-6);
  });

  const sharpen = [0, -1, 0, -1, 5, -1, 0, -1, 0];
  const edge = [-1, -1, -1, -1, 8, -1, -1, -1, -1];
  const blur = Array(9).fill(1 / 9);

  it("image_kernels.json: sharpened is 320 at the top left, and all 5x5 of it is tf.conv2d's", () => {
    const graph = example('image_kernels');
    const inputs = lectureInputs(graph, 'image_kernels');
    const { outputs } = new Interpreter(graph, new Map()).run(inputs);
    expect(outputs.sharpened.shape).toEqual([1, 5, 5, 1]);
    expect(outputs.sharpened.data[0]).toBe(320);
    const image = toTf(inputs.image) as tf.Tensor4D;
    const kernel = (k: number[]) => tf.tensor4d(k, [3, 3, 1, 1]);
    expectClose(outputs.sharpened, tf.conv2d(image, kernel(sharpen), 1, 'same'), 0);
    expectClose(outputs.edges, tf.conv2d(image, kernel(edge), 1, 'same'), 0);
    expectClose(outputs.blurred, tf.conv2d(image, kernel(blur), 1, 'same'), 1e-6);
  });

  it('image_kernels: three fixed filters match tf.layers.conv2d on random images', () => {
    const graph = example('image_kernels');
    const image = randTensor([2, 5, 5, 1], createRng(5), 100);
    compare(graph, new Map(), { image }, () => {
      const input = tf.input({ shape: [5, 5, 1] });
      const conv = (k: number[]) => {
        const layer = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', useBias: false });
        const out = chain(input, layer);
        layer.setWeights([tf.tensor4d(k, [3, 3, 1, 1])]);
        return out;
      };
      return predict([input], { sharpened: conv(sharpen), edges: conv(edge), blurred: conv(blur) }, [toTf(image)]);
    }, 1e-6);
  });

  it('pooling.json gives [[100, 184], [12, 45]] and [[36.5, 80], [12, 15]]', () => {
    const graph = example('pooling');
    const { outputs } = new Interpreter(graph, new Map()).run(lectureInputs(graph, 'pooling'));
    expect(outputs.max.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(outputs.max.data)).toEqual([100, 184, 12, 45]);
    expect(Array.from(outputs.average.data)).toEqual([36.5, 80, 12, 15]);
  });

  it('pooling: 2x2 max and average pools match tf.layers', () => {
    const graph = example('pooling');
    const rng = createRng(6);
    const [a, b] = [randTensor([3, 4, 4, 1], rng), randTensor([3, 4, 4, 1], rng)];
    compare(graph, new Map(), { for_max: a, for_average: b }, () => {
      const [ia, ib] = [tf.input({ shape: [4, 4, 1] }), tf.input({ shape: [4, 4, 1] })];
      const max = chain(ia, tf.layers.maxPooling2d({ poolSize: 2 }));
      const average = chain(ib, tf.layers.averagePooling2d({ poolSize: 2 }));
      return predict([ia, ib], { max, average }, [toTf(a), toTf(b)]);
    }, 1e-6);
  });
});

describe('convnets', () => {
  /** The MNIST convnet of mnist_convnet.dl and mnist_train.dl as a tf.layers model. */
  function convnet(w: (name: string) => tf.Tensor, image: Tensor): Record<string, tf.Tensor> {
    const input = tf.input({ shape: [28, 28, 1] });
    const c0 = tf.layers.conv2d({ filters: 32, kernelSize: 3 });
    const c1 = tf.layers.conv2d({ filters: 64, kernelSize: 3 });
    const dense = tf.layers.dense({ units: 10 });
    const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
    const probs = chain(input, c0, act('relu'), pool(), c1, act('relu'), pool(), tf.layers.flatten(), tf.layers.dropout({ rate: 0.5 }), dense, act('softmax'));
    withWeights([[c0, ['conv2d.kernel', 'conv2d.bias']], [c1, ['conv2d_1.kernel', 'conv2d_1.bias']], [dense, ['dense.kernel', 'dense.bias']]], w);
    return predict([input], { probs }, [toTf(image)]);
  }

  it.each(['mnist_convnet', 'mnist_train'])('%s: conv -> relu -> pool twice, flatten, dropout, dense, softmax', (name) => {
    const graph = example(name);
    const image = randTensor([2, 28, 28, 1], createRng(7));
    compare(graph, weightsFor(graph, 7), { image }, (w) => convnet(w, image), 1e-5);
  });

  // The Winograd layer reads a value in the arena, which it alone reads: the plan keeps its bytes apart from the pool's
  // output, which the fused kernel writes while it reads them (plan.test.ts checks the plan itself).
  it('convolutions and the max pools after them run as one kernel each: the same bits as when the layers\' outputs are kept too', () => {
    const body = [
      'input image: [28, 28, 1]',
      'c = image -> conv2d(16, kernel = 3, activation = relu)', // read through the tap table
      'd = c -> maxpool(2) -> relu -> conv2d(16, kernel = 3, activation = relu)', // in Winograd's form
      'output probs = d -> maxpool(2) -> flatten -> dense(10)',
    ].join('\n  ');
    const graph = (text: string) => optimize(selectModel(compileSource({ path: 'm.dl', text: `model M {\n  ${text}\n}\n` }))).graph;
    const alone = graph(body);
    const kept = graph(`${body}\n  output conv = c\n  output conv2 = d`); // read by an output too: run apart
    const weights = weightsFor(alone, 5);
    const image = randTensor([3, 28, 28, 1], createRng(5));
    const a = new Interpreter(alone, weights).run({ image }).outputs.probs.data;
    const b = new Interpreter(kept, weights).run({ image }).outputs.probs.data;
    expect(a.findIndex((v, i) => !Object.is(v, b[i]))).toBe(-1);
  });

  it('batchnorm: conv -> batchnorm (its moving statistics at inference) -> relu -> pool twice, flatten, dense, softmax', () => {
    const graph = example('batchnorm');
    const image = randTensor([2, 28, 28, 1], createRng(9));
    compare(graph, weightsFor(graph, 9), { image }, (w) => {
      const input = tf.input({ shape: [28, 28, 1] });
      const c0 = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', useBias: false });
      const c1 = tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', useBias: false });
      const [b0, b1] = [0, 1].map(() => tf.layers.batchNormalization({ momentum: 0.9 }));
      const dense = tf.layers.dense({ units: 10 });
      const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
      const probs = chain(input, c0, b0, act('relu'), pool(), c1, b1, act('relu'), pool(), tf.layers.flatten(), dense, act('softmax'));
      const bn = (name: string) => ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => `${name}.${p}`);
      withWeights([[c0, ['conv2d.kernel']], [b0, bn('batchnorm')], [c1, ['conv2d_1.kernel']], [b1, bn('batchnorm_1')], [dense, ['dense.kernel', 'dense.bias']]], w);
      return predict([input], { probs }, [toTf(image)]);
    }, 1e-5);
  });

  it('residual: three skip-connected blocks, global average pool, dense', () => {
    const graph = example('residual');
    const image = randTensor([2, 32, 32, 3], createRng(8));
    compare(graph, weightsFor(graph, 8), { image }, (w) => {
      const input = tf.input({ shape: [32, 32, 3] });
      const conv = (name: string) => {
        const layer = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' });
        return { layer, names: [`${name}.kernel`, `${name}.bias`] };
      };
      const layers = [conv('stem_conv')];
      let h = chain(input, layers[0].layer, act('relu'));
      for (let block = 0; block < 3; block++) {
        const [a, b] = [conv(`conv2d${block === 0 ? '' : `_${2 * block}`}`), conv(`conv2d_${2 * block + 1}`)];
        layers.push(a, b);
        const inner = chain(h, a.layer, act('relu'), b.layer);
        h = chain(tf.layers.add().apply([h, inner]) as Sym, act('relu'));
      }
      const dense = tf.layers.dense({ units: 10 });
      const logits = chain(h, tf.layers.globalAveragePooling2d({}), dense);
      withWeights([...layers.map((l) => [l.layer, l.names] as [tf.layers.Layer, string[]]), [dense, ['dense.kernel', 'dense.bias']]], w);
      return predict([input], { logits }, [toTf(image)]);
    }, 1e-5);
  });
});

describe('recurrent models', () => {
  it('rnn: SimpleRNN(64) over 20 steps, then dense(27) and softmax at every step', () => {
    const graph = example('rnn');
    const chars = randTensor([3, 20, 27], createRng(9));
    compare(graph, weightsFor(graph, 9), { chars }, (w) => {
      const input = tf.input({ shape: [20, 27] });
      const rnn = tf.layers.simpleRNN({ units: 64, returnSequences: true, recurrentInitializer: 'zeros' });
      const V = tf.layers.dense({ units: 27 });
      const next_char = chain(input, rnn, V, act('softmax'));
      withWeights([[rnn, ['rnn.kernel', 'rnn.recurrent_kernel', 'rnn.bias']], [V, ['V.kernel', 'V.bias']]], w);
      return predict([input], { next_char }, [toTf(chars)]);
    }, 1e-5);
  });

  /** The example up to `depth` layers after the embedding, as a tf.layers model. */
  function sentiment(w: (name: string) => tf.Tensor, tokens: Tensor, depth: 1 | 4): tf.Tensor {
    const input = tf.input({ shape: [200], dtype: 'int32' });
    // The initialisers only matter until setWeights; zeros skip tfjs's slow orthogonal one.
    const lstm = (units: number, returnSequences: boolean) =>
      tf.layers.lstm({ units, returnSequences, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' });
    const embedding = tf.layers.embedding({ inputDim: 20000, outputDim: 128 });
    const bi = tf.layers.bidirectional({ layer: lstm(64, true) as tf.RNN, mergeMode: 'concat' });
    const last = lstm(32, false);
    const dense = tf.layers.dense({ units: 1 });
    const layers = [embedding, bi, last, dense, act('sigmoid')].slice(0, depth + 1);
    const out = chain(input, ...layers);
    const cell = (p: string) => [`${p}kernel`, `${p}recurrent_kernel`, `${p}bias`];
    const weights: [tf.layers.Layer, string[]][] = [
      [embedding, ['embedding.embeddings']],
      [bi, [...cell('bidirectional.forward.'), ...cell('bidirectional.backward.')]],
      [last, cell('lstm.')],
      [dense, ['dense.kernel', 'dense.bias']],
    ];
    withWeights(weights.slice(0, Math.min(depth + 1, 4)), w);
    return predict([input], { out }, [tf.tensor(tokens.data, tokens.shape, 'int32')]).out;
  }

  it('lstm_sentiment: embedding -> bidirectional LSTM(64) -> LSTM(32) -> dense -> sigmoid over 200 tokens', () => {
    const graph = example('lstm_sentiment');
    const tokens = randomIds([2, 200], 20000, createRng(10));
    compare(graph, weightsFor(graph, 10), { tokens }, (w) => ({ positive: sentiment(w, tokens, 4) }), 1e-5);
  });

  it("gru_classifier: embedding -> GRU(64) (Keras's reset_after cell, in tf ops: tf.layers.gru refuses it) -> dense -> sigmoid over 200 tokens", () => {
    const graph = example('gru_classifier');
    const tokens = randomIds([2, 200], 20000, createRng(12));
    compare(graph, weightsFor(graph, 12), { tokens }, (w) => {
      const embedded = tf.gather(w('embedding.embeddings'), tf.tensor(tokens.data, tokens.shape, 'int32'));
      const weights = Object.fromEntries(['kernel', 'recurrent_kernel', 'bias'].map((n) => [`gru.${n}`, w(`gru.${n}`)]));
      const state = tfRecurrent('gru', embedded, weights, 'gru.', { sequences: false });
      return { positive: tf.sigmoid(tf.add(tf.matMul(state as tf.Tensor2D, w('dense.kernel') as tf.Tensor2D), w('dense.bias'))) };
    }, 1e-5);
  });

  it("seq2seq: Keras's lstm_seq2seq, the encoder's final states the decoder's initial_state (tf.layers with returnState and initialState)", () => {
    const graph = example('seq2seq');
    const rng = createRng(14);
    const inputs = { encoder_inputs: randTensor([2, 16, 71], rng), decoder_inputs: randTensor([2, 59, 93], rng) };
    compare(graph, weightsFor(graph, 14), inputs, (w) => {
      const [encoderIn, decoderIn] = [tf.input({ shape: [16, 71] }), tf.input({ shape: [59, 93] })];
      const lstm = (returnSequences: boolean) =>
        tf.layers.lstm({ units: 256, returnSequences, returnState: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' });
      const [encoder, decoder, dense] = [lstm(false), lstm(true), tf.layers.dense({ units: 93, activation: 'softmax' })];
      const [, h, c] = encoder.apply(encoderIn) as Sym[];
      const [decoded] = decoder.apply(decoderIn, { initialState: [h, c] }) as Sym[];
      const out = dense.apply(decoded) as Sym;
      const cell = (p: string) => [`${p}kernel`, `${p}recurrent_kernel`, `${p}bias`];
      withWeights([[encoder, cell('encoder.')], [decoder, cell('decoder.')], [dense, ['dense.kernel', 'dense.bias']]], w);
      return predict([encoderIn, decoderIn], { decoder_outputs: out }, [toTf(inputs.encoder_inputs), toTf(inputs.decoder_inputs)]);
    }, 1e-5);
  });

  it('lstm_sentiment cut after the bidirectional LSTM: all [2, 200, 128] states, backward ones in input order', () => {
    const graph = cut('lstm_sentiment', '\n    -> lstm(32)\n    -> dense(1) -> sigmoid');
    expect(graph.outputs[0].node.type.shape).toEqual([null, 200, 128]);
    const tokens = randomIds([2, 200], 20000, createRng(13));
    compare(graph, weightsFor(graph, 13), { tokens }, (w) => ({ positive: sentiment(w, tokens, 1) }), 1e-5);
  });
});

describe('transformer', () => {
  // Attention's softmax and four LayerNorms amplify float32 rounding: the worst seen is 2e-6.
  const TOL_TRANSFORMER = 1e-5;

  /** PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)), from tf ops. */
  function sinusoidal(T: number, d: number): tf.Tensor2D {
    const pos = tf.range(0, T).reshape([T, 1]);
    const j = tf.range(0, d);
    const angle = pos.div(tf.pow(10000, j.div(2).floor().mul(2).div(d)));
    return tf.where(j.mod(2).equal(0).broadcastTo([T, d]), tf.sin(angle), tf.cos(angle)) as tf.Tensor2D;
  }

  /** Self-attention as the textbook writes it: per head h, softmax(Q_h K_h^T / sqrt(k)) V_h on column slices h*k..(h+1)*k. */
  function selfAttention(x: tf.Tensor3D, w: (name: string) => tf.Tensor, layer: string, heads: number, k: number): tf.Tensor3D {
    const [B, T, d] = x.shape;
    const project = (role: string) =>
      tf.add(tf.matMul(x.reshape([B * T, d]), w(`${layer}.${role}.kernel`) as tf.Tensor2D), w(`${layer}.${role}.bias`)).reshape([B, T, heads * k]) as tf.Tensor3D;
    const [q, key, v] = ['query', 'key', 'value'].map(project);
    const perHead = Array.from({ length: heads }, (_, h) => {
      const slice = (t: tf.Tensor3D) => t.slice([0, 0, h * k], [B, T, k]);
      const scores = tf.matMul(slice(q), slice(key), false, true).div(Math.sqrt(k));
      return tf.matMul(tf.softmax(scores), slice(v));
    });
    const context = tf.concat(perHead, 2).reshape([B * T, heads * k]) as tf.Tensor2D;
    return tf.add(tf.matMul(context, w(`${layer}.output.kernel`) as tf.Tensor2D), w(`${layer}.output.bias`)).reshape([B, T, d]) as tf.Tensor3D;
  }

  /** A tf.layers layer applied eagerly: built for `shape`, given its weights, called. */
  function layer(l: tf.layers.Layer, shape: number[], w: (name: string) => tf.Tensor, names: string[], x: tf.Tensor): tf.Tensor {
    l.build(shape);
    l.setWeights(names.map(w));
    return l.apply(x) as tf.Tensor;
  }

  /** The example's tokens -> embedding -> positions -> 2 encoder blocks, from tf ops and eager tf.layers. */
  function encoders(w: (name: string) => tf.Tensor, tokens: Tensor): tf.Tensor {
    const [B, T] = tokens.shape;
    const d = 64;
    const ids = tf.tensor(tokens.data, tokens.shape, 'int32');
    let h = layer(tf.layers.embedding({ inputDim: 10000, outputDim: d }), [B, T], w, ['embedding.embeddings'], ids);
    h = tf.add(h, sinusoidal(T, d));
    const n = (base: string, i: number) => (i === 0 ? base : `${base}_${i}`);
    for (let block = 0; block < 2; block++) {
      const attended = selfAttention(h as tf.Tensor3D, w, n('attention', block), 4, 16);
      const mid = norm(w, n('layernorm', 2 * block), tf.add(h, attended));
      const ffn = dense(w, n('dense', 2 * block + 1), d, tf.relu(dense(w, n('dense', 2 * block), 128, mid)));
      h = norm(w, n('layernorm', 2 * block + 1), tf.add(mid, ffn));
    }
    return h;
  }
  const norm = (w: (name: string) => tf.Tensor, name: string, x: tf.Tensor) =>
    layer(tf.layers.layerNormalization({ epsilon: 1e-3 }), x.shape, w, [`${name}.gamma`, `${name}.beta`], x);
  const dense = (w: (name: string) => tf.Tensor, name: string, units: number, x: tf.Tensor) =>
    layer(tf.layers.dense({ units }), x.shape, w, [`${name}.kernel`, `${name}.bias`], x);

  it('embedding + sinusoidal positions + 2 encoder blocks (4 heads) + pool + dense + softmax', () => {
    const graph = example('transformer');
    const tokens = randomIds([2, 64], 10000, createRng(11));
    compare(graph, weightsFor(graph, 11), { tokens }, (w) => {
      const pooled = tf.layers.globalAveragePooling1d({}).apply(encoders(w, tokens)) as tf.Tensor;
      return { probs: tf.softmax(dense(w, 'dense_4', 2, pooled)) };
    }, TOL_TRANSFORMER);
  });

  it('the same cut after the encoders: all [2, 64, 64] values', () => {
    const graph = cut('transformer', '\n    -> global_avgpool\n    -> dropout(0.1)\n    -> dense(2) -> softmax');
    expect(graph.outputs[0].node.type.shape).toEqual([null, 'T', 64]); // the example's tokens are [T] int
    const tokens = randomIds([2, 64], 10000, createRng(12));
    compare(graph, weightsFor(graph, 12), { tokens }, (w) => ({ probs: encoders(w, tokens) }), TOL_TRANSFORMER);
  });

  it('the attention reference agrees with itself on one head (Q K^T / sqrt(k) softmax V by hand)', () => {
    // Guards the reference: one head, 2 steps, width 1, identity projections, zero biases.
    const one = tf.tensor2d([[1]]);
    const zero = tf.tensor1d([0]);
    const w = (name: string) => (name.endsWith('kernel') ? one : zero);
    const x = tf.tensor3d([[[1], [2]]]);
    const got = fromTf(selfAttention(x, w, 'a', 1, 1));
    // Row t: softmax([x_t * 1, x_t * 2]) . [1, 2].
    const row = (q: number) => {
      const [a, b] = [Math.exp(q), Math.exp(2 * q)];
      return (a * 1 + b * 2) / (a + b);
    };
    expectClose(got, { shape: [1, 2, 1], data: Float32Array.from([row(1), row(2)]) }, 1e-6);
  });
});

describe('model zoo: Keras applications written with tf.layers (bench/keras_zoo.js)', () => {
  /**
   * An example (usually cut before its classifier) against the zoo model's
   * layer of the same name as its output, at batch `batch`, run on tfjs's `backend`. The cut keeps the last
   * feature map (ResNet-50's [7, 7, 2048]) instead of a softmax over 1000
   * classes, every one near 1/1000. The tf.layers model is built and given its
   * weights on the CPU backend, where that takes 0.1 s instead of 2.5 s on
   * wasm; tfjs moves the weights over on the first predict.
   */
  async function zooCase(graph: Graph, build: () => tf.LayersModel, batch: number, seed: number, backend: 'cpu' | 'wasm', tol: number) {
    const [input] = graph.inputs;
    const output = graph.outputs[0];
    const x = randTensor([batch, ...(input.type.shape.slice(1) as number[])], createRng(seed));
    const weights = weightsFor(graph, seed);
    await useTfCpu();
    const full = build();
    const last = tf.model({ inputs: full.inputs, outputs: full.getLayer(output.node.name).output as Sym });
    zoo.setWeightsFrom(last, (n) => toTf(weights.get(n) ?? expect.fail(`test: no weight ${n}`)));
    await tf.setBackend(backend);
    const expected = tf.tidy(() => last.predict(toTf(x)) as tf.Tensor);
    full.dispose();
    await useTfCpu();
    compare(graph, weights, { [input.name]: x }, () => ({ [output.name]: expected }), tol);
  }

  describe('on tfjs-wasm at batch 1 (tfjs-cpu takes tens of seconds for these)', () => {
    const tail = '\n    -> global_avgpool -> dense(1000) -> softmax';

    it('resnet50: the [7, 7, 2048] map before the pool, with batchnorm at inference and projected skips', async () => {
      // The worst seen is 1.4e-5 on a value of 0.5, in a map reaching 13: 1e-6 of its range.
      await zooCase(cut('resnet50', tail), zoo.resnet50, 1, 21, 'wasm', 5e-5);
    });

    it('densenet121: the [7, 7, 1024] map before the pool, after 58 concatenations', async () => {
      await zooCase(cut('densenet121', tail), zoo.densenet121, 1, 22, 'wasm', 1e-5);
    });

    it('inception_v3: the [8, 8, 2048] map before the pool: 1xn and nx1 kernels, same-padded average pools', async () => {
      await zooCase(cut('inception_v3', tail), zoo.inceptionV3, 1, 23, 'wasm', 1e-5);
    });

    it('mobilenet: the [7, 7, 1024] map before the top: depthwise convolutions, bottom-right padding before the strided ones, relu6', async () => {
      const top = '\n    -> global_avgpool -> reshape([1, 1, 1024]) -> dropout(0.001)\n    -> conv2d(1000, kernel = 1) -> reshape([1000]) -> softmax';
      await zooCase(cut('mobilenet', top), zoo.mobilenet, 1, 26, 'wasm', 1e-5);
    });

    it('mobilenet_v2: the [7, 7, 1280] map before the pool: inverted residuals with linear bottlenecks', async () => {
      await zooCase(cut('mobilenet_v2', ' -> global_avgpool -> dense(1000) -> softmax'), zoo.mobilenetV2, 1, 27, 'wasm', 1e-5);
    });
  });

  it('squeeze_excite: SE-ResNet modules, the [16, 16, 64] map before the pool, batch 2', async () => {
    await zooCase(cut('squeeze_excite', ' -> global_avgpool\n    -> dense(10) -> softmax'), zoo.seResNet, 2, 24, 'cpu', 1e-5);
  });

  it('unet: the segmentation of a 204x204 tile with 4 channels at the top level (the file says 572 and 64): up-convolutions, cropped skips', async () => {
    // The paper's crops hold for any tile n with (n - 4) / 8 odd; the output is n - 184 = 20 pixels square.
    const small = edited('unet', ['const base = 64', 'const base = 4'], ['[572, 572, 1]', '[204, 204, 1]']);
    expect(small.outputs[0].node.type.shape).toEqual([null, 20, 20, 2]);
    await zooCase(small, () => zoo.unet([204, 204, 1], 4), 1, 28, 'cpu', 1e-5);
  });

  it('conv_autoencoder: the reconstruction, batch 2', async () => {
    await zooCase(example('conv_autoencoder'), zoo.convAutoencoder, 2, 25, 'cpu', 1e-5);
  });
});

/** Examples with a test above; fully_connected is checked by its summary and a scaled-down copy. */
const COVERED = ['perceptron', 'mlp', 'xor', 'mnist_mlp_train', 'fully_connected', 'conv1d', 'image_kernels', 'pooling', 'mnist_convnet', 'mnist_train', 'residual', 'rnn', 'lstm_sentiment', 'transformer', 'batchnorm', 'resnet50', 'densenet121', 'inception_v3', 'squeeze_excite', 'conv_autoencoder', 'mobilenet', 'mobilenet_v2', 'unet', 'gru_classifier',
  // Against their generated modules and tf ops: test/backends/tfjs/language-models.test.ts.
  'bert_base', 'gpt2',
  // Against a tf.layers tower called twice: test/weights/shared.test.ts.
  'siamese',
  // Against tf.layers with initial states: test/backends/interp/state.test.ts.
  'seq2seq'];

it('every example in examples/ has a differential test here', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.dl')).map((f) => f.slice(0, -3));
  expect(examples.filter((e) => !COVERED.includes(e))).toEqual([]);
});
