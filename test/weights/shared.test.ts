/**
 * Shared layers: a value bound to a call (`encoder = tower(64)`, Keras's
 * layer object) or an `as`-named layer, applied again, reuses its weights.
 * The references are tf.layers models that call one layer object on two
 * inputs (tfjs functional models allow it): their parameter counts, their
 * outputs on the same weights, and the gradients tf.variableGrads gives each
 * variable, the sum of both calls' contributions.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backprop } from '../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../src/backends/interp/execute.js';
import { initWeights, type Weights } from '../../src/backends/interp/weights.js';
import { graphToDot, DEFAULT_DIAGRAM_OPTIONS } from '../../src/backends/dot/index.js';
import { compileFile, selectModel } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { createRng } from '../../src/runtime/random.js';
import { summarize } from '../../src/summary.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/weights/safetensors.js';
import { weightSlots } from '../../src/weights/slots.js';
import { compileText, errorsOf } from '../helpers.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from '../backends/interp/helpers.js';
import { checkGradients, modelOf, tfDense, weightsFor } from '../backends/interp/grad/harness.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../backends/tfjs/generated.js';

beforeAll(useTfCpu);

/**
 * The Siamese example in tf.layers: one tower (flatten, dense 128 relu,
 * dropout, dense) called on both images (a functional model with both
 * embeddings as outputs), then |a - b| in tf ops (tf.layers has no Subtract)
 * and the logistic unit's layer applied to it.
 */
function kerasSiamese(size: number, hidden: number, units: number, dropout: boolean) {
  const left = tf.input({ shape: [size, size] });
  const right = tf.input({ shape: [size, size] });
  const flatten = tf.layers.flatten();
  const first = tf.layers.dense({ units: hidden, activation: 'relu' });
  const drop = tf.layers.dropout({ rate: 0.1 });
  const second = tf.layers.dense({ units });
  const tower = (x: tf.SymbolicTensor) => {
    const h = first.apply(flatten.apply(x)) as tf.SymbolicTensor;
    return second.apply(dropout ? (drop.apply(h) as tf.SymbolicTensor) : h) as tf.SymbolicTensor;
  };
  const towers = tf.model({ inputs: [left, right], outputs: [tower(left), tower(right)] });
  const head = tf.layers.dense({ units: 1, activation: 'sigmoid' });
  head.build([null, units]);
  const apply = (l: tf.Tensor, r: tf.Tensor, training = false) => {
    const [a, b] = towers.apply([l, r], { training }) as tf.Tensor[];
    return head.apply(tf.abs(tf.sub(a, b))) as tf.Tensor;
  };
  return { apply, countParams: () => towers.countParams() + head.countParams(), weighted: { dense: first, dense_1: second, dense_2: head } };
}

/** Loads our weights (`<layer>.kernel`, `<layer>.bias`) into tf.layers layers of the same names. */
function load(layers: Record<string, tf.layers.Layer>, weights: Weights) {
  for (const [name, layer] of Object.entries(layers)) layer.setWeights(['kernel', 'bias'].map((p) => toTf(weights.get(`${name}.${p}`)!)));
}

const pairOf = (size: number, batch: number, seed: number) => {
  const rng = createRng(seed);
  return { left: randTensor([batch, size, size], rng), right: randTensor([batch, size, size], rng) };
};

