/**
 * The checker's diagnostics as LSP diagnostics, and the quick fixes their
 * hints offer: a did-you-mean replacement, and the flatten that a dense
 * layer on a feature map needs (shapeRules.denseInput's hint).
 */
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic as LspDiagnostic, type Range } from 'vscode-languageserver-types';
import type { Diagnostic } from '../diagnostics.js';
import { shapeRules } from '../diagnostics.js';
import type { Analysis } from './analysis.js';

export const SOURCE = 'dlc';

/** Every problem of the document, each at its span (a problem without one at the document's start); a hint is related information at the same place. */
export function diagnostics(a: Analysis): LspDiagnostic[] {
  return a.checked.diagnostics.map((d) => {
    const range = rangeOf(a, d);
    return {
      range,
      severity: DiagnosticSeverity.Error,
      code: d.code,
      source: SOURCE,
      message: d.message,
      ...(d.hint && { relatedInformation: [{ location: { uri: a.uri, range }, message: `hint: ${d.hint}` }] }),
    };
  });
}

const rangeOf = (a: Analysis, d: Diagnostic): Range => (d.span ? a.lines.range(d.span.start, Math.min(d.span.end, a.source.text.length)) : a.lines.range(0, 0));

const DID_YOU_MEAN = /did you mean '([^']+)'\?/;
const FLATTEN_HINT = shapeRules.denseInput([]).hint;

/** Quick fixes for the problems that overlap `range`. */
export function codeActions(a: Analysis, range: Range): CodeAction[] {
  const [from, to] = [a.lines.offset(range.start), a.lines.offset(range.end)];
  const actions: CodeAction[] = [];
  const lsp = diagnostics(a);
  a.checked.diagnostics.forEach((d, i) => {
    if (!d.span || d.span.end < from || d.span.start > to) return;
    const text = a.source.text;
    const suggestion = d.hint && DID_YOU_MEAN.exec(d.hint)?.[1];
    if (suggestion) {
      const word = misspelled(d, text.slice(d.span.start, d.span.end));
      if (word) {
        const start = d.span.start + word.at;
        actions.push(fix(`Change '${word.name}' to '${suggestion}'`, a, lsp[i], a.lines.range(start, start + word.name.length), suggestion));
      }
    }
    if (d.hint === FLATTEN_HINT && /->\s*$/.test(text.slice(Math.max(0, d.span.start - 200), d.span.start)))
      actions.push(fix('Insert flatten before dense', a, lsp[i], a.lines.range(d.span.start, d.span.start), 'flatten -> '));
  });
  return actions;
}

function fix(title: string, a: Analysis, diagnostic: LspDiagnostic, range: Range, newText: string): CodeAction {
  return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: true, edit: { changes: { [a.uri]: [{ range, newText }] } } };
}

/** The misspelled name inside a diagnostic's span: the span itself when it is one name, else the first name the message quotes that the span holds. */
function misspelled(d: Diagnostic, spanText: string): { name: string; at: number } | undefined {
  if (/^[\p{L}_][\p{L}\p{N}_]*$/u.test(spanText)) return { name: spanText, at: 0 };
  for (const [, name] of d.message.matchAll(/'([\p{L}_][\p{L}\p{N}_]*)'/gu)) {
    const at = new RegExp(`(?<![\\p{L}\\p{N}_])${name}(?![\\p{L}\\p{N}_])`, 'u').exec(spanText)?.index;
    if (at !== undefined) return { name, at };
  }
  return undefined;
}
