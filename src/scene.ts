/**
 * A vector picture as a list of shapes, and its SVG: what the PDF and TikZ
 * writers draw (src/backends/dot/pdf.ts, tikz.ts), read from Graphviz's layout
 * for diagrams (src/backends/dot/layout.ts) or built directly for training
 * curves (src/train/plot.ts). Plain data: no renderer is imported here.
 *
 * Coordinates are PostScript points (1/72 in), origin at the bottom left, y up.
 * Text is one line on its baseline. Fonts are named by family: DIAGRAM_FONT
 * (Arimo, metric-compatible with Arial) or a serif (SERIF_FONT, the paper
 * theme's caption); each writer maps them to fonts it has.
 */
import { messages, UserError } from './diagnostics.js';

/** A colour as `#rrggbb` with an opacity in (0, 1]; a fully transparent paint is no paint (undefined). */
export interface Paint {
  color: string;
  opacity: number;
}

export interface Pen {
  /** Line width in points. */
  width: number;
  dash: 'solid' | 'dashed' | 'dotted';
}

export type Shape =
  /** A polyline, or with `curve` a cubic Bézier spline (a start, then three points per segment). */
  | { kind: 'path'; points: [number, number][]; curve: boolean; closed: boolean; fill?: Paint; stroke?: Paint; pen: Pen }
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number; fill?: Paint; stroke?: Paint; pen: Pen }
  /**
   * One line of text on its baseline: `x` is its left end, centre or right end as `align` says,
   * `width` the width the layout reserved for it (writers whose font runs wider squeeze it to
   * fit), `rotate` degrees counterclockwise about (x, y).
   */
  | { kind: 'text'; x: number; y: number; align: 'l' | 'c' | 'r'; width: number; size: number; font: string; bold: boolean; italic: boolean; paint: Paint; text: string; rotate?: number };

export interface Scene {
  /** Page size in points. */
  width: number;
  height: number;
  shapes: Shape[];
}

/** The serif family: the paper theme's caption. Graphviz measures it with its Times metrics. */
export const SERIF_FONT = 'Times';
export const isSerif = (font: string) => /times|serif|roman|tinos|georgia|garamond|palatino/i.test(font) && !/sans/i.test(font);

/** Dash patterns in points, as Graphviz's SVG draws `dashed` and `dotted`. */
export const DASHES: Record<Pen['dash'], number[]> = { solid: [], dashed: [5, 2], dotted: [1, 5] };

// ---------------------------------------------------------------- SVG

/** The scene as a standalone SVG document, one point per CSS pixel. */
export function sceneToSvg(scene: Scene): string {
  const { width, height } = scene;
  const y = (v: number) => num(height - v);
  const paintAttrs = (name: 'fill' | 'stroke', p: Paint | undefined) =>
    p === undefined ? ` ${name}="none"` : ` ${name}="${p.color}"${p.opacity < 1 ? ` ${name}-opacity="${num(p.opacity)}"` : ''}`;
  const penAttrs = (shape: { stroke?: Paint; pen: Pen }) =>
    shape.stroke === undefined ? '' : ` stroke-width="${num(shape.pen.width)}"${shape.pen.dash === 'solid' ? '' : ` stroke-dasharray="${DASHES[shape.pen.dash].join(' ')}"`}`;
  const body = scene.shapes.map((s) => {
    switch (s.kind) {
      case 'path': {
        const [first, ...rest] = s.points;
        const d = `M${num(first[0])},${y(first[1])} ${s.curve ? 'C' : 'L'}${rest.map(([a, b]) => `${num(a)},${y(b)}`).join(' ')}${s.closed ? ' Z' : ''}`;
        return `<path d="${d}"${paintAttrs('fill', s.fill)}${paintAttrs('stroke', s.stroke)}${penAttrs(s)}/>`;
      }
      case 'ellipse':
        return `<ellipse cx="${num(s.cx)}" cy="${y(s.cy)}" rx="${num(s.rx)}" ry="${num(s.ry)}"${paintAttrs('fill', s.fill)}${paintAttrs('stroke', s.stroke)}${penAttrs(s)}/>`;
      case 'text': {
        const anchor = { l: 'start', c: 'middle', r: 'end' }[s.align];
        const place = s.rotate ? ` transform="translate(${num(s.x)}, ${y(s.y)}) rotate(${num(-s.rotate)})"` : ` x="${num(s.x)}" y="${y(s.y)}"`;
        const family = isSerif(s.font) ? 'Times,serif' : `${s.font},Arial,Helvetica,sans-serif`;
        return `<text${place} text-anchor="${anchor}" font-family="${family}" font-size="${num(s.size)}"${s.bold ? ' font-weight="bold"' : ''}${s.italic ? ' font-style="italic"' : ''}${paintAttrs('fill', s.paint)}>${xmlText(s.text)}</text>`;
      }
    }
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}">`, ...body, '</svg>', ''].join('\n');
}

const num = (x: number) => `${Math.round(x * 100) / 100}`;

/** Text as XML character data: markup escaped, and what XML 1.0 forbids (controls but tab and line ends, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD. */
export const xmlText = (s: string) =>
  s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/**
 * The largest page side, in points, for PDF and TikZ output: 200 in, the limit of
 * PDF viewers (PDF 1.7, annex C) and well inside TeX's largest dimension (16,383 pt).
 */
export const MAX_PAGE_POINTS = 14_400;

/** Throws the user's error when the scene is too large for a `format` page. */
export function checkPageSize(scene: Scene, format: 'PDF' | 'TikZ picture'): void {
  if (scene.width > MAX_PAGE_POINTS || scene.height > MAX_PAGE_POINTS) throw new UserError(messages.pageTooLarge(format, scene.width, scene.height, MAX_PAGE_POINTS));
}
