/** One model through both engines, for the ONNX parity tests. */
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { initWeights } from '../../../src/backends/interp/weights.js';
import { OrtSession } from '../../../src/backends/onnx/ort.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { randomInputs } from '../../random-models.js';

/** Exports `source` optimized for inference, runs it in ONNX Runtime and in the interpreter on the same inputs; returns both outputs. */
export async function bothEngines(source: Graph, batch = 2, seed = 7, length = 6) {
  const weights = initWeights(source, { seed });
  const { graph } = optimize(source);
  const inputs = randomInputs(graph, batch, seed, length);
  const expected = new Interpreter(graph, weights).run(inputs).outputs;
  const session = await OrtSession.create(graph, weights, { sourcePath: 'test.dl', threads: 1 });
  const actual = await session.run(inputs);
  await session.release();
  return { expected, actual };
}
