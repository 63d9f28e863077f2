/**
 * The AST of a .dl file: plain data with a source span on every node.
 * Produced by parse.ts; consumed by src/ir/build.ts. No semantics here.
 */

/** A source range: 0-based offsets into `source.text`, plus 1-based line/column of the start. */
export interface Span {
  source: Source;
  start: number;
  end: number;
}
export interface Source {
  path: string;
  text: string;
}

export type Expr =
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'list'; items: Expr[]; span: Span }
  | { kind: 'call'; callee: string; calleeSpan: Span; args: Arg[]; span: Span }
  | { kind: 'chain'; head: Expr; stages: Expr[]; span: Span } // head -> stages[0] -> stages[1] ...
  | { kind: 'as'; expr: Expr; name: string; nameSpan: Span; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'unary'; op: '-' | '+'; operand: Expr; span: Span };

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**';

export interface Arg {
  /** Set for `name = value` arguments. */
  name?: string;
  nameSpan?: Span;
  value: Expr;
  span: Span;
}

export type Stmt =
  | { kind: 'const'; name: string; nameSpan: Span; value: Expr; span: Span }
  | { kind: 'input'; name: string; nameSpan: Span; shape?: Expr; dtype?: 'float32' | 'int32'; span: Span }
  | { kind: 'output'; name?: string; nameSpan?: Span; value: Expr; span: Span }
  | { kind: 'assign'; name: string; nameSpan: Span; value: Expr; span: Span }
  /** `out, h, c = E`: E's results (a tuple) by position. */
  | { kind: 'unpack'; name?: undefined; nameSpan?: undefined; names: { name: string; nameSpan: Span }[]; value: Expr; span: Span };

export interface Param {
  name: string;
  nameSpan: Span;
  default?: Expr;
}

export type Decl =
  | { kind: 'const'; name: string; nameSpan: Span; value: Expr; span: Span }
  | { kind: 'block'; name: string; nameSpan: Span; params: Param[]; body: Stmt[]; span: Span }
  | { kind: 'model'; name: string; nameSpan: Span; body: Stmt[]; span: Span }
  | { kind: 'train'; model: string; nameSpan: Span; settings: Setting[]; span: Span };

export interface Setting {
  name: string;
  nameSpan: Span;
  value: Expr;
  span: Span;
}

export interface Program {
  source: Source;
  decls: Decl[];
}
