/**
 * One test per diagnostic: the message a user reads, its line:column, and
 * its hint. Sources are tiny .dl programs that make exactly that mistake.
 */
import { describe, expect, it } from 'vitest';
import { graphToDot } from '../src/backends/dot/index.js';
import { CompileError, formatDiagnostic, internal, InternalError, messages, suggest, UserError } from '../src/diagnostics.js';
import { compileText, errorsOf } from './helpers.js';

/** The single error of `src`, as "line:col message" (+ hint). */
function only(src: string): { at: string; message: string; hint?: string } {
  const errors = errorsOf(src);
  expect(errors.map((e) => `${e.at} ${e.message}`)).toHaveLength(1);
  const { at, message, hint } = errors[0];
  return { at, message, hint };
}

const model = (body: string, input = 'input x: [28, 28, 1]') => `model M {\n  ${input}\n  ${body}\n}\n`;

describe('syntax', () => {
  it('reports the position and what was expected', () => {
    expect(only('model M {\n  input x: [10\n  output y = x\n}\n')).toEqual({ at: '3:3', message: "syntax error: expected ']', ',' or an operator such as '->', found 'output'", hint: undefined });
  });
  it('a missing model name', () => {
    expect(only('model { }').message).toBe("syntax error: expected a name, found '{'");
  });
  it('a dangling arrow', () => {
    expect(only(model('output y = x -> relu ->')).message).toBe("syntax error: expected an expression, found '}'");
  });
  it('two expected tokens, each quoted', () => {
    // A misspelt keyword reads as a name, after which only '=' or ',' (a destructuring) can come.
    expect(only(model('outpt y = x')).message).toBe("syntax error: expected '=' or ',', found 'y'");
  });
  it('a keyword as a name', () => {
    expect(only('model M {\n  input model: [3]\n  output y = model\n}').at).toBe('2:9');
  });
});

describe('names', () => {
  it('unknown op, with a suggestion', () => {
    expect(only(model('output y = x -> flaten'))).toEqual({ at: '3:19', message: "unknown op or block 'flaten'", hint: "did you mean 'flatten'?" });
  });
  it('unknown argument, with a suggestion', () => {
    expect(only(model('output y = x -> conv2d(8, kernal = 3)'))).toEqual({ at: '3:29', message: "conv2d: unknown argument 'kernal'", hint: "did you mean 'kernel'?" });
  });
  it('unknown constant, with a suggestion', () => {
    expect(only('const classes = 10\n' + model('output y = x -> flatten -> dense(clases)'))).toEqual({
      at: '4:36',
      message: "'clases' is not defined",
      hint: "did you mean 'classes'?",
    });
  });
  it('undefined value, with a suggestion', () => {
    expect(only(model('features = x -> flatten\n  output y = featres -> dense(2)'))).toEqual({ at: '4:14', message: "'featres' is not defined", hint: "did you mean 'features'?" });
  });
  it('a value defined twice', () => {
    expect(only(model('h = x -> relu\n  h = x -> sigmoid\n  output y = h')).message).toBe("'h' is already defined (at line 3)");
  });
  it('a layer name used twice', () => {
    expect(only(model('a = x -> relu as act\n  output y = a -> relu as act'))).toMatchObject({ at: '4:27', message: "layer name 'act' is already used" });
  });
  it('several independent errors in one run, in source order', () => {
    const errors = errorsOf(model('output y = x -> dens(4) -> softmx'));
    expect(errors.map((e) => `${e.at} ${e.message}`)).toEqual(["3:19 unknown op or block 'dens'", "3:30 unknown op or block 'softmx'"]);
  });
});

