/**
 * The graph IR: a typed dataflow graph of nodes in topological order, each
 * with one value. A node with several results (a recurrent layer with
 * return_state: its output and its final states) has a tuple type
 * (`TensorType.parts`); `result` nodes (src/ops/result.ts) select one part,
 * and nothing else reads a tuple. Every value has a static shape whose first dimension is the symbolic
 * batch (`null`); every other dimension is a known positive integer or a
 * dimension variable (a string): a name the source gave (`input x: [T, 64]`),
 * or an anonymous `None`, which is distinct from every other (`None$1`,
 * `None$2`: `$` cannot occur in a source name, and also keeps the name a
 * JavaScript identifier for the tfjs emitter). Ops never see variables: shape
 * inference runs their rules on probe sizes (infer.ts).
 * This file holds types only; building (build.ts), shape inference and
 * attribute resolution (infer.ts) and printing (print.ts) live beside it.
 * There is no separate IR verifier: the shape pass is the check.
 */
import type { Span } from '../frontend/ast.js';
import type { AttrsOf, OpName } from '../ops/index.js';

export type DType = 'float32' | 'int32';

/** A static tensor type. `shape[0]` is the batch dimension (`null`) for graph values. */
export interface TensorType {
  shape: Dim[];
  dtype: DType;
  /**
   * Set on a tuple: the types of its results, in order. `shape` is then
   * [null, n] with n the per-example elements of all parts together, the
   * size of the buffer the interpreter keeps them in (part after part, each
   * batch-major: result.ts's partRanges), so the memory plan needs no case.
   */
  parts?: TensorType[];
}
export type Dim = number | null | string;

/** How a dimension variable reads in messages, summaries and diagrams: an anonymous one as Keras prints it, `None`. */
export const dimName = (d: string): string => (d.includes('$') ? 'None' : d);
/** The dimension variables of a shape, in order of appearance. */
export const dimVars = (shape: readonly Dim[]): string[] => shape.filter((d): d is string => typeof d === 'string');

/** A constant tensor, row-major, as folded by the front end or the optimizer. */
export interface ConstTensor {
  shape: number[];
  data: Float64Array;
}

/** Attribute values after constant evaluation. Symbols are bare identifiers such as `same`. */
export type AttrValue =
  | number
  | boolean
  | string
  | { symbol: string }
  | number[]
  | ConstTensor
  | OpCall;

/** A not-yet-applied op or block call, the argument of wrappers such as `bidirectional(lstm(64))`. */
export interface OpCall {
  call: string;
  attrs: Record<string, AttrValue>;
  span: Span;
}

/** One frame of the block-inlining path: which block call produced a node. */
export interface BlockFrame {
  block: string;
  /** The instance's unique name, e.g. `residual_1`. */
  instance: string;
  /** The call as written, e.g. `residual(16)`, for diagram titles. */
  label: string;
  span: Span;
  /** Set when the instance came from `repeat(n, ...)`: its index and the count. */
  repeat?: { index: number; count: number; group: string };
}

export interface Node {
  id: number;
  /** Unique layer name (Keras style: `conv2d`, `conv2d_1`, or the `as` name). */
  name: string;
  op: OpName;
  inputs: Node[];
  /** The arguments as written and bound (constants evaluated, defaults filled in). */
  attrs: Record<string, AttrValue>;
  /**
   * The op's typed attribute record (`AttrsOf<op>`), set with `type` by shape
   * inference (infer.ts); what every backend reads. Read it through `NodeOf`.
   */
  resolved: unknown;
  type: TensorType;
  span: Span;
  blockPath: BlockFrame[];
  /**
   * Set when the node's inputs have dimension variables: the variables and
   * the op's resolved records at each probe (infer.ts), from which FLOPs are
   * a polynomial in the variables. `resolved` then holds the record with each
   * number that follows a variable replaced by the variable's name.
   */
  symbolic?: { vars: string[]; probes: number[][]; records: unknown[] };
  /**
   * Set on every call of a layer applied more than once (Keras: one layer
   * object called on several inputs): `layer` is the layer's name, which its
   * first call has as node name, and `use` counts the calls from 0. Calls
   * after the first read the first's weights (infer.ts's paramsOf); `at` is
   * where such a call is written (inside a block, the node's own span is its
   * line in the block).
   */
  shared?: { layer: string; use: number; at?: Span };
  /**
   * Keras's padding mask of this value (ir/mask.ts sets it with the type):
   * step t of example b is real when every listed model input is nonzero at
   * [b, t]; absent, every step is real. A reference, not a tensor node: the
   * layers that read a mask compute it from these inputs at run time, so a
   * mask costs no node, no weight and no memory in graphs that do not use it.
   */
  mask?: Node[];
  /** attention's `mask =` argument: a model input, [T, S] (Keras's attention_mask) or [S] (key padding), nonzero = attend. */
  maskArg?: Node;
}

/** A node whose op is known to be `K`, with its resolved attributes typed. */
export type NodeOf<K extends OpName> = Node & { op: K; resolved: AttrsOf<K> };

export interface GraphOutput {
  name: string;
  node: Node;
}

export interface Graph {
  name: string;
  /** Nodes in topological order; inputs are nodes with op `input`. */
  nodes: Node[];
  inputs: Node[];
  outputs: GraphOutput[];
  span: Span;
}
