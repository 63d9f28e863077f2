/**
 * Every activation of the table (src/ops/activations.ts) against
 * TensorFlow.js's Keras activations (keras-activations.ts: tf.layers where
 * tfjs has the layer, Keras 3's definition in tf ops where it has not): the
 * forward as a layer, with Keras's arguments, its gradient (tf.grads and
 * finite differences, through the harness), fused into a dense layer where
 * the table lets the optimizer fuse it, and as `activation =` of dense and
 * conv (against tf.layers.dense({activation}) where tfjs has the name). The
 * reference is keyed by the activation ops, so a new row in the table needs
 * one line there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import { ACTIVATION_OP_NAMES, ACTIVATIONS, activationDef, backwardFrom, type ActivationAttrs } from '../../../src/ops/activations.js';
import { compileText, errorsOf } from '../../helpers.js';
import * as tf from '@tensorflow/tfjs';
import { OPS } from '../../../src/ops/index.js';
import type { Activation } from '../../../src/ops/activations.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { layerStats } from '../../../src/ir/infer.js';
import { layerInfo } from '../../../src/backends/dot/layer.js';
import type { Graph } from '../../../src/ir/types.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../tfjs/generated.js';
import { typeCheck } from '../tfjs/typecheck.js';
import { tfRecurrent } from './grad/references.js';
import { checkGradients, tfConv1d, tfConv2d, tfDense, weightsFor } from './grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';
import { kerasActivation, TFJS_NAME } from './keras-activations.js';

beforeAll(useTfCpu);

const keras = kerasActivation;

/** The resolved arguments of the model's node named `name`. */
const argsOf = (graph: Graph, name: string) => (graph.nodes.find((n) => n.name === name)!.resolved as ActivationAttrs).args;

describe.each(ACTIVATION_OP_NAMES)('%s', (name) => {
  it('forward equals the Keras activation (tf.layers), over [-8, 8] and beyond', () => {
    const graph = compileText(`model M {\n  input x: [3, 40]\n  output y = x -> ${name}\n}\n`);
    const x = randTensor([2, 3, 40], createRng(7), 8);
    x.data.set([0, -0, 30, -30, 88, -88, 1e-4, -1e-4]);
    const y = new Interpreter(graph, new Map()).run({ x }).outputs.y;
    expectClose(y, keras(name, argsOf(graph, name))(toTf(x)));
  });

  it(`gradient (from ${backwardFrom(name)}) against tf.grads and finite differences`, () => {
    const graph = compileText(`model M {\n  input x: [4, 5]\n  output y = x -> ${name}\n}\n`);
    checkGradients({ body: `input x: [4, 5]\noutput y = x -> ${name}`, reference: (i) => keras(name, argsOf(graph, name))(i.x), distinct: true });
  });
});

describe.each(ACTIVATION_OP_NAMES.filter((name) => ACTIVATIONS[name].fusable))('%s, fusable', (name) => {
  it('fused into dense by the optimizer: the same values and gradients', () => {
    // Fusion keeps the bare name's arguments: the op's must be those (leaky_relu's layer default 0.3 is not its name's 0.2).
    const byName = activationDef(name).byName ?? {};
    const call = Object.keys(byName).length === 0 ? name : `${name}(${Object.entries(byName).map(([k, v]) => `${k} = ${v}`).join(', ')})`;
    checkGradients({
      body: `input x: [6]\noutput y = x -> dense(5) -> ${call}`,
      optimized: ['fused_dense'],
      reference: (i, w) => keras(name)(tfDense(i.x, w['dense.kernel'], w['dense.bias'])),
    });
  });
});

/** Calls with Keras's arguments; `layer` is tf.layers's layer holding them, where tfjs has it. */
const WITH_ARGUMENTS: { call: string; shape: number[]; layer?: () => tf.layers.Layer }[] = [
  { call: 'relu(max_value = 2.5)', shape: [3, 8], layer: () => tf.layers.reLU({ maxValue: 2.5 }) },
  { call: 'relu(negative_slope = 0.1, threshold = 0.5, max_value = 3)', shape: [3, 8] },
  { call: 'relu(negative_slope = 0.2)', shape: [3, 8], layer: () => tf.layers.leakyReLU({ alpha: 0.2 }) },
  { call: 'leaky_relu(negative_slope = 0.1)', shape: [3, 8], layer: () => tf.layers.leakyReLU({ alpha: 0.1 }) },
  { call: 'leaky_relu', shape: [3, 8], layer: () => tf.layers.leakyReLU({ alpha: 0.3 }) },
  { call: 'elu(alpha = 0.5)', shape: [3, 8] },
  { call: 'elu(alpha = 1)', shape: [3, 8], layer: () => tf.layers.elu({ alpha: 1 }) },
  { call: 'gelu(approximate = true)', shape: [3, 8], layer: () => tf.layers.activation({ activation: 'gelu_new' as 'linear' }) },
  { call: 'softmax(axis = 1)', shape: [3, 4, 5] },
  { call: 'softmax(axis = -2)', shape: [3, 4, 5] },
  { call: 'softmax(axis = 3)', shape: [3, 4, 5], layer: () => tf.layers.softmax({ axis: -1 }) },
];

