/**
 * The losses (losses.ts), values and gradients, against TensorFlow.js: tfjs-
 * layers' Keras losses (tf.metrics.*, from probabilities, clipped) and
 * tf.losses.* (from logits), with tf.grad for the gradients; every gradient
 * also against central differences of our own loss. Then accuracy, and the
 * fused softmax/sigmoid heads inside lossAndGradients.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../../src/backends/interp/autodiff.js';
import { accuracy, lossAndGrad, lossAndGradFromLogits } from '../../../../src/backends/interp/losses.js';
import { LOSSES, type LossName } from '../../../../src/runtime/losses.js';
import { createRng, Rng } from '../../../../src/runtime/random.js';
import type { Tensor } from '../../../../src/backends/interp/tensor.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from '../helpers.js';
import { modelOf, tfDense, weightsFor } from './harness.js';

beforeAll(useTfCpu);
const rng = createRng(21);

const softmaxOf = (t: Tensor) => fromTf(tf.softmax(toTf(t)));
const sigmoidOf = (t: Tensor) => fromTf(tf.sigmoid(toTf(t)));
function oneHot(shape: number[], rng: Rng): { ids: Tensor; hot: Tensor } {
  const C = shape.at(-1)!;
  const rows = shape.reduce((a, b) => a * b, 1) / C;
  const ids = Float32Array.from({ length: rows }, () => Math.floor(rng.uniform() * C));
  const hot = new Float32Array(rows * C);
  ids.forEach((id, r) => (hot[r * C + id] = 1));
  return { ids: { shape: shape.slice(0, -1), data: ids }, hot: { shape, data: hot } };
}
const bits = (shape: number[], rng: Rng): Tensor => {
  const t = randTensor(shape, rng);
  return { shape, data: t.data.map((v) => (v > 0 ? 1 : 0)) };
};

/** Our loss and gradient against tfjs's value and tf.grad, and the gradient against central differences. */
function compare(ours: (p: Tensor) => { loss: number; grad: Tensor }, theirs: (p: tf.Tensor) => tf.Scalar, p: Tensor, tol = 1e-5): void {
  const { loss, grad } = ours(p);
  const expected = theirs(toTf(p)).dataSync()[0];
  expect(Math.abs(loss - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
  expectClose(grad, tf.grad((x: tf.Tensor) => theirs(x))(toTf(p)), 1e-4);
  // A few coordinates by central differences (in float64 on float32 inputs).
  for (let k = 0; k < 4; k++) {
    const i = Math.floor(rng.uniform() * p.data.length);
    const eps = Math.min(1e-3, Math.abs(p.data[i]) / 4 || 1e-3);
    const at = (s: number) => ours({ shape: p.shape, data: p.data.map((v, j) => (j === i ? v + s * eps : v)) }).loss;
    const h = (Math.fround(p.data[i] + eps) - Math.fround(p.data[i] - eps)) / 2;
    const numeric = (at(1) - at(-1)) / (2 * h);
    expect(Math.abs(numeric - grad.data[i])).toBeLessThanOrEqual(2e-2 * Math.max(Math.abs(grad.data[i]), 1e-3));
  }
}

describe('losses from predictions, as Keras (tfjs-layers)', () => {
  it('lists the four losses', () => {
    expect([...LOSSES].sort()).toEqual(['binary_crossentropy', 'categorical_crossentropy', 'mse', 'sparse_categorical_crossentropy']);
  });

  it.each([[4, 3], [2, 5, 3]])('mse on %j: mean over every element', (...shape) => {
    const y = randTensor(shape, rng);
    compare((p) => lossAndGrad('mse', p, y), (p) => tf.losses.meanSquaredError(toTf(y), p) as tf.Scalar, randTensor(shape, rng));
    compare((p) => lossAndGrad('mse', p, y), (p) => tf.mean(tf.metrics.meanSquaredError(toTf(y), p)) as tf.Scalar, randTensor(shape, rng));
  });

  it.each([[6, 1], [4, 3], [2, 3, 2]])('binary_crossentropy on %j: clipped, mean over the last axis and the batch', (...shape) => {
    const y = bits(shape, rng);
    compare((p) => lossAndGrad('binary_crossentropy', p, y), (p) => tf.mean(tf.metrics.binaryCrossentropy(toTf(y), p)) as tf.Scalar, sigmoidOf(randTensor(shape, rng, 3)));
  });

  it('binary_crossentropy clips 0 and 1 (no gradient there) and takes soft targets', () => {
    const p = { shape: [3, 2], data: Float32Array.from([0, 1, 0.3, 0.9, 1e-9, 0.5]) };
    const y = { shape: [3, 2], data: Float32Array.from([1, 0, 0.2, 1, 1, 0.7]) };
    const { loss, grad } = lossAndGrad('binary_crossentropy', p, y);
    expect(Number.isFinite(loss)).toBe(true);
    expect(grad.data[0]).toBe(0);
    expect(grad.data[1]).toBe(0);
    const expected = tf.mean(tf.metrics.binaryCrossentropy(toTf(y), toTf(p))).dataSync()[0];
    expect(loss).toBeCloseTo(expected, 4);
    expectClose(grad, tf.grad((x: tf.Tensor) => tf.mean(tf.metrics.binaryCrossentropy(toTf(y), x)))(toTf(p)), 1e-4);
  });

  it.each([[4, 5], [2, 3, 4]])('categorical_crossentropy on %j: mean over rows of the per-row sum', (...shape) => {
    const { hot } = oneHot(shape, rng);
    compare((p) => lossAndGrad('categorical_crossentropy', p, hot), (p) => tf.mean(tf.metrics.categoricalCrossentropy(toTf(hot), p)) as tf.Scalar, softmaxOf(randTensor(shape, rng, 2)));
  });

  it('categorical_crossentropy normalises unnormalised predictions and takes soft targets', () => {
    const p = randTensor([3, 4], rng);
    p.data.forEach((v, i) => (p.data[i] = Math.abs(v) + 0.1));
    const y = softmaxOf(randTensor([3, 4], rng));
    compare((q) => lossAndGrad('categorical_crossentropy', q, y), (q) => tf.mean(tf.metrics.categoricalCrossentropy(toTf(y), q)) as tf.Scalar, p);
  });

  it.each([[[5, 4], [5]], [[5, 4], [5, 1]], [[2, 3, 4], [2, 3]]])('sparse_categorical_crossentropy on %j with ids %j', (shape, idShape) => {
    const { ids, hot } = oneHot(shape, rng);
    const targets = { shape: idShape, data: ids.data };
    // tfjs-layers: clip, then the categorical loss (which normalises).
    const theirs = (p: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(toTf(hot), tf.clipByValue(p, 1e-7, 1 - 1e-7))) as tf.Scalar;
    compare((p) => lossAndGrad('sparse_categorical_crossentropy', p, targets), theirs, softmaxOf(randTensor(shape, rng, 2)));
  });

  it('rejects targets that do not fit', () => {
    expect(() => lossAndGrad('mse', randTensor([2, 3], rng), randTensor([2, 2], rng))).toThrow(/do not match/);
    expect(() => lossAndGrad('sparse_categorical_crossentropy', randTensor([2, 3], rng), { shape: [2], data: Float32Array.from([1, 3]) })).toThrow(/not a class id/);
    expect(() => lossAndGrad('sparse_categorical_crossentropy', randTensor([2, 3], rng), { shape: [3], data: Float32Array.from([1, 2, 0]) })).toThrow(/expected 2 class ids/);
  });
});

describe('losses from logits (fused softmax / sigmoid)', () => {
  it.each([[4, 5], [2, 3, 4]])('softmax + categorical_crossentropy on %j: tf.losses.softmaxCrossEntropy', (...shape) => {
    const { ids, hot } = oneHot(shape, rng);
    const z = randTensor(shape, rng, 3);
    const theirs = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(toTf(hot), x) as tf.Scalar;
    compare((x) => lossAndGradFromLogits('categorical_crossentropy', x, hot), theirs, z);
    compare((x) => lossAndGradFromLogits('sparse_categorical_crossentropy', x, ids), theirs, z);
    expectClose(lossAndGradFromLogits('categorical_crossentropy', z, hot).predictions, tf.softmax(toTf(z)), 1e-6);
  });

  it('softmax + categorical_crossentropy with soft targets', () => {
    const y = softmaxOf(randTensor([3, 4], rng));
    compare((x) => lossAndGradFromLogits('categorical_crossentropy', x, y), (x) => tf.losses.softmaxCrossEntropy(toTf(y), x) as tf.Scalar, randTensor([3, 4], rng, 2));
  });

  it.each([[6, 1], [3, 4]])('sigmoid + binary_crossentropy on %j: tf.losses.sigmoidCrossEntropy', (...shape) => {
    const y = bits(shape, rng);
    const z = randTensor(shape, rng, 4);
    compare((x) => lossAndGradFromLogits('binary_crossentropy', x, y), (x) => tf.losses.sigmoidCrossEntropy(toTf(y), x) as tf.Scalar, z);
    expectClose(lossAndGradFromLogits('binary_crossentropy', z, y).predictions, tf.sigmoid(toTf(z)), 1e-6);
  });

  it('stays finite for extreme logits, where the clipped form saturates', () => {
    const z = { shape: [2, 3], data: Float32Array.from([200, -200, 0, -150, 150, 10]) };
    const { hot, ids } = { hot: { shape: [2, 3], data: Float32Array.from([0, 1, 0, 1, 0, 0]) }, ids: { shape: [2], data: Float32Array.from([1, 0]) } };
    for (const [loss, y] of [['categorical_crossentropy', hot], ['sparse_categorical_crossentropy', ids], ['binary_crossentropy', hot]] as const) {
      const r = lossAndGradFromLogits(loss, z, y);
      expect(Number.isFinite(r.loss) && r.loss > 100).toBe(true);
      expect(r.grad.data.every(Number.isFinite)).toBe(true);
    }
    expect(lossAndGradFromLogits('categorical_crossentropy', z, hot).loss).toBeCloseTo(tf.losses.softmaxCrossEntropy(toTf(hot), toTf(z)).dataSync()[0], 2);
  });

  it('mse has no logits form', () => {
    expect(() => lossAndGradFromLogits('mse', randTensor([2, 2], rng), randTensor([2, 2], rng))).toThrow(/no logits form/);
  });
});

describe('accuracy', () => {
  const p = { shape: [4, 3], data: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6]) };
  it('categorical: argmax of predictions and one-hot targets', () => {
    const y = { shape: [4, 3], data: Float32Array.from([0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0]) };
    expect(accuracy('categorical_crossentropy', p, y)).toBe(0.5);
    expect(tf.mean(tf.metrics.categoricalAccuracy(toTf(y), toTf(p))).dataSync()[0]).toBe(0.5);
  });
  it('sparse: ids as [B] or [B, 1]', () => {
    const ids = Float32Array.from([1, 0, 0, 2]);
    expect(accuracy('sparse_categorical_crossentropy', p, { shape: [4], data: ids })).toBe(0.75);
    expect(accuracy('sparse_categorical_crossentropy', p, { shape: [4, 1], data: ids })).toBe(0.75);
  });
  it('binary: p > 0.5 against the targets', () => {
    const q = { shape: [4, 1], data: Float32Array.from([0.9, 0.2, 0.5, 0.6]) };
    const y = { shape: [4, 1], data: Float32Array.from([1, 0, 1, 0]) };
    expect(accuracy('binary_crossentropy', q, y)).toBe(0.5);
    expect(tf.mean(tf.metrics.binaryAccuracy(toTf(y), toTf(q))).dataSync()[0]).toBe(0.5);
  });
  it('mse: none', () => {
    expect(accuracy('mse', p, p)).toBeNull();
  });
});

