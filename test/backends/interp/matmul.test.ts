/**
 * matmul, matmulInto and dense against TensorFlow.js. Shapes include sizes
 * that are not multiples of the 4x4 register block and K beyond one K-block
 * (512), so every packing edge and the cross-block accumulation are exercised.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../../src/backends/interp/kernels/index.js';
import { dense, matmul, matmulInto } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';
import { kerasActivation } from './keras-activations.js';
import { ACTIVATIONS } from '../../../src/ops/activations.js';

beforeAll(useTfCpu);
const rng = createRng(20240601);

// Long dot products: tfjs sums in float32 in its own order while we sum in
// float64, so for K in the hundreds the two differ by ~sqrt(K) float32 ulps
// of the running sum; 1e-5 of max(1, |value|) still holds for these sizes.
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 4, 4],
  [17, 33, 9],
  [64, 64, 64],
  [5, 600, 11],
  [130, 1100, 3],
];

describe('matmul', () => {
  it.each(shapes)('M=%i K=%i N=%i matches tf.matMul', (M, K, N) => {
    const a = randTensor([M, K], rng);
    const b = randTensor([K, N], rng);
    expectClose(matmul(a, b), tf.matMul(toTf(a), toTf(b)));
  });

  // M = 2 takes the few-rows path, M = 13 the packed one.
  it.each([
    [2, false, true],
    [2, true, false],
    [2, true, true],
    [13, false, true],
    [13, true, false],
    [13, true, true],
  ])('M=%i transA=%s transB=%s matches tf.matMul', (M, transA, transB) => {
    const [K, N] = [21, 6];
    const a = randTensor(transA ? [K, M] : [M, K], rng);
    const b = randTensor(transB ? [N, K] : [K, N], rng);
    const out = new Float32Array(M * N);
    matmulInto(out, a.data, b.data, M, K, N, { transA, transB });
    expectClose({ shape: [M, N], data: out }, tf.matMul(toTf(a), toTf(b), transA, transB));
  });

  it.each([2, 7])('accumulate adds to the existing output, across K-blocks too (M=%i)', (M) => {
    const [K, N] = [700, 9];
    const a = randTensor([M, K], rng);
    const b = randTensor([K, N], rng);
    const c = randTensor([M, N], rng);
    const out = c.data.slice();
    matmulInto(out, a.data, b.data, M, K, N, { accumulate: true });
    expectClose({ shape: [M, N], data: out }, tf.add(toTf(c), tf.matMul(toTf(a), toTf(b))));
  });

  it.each([1, 5])('K = 0 gives zeros (or leaves the accumulator alone), M=%i', (M) => {
    const out = new Float32Array(2 * M).fill(3);
    matmulInto(out, new Float32Array(0), new Float32Array(0), M, 0, 2, { accumulate: true });
    expect(Array.from(out)).toEqual(new Array(2 * M).fill(3));
    matmulInto(out, new Float32Array(0), new Float32Array(0), M, 0, 2);
    expect(Array.from(out)).toEqual(new Array(2 * M).fill(0));
  });

  it('rejects mismatched shapes', () => {
    expect(() => matmul(randTensor([2, 3], rng), randTensor([4, 2], rng))).toThrow(/cannot multiply \[2, 3\] by \[4, 2\]/);
  });
});

describe('dense', () => {
  // Every activation of the table, applied in the kernel's epilogue.
  const activations = Object.keys(ACTIVATIONS) as Activation[];
  const reference = kerasActivation;

  it.each(activations)('%s on [2,3,10] x [10,7] + bias matches tf', (act) => {
    const x = randTensor([2, 3, 10], rng, 2);
    const kernel = randTensor([10, 7], rng);
    const bias = randTensor([7], rng);
    const expected = reference(act)(tf.add(tf.matMul(toTf(x).reshape([6, 10]), toTf(kernel)), toTf(bias))).reshape([2, 3, 7]);
    expectClose(dense(x, kernel, bias, act), expected);
  });

  it('works without bias on a plain [B, in] input', () => {
    const x = randTensor([5, 33], rng);
    const kernel = randTensor([33, 1], rng);
    expectClose(dense(x, kernel, null), tf.matMul(toTf(x), toTf(kernel)));
  });
});
