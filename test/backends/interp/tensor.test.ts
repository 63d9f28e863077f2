/**
 * take, slice, permute, mean and sum on every axis, with negative positions
 * and keepdims, against TensorFlow.js's tf.gather, tf.slice, tf.transpose
 * (and tf.layers.permute), tf.mean and tf.sum, forward and gradients
 * (tf.grads and central differences); and their located errors.
 * test/ops/contracts.test.ts checks the emitter, kernels and diagrams.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import { compileText, errorsOf } from '../../helpers.js';
import { checkGradients } from './grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

/** The op `call` on a random batch of 2 of per-example `shape`: forward against `reference` (1e-6), then gradients. */
function check(shape: number[], call: string, reference: (x: tf.Tensor) => tf.Tensor, outShape?: number[]) {
  const body = `input x: [${shape.join(', ')}]\noutput y = x -> ${call}`;
  const graph = compileText(`model M {\n  ${body.replace('\n', '\n  ')}\n}\n`);
  const x = randTensor([2, ...shape], createRng(3));
  const y = new Interpreter(graph, new Map()).run({ x }).outputs.y;
  const want = reference(toTf(x));
  expect(y.shape).toEqual(outShape ? [2, ...outShape] : want.shape);
  expectClose(y, want, 1e-6);
  checkGradients({ body, reference: (i) => reference(i.x) });
}

describe('take', () => {
  it.each([
    ['take(0)', 0, 1, [3, 2]],
    ['take(-1)', 3, 1, [3, 2]],
    ['take(1, axis = 2)', 1, 2, [4, 2]],
    ['take(-3, axis = 2)', 0, 2, [4, 2]],
    ['take(1, axis = -1)', 1, 3, [4, 3]],
  ])('%s on [4, 3, 2] is tf.gather(x, %i, %i)', (call, index, axis, out) => {
    check([4, 3, 2], call, (x) => tf.gather(x, index, axis), out);
  });

  it("BERT's [CLS]: take(0) on [T, d] gives [d]", () => {
    check([5, 8], 'take(0)', (x) => tf.slice(x, [0, 0, 0], [-1, 1, -1]).reshape([-1, 8]), [8]);
  });

  it('on a [n] example leaves one number per example', () => {
    check([5], 'take(-2)', (x) => tf.gather(x, 3, 1), []);
  });
});

describe('slice', () => {
  it.each([
    ['slice(1, 3)', [0, 1, 0, 0], [-1, 2, -1, -1]],
    ['slice(1)', [0, 1, 0, 0], [-1, 3, -1, -1]],
    ['slice(-3, -1)', [0, 1, 0, 0], [-1, 2, -1, -1]],
    ['slice(0, 1, axis = 2)', [0, 0, 0, 0], [-1, -1, 1, -1]],
    ['slice(-2, axis = -1)', [0, 0, 0, 3], [-1, -1, -1, 2]],
    ['slice(0, 5, axis = 3)', [0, 0, 0, 0], [-1, -1, -1, 5]],
  ])('%s on [4, 3, 5] is tf.slice(x, %j, %j)', (call, begin, size) => {
    check([4, 3, 5], call, (x) => tf.slice(x, begin, size));
  });
});

describe('permute', () => {
  it('[2, 1] swaps the axes of [T, d] (Keras Permute((2, 1)))', () => {
    check([4, 3], 'permute([2, 1])', (x) => tf.layers.permute({ dims: [2, 1] }).apply(x) as tf.Tensor, [3, 4]);
  });

  it.each([
    [[1, 2, 3, 4]],
    [[3, 1, 4, 2]],
    [[4, 3, 2, 1]],
    [[2, 4, 1, 3]],
  ])('%j on a [2, 3, 4, 5] example, as tf.layers.permute and tf.transpose', (dims) => {
    check([2, 3, 4, 5], `permute([${dims.join(', ')}])`, (x) => tf.transpose(x, [0, ...dims]));
    const x = toTf(randTensor([2, 2, 3, 4, 5], createRng(5)));
    expectClose(fromTf(tf.layers.permute({ dims }).apply(x) as tf.Tensor), tf.transpose(x, [0, ...dims]), 0);
  });
});

