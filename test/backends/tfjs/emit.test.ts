/**
 * The TensorFlow.js emitter against the interpreter. Every example model,
 * random valid chains, a coverage model and a model of hostile names are
 * emitted into .generated/run-XXXXXX/ (gitignored, removed after the run),
 * type-checked together in one strict TypeScript program, imported, and run:
 * `createWeights` must equal the interpreter's initWeights bit for bit,
 * `saveWeights` its weights file byte for byte, and `predict` on the
 * interpreter's (perturbed) weights its outputs to 1e-4. Examples run as
 * written and as the optimizer leaves them (fused ops, folded constants).
 * The MNIST module is kept under review as a golden file.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'prettier';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { initWeights, saveWeights, weightProblems, type Weights } from '../../../src/backends/interp/weights.js';
import { emitTfjs, tfjsModuleNames } from '../../../src/backends/tfjs/index.js';
import { compileFile, compileSource } from '../../../src/compile.js';
import { layerStats } from '../../../src/ir/infer.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { encodeSafetensors } from '../../../src/weights/safetensors.js';
import { expectClose, fromTf, randTensor, useTfCpu } from '../interp/helpers.js';
import { randomModel } from '../../random-models.js';
import type { GeneratedModule } from './generated.js';
import { typeCheck } from './typecheck.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

interface Case {
  label: string;
  graph: Graph;
  sourcePath: string;
  file: string;
  code: string;
}

// A model with names that must not become code: unicode, Object.prototype's,
// ones that collide after sanitizing (a_b and the block's a/b), names of the
// module's own API and support code, and a comment that tries to close one.
const HOSTILE = `# Hostile names
block a(n) {
  input x
  output x -> dense(n) as b
}

model évaluation {
  input __proto__: [4]
  input constructor: [4]
  h = add(__proto__, constructor) -> dense(4) as a_b   # */ alert(1) /* \`\${pwned}\` */
  k = h -> a(4) -> relu as toString -> relu as hasOwnProperty -> relu as tf -> relu as weights
  m = k -> relu as inputs -> relu as predict -> relu as createRng -> relu as eval -> relu as 日本語 -> relu as Ωmega
  output valueOf = m -> dense(3) as __proto__x -> softmax as constructor_
  output toString_ = add(m, m -> dropout(0.5)) -> dropout(0.1)
}

