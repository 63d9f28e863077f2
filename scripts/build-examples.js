// `npm start`: compiles every example in examples/ into out/ through the public
// API (built into dist/ by `npm install`): per model a summary, the optimized IR,
// the TensorFlow.js module and the diagrams (SVG and PNG); the interpreter's
// outputs for examples that ship inputs (examples/NAME.json).
// A failing example stops the build with its diagnostics and exit code 1, and
// so does an example that `dlc fmt` would change (the examples show the house style).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as dlc from '../dist/src/index.js';

const OUT = 'out';
/** Extra diagram views that suit some examples, written as <name>.<view>.svg/png. */
const EXTRA_VIEWS = {
  perceptron: { neurons: { detail: 'neurons' } },
  mlp: { neurons: { detail: 'neurons' } },
  rnn: { unrolled: { unroll: 4 } },
  residual: { blocks: { detail: 'blocks' } },
  transformer: { blocks: { detail: 'blocks' } },
  resnet50: { blocks: { detail: 'blocks' } },
  densenet121: { blocks: { detail: 'blocks' } },
  inception_v3: { blocks: { detail: 'blocks', direction: 'TB' } },
  squeeze_excite: { blocks: { detail: 'blocks' } },
  conv_autoencoder: { blocks: { detail: 'blocks' } },
  mobilenet: { blocks: { detail: 'blocks' } },
  mobilenet_v2: { blocks: { detail: 'blocks' } },
  unet: { blocks: { detail: 'blocks' } },
  bert_base: { blocks: { detail: 'blocks' } },
  gpt2: { blocks: { detail: 'blocks' } },
  mnist_convnet: { tb: { direction: 'TB' }, print: { theme: 'print' } },
};
/** Training runs quick enough for every build (MNIST takes minutes: see bench/mnist.js). */
const TRAIN = ['xor'];
mkdirSync(OUT, { recursive: true });
let failed = false;

const sources = readdirSync('examples').filter((f) => f.endsWith('.dl')).sort();
for (const file of sources) {
  const path = join('examples', file);
  const formatted = dlc.formatSource(readFileSync(path, 'utf8'), path);
  if (formatted.ok && formatted.changed) {
    failed = true;
    console.error(`${path}: not formatted (run: npx dlc fmt --write ${path})`);
  }
}

for (const file of sources) {
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
      // With a train section the module also trains: emit it from the training graph, which keeps dropout.
      const training = dlc.tfjsTraining(compiled, graph);
      const tfjsGraph = training ? dlc.optimize(graph, { training: true }).graph : optimized;
      write(`${stem}.ts`, await dlc.emitTfjs(tfjsGraph, { sourcePath: join('examples', file), training }));
      const views = { '': {}, ...(EXTRA_VIEWS[name] ?? {}) };
      for (const [view, changes] of Object.entries(views)) {
        const options = { ...dlc.DEFAULT_DIAGRAM_OPTIONS, ...changes };
        const file = view ? `${stem}.${view}` : stem;
        // The source graph, as `dlc diagram` draws it by default.
        write(`${file}.svg`, await dlc.renderDiagram(graph, { ...options, format: 'svg' }));
        write(`${file}.png`, await dlc.renderDiagram(graph, { ...options, format: 'png' }));
      }
      const inputs = join('examples', `${name}.json`);
      if (existsSync(inputs)) {
        const weights = dlc.initWeights(graph, { seed: 0 });
        const { outputs } = new dlc.Interpreter(optimized, weights).run(dlc.inputsFromJson(graph, JSON.parse(readFileSync(inputs, 'utf8'))));
        write(`${stem}.outputs.json`, JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, dlc.tensorToJson(t)]))) + '\n');
      }
    }
    if (TRAIN.includes(name)) {
      await dlc.trainCommand(join('examples', file), { output: join(OUT, `${name}.safetensors`), quiet: true });
      writeFileSync(join(OUT, `${name}.curves.png`), await dlc.svgToPng(readFileSync(join(OUT, `${name}.curves.svg`), 'utf8'), 1.5));
      written.push(`${name}.safetensors`, `${name}.metrics.json`, `${name}.curves.svg`, `${name}.curves.png`);
    }
    console.log(`${file}: ${written.join(', ')}`);
  } catch (e) {
    failed = true;
    if (e instanceof dlc.CompileError) for (const d of e.diagnostics) console.error(dlc.formatDiagnostic(d));
    else console.error(`${file}: ${e.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
