/**
 * Backpropagation through time for rnn, lstm and bidirectional (grad/recurrent.ts),
 * through harness.ts: against tf.grads of the same recurrence written with tf
 * ops (Keras's gate order i, f, c, o; the backward direction's states stored in
 * input order, as Keras's Bidirectional) and against central differences.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recurrentForward } from '../../../../src/backends/interp/grad/recurrent.js';
import { lstm, simpleRnn } from '../../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../../src/runtime/random.js';
import { randTensor, useTfCpu } from '../helpers.js';
import { checkGradients, tfDense } from './harness.js';
import { tfRecurrent } from './references.js';

beforeAll(useTfCpu);

describe('the training forward keeps the inference kernels numbers', () => {
  it.each([
    { cell: 'rnn' as const, sequences: true, reverse: false },
    { cell: 'rnn' as const, sequences: false, reverse: true },
    { cell: 'lstm' as const, sequences: true, reverse: true },
    { cell: 'lstm' as const, sequences: false, reverse: false },
  ])('$cell sequences=$sequences reverse=$reverse', ({ cell, sequences, reverse }) => {
    const rng = createRng(2);
    const u = 5;
    const g = cell === 'lstm' ? 4 : 1;
    const [x, W, U, b] = [randTensor([3, 6, 4], rng), randTensor([4, g * u], rng), randTensor([u, g * u], rng, 0.5), randTensor([g * u], rng)];
    const ours = recurrentForward(x, W, U, b, { cell, sequences, reverse }).output;
    const kernel = cell === 'lstm' ? lstm(x, W, U, b, { sequences, reverse }) : simpleRnn(x, W, U, b, { sequences, reverse });
    expect(ours.shape).toEqual(kernel.shape);
    expect(Array.from(ours.data)).toEqual(Array.from(kernel.data));
  });
});

describe.each(['rnn', 'lstm'] as const)('%s', (cell) => {
  it.each([true, false])('sequences=%s', (sequences) => {
    checkGradients({
      body: `input x: [5, 3]\noutput y = x -> ${cell}(4, sequences = ${sequences})`,
      batch: 3,
      reference: (i, w) => tfRecurrent(cell, i.x, w, `${cell}.`, { sequences }),
    });
  });

  it('stacked: the input gradient of the second layer flows through the first', () => {
    checkGradients({
      body: `input x: [4, 3]\noutput y = x -> ${cell}(5, sequences = true) -> ${cell}(3)`,
      reference: (i, w) => tfRecurrent(cell, tfRecurrent(cell, i.x, w, `${cell}.`, { sequences: true }), w, `${cell}_1.`, { sequences: false }),
    });
  });

  it('one step', () => {
    checkGradients({ body: `input x: [1, 2]\noutput y = x -> ${cell}(3)`, reference: (i, w) => tfRecurrent(cell, i.x, w, `${cell}.`, { sequences: false }) });
  });
});

describe('rnn activations', () => {
  it.each(['relu', 'sigmoid'] as const)('%s', (act) => {
    checkGradients({
      body: `input x: [5, 3]\noutput y = x -> rnn(4, sequences = true, activation = ${act})`,
      reference: (i, w) => tfRecurrent('rnn', i.x, w, 'rnn.', { sequences: true, act }),
      eps: act === 'relu' ? 1e-4 : undefined,
    });
  });
});

describe('bidirectional', () => {
  const both = (cell: 'rnn' | 'lstm', x: tf.Tensor, w: Record<string, tf.Tensor>, sequences: boolean) =>
    tf.concat([
      tfRecurrent(cell, x, w, 'bidirectional.forward.', { sequences }),
      tfRecurrent(cell, x, w, 'bidirectional.backward.', { sequences, reverse: true }),
    ], -1);
  it.each([
    { cell: 'lstm' as const, sequences: true },
    { cell: 'lstm' as const, sequences: false },
    { cell: 'rnn' as const, sequences: true },
    { cell: 'rnn' as const, sequences: false },
  ])('$cell sequences=$sequences: both directions, forward.* and backward.* weights', ({ cell, sequences }) => {
    const { grads } = checkGradients({
      body: `input x: [5, 3]\noutput y = x -> dense(3) -> bidirectional(${cell}(4, sequences = ${sequences}))`,
      reference: (i, w) => both(cell, tfDense(i.x, w['dense.kernel'], w['dense.bias']), w, sequences),
    });
    expect([...grads.keys()].filter((k) => k.startsWith('bidirectional')).sort()).toEqual(
      ['backward.bias', 'backward.kernel', 'backward.recurrent_kernel', 'forward.bias', 'forward.kernel', 'forward.recurrent_kernel'].map((n) => `bidirectional.${n}`),
    );
  });
});
