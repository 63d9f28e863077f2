/**
 * Compile-time constants: their values (numbers, tensors written as nested
 * lists, strings, booleans), their arithmetic, and the one evaluator of
 * constant expressions that top-level `const` declarations, op and block
 * arguments and train settings all go through. Tensor arithmetic broadcasts a
 * scalar over a tensor or combines two tensors of one shape.
 *
 * The evaluator knows constants only. What a name means in a model or block
 * body, and what a call or a chain evaluates to, its caller (a Host) decides:
 * the graph builder makes tensors and deferred calls, a train section keeps
 * calls for its binder.
 */
import { Diagnostic, messages, suggest } from '../diagnostics.js';
import type { BinaryOp, Decl, Expr, Span } from '../frontend/ast.js';
import type { ConstTensor, Node } from './types.js';

export type ConstValue = number | boolean | string | { symbol: string } | ConstTensor;

export const isTensor = (v: unknown): v is ConstTensor => typeof v === 'object' && v !== null && 'data' in v && 'shape' in v;

export function describeConst(v: ConstValue): string {
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (typeof v === 'string') return `the string "${v}"`;
  if (isTensor(v)) return `a constant tensor of shape [${v.shape.join(', ')}]`;
  return `'${v.symbol}'`;
}

/** Stacks equal-shaped items (numbers or tensors) into one tensor; returns an error text when ragged. */
export function stack(items: (number | ConstTensor)[]): ConstTensor | string {
  if (items.length === 0) return { shape: [0], data: new Float64Array(0) };
  const shapeOf = (x: number | ConstTensor) => (typeof x === 'number' ? [] : x.shape);
  const inner = shapeOf(items[0]);
  for (const x of items)
    if (shapeOf(x).join() !== inner.join()) return `a nested list must be rectangular: found rows of shapes [${inner.join(', ')}] and [${shapeOf(x).join(', ')}]`;
  const size = inner.reduce((a, b) => a * b, 1);
  const data = new Float64Array(items.length * size);
  items.forEach((x, i) => (typeof x === 'number' ? (data[i] = x) : data.set(x.data, i * size)));
  return { shape: [items.length, ...inner], data };
}

const SCALAR_OPS: Record<BinaryOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '//': (a, b) => Math.floor(a / b),
  '%': (a, b) => a - b * Math.floor(a / b),
  '**': (a, b) => a ** b,
};

/** Applies `op` elementwise; returns an error text for mismatched shapes or division by zero. */
export function arithmetic(op: BinaryOp, a: number | ConstTensor, b: number | ConstTensor): number | ConstTensor | string {
  const f = SCALAR_OPS[op];
  if ((op === '/' || op === '//' || op === '%') && (typeof b === 'number' ? b === 0 : b.data.some((x) => x === 0))) return 'division by zero';
  const r = combine(f, a, b);
  if (typeof r === 'string') return r;
  return (typeof r === 'number' ? Number.isFinite(r) : r.data.every(Number.isFinite)) ? r : `'${op}' overflows: the result is not a finite number`;
}

function combine(f: (a: number, b: number) => number, a: number | ConstTensor, b: number | ConstTensor): number | ConstTensor | string {
  if (typeof a === 'number' && typeof b === 'number') return f(a, b);
  if (typeof a !== 'number' && typeof b !== 'number' && a.shape.join() !== b.shape.join())
    return `cannot combine constant tensors of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`;
  const shape = typeof a === 'number' ? (b as ConstTensor).shape : a.shape;
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(typeof a === 'number' ? a : a.data[i], typeof b === 'number' ? b : b.data[i]);
  return { shape, data };
}

/** The bare names an expression mentions, without recursion (a superset of the values it uses: op names and symbols too). */
export function namesIn(root: Expr): string[] {
  const names: string[] = [];
  const stack: Expr[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    switch (e.kind) {
      case 'name':
        names.push(e.name);
        break;
      case 'list':
        stack.push(...e.items);
        break;
      case 'call':
        stack.push(...e.args.map((a) => a.value));
        break;
      case 'chain':
        stack.push(e.head, ...e.stages);
        break;
      case 'as':
        stack.push(e.expr);
        break;
      case 'binary':
        stack.push(e.left, e.right);
        break;
      case 'unary':
        stack.push(e.operand);
    }
  }
  return names;
}

// ---- the evaluator ----------------------------------------------------------

type CallExpr = Extract<Expr, { kind: 'call' }>;

