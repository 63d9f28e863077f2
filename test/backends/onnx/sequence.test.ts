/**
 * The sequence layers exported to ONNX (src/backends/onnx/sequence.ts) and run
 * in onnxruntime-node match the interpreter, which defines their semantics:
 * each model is compiled and optimized as `dlc compile` does, given seeded
 * weights (with noise on the biases, so that their layout is tested) and
 * random inputs, run by both, and compared elementwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import type { Weights } from '../../../src/backends/interp/weights.js';
import { OrtSession } from '../../../src/backends/onnx/ort.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { createRng } from '../../../src/runtime/random.js';
import { modelOf, randomIds, weightsFor } from '../interp/grad/harness.js';
import { expectClose, randTensor } from '../interp/helpers.js';

const sessions: OrtSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

/** Token ids [B, T] with padding (id 0) at the end, at the start and inside, and one example of padding only. */
function paddedIds(shape: number[], vocab: number, seed: number): Tensor {
  const t = randomIds(shape, vocab - 1, createRng(seed));
  for (let i = 0; i < t.data.length; i++) t.data[i] += 1;
  const [B, ...rest] = shape;
  const T = rest.reduce((a, b) => a * b, 1);
  const row = (b: number) => t.data.subarray(b * T, (b + 1) * T);
  row(0).fill(0, T - 2); // trailing
  if (B > 1) row(1).fill(0, 0, 2); // leading
  if (B > 2) row(2).fill(0, 1, 3); // inside
  if (B > 3) row(B - 1).fill(0); // padding only
  return t;
}

interface Case {
  body: string;
  batch?: number;
  /** Values for the dimension variables (symbolic lengths); each set is one run through the same session. */
  lengths?: Record<string, number>[];
  /** Integer inputs: padded token ids from this vocabulary (default 10). */
  vocab?: number;
  tol?: number;
}

/** The inputs of one run: floats uniform on [-1, 1), integers padded ids. */
function inputsOf(graph: Graph, batch: number, lengths: Record<string, number>, vocab: number, seed: number): Record<string, Tensor> {
  return Object.fromEntries(
    graph.inputs.map((n, k) => {
      const shape = [batch, ...n.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : lengths[d as string]))];
      if (shape.some((d) => d === undefined)) throw new Error(`no length for an input of ${n.name}`);
      return [n.name, n.type.dtype === 'int32' ? paddedIds(shape, vocab, seed + k) : randTensor(shape, createRng(seed + k))];
    }),
  );
}

/** Exports `graph` with `weights`, runs it in ONNX Runtime and in the interpreter on the same inputs, and compares every output. */
async function parity(graph: Graph, weights: Weights, runs: Record<string, Tensor>[], tol: number): Promise<void> {
  const session = await OrtSession.create(graph, weights, { sourcePath: 'test.dl', threads: 1 });
  sessions.push(session);
  for (const inputs of runs) {
    const expected = new Interpreter(graph, weights).run(inputs).outputs;
    const actual = await session.run(inputs);
    for (const { name } of graph.outputs) expectClose(actual[name], expected[name], tol);
  }
}

async function check({ body, batch = 4, lengths = [{}], vocab = 10, tol = 1e-5 }: Case, seed = 1): Promise<void> {
  const graph = optimize(modelOf(body)).graph;
  const weights = weightsFor(graph, seed);
  await parity(graph, weights, lengths.map((l, i) => inputsOf(graph, batch, l, vocab, seed + 10 * i)), tol);
}

const CELLS = ['rnn', 'lstm', 'gru', 'gru(reset_after = false)'] as const;
/** `cell(units, args)` as .dl: gru(reset_after = false) carries its own argument. */
const layer = (cell: string, units: number, args = '') => {
  const [name, own] = cell.includes('(') ? [cell.slice(0, cell.indexOf('(')), cell.slice(cell.indexOf('(') + 1, -1)] : [cell, ''];
  return `${name}(${[String(units), own, args].filter(Boolean).join(', ')})`;
};

describe('recurrent layers match the interpreter', () => {
  for (const cell of CELLS) {
    for (const sequences of [false, true]) {
      it(`${cell}, sequences = ${sequences}`, () =>
        check({ body: `input x: [5, 3]\noutput y = x -> ${layer(cell, 4, `sequences = ${sequences}`)}` }));
      it(`bidirectional ${cell}, sequences = ${sequences}`, () =>
        check({ body: `input x: [5, 3]\noutput y = x -> bidirectional(${layer(cell, 4, `sequences = ${sequences}`)})` }));
      it(`${cell} behind a padding mask, sequences = ${sequences}`, () =>
        check({ body: `input t: [6] int\noutput y = t -> embedding(10, 3, mask_zero = true) -> ${layer(cell, 4, `sequences = ${sequences}`)}` }));
      it(`bidirectional ${cell} behind a padding mask, sequences = ${sequences}`, () =>
        check({ body: `input t: [6] int\noutput y = t -> embedding(10, 3, mask_zero = true) -> bidirectional(${layer(cell, 4, `sequences = ${sequences}`)})` }));
    }
    it(`${cell}: return_state and initial_state`, () =>
      check({
        body: `input x: [5, 3]
  input z: [4, 2]
  ${cell.startsWith('lstm') ? 'o, h, c' : 'o, h'} = x -> ${layer(cell, 4, 'return_state = true')}
  ${cell.startsWith('lstm') ? 'p, h2, c2' : 'p, h2'} = ${layer(cell, 4, `sequences = true, return_state = true, initial_state = [${cell.startsWith('lstm') ? 'h, c' : 'h'}]`).replace('(', '(z, ')}
  output y = o
  output q = p
  output hs = h2${cell.startsWith('lstm') ? '\n  output cs = c2' : ''}`,
      }));
  }
});
