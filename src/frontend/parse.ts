/**
 * Parsing: .dl text -> AST, or one syntax diagnostic with its location.
 * This is the only module that imports ohm-js; everything after it sees the
 * plain AST of ast.ts.
 *
 * Ohm matches the file piece by piece, as scan.ts plans it (a declaration's
 * header, each statement, each stage of a chain), so that its memo table
 * stays the size of one piece. A declaration whose plan fails to match is
 * matched again whole, from its start to the next declaration: the pieces
 * only ever speed up a parse, and every syntax error reads as a whole-file
 * parse reports it.
 */
import type { FailedMatchResult, Node as OhmNode, NonterminalNode, IterationNode, Semantics, MatchResult } from 'ohm-js';
import grammar from '../../grammar/dl.ohm-bundle.js';
import type { Arg, BinaryOp, Decl, Expr, Param, Program, Setting, Source, Span, Stmt } from './ast.js';
import { Diagnostic, messages } from '../diagnostics.js';
import { DeclPlan, KEYWORDS, MAX_NESTING, MAX_PIECE_CHARS, MAX_SOURCE_CHARS, Range, scan, StmtPlan, type ScanLimit } from './scan.js';

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A declaration whose pieces do not all match is parsed again whole, so that
 * its syntax error reads exactly as a whole-file parse's would. Above this
 * size that second parse costs seconds and hundreds of MB (a 675 KB model took
 * 9 s), so a larger declaration reports its first failing piece's error.
 */
const WHOLE_REPARSE_CHARS = 64 * 1024;

export type ParseResult = { ok: true; program: Program } | { ok: false; diagnostic: Diagnostic };

/**
 * The AST of each piece, kept from one parse of a document to its next (the
 * language server parses on every edit): a piece whose text is unchanged (or
 * repeated: most stages of a long chain are) is not matched again, only
 * copied with its spans moved to its new place. Ohm's semantics cost more than
 * its matching, so the AST is kept rather than the match. Holds the pieces of
 * the latest parse only; a declaration parsed whole is never kept.
 */
export class ParseMemo {
  previous = new Map<string, { ast: unknown; offset: number }>();
  current = new Map<string, { ast: unknown; offset: number }>();
  /** Matches of unchanged pieces reused by the latest parse, for benchmarks. */
  hits = 0;
}

/**
 * `memo` carries pieces over from the previous parse of the same document (an
 * editor's). Without one, the parse still keeps its own: a piece written many
 * times in one file (the same layer line, the same input) is matched once.
 */
export function parse(source: Source, memo: ParseMemo = new ParseMemo()): ParseResult {
  const plan = scan(source);
  if (!plan.ok) return { ok: false, diagnostic: limitDiagnostic(plan.span, plan.limit) };
  if (memo) {
    memo.hits = 0;
    memo.current = new Map();
  }
  try {
    return parsePlanned(source, plan.decls, new Pieces(source, memo));
  } finally {
    if (memo) memo.previous = memo.current;
  }
}

function limitDiagnostic(span: Span, limit: ScanLimit): Diagnostic {
  if (limit.kind === 'size') return messages.sourceTooLarge(span, MAX_SOURCE_CHARS);
  if (limit.kind === 'nesting') return messages.nestingTooDeep(span, MAX_NESTING);
  return messages.pieceTooLarge(span, limit.chars, MAX_PIECE_CHARS, limit.whole);
}

function parsePlanned(source: Source, plans: DeclPlan[], pieces: Pieces): ParseResult {
  const decls: Decl[] = [];
  for (const d of plans) {
    pieces.failure = undefined;
    const large = d.range.end - d.range.start > WHOLE_REPARSE_CHARS;
    // A small unclosed declaration is parsed whole, for the whole parse's wording of what may follow.
    const planned = d.whole || (d.unclosed && !large) ? undefined : pieces.decl(d);
    if (planned && d.unclosed) {
      const end = source.text.length;
      return { ok: false, diagnostic: messages.syntax({ source, start: end, end: end + 1 }, "'}'", '') };
    }
    if (planned) {
      decls.push(planned);
      continue;
    }
    const failed = pieces.failure as Pieces['failure'];
    if (failed && large)
      return { ok: false, diagnostic: syntaxError(source, failed.offset + failed.match.getInterval().startIdx, failed.match) };
    const match = pieces.match(d.range, 'Program');
    if (match.failed()) return { ok: false, diagnostic: syntaxError(source, d.range.start + match.getInterval().startIdx, match) };
    decls.push(...pieces.run(match, d.range.start).decls());
  }
  return { ok: true, program: { source, decls } };
}

/**
 * The same parse in one Ohm match over the whole text: what `parse` must
 * equal on every input (test/frontend checks it), at the memory cost that
 * `parse` avoids. Within the nesting and size limits only.
 */
export function parseWhole(source: Source): ParseResult {
  const pieces = new Pieces(source);
  const match = pieces.match({ start: 0, end: source.text.length }, 'Program');
  if (match.failed()) return { ok: false, diagnostic: syntaxError(source, match.getInterval().startIdx, match) };
  return { ok: true, program: { source, decls: pieces.run(match, 0).decls() } };
}

