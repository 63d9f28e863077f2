/**
 * One document's analysis: the checker's results (src/check.ts) for its text,
 * with the line index, the symbol table and the layer index built when a
 * feature first asks for them. A pure function of the text (plus caches that
 * only save time): no Node APIs and no transport, so the language server
 * (src/lsp) and a browser playground share it.
 */
import type { Program, Source } from '../frontend/ast.js';
import { ParseMemo } from '../frontend/parse.js';
import { checkSource, type CheckedSource } from '../check.js';
import { LineIndex } from './text.js';
import { messages } from '../diagnostics.js';
import { buildSymbols, type SymbolTable } from './symbols.js';
import { LayerIndex } from './layers.js';

export interface Analysis {
  uri: string;
  /** The text as checked: a byte order mark at its start reads as a space, so offsets stay the document's. */
  source: Source;
  checked: CheckedSource;
  lines: LineIndex;
  /** Undefined when the text does not parse. */
  readonly symbols: SymbolTable | undefined;
  /** The symbols of the latest text of this document that parsed: completion's names in scope while a line is half typed. */
  readonly lastSymbols: SymbolTable | undefined;
  readonly layers: LayerIndex;
}

/** What one document keeps from one analysis to the next. */
export class DocumentCache {
  readonly memo = new ParseMemo();
  /** The latest program of this document that parsed, and its symbols once asked for. */
  lastProgram?: Program;
  lastSymbols?: { program: Program; table: SymbolTable };
}

/** The file name messages show for a document: its URI's path. */
export function uriPath(uri: string): string {
  try {
    return decodeURIComponent(new URL(uri).pathname);
  } catch {
    return uri;
  }
}

function symbolsOf(program: Program, cache: DocumentCache): SymbolTable {
  if (cache.lastSymbols?.program !== program) cache.lastSymbols = { program, table: buildSymbols(program) };
  return cache.lastSymbols.table;
}

/** A bug in the checker is reported on the document, not thrown into the editor's server. */
function checkOrReport(source: Source, cache: DocumentCache): CheckedSource {
  try {
    return checkSource(source, cache.memo);
  } catch (e) {
    cache.memo.previous.clear();
    return { graphs: [], diagnostics: [messages.checkCrashed(e instanceof Error ? e.message : String(e))] };
  }
}

export function analyse(text: string, uri: string, cache: DocumentCache = new DocumentCache()): Analysis {
  const source: Source = { path: uriPath(uri), text: text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text };
  const checked = checkOrReport(source, cache);
  if (checked.program) cache.lastProgram = checked.program;
  let symbols: SymbolTable | undefined, layers: LayerIndex | undefined, lines: LineIndex | undefined;
  return {
    uri,
    source,
    checked,
    get lines() {
      return (lines ??= new LineIndex(source.text));
    },
    get symbols() {
      if (!symbols && checked.program) symbols = symbolsOf(checked.program, cache);
      return symbols;
    },
    get lastSymbols() {
      return this.symbols ?? (cache.lastProgram && symbolsOf(cache.lastProgram, cache));
    },
    get layers() {
      return (layers ??= new LayerIndex(checked.graphs));
    },
  };
}
