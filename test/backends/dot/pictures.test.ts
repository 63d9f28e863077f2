/**
 * Every view renders: to non-empty SVG through the WebAssembly Graphviz, to a
 * PNG of a sensible size through resvg, and through Debian's graphviz
 * (`dot -Tsvg`) without a single warning (the WebAssembly build reports errors
 * only). Escaped hostile text survives a real parse. Debian's `dot` is required:
 * .ci/run installs it; without it these tests fail rather than skip.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DiagramOptions, graphToDot, renderDiagram } from '../../../src/backends/dot/index.js';
import { escapeText } from '../../../src/backends/dot/dot.js';
import { DIAGRAM_FONT, dotToSvg } from '../../../src/backends/dot/render.js';
import type { Graph } from '../../../src/ir/types.js';
import { compileText } from '../../helpers.js';
import { DENSE_MODELS, ISSUE_MODELS, RECURRENT_MODELS, UNICODE_NAMES } from './models.js';

/** One strip, shapes on the edges; the fitted views are listed with their fit. */
const defaults: DiagramOptions = { direction: 'LR', detail: 'layers', theme: 'light', shapes: 'edges', params: true, fit: 'none' };
const fitted: Partial<DiagramOptions> = { shapes: 'nodes', fit: '16:9' };

const views: [string, () => Graph, Partial<DiagramOptions>][] = [
  ['MnistConvNet layers', () => compileText(ISSUE_MODELS, 'MnistConvNet'), {}],
  ['MnistConvNet layers TB print', () => compileText(ISSUE_MODELS, 'MnistConvNet'), { direction: 'TB', theme: 'print' }],
  ['TinyResNet layers dark', () => compileText(ISSUE_MODELS, 'TinyResNet'), { theme: 'dark' }],
  ['TinyResNet blocks', () => compileText(ISSUE_MODELS, 'TinyResNet'), { detail: 'blocks' }],
  ['Sentiment layers', () => compileText(ISSUE_MODELS, 'Sentiment'), {}],
  ['Seq2Class layers', () => compileText(ISSUE_MODELS, 'Seq2Class'), {}],
  ['DeepMLP neurons', () => compileText(DENSE_MODELS, 'DeepMLP'), { detail: 'neurons' }],
  ['Perceptron neurons TB', () => compileText(DENSE_MODELS, 'Perceptron'), { detail: 'neurons', direction: 'TB' }],
  ['CharRNN unrolled', () => compileText(RECURRENT_MODELS, 'CharRNN'), { unroll: 4 }],
  ['CharRNN unrolled TB', () => compileText(RECURRENT_MODELS, 'CharRNN'), { unroll: 3, direction: 'TB' }],
  ['LastState (lstm) unrolled', () => compileText(RECURRENT_MODELS, 'LastState'), { unroll: 3 }],
  ['BiTagger unrolled', () => compileText(RECURRENT_MODELS, 'BiTagger'), { unroll: 3 }],
  ['Unicode names', () => compileText(UNICODE_NAMES), {}],
  ['MnistConvNet layers 16:9', () => compileText(ISSUE_MODELS, 'MnistConvNet'), fitted],
  ['MnistConvNet params 4:3', () => compileText(ISSUE_MODELS, 'MnistConvNet'), { ...fitted, detail: 'params', fit: '4:3' }],
  ['MnistConvNet layers TB a4', () => compileText(ISSUE_MODELS, 'MnistConvNet'), { ...fitted, direction: 'TB', fit: 'a4' }],
  ['TinyResNet layers 16:9 dark', () => compileText(ISSUE_MODELS, 'TinyResNet'), { ...fitted, theme: 'dark' }],
  ['TinyResNet blocks column', () => compileText(ISSUE_MODELS, 'TinyResNet'), { ...fitted, detail: 'blocks', fit: 'column' }],
  ['TinyResNet outline 16:9', () => compileText(ISSUE_MODELS, 'TinyResNet'), { ...fitted, detail: 'outline' }],
];