function syntaxError(source: Source, pos: number, match: FailedMatchResult): Diagnostic {
  const expected = summarizeExpected(match.getExpectedText());
  const found = /^(\w+|\S)/u.exec(source.text.slice(pos, pos + 200))?.[0] ?? ''; // u: an astral character is one, not half of one
  const span: Span = { source, start: pos, end: pos + Math.max(found.length, 1) };
  return messages.syntax(span, expected, found);
}

/** Matches pieces of one source and turns them into AST, with spans offset to the whole text. */
class Pieces {
  private semantics: Semantics;
  /** Where the piece being turned into AST starts in the source. */
  private base = { offset: 0 };

  constructor(
    private source: Source,
    private memo?: ParseMemo,
  ) {
    this.semantics = astSemantics(source, this.base);
  }

  match(range: Range, rule: string): MatchResult {
    return grammar.match(this.source.text.slice(range.start, range.end), rule);
  }

  run(match: MatchResult, offset: number) {
    this.base.offset = offset;
    return this.semantics(match);
  }

  /** A declaration from its planned pieces; undefined when a piece does not match. */
  decl(plan: DeclPlan): Decl | undefined {
    const span = (from: Range, to: Range): Span => ({ source: this.source, start: from.start, end: to.end });
    if (plan.kind === 'const') {
      const decl = this.stmt(plan.body[0], 'ConstDecl');
      return decl?.kind === 'const' ? decl : undefined;
    }
    const head = this.piece<{ name: string; nameSpan: Span; params: Param[] }>(plan.header!, plan.kind === 'block' ? 'BlockHead' : plan.kind === 'model' ? 'ModelHead' : 'TrainHead', 'head');
    if (!head) return undefined;
    const body: Stmt[] = [];
    for (const s of plan.body) {
      const stmt = this.stmt(s, plan.kind === 'train' ? 'Setting' : 'Stmt');
      if (!stmt) return undefined;
      body.push(stmt);
    }
    const whole = span(plan.header!, plan.close ?? plan.body.at(-1)?.stages.at(-1) ?? plan.body.at(-1)?.head ?? plan.header!);
    if (plan.kind === 'model') return { kind: 'model', name: head.name, nameSpan: head.nameSpan, body, span: whole };
    if (plan.kind === 'block') return { kind: 'block', name: head.name, nameSpan: head.nameSpan, params: head.params, body, span: whole };
    return { kind: 'train', model: head.name, nameSpan: head.nameSpan, settings: body as unknown as Setting[], span: whole };
  }

  /** One statement (a train setting, a top-level const) with the stages of its chain. */
  private stmt(plan: StmtPlan, rule: 'Stmt' | 'Setting' | 'ConstDecl'): (Stmt & { value?: Expr }) | undefined {
    const stmt = this.piece<Stmt>(plan.head, rule, rule === 'Stmt' ? 'stmt' : rule === 'Setting' ? 'setting' : 'decl');
    if (!stmt) return undefined;
    if (plan.stages.length === 0) return stmt;
    if (!('value' in stmt) || stmt.value === undefined) return undefined; // `input x: [4] -> ...`: let the whole parse say what is wrong
    const stages: Expr[] = [];
    for (const range of plan.stages) {
      const text = this.source.text.slice(range.start, range.end);
      // A stage that is one plain name (`-> relu`, half of most chains) is the grammar's Primary_name: skip Ohm for it.
      if (PLAIN_NAME.test(text) && !KEYWORDS.has(text)) {
        stages.push({ kind: 'name', name: text, span: { source: this.source, start: range.start, end: range.end } });
        continue;
      }
      const call = simpleCall(text, this.source, range.start);
      if (call) {
        stages.push(call);
        continue;
      }
      const stage = this.piece<Expr>(range, 'Stage', 'expr');
      if (!stage) return undefined;
      stages.push(stage);
    }
    const end = plan.stages.at(-1)!.end;
    const value: Expr = { kind: 'chain', head: stmt.value, stages, span: { source: this.source, start: stmt.value.span.start, end } };
    return { ...stmt, value, span: { ...stmt.span, end } };
  }

  /** The latest piece that did not match, and where it starts. */
  failure?: { match: FailedMatchResult; offset: number };

  /** One piece matched by `rule` and turned into AST by the semantics' `operation`; undefined (and `failure` set) when it does not match. */
  private piece<T>(range: Range, rule: string, operation: 'head' | 'stmt' | 'setting' | 'decl' | 'expr'): T | undefined {
    const key = this.memo && `${rule}\u0000${operation}\u0000${this.source.text.slice(range.start, range.end)}`;
    const kept = key === undefined ? undefined : (this.memo!.current.get(key) ?? this.memo!.previous.get(key));
    if (kept) {
      this.memo!.hits++;
      this.memo!.current.set(key!, kept);
      return rebase(kept.ast, range.start - kept.offset, this.source) as T;
    }
    const match = this.match(range, rule);
    if (match.failed()) {
      this.failure = { match: match as FailedMatchResult, offset: range.start };
      return undefined;
    }
    const ast = this.run(match, range.start)[operation]() as T;
    if (key !== undefined) this.memo!.current.set(key, { ast, offset: range.start });
    return ast;
  }
}

