/**
 * Diagram colours and defaults: one hue per op family (OpDef.family), the same
 * in every view, in three themes. `light` and `dark` are for slides; `print` is
 * black on white with no fills, for papers (families are then told apart by
 * their labels); `paper` is for papers too, greyscale-safe fills and serif
 * titles. Every view starts its DOT with `header`: the diagram font on
 * the graph, its nodes and its edges, so that the bundled font is measured and drawn.
 */
import type { OpFamily } from '../../ops/op.js';
import type { Attrs, DotWriter } from './dot.js';
import { DIAGRAM_FONT } from './render.js';
import { SERIF_FONT } from '../../scene.js';

export type ThemeName = 'light' | 'dark' | 'print' | 'paper';

export interface Swatch {
  fill: string;
  border: string;
}

export interface Theme {
  name: ThemeName;
  font: string;
  /** The graph's own labels: the caption and block titles. */
  captionFont: string;
  /** Whether shapes are filled; false in print. */
  fills: boolean;
  background: string;
  text: string;
  /** Secondary text: names, parameter counts, edge shapes. */
  muted: string;
  edge: string;
  /** Skip (residual) connections. */
  skip: string;
  /** Block clusters and block cards. */
  block: Swatch;
  family: Record<OpFamily, Swatch>;
  /** Neuron and unrolled views: the input, hidden and output layers. */
  role: Record<'input' | 'hidden' | 'output', Swatch>;
}

/** Legend names of the families. */
export const FAMILY_NAMES: Record<OpFamily, string> = {
  io: 'input / output',
  core: 'dense',
  conv: 'convolution',
  pool: 'pooling',
  activation: 'activation',
  recurrent: 'recurrent',
  attention: 'attention',
  norm: 'normalization',
  merge: 'merge',
  shape: 'reshape',
  regularization: 'regularization',
  embedding: 'embedding',
};

// [light fill, light border, dark fill, dark border] per family.
const HUES: Record<OpFamily, [string, string, string, string]> = {
  io: ['#ECEFF3', '#6B7785', '#2C3340', '#9AA6B8'],
  core: ['#DBE7FB', '#2F6FDE', '#1D3763', '#79A6FF'],
  conv: ['#FDE2C4', '#D96A00', '#55340F', '#FFAA5C'],
  pool: ['#D5F0DD', '#1B8A3C', '#17412A', '#5FD38A'],
  activation: ['#FADDE7', '#C8256B', '#55203A', '#F27BAE'],
  recurrent: ['#E8DCFA', '#7B3FD0', '#3A2560', '#B58CFF'],
  attention: ['#FFF0BF', '#B38600', '#4D3F0D', '#F2CC4D'],
  norm: ['#D3F1F1', '#0F8585', '#113F40', '#4FD1D1'],
  merge: ['#EFE3D7', '#8A5A32', '#43301F', '#D4A373'],
  shape: ['#ECECEC', '#7A7A7A', '#333333', '#B0B0B0'],
  regularization: ['#E6EBEE', '#5D7684', '#2A343A', '#93A9B5'],
  embedding: ['#E2F5D3', '#4E9A12', '#26401A', '#9AD66A'],
};

/** The paper theme's grey level of each family's fill (relative luminance, 1 = white): black text keeps a contrast of 15:1 or more. */
const PAPER_LUMA: Record<OpFamily, number> = {
  io: 0.93, core: 0.76, conv: 0.72, pool: 0.93, activation: 0.86, recurrent: 0.72, attention: 0.93,
  norm: 0.78, merge: 0.72, shape: 0.97, regularization: 0.97, embedding: 0.76,
};

