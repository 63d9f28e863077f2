/**
 * Tied weights: `dense(vocab, tie = wte)` multiplies by the embedding wte's
 * table transposed (GPT-2's LM head, Keras-NLP's ReversibleEmbedding). The
 * references are tf ops on one tensor used twice (tf.gather and tf.matMul
 * with transposeB), so tf.grads sums both uses as the interpreter must; the
 * parameter counts are Keras-NLP's (the table once); the weights file and the
 * generated module hold the table once.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../src/backends/interp/execute.js';
import { initWeights } from '../../src/backends/interp/weights.js';
import { encodeSafetensors, decodeSafetensors } from '../../src/weights/safetensors.js';
import { weightSlots } from '../../src/weights/slots.js';
import { summarize } from '../../src/summary.js';
import { createRng } from '../../src/runtime/random.js';
import { errorsOf } from '../helpers.js';
import { expectClose, fromTf, useTfCpu } from '../backends/interp/helpers.js';
import { checkGradients, modelOf, randomIds, tfDense, weightsFor } from '../backends/interp/grad/harness.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../backends/tfjs/generated.js';

beforeAll(useTfCpu);

const VOCAB = 11;
const DIM = 6;
const STEPS = 4;
const ids = (batch: number) => randomIds([batch, STEPS], VOCAB, createRng(7));
const logits = (h: tf.Tensor, table: tf.Tensor) => tf.matMul(h.reshape([-1, DIM]), table as tf.Tensor2D, false, true).reshape([...h.shape.slice(0, -1), VOCAB]);

/** Embedding, a hidden dense layer, and the head tied to the embedding (with its own bias, as BERT's MLM head). */
const LM = `input tokens: [${STEPS}] int
h = tokens -> embedding(${VOCAB}, ${DIM}) as wte -> dense(${DIM}, activation = tanh)
output logits = h -> dense(${VOCAB}, tie = wte)`;

const lmReference = (i: Record<string, tf.Tensor>, w: Record<string, tf.Tensor>) => {
  const table = w['wte.embeddings'];
  const h = tf.tanh(tfDense(tf.gather(table, i.tokens), w['dense.kernel'], w['dense.bias']));
  return tf.add(logits(h, table), w['dense_1.bias']);
};

describe('a head tied to an embedding', () => {
  it('computes h wte^T + b, and the table takes the gradients of both uses (tf.gather, tf.matMul transposeB, tf.grads)', () => {
    const { grads } = checkGradients({ body: LM, batch: 3, inputs: { tokens: ids(3) }, reference: lmReference });
    expect([...grads.keys()].sort()).toEqual(['dense.bias', 'dense.kernel', 'dense_1.bias', 'wte.embeddings']);
  });

  it('passes the gradient to its input (dx = dz wte), without a bias, fused with an activation by the optimizer', () => {
    checkGradients({
      body: `input x: [${STEPS}, ${DIM}]
input tokens: [${STEPS}] int
e = tokens -> embedding(${VOCAB}, ${DIM}) as wte
output y = add(x, e) -> dense(${VOCAB}, bias = false, tie = wte) -> sigmoid`,
      optimized: ['fused_dense'],
      inputs: { tokens: ids(2) },
      reference: (i, w) => tf.sigmoid(logits(tf.add(i.x, tf.gather(w['wte.embeddings'], i.tokens)), w['wte.embeddings'])),
    });
  });

  it("adds no parameters: the table is counted once, at the embedding (Keras-NLP's count)", () => {
    const s = summarize(modelOf(LM));
    const table = VOCAB * DIM, hidden = DIM * DIM + DIM;
    expect(s.layers.map((l) => [l.name, l.params])).toEqual([['tokens', 0], ['wte', table], ['dense', hidden], ['dense_1', VOCAB]]);
    expect(s.totalParams).toBe(table + hidden + VOCAB);
    // FLOPs are the product's, as an untied head's.
    expect(s.layers[3].flops).toBe(2 * STEPS * DIM * VOCAB);
  });

  it('keeps the table once in the weights and the weights file', () => {
    const graph = modelOf(LM);
    expect(weightSlots(graph).map((s) => s.name)).toEqual(['wte.embeddings', 'dense.kernel', 'dense.bias', 'dense_1.bias']);
    const weights = initWeights(graph, { seed: 3 });
    const file = decodeSafetensors(encodeSafetensors(weights));
    expect([...file.tensors.keys()].sort()).toEqual(['dense.bias', 'dense.kernel', 'dense_1.bias', 'wte.embeddings']);
    // Read back, the model computes what it did: the head reads the very table the embedding does.
    const inputs = { tokens: ids(2) };
    expectClose(new Interpreter(graph, file.tensors).run(inputs).outputs.logits, new Interpreter(graph, weights).run(inputs).outputs.logits, 0);
  });

  describe('the generated TensorFlow.js module', () => {
    let dir: string;
    beforeAll(() => void (dir = generatedDir()));
    afterAll(() => removeGenerated(dir));

    it('uses one variable for both layers, and predicts as the interpreter does', async () => {
      const graph = modelOf(LM);
      const [file] = await emitModules(dir, [{ graph, sourcePath: 'tied.dl' }]);
      const mod = await loadModule(file);
      expect(Object.keys(mod.weightSpecs)).toEqual(['wte.embeddings', 'dense.kernel', 'dense.bias', 'dense_1.bias']);
      const weights = weightsFor(graph, 5);
      const inputs = { tokens: ids(3) };
      const w = Object.fromEntries([...weights].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
      const out = mod.predict(w, { tokens: tf.tensor(inputs.tokens.data, inputs.tokens.shape, 'int32') });
      expectClose(fromTf(out.logits), new Interpreter(graph, weights).run(inputs).outputs.logits);
      tf.dispose([out, w]);
    });
  });

  it('is a located error when the widths differ, the layer is no embedding, or no layer has the name', () => {
    const model = (head: string) => `model M {\n  input tokens: [4] int\n  e = tokens -> embedding(10, 8) as wte -> dense(8) as proj\n  output y = e -> ${head}\n}\n`;
    const first = (head: string) => errorsOf(model(head))[0];
    expect(first('dense(16) -> dense(10, tie = wte)')).toMatchObject({ at: '4:32', message: expect.stringContaining('tie = wte reuses a table of 8-wide vectors, but the input is 16 wide') });
    expect(first('dense(12, tie = wte)')).toMatchObject({ at: '4:19', message: expect.stringContaining('tie = wte has 10 tokens, so the head has 10 units, not 12'), hint: 'write dense(10, ...)' });
    expect(first('dense(10, tie = proj)')).toMatchObject({ message: expect.stringContaining('tie = proj names a dense layer, not an embedding') });
    expect(first('dense(10, tie = wtf)')).toMatchObject({ at: '4:35', message: "no layer named 'wtf' before this line", hint: "did you mean 'wte'?" });
  });
});
