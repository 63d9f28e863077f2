/**
 * The training loop end to end: XOR to 100%, real MNIST digits well above
 * chance in seconds, a CSV file, byte-identical weights for one seed, and a
 * diverging run that stops with its message and keeps finite weights.
 * The commands' files: weights, metrics JSON and curves SVG.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadWeights } from '../../src/backends/interp/weights.js';
import { compileFile } from '../../src/compile.js';
import { evalCommand, prepareTraining, train, trainCommand, TrainError } from '../../src/train/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dlc-train-'));
const source = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('training', () => {
  it('XOR reaches 100% accuracy (examples/xor.dl)', () => {
    const { graph, config, data } = prepareTraining('examples/xor.dl');
    const run = train(graph, config, data);
    expect(run.stopped).toBeUndefined();
    expect(run.history).toHaveLength(config.epochs);
    expect(run.history.at(-1)!.accuracy).toBe(1);
    expect(run.history.at(-1)!.testAccuracy).toBe(1);
    expect(run.history.at(-1)!.loss).toBeLessThan(0.05);
  });

  it('a small MLP learns real MNIST digits well above chance within seconds', () => {
    const file = source('mnist_mlp.dl', `model Digits {\n  input pixels: [784]\n  output p = pixels -> dense(32) -> relu -> dense(10) -> softmax\n}\ntrain Digits {\n  data = mnist(600, test = 400)\n  loss = crossentropy\n  optimizer = adam(lr = 0.005)\n  epochs = 6\n  batch = 32\n}\n`);
    const { graph, config, data } = prepareTraining(file);
    const t0 = performance.now();
    const run = train(graph, config, data);
    const last = run.history.at(-1)!;
    expect(last.testAccuracy).toBeGreaterThan(0.75); // chance is 0.1
    expect(last.testLoss).toBeLessThan(run.history[0].testLoss!);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('the convnet learns too (a few batches of examples/mnist_train.dl)', () => {
    const { graph, config, data } = prepareTraining('examples/mnist_train.dl');
    const small = { ...data, train: { ...data.train, n: 320 }, test: { ...data.test!, n: 100 } };
    const run = train(graph, { ...config, epochs: 1, batch: 32 }, small);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(run.batchLosses.slice(-3))).toBeLessThan(mean(run.batchLosses.slice(0, 3)));
    expect(run.history[0].testLoss).toBeLessThan(Math.log(10)); // below chance's loss
  });

  it('trains on a CSV file', () => {
    // Two features; the class is whether they sum to more than 1.
    const rows = Array.from({ length: 200 }, (_, i) => {
      const a = ((i * 37) % 101) / 100, b = ((i * 61) % 97) / 96;
      return `${a},${b},${a + b > 1 ? 1 : 0}`;
    });
    writeFileSync(join(dir, 'sums.csv'), `a,b,above\n${rows.join('\n')}\n`);
    const file = source('csv.dl', `model Sum {\n  input x: [2]\n  output y = x -> dense(8) -> tanh -> dense(2) -> softmax\n}\ntrain Sum {\n  data = csv("sums.csv", label = "above", test = 0.25)\n  loss = crossentropy\n  optimizer = adam(lr = 0.05)\n  epochs = 40\n  batch = 16\n}\n`);
    const { graph, config, data } = prepareTraining(file);
    expect([data.train.n, data.test!.n]).toEqual([150, 50]);
    const run = train(graph, config, data);
    expect(run.history.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
  });

  it('spirals and a sine wave train too', () => {
    const spirals = source('spirals.dl', `model Spiral {\n  input p: [2]\n  output c = p -> dense(64) -> relu -> dense(64) -> relu -> dense(2) -> softmax\n}\ntrain Spiral {\n  data = spirals(400, noise = 0.02)\n  loss = crossentropy\n  optimizer = adam(lr = 0.02)\n  epochs = 60\n  batch = 32\n}\n`);
    let p = prepareTraining(spirals);
    expect(train(p.graph, p.config, p.data).history.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
    const sine = source('sine.dl', `model Wave {\n  input w: [10, 1]\n  output next = w -> rnn(8) -> dense(1)\n}\ntrain Wave {\n  data = sine(10, n = 400)\n  loss = mse\n  optimizer = adam(lr = 0.01)\n  epochs = 10\n  batch = 16\n}\n`);
    p = prepareTraining(sine);
    const run = train(p.graph, p.config, p.data);
    expect(run.history.at(-1)!.accuracy).toBeNull();
    expect(run.history.at(-1)!.testLoss).toBeLessThan(run.history[0].testLoss! / 4);
  });

  it('every training example resolves and loads its data', () => {
    for (const file of ['examples/xor.dl', 'examples/mnist_train.dl', 'examples/mnist_mlp_train.dl']) {
      const { data } = prepareTraining(file);
      expect(data.train.n).toBeGreaterThan(0);
    }
  });

  it('a step whose loss is finite but whose update overflows a weight stops there and names the weight', () => {
    // sgd's step lr * g passes float32's 3.4e38 at lr = 1e39: the loss of that step (computed before it) is finite.
    const file = source('overflow.dl', `model Over {\n  input x: [2]\n  output y = x -> dense(1)\n}\ntrain Over {\n  data = xor()\n  loss = mse\n  optimizer = sgd(lr = 1e39)\n  epochs = 2\n  batch = 4\n}\n`);
    const { graph, config, data } = prepareTraining(file);
    const run = train(graph, config, data);
    expect(run.stopped!.message).toMatch(/^training stopped in epoch 1 at batch 1\/1: weight 'dense\.(kernel|bias)' became NaN or infinite; /);
    expect(run.updates).toBe(0);
    for (const [, t] of run.weights) expect(t.data.every(Number.isFinite)).toBe(true);
  });

  it('a diverging run stops with a message and keeps the last finite weights', async () => {
    const file = source('diverge.dl', `model Boom {\n  input x: [2]\n  output y = x -> dense(8) -> relu -> dense(1)\n}\ntrain Boom {\n  data = xor()\n  loss = mse\n  optimizer = sgd(lr = 100)\n  epochs = 20\n  batch = 4\n}\n`);
    const output = join(dir, 'boom.safetensors');
    const error = await trainCommand(file, { output, quiet: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainError);
    expect((error as TrainError).message).toMatch(
      /^training stopped in epoch \d+ at batch 1\/1: (the loss became (NaN|infinite)|weight '[\w.]+' became NaN or infinite); the weights of the last step with a finite loss were kept\n {2}hint: the learning rate is probably too high: try 'lr = 10' \(now 100\)$/,
    );
    const graph = compileFile(file).graphs[0];
    const saved = await loadWeights(output, graph); // loadWeights rejects NaN and infinite values
    // They are the weights after the last step whose loss was finite: a run of that many epochs (one step each) ends with them.
    const { config, data } = prepareTraining(file);
    const run = train(graph, config, data);
    expect(run.stopped!.message).toBe((error as TrainError).diagnostic.message);
    const epoch = Number(/epoch (\d+)/.exec(run.stopped!.message)![1]);
    // A NaN loss in epoch E: the weights epoch E-1 started from. A weight gone bad in E: those E started from.
    expect(run.updates).toBe(run.stopped!.message.includes('the loss became') ? epoch - 2 : epoch - 1);
    expect(run.updates).toBeGreaterThan(5);
    const before = train(graph, { ...config, epochs: run.updates }, data);
    expect(before.stopped).toBeUndefined();
    for (const [name, t] of saved) expect(t.data).toEqual(before.weights.get(name)!.data);
    const metrics = JSON.parse(readFileSync(join(dir, 'boom.metrics.json'), 'utf8'));
    expect(metrics.stopped).toMatch(/^training stopped in epoch/);
  });
});

describe('the train and eval commands', () => {
  it('write weights, metrics and curves; the same seed gives the same bytes', async () => {
    const a = join(dir, 'a', 'xor.safetensors'), b = join(dir, 'b', 'xor.safetensors');
    await trainCommand('examples/xor.dl', { output: a, quiet: true });
    await trainCommand('examples/xor.dl', { output: b, quiet: true, metrics: join(dir, 'b', 'm.json'), plot: join(dir, 'b', 'c.svg') });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    await trainCommand('examples/xor.dl', { output: join(dir, 'c', 'xor.safetensors'), quiet: true, seed: 1 });
    expect(readFileSync(a).equals(readFileSync(join(dir, 'c', 'xor.safetensors')))).toBe(false);

    const metrics = JSON.parse(readFileSync(join(dir, 'a', 'xor.metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({
      model: 'XorNet',
      config: { data: { source: 'xor' }, loss: 'binary_crossentropy', optimizer: { kind: 'adam', lr: 0.05 }, batch: 4, seed: 0 },
      train_examples: 4,
      test_examples: 4,
    });
    expect(metrics.epochs).toHaveLength(100);
    expect(Object.keys(metrics.epochs[0])).toEqual(['epoch', 'loss', 'accuracy', 'test_loss', 'test_accuracy', 'seconds', 'samples_per_second']);
    expect(metrics.epochs.at(-1).test_accuracy).toBe(1);

    const svg = readFileSync(join(dir, 'a', 'xor.curves.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const text of ['>Loss<', '>Accuracy<', '>epoch<', '>loss<', '>accuracy<', '>train<', '>test<', '>100%<']) expect(svg).toContain(text);
    expect(readFileSync(join(dir, 'b', 'c.svg'), 'utf8')).toBe(svg);
  });

  it('options override the section: epochs, learning rate, seed', async () => {
    const out = join(dir, 'o', 'xor.safetensors');
    await trainCommand('examples/xor.dl', { output: out, quiet: true, epochs: 3, lr: 0.01, seed: 7 });
    const metrics = JSON.parse(readFileSync(join(dir, 'o', 'xor.metrics.json'), 'utf8'));
    expect([metrics.epochs.length, metrics.config.optimizer.lr, metrics.config.seed]).toEqual([3, 0.01, 7]);
  });

  it('prints epoch lines (not a progress bar) when the output is not a terminal; eval prints the test metrics', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    const out = join(dir, 'p', 'xor.safetensors');
    await trainCommand('examples/xor.dl', { output: out, epochs: 40 });
    await evalCommand('examples/xor.dl', { weights: out });
    vi.restoreAllMocks();
    const text = lines.join('');
    expect(text).not.toContain('\r');
    const printed = text.split('\n');
    expect(printed[0]).toBe('training XorNet on xor: the 4 points (also the test set)');
    expect(printed[1]).toBe('  40 epochs of 1 batch of 4, binary_crossentropy, adam(lr = 0.05, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7), seed 0');
    // About 20 epoch lines for a long run: the first, every second, the last.
    const epochLines = printed.filter((l) => l.startsWith('epoch'));
    expect(epochLines.map((l) => l.split(/\s+/)[1])).toEqual(['1/40', ...Array.from({ length: 20 }, (_, i) => `${2 * i + 2}/40`)]);
    expect(epochLines[0]).toMatch(/^epoch  1\/40 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}test loss \d\.\d{4} {2}test acc \d+\.\d\d% {2}\d+ samples\/s {2}\d+\.\d s$/);
    expect(printed).toContain(`wrote ${out}, ${join(dir, 'p', 'xor.metrics.json')}, ${join(dir, 'p', 'xor.curves.svg')}`);
    expect(printed.at(-2)).toMatch(/^XorNet on 4 test examples \(xor: the 4 points \(also the test set\)\): loss \d\.\d{4} {2}accuracy \d+\.\d\d%$/);
  });
});
