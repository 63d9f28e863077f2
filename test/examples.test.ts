/**
 * Every example's summary against an independent implementation: the same
 * model built with TensorFlow.js's Keras layers API (tf.layers), whose output
 * shapes and parameter counts follow Keras. Attention and positional encoding
 * have no tf.layers counterpart; their counts come from Keras's documented
 * formulas, written out in the test.
 */
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as zoo from '../bench/keras_zoo.js';
import { bertLayers, gpt2Layers } from '../bench/language_models.js';
import { compileFile, selectModel } from '../src/compile.js';
import { summarize } from '../src/summary.js';
import type { Dim } from '../src/ir/types.js';

tf.setBackend('cpu');
const summaryOf = (file: string, model?: string) => summarize(selectModel(compileFile(`examples/${file}`), model));

/** Our per-layer [outputShape, params], skipping inputs, for layers that tf.layers also has. */
function ours(file: string) {
  return summaryOf(file).layers.filter((l) => l.op !== 'input').map((l) => [l.outputShape, l.params]);
}
/** The same for a tf.layers model, one entry per layer. */
function keras(model: tf.LayersModel | tf.Sequential) {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => [l.outputShape, l.countParams()]);
}

describe('example summaries match Keras (tf.layers)', () => {
  it('covers every example', () => {
    const tested = ['perceptron', 'mlp', 'conv1d', 'image_kernels', 'pooling', 'mnist_convnet', 'fully_connected', 'residual', 'rnn', 'lstm_sentiment', 'transformer', 'xor', 'mnist_train', 'mnist_mlp_train', 'batchnorm',
      'resnet50', 'densenet121', 'inception_v3', 'squeeze_excite', 'conv_autoencoder', 'mobilenet', 'mobilenet_v2', 'unet', 'gru_classifier',
      'bert_base', 'gpt2', 'siamese', 'seq2seq'];
    expect(readdirSync('examples').filter((f) => f.endsWith('.dl')).map((f) => f.replace('.dl', '')).sort()).toEqual(tested.sort());
  });

  it('perceptron', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 }), tf.layers.activation({ activation: 'sigmoid' })] });
    expect(ours('perceptron.dl')).toEqual(keras(m));
  });

  it('deep MLP', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 128 }), tf.layers.activation({ activation: 'relu' }), tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 64 }), tf.layers.activation({ activation: 'relu' }),
        tf.layers.dense({ units: 10 }), tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    expect(ours('mlp.dl')).toEqual(keras(m));
    expect(summaryOf('mlp.dl').totalParams).toBe(109_386);
  });

  it('MNIST convnet: 34,826 parameters and the shapes Keras prints', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3 }), tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3 }), tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(), tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10 }), tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    expect(ours('mnist_convnet.dl')).toEqual(keras(m));
    const s = summaryOf('mnist_convnet.dl');
    expect(s.totalParams).toBe(34_826);
    expect(s.trainableParams).toBe(34_826);
    const shapes = s.layers.filter((l) => ['conv2d', 'maxpool', 'flatten', 'dense'].includes(l.op)).map((l) => l.outputShape.slice(1));
    expect(shapes).toEqual([[26, 26, 32], [13, 13, 32], [11, 11, 64], [5, 5, 64], [1600], [10]]);
    // FLOPs = 2 x MACs: 26*26*32*9 + 11*11*64*(9*32) + 1600*10 multiply-accumulates.
    expect(s.flops).toBe(2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 9 * 32 + 1600 * 10));
  });

  it('200x200 image into 400,000 units: 16,000,400,000 parameters, nothing allocated', () => {
    const s = summaryOf('fully_connected.dl');
    expect(s.totalParams).toBe(40_000 * 400_000 + 400_000);
    expect(s.totalParams).toBe(16_000_400_000);
  });

  it('residual net (functional model with skip connections)', () => {
    const input = tf.input({ shape: [32, 32, 3] });
    let x = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(input)) as tf.SymbolicTensor;
    for (let i = 0; i < 3; i++) {
      const h1 = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(x) as tf.SymbolicTensor;
      const h2 = tf.layers.activation({ activation: 'relu' }).apply(h1) as tf.SymbolicTensor;
      const h3 = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }).apply(h2) as tf.SymbolicTensor;
      x = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([x, h3])) as tf.SymbolicTensor;
    }
    const out = tf.layers.dense({ units: 10 }).apply(tf.layers.globalAveragePooling2d({}).apply(x));
    const m = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    expect(ours('residual.dl')).toEqual(keras(m));
    expect(summaryOf('residual.dl').totalParams).toBe(m.countParams());
  });

  it('simple RNN', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ inputShape: [20, 27], units: 64, returnSequences: true }),
        tf.layers.dense({ units: 27 }), tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    expect(ours('rnn.dl')).toEqual(keras(m));
  });

  it('LSTM sentiment', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ inputShape: [200], inputDim: 20000, outputDim: 128 }),
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 64, returnSequences: true }) as tf.RNN }),
        tf.layers.lstm({ units: 32 }),
        tf.layers.dense({ units: 1 }), tf.layers.activation({ activation: 'sigmoid' }),
      ],
    });
    expect(ours('lstm_sentiment.dl')).toEqual(keras(m));
  });

  it("seq2seq: Keras's lstm_seq2seq, 718,173 parameters; each LSTM's output and states as tf.layers lists them", () => {
    const [encoderIn, decoderIn] = [tf.input({ shape: [null, 71] }), tf.input({ shape: [null, 93] })];
    // Only shapes and counts are compared: tfjs's orthogonal recurrent initialiser (a QR of [1024, 256]) alone took minutes.
    const [, h, c] = tf.layers.lstm({ units: 256, returnState: true, recurrentInitializer: 'zeros' }).apply(encoderIn) as tf.SymbolicTensor[];
    const [decoded] = tf.layers.lstm({ units: 256, returnSequences: true, returnState: true, recurrentInitializer: 'zeros' }).apply(decoderIn, { initialState: [h, c] }) as tf.SymbolicTensor[];
    const out = tf.layers.dense({ units: 93, activation: 'softmax' }).apply(decoded) as tf.SymbolicTensor;
    const m = tf.model({ inputs: [encoderIn, decoderIn], outputs: out });
    const layers = summaryOf('seq2seq.dl').layers.filter((l) => l.op !== 'input');
    // Keras prints the texts' lengths T and S as None.
    const none = (shape: Dim[]) => shape.map((d) => (typeof d === 'string' ? null : d));
    expect(layers.map((l) => [l.outputShapes?.map(none) ?? none(l.outputShape), l.params])).toEqual(keras(m));
    expect(summaryOf('seq2seq.dl').totalParams).toBe(718_173);
    expect(m.countParams()).toBe(718_173);
  });

  it("GRU classifier: 2,597,313 parameters; the GRU's by Keras's reset_after formula 3u(in + u + 2)", () => {
    // tf.layers.gru refuses resetAfter (Keras's default), so the GRU's count is the formula written out;
    // the embedding and dense layers around it are tf.layers'.
    const embedding = tf.layers.embedding({ inputDim: 20000, outputDim: 128 });
    embedding.build([null, 200]);
    const dense = tf.layers.dense({ units: 1 });
    dense.build([null, 64]);
    const layers = summaryOf('gru_classifier.dl').layers.filter((l) => l.op !== 'input');
    expect(layers.map((l) => [l.op, l.outputShape, l.params])).toEqual([
      ['embedding', embedding.computeOutputShape([null, 200]), embedding.countParams()],
      ['gru', [null, 64], 3 * 64 * (128 + 64 + 2)],
      ['dense', dense.computeOutputShape([null, 64]), dense.countParams()],
      ['sigmoid', [null, 1], 0],
    ]);
    expect(summaryOf('gru_classifier.dl').totalParams).toBe(2_597_313);
  });

  it('Siamese: one tower called on both images, its layers counted once (108,801, a tf.layers tower called twice)', () => {
    const left = tf.input({ shape: [28, 28] });
    const right = tf.input({ shape: [28, 28] });
    const layers = [tf.layers.flatten(), tf.layers.dense({ units: 128, activation: 'relu' }), tf.layers.dropout({ rate: 0.1 }), tf.layers.dense({ units: 64 })];
    const tower = (x: tf.SymbolicTensor) => layers.reduce((h, l) => l.apply(h) as tf.SymbolicTensor, x);
    const towers = tf.model({ inputs: [left, right], outputs: [tower(left), tower(right)] });
    const head = tf.layers.dense({ units: 1, activation: 'sigmoid' });
    head.build([null, 64]);
    const s = summaryOf('siamese.dl');
    expect(s.layers.filter((l) => l.uses === 2).map((l) => l.params)).toEqual(layers.map((l) => l.countParams()));
    expect(s.totalParams).toBe(towers.countParams() + head.countParams());
    expect(s.totalParams).toBe(108_801);
  });

  it('1-D convolution, image kernels and pooling: fixed kernels count as non-trainable', () => {
    expect(ours('conv1d.dl')).toEqual([[[null, 4, 1], 3]]);
    const kernels = summaryOf('image_kernels.dl');
    expect(kernels.layers.filter((l) => l.op === 'conv2d').map((l) => l.outputShape)).toEqual(Array(3).fill([null, 5, 5, 1]));
    expect([kernels.totalParams, kernels.trainableParams]).toEqual([27, 0]);
    const pool = tf.layers.maxPooling2d({ poolSize: 2 });
    pool.build([null, 4, 4, 1]);
    const pooled = summaryOf('pooling.dl').layers.filter((l) => l.op !== 'input');
    expect(pooled.map((l) => l.outputShape)).toEqual([pool.computeOutputShape([null, 4, 4, 1]), [null, 2, 2, 1]]);
  });

  it('batch normalization: Keras counts the moving statistics as non-trainable parameters', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same', useBias: false }),
        tf.layers.batchNormalization({ momentum: 0.9 }), tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', useBias: false }),
        tf.layers.batchNormalization({ momentum: 0.9 }), tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(), tf.layers.dense({ units: 10 }), tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    expect(ours('batchnorm.dl')).toEqual(keras(m));
    const s = summaryOf('batchnorm.dl');
    const nonTrainable = m.nonTrainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    expect([s.totalParams, s.nonTrainableParams]).toEqual([m.countParams(), nonTrainable]);
    expect(nonTrainable).toBe(2 * (32 + 64));
  });

  it('Transformer classifier: Keras MultiHeadAttention and LayerNormalization counts', () => {
    const s = summaryOf('transformer.dl');
    const d = 64, H = 4, K = 16, ff = 128;
    // Keras MultiHeadAttention: H*K*(d+1) for query, key and value, H*K*d + d for the output projection.
    const mha = 3 * H * K * (d + 1) + H * K * d + d;
    const encoder = mha + 2 * (2 * d) + (d * ff + ff) + (ff * d + d);
    expect(s.layers.filter((l) => l.op === 'attention').map((l) => l.params)).toEqual([mha, mha]);
    expect(s.totalParams).toBe(10_000 * d + 2 * encoder + (d * 2 + 2));
    expect(s.layers.at(-1)!.outputShape).toEqual([null, 2]);
  });
});

