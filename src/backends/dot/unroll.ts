/**
 * The unrolled view of a recurrent layer, like the lecture's "Unfolding RNN"
 * slide: on the left the folded cell (x -> s, with its W loop, -> o), then the
 * same cell over K time steps: inputs x_t, states s_t, outputs o_t, with the
 * shared weights U (input to state), W (state to state) and V (state to output)
 * on the edges and the equations underneath:
 *   s_t = f(U x_t + W s_{t-1}),  o_t = softmax(V s_t).
 * V is the dense layer that reads the recurrent layer (CharRNN's `dense as V`);
 * without one there is no o row. A layer that returns only its last state
 * (`sequences = false`) has one output, at the last step. `bidirectional` adds
 * a second state row running backwards. When the sequence is longer than K the
 * steps shown are 1 .. K-1, an ellipsis, and the last step T.
 *
 * Nodes and edge labels are pinned (neato) so labels never sit on lines.
 */
import { messages } from '../../diagnostics.js';
import { dimName, type Graph, type Node } from '../../ir/types.js';
import type { AttrsOf } from '../../ops/index.js';
import { Attrs, DotWriter, fail, label, plural, pos, sub } from './dot.js';
import { layerInfo } from './layer.js';
import type { DiagramOptions } from './index.js';
import { filled, header, TEXT, Theme } from './theme.js';

const RECURRENT = new Set(['rnn', 'lstm', 'gru', 'bidirectional']);

interface Cell {
  layer: Node;
  /** A gru draws as an rnn (one state s); its gates show in the caption. */
  kind: 'rnn' | 'lstm' | 'gru';
  bidirectional: boolean;
  units: number;
  sequences: boolean;
  activation: string;
  /** gru: Keras's reset_after (its W s_{t-1} has a bias of its own). */
  resetAfter: boolean;
  /** A number, or a dimension variable's name (T) for a sequence of any length. */
  steps: number | string;
  features: number;
  /** The dense layer reading the states, and the activation after it. */
  v?: Node;
  vActivation?: string;
}

function cellOf(graph: Graph): Cell {
  const layers = graph.nodes.filter((n) => RECURRENT.has(n.op));
  if (layers.length === 0) fail(messages.unrollNeedsRecurrent(graph.name));
  if (layers.length > 1) fail(messages.unrollNeedsOneRecurrent(graph.name, layers.map((n) => n.name)));
  const layer = layers[0];
  const bidirectional = layer.op === 'bidirectional';
  const a = bidirectional ? (layer.resolved as AttrsOf<'bidirectional'>).layer : (layer.resolved as AttrsOf<'rnn' | 'lstm' | 'gru'>);
  const kind = a.cell;
  const readers = (n: Node) => graph.nodes.filter((m) => m.inputs.includes(n));
  const next = readers(layer);
  const v = next.length === 1 && (next[0].op === 'dense' || next[0].op === 'fused_dense') ? next[0] : undefined;
  const after = v && readers(v);
  const vActivation =
    v && (v.resolved as AttrsOf<'dense'>).activation !== 'linear' ? (v.resolved as AttrsOf<'dense'>).activation : after?.length === 1 && layerInfo(after[0]).family === 'activation' ? after[0].op : undefined;
  return {
    layer,
    kind,
    bidirectional,
    units: a.units,
    sequences: a.sequences,
    activation: kind === 'rnn' ? a.activation : kind,
    resetAfter: a.resetAfter,
    steps: typeof a.steps === 'string' ? dimName(a.steps) : a.steps, // a symbolic length (resolved records name it)
    features: a.features,
    v,
    vActivation,
  };
}

/** The time indices drawn, with `undefined` for the ellipsis column. */
const timeline = (k: number, steps: number | string): (number | string | undefined)[] =>
  typeof steps === 'number' && k >= steps ? Array.from({ length: steps }, (_, i) => i + 1) : [...Array.from({ length: k - 1 }, (_, i) => i + 1), undefined, steps];

