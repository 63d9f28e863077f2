/**
 * Rendering DOT to SVG and PNG with nothing installed on the machine: no system
 * Graphviz, no system fonts, no network.
 *
 * DOT -> SVG runs Graphviz compiled to WebAssembly (@viz-js/viz, Graphviz 16) in a
 * worker thread (src/platform/node.ts), so a Graphviz crash or endless layout cannot take this process down,
 * and the process can exit while the worker idles. (graphviz-cli's own build,
 * @aduh95/viz.js 3.7, draws every HTML-like label as the bare node name, so it is not used.)
 * SVG -> PNG runs resvg with one bundled font, Arimo, and system fonts off, so the
 * pictures are the same on every machine. Arimo is metric-compatible with Arial, and
 * Graphviz sizes text with its built-in Arial/Helvetica metrics when the fontname is
 * "Arimo", so labels fit their boxes. DIAGRAM_FONT is therefore every graph's default
 * fontname; DOT that names another font still draws in Arimo, but its boxes are sized
 * for that font (Times: about 10% too narrow for Arimo).
 *
 * Not here: building DOT from a graph.
 */
import { messages, UserError } from '../../diagnostics.js';
import { platform } from '../../platform/index.js';

/** The font family of diagrams: the default fontname of every graph, node and edge, and the font PNGs are drawn with. */
export const DIAGRAM_FONT = 'Arimo';
/** The TrueType file of DIAGRAM_FONT (Arimo Regular, SIL Open Font License 1.1), from an npm package. */
export const DIAGRAM_FONT_FILE = platform.fontFile('400Regular');
const arimo = platform.fontFile;
/** DIAGRAM_FONT's files by [bold][italic] (bold titles of the training curves). */
export const DIAGRAM_FONT_FILES = [
  [DIAGRAM_FONT_FILE, arimo('400Regular_Italic')],
  [arimo('700Bold'), arimo('700Bold_Italic')],
];

/** Graphviz's -G, -N and -E defaults: what the DOT does not set itself. */
const FONT_DEFAULTS = {
  graphAttributes: { fontname: DIAGRAM_FONT },
  nodeAttributes: { fontname: DIAGRAM_FONT },
  edgeAttributes: { fontname: DIAGRAM_FONT },
};

export interface DotToSvgOptions {
  /** Receives each Graphviz warning (unknown shape, unknown port, a font without metrics, ...). Without it, warnings are dropped. */
  onWarning?: (message: string) => void;
  /** Give up after this long (default two minutes); the next call starts a fresh Graphviz. */
  timeoutMs?: number;
}

/**
 * Lays out `dot` with `engine` (dot, neato, fdp, sfdp, circo, twopi, osage, patchwork)
 * and returns the SVG text. Any Graphviz error, including one it recovers from (a malformed
 * HTML label drawn as plain text), is thrown as an Error whose message is Graphviz's own,
 * one line per message. Warnings do not fail the render: Graphviz warns about every
 * non-ASCII character (it has no width for it), which names may contain.
 */
export function dotToSvg(dot: string, engine = 'dot', options: DotToSvgOptions = {}): Promise<string> {
  return dotTo('svg', dot, engine, options);
}

/** As dotToSvg, but Graphviz's JSON: the layout and its xdot drawing operations (layout.ts reads them). */
export function dotToJson(dot: string, engine = 'dot', options: DotToSvgOptions = {}): Promise<string> {
  return dotTo('json', dot, engine, options);
}

async function dotTo(format: 'svg' | 'json', dot: string, engine: string, options: DotToSvgOptions): Promise<string> {
  const result = await platform.graphviz(dot, { format, engine, ...FONT_DEFAULTS }, options.timeoutMs ?? 120_000);
  const reported = (level: 'error' | 'warning') =>
    result.errors.filter((e) => (e.level ?? 'error') === level).map((e) => e.message.replace(/^(Error|Warning): /, '').trim());
  const errors = reported('error');
  if (result.status === 'failure' || errors.length > 0) throw new Error(messages.graphvizErrors(errors).message);
  for (const warning of reported('warning')) options.onWarning?.(warning);
  return result.output;
}

/** The most pixels a PNG may have: 2^28, a 1 GiB RGBA canvas (the renderer aborts the process on sizes it cannot allocate). */
const MAX_PNG_PIXELS = 2 ** 28;

/** The SVG's size in CSS pixels from its root element's width and height, in points (as Graphviz writes them) or pixels; undefined if it has none. */
function svgPixels(svg: string): { width: number; height: number } | undefined {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const [width, height] = ['width', 'height'].map((a) => {
    const [, n, unit] = new RegExp(`\\s${a}="([0-9.]+)(pt|px|)"`).exec(root) ?? [];
    return (Number(n) * (unit === 'pt' ? 4 : 3)) / 3;
  });
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * Rasterizes SVG to PNG bytes at `scale` device pixels per CSS pixel. The PNG is
 * `scale` times the SVG's size in CSS pixels (96 per inch, so 1pt = 4/3 px, the
 * size a browser shows), rounded to whole pixels.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`svgToPng: scale must be a positive number, got ${scale}`);
  const size = svgPixels(svg);
  if (size && size.width * size.height * scale * scale > MAX_PNG_PIXELS) {
    const largest = Math.sqrt(MAX_PNG_PIXELS / (size.width * size.height));
    throw new UserError(messages.pngTooLarge(Math.round(size.width * scale), Math.round(size.height * scale), MAX_PNG_PIXELS, largest));
  }
  if (size && Math.min(size.width, size.height) * scale < 1) throw new UserError(messages.pngTooSmall(scale, 1 / Math.min(size.width, size.height)));
  return platform.rasterize(svg, scale, DIAGRAM_FONT);
}
