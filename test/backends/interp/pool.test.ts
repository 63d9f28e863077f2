/**
 * Pooling against TensorFlow.js: max and average, 1-D and 2-D, both
 * paddings, strides equal to and smaller than the pool, odd sizes so that
 * "same" windows hang over the edge (where tf's average divides by the real
 * cells only), and the global pools over every axis between batch and channels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import type { Padding } from '../../../src/backends/interp/kernels/index.js';
import {
  avgPool1d,
  avgPool2d,
  globalAvgPool,
  globalMaxPool,
  maxPool1d,
  maxPool2d,
} from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);
const rng = createRng(11);

const cases2d: { x: [number, number, number, number]; size: [number, number]; stride: [number, number]; padding: Padding }[] = [
  { x: [2, 6, 6, 3], size: [2, 2], stride: [2, 2], padding: 'valid' },
  { x: [2, 7, 5, 3], size: [2, 2], stride: [2, 2], padding: 'same' },
  { x: [1, 7, 9, 2], size: [3, 3], stride: [2, 2], padding: 'same' },
  { x: [1, 7, 9, 2], size: [3, 3], stride: [1, 1], padding: 'same' },
  { x: [3, 9, 8, 4], size: [3, 2], stride: [2, 1], padding: 'valid' },
  { x: [1, 5, 5, 1], size: [4, 4], stride: [3, 3], padding: 'same' },
];

describe.each(['max', 'avg'] as const)('%sPool2d', (kind) => {
  const ours = kind === 'max' ? maxPool2d : avgPool2d;
  const theirs = kind === 'max' ? tf.maxPool : tf.avgPool;
  it.each(cases2d)('$x, pool $size, stride $stride, $padding', (c) => {
    const x = randTensor(c.x, rng);
    expectClose(ours(x, c), theirs(toTf(x) as tf.Tensor4D, c.size, c.stride, c.padding));
  });
});

describe.each(['max', 'avg'] as const)('%sPool1d', (kind) => {
  const ours = kind === 'max' ? maxPool1d : avgPool1d;
  const theirs = kind === 'max' ? tf.maxPool : tf.avgPool;
  it.each([
    { x: [2, 8, 3], size: 2, stride: 2, padding: 'valid' },
    { x: [2, 9, 3], size: 2, stride: 2, padding: 'same' },
    { x: [1, 10, 2], size: 3, stride: 1, padding: 'same' },
    { x: [1, 11, 2], size: 4, stride: 3, padding: 'same' },
    { x: [3, 11, 5], size: 3, stride: 2, padding: 'valid' },
  ] as const)('$x, pool $size, stride $stride, $padding', (c) => {
    const [B, L, C] = c.x;
    const x = randTensor([B, L, C], rng);
    // tfjs has no 1-D pooling op; Keras also pools 1-D as 2-D with height 1.
    const expected = theirs(toTf(x).reshape([B, 1, L, C]) as tf.Tensor4D, [1, c.size], [1, c.stride], c.padding);
    const y = ours(x, c);
    expectClose(y, expected.reshape([B, y.shape[1], C]));
  });
});

describe('global pooling', () => {
  it.each([
    [[2, 5, 3]],
    [[2, 4, 6, 3]],
    [[1, 3, 2, 4, 5]],
  ])('over every axis between batch and channels of %j', (shape) => {
    const x = randTensor(shape, rng);
    const axes = shape.slice(1, -1).map((_, i) => i + 1);
    expectClose(globalAvgPool(x), tf.mean(toTf(x), axes));
    expectClose(globalMaxPool(x), tf.max(toTf(x), axes));
  });
});
