/**
 * Graphviz's drawing of a diagram as a list of shapes, for the writers that do
 * not go through SVG (tikz.ts, pdf.ts): the same layout, colours and text as
 * the SVG, read from Graphviz's JSON output, whose `_draw_`-style attributes
 * hold every object's xdot drawing operations (polygons, Bézier curves,
 * ellipses, text with its font, size and Graphviz's estimate of its width).
 *
 * Coordinates are PostScript points with the origin at the page's bottom left
 * and y up (Graphviz's convention), the page being the layout's bounding box
 * plus the graph's `pad`, rounded to whole points as in the SVG. Shapes come in Graphviz's SVG painting
 * order: the graph, clusters (outer before inner), then nodes and edges (each
 * node's out-edges after it, or all edges first with outputorder=edgesfirst).
 *
 * Not here: building DOT (emit.ts and the other views) or writing a format.
 */
import { messages } from '../../diagnostics.js';
import { dotToJson } from './render.js';

import type { Paint, Pen, Scene, Shape } from '../../scene.js';

// ---------------------------------------------------------------- Graphviz's JSON

type Point = [number, number];
type XdotOp =
  | { op: 'c' | 'C'; grad: string; color?: string; stops?: { frac: number; color: string }[] }
  | { op: 'E' | 'e'; rect: [number, number, number, number] }
  | { op: 'P' | 'p' | 'L' | 'B' | 'b'; points: Point[] }
  | { op: 'T'; pt: Point; align: 'l' | 'c' | 'r'; width: number; text: string }
  | { op: 'F'; size: number; face: string }
  | { op: 'S'; style: string }
  | { op: 't'; fontchar: number }
  | { op: 'I' };

interface GvObject {
  _gvid: number;
  name: string;
  subgraphs?: number[];
  [drawing: `_${string}draw_`]: XdotOp[] | undefined;
}
interface GvEdge extends GvObject {
  tail: number;
  head: number;
}
interface GvJson extends GvObject {
  bb: string;
  pad?: string;
  outputorder?: string;
  objects?: GvObject[];
  edges?: GvEdge[];
  _subgraph_cnt?: number;
}

/** The drawing attributes of one object, in the order Graphviz's SVG renderer draws them. */
const DRAWINGS = ['_draw_', '_ldraw_', '_hdraw_', '_tdraw_', '_hldraw_', '_tldraw_'] as const;

/** Lays `dot` out with `engine` and returns its drawing (Graphviz errors are thrown as by dotToSvg). */
export async function layout(dot: string, engine: string): Promise<Scene> {
  return sceneOf(JSON.parse(await dotToJson(dot, engine)) as GvJson);
}

export function sceneOf(graph: GvJson): Scene {
  const [x0, y0, x1, y1] = graph.bb.split(',').map(Number);
  // pad is in inches, 4 points when unset (Graphviz's DEFAULT_GRAPH_PAD); one value or "x,y".
  const [padX, padY = padX] = (graph.pad ?? '0.0555').split(',').map((p) => Number(p) * 72);
  // Graphviz rounds the SVG's page to whole points and keeps the drawing at its top left: so do we.
  const [width, height] = [Math.round(x1 - x0 + 2 * padX), Math.round(y1 - y0 + 2 * padY)];
  const place = ([x, y]: Point): Point => [x - x0 + padX, y - y1 + height - padY];
  const shapes: Shape[] = [];
  const draw = (object: GvObject) => {
    for (const attribute of DRAWINGS) shapes.push(...shapesOf(object[attribute] ?? [], place));
  };

  const subgraphCount = graph._subgraph_cnt ?? 0;
  const objects = graph.objects ?? [];
  const subgraphs = objects.slice(0, subgraphCount);
  const nodes = objects.slice(subgraphCount);
  const edges = [...(graph.edges ?? [])].sort((a, b) => a._gvid - b._gvid);

  draw(graph);
  const nested = new Set(subgraphs.flatMap((s) => s.subgraphs ?? []));
  const drawCluster = (s: GvObject): void => {
    draw(s); // a plain subgraph (rank=same) has no drawing
    for (const child of s.subgraphs ?? []) drawCluster(subgraphs[child]);
  };
  for (const s of subgraphs) if (!nested.has(s._gvid)) drawCluster(s);

  const byId = new Map(nodes.map((n) => [n._gvid, n]));
  if (graph.outputorder === 'edgesfirst' || graph.outputorder === 'nodesfirst') {
    const [first, second] = graph.outputorder === 'edgesfirst' ? [edges, nodes] : [nodes, edges];
    [...first, ...second].forEach(draw);
  } else {
    const drawn = new Set<number>();
    const drawNode = (id: number) => {
      if (drawn.has(id)) return;
      drawn.add(id);
      draw(byId.get(id)!);
    };
    const outEdges = new Map<number, GvEdge[]>();
    for (const e of edges) outEdges.set(e.tail, [...(outEdges.get(e.tail) ?? []), e]);
    for (const node of nodes) {
      drawNode(node._gvid);
      for (const edge of outEdges.get(node._gvid) ?? []) {
        drawNode(edge.head);
        draw(edge);
      }
    }
  }
  return { width, height, shapes };
}

