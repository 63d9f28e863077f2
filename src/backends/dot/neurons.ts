/**
 * The neuron view of a small dense network, like the lecture's "Simple Neural
 * Network" and "Deep Neural Network" figures: a circle per unit, one column
 * per layer (input, hidden, output, each coloured and captioned), and every
 * unit joined to every unit of the next layer. A layer wider than MAX_UNITS
 * shows its first and last units with a vertical ellipsis between them.
 *
 * Only for a chain input -> dense / activation / dropout -> output; anything
 * else is refused with a message. Nodes are pinned (neato), so the columns
 * form an exact grid whatever the layer widths.
 */
import { messages } from '../../diagnostics.js';
import type { Graph, Node } from '../../ir/types.js';
import { DotWriter, fail, label, plural, pos, sub } from './dot.js';
import { captionText, layerInfo } from './layer.js';
import type { DiagramOptions } from './index.js';
import { filled, header, TEXT, Theme } from './theme.js';

const MAX_UNITS = 8;
/** Shown at each end of an elided layer. */
const ENDS = 3;

interface Column {
  role: 'input' | 'hidden' | 'output';
  units: number;
  node: Node;
  notes: string[];
  params: number;
}

function columnsOf(graph: Graph): Column[] {
  if (graph.inputs.length !== 1) fail(messages.neuronsInputCount(graph.name, graph.inputs.length));
  if (graph.outputs.length !== 1) fail(messages.neuronsOutputCount(graph.name, graph.outputs.length));
  const input = graph.inputs[0];
  if (input.type.shape.length !== 2 || typeof input.type.shape[1] !== 'number') fail(messages.neuronsInputNotVector(graph.name, input.name, input.type.shape));
  const columns: Column[] = [{ role: 'input', units: input.type.shape[1] as number, node: input, notes: [], params: 0 }];
  let previous = input;
  for (const node of graph.nodes) {
    if (node === input) continue;
    if (node.inputs.length !== 1 || node.inputs[0] !== previous) fail(messages.neuronsBranch(graph.name, node.name));
    const info = layerInfo(node);
    const last = columns.at(-1)!;
    if (node.op === 'dense' || node.op === 'fused_dense') {
      columns.push({ role: 'hidden', units: node.type.shape.at(-1) as number, node, notes: info.title.startsWith('dense + ') ? [info.title.slice('dense + '.length)] : [], params: info.params });
    } else if (info.family === 'activation') last.notes.push(node.op);
    else if (node.op === 'dropout') last.notes.push(`${info.title} ${info.detail}`);
    else fail(messages.neuronsLayer(graph.name, node.op, node.name));
    previous = node;
  }
  if (columns.length < 2) fail(messages.neuronsNoDense(graph.name));
  if (graph.outputs[0].node !== previous) fail(messages.neuronsLastLayer(graph.name));
  columns.at(-1)!.role = 'output';
  return columns;
}

/** Unit numbers to draw, with `undefined` where the ellipsis goes. */
const slotsOf = (units: number): (number | undefined)[] =>
  units <= MAX_UNITS
    ? Array.from({ length: units }, (_, i) => i + 1)
    : [...Array.from({ length: ENDS }, (_, i) => i + 1), undefined, ...Array.from({ length: ENDS }, (_, i) => units - ENDS + 1 + i)];

const ROLE_TITLES = { input: 'Input layer', hidden: 'Hidden layer', output: 'Output layer' };

export function neuronView(graph: Graph, options: DiagramOptions, theme: Theme): string {
  const columns = columnsOf(graph);
  const lr = options.direction === 'LR';
  const step = lr ? 1.6 : 1.1; // between layers, inches
  const gap = lr ? 0.46 : 0.48; // between units
  const place = (layer: number, along: number) => (lr ? pos(layer * step, -along * gap) : pos(along * gap, -layer * step));
  const w = new DotWriter().open('digraph model');
  header(w, theme, {
    layout: 'neato',
    splines: 'false',
    overlap: 'true',
    outputorder: 'edgesfirst',
    labelloc: 'b',
    label: label(['', captionText(graph, options)]), // the blank line keeps the caption off the circles
  });
  w.stmt('node', { shape: 'circle', width: 0.36, fixedsize: true, fontsize: 10, penwidth: 1.4, label: '' });
  w.stmt('edge', { arrowhead: 'none', color: theme.fills ? `${theme.edge}99` : theme.edge, penwidth: 0.7 });

  const ids: string[][] = [];
  let next = 0;
  const widest = Math.max(...columns.map((c) => slotsOf(c.units).length));
  let hidden = 0;
  columns.forEach((column, c) => {
    const slots = slotsOf(column.units);
    const swatch = theme.role[column.role];
    const letter = column.role === 'input' ? 'x' : column.role === 'output' ? 'y' : undefined;
    const mid = (slots.length - 1) / 2;
    ids.push([]);
    slots.forEach((unit, s) => {
      if (unit === undefined) {
        // a vertical ellipsis of three dots, font-independent
        for (const d of [-0.12, 0, 0.12]) w.stmt(`n${next++}`, { shape: 'point', width: 0.04, color: theme.muted, pos: place(c, s - mid + d / gap) });
        return;
      }
      const id = `n${next++}`;
      ids[c].push(id);
      w.stmt(id, { label: letter ? label([sub(letter, unit)]) : undefined, style: filled(theme), fillcolor: swatch.fill, color: swatch.border, pos: place(c, s - mid) });
    });
    if (column.role === 'hidden') hidden++;
    const title = column.role === 'hidden' && columns.length > 3 ? `${ROLE_TITLES.hidden} ${hidden}` : ROLE_TITLES[column.role];
    const lines = [
      title,
      `${column.node.name} · ${plural(column.units, 'unit')}`,
      ...(column.notes.length > 0 ? [column.notes.join(' · ')] : []),
      ...(options.params && column.params > 0 ? [plural(column.params, 'param')] : []),
    ];
    // Captions above the columns (LR) or left of the rows (TB), sized by a rough text metric.
    const height = lines.length * 0.17;
    const width = Math.max(...lines.map((l) => l.length)) * 0.075;
    const edge = ((widest - 1) / 2) * gap + 0.18 + 0.2;
    const at = lr ? pos(c * step, edge + height / 2) : pos(-edge - width / 2, -c * step);
    w.stmt(`n${next++}`, { ...TEXT, fontsize: 10, label: label(lines), pos: at });
  });
  for (let c = 0; c + 1 < ids.length; c++) for (const a of ids[c]) for (const b of ids[c + 1]) w.line(`${a} -> ${b};`);
  return w.close().toString();
}
