/**
 * The tfjs rows of conv1d_transpose, conv2d_transpose and bilinear upsampling
 * in the shapes test/ops/contracts.test.ts does not reach: output_padding,
 * an even kernel that TensorFlow's own size rule would refuse, dilation (a
 * kernel spread out with zeros), unequal strides, activations and no bias.
 * The emitted module type-checks under the strictest settings, predicts what
 * the interpreter computes, and its gradients (tf.grads through predict, as
 * a module that trains takes them) equal the interpreter's backprop.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backprop } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import type { Graph } from '../../../src/ir/types.js';
import { createRng } from '../../../src/runtime/random.js';
import { compileText } from '../../helpers.js';
import { weightsFor } from '../interp/grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from '../interp/helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated, type GeneratedModule } from './generated.js';
import { typeCheck } from './typecheck.js';

const MODELS = {
  Transpose2D: `model Transpose2D {
  input x: [4, 5, 3]
  output a = x -> conv2d_transpose(2, 3, stride = 2, padding = same, output_padding = 1, dilation = 2, activation = tanh)
  output b = x -> conv2d_transpose(3, 4, stride = 2, padding = same, output_padding = 0, bias = false)
  output c = x -> conv2d_transpose(2, [2, 3], stride = [3, 1], dilation = [1, 2], activation = relu)
  output d = x -> conv2d_transpose(2, 2, stride = 3, padding = same)
}`,
  Transpose1D: `model Transpose1D {
  input s: [6, 2]
  output e = s -> conv1d_transpose(3, 3, stride = 2, padding = same, output_padding = 1, dilation = 2, activation = sigmoid)
  output f = s -> conv1d_transpose(2, 2, stride = 3)
}`,
  Bilinear: `model Bilinear {
  input x: [3, 4, 2]
  output u = x -> upsampling([2, 3], interpolation = bilinear)
  output v = x -> upsampling([3, 1], interpolation = bilinear) -> upsampling([1, 2])
}`,
};
type Name = keyof typeof MODELS;

const SEED = 9;
let dir: string;
const graphs = new Map<Name, Graph>();
const modules = new Map<Name, GeneratedModule>();
let diagnostics: string[] = [];

beforeAll(async () => {
  await useTfCpu();
  dir = generatedDir();
  const names = Object.keys(MODELS) as Name[];
  for (const name of names) graphs.set(name, compileText(MODELS[name]));
  const files = await emitModules(dir, names.map((name) => ({ graph: graphs.get(name)!, sourcePath: `resampling/${name}.dl` })));
  diagnostics = [...typeCheck(files).values()].flat();
  for (const [i, name] of names.entries()) modules.set(name, await loadModule(files[i]));
}, 60_000);

afterAll(() => removeGenerated(dir));

it('the emitted modules type-check under the strictest settings', () => {
  expect(diagnostics).toEqual([]);
});

describe.each(Object.keys(MODELS) as Name[])('%s', (name) => {
  const prepare = () => {
    const graph = graphs.get(name)!;
    const weights = weightsFor(graph, SEED);
    const rng = createRng(SEED);
    const inputs = Object.fromEntries(graph.inputs.map((n) => [n.name, randTensor([2, ...(n.type.shape.slice(1) as number[])], rng)]));
    return { graph, weights, inputs, mod: modules.get(name)! };
  };

  it('predict equals the interpreter', () => {
    const { graph, weights, inputs, mod } = prepare();
    const expected = new Interpreter(graph, weights).run(inputs).outputs;
    const w = Object.fromEntries([...weights].map(([k, t]) => [k, toTf(t)]));
    const x = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toTf(t)]));
    const outputs = mod.predict(w, x);
    for (const { name: out } of graph.outputs) expectClose(fromTf(outputs[out]!), expected[out]!);
    tf.dispose([w, x, outputs]);
  });

  it('gradients through predict equal backprop, for every output', () => {
    const { graph, weights, inputs, mod } = prepare();
    const rng = createRng(SEED + 1);
    const shapes = new Interpreter(graph, weights).run(inputs).outputs;
    const seeds: Record<string, Tensor> = Object.fromEntries(graph.outputs.map((o) => [o.name, randTensor(shapes[o.name]!.shape, rng)]));
    const ours = backprop(graph, weights, inputs, { outputGrads: seeds, inputGrads: true, seed: SEED });
    const weightNames = [...ours.grads.keys()];
    const inputNames = Object.keys(inputs);
    const args = [...inputNames.map((k) => toTf(inputs[k]!)), ...weightNames.map((k) => toTf(weights.get(k)!))];
    const grads = tf.grads((...xs: tf.Tensor[]) => {
      const x = Object.fromEntries(inputNames.map((k, i) => [k, xs[i]!]));
      const w = Object.fromEntries([...weights.keys()].map((k) => [k, weightNames.includes(k) ? xs[inputNames.length + weightNames.indexOf(k)]! : toTf(weights.get(k)!)]));
      const outputs = mod.predict(w, x);
      return tf.addN(graph.outputs.map((o) => tf.sum(tf.mul(outputs[o.name]!, toTf(seeds[o.name]!)))));
    })(args);
    inputNames.forEach((k, i) => expectClose(ours.inputGrads[k]!, grads[i]!, 1e-4));
    weightNames.forEach((k, i) => expectClose(ours.grads.get(k)!, grads[inputNames.length + i]!, 1e-4));
  });
});