describe('model zoo: every layer against the same network in tf.layers (bench/keras_zoo.js), totals against Keras applications', () => {
  /**
   * [name, outputShape, params] per layer, inputs left out, sorted by name:
   * the zoo's tf.layers models name their layers as dlc does, but list
   * parallel branches in another order.
   */
  const byName = (rows: [string, unknown, number][]) => rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const oursByName = (file: string) => byName(summaryOf(file).layers.filter((l) => l.op !== 'input').map((l) => [l.name, l.outputShape, l.params]));
  const kerasByName = (m: tf.LayersModel) => byName(m.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => [l.name, l.outputShape, l.countParams()]));
  const count = (ws: tf.LayerVariable[]) => ws.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

  // Totals and trainable counts as keras.applications' model.summary() prints them (include_top, 1000 classes).
  it.each([
    ['resnet50', 25_636_712, 25_583_592, zoo.resnet50],
    ['densenet121', 8_062_504, 7_978_856, zoo.densenet121],
    ['inception_v3', 23_851_784, 23_817_352, zoo.inceptionV3],
    ['mobilenet', 4_253_864, 4_231_976, zoo.mobilenet],
    ['mobilenet_v2', 3_538_984, 3_504_872, zoo.mobilenetV2],
    // Not in keras.applications: the total is the one commonly quoted for the paper's network.
    ['unet', 31_030_658, 31_030_658, () => zoo.unet()],
  ] as const)('%s: shapes and parameters layer by layer; %i parameters, %i trainable', (name, total, trainable, build) => {
    const m = build();
    try {
      expect(oursByName(`${name}.dl`)).toEqual(kerasByName(m));
      const s = summaryOf(`${name}.dl`);
      expect([s.totalParams, s.trainableParams]).toEqual([total, trainable]);
      expect([m.countParams(), count(m.trainableWeights)]).toEqual([total, trainable]);
      expect(s.nonTrainableParams).toBe(count(m.nonTrainableWeights));
    } finally {
      m.dispose();
    }
  });

  it('resnet50: FLOPs are 2 x the multiply-adds of its convolutions and dense layer, the 3.8 billion of He et al.\'s Table 1', () => {
    const s = summaryOf('resnet50.dl');
    const macs = s.layers.reduce((n, l) => {
      if (l.op !== 'conv2d' && l.op !== 'dense') return n;
      const [, ...out] = l.outputShape as number[];
      // Weights per output value: the kernel's size, params minus the bias, divided by the output channels.
      return n + out.reduce((a, b) => a * b, 1) * (l.params - out.at(-1)!) / out.at(-1)!;
    }, 0);
    expect(s.flops).toBe(2 * macs);
    // 3.858 billion, which the paper gives to one decimal, truncated.
    expect(Math.floor(macs / 1e8) / 10).toBe(3.8);
  });

  // Multiply-adds as the papers count them, in whole millions: MobileNet's Table 8 (1.0
  // MobileNet-224, 569 million) and MobileNetV2's Table 6 (300 million). dlc counts no FLOPs
  // for batchnorm, relu6 and the adds; ours are 568.7 and 300.8 million.
  it.each([
    ['mobilenet', 569],
    ['mobilenet_v2', 300],
  ] as const)('%s: %i million multiply-adds, as the paper gives them (to the million)', (name, millions) => {
    expect(Math.abs(summaryOf(`${name}.dl`).flops / 2 / 1e6 - millions)).toBeLessThan(1);
  });

  it('unet: the paper\'s Figure 1, a 572x572x1 tile into a 388x388x2 segmentation; skips cropped from 64, 136, 280, 568 to 56, 104, 200, 392', () => {
    const s = summaryOf('unet.dl');
    expect(s.layers.at(-1)!.outputShape).toEqual([null, 388, 388, 2]);
    const sizes = (op: string) => s.layers.filter((l) => l.op === op).map((l) => (l.outputShape as number[])[1]);
    expect(sizes('cropping')).toEqual([56, 104, 200, 392]);
    expect(sizes('maxpool')).toEqual([284, 140, 68, 32]);
  });

  it('squeeze_excite: matches tf.layers; each squeeze-and-excite gate is two dense layers, C/16 wide', () => {
    const m = zoo.seResNet();
    expect(oursByName('squeeze_excite.dl')).toEqual(kerasByName(m));
    const s = summaryOf('squeeze_excite.dl');
    expect(s.totalParams).toBe(m.countParams());
    const gates = s.layers.filter((l) => l.op === 'dense').slice(0, -1).map((l) => l.params);
    // dense(C/16) has C * C/16 + C/16 parameters, dense(C) has C/16 * C + C; C = 32, 64, 64.
    const se = (c: number) => [c * (c / 16) + c / 16, (c / 16) * c + c];
    expect(gates).toEqual([...se(32), ...se(64), ...se(64)]);
    m.dispose();
  });

  it("conv_autoencoder: matches tf.layers and the Keras blog's shapes: a 4x4x8 code, a 28x28x1 reconstruction, 4,385 parameters", () => {
    const m = zoo.convAutoencoder();
    expect(oursByName('conv_autoencoder.dl')).toEqual(kerasByName(m));
    const s = summaryOf('conv_autoencoder.dl');
    expect(s.layers.find((l) => l.name === 'maxpool_2')!.outputShape).toEqual([null, 4, 4, 8]);
    expect(s.layers.at(-1)!.outputShape).toEqual([null, 28, 28, 1]);
    expect(s.totalParams).toBe(m.countParams());
    expect(s.totalParams).toBe(4_385);
    m.dispose();
  });
});

