/**
 * A cheap scanner that cuts a .dl file into the pieces parse.ts hands to Ohm
 * one at a time: each top-level declaration's header, each statement of a
 * body, and each stage of a `->` chain. Ohm memoizes every rule application at
 * every position, so one match over a whole file holds a memo table of the
 * file's size (780 MB for 1 MB of source); piece by piece, the table holds one
 * piece at a time.
 *
 * The scanner knows only tokens, brackets and where statements start; it does
 * not decide what is valid. A plan it cannot make sense of (a stray bracket, a
 * brace inside a body) is marked, and parse.ts parses that part whole.
 *
 * It also enforces the nesting limit before Ohm (a recursive-descent parser)
 * or anything after it recurses: brackets, prefix signs and `**` operators
 * that are open at one point count together.
 */
import type { Span, Source } from './ast.js';

/** The largest source dlc reads, in UTF-16 code units (bytes for ASCII text). */
export const MAX_SOURCE_CHARS = 8 * 2 ** 20;
/**
 * How deeply expressions may nest: `(`, `[` and call parentheses that are open
 * at once, plus the prefix signs and `**` operators still waiting for their
 * operand. Ohm's recursion needs about 15 KB of stack per call nested in a call.
 */
export const MAX_NESTING = 40;

/**
 * The longest piece Ohm matches in one go (a statement, a stage of a chain, a
 * declaration's header, or a declaration the scanner could not cut), in UTF-16
 * code units. Ohm's memo table takes about 1.3 KB per character of a piece: a
 * 750 KB call of repeated arguments took 1 GB. At this limit a piece takes
 * under 200 MB. No model needs a longer line: it is about 10,000 numbers.
 */
export const MAX_PIECE_CHARS = 128 * 2 ** 10;

/** A stretch of source, as offsets into the text: [start, end). */
export interface Range {
  start: number;
  end: number;
}

/** One statement (or top-level const) and the stages of its `->` chain, if any. */
export interface StmtPlan {
  /** The statement up to its first `->` at bracket depth 0. */
  head: Range;
  stages: Range[];
}

/**
 * One top-level declaration, its range running to the next one (or the end).
 * `whole` is set when the scanner could not plan it (text before the first
 * declaration, a stray bracket, a brace inside a body): parse its range in one piece.
 */
export interface DeclPlan {
  range: Range;
  kind?: 'const' | 'block' | 'model' | 'train';
  /** For block, model and train: from the keyword to the body's `{`. */
  header?: Range;
  body: StmtPlan[];
  /** The closing `}`. */
  close?: Range;
  whole?: boolean;
  /**
   * The body is never closed: the file ends inside it. Its statements are
   * planned to the end of the file, so that a large one is checked piece by
   * piece before the missing `}` is reported.
   */
  unclosed?: boolean;
}

/** A limit the source exceeds: its size, the nesting, or a piece's length (`whole`: a declaration the scanner could not cut). */
export type ScanLimit = { kind: 'size' } | { kind: 'nesting' } | { kind: 'piece'; chars: number; whole: boolean };
export type ScanResult = { ok: true; decls: DeclPlan[] } | { ok: false; span: Span; limit: ScanLimit };

type Kind = 'name' | 'keyword' | 'number' | 'string' | 'punct' | 'other';
interface Token {
  kind: Kind;
  text: string;
  start: number;
  end: number;
}

/** The grammar's `keyword` rule. */
export const KEYWORDS = new Set(['const', 'block', 'model', 'train', 'input', 'output', 'as', 'int32', 'int', 'float32', 'float']);
const TOP = new Set(['const', 'block', 'model', 'train']);
const PUNCT3 = ['->', '**', '//'];
const isSpace = (c: number) => c <= 0x20;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const LETTER = /\p{L}/u;
const ALNUM = /[\p{L}\p{Nd}]/u;

