/**
 * The long fuzz run's findings (issue 16; seed 100, 200,000 inputs): each
 * shrunk reproducer, as the fuzzer wrote it (but for a space after each
 * keyword: `modelM{inputx:` once read as `model M { input x:`, and a keyword
 * is now a whole word), gets a located error or a correct result. Results are compared with an independent computation: the
 * unoptimized graph in the interpreter (whose batchnorm kernel is checked
 * against tf.layers), TensorFlow's own resizeBilinear, arithmetic done here.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../src/backends/interp/execute.js';
import { emitTfjs } from '../src/backends/tfjs/index.js';
import type { Graph } from '../src/ir/types.js';
import { firstDifference, runPipeline } from '../src/fuzz/pipeline.js';
import { optimize } from '../src/passes/pipeline.js';
import { createRng } from '../src/runtime/random.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './backends/interp/helpers.js';
import { randomIds, weightsFor } from './backends/interp/grad/harness.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from './backends/tfjs/generated.js';
import { typeCheck } from './backends/tfjs/typecheck.js';
import { cliSandbox } from './cli/process.js';
import { compileText, errorsOf } from './helpers.js';

const { dir, dlc, file } = cliSandbox('dlc-fuzz-findings-', { timeout: 120_000 });

/** Random inputs for every model input: token ids below `vocab` for int inputs, normal floats otherwise. */
function inputsFor(graph: Graph, seed: number, vocab: number) {
  const rng = createRng(seed);
  return Object.fromEntries(
    graph.inputs.map((n) => {
      const shape = [3, ...(n.type.shape.slice(1) as number[])];
      return [n.name, n.type.dtype === 'int32' ? randomIds(shape, vocab, rng) : randTensor(shape, rng)];
    }),
  );
}

/** What the text between a diagnostic's span covers. */
const spanned = (text: string, d: { span?: { start: number; end: number } }) => text.slice(d.span!.start, d.span!.end);

