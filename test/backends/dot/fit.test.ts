/**
 * Diagrams that fit a slide, measured on the SVG Graphviz draws: for every model in
 * examples/, in its default view (the one `dlc diagram` picks), the smallest node
 * text times the scale that fits the drawing into 1920x1080 pixels must be at least
 * 18 px, what a lecture hall needs. The figures are printed as a table (the README
 * notes keep a copy, with the figures before fitting).
 *
 * Also: the row planner's estimate against the drawing (fittingOptions relies on it),
 * and the choice of view it makes.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIAGRAM_OPTIONS, fittingOptions, renderDiagram } from '../../../src/backends/dot/index.js';
import { compileFile } from '../../../src/compile.js';
import type { Graph } from '../../../src/ir/types.js';

/** Node text size, in SVG units, and the drawing's size, from Graphviz's SVG (legend chips and TB cluster titles aside). */
export function measureSvg(svg: string): { text: number; width: number; height: number } {
  const [, , width, height] = /viewBox="([-\d. ]+)"/.exec(svg)![1].split(' ').map(Number);
  let text = Infinity;
  for (const group of svg.split('<g id=').slice(1)) {
    if (!group.slice(0, 60).includes('class="node"') || /<title>(legend\d+|t\d+)<\/title>/.test(group)) continue;
    for (const m of group.matchAll(/font-size="([\d.]+)"/g)) text = Math.min(text, Number(m[1]));
  }
  return { text, width, height };
}

/** Pixels of node text on a 1920x1080 slide, the drawing scaled to fit it (SVG units are points; the scale maps them to pixels). */
export const slidePixels = (svg: string): number => {
  const { text, width, height } = measureSvg(svg);
  return text * Math.min(1920 / width, 1080 / height);
};

const models: [string, Graph][] = readdirSync('examples')
  .filter((f) => f.endsWith('.dl'))
  .sort()
  .flatMap((f) => {
    const graphs = compileFile(`examples/${f}`).graphs;
    return graphs.map((g): [string, Graph] => [graphs.length > 1 ? `${f} ${g.name}` : f, g]);
  });

describe('every example on a 1920x1080 slide', () => {
  it('has node text of 18 px or more in its default view', async () => {
    const rows: string[] = [];
    const small: string[] = [];
    for (const [name, graph] of models) {
      const notes: string[] = [];
      const options = fittingOptions(graph, DEFAULT_DIAGRAM_OPTIONS, (n) => notes.push(n));
      const svg = (await renderDiagram(graph, { ...options, format: 'svg' })) as string;
      const px = slidePixels(svg);
      const { width, height } = measureSvg(svg);
      rows.push(`| ${name} | ${options.detail} | ${(width / height).toFixed(2)} | ${px.toFixed(1)} px |`);
      if (px < 18) small.push(`${name}: ${px.toFixed(1)} px`);
    }
    console.log(['| example | view | aspect | node text on 1920x1080 |', '|---|---|---|---|', ...rows].join('\n'));
    expect(small).toEqual([]);
  }, 120_000);
});

describe('the fitted view', () => {
  const byName = (file: string) => models.find(([name]) => name === file)![1];

  it('keeps the layer view where it fits, and collapses repeats where it does not, saying so', () => {
    const notes: string[] = [];
    expect(fittingOptions(byName('mnist_convnet.dl'), DEFAULT_DIAGRAM_OPTIONS, (n) => notes.push(n)).detail).toBe('layers');
    expect(notes).toEqual([]);
    expect(fittingOptions(byName('resnet50.dl'), DEFAULT_DIAGRAM_OPTIONS, (n) => notes.push(n)).detail).not.toBe('layers');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^note: ResNet50's layer view fitted to a 1920x1080 slide would have about \d+ px text, under the 21 px aimed for \(18 px at least, with room for the estimate's error\): drawing the (block view \(repeats collapsed\)|outline \(a node per block\)) instead, at about \d+ px; --detail layers draws every layer$/);
  });

  it('never changes a view asked for, nor with --fit none', () => {
    const graph = byName('resnet50.dl');
    expect(fittingOptions(graph, { ...DEFAULT_DIAGRAM_OPTIONS, collapse: false }).detail).toBe('layers');
    expect(fittingOptions(graph, { ...DEFAULT_DIAGRAM_OPTIONS, fit: 'none' }).detail).toBe('layers');
    expect(fittingOptions(graph, { ...DEFAULT_DIAGRAM_OPTIONS, detail: 'blocks' }).detail).toBe('blocks');
  });

  it('fills a portrait page with more rows than a slide', async () => {
    const graph = byName('mnist_convnet.dl');
    const aspect = async (fit: '16:9' | 'a4' | 'none') => {
      const { width, height } = measureSvg((await renderDiagram(graph, { ...DEFAULT_DIAGRAM_OPTIONS, fit, format: 'svg' })) as string);
      return width / height;
    };
    const [strip, slide, page] = [await aspect('none'), await aspect('16:9'), await aspect('a4')];
    expect(strip).toBeGreaterThan(slide);
    expect(slide).toBeGreaterThan(page);
  });
});
