/**
 * Formatting: a formatter's text for the whole document, as one edit (none
 * when the text is already formatted or does not parse). The formatter
 * itself is src/format's (issue 17's `dlc fmt`), passed in by the caller.
 */
import type { TextEdit } from 'vscode-languageserver-types';
import type { Analysis } from './analysis.js';

/** Formats a source text; throws on text it cannot format (a syntax error). */
export type Formatter = (text: string, file: string) => string;

export function formattingEdits(a: Analysis, format: Formatter): TextEdit[] {
  if (!a.checked.program) return [];
  const formatted = format(a.source.text, a.source.path);
  if (formatted === a.source.text) return [];
  return [{ range: a.lines.range(0, a.source.text.length), newText: formatted }];
}
