/**
 * The layout of a .dl program as a prettier document (prettier/doc's
 * builders; its printer fits groups to the width). The AST gives the
 * structure; the tokens of tokens.ts give the text: every source token is
 * taken in order by `tok`, which also places the comments around it, so the
 * output holds the same tokens and comments as the input, only re-spaced
 * (index.ts checks this before it returns anything).
 *
 * The style, taken from examples/:
 * - one statement per line, two spaces of indentation per level; a blank
 *   line kept (runs collapsed to one) between statements and declarations,
 *   and always one around a block, model or train declaration;
 * - single spaces around `->`, `=`, binary operators and after `,` and `:`;
 *   none inside brackets or after a sign;
 * - a chain keeps the line breaks its author put between stages (a layer
 *   and its activation on one line); continuation lines are indented one
 *   level, as prettier indents method chains. A line of stages that does not
 *   fit the width is broken one stage per line (one stage after a call
 *   that breaks follows its closing bracket, as prettier hugs `f(...).g()`);
 * - a call or list that does not fit, or whose author broke the line right
 *   after its opening bracket, gets one item per line and a trailing comma;
 * - a comment after code stays at the end of that line, two spaces after it;
 *   a comment on its own line stays on its own line, before what follows it.
 */
import { builders } from 'prettier/doc';
import type { Arg, Decl, Expr, Param, Program, Stmt } from '../frontend/ast.js';
import { internal } from '../diagnostics.js';
import type { Comment, Lexed } from './tokens.js';

type Doc = builders.Doc;
const { group, conditionalGroup, indent, line, softline, hardline, hardlineWithoutBreakParent, lineSuffix, breakParent, ifBreak, join } = builders;

/** `doc` with its last group (a call's or list's brackets) broken. */
function breakLast(doc: Doc): Doc {
  if (Array.isArray(doc)) return [...doc.slice(0, -1), breakLast(doc.at(-1)!)];
  return typeof doc === 'object' && doc.type === 'group' ? { ...doc, break: true } : doc;
}

/**
 * How a token's own-line comments are printed. 'stmt': on the lines before a
 * statement or declaration, with blank lines kept ('keep'), dropped ('none')
 * or added ('force') before the first; 'line': before something that starts
 * a line (a chain's line of stages, a bracket's item); 'inline': elsewhere,
 * moved to the end of the line as a trailing comment.
 */
type Lead = { kind: 'stmt'; blank: 'keep' | 'none' | 'force' } | { kind: 'line' } | { kind: 'inline' };

const DTYPES = new Set(['int32', 'int', 'float32', 'float']);
const MULTI_LINE_DECLS = new Set<Decl['kind']>(['block', 'model', 'train']);

export class DocPrinter {
  /** The next source token to print. */
  private k = 0;
  /** Open brackets around the next token. */
  private depth = 0;
  /** How the next token's own-line comments go; reset to 'inline' once taken. */
  private lead: Lead = { kind: 'inline' };
  /** Gaps whose own-line comments are printed already. */
  private printed = new Set<number>();

  constructor(private lexed: Lexed) {}

  program(program: Program): Doc {
    const parts: Doc[] = [];
    program.decls.forEach((decl, i) => {
      const previous = program.decls[i - 1];
      const blank = i === 0 ? 'none' : MULTI_LINE_DECLS.has(decl.kind) || MULTI_LINE_DECLS.has(previous.kind) ? 'force' : 'keep';
      if (i > 0) parts.push(hardline);
      this.lead = { kind: 'stmt', blank };
      parts.push(this.decl(decl));
    });
    // Comments after the last declaration.
    const end = this.lexed.tokens.length;
    const after = this.ownLine(end);
    after.forEach((c, i) => {
      if (parts.length > 0) parts.push(hardline, i === 0 && c.breaks > 1 ? hardline : '');
      parts.push(c.text);
    });
    if (this.k !== end) throw internal(`the formatter printed ${this.k} of ${end} tokens`);
    return parts.length > 0 ? [...parts, hardline] : '';
  }

  // ---- tokens and comments

  /** The next source token, with the comments before and after it. `expected` guards the printer's walk. */
  private tok(expected?: string): Doc {
    const { tokens } = this.lexed;
    const t = tokens[this.k];
    if (!t || (expected !== undefined && t.text !== expected))
      throw internal(`the formatter expected '${expected}' at token ${this.k}, found '${t?.text}'`);
    const lead = this.leading(this.k, this.lead);
    this.lead = { kind: 'inline' };
    if (t.text === ')' || t.text === ']') this.depth--;
    if (t.text === '(' || t.text === '[') this.depth++;
    this.k++;
    return [lead, t.text, this.trailing(this.k)];
  }

