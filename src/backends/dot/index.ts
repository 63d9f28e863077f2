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
import { blockView, fittedText, layerView } from './emit.js';
import { FIT_NAMES, FIT_TARGETS, type FitName } from './fit.js';
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
  /** `params` is the layer view with each layer's weights and their shapes; `outline` the block view with each block as one node. */
  detail: 'layers' | 'blocks' | 'outline' | 'neurons' | 'params';
  theme: ThemeName;
  /** Per-example output shapes: on the edges, inside the nodes, or not at all. */
  shapes: 'edges' | 'nodes' | 'none';
  /** Show parameter counts. */
  params: boolean;
  /** Draw the recurrent layer unrolled over this many steps (overrides `detail`). */
  unroll?: number;
  /** The page the layer and block views are laid out for (fit.ts); 16:9 when left out. */
  fit?: FitName;
  /** Whether renderDiagram may draw the block view when the layer view cannot fit (default true). */
  collapse?: boolean;
}

export const DEFAULT_DIAGRAM_OPTIONS: DiagramOptions = { direction: 'LR', detail: 'layers', theme: 'light', shapes: 'nodes', params: true, fit: '16:9' };

export { FIT_NAMES, FIT_TARGETS, type FitName } from './fit.js';

/**
 * The view that fits: the layer view, unless its text, fitted to the target, would be
 * smaller than the target's readable minimum (fit.ts); then the block view (repeats
 * collapsed) or, failing that, the outline (a node per block), whichever fits first or
 * else has the largest text. `note` hears why the view changed.
 */
export function fittingOptions(graph: Graph, options: DiagramOptions, note?: (message: string) => void): DiagramOptions {
  const fit = options.fit ?? '16:9';
  if (fit === 'none' || options.collapse === false || options.unroll !== undefined || options.detail !== 'layers') return options;
  const theme = themeOf(options.theme);
  if (!theme) return options;
  const target = FIT_TARGETS[fit];
  const layers = fittedText(graph, options, theme);
  // The estimate errs by up to a sixth either way (test/backends/dot/fit.test.ts measures the SVGs): aim above the minimum.
  const enough = target.minText * FIT_MARGIN;
  if (layers.text >= enough || !layers.blocks) return options;
  // The first coarser view that fits, else the one with the largest text.
  let best = { detail: 'layers' as DiagramOptions['detail'], text: layers.text };
  for (const detail of ['blocks', 'outline'] as const) {
    const { text } = fittedText(graph, { ...options, detail }, theme);
    if (text > best.text) best = { detail, text };
    if (text >= enough) break;
  }
  if (best.detail === 'layers') return options;
  note?.(messages.diagramCollapsed(graph.name, target.what, toPx(fit, layers.text), toPx(fit, enough), toPx(fit, target.minText), best.detail, toPx(fit, best.text), best.text >= target.minText).message);
  return { ...options, detail: best.detail };
}

const FIT_MARGIN = 1.15;

/** Text size as a message gives it: pixels on a slide, points on paper. */
const toPx = (fit: FitName, pt: number): string => (fit === '16:9' || fit === '4:3' ? `${Math.round((pt * 4) / 3)} px` : `${pt.toFixed(1)} pt`);

export function graphToDot(graph: Graph, options: DiagramOptions): string {
  const theme = themeOf(options.theme);
  if (!theme) fail(messages.diagramOption('theme', options.theme, THEME_NAMES));
  if (options.direction !== 'LR' && options.direction !== 'TB') fail(messages.diagramOption('direction', options.direction, ['LR', 'TB']));
  if (!['edges', 'nodes', 'none'].includes(options.shapes)) fail(messages.diagramOption('shapes', `${options.shapes}`, ['edges', 'nodes', 'none']));
  if (options.fit !== undefined && !FIT_NAMES.includes(options.fit)) fail(messages.diagramOption('fit', options.fit, FIT_NAMES));
  if (options.unroll !== undefined) {
    if (!Number.isInteger(options.unroll) || options.unroll < 1 || options.unroll > 50) fail(messages.unrollCount(options.unroll));
    return unrolledView(graph, options, theme);
  }
  switch (options.detail) {
    case 'layers':
    case 'params':
      return layerView(graph, options, theme);
    case 'blocks':
    case 'outline':
      return blockView(graph, options, theme);
    case 'neurons':
      return neuronView(graph, options, theme);
    default:
      return fail(messages.diagramOption('detail', options.detail, ['layers', 'blocks', 'outline', 'neurons', 'params']));
  }
}

/** The neuron and unrolled views pin every node (neato); the others are ranked by dot. */
const engineFor = (options: DiagramOptions) => (options.unroll !== undefined || options.detail === 'neurons' ? 'neato' : 'dot');

export type DiagramFormat = 'dot' | 'svg' | 'png' | 'pdf' | 'tex';

/**
 * DOT text, SVG text, PNG bytes at `scale` pixels per CSS pixel (default 2),
 * PDF bytes, or TikZ text (a LaTeX document, or with `tikzBody` the picture
 * alone), in the view that fits (fittingOptions; `note` hears when it changes the view).
 */
export async function renderDiagram(
  graph: Graph,
  options: DiagramOptions & { format: DiagramFormat; scale?: number; tikzBody?: boolean },
  note?: (message: string) => void,
): Promise<Uint8Array | string> {
  const fitted = fittingOptions(graph, options, note);
  const dot = graphToDot(graph, fitted);
  if (options.format === 'dot') return dot;
  if (options.format === 'pdf' || options.format === 'tex') {
    const scene = await layout(dot, engineFor(options));
    return options.format === 'pdf' ? sceneToPdf(scene, { title: graph.name }) : sceneToTikz(scene, { title: graph.name, body: options.tikzBody ?? false });
  }
  const svg = await dotToSvg(dot, engineFor(options));
  if (options.format === 'svg') return svg;
  return svgToPng(svg, options.scale ?? 2);
}