/**
 * The shapes of one drawing attribute. Each attribute starts from Graphviz's
 * defaults (black pen, no fill, 1 pt solid line, 14 pt Times), as xdot says.
 */
function shapesOf(ops: XdotOp[], place: (p: Point) => Point): Shape[] {
  let stroke: Paint | undefined = { color: '#000000', opacity: 1 };
  let fill: Paint | undefined;
  let pen: Pen = { width: 1, dash: 'solid' };
  let font = { size: 14, face: 'Times', bold: false, italic: false };
  const shapes: Shape[] = [];
  for (const op of ops) {
    switch (op.op) {
      case 'c':
        stroke = paint(op);
        break;
      case 'C':
        fill = paint(op);
        break;
      case 'S': {
        const width = /^setlinewidth\(([0-9.]+)\)$/.exec(op.style)?.[1];
        if (width !== undefined) pen = { ...pen, width: Number(width) };
        else if (op.style === 'solid' || op.style === 'dashed' || op.style === 'dotted') pen = { ...pen, dash: op.style };
        else if (op.style === 'bold') pen = { ...pen, width: 2 };
        break; // other styles (rounded, filled, ...) are already in the geometry
      }
      case 'F':
        font = { ...font, size: op.size, face: op.face };
        break;
      case 't':
        font = { ...font, bold: (op.fontchar & 1) !== 0, italic: (op.fontchar & 2) !== 0 };
        break;
      case 'E':
      case 'e': {
        const [cx, cy] = place([op.rect[0], op.rect[1]]);
        shapes.push({ kind: 'ellipse', cx, cy, rx: op.rect[2], ry: op.rect[3], fill: op.op === 'E' ? fill : undefined, stroke, pen });
        break;
      }
      case 'P':
      case 'p':
      case 'L':
        shapes.push({ kind: 'path', points: op.points.map(place), curve: false, closed: op.op !== 'L', fill: op.op === 'P' ? fill : undefined, stroke, pen });
        break;
      case 'B':
      case 'b': {
        // Graphviz's JSON writer swaps the letters of filled (b) and unfilled (B) curves, so a curve
        // counts as filled when it is closed and a fill colour was set: a filled rounded box, not an edge.
        const [first, last] = [op.points[0], op.points.at(-1)!];
        const closed = first[0] === last[0] && first[1] === last[1];
        shapes.push({ kind: 'path', points: op.points.map(place), curve: true, closed, fill: closed ? fill : undefined, stroke, pen });
        break;
      }
      case 'T': {
        // xdot writes a backslash in text as two (the SVG shows one).
        const [x, y] = place(op.pt);
        shapes.push({ kind: 'text', x, y, align: op.align, width: op.width, size: font.size, font: font.face, bold: font.bold, italic: font.italic, paint: stroke ?? { color: '#000000', opacity: 1 }, text: op.text.replace(/\\\\/g, '\\') });
        break;
      }
      default:
        throw new Error(messages.graphvizErrors([`no drawing for the xdot operation '${op.op}'`]).message);
    }
  }
  return shapes;
}

/** A colour of a 'c' or 'C' operation: `#rrggbb` or `#rrggbbaa`; a gradient counts as its first stop. */
function paint(op: { grad: string; color?: string; stops?: { color: string }[] }): Paint | undefined {
  const text = (op.grad === 'none' ? op.color : op.stops?.[0]?.color) ?? '#000000';
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(text);
  if (!hex) throw new Error(messages.graphvizErrors([`unknown colour '${text}'`]).message);
  const opacity = hex[2] === undefined ? 1 : parseInt(hex[2], 16) / 255;
  return opacity === 0 ? undefined : { color: `#${hex[1].toLowerCase()}`, opacity };
}
