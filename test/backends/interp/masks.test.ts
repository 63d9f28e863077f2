/**
 * Padding masks in the interpreter, forward and backward (src/ir/mask.ts):
 *
 *   recurrent      embedding(mask_zero) -> rnn / lstm / gru against tf.layers's
 *                  embedding({ maskZero }) feeding simpleRNN / lstm / gru with
 *                  the same weights: outputs, and every weight's gradient by
 *                  tf.variableGrads, 1e-5
 *   bidirectional  Keras's Bidirectional: tf.layers's two halves (the backward
 *                  one goBackwards, flipped), each output zeroed at padding
 *   attention      a written-out masked multi-head attention in tf ops
 *                  (Keras's _compute_attention_mask and where(mask, s, -1e9)),
 *                  gradients by tf.grads and central differences
 *   global_avgpool Keras's sum(x m) / sum(m), as tf ops
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backprop } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { createRng } from '../../../src/runtime/random.js';
import { checkGradients, modelOf, tfDense, weightsFor } from './grad/harness.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

/** Token ids [B, T] with padding (0) after, before and inside the real tokens, and one row of padding only. */
const IDS = [
  [3, 5, 2, 0, 0, 0],
  [0, 0, 4, 1, 6, 2],
  [7, 0, 2, 9, 0, 5],
  [0, 0, 0, 0, 0, 0],
];
const ids = (rows = IDS): Tensor => ({ shape: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) });
const tfIds = (rows = IDS) => tf.tensor2d(rows, undefined, 'int32');
/** 1 where a step is real. */
const keep = (rows = IDS) => tf.tensor2d(rows.map((r) => r.map((id) => (id === 0 ? 0 : 1))));

describe('recurrent layers against tf.layers with embedding({ maskZero: true })', () => {
  const cells = [
    { cell: 'rnn', call: 'rnn', gates: 1, layer: (o: object) => tf.layers.simpleRNN({ units: 5, ...o }) },
    { cell: 'lstm', call: 'lstm', gates: 4, layer: (o: object) => tf.layers.lstm({ units: 5, recurrentActivation: 'sigmoid', ...o }) },
    // tf.layers.gru has Keras 1's form only (reset_after = false).
    { cell: 'gru', call: 'gru', gates: 3, layer: (o: object) => tf.layers.gru({ units: 5, recurrentActivation: 'sigmoid', ...o }) },
  ];
  const cases = cells.flatMap((c) => [true, false].map((sequences) => ({ ...c, sequences })));

  it.each(cases)('$cell sequences=$sequences: outputs and gradients', ({ cell, layer, sequences }) => {
    const extra = cell === 'gru' ? ', reset_after = false' : '';
    const graph = modelOf(`input tokens: [6] int\noutput y = tokens -> embedding(10, 4, mask_zero = true) -> ${cell}(5, sequences = ${sequences}${extra})`);
    const weights = weightsFor(graph, 3);
    const r = randTensor(sequences ? [4, 6, 5] : [4, 5], createRng(4));
    const ours = backprop(graph, weights, { tokens: ids() }, { outputGrads: { y: r } });
    expectClose(new Interpreter(graph, weights).run({ tokens: ids() }).outputs.y, ours.outputs.y);

    const embedding = tf.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true });
    const rnn = layer({ returnSequences: sequences });
    const input = tf.input({ shape: [6], dtype: 'int32' });
    const model = tf.model({ inputs: input, outputs: rnn.apply(embedding.apply(input)) as tf.SymbolicTensor });
    embedding.setWeights([toTf(weights.get('embedding.embeddings')!)]);
    rnn.setWeights(['kernel', 'recurrent_kernel', 'bias'].map((n) => toTf(weights.get(`${cell}.${n}`)!)));
    const y = model.predict(tfIds()) as tf.Tensor;
    expectClose(ours.outputs.y, y);
    const vars = [...embedding.trainableWeights, ...rnn.trainableWeights].map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(tfIds()) as tf.Tensor, toTf(r))) as tf.Scalar, vars);
    const names = ['embedding.embeddings', ...['kernel', 'recurrent_kernel', 'bias'].map((n) => `${cell}.${n}`)];
    names.forEach((name, i) => expectClose(ours.grads.get(name)!, grads[vars[i].name]));
  });

  it('a padded step outputs the state carried from the last real step (Keras zero_output_for_mask = false)', () => {
    const graph = modelOf('input tokens: [6] int\noutput y = tokens -> embedding(10, 4, mask_zero = true) -> lstm(3, sequences = true)');
    const y = new Interpreter(graph, weightsFor(graph, 5)).run({ tokens: ids() }).outputs.y;
    const row = (b: number, t: number) => Array.from(y.data.subarray((b * 6 + t) * 3, (b * 6 + t + 1) * 3));
    expect(row(0, 5)).toEqual(row(0, 2)); // trailing padding repeats step 2
    expect(row(1, 0)).toEqual([0, 0, 0]); // leading padding: the zero initial state
    expect(row(2, 1)).toEqual(row(2, 0));
    expect(row(3, 5)).toEqual([0, 0, 0]);
  });
});