describe('arguments', () => {
  it('wrong type', () => {
    expect(only(model('output y = x -> conv2d(8, kernel = 3, padding = 1)')).message).toBe(
      "conv2d: argument 'padding' must be one of 'valid', 'same', got the number 1",
    );
  });
  it('a symbol not in the choices, with a suggestion', () => {
    expect(only(model('output y = x -> conv2d(8, kernel = 3, padding = sane)'))).toMatchObject({
      message: "conv2d: argument 'padding' must be one of 'valid', 'same', got 'sane'",
      hint: "did you mean 'same'?",
    });
  });
  it('too many positional arguments', () => {
    expect(only(model('output y = x -> flatten -> dense(10, 20)'))).toMatchObject({ at: '3:40', message: 'dense: too many positional arguments (at most 1)' });
  });
  it('a missing required argument', () => {
    expect(only(model('output y = x -> flatten -> dense')).message).toBe("dense: missing required argument 'units'");
  });
  it('an argument given twice', () => {
    expect(only(model('output y = x -> flatten -> dense(10, units = 10)')).message).toBe("dense: argument 'units' is given twice");
  });
  it('non-integer size', () => {
    expect(only(model('output y = x -> maxpool(2.5)'))).toMatchObject({ at: '3:27', message: "maxpool: argument 'size' must be a whole number, got 2.5" });
  });
  it('non-positive size', () => {
    expect(only(model('output y = x -> conv2d(0, kernel = 3)')).message).toBe("conv2d: argument 'filters' must be positive, got 0");
  });
  it('a rate out of range', () => {
    expect(only(model('output y = x -> dropout(1)')).message).toBe("dropout: argument 'rate' must be in [0, 1), got 1");
  });
  it('wrong number of inputs', () => {
    expect(only(model('output y = add(x)')).message).toBe('add: expects at least 2 inputs, got 1');
  });
  it('a call with no input where a tensor is needed', () => {
    expect(only(model('output y = relu'))).toMatchObject({ at: '3:14', message: 'expected a tensor value, got the op relu, which has no input', hint: 'chain it: x -> relu' });
    expect(only(model('output y = dense(10)'))).toMatchObject({ message: 'expected a tensor value, got the call dense(...), which has no input', hint: 'chain it: x -> dense(10)' });
  });
  it('a bad input shape', () => {
    expect(only('model M {\n  input x: [28, -1]\n  output y = x\n}').message).toBe('a shape must be a list of positive whole numbers, got [28, -1]');
  });
  it('constant arithmetic errors', () => {
    expect(only('const k = [1, 2] + [1, 2, 3]\n' + model('output y = x')).message).toBe('cannot combine constant tensors of shapes [2] and [3]');
    expect(only('const k = [[1, 2], [3]]\n' + model('output y = x')).message).toBe('a nested list must be rectangular: found rows of shapes [2] and [1]');
  });
});

describe('structure', () => {
  it('no model', () => {
    expect(only('const a = 1').message).toBe('no model in this file');
  });
  it('missing input', () => {
    expect(errorsOf('model M {\n  output y = 1\n}')[0]).toMatchObject({ at: '1:7', message: "model 'M' has no input" });
  });
  it('missing output', () => {
    expect(only('model M {\n  input x: [3]\n}')).toMatchObject({ at: '1:7', message: "model 'M' has no output", hint: "add 'output y = ...'" });
  });
  it('a cycle', () => {
    expect(only(model('a = b -> relu\n  b = a -> relu\n  output y = a'))).toMatchObject({ at: '4:7', message: "'a' depends on itself: a -> b -> a" });
  });
  it('a recursive block', () => {
    const src = 'block loop(n) {\n  input x\n  output x -> loop(n)\n}\n' + model('output y = x -> loop(2)');
    expect(only(src)).toMatchObject({ at: '3:15', message: "block 'loop' calls itself: loop -> loop" });
  });
  it('a block called with the wrong number of inputs', () => {
    const src = 'block pair() {\n  input a\n  input b\n  output add(a, b)\n}\n' + model('output y = x -> pair()');
    expect(only(src).message).toBe("block 'pair' takes 2 tensor inputs, got 1");
  });
  it('a train section for an unknown model', () => {
    expect(only(model('output y = x') + 'train N {\n  epochs = 1\n}\n')).toMatchObject({ message: "train section for unknown model 'N'", hint: "did you mean 'M'?" });
  });
});