describe('batchnorm folding (findings 4, 6 and 8: "bias [6] does not match 1 units", "no weight dense.kernel")', () => {
  // 4: a batchnorm over the 6 steps of a [6, 1] dense output has inner size 1, and was folded into the dense's 1 unit.
  const finding4 = `model Generated59238 {
  input x: [6] int
  e = x -> embedding(26, 4)
  h0 = e -> avgpool([1])
  h1 = h0 
  h2 = h1 -> dense(1)
  h3 = h2 -> batchnorm(axis = 1, center = true) as layer3
  h4 = h3 -> batchnorm(scale = true)
  output  h4
}
`;
  // 8: the same over the 8 columns of a [6, 8, 1] convolution.
  const finding8 = `model Generated163145 {
  input x: [6, 8, 1]
  h0 = x -> dropout(0.82) as layer0
  h1 = h0 -> layernorm(epsilon = 1.26)
  h2 = h1 -> conv2d(filters = 1, 1)
  h3 = h2 -> batchnorm(axis =2, momentum = 0.32,  scale = false)
  h4 = h3 -> global_maxpool()
  h5 = multiply(h4, h4)
  h6 = h5 
  h7 = add(h6, h6 -> dropout(0.44))
  output y = h7
}
`;
  // 6: a head tied to an embedding has no kernel of its own: its kernel is the embedding's table.
  const finding6 = `model TiedHeadWithBias{input tokens:[16]int
  h=tokens->embedding(1000,32)as wte -> layernorm
  output logits = h -> dense(1000, tie = wte) -> batchnorm
}`;
  // The fold that is right: the same [6, 1] dense, normalised over its one unit (the last axis).
  const channelAxis = 'model M {\n  input x: [6, 4]\n  output y = x -> dense(1) -> batchnorm(axis = 2)\n}\n';

  const cases: [string, string, number, boolean][] = [
    ['finding 4: over the steps of [6, 1]', finding4, 26, false],
    ['finding 8: over the columns of [6, 8, 1]', finding8, 1, false],
    ['finding 6: after a tied head', finding6, 1000, false],
    ['the channel axis of [6, 1], which folds', channelAxis, 1, true],
  ];
  for (const [what, text, vocab, folds] of cases)
    it(`${what}: the optimized interpreter gives the unoptimized outputs`, () => {
      const source = compileText(text);
      const folded = optimize(source).graph;
      const foldedLayers = folded.nodes.filter((n) => (n.resolved as { batchnorm?: unknown }).batchnorm);
      expect(foldedLayers.length > 0).toBe(folds);
      const weights = weightsFor(source, 4);
      const inputs = inputsFor(source, 5, vocab);
      const expected = new Interpreter(optimize(source, { level: 0 }).graph, weights).run(inputs).outputs;
      const actual = new Interpreter(folded, weights).run(inputs).outputs;
      for (const { name } of source.outputs) expectClose(actual[name]!, expected[name]!, 1e-5);
    });

  it("the fuzzer's pipeline, which now also compares optimized with unoptimized outputs, passes the reproducers", async () => {
    for (const text of [finding4, finding8, finding6]) expect(await runPipeline(text, { svg: false, tfjs: true, seed: 1 })).toEqual({ status: 'ok' });
  });

  it("the fuzzer's comparison allows float32 rounding and matching non-finite values, nothing else", () => {
    const t = (...data: number[]) => ({ shape: [1, data.length], data: Float32Array.from(data) });
    expect(firstDifference({ y: t(1000.5, 1e-7, NaN, -Infinity) }, { y: t(1000, 0, NaN, -Infinity) })).toBeUndefined();
    expect(firstDifference({ y: t(1, 2.01) }, { y: t(1, 2) })).toBe('output "y"[1]: 2.009999990463257 where the unoptimized graph gives 2');
    expect(firstDifference({ y: t(1, Infinity) }, { y: t(1, NaN) })).toBe('output "y"[1]: Infinity where the unoptimized graph gives NaN');
    expect(firstDifference({ y: t(1) }, { y: t(1, 2) })).toBe('output "y": shape [1, 1] where the unoptimized graph gives [1, 2]');
  });

  it('the diagram names the axis of a batchnorm over the steps of [6, 1], not of one over its last axis', () => {
    const text = 'model M {\n  input x: [6] int\n  e = x -> embedding(26, 4) -> dense(1)\n  output y = e -> batchnorm(axis = 1)\n  output z = e -> batchnorm()\n}\n';
    expect(dlc('diagram', file('bn.dl', text), '-o', join(dir, 'bn.dot'))).toMatchObject({ code: 0 });
    const labels = readFileSync(join(dir, 'bn.dot'), 'utf8').match(/label="batchnorm\\n[^"]*"/g);
    expect(labels).toEqual(['label="batchnorm\\naxis 1\\n24 params\\n&#8594; 6&#215;1"', 'label="batchnorm\\nbatchnorm_1\\n4 params\\n&#8594; 6&#215;1"']);
  });

  it('dlc run runs the reproducers', () => {
    const x4 = file('x4.json', JSON.stringify({ x: [[1, 2, 3, 4, 5, 25]] }));
    expect(dlc('run', file('f4.dl', finding4), '--input', x4)).toMatchObject({ code: 0, stderr: '' });
    const x8 = file('x8.json', JSON.stringify({ x: [Array.from({ length: 6 }, (_, i) => Array.from({ length: 8 }, (_, j) => [i - j]))] }));
    expect(dlc('run', file('f8.dl', finding8), '--input', x8)).toMatchObject({ code: 0, stderr: '' });
    const x6 = file('x6.json', JSON.stringify({ tokens: [Array.from({ length: 16 }, (_, i) => i * 61)] }));
    expect(dlc('run', file('f6.dl', finding6), '--input', x6)).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('upsampling in generated modules (findings 1 and 9: "Invalid array length", and a hang)', () => {
  const finding1 = 'model Bilinear{input image:[7,4294967297,3]output y=image->upsampling([2,3],interpolation= bilinear)\n}';
  const finding9 = (factor: string) => `model Bilinear {\n  input image: [7, 5, 3]\n  output y = image -> upsampling([${factor}, ${factor}], interpolation = bilinear)\n}\n`;

  it('compile --target tfjs writes the module, of one size whatever the factor', () => {
    expect(dlc('compile', file('f1.dl', finding1), '--target', 'tfjs', '-o', join(dir, 'f1.ts'))).toMatchObject({ code: 0 });
    expect(dlc('compile', file('f9.dl', finding9('1_000_000')), '--target', 'tfjs', '-o', join(dir, 'f9.ts'))).toMatchObject({ code: 0 });
    expect(dlc('compile', file('two.dl', finding9('2')), '--target', 'tfjs', '-o', join(dir, 'two.ts'))).toMatchObject({ code: 0 });
    // The taps are built when the module runs: a factor of a million changes numbers in the module, not its size.
    const [huge, two] = ['f9', 'two'].map((n) => readFileSync(join(dir, `${n}.ts`), 'utf8'));
    const calls = (factor: number) => new RegExp(`upsampleAxis\\(\\s*upsampleAxis\\(image, 1, ${factor}, 'bilinear'\\),\\s*2,\\s*${factor},\\s*'bilinear',?\\s*\\)`);
    expect(huge).toMatch(calls(1000000));
    expect(two).toMatch(calls(2));
    expect(Math.abs(huge.length - two.length)).toBeLessThan(200);
  });

  describe('the module computes what TensorFlow does', () => {
    const text = 'model Up {\n  input x: [3, 4, 2]\n  output b = x -> upsampling([2, 3], interpolation = bilinear)\n  output n = x -> upsampling([3, 2])\n}\n';
    let out: string;
    beforeAll(async () => {
      await useTfCpu();
      out = generatedDir();
    });
    afterAll(() => removeGenerated(out));

    it("bilinear is tf.image.resizeBilinear with half-pixel centres, nearest each cell repeated (tf.tile of an inserted axis); the module type-checks", async () => {
      const graph = compileText(text);
      const [path] = await emitModules(out, [{ graph, sourcePath: 'up.dl' }]);
      expect([...typeCheck([path]).values()].flat()).toEqual([]);
      const mod = await loadModule(path);
      const x = randTensor([2, 3, 4, 2], createRng(3));
      const { b, n } = mod.predict({}, { x: toTf(x) });
      expectClose(fromTf(b!), tf.image.resizeBilinear(toTf(x) as tf.Tensor4D, [6, 12], false, true));
      // Nearest by repeats: [2, 3, 1, 4, 1, 2] tiled to [2, 3, 3, 4, 2, 2], then merged.
      const repeated = tf.reshape(tf.tile(tf.reshape(toTf(x), [2, 3, 1, 4, 1, 2]), [1, 1, 3, 1, 2, 1]), [2, 9, 8, 2]);
      expectClose(fromTf(n!), repeated, 0);
    });
  });
});

describe('constants defined in reverse order (finding 3: "Maximum call stack size exceeded")', () => {
  /** `const c<top> = 1`, then c(top-1) = c(top) + 1 down to c0 = c1 + 1, with some lines replaced: c0 is top + 1. */
  const chain = (top: number, edits: Record<number, string> = {}) => [`const c${top} = 1`, ...Array.from({ length: top }, (_, k) => top - 1 - k).map((i) => edits[i] ?? `const c${i} = c${i + 1} + 1`)];

  for (const n of [3_000, 10_000])
    it(`${n.toLocaleString('en-US')} of them evaluate, in dependency order`, () => {
      const g = compileText(`${chain(n).join('\n')}\nmodel M {\n  input x: [4]\n  output y = x -> dense(c0 - ${n - 2})\n}\n`);
      expect(g.nodes[1].type.shape).toEqual([null, 3]);
    });

  it('a cycle through 3,000 of them is one located error, its path shortened', () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => `const c${i} = c${(i + 1) % 3000} + 1`).join('\n')}\nmodel M {\n  input x: [4]\n  output y = x -> dense(c0)\n}\n`;
    expect(errorsOf(text).map((e) => [e.at, e.message])).toEqual([['1:7', "'c0' depends on itself: c0 -> c1 -> c2 -> ... -> c2998 -> c2999 -> c0"]]);
  });

  it('short cycles name their whole path, each once', () => {
    const text = 'const a = b + 1\nconst b = c * 2\nconst c = a\nconst d = a + e\nconst e = e\nmodel M {\n  input x: [4]\n  output y = x -> dense(d)\n}\n';
    expect(errorsOf(text).map((e) => [e.at, e.message])).toEqual([
      ['1:7', "'a' depends on itself: a -> b -> c -> a"],
      ['5:7', "'e' depends on itself: e -> e"],
    ]);
  });

  it("the reproducer, two chains (one mutated into a cycle) and a model with errors, is a list of located errors", () => {
    const model = "# An op or a call with no input where a tensor is needed, with the chain to\n# write; an op among a merge's tensor inputs. (A name bound to an op is fine\n# until it is used as a tensor.)\nmodel M {\n  input x: [28, 28, 1]\n  act = relu\n  output y = act\n  output z = dense(10)\n  output w = add(act, x)\n}\n";
    const text = [...chain(100), ...chain(3000, { 2842: 'const c2842 = c2843 + c826', 825: 'const c825 = 1 + 1' }), ''].join('\n') + model;
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1 + 101 + 3);
    expect(errors.filter((e) => /is already defined/.test(e.message))).toHaveLength(101); // c100 down to c0, twice
    expect(errors.filter((e) => !/is already defined/.test(e.message)).map((e) => [e.at, e.message])).toEqual([
      ['260:7', "'c2842' depends on itself: c2842 -> c826 -> c827 -> ... -> c2840 -> c2841 -> c2842"],
      ['3109:14', 'expected a tensor value, got the op relu, which has no input'],
      ['3110:14', 'expected a tensor value, got the call dense(...), which has no input'],
      ['3111:23', 'add: tensor inputs must come before other arguments'],
    ]);
  });
});

describe('conv groups past any channel count (finding 5: "Invalid array length")', () => {
  it('is the located groups error, with a hint that does not list 4,294,967,297 candidates', () => {
    const text = (groups: string) => `model BadGroups{input x:[1,8,4294967297]y=x->conv2d(4294967297,3,groups=${groups})\n}`;
    const r = dlc('check', file('f5.dl', text('4294967296')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(':1:46: error: conv2d: groups = 4294967296 must divide both the input channels (4294967297) and the filters (4294967297)');
    expect(r.stderr).toContain('hint: use a divisor of their greatest common divisor, 4294967297');
    // The reproducer's own groups, 2^53 + 1, is not a double: refused where it is written, not rounded to 2^53.
    const rounded = dlc('check', file('f5.dl', text('9007199254740993')));
    expect(rounded.code).toBe(1);
    expect(rounded.stderr).toContain(":1:73: error: conv2d: argument 'groups' is 9007199254740992, too large to be exact: whole numbers must be below 2^53");
  });

  it('lists the common divisors when there are few: 12 channels and 18 filters share 1, 2, 3 and 6', () => {
    const [e] = errorsOf('model M {\n  input x: [8, 8, 12]\n  output y = x -> conv2d(18, 3, groups = 4)\n}\n');
    expect([e.at, e.hint]).toEqual(['3:19', 'use one of their common divisors: 1, 2, 3, 6']);
  });
});

describe('a destructuring statement that uses its own names (finding 7: "reading \'kind\'")', () => {
  it('the reproducer is a located cycle error', () => {
    const text = 'model seq2seq{decoded,true=lstm(true)as decoder}';
    const cycle = errorsOf(text).find((e) => e.code === 'cycle')!;
    expect([cycle.at, cycle.message, spanned(text, cycle)]).toEqual(['1:33', "'true' depends on itself: true -> decoded -> true", 'true']);
  });

  it('so is a name used after the statement gave it', () => {
    const text = 'model M {\n  input x: [4, 3]\n  out, h, c = x -> lstm(8, return_state = true, initial_state = [h, c])\n  output y = out\n}\n';
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.at, e.message, spanned(text, e)])).toEqual([['3:66', "'h' depends on itself: h -> out -> h", 'h']]);
  });
});

describe('dimension variables named like the module\'s own identifiers (issue 16, names)', () => {
  const text = 'model M {\n  input tf: [inputs] int\n  input w: [weights, 2]\n  h = tf -> embedding(27, 4) -> dense(3)\n  output y = h\n  output z = w -> dense(5)\n}\n';
  let out: string;
  beforeAll(async () => {
    await useTfCpu();
    out = generatedDir();
  });
  afterAll(() => removeGenerated(out));

  it('compile --target tfjs mangles them, with the name as written in a comment', () => {
    const r = dlc('compile', file('dims.dl', text), '--target', 'tfjs', '-o', join(dir, 'dims.ts'));
    expect(r).toMatchObject({ code: 0 });
    const code = readFileSync(join(dir, 'dims.ts'), 'utf8');
    expect(code).toContain('// The dimension variable "inputs".\n    const inputs_2 = tf_2.shape[1];');
    expect(code).toContain('// The dimension variable "weights".\n    const weights_2 = w.shape[1];');
  });

  it('the module type-checks and predicts what the interpreter computes, at two lengths', async () => {
    const graph = compileText(text);
    const [path] = await emitModules(out, [{ graph, sourcePath: 'dims.dl' }]);
    expect([...typeCheck([path]).values()].flat()).toEqual([]);
    const mod = await loadModule(path);
    const weights = weightsFor(graph, 6);
    const w = Object.fromEntries([...weights].map(([k, t]) => [k, toTf(t)]));
    for (const [steps, rows] of [[5, 2], [9, 7]]) {
      const rng = createRng(steps);
      const inputs = { tf: randomIds([2, steps], 27, rng), w: randTensor([2, rows, 2], rng) };
      const expected = new Interpreter(graph, weights).run(inputs).outputs;
      const actual = mod.predict(w, { tf: toTf(inputs.tf).cast('int32'), w: toTf(inputs.w) });
      expectClose(fromTf(actual.y!), expected.y!);
      expectClose(fromTf(actual.z!), expected.z!);
    }
  });

  it('emitTfjs takes every name the module declares itself', async () => {
    for (const name of ['tf', 'inputs', 'weights', 'predict', 'Math']) {
      const code = await emitTfjs(compileText(`model M {\n  input x: [${name}, 3]\n  output y = x -> dense(2)\n}\n`), { sourcePath: 'n.dl' });
      expect(code).toContain(`// The dimension variable "${name}".`);
    }
  });
});