describe('bidirectional: both directions skip padding and output zeros there (Keras forces zero_output_for_mask)', () => {
  it.each([true, false])('lstm sequences=%s', (sequences) => {
    const graph = modelOf(`input tokens: [6] int\noutput y = tokens -> embedding(10, 4, mask_zero = true) -> bidirectional(lstm(3, sequences = ${sequences}))`);
    const weights = weightsFor(graph, 6);
    const r = randTensor(sequences ? [4, 6, 6] : [4, 6], createRng(7));
    const ours = backprop(graph, weights, { tokens: ids() }, { outputGrads: { y: r } });
    const embedding = tf.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true });
    const halves = [false, true].map((goBackwards) => tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', returnSequences: sequences, goBackwards }));
    const input = tf.input({ shape: [6], dtype: 'int32' });
    const x = embedding.apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: halves.map((h) => h.apply(x) as tf.SymbolicTensor) });
    embedding.setWeights([toTf(weights.get('embedding.embeddings')!)]);
    halves.forEach((h, i) => h.setWeights(['kernel', 'recurrent_kernel', 'bias'].map((n) => toTf(weights.get(`bidirectional.${['forward', 'backward'][i]}.${n}`)!))));
    const forward = () => {
      const [f, b] = model.apply(tfIds()) as tf.Tensor[];
      if (!sequences) return tf.concat([f, b], -1);
      const m = tf.expandDims(keep(), 2);
      return tf.concat([tf.mul(f, m), tf.mul(tf.reverse(b, 1), m)], -1);
    };
    expectClose(ours.outputs.y, forward());
    const vars = [...embedding.trainableWeights, ...halves.flatMap((h) => h.trainableWeights)].map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), toTf(r))) as tf.Scalar, vars);
    const names = ['embedding.embeddings', ...['forward', 'backward'].flatMap((d) => ['kernel', 'recurrent_kernel', 'bias'].map((n) => `bidirectional.${d}.${n}`))];
    names.forEach((name, i) => expectClose(ours.grads.get(name)!, grads[vars[i].name]));
  });
});

/**
 * Keras's MultiHeadAttention with masks, in tf ops: the attention mask is the
 * AND of the query's mask [B, T, 1], the value's and key's [B, 1, S], the
 * causal [T, S] and an explicit one; hidden scores are replaced by -1e9
 * (Keras's Softmax: where(mask, x, -1e9)).
 */
