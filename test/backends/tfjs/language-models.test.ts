/**
 * BERT-base and GPT-2 small (examples/bert_base.dl, gpt2.dl, whose length T
 * is symbolic) end to end at batch 1, T = 32 (npm run bench runs T = 128;
 * the shorter sequence keeps this test's time down, the weights are the same),
 * on one set of weights: the interpreter running the
 * optimized graph (as `dlc run` does), the TensorFlow.js module dlc
 * generates from it (as `dlc compile --target tfjs` writes it), and the same
 * networks written in tf ops from the papers (bench/language_models.js), both
 * on tfjs's WebAssembly backend. Seeded initial weights, with noise added to
 * those that start as constants (biases, layernorms' gamma and beta) so that
 * their layout is checked too. 124 million weights: each model is loaded
 * once and its tensors disposed at the end.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm'; // registers the 'wasm' backend
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bert, gpt2 } from '../../../bench/language_models.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { initWeights, weightSlots, type Weights } from '../../../src/backends/interp/weights.js';
import { compileFile, selectModel } from '../../../src/compile.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { createRng } from '../../../src/runtime/random.js';
import { expectClose, fromTf, useTfCpu } from '../interp/helpers.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from './generated.js';

const T = 32;
let dir: string;

beforeAll(async () => {
  dir = generatedDir();
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  removeGenerated(dir);
  await useTfCpu();
});

/** initWeights, with uniform noise in [-0.25, 0.25) added to every tensor that starts as a constant. */
function weightsFor(graph: Graph, seed: number): Weights {
  const weights = initWeights(graph, { seed });
  const noise = createRng(seed + 1000);
  for (const { name, spec } of weightSlots(graph)) {
    if (spec.init !== 'zeros' && spec.init !== 'ones') continue;
    const data = weights.get(name)!.data;
    for (let i = 0; i < data.length; i++) data[i] += 0.5 * noise.uniform() - 0.25;
  }
  return weights;
}

/** [1, T] ids below `vocab`. */
function ids(vocab: number, seed: number): Tensor {
  const rng = createRng(seed);
  return { shape: [1, T], data: Float32Array.from({ length: T }, () => Math.floor(rng.uniform() * vocab)) };
}

/**
 * The interpreter, the generated module and the reference on the same
 * weights and inputs; every output agrees to 1e-4 (relative above 1).
 */
async function compareAll(file: string, seed: number, inputs: Record<string, Tensor>, reference: (w: (name: string) => tf.Tensor, x: Record<string, tf.Tensor2D>) => Record<string, tf.Tensor>) {
  const graph = selectModel(compileFile(`examples/${file}`));
  const optimized = optimize(graph).graph;
  const weights = weightsFor(graph, seed);
  const interpreter = new Interpreter(optimized, weights);
  const ours = interpreter.run(inputs).outputs;

  const [path] = await emitModules(dir, [{ graph: optimized, sourcePath: `examples/${file}` }]);
  const mod = await loadModule(path);
  const tfWeights = Object.fromEntries([...weights].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));
  const tfInputs = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, tf.tensor2d(t.data, t.shape as [number, number], 'int32')]));
  try {
    const generated = mod.predict(tfWeights, tfInputs);
    const expected = reference((name) => tfWeights[name] ?? expect.fail(`test: no weight ${name}`), tfInputs);
    expect(Object.keys(generated).sort()).toEqual(Object.keys(ours).sort());
    expect(Object.keys(expected).sort()).toEqual(Object.keys(ours).sort());
    for (const name of Object.keys(ours)) {
      expectClose(ours[name], fromTf(generated[name]), 1e-4);
      expectClose(ours[name], fromTf(expected[name]), 1e-4);
    }
    tf.dispose([generated, expected]);
    // What predict derives from the weights (a tied head's transposed table) is made on the first call only.
    const kept = tf.memory().numTensors;
    tf.dispose(mod.predict(tfWeights, tfInputs));
    expect(tf.memory().numTensors).toBe(kept);
  } finally {
    tf.dispose([tfWeights, tfInputs]);
  }
  return { outputs: ours, interpreter, code: readFileSync(path, 'utf8') };
}

describe('generated modules run the language models forward, as the interpreter does', () => {
  it('bert_base: the [1, 32, 768] states and the pooled [CLS] vector', async () => {
    const { outputs } = await compareAll('bert_base.dl', 31, { tokens: ids(30522, 1), segments: ids(2, 2) }, (w, x) => bert(w, x.tokens, x.segments));
    expect(outputs.sequence.shape).toEqual([1, T, 768]);
    expect(outputs.pooled.shape).toEqual([1, 768]);
    // Post-LN: each state is normalised, then scaled by gamma (about 1) and shifted by beta (about 0).
    expect(Math.max(...outputs.pooled.data.map(Math.abs))).toBeLessThan(1);
  }, 300_000);

  it('gpt2: the final layernorm\'s [1, 32, 768] states and the tied head\'s [1, 32, 50257] logits, position t reading tokens up to t only', async () => {
    const tokens = ids(50257, 3);
    const { outputs, interpreter, code } = await compareAll('gpt2.dl', 32, { tokens }, (w, x) => gpt2(w, x.tokens));
    // The head reads wte's table transposed once per weights object, not transposed by every matMul.
    expect(code).toContain("const tiedTables = ['wte.embeddings'] as const;");
    expect(code).toContain("b: transposed['wte.embeddings'],");
    expect(code).not.toMatch(/^\s*transposeB: true,/m);
    expect(outputs.hidden.shape).toEqual([1, T, 768]);
    expect(outputs.logits.shape).toEqual([1, T, 50257]);
    // Another last token changes the last position's state and no other.
    const changed = { shape: tokens.shape, data: tokens.data.slice() };
    changed.data[T - 1] = (changed.data[T - 1] + 1) % 50257;
    const again = interpreter.run({ tokens: changed }).outputs.hidden;
    const rows = (t: Tensor, from: number, to: number) => ({ shape: [to - from, 768], data: t.data.slice(from * 768, to * 768) });
    expectClose(rows(again, 0, T - 1), rows(outputs.hidden, 0, T - 1), 1e-6);
    expect(rows(again, T - 1, T).data).not.toEqual(rows(outputs.hidden, T - 1, T).data);
  }, 300_000);
});
