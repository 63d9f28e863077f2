/**
 * The generated TextMate grammar loaded as VS Code loads it: vscode-textmate
 * with the Oniguruma regular-expression engine (vscode-oniguruma's
 * WebAssembly build), both from vscode-tmgrammar-test's dependencies.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import oniguruma from 'vscode-oniguruma';
import textmate from 'vscode-textmate';
import type { Arg, Decl, Expr, Program, Span, Stmt } from '../../src/frontend/ast.js';
import { callableOps, OPS } from '../../src/ops/index.js';

export const GRAMMAR = 'editors/vscode/syntaxes/dl.tmLanguage.json';

/** One token: its text, where it starts (0-based offset into the text, line and column), and its scopes, outermost first. */
export interface Token {
  text: string;
  offset: number;
  line: number;
  column: number;
  scopes: string[];
}

export async function loadGrammar(path = GRAMMAR): Promise<textmate.IGrammar> {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) => (scopeName === 'source.dl' ? textmate.parseRawGrammar(readFileSync(path, 'utf8'), path) : null),
  });
  const grammar = await registry.loadGrammar('source.dl');
  if (!grammar) throw new Error(`no grammar source.dl in ${path}`);
  return grammar;
}

/** Every token of `text`, line by line, carrying the rule stack across lines as the editor does. */
export function tokenize(grammar: textmate.IGrammar, text: string): Token[] {
  const tokens: Token[] = [];
  let stack = textmate.INITIAL;
  let offset = 0;
  text.split(/(?<=\n)/).forEach((withBreak, line) => {
    const lineText = withBreak.replace(/\r?\n$/, '');
    const result = grammar.tokenizeLine(lineText, stack);
    for (const t of result.tokens)
      tokens.push({ text: lineText.slice(t.startIndex, t.endIndex), offset: offset + t.startIndex, line, column: t.startIndex, scopes: t.scopes });
    stack = result.ruleStack;
    offset += withBreak.length;
  });
  return tokens;
}

const OP_NAMES = new Set<string>(callableOps());
/** The values of ops' enum arguments (`same`, `bilinear`...), which may highlight as such instead of as a plain name. */
const CHOICES = new Set(Object.values(OPS).flatMap((op) => op.attrs.flatMap((a) => (a.type.kind === 'symbol' ? a.type.choices : []))));

/** What the parser says a span is, as the scope a token there must carry (`|` separates accepted scopes). */
interface Role {
  span: Span;
  scope: string;
}

export function roles(program: Program): Role[] {
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

/**
 * What is wrong with the grammar's reading of `text`, which the parser
 * accepts: each token marked illegal, and each role whose tokens (those
 * overlapping its span) lack its scope, as `line:column 'text': ...`.
 */
export function disagreements(grammar: textmate.IGrammar, text: string, program: Program): string[] {
  const tokens = tokenize(grammar, text);
  const illegal = tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid.'))).map((t) => `${t.line + 1}:${t.column + 1} '${t.text}': illegal`);
  return [...illegal, ...mismatches(tokens, program)];
}

function mismatches(tokens: Token[], program: Program): string[] {
  const wrong: string[] = [];
  for (const { span, scope } of roles(program)) {
    // Tokens are in text order: find the first that ends after the span starts.
    let [lo, hi] = [0, tokens.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tokens[mid]!.offset + tokens[mid]!.text.length <= span.start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < tokens.length && tokens[i]!.offset < span.end; i++) {
      const t = tokens[i]!;
      if (t.text.trim() !== '' && !t.scopes.includes(scope)) wrong.push(`${t.line + 1}:${t.column + 1} '${t.text}': ${scope} (has ${t.scopes.join(' ')})`);
    }
  }
  return wrong;
}