function tfMaskedAttention(q: tf.Tensor, v: tf.Tensor, w: Record<string, tf.Tensor>, heads: number, keyDim: number, see: tf.Tensor): tf.Tensor {
  const [B, T] = q.shape as number[];
  const S = v.shape[1] as number;
  const proj = (x: tf.Tensor, role: string) => tfDense(x, w[`attention.${role}.kernel`], w[`attention.${role}.bias`]);
  const [Q, Kp, Vp] = [proj(q, 'query'), proj(v, 'key'), proj(v, 'value')];
  const visible = tf.cast(tf.broadcastTo(see, [B, T, S]), 'bool');
  const out = Array.from({ length: heads }, (_, h) => {
    const slice = (t: tf.Tensor, L: number) => t.slice([0, 0, h * keyDim], [B, L, keyDim]);
    const scores = tf.div(tf.matMul(slice(Q, T), slice(Kp, S), false, true), Math.sqrt(keyDim));
    const masked = tf.where(visible, scores, tf.fill([B, T, S], -1e9));
    return tf.matMul(tf.softmax(masked), slice(Vp, S));
  });
  return proj(tf.concat(out, -1), 'output');
}

const flags = (ids: tf.Tensor) => tf.cast(tf.notEqual(ids, 0), 'float32');
const causal = (T: number, S: number) => tf.linalg.bandPart(tf.ones([T, S]), -1, 0);

describe('attention with masks, against the written-out Keras computation', () => {
  const tokens = { t: ids() };
  it('self-attention over a masked embedding: the query and the keys are masked', () => {
    checkGradients({
      body: 'input t: [6] int\noutput y = t -> embedding(10, 4, mask_zero = true) -> attention(heads = 2, key_dim = 3)',
      batch: 4,
      inputs: tokens,
      reference: (i, w) => {
        const x = tf.gather(w['embedding.embeddings'], i.t);
        const m = flags(i.t);
        return tfMaskedAttention(x, x, w, 2, 3, tf.mul(tf.expandDims(m, 2), tf.expandDims(m, 1)));
      },
    });
  });

  it('causal and masked together (a GPT-style decoder on padded text)', () => {
    checkGradients({
      body: 'input t: [6] int\noutput y = t -> embedding(10, 4, mask_zero = true) -> attention(heads = 2, key_dim = 3, causal = true)',
      batch: 4,
      inputs: tokens,
      reference: (i, w) => {
        const x = tf.gather(w['embedding.embeddings'], i.t);
        const m = flags(i.t);
        return tfMaskedAttention(x, x, w, 2, 3, tf.mul(tf.mul(tf.expandDims(m, 2), tf.expandDims(m, 1)), causal(6, 6)));
      },
    });
  });

  it('an explicit key-padding mask [S] of 0/1 ints (BERT style), with causal', () => {
    const padding: Tensor = { shape: [3, 5], data: Float32Array.from([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1]) };
    checkGradients({
      body: 'input x: [5, 4]\ninput padding: [5] int\noutput y = attention(x, mask = padding, heads = 2, key_dim = 3, causal = true)',
      batch: 3,
      inputs: { padding },
      reference: (i, w) => tfMaskedAttention(i.x, i.x, w, 2, 3, tf.mul(tf.expandDims(flags(i.padding), 1), causal(5, 5))),
    });
  });

  it("an explicit [T, S] mask (Keras's attention_mask) in cross-attention, where a query step may see nothing", () => {
    const rows = [1, 0, 1, 1, 0, 0, 0, 0, 2, 1, 0, 1]; // [T = 3, S = 4]; the second query step sees nothing: it spreads evenly
    const pairs: Tensor = { shape: [2, 3, 4], data: Float32Array.from([...rows, ...rows.map((_, k) => (k % 5 === 0 ? 0 : 1))]) };
    checkGradients({
      body: 'input q: [3, 4]\ninput kv: [4, 5]\ninput pairs: [3, 4] int\noutput y = attention(q, kv, mask = pairs, heads = 2, key_dim = 3)',
      inputs: { pairs },
      reference: (i, w) => tfMaskedAttention(i.q, i.kv, w, 2, 3, tf.notEqual(i.pairs, 0)),
    });
  });

  it('cross-attention: the query masked by its tokens, the value by its own', () => {
    const src = ids(IDS.slice(0, 3).map((r) => r.slice(0, 5)));
    const tgt = ids([[4, 1, 0], [0, 2, 2], [5, 0, 7]]);
    checkGradients({
      body: 'input src: [5] int\ninput tgt: [3] int\nmemory = src -> embedding(10, 4, mask_zero = true)\noutput y = tgt -> embedding(10, 4, mask_zero = true) -> attention(memory, heads = 2, key_dim = 3)',
      batch: 3,
      inputs: { src, tgt },
      reference: (i, w) => {
        const e = (t: tf.Tensor, layer: string) => tf.gather(w[`${layer}.embeddings`], t);
        return tfMaskedAttention(e(i.tgt, 'embedding_1'), e(i.src, 'embedding'), w, 2, 3, tf.mul(tf.expandDims(flags(i.tgt), 2), tf.expandDims(flags(i.src), 1)));
      },
    });
  });
});

