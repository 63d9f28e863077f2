/**
 * A masked LSTM classifier trains: the label is whether the last real token
 * of a post-padded sequence is above 5, so the answer sits at a different step
 * in every example, and the padded steps after it must not wash it out
 * (with the mask, the LSTM's last output is its state at the last real token).
 */
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../src/backends/interp/execute.js';
import { compileSource } from '../../src/compile.js';
import { createRng } from '../../src/runtime/random.js';
import { trainConfig } from '../../src/train/config.js';
import type { Dataset } from '../../src/train/data.js';
import { train } from '../../src/train/index.js';

const T = 8;
const SOURCE = `model Last {
  input tokens: [${T}] int
  output p = tokens -> embedding(10, 8, mask_zero = true) -> lstm(16) -> dense(1) -> sigmoid
}
train Last {
  data = xor
  loss = binary_crossentropy
  optimizer = adam(lr = 0.02)
  epochs = 12
  batch = 32
}
`;

/** n sequences of 1 to T tokens in 1..9, zeros after; y = last real token > 5. */
function sequences(n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const x = new Float32Array(n * T), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const length = 1 + Math.floor(rng.uniform() * T);
    for (let t = 0; t < length; t++) x[i * T + t] = 1 + Math.floor(rng.uniform() * 9);
    y[i] = x[i * T + length - 1] > 5 ? 1 : 0;
  }
  return { n, x, xShape: [T], y, yShape: [1] };
}

describe('a masked lstm classifier', () => {
  it('learns which class the last real token of a padded sequence is in', () => {
    const file = compileSource({ path: 'last.dl', text: SOURCE });
    const graph = file.graphs[0];
    const config = trainConfig(file, graph);
    const data = { train: sequences(640, 1), test: sequences(320, 2), description: 'padded sequences' };
    const run = train(graph, config, data);
    const [first, last] = [run.history[0], run.history.at(-1)!];
    expect(run.stopped).toBeUndefined();
    expect(last.testLoss!).toBeLessThan(first.testLoss! / 2);
    expect(last.testAccuracy!).toBeGreaterThan(0.95); // chance is about 0.44

    // The trained model reads the last real token, wherever the padding starts.
    const interp = new Interpreter(graph, run.weights);
    const ids = (row: number[]) => ({ tokens: { shape: [1, T], data: Float32Array.from([...row, ...Array(T - row.length).fill(0)]) } });
    const p = (row: number[]) => interp.run(ids(row)).outputs.p.data[0];
    expect(p([2, 9])).toBeGreaterThan(0.5);
    expect(p([9, 2])).toBeLessThan(0.5);
  }, 60_000);
});
