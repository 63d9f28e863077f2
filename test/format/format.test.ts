/**
 * The formatter (src/format): the house style on small programs, comments
 * kept, idempotence, and that it never changes meaning: every example, every
 * golden case and a seeded slice of fuzzed inputs check to the same graphs
 * (or the same errors) before and after.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { formatSource } from '../../src/format/index.js';
import { printGraph } from '../../src/ir/print.js';
import { fuzzInput, loadCorpus } from '../../src/fuzz/inputs.js';
import { createRng } from '../../src/runtime/random.js';

const root = new URL('../..', import.meta.url).pathname;
const corpus = loadCorpus(root);

/** The formatted text; fails the test on a syntax error. */
function fmt(text: string, width?: number): string {
  const r = formatSource(text, 'test.dl', { width });
  if (!r.ok) throw new Error(r.diagnostics[0].message);
  return r.text;
}

/**
 * What the compiler makes of a text, without source locations: every model's
 * checked graph (ops, arguments, wiring, shapes, block paths and their
 * labels), or the errors' codes and messages.
 */
function meaning(text: string): string {
  try {
    return compileSource({ path: 'test.dl', text })
      .graphs.map((g) => [printGraph(g).replace(/  # \d+:\d+/g, '  #'), ...g.nodes.map((n) => n.blockPath.map((f) => f.label).join(' / '))].join('\n'))
      .join('\n\n');
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.map((d) => `${d.code}: ${d.message.replace(/line \d+/g, 'line N')} (${d.hint ?? ''})`).join('\n');
  }
}

/** Formats `text` and checks the three promises: same meaning, idempotent, nothing lost. */
function checkFormat(text: string, what: string): string {
  const once = fmt(text);
  // dlc reads a file without its byte order mark (compile.ts's readSource), and formatting drops it.
  expect(meaning(once), what).toBe(meaning(text.replace(/^\uFEFF/, '')));
  expect(fmt(once), `${what}: formatting twice`).toBe(once);
  return once;
}

describe('the house style', () => {
  it('spaces operators, arrows, commas and colons, and indents bodies by two', () => {
    const text = 'const  k=[1,2 ,3]\nmodel M{\ninput x:[4]int\n  y=x->embedding(vocab=10,dim=2+2*-3)as e ->flatten\n      output y\n}';
    expect(fmt(text)).toBe('const k = [1, 2, 3]\n\nmodel M {\n  input x: [4] int\n  y = x -> embedding(vocab = 10, dim = 2 + 2 * -3) as e -> flatten\n  output y\n}\n');
  });

  it("keeps the author's line breaks between stages and indents continuation lines one level", () => {
    const text = 'model M {\n  input x: [8]\n  output y = x -> dense(4) -> relu\n               -> dense(2) -> softmax\n}\n';
    expect(fmt(text)).toBe('model M {\n  input x: [8]\n  output y = x -> dense(4) -> relu\n    -> dense(2) -> softmax\n}\n');
  });

  it('breaks a line of stages that does not fit the width one stage per line', () => {
    const text = 'model M {\n  input x: [8]\n  output y = x -> dense(4) -> relu -> dense(2) -> softmax\n}\n';
    expect(fmt(text, 40)).toBe('model M {\n  input x: [8]\n  output y = x\n    -> dense(4)\n    -> relu\n    -> dense(2)\n    -> softmax\n}\n');
    // 56 characters fit the default 80.
    expect(fmt(text)).toBe(text);
  });

  it('breaks a call that does not fit one argument per line, with a trailing comma, and joins it again when it fits', () => {
    const text = 'model M {\n  input x: [8]\n  output y = add(x -> dense(8, activation = relu), x -> dense(8, activation = tanh))\n}\n';
    const broken = 'model M {\n  input x: [8]\n  output y = add(\n    x -> dense(8, activation = relu),\n    x -> dense(8, activation = tanh),\n  )\n}\n';
    expect(fmt(text)).toBe(broken);
    // A break right after the opening bracket is the author's: it stays, as prettier keeps an object broken.
    expect(fmt(broken, 200)).toBe(broken);
    expect(fmt('const a = [\n  1,\n  2,\n]\nconst b = [1, 2,]\n')).toBe('const a = [\n  1,\n  2,\n]\nconst b = [1, 2]\n');
  });

  it('keeps a single stage after the closing bracket of a call that does not fit, as prettier hugs f(...).g()', () => {
    const text = 'model M {\n  input x: [8]\n  output add(x -> dense(16, activation = relu), x -> dense(16, activation = tanh)) -> relu\n}\n';
    expect(fmt(text)).toBe('model M {\n  input x: [8]\n  output add(\n    x -> dense(16, activation = relu),\n    x -> dense(16, activation = tanh),\n  ) -> relu\n}\n');
    // A call that fits its line keeps it whole, and the stage goes to the next line.
    const fits = 'model M {\n  input x: [4]\n  h = add(x, x) -> layernorm(epsilon = 1e-12, center = true, scale = true, axis = -1)\n  output h\n}\n';
    expect(fmt(fits)).toBe('model M {\n  input x: [4]\n  h = add(x, x)\n    -> layernorm(epsilon = 1e-12, center = true, scale = true, axis = -1)\n  output h\n}\n');
  });

  it('keeps blank lines between statements (one of a run), drops them at the edges of a body, and puts one around models', () => {
    const text = '\n\nconst a = 1\nconst b = 2\n\n\n\nconst c = 3\nmodel M {\n\n  input x: [a]\n\n\n  output x -> relu\n\n}\ntrain M {\n  loss = mse\n}';
    expect(fmt(text)).toBe('const a = 1\nconst b = 2\n\nconst c = 3\n\nmodel M {\n  input x: [a]\n\n  output x -> relu\n}\n\ntrain M {\n  loss = mse\n}\n');
  });

  it('keeps parentheses as written, and a space between two signs', () => {
    expect(fmt('const a = ( (1+2) )*3 - - 4 ** -(2)\n')).toBe('const a = ((1 + 2)) * 3 - -4 ** -(2)\n');
    expect(fmt('const a = - -4\n')).toBe('const a = - -4\n');
  });

  it('lays out block parameters, unpacking and input types', () => {
    const text = 'block b( n ,k=3 ){\ninput x\noutput x->dense(n)}\nmodel M{input t:[T]  int\nout ,h,c=t->embedding(9,4)->lstm(2,return_state=true)\noutput out}';
    expect(fmt(text)).toBe('block b(n, k = 3) {\n  input x\n  output x -> dense(n)\n}\n\nmodel M {\n  input t: [T] int\n  out, h, c = t -> embedding(9, 4) -> lstm(2, return_state = true)\n  output out\n}\n');
  });

  it('gives an empty model its braces on one line, and an empty file stays empty', () => {
    expect(fmt('model M {\n\n}')).toBe('model M {}\n');
    expect(fmt('')).toBe('');
    expect(fmt('\n\n  \n')).toBe('');
  });

  it('reads two statements on one line as two lines', () => {
    expect(fmt('model M { input x: [2] output y = x -> relu }')).toBe('model M {\n  input x: [2]\n  output y = x -> relu\n}\n');
  });

  it('splits a number from a keyword after it, as the grammar does (`2as`)', () => {
    expect(fmt('model M {\n  input x: [2]\n  a = 2as two\n  output x -> dense(a)\n}\n')).toBe('model M {\n  input x: [2]\n  a = 2 as two\n  output x -> dense(a)\n}\n');
  });
});

describe('comments', () => {
  it('keeps own-line comments on their lines and trailing comments two spaces after the code', () => {
    const text = '# file\n\n# about M\nmodel M {   # the model\n  # the input\n  input x: [4]      # four\n\n  # last\n  output y = x\n    # a stage\n    -> relu   # rectified\n  # dangling\n}\n# end\n';
    expect(fmt(text)).toBe('# file\n\n# about M\nmodel M {  # the model\n  # the input\n  input x: [4]  # four\n\n  # last\n  output y = x\n    # a stage\n    -> relu  # rectified\n  # dangling\n}\n# end\n');
  });

  it('keeps a comment inside brackets beside its item, breaking the brackets', () => {
    const text = 'const k = [[1, 2],  # first row\n  [3, 4]]\n';
    expect(fmt(text)).toBe('const k = [\n  [1, 2],  # first row\n  [3, 4],\n]\n');
  });

  it('moves a comment that sat between the parts of an expression to the end of its line', () => {
    expect(fmt('const a = 1 +   # one\n  2\n')).toBe('const a = 1 + 2  # one\n');
    expect(fmt('const a = 1 +\n# own line\n  2\n')).toBe('const a = 1 + 2  # own line\n');
    // Two such comments share the line (and read as one comment from then on).
    expect(fmt('const a = 1 +  # one\n# two\n  2\n')).toBe('const a = 1 + 2  # one  # two\n');
  });

  it('keeps every comment of the examples, in order', () => {
    for (const file of corpus) {
      const r = formatSource(file.text, file.path);
      if (!r.ok) continue;
      const comments = (t: string) => t.split('\n').flatMap((l) => /#.*$/.exec(l.replace(/"(?:\\.|[^"\\])*"/g, '""'))?.[0].trimEnd() ?? []);
      expect(comments(r.text), file.path).toEqual(comments(file.text));
    }
  });
});

describe('the examples', () => {
  it('are formatted (npm start checks this too)', () => {
    const examples = corpus.filter((f) => f.path.startsWith('examples/'));
    expect(examples.length).toBeGreaterThan(20);
    const unformatted = examples.filter((f) => {
      const r = formatSource(f.text, f.path);
      return !r.ok || r.changed;
    });
    expect(unformatted.map((f) => f.path)).toEqual([]);
  });
});

describe('meaning', () => {
  it('is unchanged for every example and golden case, and formatting twice equals once', () => {
    let formatted = 0;
    for (const file of corpus) {
      if (!formatSource(file.text, file.path).ok) continue; // err_syntax.dl
      checkFormat(file.text, file.path);
      formatted++;
    }
    expect(formatted).toBe(corpus.length - 1);
  });

  // Inputs over 30,000 characters (the fuzzer's megabyte repeats) take seconds each to parse and check; the repeat family still gives small ones.
  it('is unchanged for a seeded slice of fuzzed inputs that parse', { timeout: 300_000 }, () => {
    let parsed = 0;
    for (let i = 0; i < 300; i++) {
      const input = fuzzInput(corpus, 17, i);
      if (input.text.length > 30_000 || !formatSource(input.text, 'fuzz.dl').ok) continue;
      checkFormat(input.text, `fuzz seed 17 input ${i} (${input.origin})`);
      parsed++;
    }
    // Most mutations keep the text parsing; enough must, or the slice checks nothing.
    expect(parsed).toBeGreaterThan(80);
  });

  it('is unchanged with comments and line breaks scattered between tokens', () => {
    const rng = createRng(17);
    const gaps = ['\n', '\n\n', '  # c\n', '\n# own\n', ' ', '\n   \n# x\n\n'];
    for (const file of corpus) {
      if (!formatSource(file.text, file.path).ok) continue;
      // Between two tokens (a space, an operator or a bracket follows a token), never inside one.
      const text = file.text.replace(/(?<=[\w)\]"])(?=[ ,()[\]=:+*/%-])|(?<=[ ,([=:>])(?=[\w([-])/g, (m) => (rng.uniform() < 0.08 ? gaps[Math.floor(rng.uniform() * gaps.length)] : m));
      if (!formatSource(text, file.path).ok) continue; // a break inside `->` or before a unary sign's operand can be a different program
      checkFormat(text, `${file.path} with comments`);
    }
  });
});

describe('syntax errors', () => {
  it('are returned located, as dlc check reports them, and nothing is formatted', () => {
    const r = formatSource('model M {\n  input x: [4\n  output x\n}\n', 'bad.dl');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0].code).toBe('syntax');
    expect(lineCol(r.diagnostics[0].span!)).toEqual({ line: 3, column: 3 });
    expect(r.diagnostics[0].span!.source.path).toBe('bad.dl');
  });
});