model __proto__ {
  input x: [2]
  output constructor = x -> dense(2) as __proto__
  output same = x
}
`;
// Paths the random chains may miss: conv1d with stride and dilation, no bias,
// a global max, pools of two sizes, a relu rnn both ways, learned positions,
// attention with distinct query, value and key, and outputs that are
// an input or alias one (so predict must clone them). Run as written and optimized
// (fused tanh, which tf.fused cannot apply itself).
const COVERAGE = `model Coverage {
  input x: [9, 3]
  input img: [7, 6, 2]
  c = x -> conv1d(4, kernel = 2, stride = 2, dilation = 2, padding = same) -> relu
  d = x -> conv1d(4, kernel = 3, stride = 2, dilation = 2, bias = false)
  g = img -> conv2d(3, kernel = 3, stride = 2, dilation = 2, padding = same) -> global_maxpool
  p = img -> avgpool(3, stride = 2, padding = same) -> maxpool([1, 2], padding = same)
  e = x -> dense(5, bias = false) -> tanh
  r = x -> bidirectional(rnn(3, activation = relu))
  q = x -> positional(learned) -> positional
  v = x -> dense(2)
  k = x -> dense(5)
  a = attention(q, v, k, heads = 2, key_dim = 2, value_dim = 3, output_dim = 4, causal = true)
  output y = concat(c -> flatten, d -> flatten, g, p -> flatten, e -> flatten, r, a -> flatten)
  output same = x
  output alias = x -> dropout(0.5)
}
`;

const HOSTILE_PATH = 'hostile*/ alert(1) \u2028 `${x}`.dl';

let cases: Case[] = [];
let diagnostics = new Map<string, string[]>();
let scratch: string;
/** This run's own directory under .generated/ (inside the project, so that the modules resolve @tensorflow/tfjs). */
let generated: string;

beforeAll(async () => {
  await useTfCpu();
  mkdirSync(join(here, '.generated'), { recursive: true });
  generated = mkdtempSync(join(here, '.generated', 'run-'));
  scratch = mkdtempSync(join(tmpdir(), 'dlc-tfjs-'));

  const sources: { label: string; graphs: Graph[]; sourcePath: string }[] = [];
  for (const name of readdirSync(examples).filter((f) => f.endsWith('.dl')).sort()) {
    const { graphs } = compileFile(join(examples, name));
    sources.push({ label: name, graphs, sourcePath: `examples/${name}` });
    // As the optimizer leaves them: fused dense and conv, folded constants, no dropout.
    sources.push({ label: `${name}, optimized`, graphs: graphs.map((g) => optimize(g).graph), sourcePath: `examples/${name}` });
  }
  for (let i = 0; i < 10; i++) {
    const text = randomModel(2024 + i, `Random${i}`);
    sources.push({ label: `random ${i}:\n${text}`, graphs: compileSource({ path: `random${i}.dl`, text }).graphs, sourcePath: `random${i}.dl` });
  }
  const coverage = compileSource({ path: 'coverage.dl', text: COVERAGE }).graphs;
  sources.push({ label: 'coverage', graphs: coverage, sourcePath: 'coverage.dl' });
  sources.push({ label: 'coverage, optimized', graphs: coverage.map((g) => optimize(g).graph), sourcePath: 'coverage.dl' });
  sources.push({ label: 'hostile', graphs: compileSource({ path: HOSTILE_PATH, text: HOSTILE }).graphs, sourcePath: HOSTILE_PATH });

  const all = sources.flatMap((s) => s.graphs.map((graph) => ({ ...s, graph })));
  const names = tfjsModuleNames(all.map((c) => c.graph));
  cases = await Promise.all(
    all.map(async ({ label, graph, sourcePath }, i) => {
      const code = await emitTfjs(graph, { sourcePath });
      const file = join(generated, `${names[i]}.ts`);
      writeFileSync(file, code);
      return { label: `${graph.name} (${label})`, graph, sourcePath, file, code };
    }),
  );
  diagnostics = typeCheck(cases.map((c) => c.file));
}, 240_000); // ~80 modules emitted and type-checked: seconds when quiet, minutes beside other test files on 2 cores

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(generated, { recursive: true, force: true });
});

const load = (c: Case) => import(pathToFileURL(c.file).href) as Promise<GeneratedModule>;
/** The case of a model as written (the optimized copy comes second). */
const caseNamed = (name: string) => cases.find((c) => c.graph.name === name)!;
const paramCount = (g: Graph) => g.nodes.reduce((n, node) => n + (node.op === 'input' ? 0 : layerStats(node).paramCount), 0);

/** The interpreter's weights with noise on every value, so biases and scales are not all 0 or 1. */
function perturbedWeights(graph: Graph, seed: number): Weights {
  const weights = initWeights(graph, { seed });
  const rng = createRng(seed + 1);
  for (const t of weights.values()) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.2 * rng.uniform() - 0.1;
  return weights;
}

/** Random inputs, batch 2: token ids below the smallest vocabulary reading them, floats in [-1, 1) otherwise; a length T of 5. */
function randomInputs(graph: Graph, seed: number): Record<string, Tensor> {
  const rng = createRng(seed);
  const inputs: Record<string, Tensor> = {};
  for (const input of graph.inputs) {
    const shape = [2, ...input.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : 5))];
    if (input.type.dtype === 'float32') inputs[input.name] = randTensor(shape, rng);
    else {
      const vocab = Math.min(...graph.nodes.filter((n) => n.op === 'embedding' && n.inputs.includes(input)).map((n) => n.attrs.vocab as number));
      const t = randTensor(shape, rng);
      t.data = t.data.map(() => Math.floor(rng.uniform() * vocab));
      inputs[input.name] = t;
    }
  }
  return inputs;
}

async function interpreterBytes(graph: Graph, weights: Weights): Promise<Uint8Array> {
  const path = join(scratch, `${graph.nodes.length}-${Math.random().toString(36).slice(2)}.safetensors`);
  await saveWeights(path, graph, weights);
  return new Uint8Array(readFileSync(path));
}

/** Runs the generated module and the interpreter on the same weights file and inputs. */
async function expectSameAsInterpreter(c: Case, seed = 1): Promise<void> {
  const mod = await load(c);
  const weights = perturbedWeights(c.graph, seed);
  const inputs = randomInputs(c.graph, seed);
  const expected = new Interpreter(c.graph, weights).run(inputs).outputs;
  const tfWeights = mod.loadWeights(await interpreterBytes(c.graph, weights));
  const tfInputs = Object.fromEntries(
    c.graph.inputs.map((n) => [n.name, tf.tensor(inputs[n.name].data, inputs[n.name].shape, n.type.dtype)]),
  );
  const outputs = mod.predict(tfWeights, tfInputs);
  try {
    expect(Object.keys(outputs).sort()).toEqual(c.graph.outputs.map((o) => o.name).sort());
    for (const { name } of c.graph.outputs) expectClose(fromTf(outputs[name]), expected[name], 1e-4);
  } finally {
    tf.dispose([tfWeights, tfInputs, outputs]);
  }
}

/** Bit-for-bit equality, fast on large arrays (toEqual walks them element by element). */
function expectSameBits(actual: ArrayBufferView, expected: ArrayBufferView, what: string): void {
  const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  expect(bytes(actual).equals(bytes(expected)), what).toBe(true);
}

const runnable = () => cases.filter((c) => paramCount(c.graph) < 5_000_000);

describe('generated modules', () => {
  it('type-check under strict settings, without Node types', () => {
    const problems = [...diagnostics.values()].flat();
    expect(problems).toEqual([]);
    expect(cases.length).toBeGreaterThan(20);
  });

  it('are prettier-formatted and import nothing but @tensorflow/tfjs', async () => {
    for (const name of ['MnistConvNet', 'TextTransformer', 'Sentiment', 'évaluation'])
      expect(caseNamed(name).code).toBe(await format(caseNamed(name).code, { parser: 'typescript', singleQuote: true, printWidth: 100, trailingComma: 'all' }));
    for (const c of cases) {
      expect(c.code.match(/^import .*$/gm)).toEqual(["import * as tf from '@tensorflow/tfjs';"]);
      expect(c.code).not.toMatch(/\bBuffer\b|\brequire\(|node:|process\./);
    }
  });

  it('carry the .dl source line of each layer', () => {
    const c = caseNamed('MnistConvNet');
    expect(c.code).toContain("// examples/mnist_convnet.dl:11: -> conv2d(64, kernel = 3) -> relu\n    const conv2d_1: tf.Tensor4D = tf.fused.conv2d({");
    const consts = c.code.slice(c.code.indexOf('export function predict'), c.code.indexOf('return { probs')).match(/^ *const \w+: tf/gm)!;
    const commented = c.code.match(/\/\/ examples\/mnist_convnet\.dl:\d+: .*\n *const \w+: tf/g)!;
    expect(commented.length).toBe(consts.length);
    expect(consts.length).toBe(c.graph.nodes.length - 1);
  });

  it("copy the support declarations of this build, parsed from the runtime's and support.ts's sources", async () => {
    // @ts-expect-error: a build script, plain JavaScript without types
    const { supportDeclarations } = await import('../../../scripts/support.js');
    const built = JSON.parse(readFileSync(new URL('../../../src/backends/tfjs/support-declarations.json', import.meta.url), 'utf8'));
    expect(built, 'the table is stale: run `npm run build`').toEqual(await supportDeclarations());
    const names = built.map((d: { name: string }) => d.name);
    expect(names).toContain('createRng');
    expect(names).toContain('decodeSafetensors');
    expect(names).toContain('fit');
    // createRng's uses, as random.ts shows them: its interface, its class and the seed mixer.
    const byName = new Map(built.map((d: { name: string; uses: string[] }) => [d.name, d.uses]));
    expect(byName.get('createRng')).toEqual(['Rng', 'Xoshiro128', 'mix32']);
  });

  it('keep the MNIST module under review', async () => {
    await expect(caseNamed('MnistConvNet').code).toMatchFileSnapshot('__snapshots__/MnistConvNet.ts.snap');
  });
});

describe('createWeights and saveWeights', () => {
  it("equal the interpreter's initWeights and weights file exactly", async () => {
    for (const c of runnable()) {
      const mod = await load(c);
      const ours = mod.createWeights(7);
      try {
        const theirs = initWeights(c.graph, { seed: 7 });
        expect(Object.keys(ours)).toEqual([...theirs.keys()]);
        for (const [name, t] of theirs) {
          expect(ours[name].shape, `${c.label}: ${name}`).toEqual(t.shape);
          expectSameBits(ours[name].dataSync(), t.data, `${c.label}: ${name}`);
        }
        expectSameBits(mod.saveWeights(ours), await interpreterBytes(c.graph, theirs), `${c.label}: weights file`);
      } finally {
        tf.dispose(ours);
      }
    }
  });

  it('follow the interpreter for the lecture option N(0, sigma^2) too', async () => {
    const c = caseNamed('Sentiment');
    const mod = await load(c);
    const ours = mod.createWeights(3, { normalSigma: 0.05 });
    const theirs = initWeights(c.graph, { seed: 3, normalSigma: 0.05 });
    for (const [name, t] of theirs) expectSameBits(ours[name].dataSync(), t.data, name);
    tf.dispose(ours);
  });

  it('round-trip through loadWeights', async () => {
    const mod = await load(caseNamed('TextTransformer'));
    const weights = mod.createWeights(5);
    const bytes = mod.saveWeights(weights, { note: 'hi' });
    const again = mod.loadWeights(bytes);
    expectSameBits(mod.saveWeights(again, { note: 'hi' }), bytes, 'weights file');
    tf.dispose([weights, again]);
  });
});

describe('loadWeights', () => {
  const mnistWeights = () => initWeights(caseNamed('MnistConvNet').graph, { seed: 1 });

  it("reports missing, misshapen and extra tensors all at once, in the interpreter's words", async () => {
    const { graph } = caseNamed('MnistConvNet');
    const mod = await load(caseNamed('MnistConvNet'));
    const weights = mnistWeights();
    weights.delete('dense.bias');
    weights.set('conv2d.kernel', { shape: [3, 3, 2, 16], data: new Float32Array(288) });
    weights.set('dense_9.kernel', { shape: [1], data: new Float32Array(1) });
    const bytes = encodeSafetensors(weights);
    const error = (() => {
      try {
        mod.loadWeights(bytes);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected loadWeights to throw');
    })();
    expect(error).toBeInstanceOf(mod.WeightsFileError);
    expect(error.message).toBe(`weights file: ${weightProblems(graph, weights).join('\n  ')}`);
    expect(error.message).toContain('tensor "conv2d.kernel" has shape [3, 3, 2, 16] but the model needs [3, 3, 1, 32]');
    expect(error.message).toContain('weights file has no tensor "dense.bias" (expected shape [10])');
    expect(error.message).toContain('weights file has tensors this model does not use: "dense_9.kernel"');
  });

  it('rejects damaged files with the codec error', async () => {
    const mod = await load(caseNamed('MnistConvNet'));
    expect(() => mod.loadWeights(new Uint8Array([1, 2, 3]))).toThrow('weights file: the file is 3 bytes long, too short for the 8-byte header length');
    const weights = mnistWeights();
    weights.get('dense.bias')!.data[3] = NaN;
    expect(() => mod.loadWeights(encodeSafetensors(weights))).toThrow('tensor "dense.bias" contains NaN or infinite values');
  });
});

describe('predict', () => {
  it('matches the interpreter on every example', async () => {
    const exampleCases = runnable().filter((c) => c.sourcePath.startsWith('examples/'));
    expect(exampleCases.map((c) => c.graph.name)).toContain('TextTransformer');
    for (const c of exampleCases) await expectSameAsInterpreter(c);
  });

  it('matches the interpreter on random models and every op path', async () => {
    const chains = cases.filter((c) => c.graph.name.startsWith('Random') || c.graph.name === 'Coverage');
    expect(chains.some((c) => /tf\.tanh\(\s+tf\.reshape\(\s+tf\.fused\.matMul\(/.test(c.code))).toBe(true); // fused_dense + tanh
    for (const c of chains) {
      try {
        await expectSameAsInterpreter(c, 11);
      } catch (e) {
        throw new Error(`${c.label}\n${(e as Error).message}`);
      }
    }
  });

  it('checks its inputs with clear messages', async () => {
    const mod = await load(caseNamed('MnistConvNet'));
    const weights = mod.createWeights(1);
    expect(() => mod.predict(weights, {})).toThrow('missing input "image" of shape [batch, 28, 28, 1] (a float32 tf.Tensor)');
    expect(() => mod.predict(weights, { image: tf.zeros([28, 28, 1]) })).toThrow(
      'input "image" has shape [28, 28, 1] but needs [batch, 28, 28, 1]: add the batch dimension, e.g. tf.expandDims(x, 0)',
    );
    expect(() => mod.predict(weights, { image: tf.zeros([1, 28, 27, 1]) })).toThrow('input "image" has shape [1, 28, 27, 1] but the model needs [batch, 28, 28, 1]');
    expect(() => mod.predict(weights, { image: tf.zeros([1, 28, 28, 1], 'int32') })).toThrow("input \"image\" is int32 but the model needs float32: convert it with tf.cast(x, 'float32')");
    const sentiment = await load(caseNamed('Sentiment'));
    expect(() => sentiment.predict({}, { tokens: tf.zeros([1, 200]) })).toThrow('input "tokens" is float32 but the model needs int32 token ids');
    tf.dispose(weights);
  });

  it('clones outputs that are inputs, so that disposing one never frees another', async () => {
    const c = caseNamed('Coverage');
    expect(c.code).toContain('return { y: concat, same: tf.clone(x), alias: tf.clone(dropout) };');
  });

  it('frees every intermediate tensor', async () => {
    const mod = await load(caseNamed('TinyResNet'));
    const weights = mod.createWeights(1);
    const image = tf.randomUniform([2, 32, 32, 3]);
    const before = tf.memory().numTensors;
    const { logits } = mod.predict(weights, { image });
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([logits, image, weights]);
  });
});

describe('hostile names', () => {
  it('become unique identifiers, and the module runs like the interpreter', async () => {
    const c = caseNamed('évaluation');
    expect(diagnostics.get(c.file)).toEqual([]);
    const predict = c.code.slice(c.code.indexOf('export function predict'), c.code.indexOf('export function createWeights'));
    const locals = [...predict.matchAll(/const (\S+?)(?::| =)/g)].map((m) => m[1]);
    expect(locals).toEqual([
      '__proto__', 'constructor', 'add', 'a_b', 'a_b_2', 'toString', 'hasOwnProperty', 'tf_2', 'weights_2', 'inputs_2',
      'predict_2', 'createRng_2', 'eval_2', '日本語', 'Ωmega', '__proto__x', 'constructor_', 'dropout', 'add_1', 'dropout_1',
    ]);
    expect(predict).toContain("const a_b_2: tf.Tensor2D = tf.fused.matMul({\n      a: a_b,\n      b: weights['a/b.kernel'],");
    expect(predict).toContain("const __proto__ = inputs['__proto__'];");
    expect(predict).toContain("return { valueOf: constructor_, toString_: dropout_1 };");
    expect(c.code).toContain("export type Inputs = { ['__proto__']: ProtoInput; constructor: ConstructorInput };");
    await expectSameAsInterpreter(c);
    await expectSameAsInterpreter(caseNamed('__proto__'));
  });

  it('appear only inside comments and string literals', () => {
    for (const c of [caseNamed('évaluation'), caseNamed('__proto__')]) {
      const inert = inertRanges(c.code);
      for (const fragment of ['alert(1)', '`${', 'pwned', '\u2028', 'évaluation', 'a/b', '*/ alert']) {
        for (let at = c.code.indexOf(fragment); at >= 0; at = c.code.indexOf(fragment, at + 1))
          expect(inert.some(([from, to]) => at >= from && at + fragment.length <= to), `${fragment} at ${at}`).toBe(true);
      }
      expect(c.code).not.toContain('\u2028');
    }
    expect(caseNamed('évaluation').code).toContain('// hostile*/ alert(1)   `${x}`.dl:10: h = add(__proto__, constructor) -> dense(4) as a_b   # */ alert(1) /* `${pwned}` */');
  });
});