/** What an expression evaluates to. `S` is the scope a deferred call is evaluated in later. */
export type Value<S = unknown> =
  | { kind: 'const'; value: ConstValue }
  | { kind: 'tensor'; node: Node }
  | { kind: 'call'; expr: CallExpr; scope: S } // an op, block or train-section call not yet applied
  | { kind: 'name'; name: string; span: Span; candidates: string[] } // an unresolved bare name: a symbol such as `same`, or a typo
  | { kind: 'error' }; // already reported

export const ERROR: Value<never> = { kind: 'error' };

/** A top-level `const`, evaluated on first use. */
export interface ConstEntry {
  decl: Extract<Decl, { kind: 'const' }>;
  value?: ConstValue;
  state: 'pending' | 'active' | 'done';
}

/** The caller's part of evaluation: what is not a constant expression. */
export interface Host<S> {
  /** A value defined in the current model or block body; undefined when the name is not one. */
  local(name: string, span: Span): Value<S> | undefined;
  /** The names defined in the current body, for did-you-mean hints. */
  names(): string[];
  /** Calls, chains and `as`. */
  other(e: Exclude<Expr, { kind: 'number' | 'string' | 'name' | 'list' | 'unary' | 'binary' }>): Value<S>;
}

export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'tensor':
      return `the tensor '${v.node.name}'`;
    case 'const':
      return describeConst(v.value);
    case 'call':
      return `the call ${v.expr.callee}(...)`;
    case 'name':
      return `'${v.name}'`;
    case 'error':
      return 'an error';
  }
}

/**
 * Evaluates constant expressions against a file's top-level constants,
 * reporting every problem as a located diagnostic and returning ERROR for it.
 * Names resolve to the host's local values first, then to top-level
 * constants, then to `true`/`false`; any other name stays a bare name (a
 * symbol such as `same`, or a typo that a later check reports).
 */
export class Evaluator {
  constructor(
    private consts: ReadonlyMap<string, ConstEntry>,
    private report: (d: Diagnostic) => void,
  ) {}

  /** Where only constants may stand (top-level constants, input shapes): calls and chains are reported. */
  readonly constantsOnly: Host<never> = {
    local: () => undefined,
    names: () => [],
    other: (e) => this.fail(messages.notAConstant(e.span, e.kind === 'call' ? `the call ${e.callee}(...)` : 'a layer expression')),
  };

