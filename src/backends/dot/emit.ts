/**
 * The layer and block views as DOT.
 *
 * Layer view: a node per layer (op and key attributes; name and parameter
 * count) coloured by op family, edges labelled with per-example shapes, inputs
 * and outputs as grey terminals, block instances as light clusters, skip
 * connections as coloured arcs that do not bend the main chain, and a legend of
 * the families present.
 * Block view: the layers outside blocks as above; each top-level block instance
 * as a cluster titled with its call (`residual(16)`) holding one small chip per
 * layer, nested blocks as one chip each; the instances of a `repeat(n, ...)`
 * collapse into one cluster marked `× n`.
 *
 * A layer with several results (return_state) is one node; the edges of
 * its results start there, each labelled with its result's shape.
 * Both views reduce the graph to units (drawn nodes) in clusters and links
 * (drawn edges); one writer lays them out, in rows fitted to the target page
 * (fit.ts): a snake whose every other row runs backwards, joined by turn arrows. Labels are plain text (the WebAssembly
 * Graphviz has no HTML-like labels). Not here: the neuron and unrolled views.
 */
import type { OpDef, OpFamily } from '../../ops/op.js';
import { paramsOf } from '../../ir/infer.js';
import type { BlockFrame, Graph, Node } from '../../ir/types.js';
import { Attrs, DotWriter, grouped, label, plural, shapeLabel } from './dot.js';
import { boxSize, FIT_TARGETS, FitLink, planRows, RowPlan } from './fit.js';
import type { DiagramOptions } from './index.js';
import { captionText, layerInfo } from './layer.js';
import { FAMILY_NAMES, filled, header, TEXT, Theme } from './theme.js';

/** Multi-input ops whose inputs play different roles get their edges named (attention: query, value, key). */
const namesInputs = (op: OpDef | undefined) => op !== undefined && op.inputs.max > 1 && op.family !== 'merge';

// ---------------------------------------------------------------- units and links

interface ClusterSpec {
  /** Identifies the cluster among its siblings. */
  key: string;
  lines: string[];
  repeated: boolean;
}

interface Unit {
  id: string;
  attrs: Attrs;
  /** The label's lines and font size, for the size estimate (fit.ts). */
  text: string[];
  fontSize: number;
  /** Enclosing clusters, outermost first. */
  clusters: ClusterSpec[];
}

interface Link {
  from: Unit;
  to: Unit;
  /** The node whose output flows along the link: its shape is the label. */
  source: Node;
  /** Input roles at the head, e.g. `query, value`. */
  roles: string[];
  /** Inside one block cluster of the block view: drawn without a shape. */
  quiet?: boolean;
}

interface Drawing {
  units: Unit[];
  links: Link[];
  families: Set<OpFamily>;
  /** Legend entries beyond the families: terminals, constants, fused layers. */
  marks: Set<Mark>;
  /** The results of each multi-result node (return_state), in order. */
  results: Map<Node, Node[]>;
}

function newDrawing(graph: Graph): Drawing {
  const results = new Map<Node, Node[]>();
  for (const n of graph.nodes) if (n.op === 'result') results.set(n.inputs[0], [...(results.get(n.inputs[0]) ?? []), n]);
  return { units: [], links: [], families: new Set(), marks: new Set(), results };
}

type Mark = 'io' | 'constant' | 'fused' | 'block';

const NODE_FONT = 11;
const CHIP_FONT = 11;

/** A unit from its label lines; `attrs` are the rest of its look. */
const makeUnit = (id: string, lines: string[], attrs: Attrs, clusters: ClusterSpec[], fontSize = NODE_FONT): Unit => ({
  id,
  attrs: { label: label(lines), ...attrs, ...(fontSize !== NODE_FONT ? { fontsize: fontSize } : {}) },
  text: lines,
  fontSize,
  clusters,
});

const shapeText = (node: Node) => shapeLabel(node.type.shape) + (node.type.dtype === 'int32' ? ' int' : '');

