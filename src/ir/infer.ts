/**
 * Shape inference and attribute resolution: one pass over the nodes in
 * topological order calling each op's shape rule, which stores the node's
 * output type and its resolved attribute record (`Node.resolved`). A failing
 * node reports one located diagnostic naming the op and the shapes; nodes
 * downstream of it are skipped, not reported again. A tuple (a layer with
 * return_state) is read only by `result` nodes, and a destructuring mistake
 * is reported once per tuple, under the tuple's op.
 * Also computes each layer's parameters and FLOPs for summaries.
 *
 * Dimension variables (`input x: [T, 64]`) need nothing from the ops: a node
 * whose inputs have variables runs its op's rule at several probe sizes, each
 * variable a different large prime at each probe, and reads the answers back:
 *   - an output dimension equal at every probe is that number; one equal to
 *     the variable V's size at every probe is V; any other (T - 2, 64 T, T / 2)
 *     is the located error "a symbolic dimension used where a fixed one is
 *     needed" — so flatten over T, conv with padding = valid along T, strided
 *     pools and concatenating T with S are refused, and conv or pool with
 *     padding = same and stride = 1 keep T;
 *   - parameter shapes must be equal at every probe (dense over a T axis is refused);
 *   - an op's own mistake at a probe is reported with the variables' names
 *     written back for the probe sizes ("[T, 64] and [S, 64]");
 *   - FLOPs are the polynomial in the variables (degree <= 3) that fits the
 *     probes, checked on one probe more than the fit needs.
 * At run time a graph with variables is specialized to the sizes of its inputs
 * (`specialize`), so the backends that execute it see plain numbers.
 */
import { Diagnostic, lineCol, messages, shapeRules } from '../diagnostics.js';
import { lookupOp } from '../ops/index.js';
import { OpContext, OpDef, OpError, ParamSpec, product, type Resolved } from '../ops/op.js';
import { tupleType } from '../ops/result.js';
import { outputMask, remapMasks } from './mask.js';
import { dimName, dimVars, type Dim, type Graph, type Node, type TensorType } from './types.js';

/** A type's dimension variables, a tuple's from its parts. */
const typeVars = (t: TensorType): string[] => (t.parts ? t.parts.flatMap(typeVars) : dimVars(t.shape));

const opOf = (node: Node): OpDef => lookupOp(node.op)!;

/**
 * Runs `node`'s shape rule on its inputs' types, storing its type, resolved
 * attributes and padding mask (ir/mask.ts); throws OpError when the inputs do
 * not fit. Passes call it for the nodes they make.
 */
export function resolveNode(node: Node): Node {
  const op = opOf(node);
  // attention's `mask =` input is typed like an input: its variables are probed with the others.
  const vars = [...new Set([...node.inputs, ...(node.maskArg ? [node.maskArg] : [])].flatMap((n) => typeVars(n.type)))];
  if (vars.length === 0) {
    const { type, attrs } = op.infer(new OpContext(op, node.inputs.map((n) => n.type), node.attrs, [], node.maskArg?.type));
    checkSizes(type, op.params?.(attrs) ?? []);
    node.type = type;
    node.resolved = attrs;
    node.mask = outputMask(node);
    delete node.symbolic;
    return node;
  }
  const probes = probeSizes(vars.length);
  const axes = node.inputs.map((n) => n.type.shape.map((d) => typeof d === 'string'));
  const results: Resolved<unknown>[] = probes.map((sizes) => {
    const at = (t: TensorType): TensorType => ({
      ...t,
      shape: t.shape.map((d) => (typeof d === 'string' ? sizes[vars.indexOf(d)] : d)),
      ...(t.parts && { parts: t.parts.map(at) }),
    });
    try {
      const r = op.infer(new OpContext(op, node.inputs.map((n) => at(n.type)), node.attrs, axes, node.maskArg && at(node.maskArg.type)));
      checkSizes(r.type, op.params?.(r.attrs) ?? []);
      return r;
    } catch (e) {
      if (!(e instanceof OpError)) throw e;
      throw named(e, vars, sizes);
    }
  });
  const names = vars.map(dimName);
  const dependsOnVariable = (what: string, depends: number[][]): never => {
    const used = vars.filter((_, i) => depends.some((xs) => xs.some((x, p) => x !== xs[0] && probes[p][i] !== probes[0][i])));
    const m = shapeRules.symbolicDim(what, [...new Set((used.length > 0 ? used : vars).map(dimName))], op.family === 'conv' || op.family === 'pool');
    throw new OpError(m.message, m.hint);
  };
  // Output dimensions: a number, a variable, or the error; a tuple's for each of its parts.
  const shapeAt = (typeOf: (r: Resolved<unknown>) => TensorType): Dim[] => {
    const ranks = new Set(results.map((r) => typeOf(r).shape.length));
    if (ranks.size > 1) dependsOnVariable("the output's rank", []);
    return typeOf(results[0]).shape.map((_, axis) => {
      if (axis === 0) return null;
      const xs = results.map((r) => typeOf(r).shape[axis] as number);
      const v = follows(xs, vars, probes);
      if (v === undefined) dependsOnVariable(`axis ${axis} of the output (${names.map((n, i) => `${n} = ${probes[0][i]}`).join(', ')} gives ${xs[0]})`, [xs]);
      return v!;
    });
  };
  const parts = results[0].type.parts?.map((part, i) => ({ ...part, shape: shapeAt((r) => r.type.parts![i]) }));
  // Parameters: the same shapes at every probe.
  const shapesOf = (r: Resolved<unknown>) => (op.params?.(r.attrs) ?? []).map((p) => `${p.name} [${p.shape.join(', ')}]`);
  const first = shapesOf(results[0]);
  for (const r of results.slice(1)) {
    const other = shapesOf(r);
    const i = first.findIndex((p, k) => p !== other[k]);
    if (i >= 0 || other.length !== first.length) dependsOnVariable(`the shape of its weight ${named(new OpError(first[Math.max(i, 0)] ?? other[0]), vars, probes[0]).message}`, []);
  }
  node.type = parts ? tupleType(parts) : { shape: shapeAt((r) => r.type), dtype: results[0].type.dtype };
  node.resolved = symbolize(results.map((r) => r.attrs), vars, probes);
  node.symbolic = { vars, probes, records: results.map((r) => r.attrs) };
  node.mask = outputMask(node);
  return node;
}