  evaluate<S>(e: Expr, host: Host<S>): Value<S> {
    switch (e.kind) {
      case 'number':
        if (!Number.isFinite(e.value)) return this.fail(messages.constEval(e.span, 'this number is too large: it overflows to Infinity'));
        return { kind: 'const', value: e.value };
      case 'string':
        return { kind: 'const', value: e.value };
      case 'name': {
        const local = host.local(e.name, e.span);
        if (local) return local;
        const global = this.global(e.name);
        if (global === null) return ERROR;
        if (global !== undefined) return { kind: 'const', value: global };
        if (e.name === 'true' || e.name === 'false') return { kind: 'const', value: e.name === 'true' };
        return { kind: 'name', name: e.name, span: e.span, candidates: host.names() };
      }
      case 'list': {
        const items: (number | ConstTensor)[] = [];
        for (const item of e.items) {
          const v = this.constant(this.evaluate(item, host), item.span);
          if (v === undefined) return ERROR;
          if (typeof v !== 'number' && !isTensor(v)) return this.fail(messages.notAConstant(item.span, `${describeConst(v)} in a list of numbers`));
          items.push(v);
        }
        const t = stack(items);
        return typeof t === 'string' ? this.fail(messages.constEval(e.span, t)) : { kind: 'const', value: t };
      }
      case 'unary': {
        const [v] = this.operands(e, [this.evaluate(e.operand, host)], [e.operand.span]);
        if (v === undefined) return ERROR;
        return { kind: 'const', value: e.op === '-' ? (arithmetic('*', v, -1) as number | ConstTensor) : v };
      }
      case 'binary': {
        // `a + b + ... + z` leans left, one level per term: walk its spine with a loop, not recursion.
        const spine: Extract<Expr, { kind: 'binary' }>[] = [];
        let leftmost: Expr = e;
        for (; leftmost.kind === 'binary'; leftmost = leftmost.left) spine.push(leftmost);
        let value: Value<S> = this.evaluate(leftmost, host);
        for (let i = spine.length - 1; i >= 0; i--) value = this.binary(spine[i], value, this.evaluate(spine[i].right, host));
        return value;
      }
      default:
        return host.other(e);
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, left: Value, right: Value): Value<never> {
    const [x, y] = this.operands(e, [left, right], [e.left.span, e.right.span]);
    if (x === undefined || y === undefined) return ERROR;
    const r = arithmetic(e.op, x, y);
    return typeof r === 'string' ? this.fail(messages.constEval(e.span, r)) : { kind: 'const', value: r };
  }

  /** The numbers (or tensors) an arithmetic expression works on; undefined entries were reported. */
  private operands(e: Extract<Expr, { kind: 'unary' | 'binary' }>, values: Value[], spans: Span[]): (number | ConstTensor | undefined)[] {
    if (e.kind === 'binary' && values.some((v) => v.kind === 'tensor')) return this.fail(messages.arithmeticOnTensors(e.span)), [];
    const consts = values.map((v, i) => this.constant(v, spans[i]));
    if (consts.some((c) => c === undefined)) return [];
    if (consts.every((c) => typeof c === 'number' || isTensor(c))) return consts as (number | ConstTensor)[];
    return this.fail(messages.arithmeticOperands(e.span, e.op, consts.map((c) => describeConst(c!)))), [];
  }

  /** A top-level constant's value: undefined when `name` is not one, null when it failed (already reported). */
  global(name: string): ConstValue | undefined | null {
    const entry = this.consts.get(name);
    if (!entry) return undefined;
    if (entry.state === 'active') {
      this.report(messages.cycle(entry.decl.nameSpan, [name, name]));
      return null;
    }
    if (entry.state === 'pending') this.evaluateInOrder(name);
    return entry.value ?? null;
  }

  /**
   * Evaluates `root` and the pending constants it reaches, each after those
   * it uses: a depth-first walk without recursion, evaluating a constant as
   * it leaves it. Evaluating on first use instead recursed once per constant
   * waited on, and `const c0 = c1 + 1` down to c3000 overflowed the stack. A
   * use of a constant still on the walk's path closes a cycle: reported once,
   * with its path, and its constants fail (their users fail silently).
   */
  private evaluateInOrder(root: string): void {
    const pendingUses = (name: string) =>
      namesIn(this.consts.get(name)!.decl.value)
        .reverse() // in source order, so that errors come in the order recursion gave them
        .filter((n) => this.consts.get(n)?.state === 'pending');
    // The walk's path: each constant with the pending constants it uses and how many of them are done.
    const path: { name: string; uses: string[]; next: number }[] = [];
    const onPath = new Set<string>();
    const enter = (name: string) => (path.push({ name, uses: pendingUses(name), next: 0 }), onPath.add(name));
    enter(root);
    while (path.length > 0) {
      const top = path[path.length - 1];
      const next = top.uses[top.next++];
      if (next === undefined) {
        path.pop();
        onPath.delete(top.name);
        const entry = this.consts.get(top.name)!;
        if (entry.state === 'pending') this.evaluateEntry(entry);
      } else if (this.consts.get(next)!.state !== 'pending') {
        continue; // done, or failed in a cycle already reported
      } else if (onPath.has(next)) {
        const cycle = [...path.slice(path.findIndex((p) => p.name === next)).map((p) => p.name), next];
        this.report(messages.cycle(this.consts.get(next)!.decl.nameSpan, cycle.length > 8 ? [...cycle.slice(0, 3), '...', ...cycle.slice(-3)] : cycle));
        for (const n of cycle) this.consts.get(n)!.state = 'done'; // with no value: failed
      } else enter(next);
    }
  }

  private evaluateEntry(entry: ConstEntry): void {
    entry.state = 'active';
    const v = this.evaluate(entry.decl.value, this.constantsOnly);
    entry.value = v.kind === 'const' ? v.value : undefined;
    if (v.kind === 'name') this.report(messages.notAConstant(entry.decl.value.span, describeValue(v)));
    entry.state = 'done';
  }

  /** The constant `v` holds; reports (and returns undefined) when it is not one. */
  constant(v: Value, span: Span): ConstValue | undefined {
    if (v.kind === 'const') return v.value;
    if (v.kind === 'error') return undefined;
    if (v.kind === 'name') return this.unknown(v), undefined;
    return this.report(messages.notAConstant(span, describeValue(v))), undefined;
  }

  /** Reports a bare name as undefined, suggesting a close local or top-level name. */
  unknown(v: { name: string; span: Span; candidates: string[] }): void {
    this.report(messages.unknownName(v.span, v.name, this.suggestion(v)));
  }

  /** A bare name close to a defined one is a typo, even where a symbol could stand: report it. */
  reportTypo(v: Value): void {
    if (v.kind === 'name' && this.suggestion(v)) this.unknown(v);
  }

  private suggestion(v: { name: string; candidates: string[] }): string | undefined {
    return suggest(v.name, [...v.candidates, ...this.consts.keys()]);
  }

  private fail(d: Diagnostic): Value<never> {
    this.report(d);
    return ERROR;
  }
}