/** Inputs and outputs (rounded, bold border) and constants (dashed border), in the io colours. */
function terminal(kind: 'io' | 'constant', theme: Theme): Attrs {
  const { fill, border } = theme.family.io;
  return kind === 'io'
    ? { style: filled(theme, 'rounded'), fillcolor: fill, color: border, penwidth: 1.8 }
    : { style: filled(theme, 'rounded', 'dashed'), fillcolor: fill, color: border, penwidth: 1.2 };
}

/** The weights of a node as Netron lists them: `kernel 3×3×1×32`. */
const weightLines = (node: Node): string[] => paramsOf(node).map((p) => `${p.name} ${p.shape.length > 0 ? p.shape.join('×') : 'scalar'}${p.shared ? ' (shared)' : ''}`);

/**
 * A layer's node: `conv2d 32 3x3` over `conv2d_1 · 18,496 params`, then (with
 * `--shapes nodes`) its output shape and (with `--detail params`) its weights;
 * inputs and constants as terminals. An optimizer's fused layer has a double border.
 */
function layerNode(id: string, node: Node, options: DiagramOptions, theme: Theme, drawing: Drawing, clusters: ClusterSpec[]): Unit {
  const lr = options.direction === 'LR';
  if (node.op === 'input' || node.op === 'constant') {
    const kind = node.op === 'input' ? 'io' : 'constant';
    drawing.marks.add(kind);
    return makeUnit(id, lr ? [node.op, ...(kind === 'io' ? [node.name] : []), shapeText(node)] : [kind === 'io' ? `input ${node.name}` : 'constant', shapeText(node)], terminal(kind, theme), clusters);
  }
  const info = layerInfo(node);
  drawing.families.add(info.family);
  const fused = node.op.startsWith('fused_');
  if (fused) drawing.marks.add('fused');
  const { fill, border } = theme.family[info.family];
  const extra = [node.name !== node.op && node.name !== info.title.split(' ')[0] ? node.name : '', options.params && info.params > 0 ? plural(info.params, 'param') : ''].filter(Boolean);
  const more = [...(options.shapes === 'nodes' ? [`→ ${nodeShapes(node, drawing)}`] : []), ...(options.detail === 'params' ? weightLines(node) : [])];
  // LR diagrams run out of width, not height: one fact per line there.
  const lines = lr
    ? [info.title, info.detail, ...extra, ...more].filter(Boolean)
    : [info.detail ? `${info.title} ${info.detail}` : info.title, ...(extra.length > 0 ? [extra.join(' · ')] : []), ...more];
  return makeUnit(id, lines, { fillcolor: fill, color: border, ...(fused ? { peripheries: 2 } : {}) }, clusters);
}

/** The output shape of a node, or of each of its results (`return_state`). */
function nodeShapes(node: Node, drawing: Drawing): string {
  const results = drawing.results.get(node) ?? [];
  return results.length > 0 ? results.map(shapeText).join(', ') : shapeText(node);
}

/** Links from a node's inputs, one per distinct source, with the input roles it fills. */
function linksInto(node: Node, unitOf: (n: Node) => Unit): Link[] {
  const op = layerInfo(node).op;
  const to = unitOf(node);
  const bySource = new Map<Node, Link>();
  node.inputs.forEach((input, k) => {
    const link = bySource.get(input) ?? { from: unitOf(input), to, source: input, roles: [] };
    if (namesInputs(op) && node.inputs.length > 1) link.roles.push(op!.inputs.names[k] ?? `input ${k + 1}`);
    bySource.set(input, link);
  });
  return [...bySource.values()];
}

function addOutputs(graph: Graph, drawing: Drawing, options: DiagramOptions, theme: Theme, unitFor: (n: Node) => Unit): void {
  for (const out of graph.outputs) {
    const lines = options.direction === 'LR' ? ['output', out.name] : [`output ${out.name}`];
    const unit = makeUnit(`n${drawing.units.length}`, lines, terminal('io', theme), []);
    drawing.units.push(unit);
    drawing.links.push({ from: unitFor(out.node), to: unit, source: out.node, roles: [] });
  }
}