/**
 * Every count must be exact in a double: an output (per example, a tuple's
 * parts each) or a weight of 2^53 values or more is an error at this node,
 * since nothing downstream (the memory plan, the summary, the emitters) could
 * count it, let alone allocate it.
 */
function checkSizes(type: TensorType, params: readonly ParamSpec[]): void {
  const tooLarge = (what: string, shape: readonly number[]) => {
    if (shape.every((n) => Number.isSafeInteger(n)) && Number.isSafeInteger(product(shape))) return;
    const m = shapeRules.tooLarge(what, shape);
    throw new OpError(m.message, m.hint);
  };
  for (const part of type.parts ?? [type]) tooLarge('its output', part.shape.slice(1).filter((d): d is number => typeof d === 'number'));
  for (const p of params) tooLarge(`its weight '${p.name}'`, p.shape);
}

/** Probe sizes for `k` variables: one row per probe, enough rows to fit and check a cubic in k variables. */
function probeSizes(k: number): number[][] {
  const rows = monomials(k, 3).length + 1;
  return Array.from({ length: rows }, (_, p) => Array.from({ length: k }, (_, i) => PRIMES[(p * k + i) * 7]));
}
/** Primes from 1009 on: sizes no op's argument or constant is likely to equal, spread out for the FLOPs fit. */
const PRIMES: number[] = (() => {
  const out: number[] = [];
  for (let n = 1009; out.length < 4000; n += 2) if (out.every((p) => p * p > n || n % p !== 0) && [2, 3, 5, 7].every((p) => n % p !== 0)) out.push(n);
  return out;
})();

/** The variable or number that `xs` (one value per probe) stays: equal at every probe, or a variable's size at every probe. */
function follows(xs: number[], vars: string[], probes: number[][]): Dim | undefined {
  if (xs.every((x) => x === xs[0])) return xs[0];
  const i = vars.findIndex((_, i) => xs.every((x, p) => x === probes[p][i]));
  return i < 0 ? undefined : vars[i];
}

/** An op's mistake at one probe, with the probe sizes written as the variables' names; a mistake between anonymous dimensions says to name them. */
function named(e: OpError, vars: string[], sizes: number[]): OpError {
  let message = e.message;
  const seen: string[] = [];
  sizes.forEach((size, i) => {
    const pattern = new RegExp(`\\b${size}\\b`, 'g');
    if (pattern.test(message)) seen.push(vars[i]);
    message = message.replace(pattern, dimName(vars[i]));
  });
  return new OpError(message, seen.some((v) => dimName(v) !== v) ? shapeRules.anonymousHint : e.hint);
}

/**
 * The resolved record of a node with variables, for labels, parameters and
 * emitters: each number that is equal at every probe stays, each that follows
 * a variable becomes the variable's name; any other number (an internal size
 * such as T x heads) keeps its first probe's value and its path is listed in
 * `unfixed`, for a backend that cannot work with it to refuse the node.
 */
