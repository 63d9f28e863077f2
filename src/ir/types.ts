/**
 * The graph IR: a typed dataflow graph of nodes in topological order, each
 * with one value. A node with several results (a recurrent layer with
 * return_state: its output and its final states) has a tuple type
 * (`TensorType.parts`); `result` nodes (src/ops/result.ts) select one part,
 * and nothing else reads a tuple. Every value has a static shape whose first dimension is the symbolic
 * batch (`null`); all other dimensions are known positive integers.
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
export type Dim = number | null;

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