describe('tfjsModuleNames', () => {
  it('gives every model its own file, also on a case-insensitive file system', () => {
    const graph = (name: string) => ({ ...caseNamed('Perceptron').graph, name });
    expect(tfjsModuleNames(['Net', 'net', 'a/b', 'a_b', 'évaluation', 'Net'].map(graph))).toEqual(['Net', 'net_2', 'a_b', 'a_b_2', 'évaluation', 'Net_3']);
  });
});

describe('on the wasm backend', () => {
  it('runs the examples as the interpreter does', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend('wasm')).toBe(true);
    try {
      for (const name of ['MnistConvNet', 'TextTransformer', 'Sentiment', 'CharRNN', 'Conv1D']) await expectSameAsInterpreter(caseNamed(name), 5);
    } finally {
      await useTfCpu();
    }
  });
});

/** Source ranges of comments and string or template literal text, found by TypeScript's parser. */
function inertRanges(code: string): [number, number][] {
  const file = ts.createSourceFile('m.ts', code, ts.ScriptTarget.ES2022, true);
  const ranges: [number, number][] = [];
  const comments = (list: ts.CommentRange[] | undefined) => list?.forEach((r) => ranges.push([r.pos, r.end]));
  const visit = (node: ts.Node) => {
    comments(ts.getLeadingCommentRanges(code, node.pos));
    comments(ts.getTrailingCommentRanges(code, node.end));
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node)) ranges.push([node.getStart(), node.end]);
    ts.forEachChild(node, visit);
  };
  visit(file);
  comments(ts.getLeadingCommentRanges(code, file.endOfFileToken.pos));
  return ranges;
}
