/**
 * The one argument binder: matches a call's arguments to a parameter list,
 * for op calls (the op's AttrSpecs), block calls (the block's parameters) and
 * the calls of a train section (data sources, optimizers).
 *
 * Positional arguments fill the positional parameters in order, skipping those
 * already given by name; named arguments go by name. Every mistake is a
 * located diagnostic, and all of a call's mistakes are reported at once:
 * an unknown argument (with did-you-mean), one given twice, too many
 * positional ones, a missing required one, and a value that does not fit (the
 * parameter's check says why; the binder says where).
 *
 * Also here, in one place: the check of an op attribute against its AttrKind.
 * Evaluating the argument expressions is the caller's job (src/ir/constants.ts).
 */
import { Diagnostic, messages, suggest } from '../diagnostics.js';
import type { Arg, Span } from '../frontend/ast.js';
import { lookupOp } from '../ops/index.js';
import type { AttrKind, AttrSpec, OpDef } from '../ops/op.js';
import { describeValue, Evaluator, isTensor, Value } from './constants.js';
import type { AttrValue, OpCall } from './types.js';

/** One argument as written, with its evaluated value. */
export interface BindArg<V> {
  arg: Arg;
  value: V;
}

/** Why a value does not fit a parameter, as a message once the binder supplies the span, the callee and the parameter. */
export class Mismatch {
  constructor(readonly diagnostic: (span: Span, owner: string, param: string) => Diagnostic) {}
}

/** `owner`'s parameter `param` must be `expected`; it got `found`. */
export const wrongType = (expected: string, found: string): Mismatch => new Mismatch((span, owner, param) => messages.argType(span, owner, param, expected, found));

export interface Param<V, T> {
  name: string;
  /** May be given without its name, in declaration order. */
  positional: boolean;
  /** The value when the argument is not given. Absent: the argument is required, unless `optional`. */
  default?: () => T;
  /** May be left out without a default; it is then absent from the result. */
  optional?: boolean;
  /**
   * Converts a given value, or says why it does not fit. Undefined: the value
   * was already reported (an error upstream, an undefined name).
   */
  check(value: V, span: Span): T | Mismatch | undefined;
}

export interface Bound<T> {
  /** In parameter order: given values, then defaults. */
  values: Record<string, T>;
  /** Where each given argument's value is written (for later errors about it). */
  spans: Record<string, Span>;
}

/** Binds `args` of the call `owner(...)` at `callSpan` to `params`; undefined when anything was reported. */
export function bind<V, T>(owner: string, params: readonly Param<V, T>[], args: readonly BindArg<V>[], callSpan: Span, report: (d: Diagnostic) => void): Bound<T> | undefined {
  const given = new Map<string, T>();
  const spans: Record<string, Span> = Object.create(null);
  const named = new Set<string>(); // parameters given, well or not
  const meant = new Set<string>(); // the suggestions for misspelt names: their "missing argument" error would only repeat the misspelling's
  const positional = params.filter((p) => p.positional);
  let nextPositional = 0;
  let ok = true;
  const fail = (d: Diagnostic) => {
    report(d);
    ok = false;
  };
  for (const { arg, value } of args) {
    let param: Param<V, T> | undefined;
    if (arg.name !== undefined) {
      param = params.find((p) => p.name === arg.name);
      if (!param) {
        const names = params.map((p) => p.name);
        const suggestion = suggest(arg.name, names);
        fail(messages.unknownArg(arg.nameSpan ?? arg.span, owner, arg.name, names, suggestion));
        if (suggestion) meant.add(suggestion);
        continue;
      }
    } else {
      while (nextPositional < positional.length && named.has(positional[nextPositional].name)) nextPositional++;
      param = positional[nextPositional++];
      if (!param) {
        fail(messages.tooManyArgs(arg.span, owner, positional.length));
        continue;
      }
    }
    if (named.has(param.name)) {
      fail(messages.duplicateArg(arg.span, owner, param.name));
      continue;
    }
    named.add(param.name);
    const checked = param.check(value, arg.value.span);
    if (checked instanceof Mismatch) fail(checked.diagnostic(arg.value.span, owner, param.name));
    else if (checked === undefined) ok = false;
    else {
      given.set(param.name, checked);
      spans[param.name] = arg.value.span;
    }
  }
  const values: Record<string, T> = Object.create(null);
  for (const p of params) {
    if (given.has(p.name)) values[p.name] = given.get(p.name)!;
    else if (named.has(p.name)) continue; // given but wrong, already reported
    else if (p.default) values[p.name] = p.default();
    else if (!p.optional && !meant.has(p.name)) fail(messages.missingArg(callSpan, owner, p.name));
  }
  return ok ? { values, spans } : undefined;
}

// ---- op attributes -------------------------------------------------------------

/**
 * The binder's parameters for an op's AttrSpecs. `nested` binds the call given
 * for an 'op' attribute (e.g. the lstm(64) of bidirectional(lstm(64))).
 */
export function attrParams<S>(specs: readonly AttrSpec[], ev: Evaluator, nested: (op: OpDef, call: Extract<Value<S>, { kind: 'call' }>) => OpCall | undefined): Param<Value<S>, AttrValue>[] {
  return specs.map((spec) => ({
    name: spec.name,
    positional: spec.positional ?? false,
    optional: spec.optional,
    default: spec.default === undefined ? undefined : () => spec.default!,
    check: (value, span) => checkAttr(spec.type, value, span, ev, nested),
  }));
}

