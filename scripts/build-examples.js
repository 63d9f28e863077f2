// `npm start`: compiles every example in examples/ into out/ through the public
// API (built into dist/ by `npm install`): per model a summary, the optimized IR,
// the TensorFlow.js module and the diagrams (SVG and PNG); the interpreter's
// outputs for examples that ship inputs (examples/NAME.json).
// A failing example stops the build with its diagnostics and exit code 1.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as dlc from '../dist/src/index.js';

const OUT = 'out';
mkdirSync(OUT, { recursive: true });
let failed = false;

for (const file of readdirSync('examples').filter((f) => f.endsWith('.dl')).sort()) {
  const name = basename(file, '.dl');
  try {
    const compiled = dlc.compileFile(join('examples', file));
    const written = [];
    const write = (path, data) => {
      writeFileSync(join(OUT, path), data);
      written.push(path);
    };
    for (const graph of compiled.graphs) {
      const stem = compiled.graphs.length > 1 ? `${name}.${graph.name}` : name;
      write(`${stem}.summary.txt`, dlc.formatSummary(dlc.summarize(graph)) + '\n');
      const optimized = dlc.optimize(graph).graph;
      write(`${stem}.ir`, dlc.printGraph(optimized) + '\n');
      if (dlc.emitTfjs) write(`${graph.name}.ts`, await dlc.emitTfjs(optimized, { sourcePath: join('examples', file) }));
      if (dlc.renderDiagram) {
        const options = { ...dlc.DEFAULT_DIAGRAM_OPTIONS, format: 'svg' };
        write(`${stem}.svg`, await dlc.renderDiagram(optimized, options));
        write(`${stem}.png`, await dlc.renderDiagram(optimized, { ...options, format: 'png' }));
      }
      const inputs = join('examples', `${name}.json`);
      if (existsSync(inputs)) {
        const weights = dlc.initWeights(graph, { seed: 0 });
        const { outputs } = new dlc.Interpreter(optimized, weights).run(dlc.inputsFromJson(graph, JSON.parse(readFileSync(inputs, 'utf8'))));
        write(`${stem}.outputs.json`, JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, dlc.tensorToJson(t)]))) + '\n');
      }
    }
    console.log(`${file}: ${written.join(', ')}`);
  } catch (e) {
    failed = true;
    if (e instanceof dlc.CompileError) for (const d of e.diagnostics) console.error(dlc.formatDiagnostic(d));
    else console.error(`${file}: ${e.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
