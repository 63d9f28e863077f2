/**
 * An Interpreter made with `prepack` (wasm/index.ts PackedWeights) packs the
 * right operands of its products with its weights once, after its first run,
 * and its later runs read them packed: the outputs must be the plain
 * interpreter's to the bit (the plain one is checked against tf in
 * models.test.ts), and the packed region must be given up and packed again
 * whenever another interpreter packs or the arena grows into it.
 */
import { describe, expect, it, vi } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { initWeights } from '../../../src/backends/interp/weights.js';
import { getMemoryLimit, setMemoryLimit } from '../../../src/backends/interp/plan.js';
import { heap, kernelBackend, setFastMath, setKernelBackend } from '../../../src/backends/interp/wasm/index.js';
import { packedFloats, transformedFloats } from '../../../src/backends/interp/wasm/gemm.js';
import { withScratch } from '../../../src/backends/interp/wasm/heap.js';
import { compileSource, selectModel } from '../../../src/compile.js';
import { specialize } from '../../../src/ir/infer.js';
import type { Graph } from '../../../src/ir/types.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { createRng } from '../../../src/runtime/random.js';
import type { Dataset } from '../../../src/train/data.js';
import { evaluate, evaluateWith } from '../../../src/train/train.js';

// A convolution in im2col's form (stride 2), a pointwise one, one in Winograd's
// form (3x3 at stride 1 over 32 channels, from 32 tiles on: its kernel is
// transformed, not packed) and a dense head.
const CONVNET = `model Mixed {
  input x: [16, 16, 8]
  output y = x
    -> conv2d(16, kernel = 3, stride = 2, padding = same) -> relu
    -> conv2d(32, kernel = 1)
    -> conv2d(32, kernel = 3, padding = same) -> relu
    -> flatten
    -> dense(10) -> softmax
}
`;
// Attention's four projections, and a head tied to the embedding's table: B stored as [N, K].
const TIED = `model Tied {
  input tokens: [T] int
  output logits = tokens
    -> embedding(vocab = 64, dim = 32) as wte
    -> attention(heads = 2, key_dim = 16, causal = true)
    -> dense(64, bias = false, tie = wte)
}
`;

// Recurrent layers: each one's input kernel W (one product over every step) and its recurrent kernel U
// (the same at every step: packed once a call without prepack, once for all runs with it).
const RECURRENT = `model Recurrent {
  input x: [T, 8]
  output h = x -> lstm(16, sequences = true) -> gru(12)
}
`;

function prepared(text: string, seed: number) {
  let graph: Graph = selectModel(compileSource({ path: 'prepack.dl', text }));
  const weights = initWeights(graph, { seed });
  graph = optimize(graph).graph;
  return { graph, weights };
}

function inputsFor(graph: Graph, batch: number, seed: number, length = 12): Record<string, Tensor> {
  const rng = createRng(seed);
  return Object.fromEntries(graph.inputs.map((input) => {
    const integer = input.type.dtype === 'int32';
    const shape = [batch, ...input.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : length))];
    const n = shape.reduce((a, b) => a * b, 1);
    return [input.name, { shape, data: Float32Array.from({ length: n }, () => (integer ? Math.floor(rng.uniform() * 64) : rng.uniform() * 2 - 1)) }];
  }));
}

const outputOf = (interpreter: Interpreter, inputs: Record<string, Tensor>) => Object.values(interpreter.run(inputs).outputs)[0].data;

/** The convnet with seeded weights, a batch of inputs, and the plain interpreter's output on them: what a prepacked run must give. */
function convnetCase(batch: number, seed: number) {
  const { graph, weights } = prepared(CONVNET, 7);
  const inputs = inputsFor(graph, batch, seed);
  return { graph, weights, inputs, expected: outputOf(new Interpreter(graph, weights), inputs) };
}