/** The tokens of `text`, skipping spaces and comments as the grammar does (every code unit up to U+0020 is a space; `#` runs to "\n"). */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 35 /* # */) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    let kind: Kind;
    if (isAsciiStart(c) || (c > 127 && LETTER.test(String.fromCodePoint(text.codePointAt(i)!)))) {
      i += c > 0xffff ? 2 : 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isAsciiStart(d) || isDigit(d)) i++;
        else if (d > 127 && ALNUM.test(String.fromCodePoint(text.codePointAt(i)!))) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
        else break;
      }
      kind = KEYWORDS.has(text.slice(start, i)) ? 'keyword' : 'name';
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      // A number and whatever letters stick to it: the parser judges it.
      while (i < n && (isDigit(text.charCodeAt(i)) || isAsciiStart(text.charCodeAt(i)) || text[i] === '.' || ((text[i] === '+' || text[i] === '-') && /[eE]/.test(text[i - 1])))) i++;
      kind = 'number';
    } else if (c === 34 /* " */) {
      i++;
      while (i < n && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      if (text[i] === '"') i++;
      kind = 'string';
    } else {
      const three = PUNCT3.find((p) => text.startsWith(p, i));
      i += three ? three.length : 1;
      kind = '(){}[],=:+-*/%'.includes(text[start]) || three ? 'punct' : 'other';
    }
    tokens.push({ kind, text: kind === 'punct' || kind === 'keyword' ? text.slice(start, i) : '', start, end: Math.min(i, n) });
  }
  return tokens;
}

const OPERAND_END = new Set<Kind>(['name', 'number', 'string']);

/**
 * Checks the nesting limit over the whole token list: an error at the first
 * token that opens one level too many.
 */
function checkNesting(tokens: Token[]): Token | undefined {
  const saved: number[] = []; // the enclosing level's open signs and powers, per open bracket
  let base = 0; // levels open outside the current bracket
  let extra = 0; // prefix signs and `**` open in the current operand
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== 'punct') continue;
    const prev = tokens[k - 1];
    const afterOperand = prev !== undefined && (OPERAND_END.has(prev.kind) || prev.text === ')' || prev.text === ']');
    switch (t.text) {
      case '(':
      case '[':
        saved.push(extra);
        base += extra + 1;
        extra = 0;
        if (base > MAX_NESTING) return t;
        break;
      case ')':
      case ']':
        if (saved.length > 0) {
          extra = saved.pop()!;
          base -= extra + 1;
        }
        break;
      case '-':
      case '+':
        if (afterOperand) extra = 0;
        else if (base + ++extra > MAX_NESTING) return t;
        break;
      case '**':
        if (base + ++extra > MAX_NESTING) return t;
        break;
      default: // every other operator, ',', '=', ':' and '->' end the operand
        extra = 0;
    }
  }
  return undefined;
}

/** Plans the pieces of `source`, or reports the first limit it exceeds. */
export function scan(source: Source): ScanResult {
  const { text } = source;
  if (text.length > MAX_SOURCE_CHARS) return { ok: false, span: { source, start: MAX_SOURCE_CHARS, end: MAX_SOURCE_CHARS + 1 }, limit: { kind: 'size' } };
  const tokens = tokenize(text);
  const deep = checkNesting(tokens);
  if (deep) return { ok: false, span: { source, start: deep.start, end: deep.end }, limit: { kind: 'nesting' } };

  // Top-level declarations start at a declaration keyword outside every bracket and brace.
  const starts: number[] = [];
  let depth = 0;
  tokens.forEach((t, k) => {
    if (t.kind === 'keyword' && depth === 0 && TOP.has(t.text)) starts.push(k);
    if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
    if ((t.text === ')' || t.text === ']' || t.text === '}') && depth > 0) depth--;
  });
  const decls: DeclPlan[] = [];
  const at = (k: number) => (k < tokens.length ? tokens[k].start : text.length);
  if ((starts[0] ?? tokens.length) > 0) decls.push({ range: { start: 0, end: at(starts[0] ?? tokens.length) }, body: [], whole: true });
  starts.forEach((first, s) => {
    const last = s + 1 < starts.length ? starts[s + 1] : tokens.length;
    decls.push(planDecl(tokens, first, last, { start: tokens[first].start, end: at(last) }));
  });
  for (const d of decls) {
    const pieces = d.whole ? [d.range] : [...(d.header ? [d.header] : []), ...d.body.flatMap((s) => [s.head, ...s.stages])];
    const long = pieces.find((r) => r.end - r.start > MAX_PIECE_CHARS);
    if (long) {
      // Located at the piece's first token: the whole piece would be a span as long as the problem.
      const first = tokens.find((t) => t.start >= long.start)!;
      return { ok: false, span: { source, start: first.start, end: first.end }, limit: { kind: 'piece', chars: long.end - long.start, whole: d.whole === true } };
    }
  }
  return { ok: true, decls };
}