function symbolize(records: unknown[], vars: string[], probes: number[][], unfixed: string[] = [], path = ''): unknown {
  const [r] = records;
  if (typeof r === 'number') {
    const v = follows(records as number[], vars, probes);
    if (v === undefined) unfixed.push(path);
    return v ?? r;
  }
  if (Array.isArray(r)) return r.map((_, i) => symbolize(records.map((x) => (x as unknown[])[i]), vars, probes, unfixed, `${path}[${i}]`));
  if (r !== null && typeof r === 'object' && Object.getPrototypeOf(r) === Object.prototype)
    return Object.fromEntries(Object.keys(r).map((k) => [k, symbolize(records.map((x) => (x as Record<string, unknown>)[k]), vars, probes, unfixed, `${path}.${k}`)]));
  return r;
}

/** The paths of a symbolic node's resolved record that are neither fixed nor a variable (see `symbolize`). */
export function unfixedAttrs(node: Node): string[] {
  if (!node.symbolic) return [];
  const unfixed: string[] = [];
  symbolize(node.symbolic.records, node.symbolic.vars, node.symbolic.probes, unfixed);
  return unfixed;
}

/** Types every node in place; returns false if any node failed. */
export function inferShapes(graph: Graph, diagnostics: Diagnostic[]): boolean {
  const failed = new Set<Node>();
  const firstUse = new Map<string, Node>(); // a shared layer's first call, whose weights the later ones read
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    if (node.inputs.some((i) => failed.has(i))) {
      failed.add(node);
      continue;
    }
    const tuple = node.op === 'result' ? undefined : node.inputs.find((i) => i.type.parts);
    if (tuple) {
      diagnostics.push(messages.tupleAsValue(node.span, tuple.op, tuple.type.parts!.length));
      failed.add(node);
      continue;
    }
    const intInput = node.inputs.find((i) => i.type.dtype === 'int32');
    if (intInput && !opOf(node).acceptsInt) {
      diagnostics.push(messages.intInput(node.span, node.op));
      failed.add(node);
      continue;
    }
    try {
      resolveNode(node);
      if (node.shared?.use === 0) firstUse.set(node.name, node);
      const owner = node.shared && node.shared.use > 0 ? firstUse.get(node.shared.layer) : undefined;
      if (owner) sameWeights(owner, node);
    } catch (e) {
      if (!(e instanceof OpError)) throw e;
      const unpacked = node.op === 'result' ? node.inputs[0] : undefined;
      if (!unpacked || !failed.has(unpacked)) diagnostics.push(messages.shape(node.shared?.at ?? node.span, unpacked?.op ?? node.op, e.message, e.hint));
      if (unpacked) failed.add(unpacked); // its other names fail silently
      failed.add(node);
    }
  }
  for (const out of graph.outputs) {
    if (!out.node.type.parts) continue;
    diagnostics.push(messages.tupleAsValue(out.node.span, out.node.op, out.node.type.parts.length));
    failed.add(out.node);
  }
  return failed.size === 0;
}

/** A shared layer's later call needs weights of the shapes its first call made. */
function sameWeights(owner: Node, node: Node): void {
  const theirs = opOf(owner).params?.(owner.resolved) ?? [];
  const ours = opOf(node).params?.(node.resolved) ?? [];
  ours.forEach((p, i) => {
    const q = theirs[i];
    if (q && q.name === p.name && q.shape.join() === p.shape.join()) return;
    const m = shapeRules.sharedWeights(owner.name, p.name, q?.shape ?? [], p.shape, lineCol(owner.span).line);
    throw new OpError(m.message, m.hint);
  });
}

export interface LayerStats {
  node: Node;
  params: ParamSpec[];
  paramCount: number;
  trainableCount: number;
  /** FLOPs per example; NaN when they depend on a dimension variable (then read flopsTerms). */
  flops: number;
  /** FLOPs per example as a polynomial in the dimension variables (only the constant '' for a node without any). */
  flopsTerms: Poly;
}

/**
 * The parameters (weights, state and fixed kernels) of a typed node. A shared
 * layer's later calls (Node.shared) read its first call's weights: theirs are
 * marked shared, under the layer's name.
 */
export function paramsOf(node: Node): ParamSpec[] {
  const specs = opOf(node).params?.(node.resolved) ?? [];
  if (!node.shared || node.shared.use === 0) return specs;
  const layer = node.shared.layer;
  return specs.map((p) => (p.value || p.layer !== undefined ? p : { ...p, layer, shared: true }));
}

/** Parameters and FLOPs of a typed node; another layer's weights that it reads (ParamSpec.shared) count with that layer. */
export function layerStats(node: Node): LayerStats {
  const params = paramsOf(node);
  const count = (ps: ParamSpec[]) => ps.reduce((sum, p) => sum + (p.shared ? 0 : product(p.shape)), 0);
  const terms = flopsOf(node);
  return {
    node,
    params,
    paramCount: count(params),
    trainableCount: count(params.filter((p) => p.trainable)),
    flops: polyValue(terms),
    flopsTerms: terms,
  };
}

