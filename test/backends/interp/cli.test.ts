/**
 * `dlc init` and `dlc run` as a user meets them: the compiled CLI (dist/, built
 * by `npm test`) in a child process. Weights files must be reproducible from a
 * seed; `run` must give the interpreter's numbers; and every bad input or
 * weights file must end in exit 1 with one clear message that names the input
 * or tensor with the expected and the actual shape, never a stack trace or an
 * "internal error".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox } from '../../cli/process.js';
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { inputsFromJson } from '../../../src/backends/interp/io.js';
import { createRng } from '../../../src/runtime/random.js';
import { initWeights, loadWeights } from '../../../src/backends/interp/weights.js';
import { compileFile, selectModel } from '../../../src/compile.js';
import { encodeSafetensors, type WeightTensor } from '../../../src/weights/safetensors.js';

const { dir, dlc, file } = cliSandbox('dlc-interp-cli-', { env: { DLC_DEBUG: '' } });
const json = (name: string, value: unknown) => file(name, JSON.stringify(value));

/** Exit 1 with one `error:` message containing every fragment; no stack, no "internal error". */
function expectUserError(r: ReturnType<typeof dlc>, ...fragments: string[]): void {
  expect(r.stderr).not.toContain('\n    at ');
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).toMatch(/^error: /);
  for (const f of fragments) expect(r.stderr).toContain(f);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
}

/** Every element of `got` (JSON, 7 significant digits) within 1e-6 of `want`, relatively. */
function expectNumbersClose(got: unknown, want: Float32Array): void {
  const flat = [got].flat(Infinity) as number[];
  expect(flat.length).toBe(want.length);
  flat.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]))));
}

const graphOf = (name: string) => selectModel(compileFile(`examples/${name}.dl`));

/** A batch of `n` examples of `shape`, uniform in [-1, 1), as nested arrays. */
function randomBatch(n: number, shape: number[], seed: number): unknown {
  const rng = createRng(seed);
  const build = (dims: number[]): unknown => (dims.length === 0 ? 2 * rng.uniform() - 1 : Array.from({ length: dims[0] }, () => build(dims.slice(1))));
  return build([n, ...shape]);
}