describe('global_avgpool averages the real steps only', () => {
  it('after a masked dense layer (the mask passes through dense)', () => {
    checkGradients({
      body: 'input t: [6] int\noutput y = t -> embedding(10, 4, mask_zero = true) -> dense(3) -> global_avgpool',
      batch: 3,
      inputs: { t: ids(IDS.slice(0, 3)) },
      reference: (i, w) => {
        const x = tfDense(tf.gather(w['embedding.embeddings'], i.t), w['dense.kernel'], w['dense.bias']);
        const m = flags(i.t);
        return tf.div(tf.sum(tf.mul(x, tf.expandDims(m, 2)), 1), tf.sum(m, 1, true));
      },
    });
  });

  it('a row of padding only is NaN, as Keras (0 / 0)', () => {
    const graph = modelOf('input t: [6] int\noutput y = t -> embedding(10, 4, mask_zero = true) -> global_avgpool');
    const y = new Interpreter(graph, weightsFor(graph, 1)).run({ t: ids() }).outputs.y;
    expect(Array.from(y.data.subarray(12, 16)).every(Number.isNaN)).toBe(true);
    expect(Array.from(y.data.subarray(0, 12)).every(Number.isFinite)).toBe(true);
  });

  it('global_maxpool ignores the mask, as Keras', () => {
    const graph = modelOf('input t: [6] int\noutput y = t -> embedding(10, 4, mask_zero = true) -> global_maxpool');
    const weights = weightsFor(graph, 1);
    const y = new Interpreter(graph, weights).run({ t: ids() }).outputs.y;
    expectClose(y, tf.max(tf.gather(toTf(weights.get('embedding.embeddings')!), tfIds()), 1));
  });
});

describe('symbolic lengths: padding changes nothing', () => {
  it('a [T] model run on a sequence and on the same sequence padded to twice its length gives the same answer', () => {
    const graph = modelOf(`input t: [T] int
input pad: [T] int
x = t -> embedding(10, 4, mask_zero = true)
output y = x -> attention(mask = pad, heads = 2, key_dim = 2) -> add(x) -> lstm(3)
output pooled = x -> bidirectional(gru(2, sequences = true)) -> global_avgpool`);
    const weights = weightsFor(graph, 8);
    const interp = new Interpreter(graph, weights);
    const run = (rows: number[][]) => interp.run({ t: ids(rows), pad: ids(rows.map((r) => r.map((id) => (id === 0 ? 0 : 1)))) }).outputs;
    const short = run([[3, 5, 2], [4, 1, 6]]);
    const padded = run([[3, 5, 2, 0, 0, 0], [4, 1, 6, 0, 0, 0]]);
    expectClose(padded.y, short.y, 1e-6);
    expectClose(padded.pooled, short.pooled, 1e-6);
  });
});
