/**
 * The train section: each setting resolved, each mistake reported with its
 * message, its line:column and its hint.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { MAX_DATA_VALUES, selectTrainModel, trainConfig } from '../../src/train/config.js';

const MODEL = 'model Net {\n  input x: [28, 28, 1]\n  output y = x -> flatten -> dense(10) -> softmax\n}\n';

function configOf(text: string, model?: string) {
  const file = compileSource({ path: '/data/project/net.dl', text });
  const graph = selectTrainModel(file, model);
  return trainConfig(file, graph);
}

/** The errors of a train section (lines count from the section's first line, after MODEL's 4). */
function errorsOf(section: string, model = MODEL) {
  try {
    configOf(model + section);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.map((d) => {
      const { line, column } = lineCol(d.span!);
      return { at: `${line - model.split('\n').length + 1}:${column}`, message: d.message, hint: d.hint };
    });
  }
  throw new Error('expected the train section to fail');
}

const only = (section: string, model?: string) => {
  const errors = errorsOf(section, model);
  expect(errors).toHaveLength(1);
  return errors[0];
};

describe('resolving a train section', () => {
  it('the issue example', () => {
    const config = configOf(`${MODEL}train Net {\n  data = mnist(train = 8000, test = 2000)\n  loss = crossentropy\n  optimizer = sgd(lr = 0.05, momentum = 0.9)\n  epochs = 3\n  batch = 64\n}\n`);
    expect({ ...config, data: { ...config.data, span: undefined, argSpans: undefined }, span: undefined }).toEqual({
      model: 'Net',
      data: { source: 'mnist', train: 8000, test: 2000, span: undefined, argSpans: undefined },
      loss: 'categorical_crossentropy',
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
      epochs: 3,
      batch: 64,
      weightDecay: 0,
      seed: 0,
      span: undefined,
    });
  });

  it('defaults: Adam with Keras defaults, 10 epochs, batches of 32', () => {
    const config = configOf(`${MODEL}train Net { data = mnist  loss = mse }`);
    expect(config.optimizer).toEqual({ kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect([config.epochs, config.batch, config.weightDecay, config.seed]).toEqual([10, 32, 0, 0]);
    expect(config.data).toMatchObject({ source: 'mnist', train: 8000, test: 2000 });
  });

  it('crossentropy is binary for one output unit, categorical for several', () => {
    const one = 'model One {\n  input x: [2]\n  output y = x -> dense(1) -> sigmoid\n}\n';
    expect(configOf(`${one}train One { data = xor()  loss = crossentropy }`).loss).toBe('binary_crossentropy');
    expect(configOf(`${MODEL}train Net { data = mnist()  loss = crossentropy }`).loss).toBe('categorical_crossentropy');
    expect(configOf(`${MODEL}train Net { data = mnist()  loss = "sparse_categorical_crossentropy" }`).loss).toBe('sparse_categorical_crossentropy');
  });

  it('values may be arithmetic on numbers and top-level constants', () => {
    const config = configOf(`const rate = 0.1\n${MODEL}train Net {\n  data = mnist(1000, test = 500)\n  loss = mse\n  optimizer = adam(lr = rate / 100, beta2 = 1 - 1e-4)\n  batch = 2 ** 6\n  weight_decay = 5e-4\n  seed = 42\n}\n`);
    expect(config.optimizer).toEqual({ kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 1 - 1e-4, epsilon: 1e-7 });
    expect([config.batch, config.weightDecay, config.seed]).toEqual([64, 5e-4, 42]);
    expect(config.data).toMatchObject({ train: 1000, test: 500 });
  });

  it('a csv path is relative to the .dl file; the label defaults to the last column', () => {
    const config = configOf(`${MODEL}train Net { data = csv("data/iris.csv", test = 0.25)  loss = mse }`);
    expect(config.data).toMatchObject({ source: 'csv', file: 'data/iris.csv', path: '/data/project/data/iris.csv', test: 0.25 });
    expect(config.data).not.toHaveProperty('label');
  });

  it('the model of the last train section is the one trained by default', () => {
    const two = `${MODEL}model Other {\n  input x: [2]\n  output y = x -> dense(1)\n}\ntrain Net { data = mnist()  loss = mse }\n`;
    expect(configOf(two).model).toBe('Net');
  });
});

describe('train section diagnostics', () => {
  it('unknown setting, with a suggestion', () => {
    expect(only('train Net {\n  data = mnist()\n  loss = mse\n  epoch = 3\n}\n')).toEqual({ at: '4:3', message: "train: unknown setting 'epoch'", hint: "did you mean 'epochs'?" });
  });
  it('unknown setting, with the list of settings', () => {
    expect(only('train Net { data = mnist()  loss = mse  verbose = 1 }')).toEqual({
      at: '1:41',
      message: "train: unknown setting 'verbose'",
      hint: "settings are 'data', 'loss', 'optimizer', 'epochs', 'batch', 'weight_decay', 'seed'",
    });
  });
  it('a setting given twice', () => {
    expect(only('train Net {\n  data = mnist()\n  loss = mse\n  loss = mse\n}\n')).toEqual({ at: '4:3', message: "train: setting 'loss' is already given (at line 7)", hint: undefined });
  });
  it('missing data and loss', () => {
    expect(errorsOf('train Net { epochs = 1 }')).toEqual([
      { at: '1:7', message: "train: missing setting 'data'", hint: "add e.g. 'data = mnist(train = 8000, test = 2000)'" },
      { at: '1:7', message: "train: missing setting 'loss'", hint: "add e.g. 'loss = crossentropy'" },
    ]);
  });
  it('wrong types', () => {
    expect(errorsOf('train Net {\n  data = mnist()\n  loss = mse\n  epochs = 2.5\n  batch = "64"\n  seed = -1\n  weight_decay = adam\n}\n')).toEqual([
      { at: '4:12', message: "train: 'epochs' must be a whole number >= 1, got the number 2.5", hint: undefined },
      { at: '5:11', message: 'train: \'batch\' must be a whole number >= 1, got the string "64"', hint: undefined },
      { at: '6:10', message: "train: 'seed' must be a whole number >= 0, got the number -1", hint: undefined },
      { at: '7:18', message: "train: 'weight_decay' must be a number >= 0, got 'adam'", hint: undefined },
    ]);
  });
  it('unknown loss, with a suggestion', () => {
    expect(only('train Net {\n  data = mnist()\n  loss = crossentropie\n}\n')).toEqual({ at: '3:10', message: "train: unknown loss 'crossentropie'", hint: "did you mean 'crossentropy'?" });
  });
  it('a loss that is not a name', () => {
    expect(only('train Net { data = mnist()  loss = 3 }')).toEqual({ at: '1:36', message: "train: 'loss' must be a loss name such as crossentropy, got the number 3", hint: undefined });
  });
  it('unknown optimizer, with a suggestion', () => {
    expect(only('train Net {\n  data = mnist()\n  loss = mse\n  optimizer = adamm(lr = 0.01)\n}\n')).toEqual({ at: '4:15', message: "train: unknown optimizer 'adamm'", hint: "did you mean 'adam'?" });
  });
  it('unknown optimizer, with the choices', () => {
    expect(only('train Net { data = mnist()  loss = mse  optimizer = lbfgs() }')).toEqual({ at: '1:53', message: "train: unknown optimizer 'lbfgs'", hint: "expected one of 'sgd', 'adam'" });
  });
  it('unknown data source, with a suggestion', () => {
    expect(only('train Net {\n  data = mnst(100)\n  loss = mse\n}\n')).toEqual({ at: '2:10', message: "train: unknown data source 'mnst'", hint: "did you mean 'mnist'?" });
  });
  it('data that is not a source', () => {
    expect(only('train Net { data = "digits.csv"  loss = mse }')).toEqual({
      at: '1:20',
      message: 'train: \'data\' must be a data source such as mnist() or csv("file.csv"), got the string "digits.csv"',
      hint: undefined,
    });
  });
  it('optimizer arguments: unknown, out of range, positional overflow, twice', () => {
    expect(errorsOf('train Net {\n  data = mnist()\n  loss = mse\n  optimizer = sgd(lr = -1, momentun = 0.9)\n}\n')).toEqual([
      { at: '4:24', message: "sgd: argument 'lr' must be a positive number, got the number -1", hint: undefined },
      { at: '4:28', message: "sgd: unknown argument 'momentun'", hint: "did you mean 'momentum'?" },
    ]);
    expect(only('train Net { data = mnist()  loss = mse  optimizer = sgd(0.1, 0.9, 3) }')).toEqual({ at: '1:67', message: 'sgd: too many positional arguments (at most 2)', hint: undefined });
    expect(only('train Net { data = mnist()  loss = mse  optimizer = adam(0.1, lr = 0.2) }')).toEqual({ at: '1:63', message: "adam: argument 'lr' is given twice", hint: undefined });
    expect(only('train Net { data = mnist()  loss = mse  optimizer = adam(beta1 = 1) }').message).toBe("adam: argument 'beta1' must be a number in [0, 1), got the number 1");
  });
  it('data arguments: a missing csv file name, a bad test fraction, too many digits', () => {
    expect(only('train Net { data = csv(label = "y")  loss = mse }')).toEqual({ at: '1:20', message: "csv: missing required argument 'file'", hint: undefined });
    expect(only('train Net { data = csv("a.csv", test = 1.5)  loss = mse }')).toEqual({ at: '1:40', message: "csv: argument 'test' must be a fraction in [0, 1), got the number 1.5", hint: undefined });
    expect(only('train Net { data = mnist(9000, test = 2000)  loss = mse }')).toEqual({
      at: '1:20',
      message: "mnist: argument 'train + test' must be at most 10000 (the digits in the mnist package), got 11000",
      hint: undefined,
    });
  });
  it('a generated data set over 50,000,000 values (MAX_DATA_VALUES) is a located error naming the limit and the largest n', () => {
    expect(MAX_DATA_VALUES).toBe(50_000_000);
    // spirals: 2 coordinates and a class per point, 3 values; 50,000,000 / 3 = 16,666,666.
    expect(only('train Net { data = spirals(1e15)  loss = mse }')).toEqual({
      at: '1:20',
      message: 'spirals: n = 1.00e+15 makes 3.00e+15 values, more than the 50,000,000 a data set may hold in memory',
      hint: 'use n = 16,666,666 or less',
    });
    // sine: a window of 100 steps and the next value, 101 values; 50,000,000 / 101 = 495,049.
    expect(only('train Net { data = sine(100, 1e6)  loss = mse }')).toMatchObject({
      message: 'sine: n = 1,000,000 makes 101,000,000 values, more than the 50,000,000 a data set may hold in memory',
      hint: 'use n = 495,049 or less',
    });
    expect(configOf(`${MODEL}train Net { data = spirals(16666666)  loss = mse }`).data).toMatchObject({ source: 'spirals', n: 16666666 });
  });
  it('a value that is not an expression of numbers', () => {
    // Lists are constants (tensors) like anywhere else; the setting says what it takes.
    expect(only('train Net { data = mnist()  loss = mse  epochs = [1, 2] }')).toEqual({
      at: '1:50',
      message: "train: 'epochs' must be a whole number >= 1, got a constant tensor of shape [2]",
      hint: undefined,
    });
    expect(only('train Net { data = mnist()  loss = mse  epochs = x -> relu }')).toEqual({
      at: '1:50',
      message: 'expected a number, a string, a name or a call such as sgd(lr = 0.01), got a layer expression',
      hint: undefined,
    });
    expect(only('train Net { data = mnist()  loss = mse  epochs = 3 * "x" }').message).toBe('\'*\' needs numbers, got the number 3 and the string "x"');
  });
  it('a model without a train section', () => {
    expect(only('')).toEqual({ at: '-3:7', message: "model 'Net' has no train section", hint: "add one, e.g. 'train Net { data = mnist()  loss = crossentropy  optimizer = adam() }'" });
  });
  it('two train sections for one model', () => {
    expect(only('train Net { data = mnist()  loss = mse }\ntrain Net { data = xor()  loss = mse }\n')).toEqual({ at: '2:7', message: "model 'Net' already has a train section (at line 5)", hint: undefined });
  });
  it('a model with nothing to train', () => {
    const relu = 'model Relu {\n  input x: [2]\n  output y = x -> relu\n}\n';
    expect(only('train Relu { data = xor()  loss = mse }', relu)).toEqual({
      at: '1:7',
      message: "model 'Relu' has nothing to train: it has no weights",
      hint: 'training needs a layer with parameters, such as dense or conv2d',
    });
  });
  it('a model with two outputs', () => {
    const two = 'model Two {\n  input x: [2]\n  h = x -> dense(4)\n  output a = h -> dense(1)\n  output b = h -> dense(1)\n}\n';
    expect(only('train Two { data = xor()  loss = mse }', two).message).toBe("training needs a model with one input and one output; 'Two' has 1 input and 2 outputs");
  });
  it('a train section for an unknown model is reported by the front end', () => {
    expect(() => compileSource({ path: 't.dl', text: `${MODEL}train Nett { data = xor()  loss = mse }` })).toThrow("train section for unknown model 'Nett'");
  });
});
