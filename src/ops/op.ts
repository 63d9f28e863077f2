/**
 * The contract every op fulfils, on one screen per op (src/ops/<op>.ts): its
 * arguments, its shape rule, its parameters, its FLOPs and its label.
 *
 * The shape rule runs once per node (src/ir/infer.ts): it checks the inputs,
 * turns the raw arguments into the op's typed, normalised attribute record
 * (conv: window, stride, dilation, padding, fixed weights, channels) and
 * returns it with the output type. The record is stored on the node
 * (`Node.resolved`); parameters, FLOPs, labels and every backend read it and
 * never decode raw arguments again.
 *
 * Shapes seen by an op include the batch dimension first (`null`).
 * FLOPs are 2 x multiply-accumulates per example (elementwise work counts 0).
 * Parameter shapes and initialisers follow Keras's defaults.
 */
import { shapeRules, type ShapeMistake } from '../diagnostics.js';
import type { AttrValue, ConstTensor, Dim, OpCall, TensorType } from '../ir/types.js';
import type { InitializerName } from '../runtime/init.js';

export type AttrKind =
  | { kind: 'int'; min?: number } // a whole number (min defaults to 1)
  | { kind: 'number'; min?: number; max?: number; exclusiveMax?: boolean }
  | { kind: 'bool' }
  | { kind: 'symbol'; choices: readonly string[] }
  | { kind: 'ints'; min?: 0 | 1 } // a whole number >= min (default 1), or a list of them (one per spatial dimension)
  | { kind: 'kernel' } // like 'ints' (a size), or a constant tensor of fixed weights
  | { kind: 'shape' } // a list of whole numbers, one of which may be -1
  | { kind: 'margins' } // non-negative whole numbers: one for every side, one per spatial axis, or [[before, after], ...] per axis
  | { kind: 'op' } // an op call to wrap, e.g. lstm(64)
  | { kind: 'layer' } // another layer, by its `as` name or its value (`tie = wte`): bound to an OpCall of that layer's op and attributes, with `layer` its name
  | { kind: 'values' }; // a list of graph values, e.g. initial_state = [h, c]: the builder appends them to the node's inputs and the attribute holds how many

export interface AttrSpec {
  name: string;
  type: AttrKind;
  /** Absent: the argument is required. */
  default?: AttrValue;
  /** May be given without its name, in declaration order. */
  positional?: boolean;
  /** May be left out without a default; the op then derives it (e.g. conv filters from a fixed kernel). */
  optional?: boolean;
  doc: string;
}

/** A parameter's initialiser: the runtime's names (runtime/init.ts). */
export type InitKind = InitializerName;

/**
 * One tensor a layer owns, stored in the weights file as `<layer>.<name>`.
 * - a trainable weight (trainable: true): the optimizer updates it from its gradient;
 * - layer state (state: true, not trainable): a training step updates it from
 *   the batch (batch normalization's moving statistics), inference reads it;
 * - a fixed weight written in the source (value set): neither.
 */
export interface ParamSpec {
  /** Local name; the weights file stores `<layer>.<name>`. */
  name: string;
  /** Stored under this layer's name instead of its own: the parameters of a batchnorm the optimizer folded into a layer keep the batchnorm's. */
  layer?: string;
  shape: number[];
  init: InitKind;
  trainable: boolean;
  /** Updated by training steps from the batch, not by gradients (Keras's non-trainable variables). */
  state?: boolean;
  /** Fixed weights written in the source (a constant kernel); not initialised or trained. */
  value?: ConstTensor;
  /**
   * Another layer's weight, read here too (`layer` names it): a head tied to
   * an embedding, a second call of a shared layer. It is one tensor: stored,
   * initialised and counted with its own layer, and the gradients of every
   * use add up in it.
   */
  shared?: boolean;
}

/** Diagram colour group. */
export type OpFamily = 'io' | 'core' | 'conv' | 'pool' | 'activation' | 'recurrent' | 'attention' | 'norm' | 'merge' | 'shape' | 'regularization' | 'embedding';

/** What an op's shape rule returns: the output type and the resolved attributes. */
export interface Resolved<A> {
  type: TensorType;
  attrs: A;
}

/**
 * One op. `A` is its resolved attribute record, computed once by `infer`;
 * `params`, `flops` and `label` are functions of it alone.
 */