describe.each(WITH_ARGUMENTS)('$call', ({ call, shape, layer }) => {
  const name = call.replace(/\(.*/, '') as Activation;
  const body = `input x: [${shape.join(', ')}]\noutput y = x -> ${call}`;
  const graph = compileText(`model M {\n${body}\n}\n`);

  it('forward equals tf.layers with the same arguments (or Keras 3 written out), over [-4, 4]', () => {
    const x = randTensor([2, ...shape], createRng(3), 4);
    const y = new Interpreter(graph, new Map()).run({ x }).outputs.y;
    if (layer) expectClose(y, layer().apply(toTf(x)) as tf.Tensor);
    expectClose(y, keras(name, argsOf(graph, name))(toTf(x)));
  });

  it('gradient against tf.grads and finite differences', () => {
    checkGradients({ body, reference: (i) => keras(name, argsOf(graph, name))(i.x), distinct: true });
  });
});

describe('Keras 3 numbers', () => {
  const at = [-4, -3, -1.5, 0, 1.5, 3, 4];
  const run = (call: string) => {
    const graph = compileText(`model M {\n  input x: [${at.length}]\n  output y = x -> ${call}\n}\n`);
    return Array.from(new Interpreter(graph, new Map()).run({ x: { shape: [1, at.length], data: Float32Array.from(at) } }).outputs.y.data);
  };

  it('hard_sigmoid is relu6(x + 3) / 6 (not Keras 2 and tfjs clip(0.2 x + 0.5))', () => {
    expect(run('hard_sigmoid')).toEqual([0, 0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it('hard_swish is x relu6(x + 3) / 6', () => {
    expect(run('hard_swish').map((v) => v + 0)).toEqual([0, 0, -0.375, 0, 1.125, 3, 4]);
  });

  it('relu with a threshold is 0 up to it and x above; with a slope below it, slope (x - threshold)', () => {
    // (Keras's x [x > t] gives -0 below the threshold too.)
    expect(run('relu(threshold = 1.5)').map((v) => v + 0)).toEqual([0, 0, 0, 0, 0, 3, 4]);
    expect(run('relu(threshold = 1, negative_slope = 0.5, max_value = 3.5)')).toEqual([-2.5, -2, -1.25, -0.5, 1.5, 3, 3.5]);
  });

  it('swish is silu', () => expect(run('swish')).toEqual(run('silu')));
});

/** Every name `activation =` takes: the whole table. */
const LAYER_ACTIVATIONS = Object.keys(ACTIVATIONS) as Activation[];

describe.each(LAYER_ACTIVATIONS)('dense(4, activation = %s)', (name) => {
  const body = `input x: [6]\noutput y = x -> dense(4, activation = ${name})`;

  it('one layer with dense\'s parameters, equal to tf.layers.dense({activation}) (or dense then the Keras activation)', () => {
    const graph = compileText(`model M {\n${body}\n}\n`);
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'dense']);
    expect(layerStats(graph.nodes[1]).params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(4 * (6 + 1));
    const weights = weightsFor(graph, 2);
    const x = randTensor([3, 6], createRng(4), 3);
    const y = new Interpreter(graph, weights).run({ x }).outputs.y;
    const [kernel, bias] = [toTf(weights.get('dense.kernel')!), toTf(weights.get('dense.bias')!)];
    const tfjsName = TFJS_NAME[name];
    if (tfjsName && name !== 'leaky_relu') {
      const dense = tf.layers.dense({ units: 4, activation: tfjsName as 'linear' });
      dense.apply(toTf(x));
      dense.setWeights([kernel, bias]);
      expectClose(y, dense.apply(toTf(x)) as tf.Tensor);
    }
    expectClose(y, keras(name)(tfDense(toTf(x), kernel, bias)));
  });

  it(`reads 'dense + ${name}' in diagrams, as a fused layer does`, () => {
    const graph = compileText(`model M {\n${body}\n}\n`);
    expect(layerInfo(graph.nodes[1]).title).toBe(name === 'linear' ? 'dense' : `dense + ${name}`);
  });

  it(`trains: gradients (activation backward from ${backwardFrom(name)}) against tf.grads and finite differences`, () => {
    checkGradients({ body, reference: (i, w) => keras(name)(tfDense(i.x, w['dense.kernel'], w['dense.bias'])) });
  });
});

describe('activation = on conv', () => {
  it.each(['gelu', 'relu6', 'leaky_relu', 'softmax'] as Activation[])('conv2d(3, 3, activation = %s): gradients against tf.grads', (name) => {
    checkGradients({
      eps: 1e-4, // relu6's kinks: a smaller step is less likely to cross one
      body: `input x: [5, 5, 2]\noutput y = x -> conv2d(3, 3, padding = same, activation = ${name})`,
      reference: (i, w) => keras(name)(tf.add(tfConv2d(i.x, w['conv2d.kernel'], 1, 'same'), w['conv2d.bias'])),
    });
  });

  it.each(['hard_swish', 'elu'] as Activation[])('conv1d(3, 2, activation = %s): gradients against tf.grads', (name) => {
    checkGradients({
      body: `input x: [6, 2]\noutput y = x -> conv1d(3, 2, activation = ${name})`,
      reference: (i, w) => keras(name)(tf.add(tfConv1d(i.x, w['conv1d.kernel'], 1, 'valid'), w['conv1d.bias'])),
    });
  });

  it('conv2d(activation = relu) equals tf.layers.conv2d({activation: relu})', () => {
    const graph = compileText('model M {\n  input x: [5, 5, 2]\n  output y = x -> conv2d(3, 3, activation = relu)\n}\n');
    const weights = weightsFor(graph, 5);
    const x = randTensor([2, 5, 5, 2], createRng(6));
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' });
    conv.apply(toTf(x));
    conv.setWeights([toTf(weights.get('conv2d.kernel')!), toTf(weights.get('conv2d.bias')!)]);
    expectClose(new Interpreter(graph, weights).run({ x }).outputs.y, conv.apply(toTf(x)) as tf.Tensor);
  });
});

describe('a classifier written dense(activation = softmax)', () => {
  it('trains from its logits, as dense then softmax does: the same loss and gradients', () => {
    const grads = (head: string) => {
      const graph = compileText(`model M {\n  input x: [6]\n  output y = x -> dense(4, activation = relu) -> ${head}\n}\n`);
      const weights = weightsFor(graph, 3);
      const x = randTensor([5, 6], createRng(2), 2);
      const labels = { shape: [5], data: Float32Array.from([0, 2, 1, 2, 0]) };
      return lossAndGradients(graph, weights, { x }, labels, 'sparse_categorical_crossentropy');
    };
    const one = grads('dense(3, activation = softmax)'), two = grads('dense(3) -> softmax');
    expect(one.loss).toBeCloseTo(two.loss, 6);
    for (const [name, g] of two.grads) expectClose(one.grads.get(name)!, g);
  });
});

describe('fusion and arguments', () => {
  const opsAfter = (body: string) => optimize(compileText(`model M {\n${body}\n}\n`), { training: true }).graph.nodes.map((n) => n.op);

  it('fuses an activation called with its bare name\'s arguments, keeps one with others as its own node', () => {
    expect(opsAfter('input x: [6]\noutput y = x -> dense(5) -> leaky_relu(negative_slope = 0.2)')).toEqual(['input', 'fused_dense']);
    expect(opsAfter('input x: [6]\noutput y = x -> dense(5) -> leaky_relu(negative_slope = 0.1)')).toEqual(['input', 'dense', 'leaky_relu']);
    expect(opsAfter('input x: [6]\noutput y = x -> dense(5) -> relu(max_value = 2)')).toEqual(['input', 'dense', 'relu']);
  });

  it('does not fuse over a layer that has its own activation', () => {
    expect(opsAfter('input x: [6]\noutput y = x -> dense(5, activation = relu) -> sigmoid')).toEqual(['input', 'dense', 'sigmoid']);
    checkGradients({
      body: 'input x: [6]\noutput y = x -> dense(5, activation = gelu) -> sigmoid',
      optimized: ['dense', 'sigmoid'],
      reference: (i, w) => tf.sigmoid(keras('gelu')(tfDense(i.x, w['dense.kernel'], w['dense.bias']))),
    });
  });
});

describe('the emitted TensorFlow.js module', () => {
  it('type-checks under strict settings and computes every argument form and activation = as the interpreter', async () => {
    const body = [
      'input x: [3, 4, 5]',
      'input s: [4, 5]',
      'output a = x -> relu(negative_slope = 0.1, threshold = 0.5, max_value = 3) -> leaky_relu(negative_slope = 0.1) -> elu(alpha = 0.5)',
      'output b = x -> gelu(approximate = true) -> softmax(axis = 1)',
      'output c = x -> hard_swish -> hard_sigmoid -> swish -> relu(max_value = 0.7)',
      'output d = s -> dense(4, activation = leaky_relu) -> dense(3, activation = gelu) -> conv1d(2, 2, activation = hard_swish)',
      'output e = x -> conv2d(2, 2, padding = same, activation = softmax) -> flatten -> dense(3) -> leaky_relu',
    ].join('\n  ');
    const graph = compileText(`model WithArgs {\n  ${body}\n}\n`);
    const dir = generatedDir();
    try {
      const [file] = await emitModules(dir, [{ graph, sourcePath: 'args.dl' }]);
      expect([...typeCheck([file]).values()].flat()).toEqual([]);
      const weights = weightsFor(graph, 9);
      const inputs = { x: randTensor([2, 3, 4, 5], createRng(8), 3), s: randTensor([2, 4, 5], createRng(10), 3) };
      const expected = new Interpreter(graph, weights).run(inputs).outputs;
      const mod = await loadModule(file);
      const w = Object.fromEntries([...weights].map(([n, t]) => [n, toTf(t)]));
      const outputs = mod.predict(w, { x: toTf(inputs.x), s: toTf(inputs.s) });
      for (const k of ['a', 'b', 'c', 'd', 'e']) expectClose(fromTf(outputs[k]), expected[k]);
      tf.dispose([...Object.values(w), ...Object.values(outputs)]);
    } finally {
      removeGenerated(dir);
    }
  });
});

describe('mistakes', () => {
  const only = (text: string) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    return errors[0];
  };

  it('a negative max_value, located, with a hint', () => {
    const e = only('model M {\n  input x: [4]\n  output y = x -> relu(max_value = -1)\n}\n');
    expect(e.message).toBe('relu: max_value -1 is negative');
    expect(e.hint).toMatch(/>= 0/);
    expect(e.at).toBe('3:19');
  });

  it('a softmax axis out of range, or the batch, located, with a hint', () => {
    const e = only('model M {\n  input x: [3, 4]\n  output y = x -> softmax(axis = 3)\n}\n');
    expect(e.message).toBe('softmax: axis 3 is out of range for input [3, 4]');
    expect(e.hint).toBe('use an axis from 1 to 2, or -1 for the last');
    expect(only('model M {\n  input x: [3, 4]\n  output y = x -> softmax(axis = 0)\n}\n').message).toBe('softmax: axis 0 is the batch dimension for input [3, 4]');
    expect(only('model M {\n  input x: [3, 4]\n  output y = x -> softmax(axis = -3)\n}\n').message).toBe('softmax: axis -3 is the batch dimension for input [3, 4]');
  });

  it("Keras's activation layer names point at dlc's", () => {
    expect(only('model M {\n  input x: [4]\n  output y = x -> LeakyReLU(negative_slope = 0.1)\n}\n').hint).toBe("dlc calls Keras's LeakyReLU 'leaky_relu'");
    expect(only('model M {\n  input x: [4]\n  output y = x -> ReLU(max_value = 6)\n}\n').hint).toBe("dlc calls Keras's ReLU 'relu'");
    expect(only('model M {\n  input x: [4]\n  output y = x -> ELU\n}\n').hint).toBe("dlc calls Keras's ELU 'elu'");
    expect(only('model M {\n  input x: [4]\n  output y = x -> Softmax(axis = -1)\n}\n').hint).toBe("dlc calls Keras's Softmax 'softmax'");
    expect(only('model M {\n  input x: [4]\n  output y = x -> hard_silu\n}\n').hint).toBe("dlc calls Keras's hard_silu 'hard_swish'");
    expect(only('model M {\n  input x: [4]\n  output y = x -> Activation\n}\n')).toMatchObject({
      message: "'Activation' is not an op dlc has",
      hint: expect.stringMatching(/^the activation ops it has: relu, sigmoid, .*, softmax$/),
    });
  });

  it('an unknown name in activation =: did you mean, among the activations', () => {
    const e = only('model M {\n  input x: [4]\n  output y = x -> dense(3, activation = lekyrelu)\n}\n');
    expect(e.message).toMatch(/^dense: argument 'activation' must be one of 'linear', 'relu', .*got 'lekyrelu'$/);
    expect(e.hint).toBe("did you mean 'leaky_relu'?");
    expect(only('model M {\n  input x: [5, 2]\n  output y = x -> conv1d(3, 2, activation = geluu)\n}\n').hint).toBe("did you mean 'gelu'?");
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
