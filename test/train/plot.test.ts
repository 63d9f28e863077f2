/**
 * `dlc train --plot`: the curves come out in the format the extension names
 * (SVG, PNG at 2 pixels per point of the SVG, PDF with embedded fonts, checked
 * with poppler's pdfinfo and pdffonts, which .ci/run installs), and the legend
 * sits outside every plot area, so it never covers a line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliSandbox } from '../cli/process.js';

const { dir, dlc } = cliSandbox('dlc-plot-');

function tool(name: string, args: string[]): string {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(`${name} is not installed: install poppler-utils (apt-get; .ci/run does)`);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const train = (plot: string) => dlc('train', 'examples/xor.dl', '-o', join(dir, `${plot}.safetensors`), '--epochs', '30', '--quiet', '--plot', join(dir, plot));

describe('dlc train --plot', () => {
  it('writes SVG, PNG or PDF as the extension says', () => {
    for (const plot of ['c.svg', 'c.png', 'c.pdf']) expect(train(plot), plot).toMatchObject({ code: 0, stderr: '' });
    const svg = readFileSync(join(dir, 'c.svg'), 'utf8');
    const [, width, height] = /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="([0-9.]+)" height="([0-9.]+)"/.exec(svg)!.map(Number);

    const png = readFileSync(join(dir, 'c.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([2 * width, 2 * height]);

    const pdf = join(dir, 'c.pdf');
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    expect(tool('pdfinfo', [pdf])).toMatch(new RegExp(`^Page size: +${width} x ${height} pts`, 'm'));
    const fonts = tool('pdffonts', [pdf]).split('\n').slice(2).filter(Boolean);
    expect(fonts.map((line) => line.split(/\s+/)[0].replace(/^[A-Z]{6}\+/, '')).sort()).toEqual(['Arimo-Bold', 'Arimo-Regular']);
    for (const line of fonts) expect(line).toMatch(/ yes +yes +yes /); // embedded, subset, with a Unicode map
    const text = tool('pdftotext', ['-raw', pdf, '-']);
    for (const words of ['XorNet: xor: the 4 points (also the test set)', 'Loss', 'Accuracy', 'epoch', 'train', 'test', '100%']) expect(text).toContain(words);
  });

  it('any other extension is an error before training: no file is written', () => {
    const r = train('c.jpg');
    expect(r).toMatchObject({ code: 1, stderr: `error: --plot must end in .svg, .png or .pdf, got '${join(dir, 'c.jpg')}'\n` });
    expect(existsSync(join(dir, 'c.jpg.safetensors'))).toBe(false);
  });

  it('puts each legend above its plot area, clear of every line', () => {
    expect(train('legend.svg').code).toBe(0);
    const svg = readFileSync(join(dir, 'legend.svg'), 'utf8');
    const points = (d: string) => [...d.matchAll(/(-?[0-9.]+),(-?[0-9.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    // The axes of a panel: one path from the top of the y axis down to the corner and right along x.
    const axes = [...svg.matchAll(/<path d="([^"]+)" fill="none" stroke="#333333"/g)].map((m) => points(m[1])).filter((p) => p.length === 3);
    expect(axes).toHaveLength(2);
    const areas = axes.map(([[left, top], , [right, bottom]]) => ({ left, top, right, bottom }));
    const inside = ([x, y]: number[]) => areas.some((a) => x >= a.left && x <= a.right && y >= a.top && y <= a.bottom);
    // Data lines are the series' long paths; legend samples are two-point lines in a series colour.
    const series = [...svg.matchAll(/<path d="([^"]+)" fill="none" stroke="#(1f77b4|ff7f0e)"/g)].map((m) => points(m[1]));
    const lines = series.filter((p) => p.length > 2);
    const samples = series.filter((p) => p.length === 2);
    expect(lines.length).toBe(4); // train and test, loss and accuracy
    expect(samples.length).toBe(4);
    for (const line of lines) for (const p of line) expect(inside(p), `line point ${p}`).toBe(true);
    for (const sample of samples) for (const p of sample) expect(inside(p), `legend sample ${p}`).toBe(false);
    const labels = [...svg.matchAll(/<text x="([0-9.]+)" y="([0-9.]+)"[^>]*>(train|test)<\/text>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(labels).toHaveLength(4);
    for (const p of labels) expect(inside(p), `legend label ${p}`).toBe(false);
  });
});
