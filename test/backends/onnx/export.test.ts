/**
 * ONNX export against ONNX Runtime (issue 14): every example and random
 * models from the test generator export, load in onnxruntime-node and match
 * the interpreter to 1e-4 on the same weights and inputs; the written file
 * decodes with ONNX's schema to the graph's inputs, outputs, dynamic
 * dimensions and initializer names; layers with no ONNX form are located
 * errors. The sequence layers have their own file (sequence.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { decodeModel, ELEM, OPSET } from '../../../src/backends/onnx/builder.js';
import { exportOnnx } from '../../../src/backends/onnx/index.js';
import { loadOrt, OrtSession } from '../../../src/backends/onnx/ort.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { initWeights } from '../../../src/backends/interp/weights.js';
import { CompileError } from '../../../src/diagnostics.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { VERSION } from '../../../src/version.js';
import { compileText, IMAGENET_EXAMPLES } from '../../helpers.js';
import { bothEngines } from './engines.js';
import { randomInputs, randomModel } from '../../random-models.js';
import { expectClose } from '../interp/helpers.js';

/** Little-endian float32 bytes (raw_data) as numbers; copied, since a decoded field may be a view into a larger buffer at any offset. */
const floats = (bytes: Uint8Array) => new Float32Array(Uint8Array.from(bytes).buffer);

/** The model-zoo examples run in zoo.test.ts (seconds each), so that the two files run side by side. */
const examples = readdirSync('examples').filter((f) => f.endsWith('.dl') && !IMAGENET_EXAMPLES.includes(f));
/** 16 billion parameters: refused by export as by `dlc run` (checked below), not run. */
const TOO_LARGE = 'fully_connected.dl';

describe('every example runs in ONNX Runtime as in the interpreter', () => {
  for (const file of examples.filter((f) => f !== TOO_LARGE)) {
    it(file, async () => {
      const text = readFileSync(`examples/${file}`, 'utf8');
      for (const model of [...text.matchAll(/^model (\w+)/gm)].map((m) => m[1])) {
        const { expected, actual } = await bothEngines(compileText(text, model), 1, 3, 8);
        expect(Object.keys(actual)).toEqual(Object.keys(expected));
        for (const name of Object.keys(expected)) expectClose(actual[name], expected[name], 1e-4);
      }
    }, 120_000);
  }

  it(`${TOO_LARGE}: refused with the interpreter's message about its size`, () => {
    const source = compileText(readFileSync(`examples/${TOO_LARGE}`, 'utf8'));
    expect(() => initWeights(source, { seed: 0 })).toThrow(/16,000,400,000 parameters .* too many to allocate/);
  });
});

describe('random models from the test generator', () => {
  it('export, load and match the interpreter to 1e-4 (60 seeds)', async () => {
    let layers = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const source = compileText(randomModel(seed));
      layers += source.nodes.length;
      const { expected, actual } = await bothEngines(source, 2, seed);
      for (const name of Object.keys(expected)) expectClose(actual[name], expected[name], 1e-4);
    }
    expect(layers).toBeGreaterThan(300);
  }, 240_000);
});

describe('OrtSession.run into a previous run\'s outputs', () => {
  it('has ONNX Runtime write into the given arrays where they fit (its pre-allocated outputs), with the values of a run without', async () => {
    const graph = optimize(compileText('model M {\n  input x: [3]\n  h = x -> dense(4)\n  output a = h -> relu\n  output b = h -> sigmoid\n}\n')).graph;
    const weights = initWeights(graph, { seed: 2 });
    const session = await OrtSession.create(graph, weights, { sourcePath: 'm.dl', threads: 1 });
    try {
      const x = (batch: number) => ({ x: { shape: [batch, 3], data: Float32Array.from({ length: 3 * batch }, (_, i) => i / 5 - 1) } });
      const expected = new Interpreter(graph, weights).run(x(2)).outputs;
      const [a, b] = [new Float32Array(8).fill(NaN), new Float32Array(8).fill(NaN)];
      const out = await session.run(x(2), { into: { a: { shape: [2, 4], data: a }, b: { shape: [2, 4], data: b } } });
      expect(out.a.data).toBe(a);
      expect(out.b.data).toBe(b);
      expectClose(out.a, expected.a, 1e-6);
      expectClose(out.b, expected.b, 1e-6);
      // Another batch does not fit: ONNX Runtime allocates, and the given array is left alone.
      const other = await session.run(x(3), { into: out });
      expect(other.a.data).not.toBe(a);
      expect(other.a.shape).toEqual([3, 4]);
      expectClose({ shape: [2, 4], data: a }, expected.a, 1e-6);
      // One array given for both outputs is written by one of them only.
      const shared = new Float32Array(8);
      const once = await session.run(x(2), { into: { a: { shape: [2, 4], data: shared }, b: { shape: [2, 4], data: shared } } });
      expect(once.a.data).toBe(shared);
      expect(once.b.data).not.toBe(shared);
      expectClose(once.b, expected.b, 1e-6);
    } finally {
      await session.release();
    }
  });
});

