/**
 * Names in a parsed .dl file: every definition and use of a constant, block,
 * model, value (input, assignment, destructured name, named output, local
 * const, block parameter) and layer name (`as`), resolved as src/ir/build.ts
 * resolves them, plus every place an op is named. Go to definition, find
 * references, rename, hover and completion read this table; it needs only
 * the AST, so it exists for every file that parses, however wrong its shapes.
 *
 * Scopes: top-level constants, blocks and models are global; a model's or
 * block's values are local to its body, and its layer names are a namespace
 * of their own. Right of `->` an op's or block's name is the op or block
 * even where a value has the name; elsewhere a local value comes first.
 */
import type { Arg, Decl, Expr, Program, Span, Stmt } from '../frontend/ast.js';
import { lookupOp } from '../ops/index.js';

export type SymbolKind = 'const' | 'block' | 'model' | 'value' | 'param' | 'layer';

export interface Sym {
  name: string;
  kind: SymbolKind;
  /** Where it is defined: the name as written there. */
  def: Span;
  /** The declaration that defines it (global) or whose body holds it (local). */
  decl: Exclude<Decl, { kind: 'train' }>;
  /** A value's statement; for a destructured name, its position in the statement. */
  stmt?: Stmt;
  part?: number;
}

/** One place a name is written. `sym` is set for user symbols, `op` for ops; `call` when the name is a callee. */
export interface Occurrence {
  span: Span;
  sym?: Sym;
  op?: string;
  /** The argument name of an op call (`kernel` in `conv2d(32, kernel = 3)`). */
  arg?: { op: string; name: string };
  isDef: boolean;
  /** The call this name is the callee of (a `-> relu` stage counts as a call of relu). */
  call?: Extract<Expr, { kind: 'call' }> | Extract<Expr, { kind: 'name' }>;
  /** Set on the word `repeat` of a `repeat(n, block(...))` call: that call. */
  repeat?: Extract<Expr, { kind: 'call' }>;
}

export interface SymbolTable {
  globals: Map<string, Sym>;
  /** Per model or block (by its declaration): its values and its layer names. */
  locals: Map<Decl, { values: Map<string, Sym>; layers: Map<string, Sym> }>;
  /** Sorted by start. */
  occurrences: Occurrence[];
}