describe('lossAndGradients picks the logits under a softmax or sigmoid output', () => {
  const x = randTensor([4, 5], createRng(8));
  const { ids, hot } = oneHot([4, 3], createRng(9));
  const bin = bits([4, 1], createRng(10));

  /** tf.variableGrads-free reference: tf.grads w.r.t. the dense weights of `loss(dense(x))`. */
  function reference(w: Map<string, Tensor>, head: (logits: tf.Tensor) => tf.Scalar) {
    const args = [toTf(w.get('dense.kernel')!), toTf(w.get('dense.bias')!)];
    const f = (k: tf.Tensor, b: tf.Tensor) => head(tfDense(toTf(x), k, b));
    return { loss: f(args[0], args[1]).dataSync()[0], grads: tf.grads(f)(args) };
  }

  it.each([
    ['categorical_crossentropy', 'softmax', false],
    ['sparse_categorical_crossentropy', 'softmax', false],
    ['binary_crossentropy', 'sigmoid', false],
    ['binary_crossentropy', 'sigmoid', true],
  ] as [LossName, string, boolean][])('%s after %s (fused into the dense layer: %s)', (loss, act, fused) => {
    const units = act === 'sigmoid' ? 1 : 3;
    const graph = modelOf(`input x: [5]\noutput y = x -> dense(${units}) -> ${act}`, fused ? ['fused_dense'] : undefined);
    if (!fused) expect(graph.nodes.at(-1)!.op).toBe(act);
    const w = weightsFor(graph, 3);
    const targets = loss === 'binary_crossentropy' ? bin : loss === 'sparse_categorical_crossentropy' ? ids : hot;
    const step = lossAndGradients(graph, w, { x }, targets, loss);
    const head = act === 'softmax' ? (z: tf.Tensor) => tf.losses.softmaxCrossEntropy(toTf(hot), z) as tf.Scalar : (z: tf.Tensor) => tf.losses.sigmoidCrossEntropy(toTf(bin), z) as tf.Scalar;
    const ref = reference(w, head);
    expect(step.loss).toBeCloseTo(ref.loss, 5);
    expectClose(step.grads.get('dense.kernel')!, ref.grads[0], 1e-4);
    expectClose(step.grads.get('dense.bias')!, ref.grads[1], 1e-4);
    // The predictions are the activation's output, and agree with the loss computed from them.
    const probs = act === 'softmax' ? tf.softmax(tfDense(toTf(x), toTf(w.get('dense.kernel')!), toTf(w.get('dense.bias')!))) : tf.sigmoid(tfDense(toTf(x), toTf(w.get('dense.kernel')!), toTf(w.get('dense.bias')!)));
    expectClose(step.predictions, probs, 1e-5);
    expect(lossAndGrad(loss, step.predictions, targets).loss).toBeCloseTo(step.loss, 4);
  });

  it('mse after a softmax differentiates through the softmax', () => {
    const graph = modelOf('input x: [5]\noutput y = x -> dense(3) -> softmax');
    const w = weightsFor(graph, 4);
    const step = lossAndGradients(graph, w, { x }, hot, 'mse');
    const ref = reference(w, (z) => tf.losses.meanSquaredError(toTf(hot), tf.softmax(z)) as tf.Scalar);
    expect(step.loss).toBeCloseTo(ref.loss, 6);
    expectClose(step.grads.get('dense.kernel')!, ref.grads[0], 1e-4);
  });

  it('`output` chooses the output the loss applies to; weights it does not reach get zero gradients', () => {
    const graph = modelOf('input x: [5]\nh = x -> dense(4) -> tanh\noutput a = h -> dense(3) -> softmax\noutput b = h -> dense(2) as side');
    const w = weightsFor(graph, 5);
    const step = lossAndGradients(graph, w, { x }, randTensor([4, 2], createRng(1)), 'mse', { output: 'b' });
    expect(step.predictions.shape).toEqual([4, 2]);
    expect([...step.grads.keys()].sort()).toEqual(['dense.bias', 'dense.kernel', 'dense_1.bias', 'dense_1.kernel', 'side.bias', 'side.kernel']);
    expect(step.grads.get('dense_1.kernel')!.data.every((v) => v === 0)).toBe(true);
    expect(step.grads.get('side.kernel')!.data.some((v) => v !== 0)).toBe(true);
    expect(step.grads.get('dense.kernel')!.data.some((v) => v !== 0)).toBe(true);
    expect(() => lossAndGradients(graph, w, { x }, hot, 'mse', { output: 'c' })).toThrow(/no output "c"/);
  });
});
