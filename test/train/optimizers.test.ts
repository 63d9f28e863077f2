/**
 * One or two optimizer steps against numbers worked out by hand from the
 * update rules Keras documents (keras.optimizers.SGD, keras.optimizers.Adam,
 * keras.regularizers.L2); the arithmetic is written out beside each number.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/backends/interp/tensor.js';
import type { Weights } from '../../src/backends/interp/weights.js';
import { createOptimizer } from '../../src/train/optimizers.js';

const t = (...xs: number[]): Tensor => ({ shape: [xs.length], data: Float32Array.from(xs) });
const grads = (entries: Record<string, number[]>) => new Map(Object.entries(entries).map(([k, v]) => [k, t(...v)]));
const values = (w: Weights, name: string) => Array.from(w.get(name)!.data);

/** Equal to float32 precision (weights are stored as float32): within 2e-7 relative. */
function expectClose(actual: number[], expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(expected[i]))));
}

describe('sgd', () => {
  it('without momentum: w -= lr * g', () => {
    const w: Weights = new Map([['dense.kernel', t(1, -2)]]);
    createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0 }).step(w, grads({ 'dense.kernel': [0.5, -1] }));
    expectClose(values(w, 'dense.kernel'), [0.95, -1.9]); // 1 - 0.1*0.5, -2 + 0.1*1
  });

  it('with momentum: v = m v - lr g; w += v (two steps)', () => {
    const w: Weights = new Map([['dense.kernel', t(1, -2)]]);
    const sgd = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 });
    sgd.step(w, grads({ 'dense.kernel': [0.5, 0.1] }));
    // v = -0.1 * [0.5, 0.1] = [-0.05, -0.01]; w = [0.95, -2.01]
    expectClose(values(w, 'dense.kernel'), [0.95, -2.01]);
    sgd.step(w, grads({ 'dense.kernel': [0.5, 0.1] }));
    // v = 0.9 * [-0.05, -0.01] - 0.1 * [0.5, 0.1] = [-0.095, -0.019]; w = [0.855, -2.029]
    expectClose(values(w, 'dense.kernel'), [0.855, -2.029]);
  });
});

describe('adam', () => {
  // lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (1 - beta1)(g - m); v += (1 - beta2)(g^2 - v);
  // w -= lr_t * m / (sqrt(v) + epsilon), with Keras's defaults beta1 0.9, beta2 0.999, epsilon 1e-7.
  it('two steps with the defaults', () => {
    const w: Weights = new Map([['a.kernel', t(1)], ['b.bias', t(-3)]]);
    const adam = createOptimizer({ kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    adam.step(w, grads({ 'a.kernel': [0.5] }));
    // t=1: lr_t = 0.001 * sqrt(0.001) / 0.1 = 3.16227766e-4; m = 0.05; v = 2.5e-4; sqrt(v) = 0.0158113883
    // w = 1 - 3.16227766e-4 * 0.05 / (0.0158113883 + 1e-7) = 0.99900000632
    expectClose(values(w, 'a.kernel'), [0.9990000063]);
    adam.step(w, grads({ 'a.kernel': [0.5] }));
    // t=2: lr_t = 0.001 * sqrt(0.001999) / 0.19 = 2.35316725e-4; m = 0.05 + 0.1 * 0.45 = 0.095;
    // v = 2.5e-4 + 0.001 * (0.25 - 2.5e-4) = 4.9975e-4; w = 0.99900000632 - 2.35316725e-4 * 0.095 / (0.0223550889 + 1e-7) = 0.99800001080
    expectClose(values(w, 'a.kernel'), [0.9980000108]);
    expect(values(w, 'b.bias')).toEqual([-3]); // no gradient, no change
  });

  it('a gradient that changes sign', () => {
    const w: Weights = new Map([['k.kernel', t(-3)]]);
    const adam = createOptimizer({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    adam.step(w, grads({ 'k.kernel': [-2] }));
    // t=1: lr_t = 3.16227766e-3; m = -0.2; v = 0.004; w = -3 + 3.16227766e-3 * 0.2 / (0.0632455532 + 1e-7) = -2.98999998
    expectClose(values(w, 'k.kernel'), [-2.9900000158]);
    adam.step(w, grads({ 'k.kernel': [1] }));
    // t=2: lr_t = 2.35316725e-3; m = -0.2 + 0.1 * 1.2 = -0.08; v = 0.004 + 0.001 * 0.996 = 0.004996;
    // w = -2.99000002 + 2.35316725e-3 * 0.08 / (0.0706823882 + 1e-7) = -2.98733665
    expectClose(values(w, 'k.kernel'), [-2.9873366492]);
  });
});

describe('L2 weight decay', () => {
  it('adds 2 * decay * w to the gradient of kernels only', () => {
    const w: Weights = new Map([['dense.kernel', t(2)], ['dense.bias', t(2)]]);
    createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0 }, 0.01).step(w, grads({ 'dense.kernel': [0], 'dense.bias': [0] }));
    // kernel: g = 0 + 2 * 0.01 * 2 = 0.04; w = 2 - 0.1 * 0.04 = 1.996. The bias is not regularised.
    expectClose(values(w, 'dense.kernel'), [1.996]);
    expect(values(w, 'dense.bias')).toEqual([2]);
  });

  it('with momentum and Adam, the decayed gradient is what they see', () => {
    const w: Weights = new Map([['k.kernel', t(1)]]);
    createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 }, 0.5).step(w, grads({ 'k.kernel': [1] }));
    // g = 1 + 2 * 0.5 * 1 = 2; v = -0.2; w = 0.8
    expectClose(values(w, 'k.kernel'), [0.8]);
    const a: Weights = new Map([['k.kernel', t(1)]]);
    createOptimizer({ kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, 0.25).step(a, grads({ 'k.kernel': [0] }));
    // g = 0 + 2 * 0.25 * 1 = 0.5: the same first step as above, w = 0.99900000632
    expectClose(values(a, 'k.kernel'), [0.9990000063]);
  });
});