/** Width and height from the PNG's IHDR chunk. */
const pngSize = (png: Uint8Array) => {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
};
const svgInches = (svg: string) => {
  const [, w, h] = /<svg[^>]*\swidth="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg)!;
  return { width: Number(w) / 72, height: Number(h) / 72 };
};
const xmlText = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&(quot|lt|gt|amp|#(\d+));/g, (_, name: string, code?: string) => (code ? String.fromCodePoint(Number(code)) : { quot: '"', lt: '<', gt: '>', amp: '&' }[name]!)),
  );

/** Debian's `dot`, run with `input` on stdin; fails the test with the fix when it is not installed. */
function systemDot(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('dot', args, { input, encoding: 'utf8' });
  if (run.error) throw new Error(`these tests need Debian's graphviz: run \`apt-get install graphviz\` (${run.error.message})`);
  return run;
}

describe('rendering each view', () => {
  for (const [name, graph, options] of views) {
    it(`${name}: SVG and a PNG over 300 px wide at scale 2`, async () => {
      const svg = (await renderDiagram(graph(), { ...defaults, ...options, format: 'svg' })) as string;
      expect(svg).toContain('<svg');
      expect(svg).toContain(`font-family="${DIAGRAM_FONT}"`);
      expect(xmlText(svg).length).toBeGreaterThan(3);
      const png = (await renderDiagram(graph(), { ...defaults, ...options, format: 'png', scale: 2 })) as Uint8Array;
      const { width, height } = pngSize(png);
      expect(width).toBeGreaterThan(300);
      expect(height).toBeGreaterThan(100);
    });

    it(`${name}: Debian's dot -Tsvg reads the DOT without warnings`, () => {
      const run = systemDot(['-Tsvg', '-o', '/dev/null'], graphToDot(graph(), { ...defaults, ...options }));
      expect(run.status).toBe(0);
      expect(run.stderr).toBe('');
    });
  }

  it('lays the MNIST convnet out as one strip with --fit none, and in rows nearer 16:9 by default', async () => {
    const graph = compileText(ISSUE_MODELS, 'MnistConvNet');
    const strip = svgInches((await renderDiagram(graph, { ...defaults, format: 'svg' })) as string);
    const rows = svgInches((await renderDiagram(graph, { ...defaults, ...fitted, format: 'svg' })) as string);
    expect(strip.width / strip.height).toBeGreaterThan(4);
    expect(Math.abs(Math.log(rows.width / rows.height / (16 / 9)))).toBeLessThan(Math.abs(Math.log(strip.width / strip.height / (16 / 9))));
  });

  it('returns DOT text for format dot', async () => {
    const graph = compileText(ISSUE_MODELS, 'MnistConvNet');
    expect(await renderDiagram(graph, { ...defaults, format: 'dot' })).toBe(graphToDot(graph, defaults));
  });
});

describe('escaped text through Graphviz', () => {
  const hostile = ['"<>&{}|\\', 'a"];\nb [label="pwned', '\\N \\G \\n \\l', '&amp; &#65; &bogus;', 'Ψ_数_é'];

  it('shows hostile strings literally in the WebAssembly Graphviz', async () => {
    for (const shape of ['box', 'record']) {
      const nodes = hostile.map((text, i) => `n${i} [shape=${shape}, label="${escapeText(text)}"];`);
      const svg = await dotToSvg(`digraph { node [fontname="${DIAGRAM_FONT}"]; ${nodes.join(' ')} }`);
      expect(xmlText(svg)).toEqual(hostile.map((t) => t.replace(/\n/g, ' ')));
    }
  });

  it(`shows hostile strings literally in Debian's dot`, () => {
    const nodes = hostile.map((text, i) => `n${i} [label="${escapeText(text)}"];`);
    const run = systemDot(['-Tsvg'], `digraph { ${nodes.join(' ')} }`);
    expect(run.status).toBe(0);
    expect(xmlText(run.stdout)).toEqual(hostile.map((t) => t.replace(/\n/g, ' ')));
  });
});
