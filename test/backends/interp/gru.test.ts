/**
 * gru (Keras GRU, gates z, r, h) in every place an op lives: the kernel, its
 * training forward and backpropagation through time, bidirectional, the
 * generated TensorFlow.js module, training, the unrolled diagram and errors.
 *
 * References: tf.layers.gru for reset_after = false (tfjs's GRU has only that
 * form; it throws for resetAfter = true); Keras's GRUCell written out in tf ops
 * (references.ts's tfRecurrent) for both forms; a two-step scalar GRU worked by
 * hand from Keras's equations; Keras's parameter formulas. The WebAssembly
 * cell against the TS one.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DIAGRAM_OPTIONS, graphToDot } from '../../../src/backends/dot/index.js';
import { layerInfo } from '../../../src/backends/dot/layer.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { recurrentForward } from '../../../src/backends/interp/grad/recurrent.js';
import { gru } from '../../../src/backends/interp/kernels/index.js';
import { kernelBackend, setKernelBackend } from '../../../src/backends/interp/wasm/index.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { createRng } from '../../../src/runtime/random.js';
import { prepareTraining, train } from '../../../src/train/index.js';
import { compileText, errorsOf } from '../../helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../tfjs/generated.js';
import { checkGradients, weightsFor } from './grad/harness.js';
import { tfRecurrent } from './grad/references.js';
import { RECURRENT_CASES, expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

beforeAll(useTfCpu);
const rng = createRng(31);

const cases = RECURRENT_CASES;

function weights(inDim: number, units: number, resetAfter: boolean) {
  return {
    kernel: randTensor([inDim, 3 * units], rng),
    recurrent: randTensor([units, 3 * units], rng, 0.5),
    bias: randTensor(resetAfter ? [2, 3 * units] : [3 * units], rng),
  };
}

describe('gru kernel, reset_after = false, against tf.layers.gru', () => {
  it.each(cases)('B=$B T=$T in=$inDim units=$units sequences=$sequences reverse=$reverse', (c) => {
    const x = randTensor([c.B, c.T, c.inDim], rng);
    const w = weights(c.inDim, c.units, false);
    // tfjs's GRU defaults to hard_sigmoid for its gates; Keras 2 and dlc use the sigmoid.
    const layer = tf.layers.gru({ units: c.units, recurrentActivation: 'sigmoid', returnSequences: c.sequences, goBackwards: c.reverse });
    layer.apply(toTf(x));
    layer.setWeights([w.kernel, w.recurrent, w.bias].map(toTf));
    const y = layer.apply(toTf(x)) as tf.Tensor;
    // tf.layers returns a backwards run's states in processing order; Keras's Bidirectional (and dlc) in time order.
    const expected = c.sequences && c.reverse ? tf.reverse(y, 1) : y;
    expectClose(gru(x, w.kernel, w.recurrent, w.bias, { ...c, resetAfter: false }), expected);
  });
});

describe("gru kernel, reset_after (Keras's default), against Keras's cell in tf ops", () => {
  it.each(cases)('B=$B T=$T in=$inDim units=$units sequences=$sequences reverse=$reverse', (c) => {
    const x = randTensor([c.B, c.T, c.inDim], rng);
    const w = weights(c.inDim, c.units, true);
    const expected = tfRecurrent('gru', toTf(x), { kernel: toTf(w.kernel), recurrent_kernel: toTf(w.recurrent), bias: toTf(w.bias) }, '', c);
    expectClose(gru(x, w.kernel, w.recurrent, w.bias, c), expected);
  });

  it('a two-step scalar GRU worked by hand from Keras\'s equations', () => {
    // W = [0.3, -0.6, 0.9], U = [0.7, -0.4, 1.1], input bias [0.1, 0.2, -0.3], recurrent bias [-0.2, 0.05, 0.4], x = 0.5, -1.
    const t = (shape: number[], values: number[]): Tensor => ({ shape, data: Float32Array.from(values) });
    const x = t([1, 2, 1], [0.5, -1]);
    const [W, U] = [t([1, 3], [0.3, -0.6, 0.9]), t([1, 3], [0.7, -0.4, 1.1])];
    const after = gru(x, W, U, t([2, 3], [0.1, 0.2, -0.3, -0.2, 0.05, 0.4]), { sequences: true });
    expectClose(after, { shape: [1, 2, 1], data: Float32Array.from([0.16181906952904962, -0.31086777137678717]) });
    const before = gru(x, W, U, t([3], [0.1, 0.2, -0.3]), { sequences: true, resetAfter: false });
    expectClose(before, { shape: [1, 2, 1], data: Float32Array.from([0.0651853663866967, -0.4104571778420016]) });
  });
});

describe("the WebAssembly GRU cell (gemm.wat's gru_cell) against the TS one", () => {
  it.each([
    [3, 5, 7, 8, false],
    [2, 4, 6, 12, true],
    [4, 9, 3, 16, true],
  ])('B %i, T %i, in %i, %i units, sequences %s', (B, T, I, u, sequences) => {
    expect(kernelBackend().kernel).toBe('wasm');
    const x = randTensor([B, T, I], rng);
    const w = weights(I, u, true);
    for (const reverse of [false, true]) {
      setKernelBackend('js');
      const reference = gru(x, w.kernel, w.recurrent, w.bias, { sequences, reverse });
      setKernelBackend('auto');
      expectClose(gru(x, w.kernel, w.recurrent, w.bias, { sequences, reverse }), reference, 2e-6);
    }
  });
});

describe('the training forward keeps the kernel\'s numbers', () => {
  it.each([
    { sequences: true, reverse: false, resetAfter: true },
    { sequences: false, reverse: true, resetAfter: true },
    { sequences: true, reverse: true, resetAfter: false },
    { sequences: false, reverse: false, resetAfter: false },
  ])('sequences=$sequences reverse=$reverse resetAfter=$resetAfter', (c) => {
    const x = randTensor([3, 6, 4], rng);
    const w = weights(4, 5, c.resetAfter);
    const ours = recurrentForward(x, w.kernel, w.recurrent, w.bias, { cell: 'gru', ...c }).output;
    const kernel = gru(x, w.kernel, w.recurrent, w.bias, c);
    expect(ours.shape).toEqual(kernel.shape);
    expect(Array.from(ours.data)).toEqual(Array.from(kernel.data));
  });
});

describe('gru gradients: tf.grads of the written-out cell and central differences', () => {
  describe.each([true, false])('reset_after = %s', (resetAfter) => {
    const attr = resetAfter ? '' : ', reset_after = false';
    it.each([true, false])('sequences = %s', (sequences) => {
      checkGradients({
        body: `input x: [5, 3]\noutput y = x -> gru(4, sequences = ${sequences}${attr})`,
        batch: 3,
        reference: (i, w) => tfRecurrent('gru', i.x, w, 'gru.', { sequences, resetAfter }),
      });
    });

    it('stacked: the input gradient of the second layer flows through the first', () => {
      checkGradients({
        body: `input x: [4, 3]\noutput y = x -> gru(5, sequences = true${attr}) -> gru(3${attr})`,
        reference: (i, w) => tfRecurrent('gru', tfRecurrent('gru', i.x, w, 'gru.', { sequences: true, resetAfter }), w, 'gru_1.', { sequences: false, resetAfter }),
      });
    });

    it('inside bidirectional', () => {
      checkGradients({
        body: `input x: [4, 3]\noutput y = x -> bidirectional(gru(3, sequences = true${attr}))`,
        batch: 2,
        reference: (i, w) =>
          tf.concat([
            tfRecurrent('gru', i.x, w, 'bidirectional.forward.', { sequences: true, resetAfter }),
            tfRecurrent('gru', i.x, w, 'bidirectional.backward.', { sequences: true, reverse: true, resetAfter }),
          ], -1),
      });
    });
  });
});

describe('bidirectional(gru) against tf.layers.bidirectional(tf.layers.gru)', () => {
  it.each([true, false])('sequences = %s (reset_after = false, the form tfjs has)', (sequences) => {
    const graph = compileText(`model M {\n  input x: [6, 3]\n  output y = x -> bidirectional(gru(4, sequences = ${sequences}, reset_after = false))\n}`);
    const w = weightsFor(graph, 5);
    const x = randTensor([2, 6, 3], rng);
    const layer = tf.layers.bidirectional({
      layer: tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid', returnSequences: sequences }) as tf.RNN,
      mergeMode: 'concat',
    });
    layer.apply(toTf(x));
    layer.setWeights(['forward', 'backward'].flatMap((d) => ['kernel', 'recurrent_kernel', 'bias'].map((n) => toTf(w.get(`bidirectional.${d}.${n}`)!))));
    const expected = layer.apply(toTf(x)) as tf.Tensor;
    expectClose(new Interpreter(graph, w).run({ x }).outputs.y, expected);
  });
});

describe("parameters: Keras's counts", () => {
  const params = (layer: string) => layerInfo(compileText(`model M {\n  input x: [10, 128]\n  output y = x -> ${layer}\n}`).nodes.find((n) => n.op === 'gru')!).params;

  it('GRU(64) on 128 features: 3 (u (in + u) + 2u) = 37,248 with reset_after; as tf.layers.gru without', () => {
    expect(params('gru(64)')).toBe(37_248);
    const layer = tf.layers.gru({ units: 64 });
    layer.apply(tf.input({ shape: [10, 128] }));
    expect(layer.countParams()).toBe(37_056); // 3 (u (in + u) + u)
    expect(params('gru(64, reset_after = false)')).toBe(layer.countParams());
    // Why the reset_after form has no tf.layers reference (its GRU's cell takes the argument, and throws):
    const kerasDefault = { units: 64, resetAfter: true };
    expect(() => tf.layers.gru(kerasDefault)).toThrow(/reset_after/);
  });
});

describe('the generated TensorFlow.js module runs gru as the interpreter does', () => {
  let dir: string;
  beforeAll(() => {
    dir = generatedDir();
  });
  afterAll(() => removeGenerated(dir));

  it('gru both ways, reset_after = false, and a stacked gru', async () => {
    const graph = compileText(`model G {\n  input x: [5, 3]\n  output y = x -> bidirectional(gru(4, sequences = true, reset_after = false)) -> gru(3)\n}`);
    const w = weightsFor(graph, 9);
    const x = randTensor([2, 5, 3], rng);
    const [file] = await emitModules(dir, [{ graph, sourcePath: 'gru.dl' }]);
    const mod = await loadModule(file);
    const tw = Object.fromEntries([...w].map(([k, v]) => [k, toTf(v)]));
    const out = mod.predict(tw, { x: toTf(x) });
    expectClose(fromTf(out.y), new Interpreter(graph, w).run({ x }).outputs.y);
  });
});

describe('training', () => {
  it('a GRU (and a bidirectional GRU without reset_after) learn the next value of a sine wave', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-gru-'));
    for (const layer of ['gru(8)', 'bidirectional(gru(6, reset_after = false))']) {
      const file = join(dir, 'wave.dl');
      writeFileSync(file, `model Wave {\n  input w: [10, 1]\n  output next = w -> ${layer} -> dense(1)\n}\ntrain Wave {\n  data = sine(10, n = 400)\n  loss = mse\n  optimizer = adam(lr = 0.01)\n  epochs = 10\n  batch = 16\n}\n`);
      const p = prepareTraining(file);
      const run = train(p.graph, p.config, p.data);
      expect(run.history.at(-1)!.testLoss).toBeLessThan(run.history[0].testLoss! / 4);
    }
  });
});

describe('the unrolled view', () => {
  it("draws one state row and writes the GRU's update and its weights' shapes", () => {
    const graph = compileText(`model Tagger {\n  input x: [12, 3]\n  output p = x -> gru(4, sequences = true) -> dense(2) -> softmax\n}`);
    const text = graphToDot(graph, { ...DEFAULT_DIAGRAM_OPTIONS, unroll: 3, shapes: 'edges' });
    expect(text).toContain('gru gates z, r, h');
    expect(text).toContain('U: 3&#215;12');
    expect(text).toContain('W: 4&#215;12');
    expect(text).not.toContain('c&#8348;');
  });
});

describe('bad input', () => {
  it('gru needs a sequence; bidirectional names gru among what it wraps', () => {
    expect(errorsOf('model M {\n  input x: [10]\n  output y = x -> gru(4)\n}')[0]).toMatchObject({
      at: '3:19',
      message: 'gru: expects a [steps, features] sequence, got [10]',
      hint: 'a recurrent layer reads a sequence: reshape or embed the input first',
    });
    expect(errorsOf('model M {\n  input x: [6, 3]\n  output y = x -> bidirectional(dense(4))\n}')[0].message).toMatch(/wraps rnn, lstm or gru, got 'dense'/);
  });
});
