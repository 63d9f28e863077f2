/**
 * Formatting: `dlc fmt`'s text for the whole document (src/format), as one
 * edit; none when the text is already formatted or does not parse (the
 * diagnostics already say why).
 */
import type { TextEdit } from 'vscode-languageserver-types';
import { formatSource } from '../format/index.js';
import type { Analysis } from './analysis.js';

export function formattingEdits(a: Analysis): TextEdit[] {
  if (!a.checked.program) return [];
  const result = formatSource(a.source.text, a.source.path);
  if (!result.ok || !result.changed) return [];
  return [{ range: a.lines.range(0, a.source.text.length), newText: result.text }];
}