/** The first index where two outputs differ in their bits (NaN-safe), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const [x, y] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  return a.length !== b.length ? 0 : x.findIndex((v, i) => v !== y[i]);
}

describe('weights packed once (prepack)', () => {
  it('runs on the WebAssembly kernel here', () => {
    expect(kernelBackend().kernel).toBe('wasm');
  });

  it.each([
    // conv im2col, pointwise and dense packed, the Winograd layer's kernel transformed (F(2x2, 3x3): m = 2, C = F = 32);
    // at batch 1 its 16 tiles are too few for Winograd (gemm.ts winogradFits): it runs as im2col and packs its kernel at each call
    ['a convnet', CONVNET, 4, 4, packedFloats(72, 16) + packedFloats(16, 32) + packedFloats(2048, 10) + transformedFloats(32, 32, 2)],
    // attention's query, key, value and output kernels, and the tied head (transposed)
    ['attention and a tied head', TIED, 3, 5, 4 * packedFloats(32, 32) + packedFloats(32, 64)],
    ['an LSTM and a GRU', RECURRENT, 3, 4, packedFloats(8, 64) + packedFloats(16, 64) + packedFloats(16, 36) + packedFloats(12, 36)],
  ])('%s: the plain interpreter\'s bits on every run, with its weights packed after the first', (_, text, batch, packedCount, floats) => {
    const { graph, weights } = prepared(text, 7);
    const plain = new Interpreter(graph, weights);
    const packed = new Interpreter(graph, weights, { prepack: true });
    const inputs = inputsFor(graph, batch, 8);
    const expected = outputOf(plain, inputs);
    expect(packed.packedWeights().weights).toBe(0);
    for (let run = 0; run < 3; run++) {
      expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
      expect(packed.packedWeights()).toEqual({ weights: packedCount, bytes: 4 * floats });
    }
    // Another batch size: another plan, the same packed weights.
    const other = inputsFor(graph, 1, 9);
    expect(firstDifference(outputOf(packed, other), outputOf(plain, other))).toBe(-1);
    expect(packed.packedWeights().weights).toBe(packedCount);
    expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
  });

  it('the products read the packed copies: weights changed after packing do not show (the contract prepack asks the caller to keep)', () => {
    const { graph, weights } = prepared(CONVNET, 7);
    const packed = new Interpreter(graph, weights, { prepack: true });
    const inputs = inputsFor(graph, 4, 8);
    outputOf(packed, inputs);
    const before = outputOf(packed, inputs);
    const kernel = weights.get('dense.kernel')!.data;
    const saved = kernel.slice();
    kernel.fill(0);
    try {
      expect(firstDifference(outputOf(packed, inputs), before)).toBe(-1);
      // The plain interpreter reads the weights at each call: all-zero logits, a uniform softmax.
      expect(outputOf(new Interpreter(graph, weights), inputs)[0]).toBeCloseTo(0.1, 6);
    } finally {
      kernel.set(saved);
    }
  });

  it('two prepacked interpreters take the region in turn and each packs again: outputs stay right', () => {
    const a = prepared(CONVNET, 7), b = prepared(TIED, 11);
    const [ia, ib] = [new Interpreter(a.graph, a.weights, { prepack: true }), new Interpreter(b.graph, b.weights, { prepack: true })];
    const [xa, xb] = [inputsFor(a.graph, 4, 1), inputsFor(b.graph, 2, 2)];
    const [ya, yb] = [outputOf(new Interpreter(a.graph, a.weights), xa), outputOf(new Interpreter(b.graph, b.weights), xb)];
    for (let round = 0; round < 3; round++) {
      expect(firstDifference(outputOf(ia, xa), ya)).toBe(-1);
      expect(ia.packedWeights().weights).toBe(4);
      expect(firstDifference(outputOf(ib, xb), yb)).toBe(-1);
      expect(ib.packedWeights().weights).toBe(5);
      expect(ia.packedWeights().weights).toBe(0); // b's packing took the region
    }
  });

  it('an arena that grows into the region gives it up; the next run packs again', () => {
    const { graph, weights } = prepared(CONVNET, 7);
    const packed = new Interpreter(graph, weights, { prepack: true });
    const plain = new Interpreter(graph, weights);
    const small = inputsFor(graph, 1, 3);
    outputOf(packed, small);
    expect(packed.packedWeights().weights).toBe(4); // at batch 1 the 3x3 layer runs as im2col (too few tiles for Winograd): packed as a product
    // A batch far larger than any before: its plan needs a larger arena.
    const large = inputsFor(graph, 300, 4);
    const expected = outputOf(plain, large);
    expect(packed.packedWeights().weights).toBe(0);
    expect(firstDifference(outputOf(packed, large), expected)).toBe(-1);
    expect(packed.packedWeights().weights).toBe(4);
  });

  it('with scratch taken (the region lies under the stack) nothing is packed and runs stay right; release gives the region back', () => {
    const { graph, weights, inputs, expected } = convnetCase(4, 5);
    const packed = new Interpreter(graph, weights, { prepack: true });
    withScratch(heap(), (take) => {
      take(1024);
      for (let run = 0; run < 2; run++) expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
      expect(packed.packedWeights().weights).toBe(0);
    });
    expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
    expect(packed.packedWeights().weights).toBe(4);
    const free = heap().free();
    packed.releasePackedWeights();
    expect(packed.packedWeights().weights).toBe(0);
    expect(heap().free()).toBeLessThan(free);
    expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
  });

  it('a graph with a dimension variable packs once for all its lengths', () => {
    const { graph, weights } = prepared(TIED, 3);
    const packed = new Interpreter(graph, weights, { prepack: true });
    const lengths = [12, 7];
    const cases = lengths.map((T, i) => {
      const inputs = inputsFor(graph, 2, 6 + i, T);
      return { inputs, expected: outputOf(new Interpreter(specialize(graph, new Map([['T', T]])), weights), inputs) };
    });
    for (let round = 0; round < 3; round++)
      for (const { inputs, expected } of cases) {
        expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
        expect(packed.packedWeights().weights).toBe(5);
      }
  });

  it('past the memory budget (--max-memory) nothing is packed, and runs stay right', () => {
    const { graph, weights, inputs, expected } = convnetCase(2, 5);
    const limit = getMemoryLimit();
    // Enough for the run, not for the kernel's memory to grow by the packed weights.
    setMemoryLimit(heap().memory!.buffer.byteLength);
    try {
      const packed = new Interpreter(graph, weights, { prepack: true });
      for (let run = 0; run < 3; run++) expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
      expect(packed.packedWeights().weights).toBe(0);
    } finally {
      setMemoryLimit(limit);
    }
  });

  it('a kernel transformed for F(2x2, 3x3) is not read by F(4x4, 3x3) (fast math turned on later): the fast-math bits', () => {
    const { graph, weights } = prepared(CONVNET, 7);
    const inputs = inputsFor(graph, 8, 5); // 64 4x4 tiles at batch 8: F(4x4, 3x3) with fast math
    const packed = new Interpreter(graph, weights, { prepack: true });
    outputOf(packed, inputs);
    expect(packed.packedWeights().weights).toBe(4);
    setFastMath(true);
    try {
      const expected = outputOf(new Interpreter(graph, weights), inputs);
      expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
      setFastMath(false);
      expect(firstDifference(outputOf(packed, inputs), expected)).not.toBe(-1); // so the two differ: the check above could fail
    } finally {
      setFastMath(false);
    }
  });

  it("evaluate (dlc eval) packs once: over several batches, the plain interpreter's loss and accuracy to the bit, and the region given back", async () => {
    const { graph, weights } = prepared(CONVNET, 7);
    const n = 12;
    const x = inputsFor(graph, n, 21).x;
    const rng = createRng(22);
    const y = new Float32Array(n * 10);
    for (let i = 0; i < n; i++) y[i * 10 + Math.floor(rng.uniform() * 10)] = 1;
    const ds: Dataset = { n, x: x.data, xShape: x.shape.slice(1), y, yShape: [10] };
    const plain = new Interpreter(graph, weights);
    const expected = await evaluateWith(async (inputs) => plain.run(inputs).outputs, graph, ds, 'categorical_crossentropy', 4);
    // No region left by earlier interpreters: the stack starts at the arena's end.
    const other = new Interpreter(graph, weights, { prepack: true });
    outputOf(other, inputsFor(graph, 4, 23));
    other.releasePackedWeights();
    const free = heap().free();
    const regions = vi.spyOn(heap(), 'packRegion');
    try {
      expect(evaluate(graph, weights, ds, 'categorical_crossentropy', 4)).toEqual(expected);
      // packed once, after the first of its three batches
      expect(regions).toHaveBeenCalledTimes(1);
      expect(regions.mock.results[0].value).not.toBeNull();
    } finally {
      regions.mockRestore();
    }
    expect(heap().free()).toBe(free); // releasePackedWeights: training goes on with the stack where it was
  });

  it('with the TS kernels nothing is packed', () => {
    const { graph, weights } = prepared(CONVNET, 7);
    const inputs = inputsFor(graph, 2, 5);
    setKernelBackend('js');
    try {
      const packed = new Interpreter(graph, weights, { prepack: true });
      const expected = outputOf(new Interpreter(graph, weights), inputs);
      for (let run = 0; run < 2; run++) expect(firstDifference(outputOf(packed, inputs), expected)).toBe(-1);
      expect(packed.packedWeights().weights).toBe(0);
    } finally {
      setKernelBackend('auto');
    }
  });
});
