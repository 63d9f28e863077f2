/**
 * The .dl formatter: source text in, the same program laid out in the house
 * style out (print.ts states the style). Pure and browser-safe: no file
 * system, only the parser and prettier's document printer. `dlc fmt`, the
 * prettier plugin (prettier.ts) and the language server call `formatSource`.
 *
 * A file that does not parse is never formatted: its syntax error comes back
 * as the diagnostic `dlc check` prints. Formatting only moves spaces, line
 * breaks and comments, and may add or drop a trailing comma; before
 * returning, the output is lexed again and must hold the input's tokens and
 * comments in the same order, or formatSource throws an internal error
 * rather than hand back a changed program.
 */
import { printer } from 'prettier/doc';
import { parse } from '../frontend/parse.js';
import { internal, type Diagnostic } from '../diagnostics.js';
import { DocPrinter } from './print.js';
import { lex, type Lexed } from './tokens.js';

export interface FormatOptions {
  /** The line width the layout fits to (prettier's printWidth); 80 by default. */
  width?: number;
}

export const DEFAULT_WIDTH = 80;

export type FormatResult = { ok: true; text: string; changed: boolean } | { ok: false; diagnostics: Diagnostic[] };

/** `source` formatted, or the syntax error that stops it; `file` names the source in diagnostics. */
export function formatSource(source: string, file: string, options: FormatOptions = {}): FormatResult {
  // A byte order mark is not part of the program (compile.ts's readSource drops it too).
  const text = source.replace(/^\uFEFF/, '');
  const parsed = parse({ path: file, text });
  if (!parsed.ok) return { ok: false, diagnostics: [parsed.diagnostic] };
  const lexed = lex(text);
  const doc = new DocPrinter(lexed).program(parsed.program);
  const { formatted } = printer.printDocToString(doc, { printWidth: options.width ?? DEFAULT_WIDTH, tabWidth: 2 });
  checkSameProgram(lexed, lex(formatted));
  return { ok: true, text: formatted, changed: formatted !== source };
}

/** The tokens (trailing commas aside, which the layout decides) and comments of a lexed text, in order. */
function essence(lexed: Lexed): { tokens: string[]; comments: string[] } {
  const { tokens } = lexed;
  const kept = tokens.filter((t, k) => !(t.text === ',' && (tokens[k + 1]?.text === ')' || tokens[k + 1]?.text === ']')));
  // Comments moved to the end of the same line run together into one (`# a  # b`): compare their text, not their count.
  return { tokens: kept.map((t) => t.text), comments: lexed.gaps.flat().map((c) => c.text).join(' ').split(/\s+/) };
}

function checkSameProgram(before: Lexed, after: Lexed): void {
  const a = essence(before);
  const b = essence(after);
  const token = a.tokens.findIndex((t, i) => t !== b.tokens[i]);
  if (token >= 0 || a.tokens.length !== b.tokens.length)
    throw internal(`the formatter changed token ${token >= 0 ? token : a.tokens.length} ('${a.tokens[token]}' became '${b.tokens[token]}')`);
  if (a.comments.join(' ') !== b.comments.join(' ')) throw internal('the formatter lost or reordered a comment');
}
