/**
 * Generated TensorFlow.js modules respect masks as the interpreter does
 * (src/ir/mask.ts): each model here is emitted, run on the interpreter's
 * weights and inputs, and compared with the interpreter, 1e-5.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { createRng } from '../../../src/runtime/random.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { modelOf, randomIds, weightsFor } from '../interp/grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from '../interp/helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from './generated.js';
import { typeCheck } from './typecheck.js';

const MODELS: Record<string, string> = {
  recurrent: `input t: [7] int
  x = t -> embedding(12, 6, mask_zero = true)
  output seq = x -> lstm(4, sequences = true) -> gru(3, sequences = true) -> global_avgpool
  output last = x -> rnn(5)
  output both = x -> bidirectional(gru(3, sequences = true))
  output ends = x -> bidirectional(lstm(2))`,
  selfAttention: `input t: [7] int
  output y = t -> embedding(12, 6, mask_zero = true) -> positional(learned) -> attention(heads = 2, key_dim = 3, causal = true) -> dense(4) -> global_avgpool`,
  keyPadding: `input x: [7, 6]
  input padding: [7] int
  output y = attention(x, mask = padding, heads = 2, key_dim = 3)`,
  pairs: `input q: [3, 6]
  input kv: [7, 5]
  input pairs: [3, 7] int
  output y = attention(q, kv, mask = pairs, heads = 2, key_dim = 3)`,
  cross: `input src: [7] int
  input tgt: [3] int
  memory = src -> embedding(12, 6, mask_zero = true)
  output y = add(tgt -> embedding(12, 6, mask_zero = true), tgt -> embedding(12, 6, mask_zero = true)) -> attention(memory, heads = 1, key_dim = 4) -> lstm(2)`,
};

/** Ids with padding at the end, the start and inside, and a row of padding only; 0/1 masks. */
function inputsFor(name: string, shape: number[], int: boolean, seed: number): Tensor {
  if (!int) return randTensor(shape, createRng(seed));
  const t = randomIds(shape, name === 'padding' || name === 'pairs' ? 2 : 12, createRng(seed));
  const T = shape.slice(1).reduce((a, b) => a * b, 1);
  t.data.fill(0, 0, 2).fill(0, T - 2, T + 1).fill(0, (shape[0] - 1) * T); // the last example is padding only
  return t;
}

let dir: string;
let files: string[] = [];
const graphs = Object.entries(MODELS).flatMap(([name, body]) => {
  const graph = modelOf(body);
  return [{ name, graph }, { name: `${name}, optimized`, graph: optimize(graph).graph }];
});

beforeAll(async () => {
  await useTfCpu();
  dir = generatedDir();
  files = await emitModules(dir, graphs.map(({ name, graph }) => ({ graph, sourcePath: `masks/${name}.dl` })));
}, 120_000);
afterAll(() => removeGenerated(dir));

describe('generated modules respect masks', () => {
  it('type-check with the strictest settings', () => {
    expect([...typeCheck(files).values()].flat()).toEqual([]);
  }, 120_000);

  it.each(graphs.map((g, i) => ({ ...g, i })))('$name', async ({ graph, i }) => {
    const weights = weightsFor(graph, 4);
    const inputs = Object.fromEntries(graph.inputs.map((n, k) => [n.name, inputsFor(n.name, [4, ...(n.type.shape.slice(1) as number[])], n.type.dtype === 'int32', 10 + k)]));
    const expected = new Interpreter(graph, weights).run(inputs).outputs;
    const mod = await loadModule(files[i]);
    const w = Object.fromEntries([...weights].map(([k, t]) => [k, toTf(t)]));
    const x = Object.fromEntries(graph.inputs.map((n) => [n.name, tf.tensor(inputs[n.name].data, inputs[n.name].shape, n.type.dtype)]));
    const outputs = mod.predict(w, x);
    // A sequence of padding only averages to NaN (0 / 0) in both, as Keras.
    for (const { name } of graph.outputs) expectCloseOrBothNaN(fromTf(outputs[name]), expected[name]);
    tf.dispose([Object.values(w), Object.values(x)]);
  });
});

function expectCloseOrBothNaN(actual: Tensor, expected: Tensor): void {
  const nan = (t: Tensor) => Array.from(t.data, (v) => Number.isNaN(v));
  const same = nan(actual).every((v, i) => v === nan(expected)[i]);
  if (!same) throw new Error('NaN at different places');
  const clean = (t: Tensor) => ({ shape: t.shape, data: t.data.map((v) => (Number.isNaN(v) ? 0 : v)) });
  expectClose(clean(actual), clean(expected));
}