export function unrolledView(graph: Graph, options: DiagramOptions, theme: Theme): string {
  const cell = cellOf(graph);
  const lr = options.direction === 'LR';
  const lstm = cell.kind === 'lstm';
  // Positions in a (time, level) frame: time runs along the reading direction, levels go x < s (< s') < o.
  const at = (time: number, level: number) => (lr ? pos(time, level) : pos(level * 1.1, -time));
  const levels = { x: 0, s: 1.25, back: 2.35, o: cell.bidirectional ? 3.6 : 2.5 };
  // Bidirectional: the two state rows are staggered so that no edge runs through a state.
  const shift = cell.bidirectional ? (lstm ? 0.45 : 0.35) : 0;
  const stepWidth = lstm ? 1.6 : 1.35;
  const w = new DotWriter().open('digraph model');
  header(w, theme, { layout: 'neato', splines: 'false', overlap: 'true', outputorder: 'edgesfirst', labelloc: 'b', label: caption(graph, cell, options) });
  w.stmt('node', { shape: 'circle', width: 0.5, fixedsize: true, fontsize: 12, penwidth: 1.4 });
  w.stmt('edge', { arrowsize: 0.7, penwidth: 1.3 });
  let next = 0;
  const node = (attrs: Attrs) => {
    const id = `n${next++}`;
    w.stmt(id, attrs);
    return id;
  };
  const edge = (a: string, b: string, attrs: Attrs = {}) => w.stmt(`${a} -> ${b}`, attrs);
  const unit = (role: 'input' | 'hidden' | 'output', text: string, time: number, level: number, initial = false) => {
    const box = lstm && role === 'hidden';
    return node({
      label: label([text]),
      style: initial ? 'dashed' : filled(theme, ...(box ? ['rounded'] : [])),
      fillcolor: theme.role[role].fill,
      color: theme.role[role].border,
      pos: at(time, level),
      ...(box ? { shape: 'box', width: 0.75 } : {}),
    });
  };
  /** Text pinned beside an edge's middle, so it never sits on a line. */
  const text = (words: string, time: number, level: number, size = 11) => node({ ...TEXT, label: label([words]), fontsize: size, fontcolor: theme.muted, pos: at(time, level) });
  const ellipsis = (time: number, level: number) => {
    for (const d of [-0.12, 0, 0.12]) node({ shape: 'point', width: 0.04, color: theme.muted, pos: at(time + d, level) });
  };
  const state = (t: string | number, name = 's') => (lstm ? `${sub(name, t)}, ${sub(name === 's' ? 'c' : "c'", t)}` : sub(name, t));

  // The folded cell, as the lecture draws it first, then an "unfold" arrow (not for bidirectional layers).
  let arrowAt = -0.6;
  if (!cell.bidirectional) {
    const fx = unit('input', 'x', 0, levels.x);
    const fs = unit('hidden', lstm ? 's, c' : 's', 0, levels.s);
    edge(fx, fs);
    text('U', 0.2, (levels.x + levels.s) / 2);
    edge(fs, fs, lr ? { tailport: 'n', headport: 'e' } : { tailport: 'sw', headport: 'se' });
    text('W', lr ? 0.62 : 0.62, lr ? levels.s + 0.45 : levels.s);
    if (cell.v) {
      edge(fs, unit('output', 'o', 0, levels.o));
      text('V', 0.2, (levels.s + levels.o) / 2);
    }
    arrowAt = 1.2;
    text('unfold', arrowAt, levels.s + 0.25, 10);
    const [a, b] = [-0.3, 0.3].map((d) => node({ shape: 'point', width: 0.01, style: 'invis', pos: at(arrowAt + d, levels.s) }));
    edge(a, b, { color: theme.muted, penwidth: 2, arrowsize: 0.8 });
  }

  // The unrolled steps, after the zero initial state(s).
  const times = timeline(options.unroll!, cell.steps);
  const t0 = arrowAt + 0.9;
  const time = (i: number) => t0 + (i + 1) * stepWidth;
  let previous = unit('hidden', state(0), t0 - shift, levels.s, true);
  const backwards: string[] = [];
  times.forEach((index, i) => {
    const t = time(i);
    if (index === undefined) {
      for (const level of [levels.x, ...(cell.v && cell.sequences ? [levels.o] : [])]) ellipsis(t, level);
      return;
    }
    const x = unit('input', sub('x', index), t, levels.x);
    const s = unit('hidden', state(index), t - shift, levels.s);
    edge(x, s);
    // Weight names sit beside their edges; bidirectional cells name their vertical edges once, on the outer sides.
    if (!cell.bidirectional) text('U', t + 0.2, (levels.x + levels.s) / 2);
    else if (i === 0) text('U', t - shift - 0.2, 0.6);
    edge(previous, s, i > 0 && times[i - 1] === undefined ? { style: 'dashed' } : {});
    // Bidirectional: the x -> s' edges cross the forward chain mid-way, so W sits nearer its head.
    const beside = cell.bidirectional ? (lstm ? 0.55 : 0.4) : stepWidth / 2;
    text('W', t - shift - beside, levels.s + 0.17);
    previous = s;
    let r: string | undefined;
    if (cell.bidirectional) {
      r = unit('hidden', state(index, "s'"), t + shift, levels.back);
      edge(x, r);
      if (i === 0) text("U'", t + 0.3, 0.6);
      backwards.push(r);
    }
    if (cell.v && (cell.sequences || i === times.length - 1)) {
      const o = unit('output', sub('o', index), t, levels.o);
      edge(s, o);
      if (r) edge(r, o);
      if (!r) text('V', t + 0.2, (levels.o + levels.s) / 2);
      else if (i === 0 || !cell.sequences) text('V', t + shift + 0.05, (levels.o + levels.back) / 2 - 0.1);
    }
  });
  if (cell.bidirectional) {
    // s' reads the sequence from the last step back to the first, from its own zero state.
    let later = unit('hidden', state(typeof cell.steps === 'number' ? cell.steps + 1 : `${cell.steps}+1`, "s'"), time(times.length) + shift, levels.back, true);
    for (let i = times.length - 1; i >= 0; i--) {
      const r = times[i] === undefined ? undefined : backwards.pop();
      if (!r) continue;
      edge(later, r, i + 1 < times.length && times[i + 1] === undefined ? { style: 'dashed' } : {});
      text("W'", time(i) + shift + (lstm ? 0.55 : 0.4), levels.back + 0.17);
      later = r;
    }
  }
  return w.close().toString();
}

