// The optimizer's measured effect on the interpreter: the same model and
// weights at --opt 0 (as written) and --opt 1 (folded, dropout removed,
// conv/dense + activation fused). The generated TensorFlow.js module's
// opt 0 / opt 1 comparison is in the tfjs section.
import { Interpreter, initWeights } from '../dist/src/backends/interp/index.js';
import { createRng } from '../dist/src/runtime/random.js';
import { compileFile, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { fixed, medianMs, table } from './util.js';

function randomInputs(graph, batch) {
  const rng = createRng(1);
  return Object.fromEntries(
    graph.inputs.map((input) => {
      const shape = [batch, ...input.type.shape.slice(1)];
      const n = shape.reduce((a, b) => a * b, 1);
      return [input.name, { shape, data: Float32Array.from({ length: n }, () => rng.uniform()) }];
    }),
  );
}

export async function run() {
  const rows = [];
  for (const [label, file, batch] of [['MNIST convnet, batch 64', 'examples/mnist_convnet.dl', 64], ['Transformer encoder block, batch 8', 'bench/encoder_block.dl', 8]]) {
    const source = selectModel(compileFile(file));
    const weights = initWeights(source, { seed: 0 });
    const inputs = randomInputs(source, batch);
    const plain = new Interpreter(source, weights);
    const optimized = new Interpreter(optimize(source).graph, weights);
    const a = await medianMs(() => plain.run(inputs), { budgetMs: 1500 });
    const b = await medianMs(() => optimized.run(inputs), { budgetMs: 1500 });
    rows.push([label, `${fixed(a.ms)} (${a.runs})`, `${fixed(b.ms)} (${b.runs})`, `${fixed(a.ms / b.ms, 2)}x`]);
  }
  return `## Optimizer effect on the interpreter\n\nMedian ms of a forward pass (runs in parentheses), same weights and inputs.\n\n${table(['model', '--opt 0 ms', '--opt 1 ms', 'speed-up'], rows)}`;
}
