/**
 * Every activation of the table (src/ops/activations.ts) against
 * TensorFlow.js's Keras activations (tf.layers.activation, the port of
 * keras.activations): the forward as a layer, its gradient (tf.grads and
 * finite differences, through the harness), and fused into a dense layer
 * where the table lets the optimizer fuse it. The reference is keyed by
 * the activation ops, so a new row in the table needs one line here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import { ACTIVATION_OP_NAMES, ACTIVATIONS } from '../../../src/ops/activations.js';
import { compileText } from '../../helpers.js';
import * as tf from '@tensorflow/tfjs';
import { OPS } from '../../../src/ops/index.js';
import type { Activation } from '../../../src/ops/activations.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../tfjs/generated.js';
import { tfRecurrent } from './grad/references.js';
import { checkGradients, tfDense, weightsFor } from './grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';
import { kerasActivation } from './keras-activations.js';

beforeAll(useTfCpu);

const keras = kerasActivation;

describe.each(ACTIVATION_OP_NAMES)('%s', (name) => {
  it('forward equals the Keras activation (tf.layers.activation), over [-8, 8] and beyond', () => {
    const graph = compileText(`model M {\n  input x: [3, 40]\n  output y = x -> ${name}\n}\n`);
    const x = randTensor([2, 3, 40], createRng(7), 8);
    x.data.set([0, -0, 30, -30, 88, -88, 1e-4, -1e-4]);
    const y = new Interpreter(graph, new Map()).run({ x }).outputs.y;
    expectClose(y, keras(name)(toTf(x)));
  });

  it(`gradient (from ${ACTIVATIONS[name].backward.from}) against tf.grads and finite differences`, () => {
    checkGradients({ body: `input x: [4, 5]\noutput y = x -> ${name}`, reference: (i) => keras(name)(i.x), distinct: true });
  });

});

describe.each(ACTIVATION_OP_NAMES.filter((name) => ACTIVATIONS[name].fusable))('%s, fusable', (name) => {
  it('fused into dense by the optimizer: the same values and gradients', () => {
    checkGradients({
      body: `input x: [6]\noutput y = x -> dense(5) -> ${name}`,
      optimized: ['fused_dense'],
      reference: (i, w) => keras(name)(tfDense(i.x, w['dense.kernel'], w['dense.bias'])),
    });
  });
});

/** The activations rnn accepts, as its op declares them. */
const recurrentChoices = (() => {
  const spec = OPS.rnn.attrs.find((a) => a.name === 'activation')!;
  return spec.type.kind === 'symbol' ? [...spec.type.choices] : [];
})();

describe('rnn with each activation it accepts', () => {
  it('accepts more than the three it started with', () => expect(recurrentChoices.length).toBeGreaterThan(3));

  it.each(recurrentChoices)('rnn(4, activation = %s): backpropagation through time against tf.grads and finite differences', (act) => {
    checkGradients({
      body: `input x: [5, 3]\noutput y = x -> rnn(4, sequences = true, activation = ${act})`,
      reference: (i, w) => tfRecurrent('rnn', i.x, w, 'rnn.', { sequences: true, act: act as Activation }),
    });
  });

  it('the emitted TensorFlow.js module applies the same activation', async () => {
    const dir = generatedDir();
    try {
      const graphs = recurrentChoices.map((act) => compileText(`model Rnn_${act} {\n  input x: [5, 3]\n  output y = x -> rnn(4, activation = ${act})\n}\n`));
      const files = await emitModules(dir, graphs.map((graph) => ({ graph, sourcePath: 'rnn.dl' })));
      for (const [k, graph] of graphs.entries()) {
        const weights = weightsFor(graph, 5);
        const x = randTensor([2, 5, 3], createRng(k), 2);
        const expected = new Interpreter(graph, weights).run({ x }).outputs.y;
        const mod = await loadModule(files[k]);
        const w = Object.fromEntries([...weights].map(([name, t]) => [name, toTf(t)]));
        const outputs = mod.predict(w, { x: toTf(x) });
        expectClose(fromTf(outputs.y), expected);
        tf.dispose([...Object.values(w), ...Object.values(outputs)]);
      }
    } finally {
      removeGenerated(dir);
    }
  });
});
