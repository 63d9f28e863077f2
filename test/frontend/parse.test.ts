/**
 * The front end's bounds (issue 16): the piece-by-piece parse equals one Ohm
 * match over the whole file, errors included; nesting and source size are
 * located errors that name their limits, never a stack overflow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Source } from '../../src/frontend/ast.js';
import { parse, parseWhole, simpleCall } from '../../src/frontend/parse.js';
import { MAX_NESTING, MAX_SOURCE_CHARS } from '../../src/frontend/scan.js';
import { compileText, errorsOf } from '../helpers.js';

/** An AST or a diagnostic as comparable data: spans as offsets, without the source object. */
const shown = (r: ReturnType<typeof parse>) =>
  JSON.stringify(r.ok ? r.program.decls : { ...r.diagnostic, span: [r.diagnostic.span?.start, r.diagnostic.span?.end] }, (k, v) => (k === 'source' ? undefined : v));
const both = (text: string) => {
  const source: Source = { path: 'test.dl', text };
  return [shown(parse(source)), shown(parseWhole(source))];
};

const files = [
  ...readdirSync('examples').filter((f) => f.endsWith('.dl')).map((f) => `examples/${f}`),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.dl')).map((f) => `test/cases/${f}`),
  'test/fixtures/issue-sample.dl',
];

/** A small deterministic generator (mulberry32), so that every run mutates the same way. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('parsing piece by piece', () => {
  it('gives the AST of a whole-file parse on every example and case', () => {
    let programs = 0;
    for (const f of files) {
      const [pieces, whole] = both(readFileSync(f, 'utf8'));
      expect(pieces, f).toBe(whole);
      if (pieces.startsWith('[')) programs++;
    }
    expect(programs).toBeGreaterThan(files.length * 0.9); // a few cases are syntax errors on purpose
  });

  it('gives the same AST or the same syntax error on mutated files', () => {
    const random = rng(16);
    const tokens = ['->', '}', '{', '(', ')', '=', 'output', 'model', ' as ', '#', '"', '\n', '-', '**', ',', 'const c = 1\n'];
    let errors = 0;
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      if (text.length > 2500) continue; // the whole-file parse is the slow part
      for (let i = 0; i < 6; i++) {
        const p = Math.floor(random() * text.length);
        const q = p + 1 + Math.floor(random() * 8);
        for (const mutated of [text.slice(0, p) + text.slice(q), text.slice(0, q) + text.slice(p, q) + text.slice(q), text.slice(0, p) + tokens[i % tokens.length] + text.slice(p)]) {
          const [pieces, whole] = both(mutated);
          expect(pieces).toBe(whole);
          if (whole.includes('"code":"syntax"')) errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(200); // the mutations do reach the error paths
  }, 180_000);
});

describe('the fast path for calls of plain numbers and names', () => {
  const inModel = (stage: string) => `model M {\n  input x: [4]\n  output y = x\n    -> ${stage}\n}\n`;
  // Taken: the AST must be Ohm's, spans included.
  const simple = ['dense(64)', 'f()', 'conv2d(32, 3, padding = same)', 'g( 1_000 ,2.,.5e-3, 1E+2_0 )', 'h(train = 8000)', 'k(a=b,c\n  = 1.5)', 'dense (8)', 'm(x1, _y, int_z)'];
  // Left to Ohm: what the patterns must not decide (errors, or other AST forms).
  const other = ['dense(64,)', 'f(,)', 'f(-1)', 'f(a as b)', 'f(1 2)', 'f(64abc)', 'f(int)', 'f(a = int)', 'model(1)', 'f(a == 1)', 'f("s")', 'f(1 # c\n)', 'f([1])', 'f(g(1))', 'f(é)', 'f(1\u00a0)', 'f(a = )', 'f(= 1)', 'f(1..2)', 'f(1e)', 'f(1_)'];
  it('parses each taken call exactly as a whole-file Ohm parse', () => {
    for (const stage of simple) {
      expect(simpleCall(stage, { path: 't.dl', text: stage }, 0), stage).toBeDefined();
      const [pieces, whole] = both(inModel(stage));
      expect(pieces, stage).toBe(whole);
      expect(whole, stage).toMatch(/^\[/);
    }
  });
  it('leaves every other stage to Ohm, errors included', () => {
    for (const stage of other) {
      expect(simpleCall(stage, { path: 't.dl', text: stage }, 0), stage).toBeUndefined();
      const [pieces, whole] = both(inModel(stage));
      expect(pieces, stage).toBe(whole);
    }
  });
});

/** Each construct of the issue's table, `n` deep, in a model that is otherwise fine. */
const NESTED: Record<string, (n: number) => string> = {
  calls: (n) => `model M {\n  input x: [4]\n  output y = ${'add('.repeat(n)}x${', x)'.repeat(n)}\n}\n`,
  lists: (n) => `const c = ${'['.repeat(n)}1${']'.repeat(n)}\nmodel M {\n  input x: [4]\n  output y = x\n}\n`,
  parentheses: (n) => `const c = ${'('.repeat(n)}1${')'.repeat(n)}\nmodel M {\n  input x: [4]\n  output y = x\n}\n`,
  powers: (n) => `const c = ${'1 ** '.repeat(n)}1\nmodel M {\n  input x: [4]\n  output y = x\n}\n`,
  'unary minus': (n) => `const c = ${'-'.repeat(n)}1\nmodel M {\n  input x: [4]\n  output y = x\n}\n`,
};
/** The depths at which each failed with a stack overflow before the limit. */
const ISSUE_DEPTHS: Record<string, number> = { calls: 67, lists: 76, parentheses: 90, powers: 489, 'unary minus': 733 };