describe('the written file, decoded with ONNX\'s schema', () => {
  it("writes element types by ONNX's numbers (the builder spells them out, so as not to load the schema at start-up)", () => {
    const types = onnxProto.onnx.TensorProto.DataType;
    expect(ELEM).toEqual({ float: types.FLOAT, int64: types.INT64, int32: types.INT32, bool: types.BOOL });
  });

  const text = `model Tagger {
  input tokens: [T] int
  input extra: [T, 4]
  e = tokens -> embedding(vocab = 50, dim = 4)
  h = concat(e, extra) -> dense(8, activation = relu) as hidden
  output tags = h -> dense(3) -> softmax
}
`;
  const source = compileText(text);
  const weights = initWeights(source, { seed: 1 });
  const { graph } = optimize(source);
  const model = decodeModel(exportOnnx(graph, weights, { sourcePath: 'tagger.dl' }).model);

  it("has the model's inputs and outputs, with the batch and T as named dynamic dimensions", () => {
    const dims = (v: (typeof model.graph.input)[number]) => v.type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue));
    expect(model.graph.input.map((v) => [v.name, v.type.tensorType.elemType, dims(v)])).toEqual([
      ['tokens', 6, ['batch', 'T']],
      ['extra', 1, ['batch', 'T', 4]],
    ]);
    expect(model.graph.output.map((v) => [v.name, dims(v)])).toEqual([['tags', ['batch', 'T', 3]]]);
  });

  it("stores the weights as initializers under dlc's weight names, once each", () => {
    const names = model.graph.initializer.filter((t) => t.name.includes('.')).map((t) => t.name);
    expect(names.sort()).toEqual(['dense.bias', 'dense.kernel', 'embedding.embeddings', 'hidden.bias', 'hidden.kernel']);
    const kernel = model.graph.initializer.find((t) => t.name === 'hidden.kernel')!;
    expect(kernel.dims.map(Number)).toEqual([8, 8]);
    expect(floats(kernel.rawData)).toEqual(weights.get('hidden.kernel')!.data);
  });

  it('names nodes after their layers, with the source line in the doc string, and writes the opset and metadata', () => {
    const hidden = model.graph.node.find((n) => n.name === 'hidden')!;
    expect(hidden.opType).toBe('MatMul');
    expect(hidden.docString).toBe('tagger.dl:5: h = concat(e, extra) -> dense(8, activation = relu) as hidden');
    expect(model.graph.node.filter((n) => n.name.startsWith('hidden')).map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Relu']);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', OPSET]]);
    expect(Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]))).toEqual({ model: 'Tagger', source: 'tagger.dl', 'dlc.version': VERSION });
    expect(model.producerName).toBe('dlc');
    expect(model.graph.name).toBe('Tagger');
  });

  it('moves the weights to external data above a threshold, and ONNX Runtime reads them from the file', async () => {
    const { model: bytes, external } = exportOnnx(graph, weights, { sourcePath: 'tagger.dl', externalAbove: 100, externalName: 'tagger.onnx.data' });
    const decoded = decodeModel(bytes);
    const kernel = decoded.graph.initializer.find((t) => t.name === 'hidden.kernel')!;
    expect(kernel.dataLocation).toBe(1);
    const entries = Object.fromEntries(kernel.externalData.map((e) => [e.key, e.value]));
    expect(entries.location).toBe('tagger.onnx.data');
    expect(Number(entries.offset) % 4096).toBe(0);
    const data = Buffer.concat(external!.chunks);
    expect(floats(data.subarray(Number(entries.offset), Number(entries.offset) + Number(entries.length)))).toEqual(weights.get('hidden.kernel')!.data);
    // ONNX Runtime loads the model from a file beside its data, and computes what the interpreter does.
    const dir = mkdtempSync(join(tmpdir(), 'dlc-onnx-'));
    writeFileSync(join(dir, 'tagger.onnx'), bytes);
    writeFileSync(join(dir, 'tagger.onnx.data'), data);
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(join(dir, 'tagger.onnx'));
    const inputs = randomInputs(graph, 2, 5, 7);
    const result = await session.run({
      tokens: new ort.Tensor('int32', Int32Array.from(inputs.tokens.data), inputs.tokens.shape),
      extra: new ort.Tensor('float32', inputs.extra.data, inputs.extra.shape),
    });
    const expected = new Interpreter(graph, weights).run(inputs).outputs.tags;
    expectClose({ shape: result.tags.dims.map(Number), data: result.tags.data as Float32Array }, expected, 1e-5);
    await session.release();
    rmSync(dir, { recursive: true });
  });
});

describe('layers with no ONNX form', () => {
  it('are located errors naming the layer and what has no mapping', () => {
    const graph = compileText('model M {\n  input x: [T] int\n  e = x -> embedding(27, 4)\n  output y = e -> take(-3)\n}\n');
    let error: unknown;
    try {
      exportOnnx(graph, initWeights(graph, { seed: 0 }), { sourcePath: 't.dl' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    const [d] = (error as CompileError).diagnostics;
    expect(d.message).toBe("layer 'take' (take) cannot be exported to ONNX: a size computed from a dimension variable has no ONNX mapping");
    expect(d.span!.source.text.slice(d.span!.start, d.span!.end)).toBe('take(-3)');
  });

});
