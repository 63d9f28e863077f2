/**
 * Multi-head attention's backward (grad/attention.ts), through harness.ts:
 * against tf.grads of the textbook computation in tf ops (per head
 * softmax(Q_h K_h^T / sqrt(k)) V_h on column slices, causal mask, the four
 * projections) for every input and all 8 parameters, and against central
 * differences. Self-attention reads one value three times; cross-attention
 * has distinct query, value and key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionForward } from '../../../../src/backends/interp/grad/attention.js';
import { multiHeadAttention } from '../../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../../src/runtime/random.js';
import { randTensor, useTfCpu } from '../helpers.js';
import { checkGradients, tfDense } from './harness.js';
import { tfAttention } from './references.js';

beforeAll(useTfCpu);

describe('the training forward keeps the inference kernel numbers', () => {
  it.each([false, true])('causal=%s', (causal) => {
    const rng = createRng(3);
    const [q, v, k] = [randTensor([2, 5, 4], rng), randTensor([2, 5, 3], rng), randTensor([2, 5, 2], rng)];
    const w = {
      queryKernel: randTensor([4, 6], rng), queryBias: randTensor([6], rng),
      keyKernel: randTensor([2, 6], rng), keyBias: randTensor([6], rng),
      valueKernel: randTensor([3, 4], rng), valueBias: randTensor([4], rng),
      outputKernel: randTensor([4, 3], rng), outputBias: randTensor([3], rng),
    };
    const opts = { heads: 2, keyDim: 3, valueDim: 2, causal };
    const ours = attentionForward(q, v, k, w, opts).output;
    expect(Array.from(ours.data)).toEqual(Array.from(multiHeadAttention(q, v, k, w, opts).data));
  });
});

describe('attention', () => {
  it.each([
    { attrs: 'heads = 2, key_dim = 3', d: { heads: 2, keyDim: 3 } },
    { attrs: 'heads = 2, key_dim = 2, causal = true', d: { heads: 2, keyDim: 2, causal: true } },
    { attrs: 'heads = 3, key_dim = 2, value_dim = 3, output_dim = 4', d: { heads: 3, keyDim: 2, valueDim: 3 } },
    { attrs: 'heads = 1, key_dim = 4, causal = true', d: { heads: 1, keyDim: 4, causal: true } },
  ])('self-attention: $attrs', ({ attrs, d }) => {
    checkGradients({
      body: `input x: [4, 5]\noutput y = x -> attention(${attrs})`,
      reference: (i, w) => tfAttention(i.x, i.x, i.x, w, d),
    });
  });

  it('cross-attention with distinct query, value and key', () => {
    const { grads } = checkGradients({
      body: 'input q: [4, 5]\ninput v: [6, 3]\ninput k: [6, 2]\noutput y = attention(q, v, k, heads = 2, key_dim = 3, value_dim = 2)',
      reference: (i, w) => tfAttention(i.q, i.v, i.k, w, { heads: 2, keyDim: 3, valueDim: 2 }),
    });
    expect([...grads.keys()].sort()).toEqual(
      ['key.bias', 'key.kernel', 'output.bias', 'output.kernel', 'query.bias', 'query.kernel', 'value.bias', 'value.kernel'].map((n) => `attention.${n}`),
    );
  });

  it('query and value given, key = value', () => {
    checkGradients({
      body: 'input q: [3, 4]\ninput v: [5, 2]\noutput y = attention(q, v, heads = 2, key_dim = 2)',
      reference: (i, w) => tfAttention(i.q, i.v, i.v, w, { heads: 2, keyDim: 2 }),
    });
  });

  it('causal cross-attention, and the query also feeding the value through a layer', () => {
    checkGradients({
      body: 'input q: [4, 3]\nv = q -> dense(3)\noutput y = attention(q, v, heads = 2, key_dim = 2, causal = true)',
      reference: (i, w) => {
        const v = tfDense(i.q, w['dense.kernel'], w['dense.bias']);
        return tfAttention(i.q, v, v, w, { heads: 2, keyDim: 2, causal: true });
      },
    });
  });
});
