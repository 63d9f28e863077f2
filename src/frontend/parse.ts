/**
 * Parsing: .dl text -> AST, or one syntax diagnostic with its location.
 * This is the only module that imports ohm-js; everything after it sees the
 * plain AST of ast.ts.
 */
import type { Node as OhmNode, NonterminalNode, IterationNode } from 'ohm-js';
import grammar from '../../grammar/dl.ohm-bundle.js';
import type { Arg, BinaryOp, Decl, Expr, Param, Program, Setting, Source, Span, Stmt } from './ast.js';
import { Diagnostic, messages } from '../diagnostics.js';

export type ParseResult = { ok: true; program: Program } | { ok: false; diagnostic: Diagnostic };

export function parse(source: Source): ParseResult {
  const match = grammar.match(source.text);
  if (match.failed()) {
    const pos = match.getInterval().startIdx;
    const expected = summarizeExpected(match.getExpectedText());
    const found = /^(\w+|\S)/u.exec(source.text.slice(pos, pos + 200))?.[0] ?? ''; // u: an astral character is one, not half of one
    const span: Span = { source, start: pos, end: pos + Math.max(found.length, 1) };
    return { ok: false, diagnostic: messages.syntax(span, expected, found) };
  }
  const semantics = grammar.createSemantics();
  const spanOf = (node: OhmNode): Span => ({ source, start: node.source.startIdx, end: node.source.endIdx });
  const optional = <T>(iter: IterationNode, f: (n: NonterminalNode) => T): T | undefined =>
    iter.children.length > 0 ? f(iter.children[0] as NonterminalNode) : undefined;
  const binary = (op: Expr & { kind: 'binary' } extends { op: infer O } ? O : never) =>
    function (this: NonterminalNode, left: NonterminalNode, _op: OhmNode, right: NonterminalNode): Expr {
      return { kind: 'binary', op, left: left.expr(), right: right.expr(), span: spanOf(this) };
    };

  const foldLeft = (first: NonterminalNode, ops: IterationNode, rest: IterationNode): Expr =>
    rest.children.reduce<Expr>(
      (left, right, i) => ({
        kind: 'binary',
        op: ops.children[i].sourceString as BinaryOp,
        left,
        right: right.expr(),
        span: { source, start: first.source.startIdx, end: right.source.endIdx },
      }),
      first.expr(),
    );

  semantics.addOperation<Decl[]>('decls', {
    Program(decls) {
      return decls.children.map((d) => d.decl());
    },
  });
  semantics.addOperation<Decl>('decl', {
    TopDecl(d) {
      return d.decl();
    },
    ConstDecl(_const, name, _eq, value) {
      return { kind: 'const', name: name.sourceString, nameSpan: spanOf(name), value: value.expr(), span: spanOf(this) };
    },
    BlockDecl(_block, name, _open, params, _close, _lb, body, _rb) {
      return {
        kind: 'block',
        name: name.sourceString,
        nameSpan: spanOf(name),
        params: params.asIteration().children.map((p) => p.param()),
        body: body.children.map((s) => s.stmt()),
        span: spanOf(this),
      };
    },
    ModelDecl(_model, name, _lb, body, _rb) {
      return { kind: 'model', name: name.sourceString, nameSpan: spanOf(name), body: body.children.map((s) => s.stmt()), span: spanOf(this) };
    },
    TrainDecl(_train, name, _lb, settings, _rb) {
      return {
        kind: 'train',
        model: name.sourceString,
        nameSpan: spanOf(name),
        settings: settings.children.map((s) => s.setting()),
        span: spanOf(this),
      };
    },
  });
  semantics.addOperation<Param>('param', {
    Param(name, _eq, value) {
      return { name: name.sourceString, nameSpan: spanOf(name), default: optional(value, (v) => v.expr()) };
    },
  });
  semantics.addOperation<Setting>('setting', {
    Setting(name, _eq, value) {
      return { name: name.sourceString, nameSpan: spanOf(name), value: value.expr(), span: spanOf(this) };
    },
  });
  semantics.addOperation<Stmt>('stmt', {
    Stmt(s) {
      return s.stmt();
    },
    Unpack(first, _commas, rest, _eq, value) {
      const names = [first, ...rest.children].map((n) => ({ name: n.sourceString, nameSpan: spanOf(n) }));
      return { kind: 'unpack', names, value: value.expr(), span: spanOf(this) };
    },
    Stmt_assign(setting) {
      return { kind: 'assign', ...setting.setting() };
    },
    ConstDecl(_const, name, _eq, value) {
      return { kind: 'const', name: name.sourceString, nameSpan: spanOf(name), value: value.expr(), span: spanOf(this) };
    },
    InputStmt(_input, name, _colon, shape, dtype) {
      const type = optional(dtype, (d) => d.sourceString);
      return {
        kind: 'input',
        name: name.sourceString,
        nameSpan: spanOf(name),
        shape: optional(shape, (s) => s.expr()),
        dtype: type === undefined ? undefined : type.startsWith('int') ? 'int32' : 'float32',
        span: spanOf(this),
      };
    },
    OutputStmt(s) {
      return s.stmt();
    },
    OutputStmt_named(_output, name, _eq, value) {
      return { kind: 'output', name: name.sourceString, nameSpan: spanOf(name), value: value.expr(), span: spanOf(this) };
    },
    OutputStmt_anonymous(_output, value) {
      return { kind: 'output', value: value.expr(), span: spanOf(this) };
    },
  });
  semantics.addOperation<Expr>('expr', {
    Expr(head, _arrows, stages) {
      if (stages.children.length === 0) return head.expr();
      return { kind: 'chain', head: head.expr(), stages: stages.children.map((s) => s.expr()), span: spanOf(this) };
    },
    Stage_as(expr, _as, name) {
      return { kind: 'as', expr: expr.expr(), name: name.sourceString, nameSpan: spanOf(name), span: spanOf(this) };
    },
    Named_as(expr, _as, name) {
      return { kind: 'as', expr: expr.expr(), name: name.sourceString, nameSpan: spanOf(name), span: spanOf(this) };
    },
    Sum(first, ops, rest) {
      return foldLeft(first, ops, rest);
    },
    Term(first, ops, rest) {
      return foldLeft(first, ops, rest);
    },
    Power_power: binary('**'),
    Unary_neg(_minus, operand) {
      return { kind: 'unary', op: '-', operand: operand.expr(), span: spanOf(this) };
    },
    Unary_pos(_plus, operand) {
      return { kind: 'unary', op: '+', operand: operand.expr(), span: spanOf(this) };
    },
    Primary_paren(_open, expr, _close) {
      return expr.expr();
    },
    Primary_call(callee, _open, args, _comma, _close) {
      return {
        kind: 'call',
        callee: callee.sourceString,
        calleeSpan: spanOf(callee),
        args: args.asIteration().children.map((a) => a.arg()),
        span: spanOf(this),
      };
    },
    Primary_list(_open, items, _comma, _close) {
      return { kind: 'list', items: items.asIteration().children.map((i) => i.expr()), span: spanOf(this) };
    },
    Primary_name(name) {
      return { kind: 'name', name: name.sourceString, span: spanOf(this) };
    },
    number(_n) {
      return { kind: 'number', value: Number(this.sourceString.replaceAll('_', '')), span: spanOf(this) };
    },
    string(_open, chars, _close) {
      return { kind: 'string', value: unescape(chars.sourceString), span: spanOf(this) };
    },
  });
  semantics.addOperation<Arg>('arg', {
    Arg_named(name, _eq, value) {
      return { name: name.sourceString, nameSpan: spanOf(name), value: value.expr(), span: spanOf(this) };
    },
    Arg_positional(value) {
      return { value: value.expr(), span: spanOf(this) };
    },
  });

  const decls: Decl[] = semantics(match).decls();
  return { ok: true, program: { source, decls } };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/**
 * Ohm lists every token that could come next; a person wants the few that
 * matter: "an expression" instead of the dozen tokens that can start one.
 */
function summarizeExpected(text: string): string {
  const items = text.replace(/, or /, ', ').split(', ').map((x) => x.trim());
  const groups: [string, string[]][] = [
    ['an expression', ['a name', 'a number', 'a string', '"["', '"("', '"+"', '"-"']],
    ['a statement', ['"output"', '"input"', '"const"']],
    ["an operator such as '->'", ['"->"', '"**"', '"%"', '"/"', '"//"', '"*"', '"as"', '"+"', '"-"']],
  ];
  let rest = items;
  const found: string[] = [];
  for (const [label, members] of groups) {
    const present = members.filter((m) => rest.includes(m));
    if (present.length >= 3 && (label !== 'an expression' || present.includes('a number'))) {
      found.push(label);
      rest = rest.filter((x) => !members.includes(x) || (label === 'a statement' && x === 'a name'));
    }
  }
  rest = rest.filter((x) => !(found.includes('a statement') && x === 'a name'));
  const all = [...rest.map((x) => x.replace(/^"(.*)"$/, "'$1'")), ...found];
  return all.length <= 1 ? all.join('') : `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}
