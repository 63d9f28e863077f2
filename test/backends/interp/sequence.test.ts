/** Embedding, sinusoidal positions and layer normalisation against TensorFlow.js. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addPositional, embedding, layerNorm, sinusoidalTable } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { tensor } from '../../../src/backends/interp/tensor.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);
const rng = createRng(5);

describe('embedding', () => {
  const table = randTensor([10, 6], rng);

  it('gathers rows like tf.gather', () => {
    const ids = [3, 0, 9, 9, 1, 4, 7, 2];
    const out = embedding(tensor([2, 4], ids), table);
    expectClose(out, tf.gather(toTf(table), tf.tensor2d(ids, [2, 4], 'int32')));
  });

  it.each([1.5, -1, 10, NaN])('rejects id %s', (id) => {
    expect(() => embedding(tensor([1, 2], [0, id]), table)).toThrow(/not a whole number in \[0, 10\)/);
  });
});

describe('sinusoidal positions', () => {
  it.each([
    [7, 8],
    [50, 16],
    [5, 7],
  ])('table [%i, %i] matches the formula evaluated by tfjs', (T, d) => {
    // angle[pos, j] = pos / 10000^(2i/d) with 2i = j rounded down to even; sin on even j, cos on odd.
    const pos = tf.range(0, T).reshape([T, 1]);
    const pair = tf.range(0, d).div(2).floor().mul(2);
    const angle = pos.div(tf.pow(10000, pair.div(d)));
    const even = tf.range(0, d).mod(2).equal(0);
    const expected = tf.where(even.broadcastTo([T, d]), tf.sin(angle), tf.cos(angle));
    // Float32 angles up to ~50 carry ~4e-6 rounding into sin/cos.
    expectClose(sinusoidalTable(T, d), expected, 1e-5);
  });

  it('row 0 is [0, 1, 0, 1, ...] and addPositional broadcasts over the batch', () => {
    const table = sinusoidalTable(6, 4);
    expect(Array.from(table.data.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    const x = randTensor([3, 5, 4], rng);
    expectClose(addPositional(x, table), tf.add(toTf(x), toTf(table).slice([0, 0], [5, 4])));
  });
});

describe('layerNorm', () => {
  it.each([
    [[4, 8], 1e-3],
    [[2, 3, 16], 1e-6],
    [[5, 1], 1e-3],
  ] as const)('on %j with epsilon %s matches tf.layers.layerNormalization', (shape, epsilon) => {
    const x = randTensor([...shape], rng, 3);
    const d = shape[shape.length - 1];
    const gamma = randTensor([d], rng);
    const beta = randTensor([d], rng);
    const layer = tf.layers.layerNormalization({ epsilon });
    layer.apply(toTf(x));
    layer.setWeights([toTf(gamma), toTf(beta)]);
    expectClose(layerNorm(x, gamma, beta, epsilon), layer.apply(toTf(x)) as tf.Tensor);
  });
});
