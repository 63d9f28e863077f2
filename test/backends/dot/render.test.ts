// Rendering without a system Graphviz or system fonts: DOT -> SVG in the WebAssembly
// Graphviz, SVG -> PNG in resvg with the bundled font.
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { DIAGRAM_FONT, DIAGRAM_FONT_FILE, dotToSvg, svgToPng } from '../../../src/backends/dot/render.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Width and height from the PNG's IHDR chunk, which always comes first. */
const pngSize = (png: Uint8Array) => {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
};
/** The SVG's declared size in points, as Graphviz writes it: width="62pt" height="116pt". */
const svgPoints = (svg: string) => ({
  width: Number(/<svg[^>]*\swidth="([\d.]+)pt"/.exec(svg)![1]),
  height: Number(/<svg[^>]*\sheight="([\d.]+)pt"/.exec(svg)![1]),
});
const chain = (n: number) => {
  const edges = Array.from({ length: n - 1 }, (_, i) => `n${i} -> n${i + 1};`);
  return `digraph { node [fontname="${DIAGRAM_FONT}" shape=box]; ${edges.join(' ')} }`;
};

const model = `digraph model {
  graph [fontname="${DIAGRAM_FONT}"]; node [fontname="${DIAGRAM_FONT}" shape=box]; edge [fontname="${DIAGRAM_FONT}"];
  input [label="input [28, 28, 1]"]; conv [label="conv2d (3x3, 32)"]; dense [label="dense_1 [10]"];
  input -> conv -> dense [label="relu"];
}`;

