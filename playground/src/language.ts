/**
 * Syntax highlighting of .dl for CodeMirror: a StreamLanguage tokenizer over
 * grammar/dl.ohm's lexical rules (keywords, names, numbers, `#` comments, `->`).
 * A name followed by `(` is a call (an op or a block): op names are not keywords,
 * they resolve through the op registry (src/ops/index.ts), so they are
 * highlighted by position, not by a list.
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';

/** grammar/dl.ohm's `keyword` and `dtype` rules. */
const KEYWORDS = new Set(['const', 'block', 'model', 'train', 'input', 'output', 'as']);
const TYPES = new Set(['int32', 'int', 'float32', 'float']);

function token(stream: StringStream): string | null {
  if (stream.eatSpace()) return null;
  if (stream.match('#')) {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match(/^\d[\d_]*(\.\d*)?([eE][+-]?\d+)?/) || stream.match(/^\.\d+([eE][+-]?\d+)?/)) return 'number';
  if (stream.match(/^"[^"\n]*"?/) || stream.match(/^'[^'\n]*'?/)) return 'string';
  if (stream.match('->')) return 'operator';
  const word = stream.match(/^[\p{L}_][\p{L}\p{N}_]*/u) as RegExpMatchArray | null;
  if (word) {
    if (KEYWORDS.has(word[0])) return 'keyword';
    if (TYPES.has(word[0])) return 'typeName';
    if (stream.match(/^\s*\(/, false)) return 'variableName.function';
    if (stream.match(/^\s*=(?!=)/, false)) return 'propertyName';
    return 'variableName';
  }
  stream.next();
  return /[-+*/%=]/.test(stream.current()) ? 'operator' : 'punctuation';
}

export const dlLanguage = StreamLanguage.define({ name: 'dl', token, languageData: { commentTokens: { line: '#' } } });
