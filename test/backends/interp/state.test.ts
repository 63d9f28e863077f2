/**
 * Recurrent state: return_state and initial_state on rnn, lstm, gru and
 * bidirectional, through destructuring (`y, h, c = x -> lstm(...)`).
 *
 * Each case's model starts the layer from initial states that are model
 * inputs and concatenates its output and final states into one output, so
 * that one check covers every result and the input gradients are the
 * initial states' gradients. Checked, for each case:
 *   forward    against tf.layers with the same weights, its apply() given
 *              initialState and the layer built with returnState, 1e-5
 *              (gru with reset_after, which tf.layers lacks: against Keras's
 *              cell written out in tf ops, references.ts)
 *   gradients  the weights', the input's and the initial states' against
 *              tf.grads of the written-out reference, and central differences
 *   tfjs       the emitted module against the interpreter, 1e-5
 * Then Keras's char-level seq2seq: the decoder's loss trains the encoder
 * through initial_state (gradients against tf.grads; a few steps of
 * training lower the loss).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { createRng } from '../../../src/runtime/random.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../tfjs/generated.js';
import { checkGradients, modelOf, weightsFor } from './grad/harness.js';
import { tfRecurrentState } from './grad/references.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';

type Tensors = Record<string, tf.Tensor>;

interface StateCase {
  name: string;
  body: string;
  /** The model's output in tf ops: the layer's output (flattened) and its final states, concatenated. */
  reference: (i: Tensors, w: Tensors) => tf.Tensor;
  /** The same from tf.layers: [output, ...states] of a layer built with returnState, applied with initialState. */
  layer?: (i: Tensors, w: Tensors) => tf.Tensor[];
}

const joined = (parts: tf.Tensor[]) => tf.concat(parts.map((p) => p.reshape([p.shape[0], -1])), 1);
const weightsOf = (w: Tensors, prefix: string) => ['kernel', 'recurrent_kernel', 'bias'].map((n) => w[`${prefix}${n}`]);

/** Builds `layer`, loads `weights`, and applies it to x from `initialState`: its output and final states. */
function applyWithState(layer: tf.layers.Layer, x: tf.Tensor, initialState: tf.Tensor[], weights: tf.Tensor[]): tf.Tensor[] {
  layer.apply(x, { initialState });
  layer.setWeights(weights);
  return layer.apply(x, { initialState }) as tf.Tensor[];
}