/**
 * A polynomial with real coefficients, keyed by monomial: '' the constant,
 * 'T' , 'T^2', 'S*T' (variables sorted, each with its power when above one).
 */
export type Poly = Record<string, number>;

/** The monomials of total degree <= `degree` in k variables, as power lists. */
function monomials(k: number, degree: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (let d = 0; d <= degree; d++) for (const rest of monomials(k - 1, degree - d)) out.push([d, ...rest]);
  return out.sort((a, b) => a.reduce((x, y) => x + y, 0) - b.reduce((x, y) => x + y, 0));
}
const monomialKey = (vars: string[], powers: number[]) =>
  vars
    .map((v, i) => [v, powers[i]] as const)
    .filter(([, p]) => p > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([v, p]) => (p > 1 ? `${v}^${p}` : v))
    .join('*');

/** The node's FLOPs: its op's count, fitted over the probes when it has dimension variables (see the file's comment). */
function flopsOf(node: Node): Poly {
  const count = opOf(node).flops;
  if (!count) return { '': 0 };
  if (!node.symbolic) return { '': count(node.resolved) };
  const { vars, probes, records } = node.symbolic;
  const ys = records.map((r) => count(r));
  for (let degree = 0; degree <= 3; degree++) {
    const basis = monomials(vars.length, degree);
    const value = (powers: number[], sizes: number[]) => powers.reduce((m, p, i) => m * sizes[i] ** p, 1);
    const coefs = solve(basis.map((_, row) => basis.map((powers) => value(powers, probes[row]))), ys.slice(0, basis.length));
    if (!coefs) continue;
    const rounded = coefs.map((c) => (Math.abs(c - Math.round(c)) < 1e-6 * Math.max(1, Math.abs(c)) ? Math.round(c) : c));
    const fits = ys.every((y, p) => Math.abs(basis.reduce((sum, powers, j) => sum + rounded[j] * value(powers, probes[p]), 0) - y) <= 1e-9 * Math.max(1, Math.abs(y)));
    if (fits) return Object.fromEntries(basis.map((powers, j) => [monomialKey(vars, powers), rounded[j]] as const).filter(([, c]) => c !== 0));
  }
  return { '': NaN }; // no op's count is above cubic
}

/** Solves the square system A x = b by Gaussian elimination with partial pivoting; undefined when singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    if (m[pivot][c] === 0) return undefined;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Adds polynomials term by term. */
/** A polynomial's value when it is a constant, else NaN. */
export const polyValue = (p: Poly): number => (Object.entries(p).every(([k, c]) => k === '' || c === 0) ? (p[''] ?? 0) : NaN);

export const addPoly = (a: Poly, b: Poly): Poly => {
  const out = { ...a };
  for (const [k, c] of Object.entries(b)) out[k] = (out[k] ?? 0) + c;
  return out;
};

/**
 * The graph with its dimension variables set to `sizes` (every variable of
 * the inputs must have one): new nodes, with the same names, typed by
 * running every shape rule on the concrete sizes. What the interpreter and
 * training run; a mistake only these sizes make (a position table shorter
 * than T) is thrown as an OpError naming the layer.
 */
export function specialize(graph: Graph, sizes: ReadonlyMap<string, number>): Graph {
  const copies = new Map<Node, Node>();
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((n) => copies.get(n)!);
    const copy: Node = { ...node, inputs };
    delete copy.symbolic;
    remapMasks(copy, (n) => copies.get(n)!); // resolveNode below recomputes the mask; the mask argument is an input's copy
    if (node.op === 'input') {
      const type: TensorType = { ...node.type, shape: node.type.shape.map((d) => (typeof d === 'string' ? sizes.get(d)! : d)) };
      copy.type = type;
      copy.attrs = { ...node.attrs, type: type as never };
    } else if (node.symbolic || node.maskArg || inputs.some((n, i) => n !== node.inputs[i])) {
      try {
        resolveNode(copy);
      } catch (e) {
        if (!(e instanceof OpError)) throw e;
        throw new OpError(messages.specializedLayer(node.name, node.op, [...sizes].map(([v, n]) => `${dimName(v)} = ${n}`).join(', '), e.message), e.hint);
      }
    }
    copies.set(node, copy);
  }
  return { ...graph, nodes: graph.nodes.map((n) => copies.get(n)!), inputs: graph.inputs.map((n) => copies.get(n)!), outputs: graph.outputs.map((o) => ({ ...o, node: copies.get(o.node)! })) };
}

/** The graph's dimension variables, in order of their inputs. */
export const graphVars = (graph: Graph): string[] => [...new Set(graph.inputs.flatMap((n) => dimVars(n.type.shape)))];

/** The node's short label for diagrams and summaries (`32 3x3 same`), '' when its op has none. */
export const labelOf = (node: Node): string => opOf(node).label?.(node.resolved) ?? '';
