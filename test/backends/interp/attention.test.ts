/**
 * multiHeadAttention against a reference built from TensorFlow.js ops the way
 * Keras's MultiHeadAttention computes it: project, split heads as
 * [B, L, H, K] -> [B, H, L, K], scale the query by 1/sqrt(K), add -1e9 where
 * the causal mask hides s > t, softmax over S, weight the values, merge heads
 * and project out.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import type { AttentionWeights } from '../../../src/backends/interp/kernels/index.js';
import { multiHeadAttention } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';
import type { AttentionAttrs } from '../../../src/ops/attention.js';

beforeAll(useTfCpu);
const rng = createRng(23);

/** The op's geometry (T, S, dq, dv, dk, H, K, V, O, causal), a batch and whether query, value and key are one tensor. */
interface Case extends Omit<AttentionAttrs, 'maskArg'> {
  B: number;
  self: boolean;
  /** The weights' range, [-scale, scale]: about 1/sqrt(fan-in) for the wider layers, as an initializer would, so that scores stay in softmax's well-conditioned range. */
  scale?: number;
}

function reference(query: Tensor, value: Tensor, key: Tensor, w: AttentionWeights, c: Case): tf.Tensor {
  const proj = (x: Tensor, k: Tensor, b: Tensor | null, L: number, width: number) => {
    const y = tf.add(tf.matMul(toTf(x).reshape([c.B * L, -1]), toTf(k)), b ? toTf(b) : 0);
    return y.reshape([c.B, L, c.H, width]).transpose([0, 2, 1, 3]); // [B, H, L, width]
  };
  const q = proj(query, w.queryKernel, w.queryBias, c.T, c.K).mul(1 / Math.sqrt(c.K));
  const k = proj(key, w.keyKernel, w.keyBias, c.S, c.K);
  const v = proj(value, w.valueKernel, w.valueBias, c.S, c.V);
  let scores = tf.matMul(q, k, false, true); // [B, H, T, S]
  if (c.causal) {
    const visible = tf.linalg.bandPart(tf.ones([c.T, c.S]), -1, 0); // 1 where s <= t
    scores = tf.add(scores, tf.mul(tf.sub(1, visible), -1e9));
  }
  const ctx = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([c.B * c.T, c.H * c.V]);
  return tf.add(tf.matMul(ctx, toTf(w.outputKernel)), w.outputBias ? toTf(w.outputBias) : 0).reshape([c.B, c.T, c.O]);
}

const cases: Case[] = [
  { B: 2, T: 5, S: 5, dq: 8, dv: 8, dk: 8, H: 2, K: 4, V: 4, O: 8, causal: false, self: true },
  { B: 2, T: 5, S: 5, dq: 8, dv: 8, dk: 8, H: 2, K: 4, V: 4, O: 8, causal: true, self: true },
  { B: 1, T: 7, S: 7, dq: 6, dv: 6, dk: 6, H: 3, K: 5, V: 2, O: 4, causal: true, self: true },
  { B: 3, T: 4, S: 6, dq: 5, dv: 7, dk: 3, H: 2, K: 3, V: 5, O: 6, causal: false, self: false },
  { B: 2, T: 6, S: 4, dq: 5, dv: 7, dk: 7, H: 4, K: 2, V: 3, O: 5, causal: true, self: false },
  { B: 2, T: 9, S: 9, dq: 16, dv: 16, dk: 16, H: 1, K: 16, V: 16, O: 16, causal: false, self: true },
  // Past one panel of 8 columns and one strip of 4 rows, ragged at both ends, and a benchmark-sized block.
  { B: 2, T: 40, S: 33, dq: 24, dv: 20, dk: 12, H: 3, K: 12, V: 9, O: 10, causal: true, self: false, scale: 0.25 },
  { B: 3, T: 128, S: 128, dq: 64, dv: 64, dk: 64, H: 2, K: 32, V: 32, O: 64, causal: false, self: true, scale: 0.125 },
];

describe('multiHeadAttention', () => {
  it.each(cases)('B=$B T=$T S=$S H=$H K=$K V=$V causal=$causal self=$self', (c) => {
    const query = randTensor([c.B, c.T, c.dq], rng, 2);
    const value = c.self ? query : randTensor([c.B, c.S, c.dv], rng, 2);
    const key = c.self ? query : randTensor([c.B, c.S, c.dk], rng, 2);
    const w: AttentionWeights = {
      queryKernel: randTensor([c.dq, c.H * c.K], rng, c.scale),
      queryBias: randTensor([c.H * c.K], rng, c.scale),
      keyKernel: randTensor([c.dk, c.H * c.K], rng, c.scale),
      keyBias: randTensor([c.H * c.K], rng, c.scale),
      valueKernel: randTensor([c.dv, c.H * c.V], rng, c.scale),
      valueBias: randTensor([c.H * c.V], rng, c.scale),
      outputKernel: randTensor([c.H * c.V, c.O], rng, c.scale),
      outputBias: c.self ? randTensor([c.O], rng, c.scale) : null,
    };
    const opts = { heads: c.H, keyDim: c.K, valueDim: c.V, causal: c.causal };
    expectClose(multiHeadAttention(query, value, key, w, opts), reference(query, value, key, w, c));
  });
});
