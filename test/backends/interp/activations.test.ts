/**
 * Every activation of the table (src/ops/activations.ts) against
 * TensorFlow.js's Keras activations (tf.layers.activation, the port of
 * keras.activations): the forward as a layer, its gradient (tf.grads and
 * finite differences, through the harness), and fused into a dense layer
 * where the table lets the optimizer fuse it. The reference is keyed by
 * the activation ops, so a new row in the table needs one line here.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import { ACTIVATION_OP_NAMES, ACTIVATIONS } from '../../../src/ops/activations.js';
import { compileText } from '../../helpers.js';
import { checkGradients, tfDense } from './grad/harness.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';
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
