/**
 * Diagrams for papers, through the CLI: `-o x.pdf` (pdfkit) and `-o x.tex`
 * (TikZ, compiled here with pdflatex) against the SVG of the same view, which
 * Graphviz writes itself: the same page size, every line of text of the SVG
 * in the PDF's text (read back with poppler's pdftotext), every font embedded
 * (pdffonts) and none of them a bitmap. Hostile text reaches TeX only as
 * letters. pdflatex, pdfinfo, pdffonts and pdftotext are required: .ci/run
 * installs them (texlive-latex-base, texlive-pictures, poppler-utils); without
 * them these tests fail rather than skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeText } from '../../../src/backends/dot/dot.js';
import { layout } from '../../../src/backends/dot/layout.js';
import { sceneToTikz } from '../../../src/backends/dot/tikz.js';
import { cliSandbox } from '../../cli/process.js';
import { UNICODE_NAMES } from './models.js';

const { dir, dlc, file } = cliSandbox('dlc-paper-');

/** Runs a TeX or poppler tool; a missing tool is a failure that says what to install. */
function tool(name: string, args: string[], cwd = dir): string {
  const r = spawnSync(name, args, { cwd, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error(`${name} is not installed: install texlive-latex-base, texlive-pictures and poppler-utils (apt-get; .ci/run does)`);
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed:\n${r.stdout.slice(-3000)}\n${r.stderr}`);
  return r.stdout;
}

/** Compiles a .tex file in the sandbox and returns the PDF's path. */
function pdflatex(tex: string): string {
  tool('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', '-output-directory', dir, tex]);
  return tex.replace(/\.tex$/, '.pdf');
}

/** Page size in points, as pdfinfo reports it. */
function pageSize(pdf: string): [number, number] {
  const info = tool('pdfinfo', [pdf]);
  expect(info).toMatch(/^Pages: +1$/m);
  const [, w, h] = /^Page size: +([0-9.]+) x ([0-9.]+) pts/m.exec(info)!;
  return [Number(w), Number(h)];
}

/** The fonts pdffonts lists: name, type and whether embedded. */
function fonts(pdf: string): { name: string; type: string; embedded: boolean }[] {
  return tool('pdffonts', [pdf])
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => {
      const [, name, type, embedded] = /^(\S+)\s+(Type 3|Type 1C?|CID TrueType|TrueType|CID Type 0C?)\s+\S+\s+(yes|no)/.exec(line)!;
      return { name, type, embedded: embedded === 'yes' };
    });
}

/** The SVG's page size in points (its viewBox) and the text of its <text> elements, one per line of a label. */
function svgFacts(svg: string): { size: [number, number]; lines: string[] } {
  const [, w, h] = /viewBox="0\.00 0\.00 ([0-9.]+) ([0-9.]+)"/.exec(svg)!;
  const entity = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return { size: [Number(w), Number(h)], lines: [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => entity(m[1])) };
}

/** Text without white space, subscripts as plain letters (NFKC: TeX sets x₁ as x with a lowered 1), TeX's math dot for `·` read as `·`. */
const squeeze = (s: string) => s.normalize('NFKC').replace(/\s+/g, '').replace(/\u22c5/g, '·');

const views: [string, string, string[]][] = [
  ['residual', 'examples/residual.dl', ['--detail', 'layers']],
  ['transformer-blocks', 'examples/transformer.dl', ['--detail', 'blocks']],
  ['perceptron-neurons', 'examples/perceptron.dl', ['--detail', 'neurons']],
  ['rnn-unrolled', 'examples/rnn.dl', ['--unroll', '3']],
  ['mnist-paper-tb', 'examples/mnist_convnet.dl', ['--theme', 'paper', '--direction', 'TB']],
  ['unicode-names', file('unicode.dl', UNICODE_NAMES), ['--theme', 'print']],
];

describe('dlc diagram -o x.pdf and -o x.tex', () => {
  for (const [name, source, flags] of views) {
    it(`${name}: the PDF and the compiled TikZ have the SVG's page and text, fonts embedded`, () => {
      const out = (ext: string) => join(dir, ext === 'tex' ? `${name}-tikz.tex` : `${name}.${ext}`); // pdflatex writes <name>-tikz.pdf
      for (const ext of ['svg', 'pdf', 'tex']) expect(dlc('diagram', source, '-o', out(ext), ...flags)).toMatchObject({ code: 0, stderr: '' });
      const svg = svgFacts(readFileSync(out('svg'), 'utf8'));
      const pdfs = { pdfkit: out('pdf'), tikz: pdflatex(out('tex')) };
      for (const [writer, pdf] of Object.entries(pdfs)) {
        const [w, h] = pageSize(pdf);
        expect([w, h], writer).toEqual(svg.size);
        const used = fonts(pdf);
        expect(used.length).toBeGreaterThan(0);
        for (const f of used) expect(f, writer).toMatchObject({ embedded: true, type: expect.not.stringMatching(/Type 3/) });
        if (writer === 'pdfkit') expect(new Set(used.map((f) => f.name.replace(/^[A-Z]{6}\+/, '')))).toEqual(new Set(['Arimo-Regular']));
        const text = squeeze(tool('pdftotext', ['-raw', pdf, '-']));
        // Arimo has no CJK (pdfkit draws nothing there, as the PNG does); pdflatex's default fonts have no CJK or Cyrillic either (TikZ draws '?').
        const drawn = (line: string) => (writer === 'tikz' ? line.replace(/[\p{Script=Han}\p{Script=Cyrillic}]/gu, '?') : line.replace(/\p{Script=Han}/gu, ''));
        for (const line of svg.lines) expect(text, writer).toContain(squeeze(drawn(line)));
      }
    });
  }

  it('--tikz-body writes a tikzpicture that a paper can \\input', () => {
    const body = join(dir, 'body.tex');
    expect(dlc('diagram', 'examples/residual.dl', '-o', body, '--tikz-body')).toMatchObject({ code: 0, stdout: `${body}: TikZ of TinyResNet\n` });
    const tex = readFileSync(body, 'utf8');
    expect(tex).not.toContain('\\documentclass');
    expect(tex).toMatch(/\\begin\{tikzpicture\}[^]*\\end\{tikzpicture\}\n$/);
    const paper = file('paper.tex', `\\documentclass{article}\n\\usepackage{tikz}\n\\begin{document}\nFigure:\n\n\\resizebox{\\textwidth}{!}{\\input{body.tex}}\n\\end{document}\n`);
    const text = squeeze(tool('pdftotext', ['-raw', pdflatex(paper), '-']));
    expect(text).toContain('Figure:');
    expect(text).toContain(squeeze('TinyResNet · 14,538 params'));
  });

  it('hostile text reaches TeX as letters: the picture compiles and shows it literally', async () => {
    const hostile = ['\\input{/etc/passwd}', '\\end{document}', '$x^2$ & #1 % ~_{}', 'a"b<c>d|e --x', '\\def\\a{\\a}\\a', '}}}]', 'Ψ_é_Ω_ß'];
    const dot = `digraph { ${hostile.map((t, i) => `n${i} [shape=box, label="${escapeText(t)}"];`).join(' ')} }`;
    const tex = file('hostile.tex', sceneToTikz(await layout(dot, 'dot'), { title: 'a\n\\input{x}', body: false }));
    const pdf = pdflatex(tex);
    for (const f of fonts(pdf)) expect(f).toMatchObject({ embedded: true, type: expect.not.stringMatching(/Type 3/) });
    expect(squeeze(tool('pdftotext', ['-raw', pdf, '-']))).toBe(squeeze(hostile.join('')));
  });
});