describe('language models: every layer with weights against tf.layers built to the same shapes (bench/language_models.js), totals as published', () => {
  const withWeights = (file: string) => summaryOf(file).layers.filter((l) => l.params > 0).map((l) => [l.name, l.params]);

  it.each([
    // Devlin et al.'s BERT-base with its pooler, as Hugging Face's BertModel counts it.
    ['bert_base', 109_482_240, bertLayers],
    // Radford et al.'s GPT-2 small: the LM head is tied to wte and adds nothing.
    ['gpt2', 124_439_808, gpt2Layers],
  ] as const)('%s: %i parameters, layer by layer', (name, total, layers) => {
    const keras = layers();
    expect(withWeights(`${name}.dl`)).toEqual(keras);
    expect(keras.reduce((n, [, p]) => n + p, 0)).toBe(total);
    expect(summaryOf(`${name}.dl`).totalParams).toBe(total);
  });

  it('bert_base: 12 encoder layers of 7,087,872 (4 x 768 x 768 + 2 x 768 x 3072 weights, their biases and two layernorms)', () => {
    const s = summaryOf('bert_base.dl');
    const layer = 4 * (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768) + 2 * 2 * 768;
    expect(layer).toBe(7_087_872);
    expect(s.layers.filter((l) => l.op === 'attention').length).toBe(12);
    // The pooler reads the [CLS] token: take(0) of the [128, 768] states.
    expect(s.layers.filter((l) => ['take', 'pooler', 'tanh'].includes(l.name)).map((l) => l.outputShape)).toEqual([[null, 768], [null, 768], [null, 768]]);
  });
});