function caption(graph: Graph, cell: Cell, options: DiagramOptions) {
  const u = cell.units;
  const gates = { rnn: 1, lstm: 4, gru: 3 }[cell.kind];
  const what = `${cell.bidirectional ? 'bidirectional ' : ''}${cell.kind} ${u}`;
  const layer = cell.layer.name === cell.layer.op ? what : `${cell.layer.name} (${what})`;
  const lines = [`${graph.name}: ${layer} unrolled over ${typeof cell.steps === 'number' ? plural(cell.steps, 'step') : `${cell.steps} steps`}`];
  const [st, xt, prev] = [sub('s', 't'), sub('x', 't'), sub('s', 't-1')];
  if (cell.kind === 'rnn') lines.push(`${st} = ${cell.activation}(U ${xt} + W ${prev} + b)`);
  else if (cell.kind === 'gru') lines.push(`${st} = z ${prev} + (1 - z) h~, gru gates z, r, h from U ${xt} + b and W ${prev}${cell.resetAfter ? " + b'" : ''}`);
  else lines.push(`${st}, ${sub('c', 't')} = lstm(U ${xt} + W ${prev} + b, ${sub('c', 't-1')}), with gates i, f, c, o`);
  if (cell.bidirectional) lines.push(`${sub("s'", 't')}: the same kind of cell, run from the last step back to the first`);
  if (cell.v) {
    const inner = `V ${cell.bidirectional ? `[${st}; ${sub("s'", 't')}]` : st} + c`;
    lines.push(`${sub('o', 't')} = ${cell.vActivation ? `${cell.vActivation}(${inner})` : inner}${cell.sequences ? '' : ', at the last step only'}`);
  } else lines.push(cell.sequences ? `outputs: every ${st}` : `output: the last state ${sub('s', cell.steps)}`);
  if (options.shapes) {
    const width = cell.bidirectional ? 2 * u : u;
    lines.push([`U: ${cell.features}×${gates * u}`, `W: ${u}×${gates * u}`, ...(cell.v ? [`V: ${width}×${cell.v.type.shape.at(-1)}`] : [])].join('   '));
  }
  if (options.params) {
    const counts = [`${cell.layer.name}: ${plural(layerInfo(cell.layer).params, 'param')}`, ...(cell.v ? [`${cell.v.name === 'V' ? 'V' : `${cell.v.name} (V)`}: ${plural(layerInfo(cell.v).params, 'param')}`] : [])];
    lines.push(counts.join('   '));
  }
  return label(['', ...lines]); // the blank line keeps the caption off the x row
}
