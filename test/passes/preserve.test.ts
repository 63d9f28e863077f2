/**
 * The optimizer preserves meaning: for every example and for random valid
 * models, the interpreter's outputs at --opt 0 and --opt 1 agree to 1e-5.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Interpreter, initWeights } from '../../src/backends/interp/index.js';
import { compileFile } from '../../src/compile.js';
import type { Graph } from '../../src/ir/types.js';
import { optimize } from '../../src/passes/pipeline.js';
import { compileText, IMAGENET_EXAMPLES } from '../helpers.js';
import { randomInputs, randomModel } from '../random-models.js';


function expectSameOutputs(source: Graph, batch = 2): number {
  const weights = initWeights(source, { seed: 7 });
  const inputs = randomInputs(source, batch, 11);
  const before = new Interpreter(source, weights).run(inputs).outputs;
  const { graph, stats } = optimize(source);
  const after = new Interpreter(graph, weights).run(inputs).outputs;
  for (const [name, t] of Object.entries(before)) {
    expect(after[name].shape).toEqual(t.shape);
    t.data.forEach((x, i) => expect(Math.abs(after[name].data[i] - x)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(x))));
  }
  return stats.reduce((n, s) => n + s.changes.length, 0);
}

describe('optimization preserves outputs', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.dl') && f !== 'fully_connected.dl' && !IMAGENET_EXAMPLES.includes(f));
  for (const file of examples)
    it(file, () => {
      for (const graph of compileFile(`examples/${file}`).graphs) expectSameOutputs(graph);
    });

  it('random models', () => {
    let rewrites = 0;
    for (let seed = 1; seed <= 40; seed++) rewrites += expectSameOutputs(compileText(randomModel(seed)));
    expect(rewrites).toBeGreaterThan(20); // the random models do exercise the passes
  });
});
