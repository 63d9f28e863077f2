/**
 * Names in generated code (names.ts) against the tools that read it: an
 * identifier dlc writes must be one TypeScript's scanner accepts, whatever
 * Unicode version Node's own tables have. A name with a letter newer than
 * TypeScript's tables (Unicode 16's U+1C89 and U+A7CB, and an astral one)
 * passed `check` and crashed `compile --target tfjs` inside prettier.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { emitTfjs } from '../../../src/backends/tfjs/index.js';
import { CompileError } from '../../../src/diagnostics.js';
import { identifier, key, member } from '../../../src/backends/tfjs/names.js';
import { compileText } from '../../helpers.js';

/** TypeScript's own answer: does its scanner read `text` as one identifier (or keyword)? */
const scanner = ts.createScanner(ts.ScriptTarget.ESNext, true);
const tsIdentifier = (text: string) => {
  scanner.setText(text);
  const token = scanner.scan(); // `as`, `if`: keywords are identifier characters too
  const word = token === ts.SyntaxKind.Identifier || (token >= ts.SyntaxKind.FirstKeyword && token <= ts.SyntaxKind.LastKeyword);
  return word && scanner.getTokenEnd() === text.length;
};

describe('identifiers', () => {
  it('keep only characters TypeScript accepts in identifiers, checked over the first three planes (where every script is)', () => {
    for (let c = 0; c <= 0x2ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCodePoint(c);
      const id = identifier(`a${ch}`);
      if (id === `a${ch}`) expect(tsIdentifier(id), `U+${c.toString(16)}`).toBe(true);
      const start = identifier(ch);
      if (start === ch) expect(tsIdentifier(start), `U+${c.toString(16)} first`).toBe(true);
    }
  });
  it('keep long-standing letters, and the keys that need no quotes stay bare', () => {
    for (const name of ['évaluation', 'Ωmega', '日本語', 'привет', 'שלום', '한국어', 'カナ']) {
      expect(identifier(name)).toBe(name);
      expect(key(name)).toBe(name);
    }
  });
  it('turn letters newer than the tools into _, and quote them as keys', () => {
    expect(identifier('x\u1C89')).toBe('x_');
    expect(identifier('d\uA7CB')).toBe('d_');
    expect(identifier('y\u{1E4D0}')).toBe('y_');
    expect(identifier('\u1C89')).toBe('_');
    expect(key('x\u1C89')).toBe("'x\u1C89'".replace(/'/g, '"'));
    expect(member('inputs', 'x\u1C89')).toBe('inputs["x\u1C89"]');
  });
});

describe('compile --target tfjs with Unicode 16 letters in names', () => {
  it('writes a module TypeScript parses, with each mangled layer mapped to its name in a comment', async () => {
    const graph = compileText('model M\u1C89 {\n  input x\u1C89: [4]\n  h = x\u1C89 -> dense(4) as d\uA7CB\n  output y\u{1E4D0} = h -> relu\n}\n');
    const code = await emitTfjs(graph, { sourcePath: 'u16.dl' });
    const parsed = ts.createSourceFile('m.ts', code, ts.ScriptTarget.ESNext, true) as ts.SourceFile & { parseDiagnostics: ts.Diagnostic[] };
    expect(parsed.parseDiagnostics).toEqual([]);
    expect(code).toContain("const x_ = inputs['x\u1C89'];");
    expect(code).toContain('// u16.dl:3: h = x\u1C89 -> dense(4) as d\uA7CB (layer "d\uA7CB")\n    const d_: tf.Tensor2D');
    expect(code).toContain("return { 'y\u{1E4D0}': relu };");
  });
});

describe('compile --target tfjs with a size computed from a dimension variable', () => {
  it("refuses take(-3) on a [T] sequence with a located error (the fuzzer's internal error, seed 2 input 306)", async () => {
    const graph = compileText('model M {\n  input x: [T] int\n  e = x -> embedding(27, 4)\n  h = e -> take(index = -3)\n  output y = h\n}\n');
    const error = await emitTfjs(graph, { sourcePath: 't.dl' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CompileError);
    const [d] = (error as CompileError).diagnostics;
    expect(d.message).toBe("layer 'take' (take) cannot be written as TensorFlow.js: one of its sizes is computed from 'T', which the module reads only as a whole length");
    expect(d.span!.source.text.slice(d.span!.start, d.span!.end)).toBe('take(index = -3)');
    // A position from the start does not depend on T, and compiles.
    await expect(emitTfjs(compileText('model M {\n  input x: [T] int\n  output y = x -> embedding(27, 4) -> take(2)\n}\n'), { sourcePath: 't.dl' })).resolves.toContain('tf.gather<tf.Tensor>(embedding, 2, 1)');
  });
});