/** The clusters of a node's block instances in the layer view: `residual(16) · 2 of 3`. */
const instanceClusters = (frames: BlockFrame[]): ClusterSpec[] =>
  frames.map((frame, depth) => ({
    key: frames.slice(0, depth + 1).map((f) => `${f.instance}#${f.repeat?.index ?? ''}`).join('/'),
    lines: [frame.repeat ? `${frame.label} · ${frame.repeat.index + 1} of ${frame.repeat.count}` : frame.label],
    repeated: false,
  }));

function layerDrawing(graph: Graph, options: DiagramOptions, theme: Theme): Drawing {
  const drawing = newDrawing(graph);
  const units = new Map<Node, Unit>();
  for (const node of graph.nodes) {
    // A result is drawn as its tuple's node: its readers' edges start there, labelled with the result's shape.
    if (node.op === 'result') {
      units.set(node, units.get(node.inputs[0])!);
      continue;
    }
    const unit = layerNode(`n${drawing.units.length}`, node, options, theme, drawing, instanceClusters(node.blockPath));
    drawing.units.push(unit);
    units.set(node, unit);
    drawing.links.push(...linksInto(node, (n) => units.get(n)!));
  }
  addOutputs(graph, drawing, options, theme, (n) => units.get(n)!);
  return drawing;
}

// ---------------------------------------------------------------- the block view

/** The nodes drawn as one block cluster: one block instance, or every instance of one `repeat`. */
const groupKey = (frame: BlockFrame) => (frame.repeat ? `repeat:${frame.repeat.group}` : `block:${frame.instance}`);

