/**
 * The model summary: one row per layer (name, op, output shape, params, FLOPs)
 * and the totals, as a Keras-like table or as JSON. With dimension variables
 * shapes print their names (`T`, anonymous ones `None`) and FLOPs are
 * polynomials in them (`98,304·T + 1,024·T²`): `flops` is then NaN and
 * `flopsTerms` maps each monomial ('', 'T', 'T^2', 'S*T') to its
 * coefficient. JSON gives such FLOPs as that object, plain FLOPs as a number.
 * A layer with several results (return_state) lists their shapes, as Keras
 * does; the `result` nodes that select them are no layers and have no rows.
 */
import { exampleShape } from './diagnostics.js';
import { addPoly, layerStats, polyValue, type Poly } from './ir/infer.js';
import { dimName, type Dim, type Graph } from './ir/types.js';
import { humanBytes } from './units.js';

export interface SummaryRow {
  name: string;
  op: string;
  /** A shared layer's is its first call's. */
  outputShape: Dim[];
  /** A layer with several results (return_state): each one's shape; outputShape is then the first's. */
  outputShapes?: Dim[][];
  params: number;
  /** NaN when the count depends on a dimension variable: see flopsTerms. A shared layer's: all its calls'. */
  flops: number;
  flopsTerms: Poly;
  /** How many times a shared layer is applied (Node.shared); absent for a layer applied once. */
  uses?: number;
}

export interface Summary {
  model: string;
  layers: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** NaN when the count depends on a dimension variable: see flopsTerms. */
  flops: number;
  flopsTerms: Poly;
  /** Bytes of parameters at float32. */
  paramBytes: number;
}

/** One row per layer, as Keras lists them: a shared layer once, under its name, with its weights counted once. */
export function summarize(graph: Graph): Summary {
  let totalParams = 0, trainableParams = 0;
  let flopsTerms: Poly = { '': 0 };
  const layers: SummaryRow[] = [];
  const rowOf = new Map<string, SummaryRow>();
  for (const node of graph.nodes) {
    if (node.op === 'result') continue; // a result is shown in its layer's row
    const s = layerStats(node);
    totalParams += s.paramCount;
    trainableParams += s.trainableCount;
    flopsTerms = addPoly(flopsTerms, s.flopsTerms);
    const row = node.shared && rowOf.get(node.shared.layer);
    if (row) {
      row.params += s.paramCount;
      row.flopsTerms = addPoly(row.flopsTerms, s.flopsTerms);
      row.flops = polyValue(row.flopsTerms);
      row.uses = (row.uses ?? 1) + 1;
      continue;
    }
    const parts = node.type.parts?.map((p) => p.shape);
    const outputShape = parts?.[0] ?? node.type.shape;
    const fresh: SummaryRow = { name: node.shared?.layer ?? node.name, op: node.op, outputShape, ...(parts && { outputShapes: parts }), params: s.paramCount, flops: s.flops, flopsTerms: s.flopsTerms };
    rowOf.set(fresh.name, fresh);
    layers.push(fresh);
  }
  return { model: graph.name, layers, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams, flops: polyValue(flopsTerms), flopsTerms, paramBytes: totalParams * 4 };
}

export const grouped = (n: number) => n.toLocaleString('en-US');

export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return `${n} `;
}

export function formatSummary(s: Summary): string {
  const header = ['Layer (op)', 'Output shape', 'Params', 'FLOPs'];
  const rows = s.layers.map((l) => [`${l.name} (${l.op}${l.uses ? ` x${l.uses}` : ''})`, l.outputShapes ? `[${l.outputShapes.map(shapeCell).join(', ')}]` : shapeCell(l.outputShape), grouped(l.params), polyText(l.flopsTerms, grouped)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('   ').trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [
    `Model: "${s.model}"`,
    rule('━'),
    line(header),
    rule('━'),
    ...rows.map(line),
    rule('━'),
    `Total params: ${grouped(s.totalParams)} (${humanBytes(s.paramBytes)})`,
    `Trainable params: ${grouped(s.trainableParams)}`,
    `Non-trainable params: ${grouped(s.nonTrainableParams)}`,
    `FLOPs per example: ${polyText(s.flopsTerms, grouped)} (${polyText(s.flopsTerms, humanCount)}${isConstant(s.flopsTerms) ? '' : ' '}FLOPs)`,
  ].join('\n');
}

/** Keras prints the batch dimension as None; we print it as `batch`. */
export const shapeCell = (shape: Dim[]) => `(batch, ${exampleShape(shape).slice(1, -1)})`;

const SUPERSCRIPT: Record<string, string> = { '2': '²', '3': '³' };
/** A polynomial as `c0 + c1·T + c2·T²`, lowest degree first, each coefficient written by `count`; a constant alone is just its count. */
export function polyText(p: Poly, count: (n: number) => string): string {
  const degree = (key: string) => (key === '' ? 0 : key.split('*').reduce((n, f) => n + Number(f.split('^')[1] ?? 1), 0));
  if (isConstant(p)) return count(p[''] ?? 0);
  return Object.entries(p)
    .filter(([, c]) => c !== 0)
    .sort(([a], [b]) => degree(a) - degree(b) || (a < b ? -1 : 1))
    .map(([k, c]) => {
      if (k === '') return count(c).trimEnd();
      const monomial = k.split('*').map((f) => { const [v, power] = f.split('^'); return dimName(v) + (power ? SUPERSCRIPT[power] ?? `^${power}` : ''); }).join('·');
      return `${count(c).trimEnd()}·${monomial}`;
    })
    .join(' + ');
}

const isConstant = (p: Poly) => Object.entries(p).every(([k, c]) => k === '' || c === 0);
/** FLOPs in JSON: a number, or the polynomial's terms. */
const flopsJson = (p: Poly): number | Poly => (isConstant(p) ? (p[''] ?? 0) : p);

export function summaryJson(s: Summary): object {
  return {
    model: s.model,
    layers: s.layers.map((l) => ({ name: l.name, op: l.op, outputShape: l.outputShape, ...(l.outputShapes && { outputShapes: l.outputShapes }), params: l.params, flops: flopsJson(l.flopsTerms), ...(l.uses ? { uses: l.uses } : {}) })),
    totalParams: s.totalParams,
    trainableParams: s.trainableParams,
    nonTrainableParams: s.nonTrainableParams,
    flops: flopsJson(s.flopsTerms),
    paramBytes: s.paramBytes,
  };
}
