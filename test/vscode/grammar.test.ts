/**
 * The VS Code extension's TextMate grammar (editors/vscode/syntaxes), checked
 * three ways:
 *   - vscode-tmgrammar-test, as a process, on test/vscode/*.test.dl: every
 *     token class, with its expected scopes written under each line;
 *   - against the compiler's own parser on every example and every test case
 *     that parses: each name, number and string the parser finds (with its
 *     span) carries the scope its role asks for, an op its op scope, and no
 *     token of these files is marked illegal;
 *   - against the op registry and the lexer's keywords: every op .dl may call
 *     highlights as an op, every keyword as a keyword.
 * The grammar is generated (scripts/build-vscode.js --grammar, after the build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type textmate from 'vscode-textmate';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Arg, Decl, Expr, Program, Span, Stmt } from '../../src/frontend/ast.js';
import { parse } from '../../src/frontend/parse.js';
import { KEYWORDS } from '../../src/frontend/scan.js';
import { callableOps, OPS } from '../../src/ops/index.js';
import { loadGrammar, tokenize, type Token } from './textmate.js';

let grammar: textmate.IGrammar;
beforeAll(async () => {
  const build = spawnSync('node', ['scripts/build-vscode.js', '--grammar'], { encoding: 'utf8' });
  expect(build.stderr, 'node scripts/build-vscode.js --grammar (after npm run build)').toBe('');
  expect(build.status).toBe(0);
  grammar = await loadGrammar();
});

const OP_NAMES = new Set<string>(callableOps());
/** The values of ops' enum arguments (`same`, `bilinear`...), which may highlight as such instead of as a plain name. */
const CHOICES = new Set(Object.values(OPS).flatMap((op) => op.attrs.flatMap((a) => (a.type.kind === 'symbol' ? a.type.choices : []))));