/** The plan of the declaration in tokens [first, last). */
function planDecl(tokens: Token[], first: number, last: number, range: Range): DeclPlan {
  const kind = tokens[first].text as DeclPlan['kind'];
  const whole: DeclPlan = { range, kind, body: [], whole: true };
  if (kind === 'const') {
    const stmt = planStmt(tokens, first, last);
    return stmt ? { range, kind, body: [stmt] } : whole;
  }
  // The header runs to the first '{' outside brackets; the body to the last token, which must be its '}'.
  let k = first;
  let depth = 0;
  for (; k < last && !(depth === 0 && tokens[k].text === '{'); k++) {
    if (tokens[k].text === '(' || tokens[k].text === '[') depth++;
    if (tokens[k].text === ')' || tokens[k].text === ']') depth--;
  }
  if (k >= last - 1) return whole;
  // A declaration runs to the next one at brace depth 0, so one that does not end in '}' runs to the end of the file.
  const unclosed = tokens[last - 1].text !== '}';
  const end = unclosed ? last : last - 1;
  const header = { start: tokens[first].start, end: tokens[k].end };
  const body: StmtPlan[] = [];
  let stmtStart = k + 1;
  depth = 0;
  for (let j = k + 1; j < end; j++) {
    const t = tokens[j];
    if (t.text === '{' || t.text === '}') return whole;
    if (t.text === '(' || t.text === '[') depth++;
    if (t.text === ')' || t.text === ']') depth--;
    if (depth < 0) return whole;
    if (depth === 0 && j > stmtStart && startsStatement(tokens, j)) {
      const stmt = planStmt(tokens, stmtStart, j);
      if (!stmt) return whole;
      body.push(stmt);
      stmtStart = j;
    }
  }
  if (depth !== 0) return whole;
  if (stmtStart < end) {
    const stmt = planStmt(tokens, stmtStart, end);
    if (!stmt) return whole;
    body.push(stmt);
  }
  if (unclosed) return { range, kind, header, body, unclosed };
  return { range, kind, header, body, close: { start: tokens[last - 1].start, end: tokens[last - 1].end } };
}

/** A statement starts at `input`, `output` or `const`, or at `name =` that follows neither `output` nor `const`. */
function startsStatement(tokens: Token[], j: number): boolean {
  const t = tokens[j];
  if (t.kind === 'keyword') return t.text === 'input' || t.text === 'output' || t.text === 'const';
  const before = tokens[j - 1].text;
  return t.kind === 'name' && tokens[j + 1]?.text === '=' && before !== 'output' && before !== 'const';
}

/** Tokens [first, last) as one statement, cut at its `->`s outside brackets; undefined when a piece would be empty. */
function planStmt(tokens: Token[], first: number, last: number): StmtPlan | undefined {
  const cuts: number[] = [];
  let depth = 0;
  for (let j = first; j < last; j++) {
    const t = tokens[j].text;
    if (t === '(' || t === '[') depth++;
    if (t === ')' || t === ']') depth--;
    if (depth === 0 && t === '->') cuts.push(j);
  }
  const bounds = [first - 1, ...cuts, last];
  const ranges: Range[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const from = bounds[b] + 1;
    const to = bounds[b + 1];
    if (to <= from) return undefined;
    ranges.push({ start: tokens[from].start, end: tokens[to - 1].end });
  }
  return { head: ranges[0], stages: ranges.slice(1) };
}