describe('transposed convolutions past any tensor size (seed 300 finding: "Invalid array length" in tfjs emit)', () => {
  const finding = (dilation: string) =>
    `model M {\n  input x: [7, 7, 1]\n  y = x -> conv2d_transpose(2, 3) -> conv2d_transpose(2, 3) -> conv2d_transpose(1000000000, 1e9, dilation = ${dilation}, bias = false)\n  output y\n}\n`;

  it('an output of 2^53 values or more is a located error at check, naming the shape', () => {
    const r = dlc('check', file('big.dl', finding('9007199254740991')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/big\.dl:3:64: error: conv2d_transpose: its output would be \[9\.0071992\d*e\+24, 9\.0071992\d*e\+24, 1000000000\]: at most 2\^53 - 1 values fit in a tensor/);
    // As the layer's rule is run, the weights are checked too: a dense of 10^8 by 10^8 cannot be counted either.
    const [e] = errorsOf('model M {\n  input x: [100000000]\n  output y = x -> dense(100000000)\n}\n');
    expect([e.at, e.message]).toEqual(['3:19', "dense: its weight 'kernel' would be [100000000, 100000000]: at most 2^53 - 1 values fit in a tensor"]);
  });

  it('the module dilates its kernel when it runs: a dilation of a million changes a number, not the size', () => {
    const model = (dilation: number) => `model M {\n  input x: [2, 2, 1]\n  output y = x -> conv2d_transpose(1, 3, dilation = ${dilation})\n}\n`;
    for (const d of [2, 1000000]) expect(dlc('compile', file(`d${d}.dl`, model(d)), '--target', 'tfjs', '-o', join(dir, `d${d}.ts`))).toMatchObject({ code: 0 });
    const [huge, two] = [1000000, 2].map((d) => readFileSync(join(dir, `d${d}.ts`), 'utf8'));
    expect(huge).toMatch(/dilateKernel\(weights\[.*\], 0, 1000000\)/);
    expect(Math.abs(huge.length - two.length)).toBeLessThan(100);
  });
});