describe('shapes', () => {
  it('add: the example of the issue', () => {
    const src = model('c = x -> conv2d(32, kernel = 3)\n  d = x -> conv2d(32, kernel = 5)\n  output s = add(c, d)');
    expect(only(src)).toEqual({
      at: '5:14',
      message: 'add: shapes [26, 26, 32] and [24, 24, 32] differ in dimension 1',
      hint: 'the branches shrink differently: use padding = same in the convolutions',
    });
  });
  it('concat', () => {
    expect(only(model('output y = concat(x, x -> flatten)')).message).toBe('concat: shapes [28, 28, 1] and [784] must agree except in dimension 3');
  });
  it('dense on an image: hint to flatten', () => {
    expect(only(model('output y = x -> conv2d(32, kernel = 3) -> dense(10)'))).toEqual({
      at: '3:45',
      message: 'dense: expects a [features] or [steps, features] input, got [26, 26, 32]',
      hint: 'insert flatten before dense',
    });
  });
  it('conv on a flat input', () => {
    expect(only(model('output y = x -> conv2d(4, kernel = 3)', 'input x: [784]')).message).toBe('conv2d: expects a [height, width, channels] input, got [784]');
  });
  it('conv kernel larger than its input', () => {
    expect(only(model('output y = x -> conv2d(4, kernel = 5, dilation = 2)', 'input x: [8, 8, 1]'))).toMatchObject({
      message: 'conv2d: kernel 5x5 (dilated to 9x9) is larger than the input [8, 8, 1]',
      hint: 'use a smaller kernel or padding = same',
    });
  });
  it('pool window larger than its input', () => {
    expect(only(model('output y = x -> maxpool(4)', 'input x: [3, 3, 2]')).message).toBe('maxpool: pool window 4x4 is larger than the input [3, 3, 2]');
  });
  it('a fixed kernel on a multi-channel input', () => {
    expect(only('const k = [[1, 0], [0, 1]]\n' + model('output y = x -> conv2d(kernel = k)', 'input x: [8, 8, 3]')).message).toBe(
      'conv2d: a fixed 2x2 kernel filters a 1-channel input, but the input has 3 channels',
    );
  });
  it('attention: key and value lengths differ', () => {
    const src = model('q = x -> reshape([16, 8])\n  k = x -> reshape([8, 16])\n  v = x -> reshape([4, 32])\n  output y = attention(q, v, k, heads = 2, key_dim = 4)', 'input x: [128]');
    expect(only(src).message).toBe('attention: key [8, 16] and value [4, 32] must have the same number of steps');
  });
  it('attention on an image', () => {
    expect(only(model('output y = x -> attention(heads = 2, key_dim = 4)')).message).toBe('attention: expects [steps, width] sequences, got [28, 28, 1]');
  });
  it('integer input into a non-embedding op', () => {
    expect(only(model('output y = x -> dense(4)', 'input x: [20] int'))).toMatchObject({ message: 'dense: integer input is only accepted by embedding' });
  });
  it('float input into embedding', () => {
    expect(only(model('output y = x -> embedding(100, 8)', 'input x: [20]')).hint).toBe("declare the input as 'int', e.g. 'input tokens: [200] int'");
  });
  it('errors downstream of a failed layer are not repeated', () => {
    expect(errorsOf(model('output y = x -> dense(10) -> relu -> dense(3)'))).toHaveLength(1);
  });
});

describe('rendering', () => {
  it('prints file:line:col, a code frame with a caret, and the hint', () => {
    const [d] = errorsOf(model('output y = x -> flaten'));
    expect(formatDiagnostic(d)).toBe(
      [
        "test.dl:3:19: error: unknown op or block 'flaten'",
        '  2 |   input x: [28, 28, 1]',
        '> 3 |   output y = x -> flaten',
        '    |                   ^^^^^^',
        '  4 | }',
        "  hint: did you mean 'flatten'?",
      ].join('\n'),
    );
  });
});

describe('errors without a location', () => {
  it('a UserError made from a diagnostic carries its hint on a line of its own', () => {
    const e = new UserError(messages.diverged(2, 3, 10, { loss: NaN }, 0.5));
    expect(e.message).toBe(
      "training stopped in epoch 2 at batch 3/10: the loss became NaN; the weights of the last step with a finite loss were kept\n  hint: the learning rate is probably too high: try 'lr = 0.05' (now 0.5)",
    );
    expect(new UserError(messages.diverged(1, 7, 7, { weight: 'dense.kernel' }, 0.01)).message).toMatch(/^training stopped in epoch 1 at batch 7\/7: weight 'dense.kernel' became NaN or infinite;/);
  });
  it('formats without a location as error: message and hint', () => {
    expect(formatDiagnostic(messages.unknownModel('Mlp', ['MLP', 'CNN'], 'MLP'))).toBe("error: no model named 'Mlp' (models: MLP, CNN)\n  hint: did you mean 'MLP'?");
  });
  it('internal(...) is not a user error', () => {
    const e = internal('matmul: cannot multiply [2, 3] by [4, 5]');
    expect(e).toBeInstanceOf(InternalError);
    expect(e).not.toBeInstanceOf(UserError);
    expect(e.message).toBe('matmul: cannot multiply [2, 3] by [4, 5]');
  });
});

