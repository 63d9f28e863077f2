/**
 * The one argument binder (src/ir/bind.ts) and the one constant evaluator
 * (src/ir/constants.ts), seen from the three places that call them: op calls,
 * block calls and the calls of a train section. Each diagnostic kind is
 * asserted with its exact text, its line:column and its hint; the columns are
 * counted by hand from the sources below.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { selectTrainModel, trainConfig } from '../../src/train/config.js';
import { compileText, errorsOf } from '../helpers.js';

type Reported = { at: string; message: string; hint?: string };
const brief = (errors: ReturnType<typeof errorsOf>): Reported[] => errors.map(({ at, message, hint }) => ({ at, message, hint }));

// The call under test starts at line 3, column 19: "  output y = x -> " is 18 characters.
const opCall = (call: string, input = 'input x: [4]') => `model M {\n  ${input}\n  output y = x -> ${call}\n}\n`;

// The call under test starts at line 7, column 19.
const BLOCK = 'block mlp(units, rate = 0.5) {\n  input x\n  output x -> dense(units) -> dropout(rate)\n}\n';
const blockCall = (call: string) => `${BLOCK}model M {\n  input x: [4]\n  output y = x -> ${call}\n}\n`;

// The optimizer call starts at line 5, column 51: "train Net { data = xor()  loss = mse  optimizer = " is 50 characters.
const MODEL = 'model Net {\n  input x: [4]\n  output y = x -> dense(2) -> softmax\n}\n';
const optimizer = (call: string) => `train Net { data = xor()  loss = mse  optimizer = ${call} }\n`;

function trainErrors(section: string, prefix = ''): Reported[] {
  try {
    const file = compileSource({ path: 'test.dl', text: prefix + MODEL + section });
    trainConfig(file, selectTrainModel(file));
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.map((d) => {
      const { line, column } = lineCol(d.span!);
      return { at: `${line}:${column}`, message: d.message, hint: d.hint };
    });
  }
  throw new Error('expected the train section to fail');
}

function trainConfigOf(section: string, prefix = '') {
  const file = compileSource({ path: 'test.dl', text: prefix + MODEL + section });
  return trainConfig(file, selectTrainModel(file));
}

describe('binding an op call', () => {
  it('an unknown argument, with a suggestion; the suggested one is then not also missing', () => {
    expect(brief(errorsOf(opCall('dense(4, biass = false)')))).toEqual([{ at: '3:28', message: "dense: unknown argument 'biass'", hint: "did you mean 'bias'?" }]);
    expect(brief(errorsOf(opCall('dense(unit = 4)')))).toEqual([{ at: '3:25', message: "dense: unknown argument 'unit'", hint: "did you mean 'units'?" }]);
  });
  it('an unknown argument, with the list of arguments', () => {
    expect(brief(errorsOf(opCall('dense(4, initializer = zeros)')))).toEqual([{ at: '3:28', message: "dense: unknown argument 'initializer'", hint: "dense takes 'units', 'bias', 'activation', 'tie'" }]);
  });
  it('an argument given twice', () => {
    expect(brief(errorsOf(opCall('dense(4, units = 5)')))).toEqual([{ at: '3:28', message: "dense: argument 'units' is given twice", hint: undefined }]);
  });
  it('too many positional arguments', () => {
    expect(brief(errorsOf(opCall('dense(4, 5)')))).toEqual([{ at: '3:28', message: 'dense: too many positional arguments (at most 1)', hint: undefined }]);
  });
  it('a missing required argument, at the call', () => {
    expect(brief(errorsOf(opCall('dense(bias = false)')))).toEqual([{ at: '3:19', message: "dense: missing required argument 'units'", hint: undefined }]);
  });
  it('a value of the wrong type, at the value', () => {
    expect(brief(errorsOf(opCall('dense(4, bias = 1)')))).toEqual([{ at: '3:35', message: "dense: argument 'bias' must be true or false, got the number 1", hint: undefined }]);
  });
  it('an op argument that is not an op call, and a mistake inside the nested call', () => {
    const input = 'input x: [5, 3]';
    expect(brief(errorsOf(opCall('bidirectional(4)', input)))).toEqual([
      { at: '3:33', message: "bidirectional: argument 'layer' must be an op call such as lstm(64), got the number 4", hint: undefined },
    ]);
    expect(brief(errorsOf(opCall('bidirectional(lstm(unit = 4))', input)))).toEqual([{ at: '3:38', message: "lstm: unknown argument 'unit'", hint: "did you mean 'units'?" }]);
  });
  it('every mistake of a call at once, in source order', () => {
    expect(brief(errorsOf(opCall('embedding(2.5, vocab = 3, size = 4)', 'input x: [4] int')))).toEqual([
      { at: '3:19', message: "embedding: missing required argument 'dim'", hint: undefined },
      { at: '3:29', message: "embedding: argument 'vocab' must be a whole number, got 2.5", hint: undefined },
      { at: '3:34', message: "embedding: argument 'vocab' is given twice", hint: undefined },
      { at: '3:45', message: "embedding: unknown argument 'size'", hint: "embedding takes 'vocab', 'dim', 'mask_zero'" },
    ]);
  });
  it('a positional argument fills the next parameter not given by name; defaults fill the rest', () => {
    const g = compileText(opCall('embedding(dim = 8, 100)', 'input x: [4] int'));
    expect(g.nodes[1].attrs).toEqual({ vocab: 100, dim: 8 });
    expect(compileText(opCall('dense(3)')).nodes[1].attrs).toEqual({ units: 3, bias: true });
  });
});

describe('binding a block call', () => {
  it('an unknown argument, with a suggestion', () => {
    expect(brief(errorsOf(blockCall('mlp(8, rat = 0.1)')))).toEqual([{ at: '7:26', message: "mlp: unknown argument 'rat'", hint: "did you mean 'rate'?" }]);
  });
  it('an unknown argument, with the list of parameters', () => {
    expect(brief(errorsOf(blockCall('mlp(8, width = 3)')))).toEqual([{ at: '7:26', message: "mlp: unknown argument 'width'", hint: "mlp takes 'units', 'rate'" }]);
  });
  it('an argument given twice', () => {
    expect(brief(errorsOf(blockCall('mlp(8, units = 4)')))).toEqual([{ at: '7:26', message: "mlp: argument 'units' is given twice", hint: undefined }]);
  });
  it('too many positional arguments', () => {
    expect(brief(errorsOf(blockCall('mlp(8, 0.1, 3)')))).toEqual([{ at: '7:31', message: 'mlp: too many positional arguments (at most 2)', hint: undefined }]);
  });
  it('a missing required argument, at the call', () => {
    expect(brief(errorsOf(blockCall('mlp(rate = 0.1)')))).toEqual([{ at: '7:19', message: "mlp: missing required argument 'units'", hint: undefined }]);
  });
  it('a value of the wrong type is reported where the block body uses it', () => {
    // "  output x -> dense(" is 20 characters: `units` in the block body is at 3:21.
    expect(brief(errorsOf(blockCall('mlp(true)')))).toEqual([{ at: '3:21', message: "dense: argument 'units' must be a whole number, got true", hint: undefined }]);
  });
  it('a positional argument fills the next parameter not given by name; a default fills the rest', () => {
    const attrsOf = (call: string) => compileText(blockCall(call)).nodes.slice(1).map((n) => [n.op, Object.values(n.attrs)[0]]);
    expect(attrsOf('mlp(rate = 0.25, 8)')).toEqual([['dense', 8], ['dropout', 0.25]]);
    expect(attrsOf('mlp(8)')).toEqual([['dense', 8], ['dropout', 0.5]]);
  });
});

describe('binding a train-section call', () => {
  it('an unknown argument, with a suggestion', () => {
    expect(trainErrors(optimizer('sgd(lr = 0.1, momentun = 0.9)'))).toEqual([{ at: '5:65', message: "sgd: unknown argument 'momentun'", hint: "did you mean 'momentum'?" }]);
  });
  it('an unknown argument, with the list of parameters', () => {
    expect(trainErrors(optimizer('sgd(nesterov = 1)'))).toEqual([{ at: '5:55', message: "sgd: unknown argument 'nesterov'", hint: "sgd takes 'lr', 'momentum'" }]);
  });
  it('an argument given twice', () => {
    expect(trainErrors(optimizer('adam(0.1, lr = 0.2)'))).toEqual([{ at: '5:61', message: "adam: argument 'lr' is given twice", hint: undefined }]);
  });
  it('too many positional arguments', () => {
    expect(trainErrors(optimizer('sgd(0.1, 0.9, 3)'))).toEqual([{ at: '5:65', message: 'sgd: too many positional arguments (at most 2)', hint: undefined }]);
  });
  it('a missing required argument, at the call', () => {
    expect(trainErrors('train Net { data = csv(test = 0.5)  loss = mse }\n')).toEqual([{ at: '5:20', message: "csv: missing required argument 'file'", hint: undefined }]);
  });
  it('a value of the wrong type, at the value', () => {
    expect(trainErrors(optimizer('sgd(lr = "fast")'))).toEqual([{ at: '5:60', message: 'sgd: argument \'lr\' must be a positive number, got the string "fast"', hint: undefined }]);
  });
  it('a positional argument fills the next parameter not given by name; defaults fill the rest', () => {
    expect(trainConfigOf(optimizer('sgd(momentum = 0.5, 0.2)')).optimizer).toEqual({ kind: 'sgd', lr: 0.2, momentum: 0.5 });
    expect(trainConfigOf(optimizer('adam(0.01)')).optimizer).toEqual({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  });
});

describe('one constant evaluator', () => {
  it('a top-level constant means the same in an op argument, a block default and a train setting', () => {
    const prefix = 'const r = 1 / 4\nblock drop(rate = r) {\n  input x\n  output x -> dropout(rate)\n}\n';
    const text = `${prefix}model Net {\n  input x: [4]\n  output y = x -> dropout(r) -> drop -> dense(2) -> softmax\n}\ntrain Net { data = xor()  loss = mse  optimizer = sgd(lr = r * 2) }\n`;
    const file = compileSource({ path: 'test.dl', text });
    expect(file.graphs[0].nodes.filter((n) => n.op === 'dropout').map((n) => n.attrs.rate)).toEqual([0.25, 0.25]);
    expect(trainConfig(file, file.graphs[0]).optimizer).toEqual({ kind: 'sgd', lr: 0.5, momentum: 0 });
  });
  it('arithmetic on something that is not a number says what it got, at the expression', () => {
    // `2 * "a"` starts after "  output y = x -> dense(": column 25.
    expect(brief(errorsOf(opCall('dense(2 * "a")')))).toEqual([{ at: '3:25', message: '\'*\' needs numbers, got the number 2 and the string "a"', hint: undefined }]);
    expect(brief(errorsOf(opCall('dense(-true)')))).toEqual([{ at: '3:25', message: "'-' needs a number, got true", hint: undefined }]);
    // The same text in a train setting: "train Net { data = xor()  loss = mse  epochs = " is 47 characters.
    expect(trainErrors('train Net { data = xor()  loss = mse  epochs = 3 * "x" }\n')).toEqual([
      { at: '5:48', message: '\'*\' needs numbers, got the number 3 and the string "x"', hint: undefined },
    ]);
  });
  it('arithmetic on a tensor', () => {
    expect(brief(errorsOf('model M {\n  input x: [4]\n  output y = x * 2\n}\n'))).toEqual([
      { at: '3:14', message: 'arithmetic works on constants; combine tensors with an op, e.g. add(a, b)', hint: undefined },
    ]);
  });
  it('a call is not a constant', () => {
    expect(brief(errorsOf('const c = dense(4)\n' + opCall('relu')))).toEqual([{ at: '1:11', message: 'expected a constant, got the call dense(...)', hint: undefined }]);
  });
});
