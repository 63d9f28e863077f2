/**
 * A scene (scene.ts) as TikZ: a LaTeX document whose one page is the picture,
 * or with `body` the `tikzpicture` alone, to `\input` in a paper. Shapes are
 * drawn at Graphviz's coordinates (1 unit = 1 bp), in its colours, edges as its
 * Bézier splines; the text is set in the document's sans-serif (serif for the
 * paper theme's caption), and a line that runs wider than the layout reserved
 * is squeezed to fit its box.
 *
 * It compiles with a plain TeX Live pdflatex, needing only Debian's
 * texlive-latex-base and texlive-pictures: hence an `article` page sized with
 * geometry (the `standalone` class is in texlive-latex-extra), Computer Modern
 * made scalable by fix-cm, and ASCII-only TeX. All text goes through texText:
 * no layer or model name can reach TeX as anything but letters.
 */
import { checkPageSize, DASHES, isSerif, type Paint, type Pen, type Scene, type Shape } from '../../scene.js';

export interface TikzOptions {
  /** The `tikzpicture` only, without the document around it. */
  body: boolean;
  /** Said in the first comment line. */
  title: string;
}

export function sceneToTikz(scene: Scene, options: TikzOptions): string {
  checkPageSize(scene, 'TikZ picture');
  const colors = new Map<string, string>();
  /** `key=colour` for a TikZ key (fill, draw, text), with `key opacity` when not opaque. */
  const color = (key: string, p: Paint) => {
    if (!colors.has(p.color)) colors.set(p.color, `dlc${colors.size}`);
    return `${key}=${colors.get(p.color)}` + (p.opacity < 1 ? `, ${key} opacity=${num(p.opacity)}` : '');
  };
  const drawn = scene.shapes.map((s) => (s.kind === 'text' ? text(s, color) : figure(s, color))).filter((line) => line !== '');
  const picture = [
    `\\begin{tikzpicture}[x=1bp, y=1bp]`,
    // Sets #2 in its natural width, or squeezed to #1 bp when wider.
    `\\providecommand\\dlcfit[2]{\\setbox0=\\hbox{#2}\\ifdim\\wd0>#1bp\\resizebox{#1bp}{\\totalheight}{\\box0}\\else\\box0\\fi}`,
    ...[...colors].map(([hex, name]) => `\\definecolor{${name}}{HTML}{${hex.slice(1).toUpperCase()}}`),
    `\\useasboundingbox (0, 0) rectangle (${num(scene.width)}, ${num(scene.height)});`,
    ...drawn,
    `\\end{tikzpicture}`,
  ];
  const comment = `% ${texComment(options.title)}: TikZ drawn from Graphviz's layout by dlc.`;
  if (options.body) return [comment, '% \\input this file in a document that loads tikz.', ...picture, ''].join('\n');
  return [
    comment,
    '% Compile with pdflatex; the page is the picture.',
    '\\RequirePackage{fix-cm}',
    '\\documentclass{article}',
    `\\usepackage[papersize={${num(scene.width)}bp,${num(scene.height)}bp},margin=0pt]{geometry}`,
    '\\usepackage{tikz}',
    '\\pagestyle{empty}',
    '\\begin{document}',
    '\\noindent',
    ...picture,
    '\\end{document}',
    '',
  ].join('\n');
}

type Color = (key: string, p: Paint) => string;

function figure(s: Exclude<Shape, { kind: 'text' }>, color: Color): string {
  if (!s.fill && !s.stroke) return '';
  const styled = [...(s.fill ? [color('fill', s.fill)] : []), ...(s.stroke ? [color('draw', s.stroke), ...pen(s.pen)] : [])].join(', ');
  if (s.kind === 'ellipse') return `\\path[${styled}] (${num(s.cx)}, ${num(s.cy)}) ellipse [x radius=${num(s.rx)}, y radius=${num(s.ry)}];`;
  const at = ([x, y]: [number, number]) => `(${num(x)}, ${num(y)})`;
  let path = at(s.points[0]);
  if (s.curve) for (let i = 1; i + 2 < s.points.length; i += 3) path += ` .. controls ${at(s.points[i])} and ${at(s.points[i + 1])} .. ${at(s.points[i + 2])}`;
  else for (const p of s.points.slice(1)) path += ` -- ${at(p)}`;
  return `\\path[${styled}] ${path}${s.closed ? ' -- cycle' : ''};`;
}

const pen = (p: Pen) => [`line width=${num(p.width)}bp`, ...(p.dash === 'solid' ? [] : [`dash pattern=on ${DASHES[p.dash][0]}bp off ${DASHES[p.dash][1]}bp`])];

function text(s: Extract<Shape, { kind: 'text' }>, color: Color): string {
  if (s.text.trim() === '') return '';
  const anchor = { l: 'base west', c: 'base', r: 'base east' }[s.align];
  const font = [isSerif(s.font) ? '\\rmfamily' : '\\sffamily', s.bold ? '\\bfseries' : '', s.italic ? '\\itshape' : '', `\\fontsize{${num(s.size)}}{${num(s.size * 1.2)}}\\selectfont`].join('');
  const rotate = s.rotate ? `, rotate=${num(s.rotate)}` : '';
  const body = s.width > 0 ? `\\dlcfit{${num(s.width)}}{${texText(s.text)}}` : texText(s.text);
  return `\\node[anchor=${anchor}, inner sep=0pt, ${color('text', s.paint)}, font=${font}${rotate}] at (${num(s.x)}, ${num(s.y)}) {${body}};`;
}