describe('the Siamese example (examples/siamese.dl)', () => {
  const graph = selectModel(compileFile('examples/siamese.dl'));

  it("counts the tower once: 108,801 parameters, Keras's count of a tower called twice", () => {
    const keras = kerasSiamese(28, 128, 64, true);
    const s = summarize(graph);
    expect(s.totalParams).toBe(keras.countParams());
    expect(s.totalParams).toBe(108_801);
    const rows = Object.fromEntries(s.layers.map((l) => [l.name, l]));
    for (const [name, layer] of Object.entries(keras.weighted)) expect(rows[name].params, name).toBe(layer.countParams());
    // The tower's rows stand for both calls: listed once, their FLOPs twice one call's.
    expect(s.layers.map((l) => `${l.name}${l.uses ? ` x${l.uses}` : ''}`)).toEqual(['left', 'right', 'flatten x2', 'dense x2', 'dropout x2', 'dense_1 x2', 'subtract', 'subtract_1', 'maximum', 'dense_2']);
    expect(rows.dense.flops).toBe(2 * (2 * 784 * 128));
  });

  it('computes what the tf.layers model does on the same weights (inference, 1e-5), as written and optimized', () => {
    const weights = weightsFor(graph, 3);
    const keras = kerasSiamese(28, 128, 64, true);
    load(keras.weighted, weights);
    const inputs = pairOf(28, 3, 4);
    const expected = fromTf(tf.tidy(() => keras.apply(toTf(inputs.left), toTf(inputs.right))));
    expectClose(new Interpreter(graph, weights).run(inputs).outputs.same, expected);
    expectClose(new Interpreter(optimize(graph).graph, weights).run(inputs).outputs.same, expected);
  });

  it('holds each weight once: the weights, the weights file and the generated module', async () => {
    const names = ['dense.kernel', 'dense.bias', 'dense_1.kernel', 'dense_1.bias', 'dense_2.kernel', 'dense_2.bias'];
    expect(weightSlots(graph).map((s) => s.name)).toEqual(names);
    const weights = initWeights(graph, { seed: 1 });
    expect([...decodeSafetensors(encodeSafetensors(weights)).tensors.keys()].sort()).toEqual([...names].sort());
    const dir = generatedDir();
    try {
      const [file] = await emitModules(dir, [{ graph, sourcePath: 'examples/siamese.dl' }]);
      const mod = await loadModule(file);
      expect(Object.keys(mod.weightSpecs)).toEqual(names);
      const inputs = pairOf(28, 2, 5);
      const w = Object.fromEntries([...weights].map(([k, t]) => [k, toTf(t)]));
      const out = mod.predict(w, { left: toTf(inputs.left), right: toTf(inputs.right) });
      expectClose(fromTf(out.same), new Interpreter(graph, weights).run(inputs).outputs.same);
      tf.dispose([out, w]);
    } finally {
      removeGenerated(dir);
    }
  });

  it('shows both calls in the diagram, the weights counted at the first', () => {
    const dot = graphToDot(graph, DEFAULT_DIAGRAM_OPTIONS);
    expect(dot.match(/label="tower\(64\)\\l"/g)).toHaveLength(2);
    expect(dot).toContain('100,480 params');
    expect(dot).toContain('dense[1]');
    expect(dot).toContain('108,801 params');
  });
});

describe('gradients of a shared layer add up over its calls', () => {
  it('a shared tower against tf.variableGrads of the tf.layers model calling it twice', () => {
    // Without dropout, whose masks tf.layers draws from its own stream.
    const source = `block tower(units) {
  input image
  output image -> flatten -> dense(12, activation = relu) -> dense(units)
}
model Siamese {
  input left: [4, 4]
  input right: [4, 4]
  encoder = tower(6)
  a = left -> encoder
  b = encoder(right)
  output same = maximum(subtract(a, b), subtract(b, a)) -> dense(1, activation = sigmoid)
}`;
    const ours = compileText(source);
    const weights = weightsFor(ours, 7);
    const inputs = pairOf(4, 3, 8);
    const r = randTensor([3, 1], createRng(9));
    const result = backprop(ours, weights, inputs, { outputGrads: { same: r }, inputGrads: true });
    const keras = kerasSiamese(4, 12, 6, false);
    load(keras.weighted, weights);
    const [left, right, rt] = [toTf(inputs.left), toTf(inputs.right), toTf(r)];
    const loss = () => tf.sum(tf.mul(keras.apply(left, right, true), rt)) as tf.Scalar;
    expect(tf.tidy(() => loss().dataSync()[0])).toBeCloseTo(Array.from(result.outputs.same.data).reduce((s, y, i) => s + y * r.data[i], 0), 4);
    // One layer at a time: tfjs may give the variables of different layers one name (kernel, bias).
    for (const [name, layer] of Object.entries(keras.weighted)) {
      const variables = layer.trainableWeights.map((v) => v.read() as tf.Variable); // [kernel, bias]
      const { value, grads } = tf.variableGrads(loss, variables);
      ['kernel', 'bias'].forEach((local, i) => expectClose(result.grads.get(`${name}.${local}`)!, grads[variables[i].name], 1e-4));
      value.dispose();
    }
    // d same / d left: tf.grads through the same model.
    const dLeft = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(keras.apply(x, right), rt)))(left);
    expectClose(result.inputGrads.left, dLeft, 1e-4);
    tf.dispose([left, right, rt]);
  });

  it('an as-named dense called again, on a sequence (tf ops on one kernel; tf.grads and central differences)', () => {
    checkGradients({
      body: `input a: [5]
input b: [3, 5]
ea = a -> dense(4, activation = tanh) as d
eb = b -> d -> global_avgpool
output y = add(ea, eb, global_avgpool(d(b)))`,
      reference: (i, w) => {
        const d = (x: tf.Tensor) => tf.tanh(tfDense(x, w['d.kernel'], w['d.bias']));
        const pooled = tf.mean(d(i.b), 1);
        return tf.add(tf.add(d(i.a), pooled), pooled);
      },
    });
  });
});