  /** Skips the next token (a trailing comma the layout decides on itself), keeping its comments. */
  private skip(): Doc {
    const lead = this.leading(this.k, this.lead);
    this.lead = { kind: 'inline' };
    this.k++;
    return [lead, this.trailing(this.k)];
  }

  private peek(offset = 0): string | undefined {
    return this.lexed.tokens[this.k + offset]?.text;
  }

  /** The own-line comments of gap `k`, each once. */
  private ownLine(k: number): Comment[] {
    if (this.printed.has(k)) return [];
    this.printed.add(k);
    return this.lexed.gaps[k].filter((c) => c.ownLine);
  }

  /** A comment that ends the line it is on; inside brackets, the brackets break so that it stays beside its code. */
  private endOfLine(c: Comment): Doc {
    return [lineSuffix(['  ', c.text]), this.depth > 0 ? breakParent : ''];
  }

  /** The comment after code on the line of token k - 1, if any. */
  private trailing(k: number): Doc {
    const first = this.lexed.gaps[k][0];
    return first && !first.ownLine ? this.endOfLine(first) : '';
  }

  private leading(k: number, lead: Lead): Doc {
    const comments = this.ownLine(k);
    const token = this.lexed.tokens[k];
    if (lead.kind === 'inline') return comments.map((c) => this.endOfLine(c));
    if (lead.kind === 'line') return comments.map((c) => [c.text, hardline]);
    const blankBefore = (breaks: number, first: boolean) =>
      first ? lead.blank === 'force' || (lead.blank === 'keep' && breaks > 1) : breaks > 1;
    const parts: Doc[] = comments.map((c, i) => [blankBefore(c.breaks, i === 0) ? hardline : '', c.text, hardline]);
    if (blankBefore(token.breaks, comments.length === 0)) parts.push(hardline);
    return parts;
  }

  /** Own-line comments before a closing `}`, `)` or `]`, each on its own line inside the indented part. */
  private dangling(): Doc[] {
    return this.ownLine(this.k).map((c, i) => [hardline, i > 0 && c.breaks > 1 ? hardline : '', c.text]);
  }

  // ---- declarations and statements

  private decl(d: Decl): Doc {
    switch (d.kind) {
      case 'const':
        return [this.tok('const'), ' ', this.tok(), ' ', this.tok('='), ' ', this.expr(d.value)];
      case 'block':
        return [this.tok('block'), ' ', this.tok(), this.bracketed(d.params.map((p) => () => this.param(p)), false), ' ', this.body(d.body)];
      case 'model':
        return [this.tok('model'), ' ', this.tok(), ' ', this.body(d.body)];
      case 'train':
        return [this.tok('train'), ' ', this.tok(), ' ', this.body(d.settings.map((s) => ({ kind: 'assign', ...s })))];
    }
  }

  private param(p: Param): Doc {
    return p.default ? [this.tok(), ' ', this.tok('='), ' ', this.expr(p.default)] : this.tok();
  }

  private body(stmts: Stmt[]): Doc {
    const open = this.tok('{');
    const lines = stmts.map((s, i) => {
      this.lead = { kind: 'stmt', blank: i === 0 ? 'none' : 'keep' };
      return [hardline, this.stmt(s)];
    });
    const dangling = this.dangling();
    if (lines.length === 0 && dangling.length === 0) return [open, this.tok('}')];
    const close = this.tok('}');
    return [open, indent([...lines, dangling]), hardline, close];
  }

  private stmt(s: Stmt): Doc {
    switch (s.kind) {
      case 'const':
        return [this.tok('const'), ' ', this.tok(), ' ', this.tok('='), ' ', this.expr(s.value)];
      case 'input': {
        const parts: Doc[] = [this.tok('input'), ' ', this.tok()];
        if (s.shape) parts.push(this.tok(':'), ' ', this.expr(s.shape));
        // The AST fills in float32 when no type is written: print the type only if the source has one.
        if (DTYPES.has(this.peek() ?? '')) parts.push(' ', this.tok());
        return parts;
      }
      case 'output':
        return s.name === undefined
          ? [this.tok('output'), ' ', this.expr(s.value)]
          : [this.tok('output'), ' ', this.tok(), ' ', this.tok('='), ' ', this.expr(s.value)];
      case 'assign':
        return [this.tok(), ' ', this.tok('='), ' ', this.expr(s.value)];
      case 'unpack':
        return [s.names.map((_, i) => (i === 0 ? this.tok() : [this.tok(','), ' ', this.tok()])), ' ', this.tok('='), ' ', this.expr(s.value)];
    }
  }

  // ---- expressions

