/**
 * Architecture diagrams of a checked graph, for slides and papers: DOT text,
 * and SVG or PNG through render.ts (Graphviz in WebAssembly, resvg).
 *
 * Views (DiagramOptions.detail): `layers` (a node per layer, emit.ts), `blocks`
 * (a cluster of small chips per block instance, a repeat collapsed into one
 * marked `× n`, emit.ts), `neurons` (a circle per unit, for small dense
 * networks, neurons.ts); `unroll: K` draws the model's recurrent layer over K
 * time steps instead (unroll.ts). The same graph and options always give the
 * same DOT; requests a view cannot draw throw a CompileError with one message.
 * PDF and TikZ are drawn from Graphviz's layout of the same DOT (layout.ts),
 * so they show what the SVG shows.
 */
import { messages } from '../../diagnostics.js';
import type { Graph } from '../../ir/types.js';
import { fail } from './dot.js';
import { blockView, layerView } from './emit.js';
import { neuronView } from './neurons.js';
import { layout } from './layout.js';
import { sceneToPdf } from './pdf.js';
import { dotToSvg, svgToPng } from './render.js';
import { THEME_NAMES, themeOf, type ThemeName } from './theme.js';
import { sceneToTikz } from './tikz.js';
import { unrolledView } from './unroll.js';

export { escapeText, quoteDot } from './dot.js';
export { DIAGRAM_FONT } from './render.js';

export interface DiagramOptions {
  direction: 'LR' | 'TB';
  detail: 'layers' | 'blocks' | 'neurons';
  theme: ThemeName;
  /** Label edges with per-example tensor shapes. */
  shapes: boolean;
  /** Show parameter counts. */
  params: boolean;
  /** Draw the recurrent layer unrolled over this many steps (overrides `detail`). */
  unroll?: number;
}

export const DEFAULT_DIAGRAM_OPTIONS: DiagramOptions = { direction: 'LR', detail: 'layers', theme: 'light', shapes: true, params: true };

export function graphToDot(graph: Graph, options: DiagramOptions): string {
  const theme = themeOf(options.theme);
  if (!theme) fail(messages.diagramOption('theme', options.theme, THEME_NAMES));
  if (options.direction !== 'LR' && options.direction !== 'TB') fail(messages.diagramOption('direction', options.direction, ['LR', 'TB']));
  if (options.unroll !== undefined) {
    if (!Number.isInteger(options.unroll) || options.unroll < 1 || options.unroll > 50) fail(messages.unrollCount(options.unroll));
    return unrolledView(graph, options, theme);
  }
  switch (options.detail) {
    case 'layers':
      return layerView(graph, options, theme);
    case 'blocks':
      return blockView(graph, options, theme);
    case 'neurons':
      return neuronView(graph, options, theme);
    default:
      return fail(messages.diagramOption('detail', options.detail, ['layers', 'blocks', 'neurons']));
  }
}

/** The neuron and unrolled views pin every node (neato); the others are ranked by dot. */
const engineFor = (options: DiagramOptions) => (options.unroll !== undefined || options.detail === 'neurons' ? 'neato' : 'dot');

export type DiagramFormat = 'dot' | 'svg' | 'png' | 'pdf' | 'tex';

/**
 * DOT text, SVG text, PNG bytes at `scale` pixels per CSS pixel (default 2),
 * PDF bytes, or TikZ text (a LaTeX document, or with `tikzBody` the picture alone).
 */
export async function renderDiagram(graph: Graph, options: DiagramOptions & { format: DiagramFormat; scale?: number; tikzBody?: boolean }): Promise<Uint8Array | string> {
  const dot = graphToDot(graph, options);
  if (options.format === 'dot') return dot;
  if (options.format === 'pdf' || options.format === 'tex') {
    const scene = await layout(dot, engineFor(options));
    return options.format === 'pdf' ? sceneToPdf(scene, { title: graph.name }) : sceneToTikz(scene, { title: graph.name, body: options.tikzBody ?? false });
  }
  const svg = await dotToSvg(dot, engineFor(options));
  if (options.format === 'svg') return svg;
  return svgToPng(svg, options.scale ?? 2);
}