describe('mean and sum', () => {
  it.each([
    ['mean', 'mean', -1, false],
    ['mean(1)', 'mean', 1, false],
    ['mean(axis = 2, keepdims = true)', 'mean', 2, true],
    ['sum', 'sum', -1, false],
    ['sum(-3, keepdims = true)', 'sum', 1, true],
    ['sum(2)', 'sum', 2, false],
  ] as const)('%s on [4, 3, 2] is tf.%s over axis %i', (call, kind, axis, keepdims) => {
    check([4, 3, 2], call, (x) => tf[kind](x, axis, keepdims));
  });

  it('over the only axis of a [n] example: one number per example', () => {
    check([6], 'mean', (x) => tf.mean(x, 1), []);
    check([6], 'sum(keepdims = true)', (x) => tf.sum(x, 1, true), [1]);
  });
});

describe('errors', () => {
  const model = (shape: string, call: string) => `model M {\n  input x: ${shape}\n  output y = x -> ${call}\n}\n`;

  it('an index or slice past the axis, or an empty slice, is a located error with a hint', () => {
    expect(errorsOf(model('[4, 3]', 'take(-5)'))[0]).toMatchObject({
      at: '3:19',
      message: 'take: index -5 is out of range for axis 1 of size 4 in the input [4, 3]',
      hint: 'use an index from 0 to 3, or from -1 back to -4 counting from the end',
    });
    expect(errorsOf(model('[4, 3]', 'slice(1, 4, axis = 2)'))[0]).toMatchObject({
      at: '3:19',
      message: 'slice: slice 1:4 is out of range for axis 2 of size 3 in the input [4, 3]',
      hint: 'give 0 <= start < end <= 3; negatives count from the end, and a left-out end is the end of the axis',
    });
    expect(errorsOf(model('[4, 3]', 'slice(-1, -1)'))[0].message).toBe('slice: slice -1:-1 is empty for axis 1 of size 4 in the input [4, 3]');
    expect(errorsOf(model('[4, 3]', 'slice(-5)'))[0].message).toBe('slice: slice -5: is out of range for axis 1 of size 4 in the input [4, 3]');
  });

  it('the batch axis, or one past the rank, is a located error with a hint', () => {
    expect(errorsOf(model('[4, 3]', 'take(0, axis = 0)'))[0]).toMatchObject({
      at: '3:19',
      message: 'take: axis 0 is the batch dimension for input [4, 3]',
      hint: 'take works within each example: use an axis from 1 to 2, or -1 for the last',
    });
    expect(errorsOf(model('[4, 3]', 'sum(3)'))[0]).toMatchObject({
      message: 'sum: axis 3 is out of range for input [4, 3]',
      hint: 'use an axis from 1 to 2, or -1 for the last',
    });
    expect(errorsOf(model('[4, 3]', 'mean(-3)'))[0].message).toBe('mean: axis -3 is the batch dimension for input [4, 3]');
    expect(errorsOf(model('[4, 3]', 'slice(0, 1, axis = -4)'))[0].message).toBe('slice: axis -4 is out of range for input [4, 3]');
  });

  it('permute dims that are not a permutation of the axes are a located error with a hint', () => {
    expect(errorsOf(model('[4, 3, 2]', 'permute([2, 1])'))[0]).toMatchObject({
      at: '3:19',
      message: "permute: dims [2, 1] is not a permutation of the input's 3 axes [4, 3, 2]",
      hint: 'list each of 1 to 3 once, the batch excluded, e.g. [3, 2, 1]',
    });
    expect(errorsOf(model('[4, 3]', 'permute([1, 3])'))[0].message).toMatch(/not a permutation/);
    expect(errorsOf(model('[4, 3]', 'permute([0, 1])'))[0].message).toMatch(/permute.*'dims'.*positive whole number/);
  });

  it("Keras's Permute and a Transpose are answered with permute", () => {
    expect(errorsOf(model('[4, 3]', 'Permute([2, 1])'))[0].hint).toMatch(/permute/);
    expect(errorsOf(model('[4, 3]', 'transpose([2, 1])'))[0].hint).toMatch(/permute/);
  });
});