export interface OpDef<A = unknown> {
  name: string;
  family: OpFamily;
  doc: string;
  /** How many tensor inputs, and what they are called (for messages). */
  inputs: { min: number; max: number; names: readonly string[] };
  attrs: readonly AttrSpec[];
  /** Takes a `mask =` argument naming a model input (attention), checked by the shape rule through OpContext.maskArg. */
  maskArg?: string;
  /** Accepts int32 inputs (only embedding and the graph's own input nodes). */
  acceptsInt?: boolean;
  /** Not callable from .dl source (input, constant, fused nodes made by passes). */
  internal?: boolean;
  /** The shape rule: the output type and the resolved attributes; calls ctx.fail(shapeRules.<mistake>(...)) when the inputs do not fit. */
  infer(ctx: OpContext): Resolved<A>;
  params?(a: A): ParamSpec[];
  flops?(a: A): number;
  /** A short label of the key attributes for diagrams and summaries, e.g. `32 3x3 same`. */
  label?(a: A): string;
}

/** Raised by OpContext.fail; the shape pass turns it into a located diagnostic. */
export class OpError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Typed, checked access to one node's inputs and raw arguments, for shape
 * rules only. Arguments were validated against the op's AttrSpecs when bound.
 */
export class OpContext {
  constructor(
    readonly op: OpDef,
    readonly inputs: readonly TensorType[],
    readonly attrs: Readonly<Record<string, AttrValue>>,
    /** Per input, which axes are dimension variables (seen here at a probe size, src/ir/infer.ts). */
    readonly symbolicAxes: readonly (readonly boolean[])[] = [],
    /** The type of the op's `mask =` argument, when given (ops with `maskArg`). */
    readonly maskArg?: TensorType,
  ) {}

  /** The input's axis is a dimension variable: its size is known only at run time, so a bound on it is checked then. */
  isSymbolic(input: number, axis: number): boolean {
    return this.symbolicAxes[input]?.[axis] ?? false;
  }

  /** Reports one of the mistakes in diagnostics.ts's `shapeRules`. */
  fail(mistake: ShapeMistake): never {
    throw new OpError(mistake.message, mistake.hint);
  }
  get input(): TensorType {
    return this.inputs[0];
  }
  int(name: string): number {
    return this.attrs[name] as number;
  }
  /** An optional whole-number argument (undefined when left out). */
  maybeInt(name: string): number | undefined {
    return this.attrs[name] as number | undefined;
  }
  num(name: string): number {
    return this.attrs[name] as number;
  }
  bool(name: string): boolean {
    return this.attrs[name] as boolean;
  }
  sym<S extends string = string>(name: string): S {
    return (this.attrs[name] as { symbol: S }).symbol;
  }
  /** A scalar repeated `rank` times, or a list of exactly `rank` entries. */
  ints(name: string, rank: number): number[] {
    const v = this.attrs[name];
    if (typeof v === 'number') return Array(rank).fill(v);
    const list = v as number[];
    if (list.length !== rank) this.fail(shapeRules.listLength(name, list.length, rank));
    return list;
  }
  /** A 'margins' attribute as [before, after] for each of `rank` spatial axes (Keras's padding and cropping tuples). */
  margins(name: string, rank: number): [number, number][] {
    const v = this.attrs[name];
    if (typeof v === 'number') return Array.from({ length: rank }, () => [v, v]);
    if (Array.isArray(v)) {
      if (v.length !== rank) this.fail(shapeRules.listLength(name, v.length, rank));
      return (v as number[]).map((m) => [m, m]);
    }
    const pairs = v as ConstTensor;
    if (pairs.shape[0] !== rank) this.fail(shapeRules.listLength(name, pairs.shape[0], rank));
    return Array.from({ length: rank }, (_, i) => [pairs.data[2 * i], pairs.data[2 * i + 1]]);
  }
  /** A fixed-weights tensor given for a 'kernel' attribute, if any. */
  fixed(name: string): ConstTensor | undefined {
    const v = this.attrs[name];
    return v && typeof v === 'object' && 'data' in v ? v : undefined;
  }
  call(name: string): OpCall {
    return this.attrs[name] as OpCall;
  }
  /** Requires the input's per-example rank to be one of `ranks`; otherwise reports `mistake` of the input's per-example shape. */
  rank(ranks: number[], mistake: (got: readonly Dim[]) => ShapeMistake): number {
    const r = this.input.shape.length - 1;
    if (!ranks.includes(r)) this.fail(mistake(this.input.shape.slice(1)));
    return r;
  }
}

export const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
/** Per-example dims as numbers (all but the batch dimension are static). */
export const dims = (t: TensorType): number[] => t.shape.slice(1) as number[];
export const batched = (shape: number[], dtype: TensorType['dtype'] = 'float32'): TensorType => ({ shape: [null, ...shape], dtype });

export { windowAxis, type Padding, type WindowAxis } from '../runtime/window.js';

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}
