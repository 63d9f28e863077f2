// Diagram rendering: a generated chain of 1,000 layers, DOT emission and
// Graphviz (WebAssembly) layout to SVG, as one strip (--fit none) and fitted to a
// 16:9 slide (the default: the row planner, then a snake of rows), and rasterizing
// the MNIST convnet's SVG to PNG. The budget: a 1,000-layer model under 1 s.
import { renderDiagram, DEFAULT_DIAGRAM_OPTIONS, graphToDot } from '../dist/src/backends/dot/index.js';
import { compileFile, compileSource, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { fixed, medianMs, table } from './util.js';

function chain(layers) {
  const stages = Array.from({ length: layers }, (_, i) => (i % 2 ? '    -> relu' : '    -> dense(64)'));
  return `model Chain {\n  input x: [64]\n  output y = x\n${stages.join('\n')}\n}\n`;
}

export async function run() {
  const rows = [];
  for (const layers of [100, 1000])
    for (const fit of ['none', '16:9']) {
      const graph = compileSource({ path: 'chain.dl', text: chain(layers) }).graphs[0];
      const options = { ...DEFAULT_DIAGRAM_OPTIONS, fit };
      const dot = await medianMs(() => graphToDot(graph, options), { budgetMs: 500 });
      const svg = await medianMs(() => renderDiagram(graph, { ...options, format: 'svg' }), { budgetMs: 3000, max: 5 });
      rows.push([`chain of ${layers.toLocaleString('en-US')} layers, --fit ${fit}`, fixed(dot.ms), fixed(svg.ms)]);
    }
  const mnist = optimize(selectModel(compileFile('examples/mnist_convnet.dl'))).graph;
  const svg = await medianMs(() => renderDiagram(mnist, { ...DEFAULT_DIAGRAM_OPTIONS, format: 'svg' }), { budgetMs: 1000 });
  const png = await medianMs(() => renderDiagram(mnist, { ...DEFAULT_DIAGRAM_OPTIONS, format: 'png' }), { budgetMs: 2000 });
  rows.push(['MNIST convnet (SVG / PNG at 2x)', '-', `${fixed(svg.ms)} / ${fixed(png.ms)}`]);
  return `## Diagrams\n\nMedian ms. SVG = DOT emission + Graphviz layout in WebAssembly (no system Graphviz); PNG adds resvg rasterization with the bundled font.\n\n${table(['graph', 'DOT ms', 'SVG ms'], rows)}`;
}