const num = (x: number) => `${Math.round(x * 100) / 100}`;

// ---------------------------------------------------------------- text

/**
 * TeX's special characters, as commands that print them. ASCII symbols the
 * text fonts lack come from the typewriter font (whose OT1 layout is ASCII's),
 * as any other font would need TS1 encoding, which texlive-base has only as
 * bitmaps.
 */
const tt = (ch: string) => `{\\ttfamily\\char${ch.charCodeAt(0)}}`;
const SPECIAL: Record<string, string> = {
  '{': '\\{',
  '}': '\\}',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  ...Object.fromEntries([...'\\^~<>|"$_'].map((ch) => [ch, tt(ch)])),
  '-': '-{}', // no -- or --- ligatures
  '`': '`{}', // no ligatures of quotes
  "'": "'{}",
};
/** Non-ASCII characters the diagrams use or names may hold, in commands of the default (OT1) fonts. */
const SYMBOLS: Record<string, string> = {
  '×': '$\\times$',
  '·': '$\\cdot$',
  '→': '$\\rightarrow$',
  '←': '$\\leftarrow$',
  '≤': '$\\leq$',
  '≥': '$\\geq$',
  '±': '$\\pm$',
  '−': '$-$',
  '…': '\\ldots{}',
  '–': '--',
  '—': '---',
  '‘': '`',
  '’': "'",
  '“': '``',
  '”': "''",
  '°': '$^\\circ$',
  'µ': '$\\mu$',
  ß: '\\ss{}',
  æ: '\\ae{}',
  Æ: '\\AE{}',
  œ: '\\oe{}',
  Œ: '\\OE{}',
  ø: '\\o{}',
  Ø: '\\O{}',
  ł: '\\l{}',
  Ł: '\\L{}',
  ı: '\\i{}',
  å: '\\aa{}',
  Å: '\\AA{}',
};
/** Combining accents (from NFD) and their TeX accent commands. */
const ACCENTS: Record<string, string> = {
  '\u0300': '\\`',
  '\u0301': "\\'",
  '\u0302': '\\^',
  '\u0303': '\\~',
  '\u0304': '\\=',
  '\u0306': '\\u',
  '\u0307': '\\.',
  '\u0308': '\\"',
  '\u030a': '\\r',
  '\u030b': '\\H',
  '\u030c': '\\v',
  '\u0327': '\\c',
};
const GREEK = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho varsigma sigma tau upsilon phi chi psi omega'.split(' ');

/**
 * One line of text as TeX that prints it: ASCII specials as commands, accented
 * Latin letters as accents, Greek letters, subscripts and superscripts in math;
 * any other character as `?`
 * (the default fonts of pdflatex have no CJK, for one).
 */
export function texText(line: string): string {
  let out = '';
  for (const ch of line) {
    const code = ch.codePointAt(0)!;
    if (SPECIAL[ch] !== undefined) out += SPECIAL[ch];
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code < 0x20 || code === 0x7f) out += ' ';
    else if (SYMBOLS[ch] !== undefined) out += SYMBOLS[ch];
    else out += accented(ch) ?? greek(code) ?? script(ch, code) ?? '?';
  }
  return out;
}

function accented(ch: string): string | undefined {
  const [base, ...marks] = ch.normalize('NFD');
  if (!/^[A-Za-z]$/.test(base) || marks.length === 0 || !marks.every((m) => ACCENTS[m])) return undefined;
  const letter = base === 'i' ? '\\i' : base === 'j' ? '\\j' : base;
  return marks.reduce((inner, m) => `${ACCENTS[m]}{${inner}}`, letter);
}

/** Subscript and superscript digits, letters and signs (x₁, hₜ, x²) in math. */
function script(ch: string, code: number): string | undefined {
  const plain = ch.normalize('NFKC').replace('\u2212', '-');
  if (!/^[0-9a-z+\-=()]$/.test(plain)) return undefined;
  if (code >= 0x2080 && code <= 0x209c) return `$_{${plain}}$`;
  if ((code >= 0x2070 && code <= 0x207f) || code === 0xb9 || code === 0xb2 || code === 0xb3) return `$^{${plain}}$`;
  return undefined;
}

function greek(code: number): string | undefined {
  const lower = code >= 0x3b1 && code <= 0x3c9;
  const upper = code >= 0x391 && code <= 0x3a9 && code !== 0x3a2;
  if (!lower && !upper) return undefined;
  const name = GREEK[code - (lower ? 0x3b1 : 0x391)];
  if (lower) return name === 'omicron' ? 'o' : `$\\${name}$`;
  // Capitals that look like Latin letters are those letters; the rest have commands.
  const latin: Record<string, string> = { alpha: 'A', beta: 'B', epsilon: 'E', zeta: 'Z', eta: 'H', iota: 'I', kappa: 'K', mu: 'M', nu: 'N', omicron: 'O', rho: 'P', tau: 'T', chi: 'X', upsilon: '$\\Upsilon$' };
  return latin[name] ?? `$\\${name[0].toUpperCase()}${name.slice(1)}$`;
}

/** Text for a TeX comment line: no line ends. */
const texComment = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, ' ');