describe('vscode-tmgrammar-test', () => {
  it('passes the syntax tests of every token class', () => {
    const run = spawnSync('node', ['node_modules/vscode-tmgrammar-test/dist/unit.js', '--compact', '--config', 'editors/vscode/package.json', 'test/vscode/*.test.dl'], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain('syntax.test.dl run successfuly');
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });
});

/** What the parser says a span is, as the scope a token there must carry (`|` separates accepted scopes). */
interface Role {
  span: Span;
  scope: string;
}

function roles(program: Program): Role[] {
  const out: Role[] = [];
  const role = (span: Span, scope: string): void => void out.push({ span, scope });
  const expr = (e: Expr): void => {
    switch (e.kind) {
      case 'number':
        return role(e.span, 'constant.numeric.dl');
      case 'string':
        return role(e.span, 'string.quoted.double.dl');
      case 'name':
        if (e.name === 'true' || e.name === 'false') return role(e.span, 'constant.language.boolean.dl');
        if (OP_NAMES.has(e.name)) return role(e.span, 'support.function.op.dl');
        return role(e.span, CHOICES.has(e.name) ? 'support.constant.choice.dl' : 'variable.other.dl');
      case 'list':
        return e.items.forEach(expr);
      case 'call':
        role(e.calleeSpan, OP_NAMES.has(e.callee) ? 'support.function.op.dl' : e.callee === 'repeat' ? 'support.function.builtin.dl' : 'entity.name.function.call.dl');
        return e.args.forEach(arg);
      case 'chain':
        expr(e.head);
        return e.stages.forEach(expr);
      case 'as':
        role(e.nameSpan, 'variable.other.definition.dl');
        return expr(e.expr);
      case 'binary':
        expr(e.left);
        return expr(e.right);
      case 'unary':
        return expr(e.operand);
    }
  };
  const arg = (a: Arg) => {
    if (a.nameSpan) role(a.nameSpan, 'variable.parameter.argument.dl');
    expr(a.value);
  };
  const stmt = (s: Stmt) => {
    switch (s.kind) {
      case 'const':
        role(s.nameSpan, 'variable.other.constant.dl');
        return expr(s.value);
      case 'input':
        role(s.nameSpan, 'variable.parameter.input.dl');
        if (s.shape?.kind === 'list') role(s.shape.span, 'meta.shape.dl');
        if (s.shape) expr(s.shape);
        return;
      case 'unpack':
        for (const n of s.names) role(n.nameSpan, 'variable.other.definition.dl');
        return expr(s.value);
      default:
        if (s.nameSpan) role(s.nameSpan, 'variable.other.definition.dl');
        return expr(s.value);
    }
  };
  const decl = (d: Decl) => {
    switch (d.kind) {
      case 'const':
        return stmt(d);
      case 'block':
        role(d.nameSpan, 'entity.name.function.block.dl');
        for (const p of d.params) {
          role(p.nameSpan, 'variable.parameter.dl');
          if (p.default) expr(p.default);
        }
        return d.body.forEach(stmt);
      case 'model':
        role(d.nameSpan, 'entity.name.type.model.dl');
        return d.body.forEach(stmt);
      case 'train':
        role(d.nameSpan, 'entity.name.type.model.dl');
        for (const s of d.settings) {
          role(s.nameSpan, 'variable.other.property.setting.dl');
          expr(s.value);
        }
    }
  };
  program.decls.forEach(decl);
  return out;
}

/** Each role whose tokens (those overlapping its span) lack its scope: `line:column text: scope (has ...)`. */
function mismatches(tokens: Token[], program: Program): string[] {
  const wrong: string[] = [];
  for (const { span, scope } of roles(program)) {
    for (const t of tokens.filter((t) => t.offset < span.end && t.offset + t.text.length > span.start && t.text.trim() !== '')) {
      if (!t.scopes.includes(scope)) wrong.push(`${t.line + 1}:${t.column + 1} '${t.text}': ${scope} (has ${t.scopes.join(' ')})`);
    }
  }
  return wrong;
}

const sources = [
  ...readdirSync('examples').filter((f) => f.endsWith('.dl')).map((f) => `examples/${f}`),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.dl')).map((f) => `test/cases/${f}`),
].sort();

describe('the grammar agrees with the parser', () => {
  it.each(sources)('%s', (path) => {
    const text = readFileSync(path, 'utf8');
    const parsed = parse({ path, text });
    const tokens = tokenize(grammar, text);
    if (!parsed.ok) {
      // A case about a syntax error: the parser has no roles to compare.
      expect(path.startsWith('test/cases/'), `${path}: ${parsed.diagnostic.message}`).toBe(true);
      return;
    }
    expect(tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid.'))).map((t) => `${t.line + 1}:${t.column + 1} '${t.text}'`)).toEqual([]);
    expect(mismatches(tokens, parsed.program)).toEqual([]);
  });

  it('sees the ops, blocks and declarations of the examples (the comparison is not empty)', () => {
    const seen = new Map<string, number>();
    for (const path of sources.filter((p) => p.startsWith('examples/'))) {
      const parsed = parse({ path, text: readFileSync(path, 'utf8') });
      if (parsed.ok) for (const { scope } of roles(parsed.program)) seen.set(scope, (seen.get(scope) ?? 0) + 1);
    }
    for (const scope of ['support.function.op.dl', 'entity.name.function.call.dl', 'entity.name.type.model.dl', 'variable.parameter.argument.dl', 'variable.other.property.setting.dl'])
      expect(seen.get(scope) ?? 0, scope).toBeGreaterThan(0);
  });
});

describe('the preview', () => {
  it('draws an example as the grammar colours it, two pixels per CSS pixel', () => {
    const png = join(mkdtempSync(join(tmpdir(), 'dlc-preview-')), 'preview.png');
    const run = spawnSync('node', ['scripts/build-vscode.js', '--preview', png], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // One 19 px line per source line between 14 px margins (build-vscode.js), doubled.
    const lines = readFileSync('examples/mnist_train.dl', 'utf8').trimEnd().split('\n').length;
    expect(bytes.readUInt32BE(20)).toBe(2 * Math.ceil(2 * 14 + 19 * lines));
  });
});

describe('the grammar follows the registry and the lexer', () => {
  const scopesOf = (text: string, word: string) => tokenize(grammar, text).find((t) => t.text === word)?.scopes ?? [];

  it('highlights every op .dl may call, in a call and as a bare chain stage, and no longer name that starts with one', () => {
    for (const op of OP_NAMES) {
      expect(scopesOf(`model M {\n  y = x -> ${op}(1)\n}`, op), op).toContain('support.function.op.dl');
      expect(scopesOf(`model M {\n  y = x -> ${op}\n}`, op), op).toContain('support.function.op.dl');
      expect(scopesOf(`model M {\n  y = x -> ${op}_2\n}`, `${op}_2`), op).toEqual(['source.dl', 'meta.model.dl', 'meta.body.dl', 'variable.other.dl']);
    }
    expect(scopesOf('model M {\n  y = x -> input\n}', 'input')).not.toContain('support.function.op.dl'); // internal ops are not callable
  });

  it('highlights every keyword of the lexer as a keyword, and a name that merely starts with one as a name', () => {
    for (const keyword of KEYWORDS) {
      expect(scopesOf(`model M {\n  y = ${keyword}\n}`, keyword).at(-1), keyword).toMatch(/^(storage\.type|keyword|support\.type)\./);
      expect(scopesOf(`model M {\n  y = ${keyword}s\n}`, `${keyword}s`).at(-1), keyword).toBe('variable.other.dl');
    }
  });
});