export function buildSymbols(program: Program): SymbolTable {
  const globals = new Map<string, Sym>();
  const locals: SymbolTable['locals'] = new Map();
  const occurrences: Occurrence[] = [];
  const define = (map: Map<string, Sym>, sym: Sym) => {
    // A second definition is an error the checker reports; it stays a symbol of its own.
    if (!map.has(sym.name)) map.set(sym.name, sym);
    occurrences.push({ span: sym.def, sym, isDef: true });
    return sym;
  };
  for (const decl of program.decls)
    if (decl.kind !== 'train' && !lookupOp(decl.name)) define(globals, { name: decl.name, kind: decl.kind, def: decl.nameSpan, decl });
  const blockParams = new Map<string, Map<string, Sym>>();

  for (const decl of program.decls) {
    if (decl.kind !== 'block' && decl.kind !== 'model') continue;
    const values = new Map<string, Sym>();
    const layers = new Map<string, Sym>();
    locals.set(decl, { values, layers });
    if (decl.kind === 'block') {
      const params = new Map<string, Sym>();
      for (const p of decl.params) params.set(p.name, define(values, { name: p.name, kind: 'param', def: p.nameSpan, decl }));
      if (globals.get(decl.name)?.decl === decl) blockParams.set(decl.name, params);
    }
    for (const stmt of decl.body) {
      if (stmt.kind === 'unpack') stmt.names.forEach((n, part) => n.name !== '_' && define(values, { name: n.name, kind: 'value', def: n.nameSpan, decl, stmt, part }));
      else if (stmt.name !== undefined && stmt.nameSpan) define(values, { name: stmt.name, kind: 'value', def: stmt.nameSpan, decl, stmt });
      if ('value' in stmt && stmt.value) forEachAs(stmt.value, (e) => define(layers, { name: e.name, kind: 'layer', def: e.nameSpan, decl, stmt }));
    }
  }

  /** `stage`: the expression stands right of `->`. `scope`: the body's names, or none at top level. */
  const walk = (e: Expr, scope: { values: Map<string, Sym>; layers: Map<string, Sym> } | undefined, stage: boolean): void => {
    switch (e.kind) {
      case 'name': {
        const callable = lookupOp(e.name) ?? (globals.get(e.name)?.kind === 'block' ? globals.get(e.name) : undefined);
        if (stage && callable) return void occurrences.push(nameUse(e.span, e.name, globals, false, e));
        const sym = scope?.values.get(e.name) ?? (stage ? scope?.layers.get(e.name) : undefined) ?? globalValue(e.name) ?? scope?.layers.get(e.name);
        if (sym) occurrences.push({ span: e.span, sym, isDef: false });
        else if (callable) occurrences.push(nameUse(e.span, e.name, globals, false, e));
        return;
      }
      case 'call': {
        const block = globals.get(e.callee)?.kind === 'block' ? globals.get(e.callee) : undefined;
        const op = !block && lookupOp(e.callee) ? e.callee : undefined;
        if (block || op) occurrences.push({ ...nameUse(e.calleeSpan, e.callee, globals, false), call: e });
        else if (e.callee === 'repeat') occurrences.push({ span: e.calleeSpan, repeat: e, isDef: false });
        else {
          const sym = scope?.values.get(e.callee) ?? scope?.layers.get(e.callee);
          if (sym) occurrences.push({ span: e.calleeSpan, sym, isDef: false, call: e });
        }
        for (const a of e.args) {
          if (a.name && a.nameSpan) argName(a, block ? blockParams.get(block.name) : undefined, op);
          walk(a.value, scope, false);
        }
        return;
      }
      case 'chain':
        walk(e.head, scope, false);
        for (const s of e.stages) walk(s, scope, true);
        return;
      case 'as':
        return walk(e.expr, scope, stage); // its name was defined above
      case 'list':
        return e.items.forEach((x) => walk(x, scope, false));
      case 'binary':
        walk(e.left, scope, false);
        return walk(e.right, scope, false);
      case 'unary':
        return walk(e.operand, scope, false);
    }
  };
  const globalValue = (name: string) => (globals.get(name)?.kind === 'const' ? globals.get(name) : undefined);
  const argName = (a: Arg, params: Map<string, Sym> | undefined, op: string | undefined) => {
    const param = params?.get(a.name!);
    if (param) occurrences.push({ span: a.nameSpan!, sym: param, isDef: false });
    else if (op) occurrences.push({ span: a.nameSpan!, arg: { op, name: a.name! }, isDef: false });
  };

  for (const decl of program.decls) {
    if (decl.kind === 'const') walk(decl.value, undefined, false);
    else if (decl.kind === 'train') {
      const model = globals.get(decl.model);
      if (model?.kind === 'model') occurrences.push({ span: decl.nameSpan, sym: model, isDef: false });
      for (const s of decl.settings) walk(s.value, undefined, false);
    } else {
      const scope = locals.get(decl)!;
      if (decl.kind === 'block') for (const p of decl.params) if (p.default) walk(p.default, undefined, false);
      for (const stmt of decl.body) {
        if (stmt.kind === 'input') {
          if (stmt.shape) walk(stmt.shape, scope, false);
        } else walk(stmt.value, scope, false);
      }
    }
  }
  occurrences.sort((a, b) => a.span.start - b.span.start);
  return { globals, locals, occurrences };
}

/** A name that is an op or a block (a block shadows nothing: blocks and ops cannot share names). */
function nameUse(span: Span, name: string, globals: Map<string, Sym>, isDef: boolean, call?: Occurrence['call']): Occurrence {
  const block = globals.get(name);
  return block?.kind === 'block' ? { span, sym: block, isDef, call } : { span, op: name, isDef, call };
}

function forEachAs(e: Expr, f: (e: Extract<Expr, { kind: 'as' }>) => void): void {
  switch (e.kind) {
    case 'as':
      f(e);
      return forEachAs(e.expr, f);
    case 'call':
      return e.args.forEach((a) => forEachAs(a.value, f));
    case 'chain':
      forEachAs(e.head, f);
      return e.stages.forEach((s) => forEachAs(s, f));
    case 'list':
      return e.items.forEach((x) => forEachAs(x, f));
    case 'binary':
      forEachAs(e.left, f);
      return forEachAs(e.right, f);
    case 'unary':
      return forEachAs(e.operand, f);
  }
}

/** The occurrence under `offset` (its end counts, so a cursor just after a name finds it). */
export function occurrenceAt(table: SymbolTable, offset: number): Occurrence | undefined {
  let lo = 0, hi = table.occurrences.length - 1, found: Occurrence | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = table.occurrences[mid];
    if (o.span.start <= offset) {
      if (offset <= o.span.end) found = o;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export function referencesOf(table: SymbolTable, sym: Sym): Occurrence[] {
  return table.occurrences.filter((o) => o.sym === sym);
}