describe('diagram refusals', () => {
  const neurons = (text: string) => () =>
    graphToDot(compileText(text), { direction: 'LR', detail: 'neurons', theme: 'light', shapes: 'edges', params: true });
  it('the neuron view needs one input and one output', () => {
    expect(neurons('model M {\n  input a: [3]\n  input b: [3]\n  output y = add(a, b) -> dense(2)\n}')).toThrow(/ but model 'M' has 2 inputs$/);
    expect(neurons('model M {\n  input x: [3]\n  h = x -> dense(4)\n  output y = h -> dense(2)\n  output z = h\n}')).toThrow(CompileError);
    expect(neurons('model M {\n  input x: [3]\n  h = x -> dense(4)\n  output y = h -> dense(2)\n  output z = h\n}')).toThrow(/ but model 'M' has 2 outputs$/);
  });
  it('the neuron view needs the last layer as the output', () => {
    expect(neurons('model M {\n  input x: [3]\n  h = x -> dense(4)\n  unused = h -> dense(2)\n  output y = h\n}')).toThrow(/ but model 'M' does not output its last layer$/);
  });
});

describe('did you mean', () => {
  /** Levenshtein distance, the textbook full table: the reference for suggest's bounded one. */
  function levenshtein(a: string, b: string): number {
    const t = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) t[i][j] = Math.min(t[i - 1][j] + 1, t[i][j - 1] + 1, t[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return t[a.length][b.length];
  }
  /** The first candidate at the smallest distance below suggest's limit, by the full table. */
  function reference(name: string, candidates: string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
    for (const c of candidates) {
      const dist = levenshtein(name.toLowerCase(), c.toLowerCase());
      if (dist < bestDistance) [best, bestDistance] = [c, dist];
    }
    return best;
  }

  it('skipping candidates of distant lengths and stopping at the limit picks what the full edit distance picks', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const word = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => 'abcde'[Math.floor(random() * 5)]).join('');
    for (let trial = 0; trial < 300; trial++) {
      const candidates = Array.from({ length: 20 }, word);
      const name = random() < 0.5 ? word() : candidates[0].slice(0, -1) + 'x';
      expect(suggest(name, candidates), `${name} among ${candidates.join(' ')}`).toBe(reference(name, candidates));
    }
  });

  it('offers nothing for a name longer than 64 characters', () => {
    const long = 'a'.repeat(70);
    expect(suggest(long, [long.slice(1) + 'b'])).toBeUndefined();
    expect(suggest('a'.repeat(64), ['a'.repeat(63) + 'b'])).toBe('a'.repeat(63) + 'b');
  });
});

describe('hostile numbers and text (issue 16 reproducers)', () => {
  it('a constant that overflows to Infinity is an error where it is written', () => {
    expect(only('const a = 1e309\n' + model('output y = x -> relu'))).toEqual({ at: '1:11', message: 'this number is too large: it overflows to Infinity', hint: undefined });
    expect(only('const a = 10 ** 400\n' + model('output y = x -> relu'))).toEqual({ at: '1:11', message: "'**' overflows: the result is not a finite number", hint: undefined });
    expect(only('const a = [1e308, 1] * 10\n' + model('output y = x -> relu')).message).toBe("'*' overflows: the result is not a finite number");
  });

  it('an input shape of 2^53 values or more is an error, not a rounded number or Params Infinity', () => {
    expect(only(model('output y = x -> relu', 'input x: [1e300]')).message).toBe('shape [1e+300] is too large: an example may hold at most 2^53 - 1 values');
    expect(only(model('output y = x -> relu', 'input x: [9007199254740993]')).message).toBe('shape [9007199254740992] is too large: an example may hold at most 2^53 - 1 values');
    expect(only(model('output y = x -> relu', 'input x: [2 ** 27, 2 ** 26]')).at).toBe('2:12');
  });

  it('lines end at CR, LF or CRLF alike, as the code frame counts them', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const errors = errorsOf(['model M {', '  input x: [4]', '  output y = x -> rel', '}', ''].join(eol));
      expect(errors.map((e) => e.at), JSON.stringify(eol)).toEqual(['3:19']);
      expect(formatDiagnostic(errors[0]), JSON.stringify(eol)).toContain('> 3 |   output y = x -> rel');
    }
  });
});