/** Converts one argument to its AttrKind, or says why it does not fit. */
export function checkAttr<S>(
  t: AttrKind,
  value: Value<S>,
  span: Span,
  ev: Evaluator,
  nested: (op: OpDef, call: Extract<Value<S>, { kind: 'call' }>) => OpCall | undefined,
): AttrValue | Mismatch | undefined {
  const bad = (expected: string) => wrongType(expected, describeValue(value));
  const fail = (diagnostic: (span: Span, owner: string, param: string) => Diagnostic) => new Mismatch(diagnostic);
  if (t.kind === 'op') {
    const inner = value.kind === 'call' ? lookupOp(value.expr.callee) : undefined;
    if (value.kind !== 'call' || !inner || inner.internal) return bad('an op call such as lstm(64)');
    return nested(inner, value);
  }
  // The builder has made the values the node's inputs already (build.ts, valueArgs): what arrives is their count.
  if (t.kind === 'values') return value.kind === 'error' ? undefined : value.kind === 'const' && typeof value.value === 'number' ? value.value : bad('a list of values such as [h, c]');
  if (t.kind === 'symbol') {
    const sym = value.kind === 'name' ? value.name : value.kind === 'const' && typeof value.value === 'string' ? value.value : undefined;
    if (sym === undefined) return bad(`one of ${t.choices.map((c) => `'${c}'`).join(', ')}`);
    if (!t.choices.includes(sym)) return fail((span, owner, param) => messages.argChoice(span, owner, param, sym, [...t.choices], suggest(sym, t.choices)));
    return { symbol: sym };
  }
  if (t.kind === 'layer') {
    // The layer that made the value: its op and arguments, and the name its weights go by.
    if (value.kind !== 'tensor' || value.node.op === 'input') return value.kind === 'error' ? undefined : bad("a layer, by its 'as' name or its output");
    const node = value.node;
    return { call: node.op, attrs: { ...node.attrs, layer: node.shared?.layer ?? node.name }, span: node.span } satisfies OpCall;
  }
  const c = ev.constant(value, span);
  if (c === undefined) return undefined;
  // Whole numbers are exact doubles: 2^53 and above are refused, not rounded (9007199254740993 reads as ...992).
  const whole = Number.isSafeInteger;
  const wholes = (xs: ArrayLike<number>, allowMinusOne = false) => Array.from(xs).every((x) => whole(x) && (x > 0 || (allowMinusOne && x === -1)));
  const notInteger = (x: number) => fail((span, owner, param) => (Number.isInteger(x) ? messages.wholeTooLarge(span, owner, param, x) : messages.notInteger(span, owner, param, x)));
  const notPositive = (x: number) => fail((span, owner, param) => messages.notPositive(span, owner, param, x));
  switch (t.kind) {
    case 'bool':
      return typeof c === 'boolean' ? c : bad('true or false');
    case 'number': {
      if (typeof c !== 'number') return bad('a number');
      const min = t.min ?? -Infinity, max = t.max ?? Infinity;
      if (c < min || c > max || (t.exclusiveMax && c === max))
        return fail((span, owner, param) => messages.outOfRange(span, owner, param, c, `in [${min}, ${max}${t.exclusiveMax ? ')' : ']'}`));
      return c;
    }
    case 'int': {
      if (typeof c !== 'number') return bad('a whole number');
      if (!whole(c)) return notInteger(c);
      if (c < (t.min ?? 1)) return notPositive(c);
      return c;
    }
    case 'ints':
    case 'kernel': {
      // 'ints' with min 0 also takes zeros (conv2d_transpose's output_padding).
      const min = t.kind === 'ints' ? (t.min ?? 1) : 1;
      const expected = min === 0 ? 'a non-negative whole number or a list of them' : 'a positive whole number or a list of them';
      if (typeof c === 'number') {
        if (!whole(c)) return notInteger(c);
        if (c < min) return min === 0 ? bad(expected) : notPositive(c);
        return c;
      }
      if (!isTensor(c)) return bad(t.kind === 'kernel' ? 'a size or a constant tensor' : expected);
      if (t.kind === 'kernel') return c;
      if (c.shape.length !== 1 || !Array.from(c.data).every((x) => whole(x) && x >= min)) return bad(expected);
      return Array.from(c.data);
    }
    case 'margins': {
      // A number for every side, a list per axis, or [before, after] pairs per axis.
      const nonNegative = (xs: ArrayLike<number>) => Array.from(xs).every((x) => whole(x) && x >= 0);
      const expected = 'a non-negative whole number, a list of them per axis, or [before, after] pairs';
      if (typeof c === 'number') return nonNegative([c]) ? c : bad(expected);
      if (!isTensor(c) || !nonNegative(c.data)) return bad(expected);
      if (c.shape.length === 1) return Array.from(c.data);
      return c.shape.length === 2 && c.shape[1] === 2 ? c : bad(expected);
    }
    case 'shape': {
      const list = typeof c === 'number' ? [c] : isTensor(c) && c.shape.length === 1 ? Array.from(c.data) : undefined;
      if (!list || !wholes(list, true) || list.filter((x) => x === -1).length > 1) return bad('a list of positive whole numbers (one may be -1)');
      return list;
    }
  }
}
