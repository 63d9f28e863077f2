/**
 * Go to definition, find references, rename and the document outline, all
 * read from the symbol table (symbols.ts) of a document that parses.
 */
import { SymbolKind, type DocumentSymbol, type Location, type Position, type Range, type WorkspaceEdit } from 'vscode-languageserver-types';
import type { Decl, Expr, Stmt } from '../frontend/ast.js';
import { KEYWORDS } from '../frontend/scan.js';
import { lookupOp } from '../ops/index.js';
import { exampleShape, messages } from '../diagnostics.js';
import type { Analysis } from './analysis.js';
import { occurrenceAt, referencesOf, type Sym } from './symbols.js';

function symbolAt(a: Analysis, position: Position): Sym | undefined {
  const symbols = a.symbols;
  return symbols && occurrenceAt(symbols, a.lines.offset(position))?.sym;
}

export function definition(a: Analysis, position: Position): Location | null {
  const sym = symbolAt(a, position);
  return sym ? { uri: a.uri, range: a.lines.range(sym.def.start, sym.def.end) } : null;
}

export function references(a: Analysis, position: Position, includeDeclaration: boolean): Location[] {
  const sym = symbolAt(a, position);
  if (!sym) return [];
  return referencesOf(a.symbols!, sym)
    .filter((o) => includeDeclaration || !o.isDef)
    .map((o) => ({ uri: a.uri, range: a.lines.range(o.span.start, o.span.end) }));
}

/** The name under the cursor when it can be renamed (ops and keywords cannot). */
export function prepareRename(a: Analysis, position: Position): { range: Range; placeholder: string } | null {
  const symbols = a.symbols;
  const o = symbols && occurrenceAt(symbols, a.lines.offset(position));
  if (!o?.sym) return null;
  return { range: a.lines.range(o.span.start, o.span.end), placeholder: o.sym.name };
}

const IDENT = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** Every occurrence renamed; a reason instead when the new name cannot be one. */
export function rename(a: Analysis, position: Position, newName: string): WorkspaceEdit | { error: string } | null {
  const sym = symbolAt(a, position);
  if (!sym) return null;
  if (!IDENT.test(newName) || KEYWORDS.has(newName)) return { error: messages.renameNotAName(newName) };
  if (sym.kind !== 'layer' && sym.kind !== 'value' && sym.kind !== 'param' && (lookupOp(newName) || newName === 'repeat')) return { error: messages.renameToOp(newName) };
  const taken = sym.kind === 'layer' ? a.symbols!.locals.get(sym.decl)?.layers : sym.kind === 'value' || sym.kind === 'param' ? a.symbols!.locals.get(sym.decl)?.values : a.symbols!.globals;
  if (newName !== sym.name && taken?.has(newName)) return { error: messages.renameTaken(newName) };
  const edits = referencesOf(a.symbols!, sym).map((o) => ({ range: a.lines.range(o.span.start, o.span.end), newText: newName }));
  return { changes: { [a.uri]: edits } };
}

/** The outline: models, blocks, constants and training sections, with each body's inputs, values, outputs and named layers. */
export function documentSymbols(a: Analysis): DocumentSymbol[] {
  const program = a.checked.program;
  if (!program) return [];
  const r = (s: { start: number; end: number }) => a.lines.range(s.start, s.end);
  const shapeOf = (sym: Sym | undefined) => {
    const node = sym?.stmt && a.layers.symbolNodes(sym.stmt, sym.part, a.symbols)[0];
    return node ? exampleShape(node.type.parts?.[0]?.shape ?? node.type.shape) : undefined;
  };
  return program.decls.map((decl: Decl): DocumentSymbol => {
    if (decl.kind === 'const') return { name: decl.name, kind: SymbolKind.Constant, range: r(decl.span), selectionRange: r(decl.nameSpan) };
    if (decl.kind === 'train') return { name: `train ${decl.model}`, kind: SymbolKind.Event, range: r(decl.span), selectionRange: r(decl.nameSpan) };
    const values = a.symbols?.locals.get(decl)?.values;
    const children: DocumentSymbol[] = [];
    const child = (name: string, kind: SymbolKind, stmt: Stmt, nameSpan: { start: number; end: number }) => {
      const sym = values?.get(name);
      const detail = sym?.def.start === nameSpan.start ? shapeOf(sym) : undefined;
      children.push({ name, kind, range: r(stmt.span), selectionRange: r(nameSpan), ...(detail && { detail }) });
    };
    for (const stmt of decl.body) {
      if (stmt.kind === 'unpack') stmt.names.forEach((n) => child(n.name, SymbolKind.Variable, stmt, n.nameSpan));
      else if (stmt.name !== undefined && stmt.nameSpan) child(stmt.name, stmt.kind === 'input' ? SymbolKind.Field : stmt.kind === 'const' ? SymbolKind.Constant : stmt.kind === 'output' ? SymbolKind.Property : SymbolKind.Variable, stmt, stmt.nameSpan);
      if ('value' in stmt && stmt.value) forEachLayerName(stmt.value, (name, span) => children.push({ name, kind: SymbolKind.Object, detail: 'layer', range: r(span), selectionRange: r(span) }));
    }
    children.sort((x, y) => x.selectionRange.start.line - y.selectionRange.start.line || x.selectionRange.start.character - y.selectionRange.start.character);
    const detail = decl.kind === 'block' ? `(${decl.params.map((p) => p.name).join(', ')})` : undefined;
    return { name: decl.name, kind: decl.kind === 'model' ? SymbolKind.Class : SymbolKind.Function, range: r(decl.span), selectionRange: r(decl.nameSpan), children, ...(detail && { detail }) };
  });
}

function forEachLayerName(e: Expr, f: (name: string, span: { start: number; end: number }) => void): void {
  if (e.kind === 'as') {
    f(e.name, e.nameSpan);
    forEachLayerName(e.expr, f);
  } else if (e.kind === 'chain') [e.head, ...e.stages].forEach((x) => forEachLayerName(x, f));
  else if (e.kind === 'call') e.args.forEach((x) => forEachLayerName(x.value, f));
}