describe(`the nesting limit (${MAX_NESTING})`, () => {
  for (const [construct, source] of Object.entries(NESTED)) {
    it(`${construct}: ${MAX_NESTING} deep checks, one more and the issue's depth are located errors naming the limit`, () => {
      expect(parse({ path: 'test.dl', text: source(MAX_NESTING) }).ok).toBe(true);
      for (const depth of [MAX_NESTING + 1, ISSUE_DEPTHS[construct], 100_000]) {
        const text = source(depth);
        const [error] = errorsOf(text);
        expect(error.code).toBe('limit');
        expect(error.message).toBe(`expressions nest more than ${MAX_NESTING} deep here (brackets, calls, signs and '**' open at once)`);
        // Located at the token that opens level 41: count the openers before it.
        const before = text.slice(0, error.span!.start);
        const open = construct === 'calls' ? before.split('(').length - 1 : construct === 'lists' ? before.split('[').length - 1 : construct === 'parentheses' ? before.split('(').length - 1 : construct === 'powers' ? before.split('**').length - 1 : before.split('-').length - 1;
        expect(open).toBe(MAX_NESTING);
      }
    });
  }

  it('counts a sum of many terms as one level, and evaluates 5,000 terms without recursion', () => {
    const text = `const c = ${Array(5000).fill('1').join(' + ')}\nmodel M {\n  input x: [4]\n  output y = x -> dense(c)\n}\n`;
    expect(parse({ path: 'test.dl', text }).ok).toBe(true);
    expect(errorsOf(`${text}\nconst bad = c - ${Array(5000).fill('1').join(' - ')} + "a"`)[0].message).toContain("'+'");
  });

  it('opens levels for signs and powers only while their operand is open', () => {
    // 30 brackets, then 10 signs: 40; the signs after '*' start over.
    const text = `const c = ${'('.repeat(30)}${'-'.repeat(10)}1 * ${'-'.repeat(10)}1${')'.repeat(30)}\nmodel M {\n  input x: [4]\n  output y = x\n}\n`;
    expect(parse({ path: 'test.dl', text }).ok).toBe(true);
    const deeper = text.replace('((', '(((').replace('))', ')))');
    const [error] = errorsOf(deeper);
    expect(error.code).toBe('limit');
    expect(error.span!.start).toBe(deeper.indexOf('1') - 1); // the tenth sign, the 41st level
  });
});

describe(`the source size limit (${MAX_SOURCE_CHARS / 2 ** 20} MiB)`, () => {
  it('refuses a longer text at the first character past the limit', () => {
    const text = `model M {\n  input x: [4]\n  output y = x\n}\n${'#'.padEnd(MAX_SOURCE_CHARS, '-')}`;
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ code: 'limit', message: 'this file is longer than dlc reads: the limit is 8 MiB of text' });
    expect(error.span!.start).toBe(MAX_SOURCE_CHARS);
  });
});

describe('a declaration too large to parse again whole (over 64 KB)', () => {
  /** A model of `n` copies of one statement, with `last` as its final line and `close` after it. */
  const large = (n: number, last: string, close: string) =>
    `model M {\n  input x: [4]\n${'  y = x -> dense(4) -> relu\n'.repeat(n)}${last}${close}`;

  it("left unclosed at the end of the file: every statement is checked, then the missing '}' is reported at the end", () => {
    const text = large(3_000, '  output y\n', '');
    const [error] = errorsOf(text);
    expect(error).toMatchObject({ code: 'syntax', message: "syntax error: expected '}' at end of file" });
    expect(error.span!.start).toBe(text.length);
    // The same file, small, reads as the whole-file parse words it.
    const [small] = errorsOf(large(3, '  output y\n', ''));
    expect(small.message).toBe("syntax error: expected '}', '(', '=', a statement or an operator such as '->' at end of file");
  });

  it('with a bad statement, closed or not: the error is that statement\'s, where the whole-file parse puts it', () => {
    for (const close of ['}\n', '']) {
      const text = large(3_000, '  output y = x -> dense(4,,)\n', close);
      const [error] = errorsOf(text);
      expect(error.code).toBe('syntax');
      expect(error.span!.start).toBe(text.indexOf(',,') + 1);
    }
  });
});

describe('keywords are whole words', () => {
  // A name that starts with a keyword once parsed as the keyword and the rest: `constructor = x` as `const ructor = x`
  // (then "'constructor' is not defined" where it was used), `inputs = x` as `input s` and a syntax error.
  it('names that start with one are names, in both parses', () => {
    const text = 'model M {\n  input x: [4]\n  constructor = x -> dense(3) as asx\n  inputs = constructor -> relu\n  outputs = inputs\n  models = outputs\n  output y = models\n}\n';
    const [pieces, whole] = both(text);
    expect(pieces).toBe(whole);
    const stmts = (JSON.parse(pieces) as { body: { kind: string; name: string }[] }[])[0].body;
    expect(stmts.map((s) => [s.kind, s.name])).toEqual([['input', 'x'], ['assign', 'constructor'], ['assign', 'inputs'], ['assign', 'outputs'], ['assign', 'models'], ['output', 'y']]);
    expect(compileText(text).outputs.map((o) => o.name)).toEqual(['y']); // and it compiles
  });

  it('and a keyword glued to the name after it is not the keyword', () => {
    const [pieces, whole] = both('modelM {\n  input x: [4]\n  output y = x\n}\n');
    expect(pieces).toBe(whole);
    expect(pieces).toContain('"syntax error');
  });
});
