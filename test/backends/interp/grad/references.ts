/**
 * Independent references for ops, written with TensorFlow.js ops so that
 * tf.grads differentiates them w.r.t. inputs and weights (weights by their
 * file names, `<layer>.<name>`). Shared by the per-op gradient tests and the
 * op-contract test (test/ops/contracts.test.ts). tfDense, tfConv1d and
 * tfConv2d live in harness.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../../../../src/ops/activations.js';
import { kerasActivation } from '../keras-activations.js';
import { tfDense } from './harness.js';

type Pair = [number, number];

/**
 * tfjs's average-pool gradient divides by the whole window even where its
 * forward (and TensorFlow's, and ours) averages only the real cells of a
 * "same" window. So the reference pads explicitly and divides by the count
 * of real cells, both with valid pools, whose gradients are right.
 */
export function tfAvgPool(x: tf.Tensor4D, size: number | Pair, stride: number | Pair, padding: 'valid' | 'same'): tf.Tensor4D {
  if (padding === 'valid') return tf.avgPool(x, size, stride, 'valid');
  const [sh, sw] = typeof size === 'number' ? [size, size] : size;
  const [th, tw] = typeof stride === 'number' ? [stride, stride] : stride;
  const pads = ([n, k, s]: number[]) => {
    const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number];
  };
  const p: [number, number][] = [[0, 0], pads([x.shape[1], sh, th]), pads([x.shape[2], sw, tw]), [0, 0]];
  const sums = tf.avgPool(tf.pad(x, p), [sh, sw], [th, tw], 'valid');
  const counts = tf.avgPool(tf.pad(tf.onesLike(x), p), [sh, sw], [th, tw], 'valid');
  return tf.div(sums, counts);
}

export interface RecurrentSpec {
  sequences: boolean;
  reverse?: boolean;
  act?: Activation;
  /** gru: Keras's reset_after (default true). */
  resetAfter?: boolean;
  /** The states to start from: h, and the lstm's c (default zeros). */
  initial?: tf.Tensor[];
}

/**
 * The recurrence as tf ops, one step at a time. gru is Keras's GRUCell,
 * written out from Keras's source since tf.layers.gru refuses resetAfter:
 * with reset_after its bias is [2, 3u] (input bias, recurrent bias) and
 * h~ = tanh(x W_h + b_h + r (h U_h + b'_h)); without, one bias [3u] and
 * h~ = tanh(x W_h + b_h + (r h) U_h).
 */
export function tfRecurrent(cell: 'rnn' | 'lstm' | 'gru', x: tf.Tensor, w: Record<string, tf.Tensor>, prefix: string, spec: RecurrentSpec): tf.Tensor {
  return tfRecurrentState(cell, x, w, prefix, spec).output;
}

/** tfRecurrent with the final states too (Keras's return_state): h, and the lstm's c. */
export function tfRecurrentState(cell: 'rnn' | 'lstm' | 'gru', x: tf.Tensor, w: Record<string, tf.Tensor>, prefix: string, spec: RecurrentSpec): { output: tf.Tensor; states: tf.Tensor[] } {
  const [B, T, I] = x.shape;
  const [W, U, b] = ['kernel', 'recurrent_kernel', 'bias'].map((n) => w[`${prefix}${n}`]);
  const u = U.shape[0];
  let h: tf.Tensor = spec.initial?.[0] ?? tf.zeros([B, u]);
  let c: tf.Tensor = spec.initial?.[1] ?? tf.zeros([B, u]);
  const states: tf.Tensor[] = new Array(T);
  for (let step = 0; step < T; step++) {
    const t = spec.reverse ? T - 1 - step : step;
    const xt = x.slice([0, t, 0], [B, 1, I]).reshape([B, I]);
    if (cell === 'gru') {
      const resetAfter = spec.resetAfter ?? true;
      const [bx, bh] = resetAfter ? tf.unstack(b) : [b, tf.zeros([3 * u])];
      const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, W as tf.Tensor2D), bx), 3, 1);
      const [hz, hr, hh] = tf.split(tf.add(tf.matMul(h as tf.Tensor2D, U as tf.Tensor2D), bh), 3, 1);
      const zg = tf.sigmoid(tf.add(xz, hz));
      const rg = tf.sigmoid(tf.add(xr, hr));
      const recurrentH = resetAfter ? tf.mul(rg, hh) : tf.matMul(tf.mul(rg, h), U.slice([0, 2 * u], [u, u]));
      h = tf.add(tf.mul(zg, h), tf.mul(tf.sub(1, zg), tf.tanh(tf.add(xh, recurrentH))));
      states[t] = h;
      continue;
    }
    const z = tf.add(tf.add(tf.matMul(xt, W as tf.Tensor2D), tf.matMul(h as tf.Tensor2D, U as tf.Tensor2D)), b);
    if (cell === 'rnn') {
      h = kerasActivation(spec.act ?? 'tanh')(z);
    } else {
      const [zi, zf, zc, zo] = tf.split(z, 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
      h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
    }
    states[t] = h;
  }
  return { output: spec.sequences ? tf.stack(states, 1) : h, states: cell === 'lstm' ? [h, c] : [h] };
}

export interface AttentionDims {
  heads: number;
  keyDim: number;
  valueDim?: number;
  causal?: boolean;
}

/** Multi-head attention, per head softmax(Q_h K_h^T / sqrt(k)) V_h on column slices, with the causal mask and the four projections (weights `attention.*`). */
export function tfAttention(query: tf.Tensor, value: tf.Tensor, key: tf.Tensor, w: Record<string, tf.Tensor>, d: AttentionDims): tf.Tensor {
  const [B, T] = query.shape as number[];
  const S = value.shape[1] as number;
  const { heads: H, keyDim: K, valueDim: V = d.keyDim } = d;
  const proj = (x: tf.Tensor, role: string) => tfDense(x, w[`attention.${role}.kernel`], w[`attention.${role}.bias`]);
  const [Q, Kp, Vp] = [proj(query, 'query'), proj(key, 'key'), proj(value, 'value')];
  // Entries with s > t get -1e9 before the softmax: exp underflows to exactly 0.
  const mask = tf.tensor2d(Array.from({ length: T * S }, (_, i) => (Math.floor(i / S) < i % S ? -1e9 : 0)), [T, S]);
  const heads = Array.from({ length: H }, (_, h) => {
    const slice = (t: tf.Tensor, L: number, n: number) => t.slice([0, 0, h * n], [B, L, n]);
    let scores = tf.div(tf.matMul(slice(Q, T, K), slice(Kp, S, K), false, true), Math.sqrt(K));
    if (d.causal) scores = tf.add(scores, mask);
    return tf.matMul(tf.softmax(scores), slice(Vp, S, V));
  });
  return proj(tf.concat(heads, -1), 'output');
}
