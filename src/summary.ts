/**
 * The model summary: one row per layer (name, op, output shape, params, FLOPs)
 * and the totals, as a Keras-like table or as JSON. A layer with several
 * results (return_state) lists their shapes, as Keras does; the `result`
 * nodes that select them are no layers and have no rows.
 */
import { exampleShape } from './diagnostics.js';
import { layerStats } from './ir/infer.js';
import type { Dim, Graph } from './ir/types.js';
import { humanBytes } from './units.js';

export interface SummaryRow {
  name: string;
  op: string;
  outputShape: Dim[];
  /** A layer with several results (return_state): each one's shape; outputShape is then the first's. */
  outputShapes?: Dim[][];
  params: number;
  flops: number;
}

export interface Summary {
  model: string;
  layers: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  flops: number;
  /** Bytes of parameters at float32. */
  paramBytes: number;
}

export function summarize(graph: Graph): Summary {
  let totalParams = 0, trainableParams = 0, flops = 0;
  const layers = graph.nodes.filter((node) => node.op !== 'result').map((node): SummaryRow => {
    const s = layerStats(node);
    totalParams += s.paramCount;
    trainableParams += s.trainableCount;
    flops += s.flops;
    const parts = node.type.parts?.map((p) => p.shape);
    return { name: node.name, op: node.op, outputShape: parts?.[0] ?? node.type.shape, ...(parts && { outputShapes: parts }), params: s.paramCount, flops: s.flops };
  });
  return { model: graph.name, layers, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams, flops, paramBytes: totalParams * 4 };
}

const grouped = (n: number) => n.toLocaleString('en-US');

export function humanCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return `${n} `;
}

export function formatSummary(s: Summary): string {
  const header = ['Layer (op)', 'Output shape', 'Params', 'FLOPs'];
  const rows = s.layers.map((l) => [`${l.name} (${l.op})`, l.outputShapes ? `[${l.outputShapes.map(shapeCell).join(', ')}]` : shapeCell(l.outputShape), grouped(l.params), grouped(l.flops)]);
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
    `FLOPs per example: ${grouped(s.flops)} (${humanCount(s.flops)}FLOPs)`,
  ].join('\n');
}

/** Keras prints the batch dimension as None; we print it as `batch`. */
const shapeCell = (shape: Dim[]) => `(batch, ${exampleShape(shape).slice(1, -1)})`;

export function summaryJson(s: Summary): object {
  return {
    model: s.model,
    layers: s.layers.map((l) => ({ name: l.name, op: l.op, outputShape: l.outputShape, ...(l.outputShapes && { outputShapes: l.outputShapes }), params: l.params, flops: l.flops })),
    totalParams: s.totalParams,
    trainableParams: s.trainableParams,
    nonTrainableParams: s.nonTrainableParams,
    flops: s.flops,
    paramBytes: s.paramBytes,
  };
}