describe('dotToSvg', () => {
  it('renders the node labels in the diagram font', async () => {
    const svg = await dotToSvg(model);
    expect(svg).toMatch(/^<\?xml/);
    for (const label of ['input [28, 28, 1]', 'conv2d (3x3, 32)', 'dense_1 [10]', 'relu']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain(`font-family="${DIAGRAM_FONT}"`);
  });

  it('runs the other layout engines', async () => {
    expect(await dotToSvg('graph { a -- b -- c -- a }', 'neato')).toContain('<svg');
  });

  it("throws Graphviz's message for invalid DOT, and keeps working afterwards", async () => {
    await expect(dotToSvg('digraph { a -> ; }')).rejects.toThrow(/^syntax error in line 1 near ';'$/);
    await expect(dotToSvg('digraph { a -> b')).rejects.toThrow(/syntax error in line 1/);
    expect(await dotToSvg('digraph { a -> b }')).toContain('<svg');
  });

  it('draws HTML-like labels', async () => {
    const svg = await dotToSvg(
      'digraph { t [shape=plain label=<<table><tr><td><b>conv2d</b></td><td>3x3, 32</td></tr><tr><td colspan="2">[26, 26, 32]</td></tr></table>>] }',
    );
    expect(svg).toMatch(/font-weight="bold"[^>]*>conv2d<\/text>/);
    expect(svg).toContain('>3x3, 32</text>');
    expect(svg).toContain('>[26, 26, 32]</text>');
  });

  it('throws the errors Graphviz recovers from, such as a malformed HTML label', async () => {
    await expect(dotToSvg('digraph { t [label=<<table><tr><td>x</td></tr>>] }')).rejects.toThrow(
      'mismatched tag in line 1\n... </tr></HTML> ...\nin label of node t',
    );
  });

  it('makes the diagram font the default fontname', async () => {
    const svg = await dotToSvg('digraph { a -> b [label="edge"]; label="graph" }');
    expect(svg.match(/font-family="[^"]*"/g)).toEqual(new Array(4).fill(`font-family="${DIAGRAM_FONT}"`));
  });

  it("throws Graphviz's message for an unknown engine", async () => {
    await expect(dotToSvg('digraph { a }', 'bogus')).rejects.toThrow('Layout type: "bogus" not recognized');
  });

  it('hands warnings to onWarning, without failing the render', async () => {
    const warnings: string[] = [];
    const dot = 'digraph { a [fontname="No Such Font"]; b [label="3×3"]; c [shape=hexagonal]; c:north_west -> a }';
    const svg = await dotToSvg(dot, 'dot', { onWarning: (w) => warnings.push(w) });
    expect(svg).toContain('>3×3</text>');
    // Graphviz's messages and its stderr lines are collected apart, so only the set is certain.
    expect(warnings.sort()).toEqual([
      "no hard-coded metrics for 'No Such Font'.  Falling back to 'Times' metrics",
      'no value for width of non-ASCII character 195. Falling back to width of space character', // × is C3 97 in UTF-8
      'node c, port north_west unrecognized',
      'using box for unknown shape hexagonal',
    ]);
    const none: string[] = [];
    await dotToSvg(model, 'dot', { onWarning: (w) => none.push(w) });
    expect(none).toEqual([]);
  });

  it('answers concurrent requests each with its own graph and its own warnings', async () => {
    const warnings: string[] = [];
    const [plain, odd] = await Promise.all([
      dotToSvg('digraph { plain }', 'dot', { onWarning: (w) => warnings.push(`plain: ${w}`) }),
      dotToSvg('digraph { odd [fontname="Odd"] }', 'dot', { onWarning: (w) => warnings.push(`odd: ${w}`) }),
    ]);
    expect(plain).toContain('>plain</text>');
    expect(odd).toContain('>odd</text>');
    expect(warnings).toEqual(["odd: no hard-coded metrics for 'Odd'.  Falling back to 'Times' metrics"]);
  });

  it('answers concurrent requests each with its own graph', async () => {
    const names = ['alpha', 'beta', 'gamma', 'delta'];
    const svgs = await Promise.all(names.map((n) => dotToSvg(`digraph { ${n} }`)));
    svgs.forEach((svg, i) => expect(svg).toContain(`>${names[i]}</text>`));
  });

  it('renders a 1,000-node chain', async () => {
    const start = performance.now();
    const svg = await dotToSvg(chain(1000));
    console.log(`1,000-node chain: dot -> svg in ${Math.round(performance.now() - start)} ms, ${svg.length} characters`);
    expect(svg).toContain('>n0</text>');
    expect(svg).toContain('>n999</text>');
  });

  it('gives up after the timeout; the requests waiting behind it go to a fresh Graphviz', async () => {
    const slow = dotToSvg(chain(1000), 'dot', { timeoutMs: 1 });
    const waiting = dotToSvg('digraph { waiting }');
    await expect(slow).rejects.toThrow('Graphviz did not finish within 0.001 s');
    expect(await waiting).toContain('>waiting</text>');
    expect(await dotToSvg('digraph { after }')).toContain('>after</text>');
  });
});

describe('svgToPng', () => {
  it.each([1, 2, 3])('makes a PNG %dx the SVG size in CSS pixels', async (scale) => {
    const svg = await dotToSvg(model);
    const png = await svgToPng(svg, scale);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const points = svgPoints(svg);
    // 1pt = 96/72 CSS px.
    expect(pngSize(png)).toEqual({
      width: Math.round(((points.width * 96) / 72) * scale),
      height: Math.round(((points.height * 96) / 72) * scale),
    });
  });

  it('defaults to scale 2', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"/>';
    expect(pngSize(await svgToPng(svg))).toEqual({ width: 60, height: 40 });
  });

  it('draws text with the bundled font and no system fonts, whatever family the SVG names', async () => {
    const page = (text: string, family: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">` +
      `<text x="4" y="28" font-family="${family}" font-size="20">${text}</text></svg>`;
    const blank = await svgToPng(page('', 'Times,serif'));
    for (const family of [DIAGRAM_FONT, 'Times,serif', 'Courier', 'No Such Font']) {
      expect(await svgToPng(page('Hello', family))).not.toEqual(blank);
      expect(await svgToPng(page('Hello', family))).toEqual(await svgToPng(page('Hello', DIAGRAM_FONT)));
    }
  });

  it('rejects a scale that is not a positive number', async () => {
    await expect(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', 0)).rejects.toThrow(RangeError);
  });

  it('rejects text that is not SVG', async () => {
    await expect(svgToPng('not svg')).rejects.toThrow();
  });
});

describe('text metrics', () => {
  // Graphviz sizes boxes with its built-in Arial metrics for fontname "Arimo"; the font drawn must
  // be about as wide, or labels spill out of their boxes.
  it('a long label drawn in the bundled font fits the box Graphviz made for it', async () => {
    const label = 'batch_normalization_12: BatchNormalization [batch, 128, 128, 64] WWWMMM iiilll';
    const node = `fontname="${DIAGRAM_FONT}" fontsize=14 shape=box margin=0 width=0 height=0`;
    const svg = await dotToSvg(`digraph { node [${node}]; a [label="${label}"] }`);
    const xs = /<polygon fill="none" stroke="black" points="([^"]+)"/
      .exec(svg)![1]
      .split(' ')
      .map((p) => Number(p.split(',')[0]));
    const boxWidth = Math.max(...xs) - Math.min(...xs);
    const text = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="40"><text y="20" font-size="14">${label}</text></svg>`;
    const drawn = new Resvg(text, { font: { loadSystemFonts: false, fontFiles: [DIAGRAM_FONT_FILE] } }).getBBox()!.width;
    expect(drawn).toBeLessThanOrEqual(boxWidth);
    expect(drawn).toBeGreaterThan(0.97 * boxWidth);
  });
});