describe('dlc diagram: outputs a view cannot have', () => {
  it('--scale is for PNGs, --tikz-body for .tex: usage errors that leave no file', () => {
    const pdf = join(dir, 'scaled.pdf');
    expect(dlc('diagram', 'examples/xor.dl', '-o', pdf, '--scale', '3')).toMatchObject({
      code: 1,
      stderr: `error: --scale sets a PNG's pixels, but '${pdf}' is not a PNG\n  hint: scale a vector picture where you place it\n`,
    });
    const svg = join(dir, 'body.svg');
    expect(dlc('diagram', 'examples/xor.dl', '-o', svg, '--tikz-body')).toMatchObject({ code: 1, stderr: `error: --tikz-body needs a .tex output, got '${svg}'\n` });
    expect([existsSync(pdf), existsSync(svg)]).toEqual([false, false]);
  });

  it('a PNG under one pixel is an error, not an internal error', () => {
    const png = join(dir, 'tiny.png');
    const r = dlc('diagram', 'examples/xor.dl', '-o', png, '--scale', '0.0001');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --scale 0.0001 would make the PNG less than 1 pixel across\n  hint: use --scale [0-9.]+ or more\n$/);
    expect(existsSync(png)).toBe(false);
  });

  it('a page over 200 inches (DenseNet-121, one node per layer) is an error for PDF and TikZ', () => {
    // The SVG says how wide the layout is: the message must say the same.
    const svg = join(dir, 'densenet.svg');
    // As one strip (--fit none): fitted to a slide, the default, it draws the block view and fits a page.
    expect(dlc('diagram', 'examples/densenet121.dl', '--fit', 'none', '--detail', 'layers', '-o', svg).code).toBe(0);
    const [width, height] = svgFacts(readFileSync(svg, 'utf8')).size.map((n) => Math.ceil(n).toLocaleString('en-US'));
    for (const [ext, format] of [['pdf', 'PDF'], ['tex', 'TikZ picture']]) {
      const out = join(dir, `densenet.${ext}`);
      expect(dlc('diagram', 'examples/densenet121.dl', '--fit', 'none', '--detail', 'layers', '-o', out)).toMatchObject({
        code: 1,
        stderr: `error: the ${format} would be ${width} x ${height} pt; a page can be at most 14,400 pt (200 in) on each side\n  hint: draw fewer nodes (--detail blocks), turn the diagram (--direction TB), or write .svg\n`,
      });
      expect(existsSync(out)).toBe(false);
    }
  });
});