describe('shared layers in the IR and the summary', () => {
  const graph = modelOf(`input a: [8]
input b: [8]
ea = a -> dense(4) as d
eb = b -> d
output y = concat(ea, eb) -> dense(2)`);

  it('names later calls after the first and keeps the default names of the layers after them', () => {
    expect(printGraph(graph)).toContain('%d[1]: [4] = dense(%b, units=4, bias=true)  # 6:11 shares d');
    expect(graph.nodes.map((n) => n.name)).toEqual(['a', 'b', 'd', 'd[1]', 'concat', 'dense']);
  });

  it('lists the layer once, its parameters once and its FLOPs per call', () => {
    const s = summarize(graph);
    expect(s.layers.map((l) => [l.name, l.params, l.flops, l.uses])).toEqual([
      ['a', 0, 0, undefined], ['b', 0, 0, undefined], ['d', 36, 2 * 2 * 32, 2], ['concat', 0, 0, undefined], ['dense', 18, 32, undefined],
    ]);
    expect(s.totalParams).toBe(36 + 18);
  });

  it('keeps a shared layer out of batchnorm folding, which would change the weights its other calls read', () => {
    const bn = modelOf(`input a: [8]
input b: [8]
ea = a -> dense(4) as d -> batchnorm
eb = b -> d
output y = concat(ea, eb)`);
    const optimized = optimize(bn).graph;
    expect(optimized.nodes.map((n) => n.op)).toContain('batchnorm');
    const weights = weightsFor(bn, 2);
    const inputs = { a: randTensor([2, 8], createRng(1)), b: randTensor([2, 8], createRng(2)) };
    expectClose(new Interpreter(optimized, weights).run(inputs).outputs.y, new Interpreter(bn, weights).run(inputs).outputs.y);
  });
});

describe('mistakes with shared layers are located errors', () => {
  const errors = (body: string) => errorsOf(`block tower(units) {\n  input x\n  output x -> dense(units) -> relu\n}\nmodel M {\n${body}\n}\n`).map((e) => [e.at, e.message, e.hint]);

  it('inputs of another width than the first call (an op, and a block)', () => {
    expect(errors('  input a: [8]\n  input b: [6]\n  ea = a -> dense(4) as d\n  output y = concat(ea, d(b))')).toEqual([
      ['9:25', "dense: the shared layer 'd' has kernel [8, 4] (from its first use, line 8); this input would need [6, 4]", 'every use of a shared layer applies the same weights: give it inputs of the same width'],
    ]);
    expect(errors('  input a: [8]\n  input b: [6]\n  enc = tower(16)\n  output y = concat(a -> enc, b -> enc)')[0].slice(0, 2)).toEqual([
      '9:36', "dense: the shared layer 'dense' has kernel [8, 16] (from its first use, line 3); this input would need [6, 16]",
    ]);
  });

  it('arguments besides tensors, and a second name', () => {
    expect(errors('  input a: [8]\n  ea = a -> dense(4) as d\n  output y = concat(ea, d(a, 3), a -> d as again)')).toEqual([
    ['8:30', 'd is a layer already made: it takes only tensor inputs', 'its other arguments are those of its first call; for a layer of its own, call the op or block again'],
    ['8:44', "'as again' cannot rename the shared layer 'd'", "every use of a shared layer is 'd': leave out 'as again'"],
    ]);
  });
});
