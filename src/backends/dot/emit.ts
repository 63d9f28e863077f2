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
 * (drawn edges); one writer lays them out. Labels are plain text (the WebAssembly
 * Graphviz has no HTML-like labels). Not here: the neuron and unrolled views.
 */
import type { OpDef, OpFamily } from '../../ops/op.js';
import type { BlockFrame, Graph, Node } from '../../ir/types.js';
import { Attrs, DotWriter, label, plural, shapeLabel } from './dot.js';
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
}

const shapeText = (node: Node) => shapeLabel(node.type.shape) + (node.type.dtype === 'int32' ? ' int' : '');

function terminal(lines: string[], theme: Theme): Attrs {
  const { fill, border } = theme.family.io;
  return { label: label(lines), style: filled(theme, 'rounded'), fillcolor: fill, color: border, penwidth: 1.8 };
}

/** A layer's node: `conv2d 32 3x3` over `conv2d_1 · 18,496 params`; inputs and constants as terminals. */
function layerNode(node: Node, options: DiagramOptions, theme: Theme, families: Set<OpFamily>): Attrs {
  if (node.op === 'input') return terminal(options.direction === 'LR' ? ['input', node.name, shapeText(node)] : [`input ${node.name}`, shapeText(node)], theme);
  if (node.op === 'constant') return terminal(['constant', shapeText(node)], theme);
  const info = layerInfo(node);
  families.add(info.family);
  const { fill, border } = theme.family[info.family];
  const extra = [node.name !== node.op && node.name !== info.title.split(' ')[0] ? node.name : '', options.params && info.params > 0 ? plural(info.params, 'param') : ''].filter(Boolean);
  // LR diagrams run out of width, not height: one fact per line there.
  const lines =
    options.direction === 'LR'
      ? [info.title, info.detail, ...extra].filter(Boolean)
      : [info.detail ? `${info.title} ${info.detail}` : info.title, ...(extra.length > 0 ? [extra.join(' · ')] : [])];
  return { label: label(lines), fillcolor: fill, color: border };
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

function addOutputs(graph: Graph, drawing: Drawing, options: DiagramOptions, theme: Theme, unitOf: (n: Node) => Unit): void {
  for (const out of graph.outputs) {
    const lines = options.direction === 'LR' ? ['output', out.name] : [`output ${out.name}`];
    const unit: Unit = { id: `n${drawing.units.length}`, attrs: terminal(lines, theme), clusters: [] };
    drawing.units.push(unit);
    drawing.links.push({ from: unitOf(out.node), to: unit, source: out.node, roles: [] });
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
  const drawing: Drawing = { units: [], links: [], families: new Set() };
  const unitOf = new Map<Node, Unit>();
  for (const node of graph.nodes) {
    // A result is drawn as its tuple's node: its readers' edges start there, labelled with the result's shape.
    if (node.op === 'result') {
      unitOf.set(node, unitOf.get(node.inputs[0])!);
      continue;
    }
    const unit: Unit = { id: `n${drawing.units.length}`, attrs: layerNode(node, options, theme, drawing.families), clusters: instanceClusters(node.blockPath) };
    drawing.units.push(unit);
    unitOf.set(node, unit);
    drawing.links.push(...linksInto(node, (n) => unitOf.get(n)!));
  }
  addOutputs(graph, drawing, options, theme, (n) => unitOf.get(n)!);
  return drawing;
}

// ---------------------------------------------------------------- the block view

/** The nodes drawn as one block cluster: one block instance, or every instance of one `repeat`. */
const groupKey = (frame: BlockFrame) => (frame.repeat ? `repeat:${frame.repeat.group}` : `block:${frame.instance}`);

function blockDrawing(graph: Graph, options: DiagramOptions, theme: Theme): Drawing {
  const drawing: Drawing = { units: [], links: [], families: new Set() };
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

  const unitOf = new Map<Node, Unit>();
  const chips = new Map<string, Unit>();
  for (const node of graph.nodes) {
    const rep = representative.get(node) ?? node;
    if (rep !== node) continue;
    if (node.op === 'result') {
      unitOf.set(node, unitOf.get(representative.get(node.inputs[0]) ?? node.inputs[0])!);
      continue;
    }
    const top = node.blockPath[0];
    if (!top) {
      const unit: Unit = { id: `n${drawing.units.length}`, attrs: layerNode(node, options, theme, drawing.families), clusters: [] };
      drawing.units.push(unit);
      unitOf.set(node, unit);
      continue;
    }
    const nested = node.blockPath[1];
    const chipKey = nested ? groupKey(nested) : `node:${node.id}`;
    let unit = chips.get(chipKey);
    if (!unit) {
      const instances = groups.get(groupKey(top))!;
      const members = instances.flat();
      const params = members.reduce((sum, n) => sum + layerInfo(n).params, 0);
      const times = instances.length > 1 ? `  × ${instances.length}` : '';
      const cluster: ClusterSpec = {
        key: groupKey(top),
        lines: [top.label + times, ...(options.params && params > 0 ? [plural(params, 'param')] : [])],
        repeated: instances.length > 1,
      };
      unit = { id: `n${drawing.units.length}`, attrs: nested ? nestedChip(nested, theme) : layerChip(node, theme, drawing.families), clusters: [cluster] };
      drawing.units.push(unit);
      chips.set(chipKey, unit);
    }
    unitOf.set(node, unit);
  }
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    const unit = (n: Node) => unitOf.get(representative.get(n) ?? n)!;
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
  addOutputs(graph, drawing, options, theme, (n) => unitOf.get(representative.get(n) ?? n)!);
  return drawing;
}

/** A layer inside a block card: one line, smaller. */
function layerChip(node: Node, theme: Theme, families: Set<OpFamily>): Attrs {
  const info = layerInfo(node);
  families.add(info.family);
  const { fill, border } = theme.family[info.family];
  return { label: label([info.detail ? `${info.title} ${info.detail}` : info.title]), fillcolor: fill, color: border, fontsize: 10, height: 0.25 };
}

/** A block nested in a block card, drawn as one chip: `encoder(4, 128) × 2`. */
function nestedChip(frame: BlockFrame, theme: Theme): Attrs {
  const times = frame.repeat && frame.repeat.count > 1 ? `  × ${frame.repeat.count}` : '';
  return { label: label([frame.label + times]), style: filled(theme, 'rounded', 'dashed'), fillcolor: theme.block.fill, color: theme.block.border, fontsize: 10, height: 0.25 };
}

// ---------------------------------------------------------------- writing DOT

export const layerView = (graph: Graph, options: DiagramOptions, theme: Theme): string => write(graph, layerDrawing(graph, options, theme), options, theme);

export const blockView = (graph: Graph, options: DiagramOptions, theme: Theme): string => write(graph, blockDrawing(graph, options, theme), options, theme);

function write(graph: Graph, drawing: Drawing, options: DiagramOptions, theme: Theme): string {
  const w = new DotWriter().open('digraph model');
  const lr = options.direction === 'LR';
  header(w, theme, { rankdir: options.direction, nodesep: lr ? 0.15 : 0.25, ranksep: lr ? 0.1 : 0.25, newrank: true, labelloc: 'b', label: label([captionText(graph, options)]) });
  writeUnits(w, drawing.units, options, theme);
  writeLinks(w, drawing.links, options, theme);
  writeLegend(w, drawing, options, theme);
  return w.close().toString();
}

interface Cluster {
  spec: ClusterSpec;
  items: (Unit | Cluster)[];
}

/**
 * Units in order, nested in their clusters. A cluster's title is its label in
 * LR; in TB the chain enters and leaves through the middle of the label's
 * place, so the title is a text node beside the cluster's first unit instead.
 */
function writeUnits(w: DotWriter, units: Unit[], options: DiagramOptions, theme: Theme): void {
  const root: (Unit | Cluster)[] = [];
  const clusters = new Map<string, Cluster>();
  for (const unit of units) {
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
  const firstUnit = (item: Unit | Cluster): Unit => ('id' in item ? item : firstUnit(item.items[0]));
  const tb = options.direction === 'TB';
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
  emit(root);
}

/**
 * A link is a skip connection when it jumps over layers (its head is more than
 * one step deeper than its tail): it is drawn as a coloured arc with
 * `constraint=false`, so that it does not rank its head and the main chain stays straight.
 * Each tensor's shape is written once, on its first main link.
 */
function writeLinks(w: DotWriter, links: Link[], options: DiagramOptions, theme: Theme): void {
  const incoming = new Map<Unit, Link[]>();
  for (const link of links) incoming.set(link.to, [...(incoming.get(link.to) ?? []), link]);
  const depths = new Map<Unit, number>();
  const depth = (unit: Unit): number => {
    let d = depths.get(unit);
    if (d === undefined) {
      d = Math.max(-1, ...(incoming.get(unit) ?? []).map((l) => depth(l.from))) + 1;
      depths.set(unit, d);
    }
    return d;
  };
  const isSkip = (l: Link) => depth(l.to) - depth(l.from) > 1;
  // A shape is written where it changes: not after inputs (their node shows it), nor after
  // shape-preserving layers such as activations and dropout.
  const sameShape = (a: Node, b: Node) => a.type.dtype === b.type.dtype && a.type.shape.join() === b.type.shape.join();
  const labelled = new Set<Node>(links.map((l) => l.source).filter((n) => n.op === 'input' || (n.inputs.length > 0 && n.inputs.every((i) => sameShape(i, n)))));
  const attrs = new Map<Link, Attrs>();
  for (const link of [...links.filter((l) => !isSkip(l)), ...links.filter(isSkip)]) {
    const lines: string[] = [];
    if (options.shapes && !link.quiet && !labelled.has(link.source)) {
      labelled.add(link.source);
      lines.push(shapeText(link.source));
    }
    if (link.roles.length > 0) lines.push(`(${link.roles.join(', ')})`);
    // TB puts labels right of their edges, touching them: a space keeps them apart.
    const text = lines.length > 0 ? label(options.direction === 'TB' ? lines.map((l) => ` ${l}`) : lines) : undefined;
    attrs.set(
      link,
      isSkip(link)
        ? { label: text, color: theme.skip, fontcolor: theme.skip, penwidth: 1.5, style: theme.fills ? undefined : 'dashed', constraint: false }
        : { label: text, weight: 4 },
    );
  }
  for (const link of links) w.stmt(`${link.from.id} -> ${link.to.id}`, attrs.get(link)!);
}

/**
 * The legend: one chip per op family present, in the family's colours, after
 * the last unit (a column at the right in LR, a row at the bottom in TB).
 * Left out in print, where nothing is coloured.
 */
function writeLegend(w: DotWriter, drawing: Drawing, options: DiagramOptions, theme: Theme): void {
  const families = (Object.keys(FAMILY_NAMES) as OpFamily[]).filter((f) => f !== 'io' && drawing.families.has(f));
  if (!theme.fills || families.length === 0 || drawing.units.length === 0) return;
  const perGroup = options.direction === 'LR' ? 6 : 3;
  w.open('subgraph cluster_legend').set({ label: '', peripheries: 0, margin: 4 });
  const ids = families.map((f, i) => {
    const id = `legend${i}`;
    const { fill, border } = theme.family[f];
    w.stmt(id, { label: label([FAMILY_NAMES[f]]), fillcolor: fill, color: border, fontsize: 9, height: 0.22, width: 0.9, margin: '0.05,0.02' });
    return id;
  });
  // The chips of a group share a rank (a column in LR, a row in TB), ordered by invisible flat edges;
  // LR draws a rank's left-to-right order bottom-up, so there they are chained backwards.
  for (let i = 0; i < ids.length; i += perGroup) {
    const group = ids.slice(i, i + perGroup);
    w.line(`{ rank=same; ${group.join('; ')}; }`);
    if (options.direction === 'LR') group.reverse();
    for (let j = 1; j < group.length; j++) w.stmt(`${group[j - 1]} -> ${group[j]}`, { style: 'invis', arrowhead: 'none', minlen: 0 });
    if (i > 0) w.stmt(`${ids[i - perGroup]} -> ${ids[i]}`, { style: 'invis' });
  }
  w.close();
  w.stmt(`${drawing.units.at(-1)!.id} -> ${ids[0]}`, { style: 'invis' });
}
