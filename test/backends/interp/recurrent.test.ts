/**
 * simpleRnn and lstm against TensorFlow.js's Keras port (tf.layers) with our
 * weights loaded by setWeights. tfjs's LSTM defaults to hard_sigmoid for its
 * recurrent activation, so the reference asks for Keras 2's sigmoid
 * explicitly. For reverse + sequences, tf.layers returns states in processing
 * order; flipping them along time gives the original-order convention that
 * Keras's Bidirectional uses and our kernel returns.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import { lstm, simpleRnn } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { RECURRENT_CASES, expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);
const rng = createRng(17);

const cases = RECURRENT_CASES;

/** Run a tf.layers recurrent layer with the given weights, flipping reversed sequences back to time order. */
function reference(layer: tf.layers.Layer, x: tf.Tensor, weights: tf.Tensor[], sequences: boolean, reverse: boolean): tf.Tensor {
  layer.apply(x);
  layer.setWeights(weights);
  const y = layer.apply(x) as tf.Tensor;
  return sequences && reverse ? tf.reverse(y, 1) : y;
}

describe('simpleRnn', () => {
  it.each(cases)('B=$B T=$T in=$inDim units=$units sequences=$sequences reverse=$reverse', (c) => {
    const x = randTensor([c.B, c.T, c.inDim], rng);
    const kernel = randTensor([c.inDim, c.units], rng);
    const recurrent = randTensor([c.units, c.units], rng, 0.5);
    const bias = randTensor([c.units], rng);
    const layer = tf.layers.simpleRNN({ units: c.units, returnSequences: c.sequences, goBackwards: c.reverse });
    const expected = reference(layer, toTf(x), [kernel, recurrent, bias].map(toTf), c.sequences, c.reverse);
    expectClose(simpleRnn(x, kernel, recurrent, bias, c), expected);
  });

  it('with relu activation', () => {
    const x = randTensor([2, 6, 3], rng);
    const kernel = randTensor([3, 5], rng);
    const recurrent = randTensor([5, 5], rng, 0.5);
    const bias = randTensor([5], rng);
    const layer = tf.layers.simpleRNN({ units: 5, activation: 'relu', returnSequences: true });
    const expected = reference(layer, toTf(x), [kernel, recurrent, bias].map(toTf), true, false);
    expectClose(simpleRnn(x, kernel, recurrent, bias, { activation: 'relu', sequences: true }), expected);
  });
});

describe('lstm', () => {
  it.each(cases)('B=$B T=$T in=$inDim units=$units sequences=$sequences reverse=$reverse', (c) => {
    const x = randTensor([c.B, c.T, c.inDim], rng);
    const kernel = randTensor([c.inDim, 4 * c.units], rng);
    const recurrent = randTensor([c.units, 4 * c.units], rng, 0.5);
    const bias = randTensor([4 * c.units], rng);
    const layer = tf.layers.lstm({
      units: c.units,
      recurrentActivation: 'sigmoid',
      returnSequences: c.sequences,
      goBackwards: c.reverse,
    });
    const expected = reference(layer, toTf(x), [kernel, recurrent, bias].map(toTf), c.sequences, c.reverse);
    expectClose(lstm(x, kernel, recurrent, bias, c), expected);
  });

  it('a long sequence with a batch larger than the register block', () => {
    const [B, T, inDim, units] = [9, 40, 8, 16];
    const x = randTensor([B, T, inDim], rng);
    const kernel = randTensor([inDim, 4 * units], rng, 0.5);
    const recurrent = randTensor([units, 4 * units], rng, 0.3);
    const bias = randTensor([4 * units], rng);
    const layer = tf.layers.lstm({ units, recurrentActivation: 'sigmoid', returnSequences: true });
    const expected = reference(layer, toTf(x), [kernel, recurrent, bias].map(toTf), true, false);
    expectClose(lstm(x, kernel, recurrent, bias, { sequences: true }), expected);
  });
});