const CASES: StateCase[] = [
  {
    name: 'lstm, sequences',
    body: `input x: [5, 3]
input h0: [4]
input c0: [4]
y, h, c = x -> lstm(4, sequences = true, return_state = true, initial_state = [h0, c0])
output z = concat(y -> flatten, h, c)`,
    reference: (i, w) => {
      const r = tfRecurrentState('lstm', i.x, w, 'lstm.', { sequences: true, initial: [i.h0, i.c0] });
      return joined([r.output, ...r.states]);
    },
    layer: (i, w) =>
      applyWithState(tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true, returnState: true }), i.x, [i.h0, i.c0], weightsOf(w, 'lstm.')),
  },
  {
    name: 'lstm, last state',
    body: `input x: [6, 2]
input h0: [3]
input c0: [3]
y, h, c = x -> lstm(3, return_state = true, initial_state = [h0, c0])
output z = concat(y, h, c)`,
    reference: (i, w) => {
      const r = tfRecurrentState('lstm', i.x, w, 'lstm.', { sequences: false, initial: [i.h0, i.c0] });
      return joined([r.output, ...r.states]);
    },
    layer: (i, w) => applyWithState(tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', returnState: true }), i.x, [i.h0, i.c0], weightsOf(w, 'lstm.')),
  },
  {
    name: 'rnn, sequences',
    body: `input x: [4, 3]
input h0: [5]
y, h = x -> rnn(5, sequences = true, return_state = true, initial_state = [h0])
output z = concat(y -> flatten, h)`,
    reference: (i, w) => {
      const r = tfRecurrentState('rnn', i.x, w, 'rnn.', { sequences: true, initial: [i.h0] });
      return joined([r.output, ...r.states]);
    },
    layer: (i, w) => applyWithState(tf.layers.simpleRNN({ units: 5, returnSequences: true, returnState: true }), i.x, [i.h0], weightsOf(w, 'rnn.')),
  },
  {
    name: 'gru, reset_after = false',
    body: `input x: [5, 3]
input h0: [4]
y, h = x -> gru(4, sequences = true, reset_after = false, return_state = true, initial_state = [h0])
output z = concat(y -> flatten, h)`,
    reference: (i, w) => {
      const r = tfRecurrentState('gru', i.x, w, 'gru.', { sequences: true, resetAfter: false, initial: [i.h0] });
      return joined([r.output, ...r.states]);
    },
    layer: (i, w) =>
      applyWithState(tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid', returnSequences: true, returnState: true }), i.x, [i.h0], weightsOf(w, 'gru.')),
  },
  {
    // tf.layers.gru refuses reset_after = true (Keras's default): Keras's cell written out only.
    name: 'gru, reset_after (Keras default)',
    body: `input x: [5, 3]
input h0: [4]
y, h = x -> gru(4, return_state = true, initial_state = [h0])
output z = concat(y, h)`,
    reference: (i, w) => {
      const r = tfRecurrentState('gru', i.x, w, 'gru.', { sequences: false, initial: [i.h0] });
      return joined([r.output, ...r.states]);
    },
  },
  {
    name: 'bidirectional lstm',
    body: `input x: [5, 3]
input hf: [3]
input cf: [3]
input hb: [3]
input cb: [3]
y, h_f, c_f, h_b, c_b = x -> bidirectional(lstm(3, sequences = true, return_state = true), initial_state = [hf, cf, hb, cb])
output z = concat(y -> flatten, h_f, c_f, h_b, c_b)`,
    reference: (i, w) => {
      const f = tfRecurrentState('lstm', i.x, w, 'bidirectional.forward.', { sequences: true, initial: [i.hf, i.cf] });
      const b = tfRecurrentState('lstm', i.x, w, 'bidirectional.backward.', { sequences: true, reverse: true, initial: [i.hb, i.cb] });
      return joined([tf.concat([f.output, b.output], -1), ...f.states, ...b.states]);
    },
    layer: (i, w) =>
      applyWithState(
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', returnSequences: true, returnState: true }) as tf.RNN, mergeMode: 'concat' }),
        i.x,
        [i.hf, i.cf, i.hb, i.cb],
        [...weightsOf(w, 'bidirectional.forward.'), ...weightsOf(w, 'bidirectional.backward.')],
      ),
  },
  {
    name: 'bidirectional gru, last states',
    body: `input x: [4, 2]
input hf: [3]
input hb: [3]
y, h_f, h_b = x -> bidirectional(gru(3, reset_after = false, return_state = true), initial_state = [hf, hb])
output z = concat(y, h_f, h_b)`,
    reference: (i, w) => {
      const f = tfRecurrentState('gru', i.x, w, 'bidirectional.forward.', { sequences: false, resetAfter: false, initial: [i.hf] });
      const b = tfRecurrentState('gru', i.x, w, 'bidirectional.backward.', { sequences: false, reverse: true, resetAfter: false, initial: [i.hb] });
      return joined([tf.concat([f.output, b.output], -1), ...f.states, ...b.states]);
    },
    layer: (i, w) =>
      applyWithState(
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid', returnState: true }) as tf.RNN, mergeMode: 'concat' }),
        i.x,
        [i.hf, i.hb],
        [...weightsOf(w, 'bidirectional.forward.'), ...weightsOf(w, 'bidirectional.backward.')],
      ),
  },
];

const SEED = 5;
const BATCH = 3;

function prepare(body: string) {
  const graph = modelOf(body);
  const weights = weightsFor(graph, SEED);
  const rng = createRng(SEED + 1);
  const inputs = Object.fromEntries(graph.inputs.map((n) => [n.name, randTensor([BATCH, ...(n.type.shape.slice(1) as number[])], rng)]));
  const tfOf = (ts: Iterable<[string, Tensor]>) => Object.fromEntries([...ts].map(([k, t]) => [k, toTf(t)]));
  return { graph, weights, inputs, tfInputs: () => tfOf(Object.entries(inputs)), tfWeights: () => tfOf(weights) };
}

let dir: string;
let modules: string[];
beforeAll(async () => {
  await useTfCpu();
  dir = generatedDir();
  modules = await emitModules(dir, CASES.map((c) => ({ graph: modelOf(c.body), sourcePath: `state/${c.name}.dl` })));
});
afterAll(() => removeGenerated(dir));

describe.each(CASES.map((c, k) => ({ ...c, k })))('$name', (c) => {
  it('forward: the output and final states against ' + (c.layer ? 'tf.layers and ' : '') + 'the written-out recurrence', () => {
    const p = prepare(c.body);
    const ours = new Interpreter(p.graph, p.weights).run(p.inputs).outputs.z;
    const [i, w] = [p.tfInputs(), p.tfWeights()];
    expectClose(ours, tf.tidy(() => c.reference(i, w)));
    if (c.layer) expectClose(ours, tf.tidy(() => joined(c.layer!(i, w))));
    tf.dispose([i, w]);
  });

  it('gradients: weights, input and initial states against tf.grads and central differences', () => {
    const { inputGrads } = checkGradients({ body: c.body, batch: BATCH, reference: c.reference, seed: SEED });
    // The initial states take a gradient of their own (not zeros).
    for (const [name, g] of Object.entries(inputGrads)) expect(g.data.some((v) => v !== 0), name).toBe(true);
  });

  it('tfjs: the emitted module predicts what the interpreter computes', async () => {
    const p = prepare(c.body);
    const mod = await loadModule(modules[c.k]);
    const [i, w] = [p.tfInputs(), p.tfWeights()];
    const outputs = mod.predict(w, i);
    expectClose(fromTf(outputs.z), new Interpreter(p.graph, p.weights).run(p.inputs).outputs.z);
    tf.dispose([i, w, outputs]);
  });
});

/** Keras's lstm_seq2seq at a small size: the encoder's states start the decoder. */
const SEQ2SEQ = `input encoder_inputs: [6, 5]
input decoder_inputs: [4, 7]
_, h, c = encoder_inputs -> lstm(8, return_state = true) as encoder
decoded, _, _ = lstm(decoder_inputs, 8, sequences = true, return_state = true, initial_state = [h, c]) as decoder
output decoder_outputs = decoded -> dense(7, activation = softmax)`;

function seq2seqReference(i: Tensors, w: Tensors): tf.Tensor {
  const encoder = tfRecurrentState('lstm', i.encoder_inputs, w, 'encoder.', { sequences: false });
  const decoder = tfRecurrentState('lstm', i.decoder_inputs, w, 'decoder.', { sequences: true, initial: encoder.states });
  const [B, T, u] = decoder.output.shape;
  const logits = tf.add(tf.matMul(decoder.output.reshape([B * T, u]), w['dense.kernel']), w['dense.bias']);
  return tf.softmax(logits).reshape([B, T, -1]);
}

describe('seq2seq (Keras lstm_seq2seq)', () => {
  it("the decoder's gradients reach the encoder through initial_state, as tf.grads computes them", () => {
    const { grads } = checkGradients({ body: SEQ2SEQ, batch: BATCH, reference: seq2seqReference, seed: SEED });
    for (const name of ['encoder.kernel', 'encoder.recurrent_kernel', 'encoder.bias']) expect(grads.get(name)!.data.some((v) => v !== 0), name).toBe(true);
  });

  it('training on a copy task lowers the loss, the encoder trained by the decoder', () => {
    // Targets: the decoder must emit a one-hot of the encoder's first input feature's sign pattern; only the encoder sees it.
    const p = prepare(SEQ2SEQ);
    const rng = createRng(11);
    const B = 8;
    const enc = randTensor([B, 6, 5], rng);
    const dec = randTensor([B, 4, 7], rng, 0.1);
    const targets = new Float32Array(B * 4 * 7);
    for (let b = 0; b < B; b++) for (let t = 0; t < 4; t++) targets[(b * 4 + t) * 7 + (enc.data[(b * 6 + t) * 5] > 0 ? t : 6 - t)] = 1;
    const y: Tensor = { shape: [B, 4, 7], data: targets };
    const step = () => lossAndGradients(p.graph, p.weights, { encoder_inputs: enc, decoder_inputs: dec }, y, 'categorical_crossentropy');
    const first = step();
    const encoderBefore = Float32Array.from(p.weights.get('encoder.kernel')!.data);
    let last = first;
    for (let k = 0; k < 60; k++) {
      for (const [name, g] of last.grads) {
        const w = p.weights.get(name)!;
        for (let j = 0; j < w.data.length; j++) w.data[j] -= 0.5 * g.data[j];
      }
      last = step();
    }
    expect(last.loss).toBeLessThan(0.6 * first.loss);
    const moved = p.weights.get('encoder.kernel')!.data.reduce((m, v, j) => Math.max(m, Math.abs(v - encoderBefore[j])), 0);
    expect(moved).toBeGreaterThan(1e-3);
  });
});
