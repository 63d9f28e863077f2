/**
 * conv1d and conv2d against TensorFlow.js: both paddings, strides 1 and 2,
 * dilation 2, odd sizes (so "same" padding splits an odd total), bias and a
 * fused activation. tfjs (like TensorFlow) rejects stride > 1 together with
 * dilation > 1, so those are never combined.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Padding } from '../../../src/backends/interp/kernels/index.js';
import { conv1d, conv2d, slidingWindow } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';
import { kerasActivation } from './keras-activations.js';

beforeAll(useTfCpu);
const rng = createRng(7);

const act = (name: Activation) => kerasActivation(name);

describe('slidingWindow (TensorFlow output sizes and padding split)', () => {
  it.each([
    // input, size, stride, dilation, padding, out, padBefore, padAfter
    [5, 3, 1, 1, 'valid', 3, 0, 0],
    [5, 3, 2, 1, 'valid', 2, 0, 0],
    [7, 3, 1, 2, 'valid', 3, 0, 0],
    [5, 3, 1, 1, 'same', 5, 1, 1],
    [6, 3, 2, 1, 'same', 3, 0, 1], // total padding 1: none before, one after
    [7, 4, 2, 1, 'same', 4, 1, 2], // total 3: one before, two after
    [7, 3, 1, 2, 'same', 7, 2, 2],
  ] as const)('L=%i k=%i s=%i d=%i %s -> out %i, padding %i before and %i after', (L, k, s, d, padding, out, padBefore, padAfter) => {
    expect(slidingWindow(L, k, s, d, padding, 'test')).toEqual({ out, padBefore, padAfter });
  });

  it('rejects a window larger than a valid-padded input', () => {
    expect(() => slidingWindow(2, 3, 1, 1, 'valid', 'conv1d')).toThrow(/conv1d: window of extent 3/);
  });
});

interface Case2d {
  x: [number, number, number, number];
  k: [number, number];
  f: number;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
  activation: Activation;
  bias: boolean;
}

const cases2d: Case2d[] = [
  { x: [2, 7, 9, 3], k: [3, 3], f: 4, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'linear', bias: true },
  { x: [2, 7, 9, 3], k: [3, 3], f: 4, stride: [1, 1], dilation: [1, 1], padding: 'valid', activation: 'relu', bias: true },
  { x: [1, 8, 7, 2], k: [4, 2], f: 5, stride: [2, 2], dilation: [1, 1], padding: 'same', activation: 'linear', bias: false },
  { x: [3, 9, 6, 2], k: [3, 2], f: 3, stride: [2, 1], dilation: [1, 1], padding: 'valid', activation: 'tanh', bias: true },
  { x: [2, 11, 10, 3], k: [3, 3], f: 2, stride: [1, 1], dilation: [2, 2], padding: 'same', activation: 'sigmoid', bias: true },
  { x: [1, 11, 9, 1], k: [2, 3], f: 3, stride: [1, 1], dilation: [2, 1], padding: 'valid', activation: 'linear', bias: true },
  { x: [2, 5, 5, 6], k: [1, 1], f: 7, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'relu', bias: true },
  { x: [2, 5, 5, 6], k: [1, 1], f: 7, stride: [2, 2], dilation: [1, 1], padding: 'valid', activation: 'linear', bias: false },
  { x: [1, 16, 16, 16], k: [5, 5], f: 16, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'softmax', bias: true },
  // 3x3 at stride 1 over 16+ channels, as Winograd F(2x2, 3x3) (wasm/gemm.ts winogradFits): even and odd outputs
  { x: [2, 12, 12, 16], k: [3, 3], f: 20, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'relu', bias: true },
  { x: [3, 13, 11, 24], k: [3, 3], f: 16, stride: [1, 1], dilation: [1, 1], padding: 'valid', activation: 'linear', bias: false },
];

describe('conv2d', () => {
  it.each(cases2d)('$x * $k x $f, stride $stride, dilation $dilation, $padding, $activation', (c) => {
    const x = randTensor(c.x, rng);
    const kernel = randTensor([...c.k, c.x[3], c.f], rng);
    const bias = c.bias ? randTensor([c.f], rng) : null;
    let expected = tf.conv2d(toTf(x) as tf.Tensor4D, toTf(kernel) as tf.Tensor4D, c.stride, c.padding, 'NHWC', c.dilation);
    if (bias) expected = tf.add(expected, toTf(bias));
    expectClose(conv2d(x, kernel, bias, c), act(c.activation)(expected));
  });

  it.each(['same', 'valid'] as const)('stride 2 with dilation 2 (%s) equals tf on the zero-spread kernel', (padding) => {
    // tfjs refuses stride > 1 with dilation > 1; a dilated kernel is the same as
    // a dense one with (d - 1) zeros between its taps, which tfjs accepts.
    const [kh, kw, C, F] = [3, 2, 2, 3];
    const x = randTensor([2, 11, 10, C], rng);
    const kernel = randTensor([kh, kw, C, F], rng);
    const spread = new Float32Array((2 * kh - 1) * (2 * kw - 1) * C * F);
    for (let y = 0; y < kh; y++)
      for (let z = 0; z < kw; z++)
        for (let i = 0; i < C * F; i++) spread[(2 * y * (2 * kw - 1) + 2 * z) * C * F + i] = kernel.data[(y * kw + z) * C * F + i];
    const expected = tf.conv2d(toTf(x) as tf.Tensor4D, tf.tensor4d(spread, [2 * kh - 1, 2 * kw - 1, C, F]), 2, padding);
    expectClose(conv2d(x, kernel, null, { stride: [2, 2], dilation: [2, 2], padding }), expected);
  });

  it('processes inputs larger than one im2col chunk', () => {
    // 64*64 positions x 3*3*32 values per row = 1.2M floats > the 1M-float chunk.
    const x = randTensor([1, 64, 64, 32], rng);
    const kernel = randTensor([3, 3, 32, 4], rng);
    const expected = tf.conv2d(toTf(x) as tf.Tensor4D, toTf(kernel) as tf.Tensor4D, 1, 'same');
    expectClose(conv2d(x, kernel, null, { padding: 'same' }), expected);
  });
});

describe('conv1d', () => {
  it.each([
    { x: [2, 9, 3], k: 3, f: 4, stride: 1, dilation: 1, padding: 'same' },
    { x: [2, 9, 3], k: 3, f: 4, stride: 1, dilation: 1, padding: 'valid' },
    { x: [3, 10, 2], k: 4, f: 2, stride: 2, dilation: 1, padding: 'same' },
    { x: [1, 11, 5], k: 3, f: 3, stride: 2, dilation: 1, padding: 'valid' },
    { x: [2, 13, 2], k: 3, f: 5, stride: 1, dilation: 2, padding: 'same' },
    { x: [2, 13, 2], k: 5, f: 1, stride: 1, dilation: 2, padding: 'valid' },
  ] as const)('$x * $k x $f, stride $stride, dilation $dilation, $padding', (c) => {
    const x = randTensor([...c.x], rng);
    const kernel = randTensor([c.k, c.x[2], c.f], rng);
    const bias = randTensor([c.f], rng);
    const expected = tf.add(
      tf.conv1d(toTf(x) as tf.Tensor3D, toTf(kernel) as tf.Tensor3D, c.stride, c.padding, 'NWC', c.dilation),
      toTf(bias),
    );
    expectClose(conv1d(x, kernel, bias, c), expected);
  });
});