  /** True when the next token is a `(` that wraps `e` (the AST keeps no parentheses). */
  private wrapped(e: Expr): boolean {
    const t = this.lexed.tokens[this.k];
    if (t?.text !== '(' || t.start >= e.span.start) return false;
    const close = this.lexed.tokens[this.lexed.closer.get(this.k)!];
    return close.start >= e.span.end;
  }

  private expr(e: Expr): Doc {
    if (this.wrapped(e)) return [this.tok('('), this.expr(e), this.tok(')')];
    switch (e.kind) {
      case 'number':
      case 'string':
      case 'name':
        return this.tok();
      case 'list':
        return [this.bracketed(e.items.map((item) => () => this.expr(item)), true)];
      case 'call':
        return [this.tok(), this.bracketed(e.args.map((a) => () => this.arg(a)), true)];
      case 'as':
        return [this.expr(e.expr), ' ', this.tok('as'), ' ', this.tok()];
      case 'unary': {
        const sign = this.tok(e.op);
        // `- -x`, not `--x`.
        return [sign, this.peek() === '-' || this.peek() === '+' ? ' ' : '', this.expr(e.operand)];
      }
      case 'binary':
        return this.binary(e);
      case 'chain':
        return this.chain(e);
    }
  }

  private arg(a: Arg): Doc {
    return a.name === undefined ? this.expr(a.value) : [this.tok(), ' ', this.tok('='), ' ', this.expr(a.value)];
  }

  /**
   * `a + b - c * d`: the left operands of a run of binary operators, walked
   * without recursion (a sum of thousands of terms is one flat run); a
   * parenthesized left operand ends the run.
   */
  private binary(e: Expr & { kind: 'binary' }): Doc {
    const spine: (Expr & { kind: 'binary' })[] = [e];
    for (let left = e.left; left.kind === 'binary' && !this.wrapped(left); left = left.left) spine.push(left);
    const parts: Doc[] = [this.expr(spine.at(-1)!.left)];
    for (const node of spine.reverse()) parts.push(' ', this.tok(node.op), ' ', this.expr(node.right));
    return parts;
  }

  /**
   * `head -> s1 -> s2` on the author's lines: stages the source has on one
   * line form a group that stays on one line if it fits, else one stage per
   * line; every line after the first is indented one level.
   */
  private chain(e: Expr & { kind: 'chain' }): Doc {
    const { tokens } = this.lexed;
    const bracketHead = (e.head.kind === 'call' || e.head.kind === 'list') && !this.wrapped(e.head);
    const head = this.expr(e.head);
    const lines: Doc[][] = [[]];
    for (const stage of e.stages) {
      const brokenBefore = tokens[this.k].breaks > 0 || tokens[this.k + 1].breaks > 0 || this.lexed.gaps[this.k].length > 0;
      if (brokenBefore) {
        lines.push([]);
        this.lead = { kind: 'line' };
      }
      const arrow = this.tok('->');
      lines.at(-1)!.push([arrow, ' ', this.expr(stage)]);
    }
    const [first, ...rest] = lines;
    // `add(...) -> relu` whose call does not fit: the one stage follows the call's closing bracket, as prettier hugs `f(...).g()`.
    const firstLine =
      bracketHead && first.length === 1
        ? conditionalGroup([
            [head, ' ', first[0]],
            [head, indent([hardlineWithoutBreakParent, first[0]])],
            [breakLast(head), ' ', first[0]],
          ])
        : group([head, indent(first.map((s) => [line, s]))]);
    return [firstLine, indent(rest.map((stages) => [hardline, group(join(line, stages))]))];
  }

  /**
   * `(a, b)` or `[a, b]` from the next `(` or `[`: on one line when it fits,
   * else one item per line with a trailing comma (`comma`; block parameters
   * take none). A line break right after the opening bracket in the source
   * keeps it broken.
   */
  private bracketed(items: (() => Doc)[], comma: boolean): Doc {
    const closeText = this.peek() === '(' ? ')' : ']';
    const open = this.tok();
    if (items.length === 0) {
      if (this.peek() === ',') throw internal('the formatter found a comma in empty brackets');
      const dangling = this.dangling();
      return dangling.length === 0
        ? [open, this.tok(closeText)]
        : [open, indent(dangling), hardline, this.tok(closeText)];
    }
    const expanded = this.lexed.tokens[this.k].breaks > 0 || this.lexed.gaps[this.k].some((c) => c.ownLine);
    const parts: Doc[] = [];
    items.forEach((item, i) => {
      this.lead = { kind: 'line' };
      parts.push(item());
      if (i < items.length - 1) parts.push(this.tok(','), line);
      else if (this.peek() === ',') parts.push(this.skip());
    });
    const dangling = this.dangling();
    const close = this.tok(closeText);
    return group([open, indent([softline, ...parts, comma ? ifBreak(',') : '', dangling]), softline, close], { shouldBreak: expanded });
  }
}