/*
 * The other half of most chains is a call whose arguments are plain numbers
 * and names (`-> dense(64)`, `-> conv2d(32, 3, padding = same)`). Ohm spends
 * about 100 µs on each; these patterns accept only text the grammar's
 * Primary_call accepts with the same AST (test/frontend/parse.test.ts holds
 * the two parses equal), and anything else (comments, strings, nesting,
 * a trailing comma, non-ASCII) goes to Ohm.
 */
const CALL_TEXT = /^([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*\(([^()[\]#"]*)\)$/;
const SIMPLE_ARG =
  /^([ \t\r\n]*)(?:([A-Za-z_][A-Za-z0-9_]*)([ \t\r\n]*=[ \t\r\n]*))?(?:([0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?|\.[0-9]+(?:_[0-9]+)*(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?)|([A-Za-z_][A-Za-z0-9_]*))[ \t\r\n]*$/;

/** `text` (a stage, from `start` in the source) as a call AST, or undefined to let Ohm parse it. */
export function simpleCall(text: string, source: Source, start: number): Expr | undefined {
  const call = CALL_TEXT.exec(text);
  if (!call || KEYWORDS.has(call[1])) return undefined;
  const args: Arg[] = [];
  const inside = call[2];
  let at = start + text.indexOf('(') + 1;
  if (inside.trim() !== '')
    for (const item of inside.split(',')) {
      const m = SIMPLE_ARG.exec(item);
      if (!m || (m[5] !== undefined && KEYWORDS.has(m[5]))) return undefined;
      const [, lead, argName, eq, num, name] = m;
      const valueStart = at + lead.length + (argName === undefined ? 0 : argName.length + eq.length);
      const literal = num ?? name;
      const span = (from: number, to: number): Span => ({ source, start: from, end: to });
      const valueSpan = span(valueStart, valueStart + literal.length);
      const value: Expr = num !== undefined ? { kind: 'number', value: Number(num.replaceAll('_', '')), span: valueSpan } : { kind: 'name', name: literal, span: valueSpan };
      const argStart = at + lead.length;
      args.push(
        argName === undefined
          ? { value, span: valueSpan }
          : { name: argName, nameSpan: span(argStart, argStart + argName.length), value, span: span(argStart, valueSpan.end) },
      );
      at += item.length + 1;
    }
  return { kind: 'call', callee: call[1], calleeSpan: { source, start, end: start + call[1].length }, args, span: { source, start, end: start + text.length } };
}

/** A copy of a piece's AST with every span moved by `delta` and into `source`: the same piece at another place in another text. */
function rebase(value: unknown, delta: number, source: Source): unknown {
  if (Array.isArray(value)) return value.map((v) => rebase(v, delta, source));
  if (value === null || typeof value !== 'object') return value;
  if ('source' in value) {
    const span = value as Span;
    return { source, start: span.start + delta, end: span.end + delta };
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = rebase(v, delta, source);
  return copy;
}

/** The AST operations over Ohm's parse tree; `base.offset` is added to every span. */
function astSemantics(source: Source, base: { offset: number }): Semantics {
  const semantics = grammar.createSemantics();
  const spanOf = (node: OhmNode): Span => ({ source, start: base.offset + node.source.startIdx, end: base.offset + node.source.endIdx });
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
        span: { source, start: base.offset + first.source.startIdx, end: base.offset + right.source.endIdx },
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
    BlockDecl(head, body, _rb) {
      const { name, nameSpan, params } = head.head();
      return { kind: 'block', name, nameSpan, params, body: body.children.map((s) => s.stmt()), span: spanOf(this) };
    },
    ModelDecl(head, body, _rb) {
      const { name, nameSpan } = head.head();
      return { kind: 'model', name, nameSpan, body: body.children.map((s) => s.stmt()), span: spanOf(this) };
    },
    TrainDecl(head, settings, _rb) {
      const { name, nameSpan } = head.head();
      return { kind: 'train', model: name, nameSpan, settings: settings.children.map((s) => s.setting()), span: spanOf(this) };
    },
  });
  semantics.addOperation<{ name: string; nameSpan: Span; params: Param[] }>('head', {
    BlockHead(_block, name, _open, params, _close, _lb) {
      return { name: name.sourceString, nameSpan: spanOf(name), params: params.asIteration().children.map((p) => p.param()) };
    },
    ModelHead(_model, name, _lb) {
      return { name: name.sourceString, nameSpan: spanOf(name), params: [] };
    },
    TrainHead(_train, name, _lb) {
      return { name: name.sourceString, nameSpan: spanOf(name), params: [] };
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

  return semantics;
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
  // Ohm writes `"a", "b", or "c"`, and for two `"a" or "b"`.
  const items = text.replace(/,? or /, ', ').split(', ').map((x) => x.trim());
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
