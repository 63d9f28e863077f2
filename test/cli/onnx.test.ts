/**
 * ONNX through the CLI as a process (issue 14): `compile --target onnx` with
 * fresh or trained weights, `run` and `eval --engine ort` against the
 * interpreter's answers, and the errors: an unknown engine, weights for
 * another model, options that need --target onnx, onnxruntime-node missing
 * or broken.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { decodeModel } from '../../src/backends/onnx/builder.js';
import { cliSandbox } from './process.js';

const { dir, dlc, file } = cliSandbox('dlc-onnx-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const image = [Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => [((i * 7 + j * 3) % 10) / 10]))];
const input = file('image.json', JSON.stringify({ image }));
const outputOf = (r: { stdout: string }) => (JSON.parse(r.stdout) as { probs: number[][] }).probs[0];

describe('dlc compile --target onnx', () => {
  it('writes the model with the weights given, which ONNX Runtime runs as the interpreter does', () => {
    const weights = join(dir, 'w.safetensors');
    expect(dlc('init', 'examples/mnist_convnet.dl', '--seed', '4', '-o', weights).code).toBe(0);
    const model = join(dir, 'mnist.onnx');
    const r = dlc('compile', 'examples/mnist_convnet.dl', '--target', 'onnx', '--weights', weights, '-o', model);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${model}: ONNX model of MnistConvNet (opset 21)`);
    const decoded = decodeModel(readFileSync(model));
    expect(decoded.graph!.initializer.some((t) => t.name === 'dense.bias')).toBe(true);

    const interp = dlc('run', 'examples/mnist_convnet.dl', '--weights', weights, '--input', input, '--json');
    const ort = dlc('run', 'examples/mnist_convnet.dl', '--weights', weights, '--input', input, '--json', '--engine', 'ort');
    expect(ort.code).toBe(0);
    const [a, b] = [outputOf(interp), outputOf(ort)];
    expect(a).toHaveLength(10);
    a.forEach((p, i) => expect(b[i]).toBeCloseTo(p, 5));
  });

  it('refuses --weights and --seed without --target onnx, and -o over the weights file', () => {
    const r = dlc('compile', 'examples/mlp.dl', '--seed', '3');
    expect([r.code, r.stderr.trim()]).toEqual([1, 'error: --weights and --seed choose the weights an ONNX export carries: use them with --target onnx']);
    const weights = join(dir, 'mlp.safetensors');
    expect(dlc('init', 'examples/mlp.dl', '-o', weights).code).toBe(0);
    const over = dlc('compile', 'examples/mlp.dl', '--target', 'onnx', '--weights', weights, '-o', weights);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(`error: -o '${weights}' would replace the input '${weights}'`);
  });

  it('refuses weights written for another model with the message dlc run gives', () => {
    const weights = join(dir, 'xor.safetensors');
    expect(dlc('init', 'examples/xor.dl', '-o', weights).code).toBe(0);
    const compile = dlc('compile', 'examples/mlp.dl', '--target', 'onnx', '--weights', weights, '-o', join(dir, 'x.onnx'));
    const run = dlc('run', 'examples/mlp.dl', '--weights', weights, '--input', file('x.json', JSON.stringify({ pixels: [Array(784).fill(0)] })));
    expect(compile.code).toBe(1);
    expect(compile.stderr).toContain('(this file was written for model');
    expect(compile.stderr).toBe(run.stderr);
  });
});

describe('dlc eval --engine ort', () => {
  it("reports the interpreter's loss and accuracy on trained weights", () => {
    const weights = join(dir, 'xor-trained.safetensors');
    expect(dlc('train', 'examples/xor.dl', '-o', weights, '--quiet').code).toBe(0);
    const interp = dlc('eval', 'examples/xor.dl', '--weights', weights);
    const ort = dlc('eval', 'examples/xor.dl', '--weights', weights, '--engine', 'ort');
    expect(ort.code).toBe(0);
    expect(interp.stdout).toMatch(/^XorNet on 4 test examples \(.*\): loss \d\.\d{4}  accuracy 100\.00%\n$/);
    expect(ort.stdout).toBe(interp.stdout);
  });
});

describe('--engine errors', () => {
  it('an unknown engine is a usage error naming the engines', () => {
    const r = dlc('run', 'examples/mnist_convnet.dl', '--input', input, '--engine', 'gpu');
    expect([r.code, r.stderr.trim()]).toEqual([1, "error: unknown --engine 'gpu' (engines: interp, ort)"]);
  });

  const hooked = (mode: string) =>
    cliSandbox('dlc-onnx-hook-', { env: { DLC_ORT: mode, NODE_OPTIONS: `--import=${join(process.cwd(), 'test/fixtures/ort-hooks.mjs')}` } }).dlc(
      'run',
      'examples/mnist_convnet.dl',
      '--input',
      input,
      '--engine',
      'ort',
    );

  it('onnxruntime-node not installed: one clear message, exit 1', () => {
    const r = hooked('missing');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "error: --engine ort needs the package onnxruntime-node, which is not installed: run 'npm install onnxruntime-node' (its CPU library is in the package), or use --engine interp",
    );
  });

  it('onnxruntime-node that does not load: one clear message with the reason, exit 1', () => {
    const r = hooked('broken');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --engine ort: onnxruntime-node is installed but does not load (libonnxruntime.so.1: file too short); reinstall it, or use --engine interp');
  });
});
