/**
 * The formatter's lossless view of a .dl text that parsed: every token in
 * order, and every comment with where it sits (after code on its line, or on
 * a line of its own) and how many line breaks come before it. The parser's
 * AST drops comments and parentheses; the printer (print.ts) walks the AST and
 * these tokens in step, so it prints each token of the source exactly once.
 *
 * The lexical rules are the grammar's (grammar/dl.ohm: ident, number, string,
 * comment, space = any code unit up to U+0020). src/frontend/scan.ts has a
 * cheaper scanner that only plans pieces and glues a number to the letters
 * after it (`2as`); a formatter must not, so this one follows the grammar.
 */
import { internal } from '../diagnostics.js';

export interface Token {
  kind: 'word' | 'number' | 'string' | 'punct';
  text: string;
  start: number;
  end: number;
  /** Line breaks between the previous token or comment and this token. */
  breaks: number;
}

export interface Comment {
  /** From `#` to the end of its line, trailing spaces dropped. */
  text: string;
  start: number;
  /** Nothing but spaces before it on its line: it is printed on a line of its own. */
  ownLine: boolean;
  /** Line breaks between the previous token or comment and this comment. */
  breaks: number;
}

export interface Lexed {
  tokens: Token[];
  /** gaps[k]: the comments between token k - 1 and token k; gaps[tokens.length]: after the last token. */
  gaps: Comment[][];
  /** For each `(` or `[` token, the index of its closing token. */
  closer: Map<number, number>;
}

const NUMBER = /(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?/y;
const WORD = /[A-Za-z_\p{L}][A-Za-z0-9_\p{L}]*/uy;
const STRING = /"(?:\\[^]|[^"\\\n])*"/y;
const PUNCT = /->|\*\*|\/\/|[(){}[\],=:+\-*/%]/y;

/** A line break as layout sees it: "\n", or a "\r" not followed by "\n" (old Mac text). */
const isBreak = (text: string, i: number) => text[i] === '\n' || (text[i] === '\r' && text[i + 1] !== '\n');

/** Tokens and comments of `text`, which must be a program the parser accepted. */
export function lex(text: string): Lexed {
  const tokens: Token[] = [];
  const gaps: Comment[][] = [[]];
  let breaks = 0;
  let lineHasCode = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c <= 0x20) {
      if (isBreak(text, i)) {
        breaks++;
        lineHasCode = false;
      }
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      gaps[tokens.length].push({ text: text.slice(i, end).trimEnd(), start: i, ownLine: !lineHasCode, breaks });
      breaks = 0;
      lineHasCode = true; // a second comment on the same line cannot happen: a comment runs to the end of its line
      i = end;
      continue;
    }
    let kind: Token['kind'] | undefined;
    let match: RegExpExecArray | null = null;
    for (const [k, re] of [['number', NUMBER], ['word', WORD], ['string', STRING], ['punct', PUNCT]] as const) {
      re.lastIndex = i;
      if ((match = re.exec(text))) {
        kind = k;
        break;
      }
    }
    if (!match || !kind) throw internal(`the formatter cannot read the character at offset ${i} of a program that parsed`);
    tokens.push({ kind, text: match[0], start: i, end: i + match[0].length, breaks });
    gaps.push([]);
    breaks = 0;
    lineHasCode = true;
    i += match[0].length;
  }
  const closer = new Map<number, number>();
  const open: number[] = [];
  tokens.forEach((t, k) => {
    if (t.text === '(' || t.text === '[') open.push(k);
    else if (t.text === ')' || t.text === ']') closer.set(open.pop()!, k);
  });
  return { tokens, gaps, closer };
}