function blockDrawing(graph: Graph, options: DiagramOptions, theme: Theme): Drawing {
  const drawing = newDrawing(graph);
  // Top-level groups and their instances, each a list of nodes in order.
  const groups = new Map<string, Node[][]>();
  for (const node of graph.nodes) {
    const frame = node.blockPath[0];
    if (!frame) continue;
    const instances = groups.get(groupKey(frame)) ?? [];
    const index = frame.repeat?.index ?? 0;
    (instances[index] ??= []).push(node);
    groups.set(groupKey(frame), instances);
  }
  // Every node of a later repeat instance is drawn as its counterpart in the first.
  const representative = new Map<Node, Node>();
  for (const instances of groups.values())
    for (const nodes of instances) nodes.forEach((n, j) => representative.set(n, instances[0].length === nodes.length ? instances[0][j] : instances[0].at(-1)!));

  // Each group's parameters, counted once: every chip of the group's title needs them.
  const groupParams = new Map<string, number>();
  const paramsOfGroup = (key: string) => {
    let params = groupParams.get(key);
    if (params === undefined) groupParams.set(key, (params = groups.get(key)!.flat().reduce((sum, n) => sum + layerInfo(n).params, 0)));
    return params;
  };
  const unitFor = new Map<Node, Unit>();
  const chips = new Map<string, Unit>();
  for (const node of graph.nodes) {
    const rep = representative.get(node) ?? node;
    if (rep !== node) continue;
    if (node.op === 'result') {
      unitFor.set(node, unitFor.get(representative.get(node.inputs[0]) ?? node.inputs[0])!);
      continue;
    }
    const top = node.blockPath[0];
    if (!top) {
      const unit = layerNode(`n${drawing.units.length}`, node, options, theme, drawing, []);
      drawing.units.push(unit);
      unitFor.set(node, unit);
      continue;
    }
    const nested = node.blockPath[1];
    const outline = options.detail === 'outline';
    const chipKey = outline ? groupKey(top) : nested ? groupKey(nested) : `node:${node.id}`;
    let unit = chips.get(chipKey);
    if (!unit) {
      const instances = groups.get(groupKey(top))!;
      const params = paramsOfGroup(groupKey(top));
      const n = instances.length;
      // A repeat's count and its parameters per instance (the instances are alike): `× 3, 66,944 params each`.
      const count = options.params && params > 0 ? (n > 1 ? `× ${n}, ${grouped(params / n)} params each` : plural(params, 'param')) : n > 1 ? `× ${n}` : '';
      const lines = [top.label, ...(count ? [count] : [])];
      const id = `n${drawing.units.length}`;
      if (outline) {
        drawing.marks.add('block');
        const shape = options.shapes === 'nodes' ? [`→ ${shapeText(instances.at(-1)!.at(-1)!)}`] : [];
        unit = makeUnit(id, [...lines, ...shape], { style: filled(theme, 'rounded'), fillcolor: theme.block.fill, color: theme.block.border, penwidth: n > 1 ? 2.2 : 1.2 }, []);
      } else {
        const cluster: ClusterSpec = { key: groupKey(top), lines, repeated: n > 1 };
        unit = nested ? nestedChip(id, nested, theme, [cluster]) : layerChip(id, node, options, theme, drawing, [cluster]);
      }
      drawing.units.push(unit);
      chips.set(chipKey, unit);
    }
    unitFor.set(node, unit);
  }
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    const unit = (n: Node) => unitFor.get(representative.get(n) ?? n)!;
    for (const link of linksInto(node, unit)) {
      const [a, b] = [link.source.blockPath[0], node.blockPath[0]];
      const sameGroup = a !== undefined && b !== undefined && groupKey(a) === groupKey(b);
      if (link.from === link.to || (sameGroup && a.repeat?.index !== b.repeat?.index)) continue; // inside one chip, or from one repeat to the next
      const key = `${link.from.id}->${link.to.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      drawing.links.push({ ...link, quiet: sameGroup });
    }
  }
  addOutputs(graph, drawing, options, theme, (n) => unitFor.get(representative.get(n) ?? n)!);
  return drawing;
}

/** A layer inside a block card: one line, smaller; its output shape on a second line with `--shapes nodes`. */
function layerChip(id: string, node: Node, options: DiagramOptions, theme: Theme, drawing: Drawing, clusters: ClusterSpec[]): Unit {
  const info = layerInfo(node);
  drawing.families.add(info.family);
  if (node.op.startsWith('fused_')) drawing.marks.add('fused');
  const { fill, border } = theme.family[info.family];
  const lines = [info.detail ? `${info.title} ${info.detail}` : info.title, ...(options.shapes === 'nodes' ? [`→ ${nodeShapes(node, drawing)}`] : [])];
  return makeUnit(id, lines, { fillcolor: fill, color: border, height: 0.25, ...(node.op.startsWith('fused_') ? { peripheries: 2 } : {}) }, clusters, CHIP_FONT);
}

/** A block nested in a block card, drawn as one chip: `encoder(4, 128) × 2`. */
function nestedChip(id: string, frame: BlockFrame, theme: Theme, clusters: ClusterSpec[]): Unit {
  const times = frame.repeat && frame.repeat.count > 1 ? `  × ${frame.repeat.count}` : '';
  return makeUnit(id, [frame.label + times], { style: filled(theme, 'rounded', 'dashed'), fillcolor: theme.block.fill, color: theme.block.border, height: 0.25 }, clusters, CHIP_FONT);
}

// ---------------------------------------------------------------- writing DOT

export const layerView = (graph: Graph, options: DiagramOptions, theme: Theme): string => write(graph, layerDrawing(graph, options, theme), options, theme);

export const blockView = (graph: Graph, options: DiagramOptions, theme: Theme): string => write(graph, blockDrawing(graph, options, theme), options, theme);

/** The estimated node text of a view once fitted to `options.fit`, in points (fit.ts), and whether it has blocks to collapse. */
export function fittedText(graph: Graph, options: DiagramOptions, theme: Theme): { text: number; blocks: boolean } {
  const drawing = options.detail === 'blocks' || options.detail === 'outline' ? blockDrawing(graph, options, theme) : layerDrawing(graph, options, theme);
  return { text: rowPlan(graph, drawing, options).text, blocks: graph.nodes.some((n) => n.blockPath.length > 0) };
}

function write(graph: Graph, drawing: Drawing, options: DiagramOptions, theme: Theme): string {
  const w = new DotWriter().open('digraph model');
  const lr = options.direction === 'LR';
  header(w, theme, { rankdir: options.direction, nodesep: lr ? 0.15 : 0.25, ranksep: lr ? 0.1 : 0.25, newrank: true, labelloc: 'b', label: label([captionText(graph, options)]) });
  const plan = rowPlan(graph, drawing, options);
  const rowOf = rowsOf(drawing, plan);
  // Rows and the legend strip stack in the order they are declared: left to right in TB,
  // bottom-up in LR (so there the legend comes first and the rows last to first).
  if (lr) writeLegend(w, drawing, plan, lr, theme);
  writeUnits(w, drawing.units, rowOf, plan.starts.length, options, theme);
  if (!lr) writeLegend(w, drawing, plan, lr, theme);
  writeLinks(w, drawing, rowOf, options, theme);
  return w.close().toString();
}

/** Longest-path depth of every unit from the inputs: the ranks of the layout. */
function depthsOf(drawing: Drawing): Map<Unit, number> {
  const incoming = new Map<Unit, Link[]>();
  for (const link of drawing.links) incoming.set(link.to, [...(incoming.get(link.to) ?? []), link]);
  const depths = new Map<Unit, number>();
  // Units come in graph order (inputs before readers), so one pass suffices.
  for (const unit of drawing.units) depths.set(unit, Math.max(-1, ...(incoming.get(unit) ?? []).map((l) => depths.get(l.from) ?? 0)) + 1);
  return depths;
}

const depthCache = new WeakMap<Drawing, Map<Unit, number>>();
const depthOf = (drawing: Drawing, unit: Unit): number => {
  let depths = depthCache.get(drawing);
  if (!depths) depthCache.set(drawing, (depths = depthsOf(drawing)));
  return depths.get(unit)!;
};

/** The rows of a drawing fitted to `options.fit` (one row for `none`). */
function rowPlan(graph: Graph, drawing: Drawing, options: DiagramOptions): RowPlan {
  const lr = options.direction === 'LR';
  const index = new Map(drawing.units.map((u, i) => [u, i]));
  const boxes = drawing.units.map((u) => ({ ...boxSize(u.text, u.fontSize), depth: depthOf(drawing, u), clusters: u.clusters.map((c) => c.key) }));
  const isSkip = skipTest(drawing);
  const links = drawing.links.map((l): FitLink => [index.get(l.from)!, index.get(l.to)!, isSkip(l)]);
  const edgeLabels = options.shapes === 'edges' || drawing.links.some((l) => l.roles.length > 0);
  const caption = boxSize([captionText(graph, options)], 12);
  const legendEntries = legendOf(drawing, options.theme !== 'print');
  const fit = options.fit ?? '16:9';
  return planRows(boxes, links, NODE_FONT, fit === 'none' ? undefined : FIT_TARGETS[fit], lr, {
    rankGap: (lr ? 0.1 : 0.25) * 72,
    nodeGap: (lr ? 0.15 : 0.25) * 72,
    clusterPad: 10,
    labelGap: edgeLabels ? (lr ? 45 : 14) : 0,
    extraAcross: 20 + (lr ? caption.h : 0),
    legend: legendEntries.map((e) => {
      const chip = boxSize([legendName(e)], 9);
      return (lr ? chip.w : chip.h) + (lr ? 0.1 : 0.25) * 72;
    }),
    legendAcross: lr ? 26 : 90,
  });
}

/** The row of each unit, from the plan's first depth per row. */
function rowsOf(drawing: Drawing, plan: RowPlan): Map<Unit, number> {
  const rows = new Map<Unit, number>();
  for (const unit of drawing.units) {
    const d = depthOf(drawing, unit);
    let r = 0;
    while (r + 1 < plan.starts.length && plan.starts[r + 1] <= d) r++;
    rows.set(unit, r);
  }
  return rows;
}

interface Cluster {
  spec: ClusterSpec;
  items: (Unit | Cluster)[];
}

/**
 * Units in order, nested in their clusters, each row an invisible cluster of its
 * own (write declares them in the order dot stacks them). A cluster's title is its label
 * in LR; in TB the chain enters and leaves through the middle of the label's
 * place, so the title is a text node beside the cluster's first unit instead.
 */
function writeUnits(w: DotWriter, units: Unit[], rowOf: Map<Unit, number>, rows: number, options: DiagramOptions, theme: Theme): void {
  const tb = options.direction === 'TB';
  const firstUnit = (item: Unit | Cluster): Unit => ('id' in item ? item : firstUnit(item.items[0]));
  let next = 0;
  const emit = (items: (Unit | Cluster)[]) => {
    for (const item of items) {
      if ('id' in item) {
        w.stmt(item.id, item.attrs);
        continue;
      }
      const k = next++;
      const title = label(item.spec.lines, 'left');
      w.open(`subgraph cluster_${k}`).set({
        label: tb ? '' : title,
        labeljust: 'l',
        labelloc: 't',
        fontsize: 10,
        fontcolor: theme.muted,
        style: filled(theme, 'rounded', ...(theme.fills ? [] : ['dashed'])),
        fillcolor: theme.block.fill,
        color: theme.block.border,
        penwidth: item.spec.repeated ? 2.2 : 1,
        margin: 8,
      });
      if (tb) {
        const first = firstUnit(item).id;
        w.stmt(`t${k}`, { ...TEXT, label: title, fontsize: 10, fontcolor: theme.muted });
        w.line(`{ rank=same; t${k}; ${first}; }`);
        w.stmt(`t${k} -> ${first}`, { style: 'invis' });
      }
      emit(item.items);
      w.close();
    }
  };
  const byRow = Array.from({ length: rows }, (): Unit[] => []);
  for (const unit of units) byRow[rowOf.get(unit)!].push(unit);
  const order = Array.from({ length: rows }, (_, r) => r);
  for (const r of tb ? order : order.reverse()) {
    const root: (Unit | Cluster)[] = [];
    const clusters = new Map<string, Cluster>();
    for (const unit of byRow[r]) {
      let items = root;
      let path = '';
      for (const spec of unit.clusters) {
        path += `/${spec.key}`;
        let cluster = clusters.get(path);
        if (!cluster) {
          cluster = { spec, items: [] };
          clusters.set(path, cluster);
          items.push(cluster);
        }
        items = cluster.items;
      }
      items.push(unit);
    }
    if (rows === 1) emit(root);
    else {
      w.open(`subgraph cluster_row${r}`).set({ label: '', peripheries: 0, margin: 4 });
      emit(root);
      w.close();
    }
  }
}

/**
 * Whether a link is a skip connection: its tail reaches its head along another,
 * longer path too (a residual's identity). A branch with layers of its own
 * (Inception's towers, a projection shortcut) and a late input are not.
 */
function skipTest(drawing: Drawing): (link: Link) => boolean {
  const out = new Map<Unit, Unit[]>();
  for (const l of drawing.links) out.set(l.from, [...(out.get(l.from) ?? []), l.to]);
  return (link) => {
    const limit = depthOf(drawing, link.to);
    if (limit - depthOf(drawing, link.from) < 2) return false;
    const seen = new Set<Unit>();
    const stack = (out.get(link.from) ?? []).filter((u) => u !== link.to);
    while (stack.length > 0) {
      const u = stack.pop()!;
      if (u === link.to) return true;
      if (seen.has(u) || depthOf(drawing, u) >= limit) continue;
      seen.add(u);
      stack.push(...(out.get(u) ?? []));
    }
    return false;
  };
}

/**
 * Skip connections are drawn as coloured arcs with `constraint=false`, so that they
 * do not rank their heads and the main chain stays straight; no other edge is coloured.
 * With `--shapes edges` each tensor's shape is written once, on its first main link
 * (not after inputs, whose node shows it). A link inside a backwards row of the snake
 * is written head to tail with `dir=back`; a link from one row to the next is a turn
 * arrow, allowed to keep its rank (`minlen=0`) so that it runs straight across.
 */
function writeLinks(w: DotWriter, drawing: Drawing, rowOf: Map<Unit, number>, options: DiagramOptions, theme: Theme): void {
  const links = drawing.links;
  const isSkip = skipTest(drawing);
  const labelled = new Set<Node>(links.map((l) => l.source).filter((n) => n.op === 'input'));
  const attrs = new Map<Link, Attrs>();
  const tb = options.direction === 'TB';
  for (const link of [...links.filter((l) => !isSkip(l)), ...links.filter(isSkip)]) {
    const lines: string[] = [];
    if (options.shapes === 'edges' && !labelled.has(link.source)) {
      labelled.add(link.source);
      lines.push(shapeText(link.source));
    }
    if (link.roles.length > 0) lines.push(`(${link.roles.join(', ')})`);
    // TB puts labels right of their edges, touching them: a space keeps them apart.
    const text = lines.length > 0 ? label(tb ? lines.map((l) => ` ${l}`) : lines) : undefined;
    const [a, b] = [rowOf.get(link.from)!, rowOf.get(link.to)!];
    const turn = a !== b ? { minlen: 0 } : {};
    attrs.set(
      link,
      isSkip(link)
        ? { label: text, color: theme.skip, fontcolor: theme.skip, penwidth: 1.5, style: theme.fills ? undefined : 'dashed', constraint: false }
        : { label: text, weight: 4, ...turn },
    );
  }
  for (const link of links) {
    const back = rowOf.get(link.from) === rowOf.get(link.to) && rowOf.get(link.to)! % 2 === 1;
    if (back) w.stmt(`${link.to.id} -> ${link.from.id}`, { ...attrs.get(link)!, dir: 'back' });
    else w.stmt(`${link.from.id} -> ${link.to.id}`, attrs.get(link)!);
  }
}

/** The legend's entries: input / output, constant, the families used, fused layers. */
function legendOf(drawing: Drawing, fills: boolean): (OpFamily | Mark)[] {
  if (!fills || drawing.units.length === 0) return [];
  const families = (Object.keys(FAMILY_NAMES) as OpFamily[]).filter((f) => f !== 'io' && drawing.families.has(f));
  return [...(drawing.marks.has('io') ? ['io' as const] : []), ...(drawing.marks.has('constant') ? ['constant' as const] : []), ...families, ...(drawing.marks.has('fused') ? ['fused' as const] : []), ...(drawing.marks.has('block') ? ['block' as const] : [])];
}

/**
 * The legend: one chip per entry, in the colours it explains, in a strip along
 * the reading direction after the last row (under the rows in LR, right of the
 * columns in TB); a strip longer than the rows wraps into the next (fit.ts).
 * Left out in print, where nothing is coloured.
 */
function writeLegend(w: DotWriter, drawing: Drawing, plan: RowPlan, lr: boolean, theme: Theme): void {
  const entries = legendOf(drawing, theme.fills);
  if (entries.length === 0) return;
  // Strips stack like rows: declared last first in LR.
  const strips = plan.legendStarts.map((s, k) => [s, plan.legendStarts[k + 1] ?? entries.length]);
  for (const [k, [a, b]] of (lr ? [...strips.entries()].reverse() : [...strips.entries()])) writeLegendStrip(w, entries, a, b, k, theme);
}

/** The legend's display name of an entry. */
const legendName = (entry: OpFamily | Mark): string =>
  entry === 'io' ? 'input / output' : entry === 'constant' ? 'constant' : entry === 'fused' ? 'fused layer' : entry === 'block' ? 'block' : FAMILY_NAMES[entry];

function writeLegendStrip(w: DotWriter, all: (OpFamily | Mark)[], a: number, b: number, k: number, theme: Theme): void {
  const entries = all.slice(a, b);
  w.open(`subgraph cluster_legend${k}`).set({ label: '', peripheries: 0, margin: 4 });
  const ids = entries.map((entry, j) => {
    const i = a + j;
    const id = `legend${i}`;
    const look: Attrs =
      entry === 'io' || entry === 'constant'
        ? terminal(entry, theme)
        : entry === 'fused' || entry === 'block'
          ? { fillcolor: theme.block.fill, color: theme.block.border, ...(entry === 'fused' ? { peripheries: 2 } : {}) }
          : { fillcolor: theme.family[entry].fill, color: theme.family[entry].border };
    w.stmt(id, { label: label([legendName(entry)]), ...look, fontsize: 9, height: 0.22, margin: '0.05,0.02' });
    return id;
  });
  for (let j = 1; j < ids.length; j++) w.stmt(`${ids[j - 1]} -> ${ids[j]}`, { style: 'invis', minlen: 1 });
  w.close();
}
