/**
 * The lecture's worked examples (slides "Convolution Operation", "Pooling
 * Layer", "The Perceptron - Activation Functions", "Softmax"), checked against
 * the printed numbers, or against TensorFlow.js where the slide shows one cell.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  avgPool2d,
  conv1d,
  conv2d,
  maxPool2d,
  relu,
  sigmoid,
  softmax,
  tanh,
} from '../../../src/backends/interp/kernels/index.js';
import { tensor } from '../../../src/backends/interp/tensor.js';
import { expectClose, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

const asList = (data: Float32Array) => Array.from(data);

describe('lecture: convolution', () => {
  it('1-D: x = [1, 2, 4, 1] with w = [1, 3, 1], same padding, gives [5, 11, 15, 7]', () => {
    const x = tensor([1, 4, 1], [1, 2, 4, 1]);
    const w = tensor([3, 1, 1], [1, 3, 1]);
    const s = conv1d(x, w, null, { padding: 'same' });
    expect(s.shape).toEqual([1, 4, 1]);
    expect(asList(s.data)).toEqual([5, 11, 15, 7]);
  });

  it('2-D: the sharpen kernel on the 5x5 image, zero padded, gives 320 at the top left', () => {
    const image = [
      [105, 102, 100, 97, 96],
      [103, 99, 103, 101, 102],
      [101, 98, 104, 102, 100],
      [99, 101, 106, 104, 99],
      [104, 104, 104, 100, 98],
    ];
    const sharpen = [
      [0, -1, 0],
      [-1, 5, -1],
      [0, -1, 0],
    ];
    const x = tensor([1, 5, 5, 1], image.flat());
    const k = tensor([3, 3, 1, 1], sharpen.flat());
    const s = conv2d(x, k, null, { padding: 'same' });
    expect(s.shape).toEqual([1, 5, 5, 1]);
    expect(s.data[0]).toBe(320);
    // The slide shows only the first cell; the rest comes from TensorFlow.js.
    const expected = tf.conv2d(tf.tensor4d(image.flat(), [1, 5, 5, 1]), tf.tensor4d(sharpen.flat(), [3, 3, 1, 1]), 1, 'same');
    expectClose(s, expected, 0);
  });
});

describe('lecture: pooling (2x2 pool, stride 2)', () => {
  it('max pooling', () => {
    const x = tensor([1, 4, 4, 1], [29, 15, 28, 184, 0, 100, 70, 38, 12, 12, 7, 2, 12, 12, 45, 6]);
    const y = maxPool2d(x, { size: [2, 2] });
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(asList(y.data)).toEqual([100, 184, 12, 45]);
  });

  it('average pooling', () => {
    const x = tensor([1, 4, 4, 1], [31, 15, 28, 184, 0, 100, 70, 38, 12, 12, 7, 2, 12, 12, 45, 6]);
    const y = avgPool2d(x, { size: [2, 2] });
    // The slide prints 36 for the top-left window, but (31 + 15 + 0 + 100) / 4 is exactly 36.5.
    expect(asList(y.data)).toEqual([36.5, 80, 12, 15]);
  });
});

describe('lecture: activation functions', () => {
  const zs = [-30, -5, -1.5, -0.25, 0, 0.25, 1.5, 5, 30];
  const x = tensor([zs.length], zs);

  it('sigmoid g(z) = 1 / (1 + e^-z)', () => {
    expectClose(sigmoid(x), tensor([zs.length], zs.map((z) => 1 / (1 + Math.exp(-z)))), 1e-6);
  });

  it('tanh g(z) = (e^z - e^-z) / (e^z + e^-z)', () => {
    // The formula overflows to NaN for large |z|, where tanh is ±1 to float32 precision.
    const formula = (z: number) => (Math.abs(z) > 20 ? Math.sign(z) : (Math.exp(z) - Math.exp(-z)) / (Math.exp(z) + Math.exp(-z)));
    expectClose(tanh(x), tensor([zs.length], zs.map(formula)), 1e-6);
  });

  it('relu g(z) = max(0, z)', () => {
    expect(asList(relu(x).data)).toEqual(zs.map((z) => Math.max(0, z)));
  });

  it('softmax P(y = j) = e^z_j / sum_k e^z_k, per row, stable for large inputs', () => {
    const rows = [
      [1, 2, 3],
      [-1, 0, 1000],
      [500, 500, 499],
    ];
    const y = softmax(tensor([3, 3], rows.flat()));
    const formula = rows.flatMap((r) => {
      // Shifting by any constant leaves the formula unchanged; shift by the max to stay finite.
      const m = Math.max(...r);
      const e = r.map((z) => Math.exp(z - m));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    });
    expectClose(y, tensor([3, 3], formula), 1e-6);
    expect(y.data[0] + y.data[1] + y.data[2]).toBeCloseTo(1, 6);
  });
});