describe('dlc init', () => {
  const w3 = join(dir, 'mlp-3.safetensors');

  it('writes the same bytes for the same seed and different bytes for another seed', () => {
    const again = join(dir, 'mlp-3-again.safetensors');
    const other = join(dir, 'mlp-4.safetensors');
    const r = dlc('init', 'examples/mlp.dl', '-o', w3, '--seed', '3');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${w3}: 6 tensors, 109,386 parameters (427.29 KB)\n`);
    expect(dlc('init', 'examples/mlp.dl', '-o', again, '--seed', '3').code).toBe(0);
    expect(dlc('init', 'examples/mlp.dl', '-o', other, '--seed', '4').code).toBe(0);
    const [a, b, c] = [w3, again, other].map((p) => readFileSync(p));
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBe(c.length);
    expect(a.equals(c)).toBe(false);
  });

  it("writes exactly initWeights' tensors for the seed", async () => {
    const graph = graphOf('mlp');
    const loaded = await loadWeights(w3, graph);
    const fresh = initWeights(graph, { seed: 3 });
    expect([...loaded.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [name, t] of fresh) {
      expect(loaded.get(name)!.shape).toEqual(t.shape);
      expect(loaded.get(name)!.data).toEqual(t.data);
    }
  });

  it('an output in a directory that does not exist is an error and leaves no file behind', () => {
    const missing = join(dir, 'no-such-dir');
    const r = dlc('init', 'examples/perceptron.dl', '-o', join(missing, 'w.safetensors'));
    expectUserError(r, missing, 'no such file or directory');
    expect(existsSync(missing)).toBe(false);
  });

  it('an output that is a directory is an error and leaves no temporary file beside it', () => {
    const parent = join(dir, 'parent');
    const target = join(parent, 'a-directory');
    mkdirSync(target, { recursive: true });
    const r = dlc('init', 'examples/perceptron.dl', '-o', target);
    expectUserError(r, 'is a directory');
    expect(readdirSync(parent)).toEqual(['a-directory']);
    expect(readdirSync(target)).toEqual([]);
  });

  it('a model too large to allocate is a clear error, not an internal one', () => {
    const out = join(dir, 'fc.safetensors');
    expectUserError(dlc('init', 'examples/fully_connected.dl', '-o', out), '16,000,400,000 parameters (59.61 GB at fp32)');
    expect(existsSync(out)).toBe(false);
  });
});

describe('dlc summary of a model too large to allocate', () => {
  it('counts the 16 billion weights of fully_connected.dl', () => {
    const r = dlc('summary', 'examples/fully_connected.dl');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dense (dense)       (batch, 400000)     16,000,400,000   32,000,000,000');
    expect(r.stdout).toContain('Total params: 16,000,400,000 (59.61 GB)');
  });
});

describe('dlc run', () => {
  const weights = join(dir, 'mlp-run.safetensors');
  const batch = randomBatch(2, [784], 1);
  const input = json('mlp-input.json', { pixels: batch });

  it("with --weights prints the interpreter's outputs for those weights", async () => {
    expect(dlc('init', 'examples/mlp.dl', '-o', weights, '--seed', '5').code).toBe(0);
    const graph = graphOf('mlp');
    const expected = new Interpreter(graph, await loadWeights(weights, graph)).run(inputsFromJson(graph, { pixels: batch })).outputs.probs;
    const r = dlc('run', 'examples/mlp.dl', '--input', input, '--weights', weights, '--json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['probs']);
    expect(out.probs).toHaveLength(2);
    expect(out.probs[0]).toHaveLength(10);
    expectNumbersClose(out.probs, expected.data);
    // Without --weights, --seed 5 makes the same weights in memory.
    expect(JSON.parse(dlc('run', 'examples/mlp.dl', '--input', input, '--seed', '5', '--json').stdout)).toEqual(out);
    // And another seed other numbers.
    expect(JSON.parse(dlc('run', 'examples/mlp.dl', '--input', input, '--seed', '6', '--json').stdout)).not.toEqual(out);
  });

  it('--json has one key per output, each a nested array with the batch first', () => {
    const r = dlc('run', 'examples/image_kernels.dl', '--input', 'examples/image_kernels.json', '--json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['sharpened', 'edges', 'blurred']);
    expect(out.sharpened[0][0][0]).toEqual([320]);
    for (const name of Object.keys(out)) expect([out[name].length, out[name][0].length, out[name][0][0].length, out[name][0][0][0].length]).toEqual([1, 5, 5, 1]);
  });

  it('prints the lecture tables without --json', () => {
    const r = dlc('run', 'examples/pooling.dl', '--input', 'examples/pooling.json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('max [1, 2, 2, 1]:\n  100 184\n   12  45\naverage [1, 2, 2, 1]:\n  36.5   80\n    12   15\n');
  });

  it('--stats prints the time of every layer and the peak activation memory on stderr', () => {
    const layerLines = (stderr: string) => [...stderr.matchAll(/^ {2}(\S+) \((\w+)\) +\d+\.\d{3} ms$/gm)].map((m) => `${m[1]} (${m[2]})`);
    // --opt 0 runs the graph as written: one line per layer.
    const plain = dlc('run', 'examples/mlp.dl', '--input', input, '--weights', weights, '--stats', '--opt', '0');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('probs [2, 10]:');
    expect(plain.stderr).toMatch(/^time per layer \(DeepMLP\):\n/);
    const source = graphOf('mlp');
    expect(layerLines(plain.stderr)).toEqual(source.nodes.map((n) => `${n.name} (${n.op})`));
    expect(plain.stderr).toMatch(/\n {2}total +\d+\.\d{3} ms\n/);
    // The largest live set is the [2, 784] input with the first layer's [2, 128] output: 2 * (784 + 128) * 4 bytes.
    // The arena: layer outputs at batch 2 are 2 * 4 bytes * (128 + 128 + 64 + 64 + 10 + 10) = 3.16 KB one buffer each
    // (dropout shares its input's); planned, the two 128-wide outputs live at once: 2 * 4 * 256 = 2.00 KB.
    expect(plain.stderr).toMatch(
      /\npeak activation memory: 7\.13 KB\nplanned activation memory: 2\.00 KB in one arena \(one buffer per activation: 3\.16 KB\)\nmatrix kernels: (wasm \(SIMD with fused multiply-add, up to \d+ threads?\)|js)\n$/,
    );
    // By default the optimized graph runs: fewer layers, each one named after a source layer.
    const optimized = dlc('run', 'examples/mlp.dl', '--input', input, '--weights', weights, '--stats');
    expect(optimized.code).toBe(0);
    const names = new Set(source.nodes.map((n) => n.name));
    const lines = layerLines(optimized.stderr);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.length).toBeLessThan(source.nodes.length);
    for (const line of lines) expect(names).toContain(line.split(' ')[0]);
    expect(optimized.stderr).toMatch(/\npeak activation memory: 7\.13 KB\nplanned activation memory: /);
  });

  it('--stats says which layer computed a max pool run inside its convolution', () => {
    const image = Array.from({ length: 2 }, (_, b) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [((b + y * 28 + x) % 17) / 17])));
    const r = dlc('run', 'examples/mnist_convnet.dl', '--input', json('mnist-stats.json', { image }), '--stats');
    expect(r.code).toBe(0);
    // Both convolutions (the first through its tap table, the second in Winograd's form) run their pools.
    expect(r.stderr).toMatch(/\n {2}maxpool \(maxpool\) +\d+\.\d{3} ms \(computed in conv2d\)\n/);
    expect(r.stderr).toMatch(/\n {2}maxpool_1 \(maxpool\) +\d+\.\d{3} ms \(computed in conv2d_1\)\n/);
    // --kernels js runs every layer itself.
    const apart = dlc('run', 'examples/mnist_convnet.dl', '--input', json('mnist-stats.json', { image }), '--stats', '--kernels', 'js');
    expect(apart.code).toBe(0);
    expect(apart.stderr).not.toContain('computed in');
  });

  it('--stats says which add ran the relu after it (a residual block\'s end)', () => {
    const image = [Array.from({ length: 32 }, (_, y) => Array.from({ length: 32 }, (_, x) => [0, 1, 2].map((c) => Math.sin(y * 3 + x * 7 + c))))];
    const input = json('residual-stats.json', { image });
    const r = dlc('run', 'examples/residual.dl', '--input', input, '--stats');
    expect(r.code).toBe(0);
    for (const [relu, add] of [['relu_2', 'add'], ['relu_4', 'add_1'], ['relu_6', 'add_2']]) {
      expect(r.stderr).toMatch(new RegExp(`\\n {2}${relu} \\(relu\\) +\\d+\\.\\d{3} ms \\(computed in ${add}\\)\\n`));
    }
  });

  it('--stats on one thread says which layers ran an example at a time, whose values are a whole-batch run\'s on two, bit for bit', () => {
    // The depthwise layer reads 256x256x32 floats an image: 16.8 MB for the two, past plan.ts's SEGMENT_BYTES.
    const model = file('by-example.dl', 'model Segmented {\n  input image: [256, 256, 1]\n  output y = image -> conv2d(32, kernel = 1, activation = relu) -> depthwise_conv2d(kernel = 3, padding = same, activation = relu6) -> conv2d(8, kernel = 1) -> global_avgpool\n}\n');
    const image = Array.from({ length: 2 }, (_, b) => Array.from({ length: 256 }, (_, y) => Array.from({ length: 256 }, (_, x) => [Math.sin(b + y * 0.37 + x * 0.11)])));
    const input = json('by-example.json', { image });
    const one = dlc('run', model, '--input', input, '--stats', '--json', '--threads', '1');
    expect(one.code).toBe(0);
    expect(one.stderr).toContain('\nan example at a time: conv2d to conv2d_1 (its tensors stay in the caches)\n');
    const two = dlc('run', model, '--input', input, '--stats', '--json', '--threads', '2');
    expect(two.code).toBe(0);
    expect(two.stderr).not.toContain('an example at a time');
    expect(JSON.parse(one.stdout).y).toHaveLength(2);
    expect(JSON.parse(one.stdout)).toEqual(JSON.parse(two.stdout));
  });

  it('--fast-math runs the 3x3 convolution as Winograd F(4x4, 3x3), says so, and stays within 1e-5 of the TS kernels', () => {
    // A batch of 4: 36 4x4 tiles of the second layer's 11x11 outputs, enough for F(4x4, 3x3) (gemm.ts winogradTile).
    const image = Array.from({ length: 4 }, (_, b) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [((3 * b + y * 28 + x) % 19) / 19])));
    const input = json('mnist-fast.json', { image });
    const probs = (...flags: string[]) => {
      const r = dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--json', ...flags);
      expect(r.code).toBe(0);
      return { probs: (JSON.parse(r.stdout).probs as number[][]).flat(), stderr: r.stderr };
    };
    const fast = probs('--fast-math', '--stats');
    expect(fast.stderr).toMatch(/\nmatrix kernels: wasm \(SIMD with fused multiply-add, up to \d+ threads?, fast math\)\n/);
    const reference = probs('--kernels', 'js').probs;
    expect(Math.max(...fast.probs.map((p, i) => Math.abs(p - reference[i])))).toBeLessThan(1e-5);
    // Without the flag, F(2x2, 3x3) rounds otherwise.
    expect(probs().probs).not.toEqual(fast.probs);
    // DLC_FAST_MATH=1 is the flag.
    const fromEnv = cliSandbox('dlc-interp-fast-', { env: { DLC_DEBUG: '', DLC_FAST_MATH: '1' } }).dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--json', '--stats');
    expect(fromEnv.stderr).toMatch(/, fast math\)\n/);
    expect((JSON.parse(fromEnv.stdout).probs as number[][]).flat()).toEqual(fast.probs);
  });
});

describe('dlc run: fused multiply-adds', () => {
  it('the products fuse their multiply-adds (gemm-fma.wasm) unless DLC_FMA=0, which stays within 1e-6 of them and of the TS kernels', () => {
    const image = Array.from({ length: 4 }, (_, b) => Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [((5 * b + y * 28 + x) % 23) / 23])));
    const input = json('mnist-fma.json', { image });
    const probs = (r: { code: number | null; stdout: string }) => {
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout).probs as number[][]).flat();
    };
    const fused = dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--json', '--stats');
    expect(fused.stderr).toMatch(/\nmatrix kernels: wasm \(SIMD with fused multiply-add, up to \d+ threads?\)\n/);
    const plain = cliSandbox('dlc-interp-plain-', { env: { DLC_DEBUG: '', DLC_FMA: '0' } }).dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--json', '--stats');
    expect(plain.stderr).toMatch(/\nmatrix kernels: wasm \(SIMD, up to \d+ threads?\)\n/);
    const reference = probs(dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--json', '--kernels', 'js'));
    const worst = (a: number[], b: number[]) => Math.max(...a.map((p, i) => Math.abs(p - b[i])));
    expect(worst(probs(fused), reference)).toBeLessThan(1e-6);
    expect(worst(probs(plain), reference)).toBeLessThan(1e-6);
    // One rounding per multiply-add instead of two: not the same bits.
    expect(probs(fused)).not.toEqual(probs(plain));
  });
});

describe('dlc run: bad inputs', () => {
  const run = (model: string, inputs: unknown) => dlc('run', `examples/${model}.dl`, '--input', typeof inputs === 'string' ? inputs : json(`${model}-bad.json`, inputs));
  const tokens = (at: number, id: unknown) => ({ tokens: [Array.from({ length: 64 }, (_, i) => (i === at ? id : i))] });

  it('an input of the wrong shape names it with both shapes', () => {
    expectUserError(run('perceptron', { x: [[1, 2]] }), 'input "x" has shape [1, 2] but the model needs [batch, 3]');
    expectUserError(run('mnist_convnet', { image: [[[1]]] }), 'input "image" has shape [1, 1, 1] but the model needs [batch, 28, 28, 1]');
  });

  it('one example without the batch dimension says to wrap it', () => {
    expectUserError(run('perceptron', { x: [1, 2, 3] }), 'input "x" has shape [3] but needs [batch, 3]', 'wrap one example in [ ]');
  });

  it('ragged arrays name the row', () => {
    expectUserError(run('perceptron', { x: [[1, 2, 3], [4, 5]] }), 'input "x" is ragged at [1]: expected 3 entries, got 2');
  });

  it('a string, null or object inside names the element', () => {
    expectUserError(run('perceptron', { x: [[1, '2', 3]] }), 'input "x"[0][1] must be a finite number, got "2"');
    expectUserError(run('perceptron', { x: [[1, 2, null]] }), 'input "x"[0][2] must be a finite number, got null');
    expectUserError(run('perceptron', { x: [[{}, 2, 3]] }), 'input "x"[0][0] must be a finite number, got an object');
  });

  it('a token id that is not a whole number names the element', () => {
    expectUserError(run('transformer', tokens(5, 1.5)), 'input "tokens"[0][5] must be a whole number (integer token id), got 1.5');
  });

  it.each([10000, -1])('a token id %i outside the vocabulary names the input and the range', (id) => {
    expectUserError(run('transformer', tokens(5, id)), 'tokens', `${id}`, '[0, 10000)');
  });

  it('a missing input names it with its shape', () => {
    expectUserError(run('pooling', { for_max: randomBatch(1, [4, 4, 1], 2) }), 'missing input "for_average" of shape [batch, 4, 4, 1]');
  });

  it('an unknown key is named, with a suggestion and the real inputs', () => {
    expectUserError(run('perceptron', { x: [[1, 2, 3]], X: [[1, 2, 3]] }), 'unknown key "X" (did you mean "x"?)', 'the model\'s inputs are "x"');
  });

  it('inputs with different batch sizes', () => {
    expectUserError(run('pooling', { for_max: randomBatch(2, [4, 4, 1], 3), for_average: randomBatch(3, [4, 4, 1], 4) }), 'input "for_average" has batch size 3, other inputs have 2');
  });

  it('JSON that is not an object keyed by input name', () => {
    expectUserError(run('perceptron', [[1, 2, 3]]), 'inputs must be a JSON object keyed by input name ("x")');
  });

  it('invalid JSON names the file', () => {
    const path = file('broken.json', '{"x": [[1, 2, 3]');
    expectUserError(run('perceptron', path), `${path}: not valid JSON`);
  });

  it('a missing inputs file names it', () => {
    const path = join(dir, 'absent.json');
    expectUserError(run('perceptron', path), `cannot read '${path}': no such file`);
  });
});

describe('dlc run: bad weights files', () => {
  const x = json('perceptron-x.json', { x: [[1, 2, 3]] });
  const run = (weights: string) => dlc('run', 'examples/perceptron.dl', '--input', x, '--weights', weights);
  const f32 = (shape: number[]): WeightTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  const weightsFile = (name: string, tensors: Record<string, WeightTensor>) => file(name, encodeSafetensors(new Map(Object.entries(tensors)), { format: 'dlc' }));
  const good = weightsFile('good.safetensors', { 'neuron.kernel': f32([3, 1]), 'neuron.bias': f32([1]) });

  it('a well-formed file runs', () => {
    // sigmoid(0.5 * (1 + 2 + 3) + 0.5) = sigmoid(3.5)
    const r = dlc('run', 'examples/perceptron.dl', '--input', x, '--weights', good, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).y[0][0]).toBeCloseTo(1 / (1 + Math.exp(-3.5)), 6);
  });

  it('a missing tensor is named with its expected shape', () => {
    const path = weightsFile('no-bias.safetensors', { 'neuron.kernel': f32([3, 1]) });
    expectUserError(run(path), path, 'weights file has no tensor "neuron.bias" (expected shape [1])');
  });

  it('a tensor of the wrong shape is named with both shapes', () => {
    const path = weightsFile('transposed.safetensors', { 'neuron.kernel': f32([1, 3]), 'neuron.bias': f32([1]) });
    expectUserError(run(path), path, 'tensor "neuron.kernel" has shape [1, 3] but the model needs [3, 1]');
  });

  it("another model's weights: every missing and unused tensor is listed", () => {
    const path = join(dir, 'mlp-for-perceptron.safetensors');
    expect(dlc('init', 'examples/mlp.dl', '-o', path).code).toBe(0);
    expectUserError(run(path), 'no tensor "neuron.kernel"', 'no tensor "neuron.bias"', 'tensors this model does not use: "dense.bias"');
  });

  it('NaN values are rejected', () => {
    const nan = f32([1]);
    nan.data[0] = NaN;
    const path = weightsFile('nan.safetensors', { 'neuron.kernel': f32([3, 1]), 'neuron.bias': nan });
    expectUserError(run(path), 'tensor "neuron.bias" contains NaN or infinite values');
  });

  it('a file truncated in its data or in its header', () => {
    const bytes = readFileSync(good);
    const shortData = file('short-data.safetensors', bytes.subarray(0, bytes.length - 2));
    expectUserError(run(shortData), shortData, 'data section is only');
    const shortHeader = file('short-header.safetensors', bytes.subarray(0, 20));
    expectUserError(run(shortHeader), shortHeader, 'header length is');
  });

  it('random bytes, an empty file and a JSON file are not weights files', () => {
    const rng = createRng(9);
    const noise = file('noise.bin', Uint8Array.from({ length: 1000 }, () => Math.floor(rng.uniform() * 256)));
    expectUserError(run(noise), noise);
    const empty = file('empty.safetensors', '');
    expectUserError(run(empty), empty, 'the file is 0 bytes long');
    const jsonFile = json('weights.json', { 'neuron.kernel': [[0.5], [0.5], [0.5]], 'neuron.bias': [0.5] });
    expectUserError(run(jsonFile), jsonFile);
  });

  it('a missing weights file names it', () => {
    const path = join(dir, 'absent.safetensors');
    expectUserError(run(path), path, 'no such file or directory');
  });

  it('a directory given as the weights file names it', () => {
    expectUserError(run(dir), dir, 'is a directory');
  });
});
