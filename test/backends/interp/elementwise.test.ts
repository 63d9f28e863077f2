/** Elementwise, joining and dropout kernels against TensorFlow.js and their definitions. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { add, concat, dropout, relu, sigmoid, softmax, tanh } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { tensor } from '../../../src/backends/interp/tensor.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);
const rng = createRng(3);

describe('activations match tfjs', () => {
  const x = randTensor([3, 4, 17], rng, 12);
  it('relu', () => expectClose(relu(x), tf.relu(toTf(x))));
  it('sigmoid', () => expectClose(sigmoid(x), tf.sigmoid(toTf(x))));
  it('tanh', () => expectClose(tanh(x), tf.tanh(toTf(x))));
  it('softmax over the last axis', () => expectClose(softmax(x), tf.softmax(toTf(x))));
  it('softmax of a 1-D vector', () => {
    const v = randTensor([9], rng, 3);
    expectClose(softmax(v), tf.softmax(toTf(v)));
  });
  it('do not modify their input', () => {
    const before = x.data.slice();
    relu(x);
    softmax(x);
    expect(x.data).toEqual(before);
  });
});

describe('add', () => {
  it('sums any number of same-shaped tensors', () => {
    const xs = [randTensor([2, 3, 4], rng), randTensor([2, 3, 4], rng), randTensor([2, 3, 4], rng)];
    expectClose(add(xs), tf.addN(xs.map(toTf)));
  });
  it('rejects different shapes', () => {
    expect(() => add([randTensor([2, 3], rng), randTensor([3, 2], rng)])).toThrow(/add: shapes \[2, 3\] and \[3, 2\] differ/);
  });
});

describe('concat', () => {
  it.each([0, 1, 2, -1, -2])('along axis %i matches tf.concat', (axis) => {
    const sizes = [2, 3, 1];
    const rank = 3;
    const ax = axis < 0 ? axis + rank : axis;
    const xs = sizes.map((n) => {
      const shape = [2, 3, 4];
      shape[ax] = n;
      return randTensor(shape, rng);
    });
    expectClose(concat(xs, axis), tf.concat(xs.map(toTf), axis));
  });
  it('rejects mismatched off-axis dimensions and bad axes', () => {
    expect(() => concat([randTensor([2, 3], rng), randTensor([3, 3], rng)], 1)).toThrow(/differ off axis 1/);
    expect(() => concat([randTensor([2, 3], rng)], 2)).toThrow(/axis 2 out of range/);
  });
});

describe('dropout (inverted)', () => {
  const x = tensor([100, 100], new Float32Array(10000).fill(2));

  it('zeroes about `rate` of the units and scales the rest by 1 / (1 - rate)', () => {
    const y = dropout(x, 0.3, createRng(1));
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(2 / 0.7)]));
    expect(kept.length / 10000).toBeGreaterThan(0.68);
    expect(kept.length / 10000).toBeLessThan(0.72);
  });

  it('is deterministic for a seed and the identity at rate 0', () => {
    expect(dropout(x, 0.5, createRng(9)).data).toEqual(dropout(x, 0.5, createRng(9)).data);
    expect(dropout(x, 0, createRng(9)).data).toEqual(x.data);
  });

  it('drops exactly where the stream draws below the rate, to +0 whatever the value (NaN and infinities too), and keeps x / (1 - rate)', () => {
    const special = tensor([8, 4], Float32Array.from({ length: 32 }, (_, i) => [NaN, Infinity, -Infinity, -0, 3.5, -1e-40, 1e38, 7][i % 8]));
    const y = dropout(special, 0.5, createRng(4));
    const draws = createRng(4);
    special.data.forEach((v, i) => {
      if (draws.uniform() < 0.5) expect(Object.is(y.data[i], 0), `element ${i}`).toBe(true);
      else expect(Object.is(y.data[i], Math.fround(v * 2)), `element ${i}`).toBe(true);
    });
  });

  it('rejects rates outside [0, 1)', () => {
    expect(() => dropout(x, 1, createRng(1))).toThrow(/rate must be in \[0, 1\)/);
  });
});