/** WCAG relative luminance of `#rrggbb`. */
export function luma(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** `hex` mixed with white or black until its luminance is `target` (within 0.005), keeping its hue. */
function withLuma(hex: string, target: number): string {
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const toward = luma(hex) < target ? 255 : 0;
  const mix = (t: number) => '#' + rgb.map((c) => Math.round(c + (toward - c) * t).toString(16).padStart(2, '0')).join('');
  let [lo, hi] = [0, 1];
  for (let i = 0; i < 30; i++) {
    const t = (lo + hi) / 2;
    if ((luma(mix(t)) < target) === (toward === 255)) lo = t;
    else hi = t;
  }
  return mix(hi).toUpperCase();
}

const families = (pick: (h: [string, string, string, string]) => Swatch) =>
  Object.fromEntries(Object.entries(HUES).map(([f, h]) => [f, pick(h)])) as Record<OpFamily, Swatch>;

const THEMES: Record<ThemeName, Theme> = {
  light: {
    name: 'light',
    font: DIAGRAM_FONT,
    captionFont: DIAGRAM_FONT,
    fills: true,
    background: '#FFFFFF',
    text: '#1F2328',
    muted: '#5B636E',
    edge: '#6E7781',
    skip: '#D1242F',
    block: { fill: '#F6F8FA', border: '#BCC3CC' },
    family: families(([fill, border]) => ({ fill, border })),
    role: {
      input: { fill: '#C8E6C9', border: '#2E7D32' },
      hidden: { fill: '#BBDEFB', border: '#1565C0' },
      output: { fill: '#FFD8B0', border: '#D35400' },
    },
  },
  dark: {
    name: 'dark',
    font: DIAGRAM_FONT,
    captionFont: DIAGRAM_FONT,
    fills: true,
    background: '#1B1F27',
    text: '#E6E9EF',
    muted: '#A3ADBD',
    edge: '#8C96A8',
    skip: '#FF7B72',
    block: { fill: '#232833', border: '#4A5263' },
    family: families(([, , fill, border]) => ({ fill, border })),
    role: {
      input: { fill: '#1E4620', border: '#7BD88F' },
      hidden: { fill: '#173A5E', border: '#79B8FF' },
      output: { fill: '#5A3212', border: '#FFAB70' },
    },
  },
  print: {
    name: 'print',
    font: DIAGRAM_FONT,
    captionFont: DIAGRAM_FONT,
    fills: false,
    background: '#FFFFFF',
    text: '#000000',
    muted: '#000000',
    edge: '#000000',
    skip: '#000000',
    block: { fill: '#FFFFFF', border: '#000000' },
    family: families(() => ({ fill: '#FFFFFF', border: '#000000' })),
    role: {
      input: { fill: '#FFFFFF', border: '#000000' },
      hidden: { fill: '#FFFFFF', border: '#000000' },
      output: { fill: '#FFFFFF', border: '#000000' },
    },
  },
  // For papers: prints the same in colour and in greyscale. Each family keeps its
  // light hue, but at one of four lightness steps (PAPER_LUMA), so families met
  // side by side (conv, activation, pool; dense, activation) differ in grey too;
  // black text and borders; skip arcs black against grey edges; serif titles.
  paper: {
    name: 'paper',
    font: DIAGRAM_FONT,
    captionFont: SERIF_FONT,
    fills: true,
    background: '#FFFFFF',
    text: '#000000',
    muted: '#404040',
    edge: '#808080',
    skip: '#000000',
    block: { fill: '#F7F7F7', border: '#808080' },
    family: Object.fromEntries(Object.entries(HUES).map(([f, [fill]]) => [f, { fill: withLuma(fill, PAPER_LUMA[f as OpFamily]), border: '#000000' }])) as Record<OpFamily, Swatch>,
    role: {
      input: { fill: withLuma('#C8E6C9', 0.93), border: '#000000' },
      hidden: { fill: withLuma('#BBDEFB', 0.82), border: '#000000' },
      output: { fill: withLuma('#FFD8B0', 0.72), border: '#000000' },
    },
  },
};

export const themeOf = (name: ThemeName): Theme => THEMES[name];
export const THEME_NAMES = Object.keys(THEMES) as ThemeName[];

/** `style` for a filled shape, or its outline only in print. */
export const filled = (theme: Theme, ...extra: string[]): string => [...extra, ...(theme.fills ? ['filled'] : [])].join(',');

/** A borderless, unfilled text node (captions, weight names). */
export const TEXT = { shape: 'plaintext', style: 'solid', fixedsize: false, width: 0, height: 0, margin: 0 } as const;

/** Graph, node and edge defaults shared by all views: the font everywhere, the theme's colours. */
export function header(w: DotWriter, theme: Theme, graphAttrs: Attrs): void {
  w.stmt('graph', { fontname: theme.captionFont, fontsize: 12, fontcolor: theme.text, bgcolor: theme.background, pad: 0.2, ...graphAttrs });
  w.stmt('node', { fontname: theme.font, fontsize: 11, fontcolor: theme.text, shape: 'box', style: filled(theme, 'rounded'), penwidth: 1.2, margin: '0.06,0.04', height: 0.3, width: 0 });
  w.stmt('edge', { fontname: theme.font, fontsize: 9, fontcolor: theme.muted, color: theme.edge, arrowsize: 0.6, penwidth: 1.1 });
}
