/**
 * The memory plan (plan.ts) and the interpreter's use of it: on every example
 * and on random models, as written and optimized, no two activations that are
 * alive at the same step share a byte (checked pair by pair), the arena is
 * never larger than one buffer per activation nor smaller than what is alive
 * at once, and a planned run computes exactly (bit for bit) what a run that
 * allocates every activation computes. Repeated runs reuse the arena: the
 * heap does not grow per call. A training step allocates nothing but the
 * results it returns.
 */
import { readdirSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { lossAndGradients } from '../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { fusedAddRelus, fusedPools, planMemory } from '../../../src/backends/interp/plan.js';
import { gemmKernel, kernelBackend, setKernelBackend, setThreads } from '../../../src/backends/interp/wasm/index.js';
import { initWeights } from '../../../src/backends/interp/weights.js';
import { compileFile } from '../../../src/compile.js';
import { graphVars, specialize } from '../../../src/ir/infer.js';
import type { Dim, Graph } from '../../../src/ir/types.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { compileText, IMAGENET_EXAMPLES } from '../../helpers.js';
import { randomInputs, randomModel } from '../../random-models.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.dl'));
/** A graph with dimension variables (the transformer's [T] tokens) at a length of 16: plans are per concrete shape. */
const concrete = (g: Graph): Graph => (graphVars(g).length > 0 ? specialize(g, new Map(graphVars(g).map((v) => [v, 16]))) : g);
const exampleGraphs = () => examples.flatMap((f) => compileFile(`examples/${f}`).graphs.map((g) => ({ name: f, graph: concrete(g) })));
const randomGraphs = () => Array.from({ length: 40 }, (_, i) => ({ name: `random ${i + 1}`, graph: compileText(randomModel(i + 1)) }));

/** Both forms `dlc run` may execute. */
const forms = (g: Graph) => [g, optimize(g).graph];

function expectSound(graph: Graph, batch: number, training: boolean, segmentBytes?: number): void {
  const plan = planMemory(graph, batch, { training, segmentBytes });
  const slots = [...plan.slots.values()];
  for (const s of slots) {
    expect(s.offset % 64).toBe(0);
    expect(s.offset + s.floats * 4).toBeLessThanOrEqual(plan.plannedBytes);
    expect(s.first).toBeLessThanOrEqual(s.last);
  }
  for (let i = 0; i < slots.length; i++) {
    for (let j = i + 1; j < slots.length; j++) {
      const [a, b] = [slots[i], slots[j]];
      const together = a.first <= b.last && b.first <= a.last;
      const overlap = a.floats > 0 && b.floats > 0 && a.offset < b.offset + b.floats * 4 && b.offset < a.offset + a.floats * 4;
      if (together && overlap) expect.fail(`${graph.name}: slots [${a.first}, ${a.last}] and [${b.first}, ${b.last}] overlap`);
    }
  }
  // An alias's source lives as long as the alias is read.
  graph.nodes.forEach((node, i) => {
    for (const input of node.inputs) {
      const slot = plan.slots.get(plan.aliases.get(input) ?? input);
      if (slot) expect(slot.last).toBeGreaterThanOrEqual(i);
    }
  });
  for (const out of graph.outputs) {
    const slot = plan.slots.get(plan.aliases.get(out.node) ?? out.node);
    if (slot) expect(slot.last).toBe(graph.nodes.length);
  }
  // At inference a convolution and its max pool may run as one kernel, which writes the pool's output while it reads the
  // convolution's inputs: they share no byte.
  if (!training) {
    for (const [conv, pool] of fusedPools(graph)) {
      const out = plan.slots.get(pool)!;
      for (const input of conv.inputs) {
        const slot = plan.slots.get(plan.aliases.get(input) ?? input);
        if (slot && slot.offset < out.offset + out.floats * 4 && out.offset < slot.offset + slot.floats * 4) {
          expect.fail(`${graph.name}: ${pool.name}'s output overlaps ${conv.name}'s input ${input.name}`);
        }
      }
    }
  }
  expect(plan.plannedBytes).toBeGreaterThanOrEqual(plan.liveBytes);
  // Alignment to 64 bytes may add up to 60 bytes per slot to one buffer per activation.
  expect(plan.plannedBytes).toBeLessThanOrEqual(plan.naiveBytes + 64 * slots.length);
}


/** A planned run and an allocating one agree exactly, in inference and training mode. */
function expectSameAsUnplanned(graph: Graph, batch: number): void {
  const weights = initWeights(graph, { seed: 3 });
  const inputs = randomInputs(graph, batch, 4);
  const interp = new Interpreter(graph, weights);
  for (const training of [false, true]) {
    const planned = interp.run(inputs, { training, seed: 5 }).outputs;
    const reference = new Interpreter(graph, weights).run(inputs, { training, seed: 5, arena: false }).outputs;
    for (const [name, t] of Object.entries(reference)) {
      expect(planned[name].shape).toEqual(t.shape);
      expect(planned[name].data).toEqual(t.data);
    }
  }
}

describe('the memory plan', () => {
  it('never overlaps two live activations, on every example, batch 1 and 3, inference and training', () => {
    for (const { graph } of exampleGraphs()) {
      for (const g of forms(graph)) for (const batch of [1, 3]) for (const training of [false, true]) expectSound(g, batch, training);
    }
  });

  it('keeps a convolution\'s input apart from the output of the max pool that runs in it', () => {
    // Without the rule, maxpool_1 (live from step 5) would take relu's bytes (read last at step 4, by conv2d_1).
    const graph = optimize(compileText('model M {\n  input image: [28, 28, 1]\n  c = image -> conv2d(16, kernel = 3, activation = relu)\n  d = c -> maxpool(2) -> relu -> conv2d(16, kernel = 3, activation = relu)\n  output probs = d -> maxpool(2) -> flatten -> dense(10)\n}\n')).graph;
    expect([...fusedPools(graph)].map(([conv, pool]) => `${conv.name} ${pool.name}`)).toEqual(['conv2d maxpool', 'conv2d_1 maxpool_1']);
    for (const batch of [1, 3, 64]) expectSound(graph, batch, false);
  });

  it('makes a plain relu that alone reads an add an alias of it at inference (the add applies it), and no other', () => {
    // add: fused. add_1 is read by relu_1 and add_2; relu_2 has an argument; add_3 is an output (w).
    const source = 'model M {\n  input x: [6, 6, 4]\n  a = x -> conv2d(4, kernel = 3, padding = same)\n  fused = add(x, a) -> relu\n  s = add(fused, a)\n  shared = s -> relu\n  t = add(shared, s) -> relu(max_value = 6)\n  u = add(t, x)\n  output v = u -> relu\n  output w = u\n}\n';
    const graph = optimize(compileText(source)).graph;
    const named = (name: string) => graph.nodes.find((n) => n.name === name)!;
    expect([...fusedAddRelus(graph)].map(([add, relu]) => `${add.name} ${relu.name}`)).toEqual(['add relu']);
    const inference = planMemory(graph, 2);
    expect([...inference.aliases].map(([alias, of]) => `${alias.name} ${of.name}`)).toEqual(['relu add']);
    expect(inference.slots.has(named('relu'))).toBe(false);
    // The add's buffer lives until the relu's last reader (add_1).
    expect(inference.slots.get(named('add'))!.last).toBe(graph.nodes.indexOf(named('add_1')));
    expect(planMemory(graph, 2, { training: true }).aliases.size).toBe(0);
    for (const batch of [1, 3]) for (const training of [false, true]) expectSound(graph, batch, training);
  });

  it('never overlaps two live activations on random models', () => {
    for (const { graph } of randomGraphs()) for (const g of forms(graph)) for (const training of [false, true]) expectSound(g, 2, training);
  });

  it('never overlaps two live activations with every segment that may run an example at a time (segmentBytes 0)', () => {
    let segments = 0;
    for (const { graph } of [...exampleGraphs(), ...randomGraphs()]) {
      for (const g of forms(graph)) {
        expectSound(g, 3, false, 0);
        segments += planMemory(g, 3, { segmentBytes: 0 }).segments.length;
        // None in training, none at batch 1.
        expect(planMemory(g, 3, { training: true, segmentBytes: 0 }).segments).toEqual([]);
        expect(planMemory(g, 1, { segmentBytes: 0 }).segments).toEqual([]);
      }
    }
    expect(segments).toBeGreaterThan(20);
  });

  it('runs MobileNetV2 at batch 8 from its first layer to its first 28x28 one an example at a time: one example\'s bytes for what is made and read there', () => {
    const graph = optimize(compileFile('examples/mobilenet_v2.dl').graphs[0]).graph;
    const plan = planMemory(graph, 8);
    const name = (i: number) => graph.nodes[i].name;
    // conv2d (the stem) to the 1x1 convolution after the last depthwise layer that reads a 56x56x144 tensor (14.5 MB for 8 images).
    expect(plan.segments.map((s) => `${name(s.first)}..${name(s.last)}`)).toEqual(['conv2d..conv2d_7']);
    const [segment] = plan.segments;
    for (let i = segment.first; i <= segment.last; i++) {
      const node = graph.nodes[i];
      const slot = plan.slots.get(node)!;
      const example = (node.type.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
      // Read after the segment: the add's left input (conv2d_3, the residual), the segment's last layer.
      const batchWide = slot.last > segment.last;
      expect({ name: node.name, floats: slot.floats }).toEqual({ name: node.name, floats: batchWide ? 8 * example : example });
      expect(segment.perExample.has(node)).toBe(!batchWide);
      if (batchWide) expect(slot.first).toBe(segment.first);
    }
    expect(plan.plannedBytes).toBeLessThan(0.25 * planMemory(graph, 8, { segmentBytes: Infinity }).plannedBytes);
    for (const batch of [1, 8]) for (const training of [false, true]) expectSound(graph, batch, training);
    expect(planMemory(graph, 1).segments).toEqual([]);
    expect(planMemory(graph, 8, { training: true }).segments).toEqual([]);
  });

  it('reuses memory: the MNIST convnet at batch 64 plans well under one buffer per activation', () => {
    const graph = optimize(compileFile('examples/mnist_convnet.dl').graphs[0]).graph;
    const plan = planMemory(graph, 64);
    // conv 64x26x26x32 (5.5 MB) dies into the pool; conv_1 (2 MB) reuses it.
    expect(plan.plannedBytes).toBeLessThan(0.8 * plan.naiveBytes);
    expect(plan.plannedBytes).toBe(plan.liveBytes);
    // flatten takes no bytes of its own (the optimizer removed the inference dropout)
    expect([...plan.aliases.keys()].map((n) => n.op)).toEqual(['flatten']);
    // as written, inference dropout is an alias too; in training it owns bytes
    const written = compileFile('examples/mnist_convnet.dl').graphs[0];
    expect([...planMemory(written, 64).aliases.keys()].map((n) => n.op).sort()).toEqual(['dropout', 'flatten']);
    expect([...planMemory(written, 64, { training: true }).aliases.keys()].map((n) => n.op)).toEqual(['flatten']);
  });

  it('counts a constant, and what is computed from constants alone, as one example', () => {
    // The optimizer folds sinusoidal positions into add(x, constant(table)).
    const graph = optimize(compileText(`model C {
      input x: [4, 6]
      output y = x -> positional(kind = sinusoidal)
    }`)).graph;
    const plan = planMemory(graph, 5);
    const sizes = [...plan.slots].map(([node, slot]) => [node.op, slot.floats]);
    expect(sizes).toEqual(expect.arrayContaining([['constant', 24], ['add', 120]]));
  });
});

/** The floats of every new Float32Array that `fn` makes that is not a view on an existing buffer. */
function allocatedFloats(fn: () => void): number {
  const Original = globalThis.Float32Array;
  let floats = 0;
  class Counting extends Original {
    constructor(...args: unknown[]) {
      super(...(args as [number]));
      if (!(args[0] instanceof ArrayBuffer || args[0] instanceof SharedArrayBuffer)) floats += this.length;
    }
  }
  globalThis.Float32Array = Counting;
  try {
    fn();
  } finally {
    globalThis.Float32Array = Original;
  }
  return floats;
}

/**
 * A segment's every case: a tensor made before it (a layernorm's) and
 * last read by its first layer, whose bytes the later layers' must not take
 * while a later example still reads it, the input read inside it, pools, standalone
 * activations, a separable convolution, an add of a tensor to itself, a
 * graph output made inside it, and a dropout (an alias) after.
 */
const BY_EXAMPLE = `model ByExample {
  input x: [12, 12, 4]
  a = x -> layernorm
  b = a -> conv2d(16, kernel = 1) -> depthwise_conv2d(kernel = 3, padding = same) -> relu -> maxpool(2)
  c = b -> separable_conv2d(8, kernel = 3, padding = same) -> depthwise_conv2d(kernel = 3, stride = 2, padding = same, activation = relu6)
  output early = add(c, c)
  d = add(c, x -> conv2d(8, kernel = 4, stride = 4))
  output late = d -> elu -> dropout(0.5) -> flatten -> dense(3)
}
`;

describe('a planned run', () => {
  // fully_connected: 16 billion weights, planned, never run; the ImageNet models: a minute of runs each.
  const runnable = (name: string) => name !== 'fully_connected.dl' && !IMAGENET_EXAMPLES.includes(name);
  it('computes exactly what an allocating run does, on every example (batch 2)', () => {
    for (const { name, graph } of exampleGraphs()) if (runnable(name)) for (const g of forms(graph)) expectSameAsUnplanned(g, 2);
  });

  it('computes exactly what an allocating run does, on random models (batch 3)', () => {
    for (const { graph } of randomGraphs()) for (const g of forms(graph)) expectSameAsUnplanned(g, 3);
  });

  it('computes exactly what it computes with each relu apart from its add (a training-mode forward), and says which layer ran the relu', () => {
    const graph = optimize(compileFile('examples/residual.dl').graphs[0]).graph;
    expect(fusedAddRelus(graph).size).toBe(3); // each block's add(x, h) -> relu
    const interp = new Interpreter(graph, initWeights(graph, { seed: 7 }));
    const inputs = randomInputs(graph, 2, 8);
    for (const kernels of ['auto', 'js'] as const) {
      const { choice } = kernelBackend();
      setKernelBackend(kernels);
      try {
        const fused = interp.run(inputs, { stats: true });
        expect(fused.outputs.logits.data).toEqual(interp.run(inputs, { training: true }).outputs.logits.data);
        const relus = fused.stats!.layers.filter((l) => l.op === 'relu' && l.computedIn);
        expect(relus.map((l) => l.computedIn)).toEqual(['add', 'add_1', 'add_2']);
      } finally {
        setKernelBackend(choice);
      }
    }
  });

  it('computes an example at a time (segmentBytes 0) what a run of the whole batch does, on every example and random models, at 1 and 2 threads', () => {
    const threadsBefore = kernelBackend().threads;
    try {
      for (const threads of [1, 2]) {
        setThreads(threads);
        const cases = [
          ...exampleGraphs().filter(({ name }) => runnable(name)),
          ...randomGraphs(),
          { name: 'mobilenet_v2.dl', graph: compileFile('examples/mobilenet_v2.dl').graphs[0] },
          { name: 'by example', graph: compileText(BY_EXAMPLE) },
        ];
        for (const { name, graph } of cases) {
          for (const g of forms(graph)) {
            if (planMemory(g, 3, { segmentBytes: 0 }).segments.length === 0) continue;
            const weights = initWeights(g, { seed: 3 });
            const inputs = randomInputs(g, 3, 4);
            const byExample = new Interpreter(g, weights, { segmentBytes: 0 }).run(inputs);
            const whole = new Interpreter(g, weights, { segmentBytes: Infinity }).run(inputs);
            for (const [output, t] of Object.entries(whole.outputs)) {
              const got = byExample.outputs[output];
              expect(got.shape).toEqual(t.shape);
              // A 3x3 convolution of a few pixels may take another kernel for one example than for three (Winograd's
              // tiles, a strip of rows): the same values to float32 rounding. A depthwise or 1x1 one, the same bits.
              const scale = Math.max(1, ...t.data.map(Math.abs));
              const worst = t.data.reduce((m, v, i) => Math.max(m, Math.abs(v - got.data[i])), 0);
              expect({ name, output, threads, worst: worst <= 1e-5 * scale }).toEqual({ name, output, threads, worst: true });
              if (name === 'mobilenet_v2.dl') expect(got.data).toEqual(t.data);
            }
          }
        }
      }
    } finally {
      setThreads(threadsBefore);
    }
  });

  it('runs a segment with the planned arena and allocates no float buffer with `into`, and --stats times its layers once each', () => {
    const graph = optimize(compileFile('examples/mobilenet.dl').graphs[0]).graph;
    expect(planMemory(graph, 2, { segmentBytes: 0 }).segments.length).toBeGreaterThan(0);
    const interp = new Interpreter(graph, initWeights(graph, { seed: 1 }), { segmentBytes: 0 });
    const inputs = randomInputs(graph, 2, 2);
    let previous = interp.run(inputs).outputs;
    expect(allocatedFloats(() => (previous = interp.run(inputs, { into: previous }).outputs))).toBe(0);
    const { stats } = interp.run(inputs, { stats: true });
    expect(stats!.layers.map((l) => l.name)).toEqual(graph.nodes.map((n) => n.name));
    const { segments } = planMemory(graph, 2, { segmentBytes: 0 });
    expect(stats!.plan.byExample).toEqual(segments.map((s) => [graph.nodes[s.first].name, graph.nodes[s.last].name]));
  });

  it('returns outputs that the next run does not overwrite', () => {
    const graph = optimize(compileFile('examples/mnist_convnet.dl').graphs[0]).graph;
    const interp = new Interpreter(graph, initWeights(graph, { seed: 1 }));
    const first = interp.run(randomInputs(graph, 4, 1)).outputs.probs;
    const copy = first.data.slice();
    interp.run(randomInputs(graph, 4, 2));
    expect(first.data).toEqual(copy);
  });

  it('reports the plan in --stats: planned bytes next to one buffer per activation', () => {
    const graph = optimize(compileFile('examples/mnist_convnet.dl').graphs[0]).graph;
    const { stats } = new Interpreter(graph, initWeights(graph, { seed: 1 })).run(randomInputs(graph, 64, 1), { stats: true });
    const plan = planMemory(graph, 64);
    expect(stats!.plan).toEqual({ plannedBytes: plan.plannedBytes, naiveBytes: plan.naiveBytes, byExample: [] });
  });

  it('allocates no float buffer after the first run at a batch size but the outputs it returns, and none at all when it writes into the last ones, on every example, inference and training', () => {
    for (const { name, graph } of exampleGraphs()) {
      if (!runnable(name)) continue;
      for (const g of forms(graph)) {
        const interp = new Interpreter(g, initWeights(g, { seed: 1 }));
        for (const training of [false, true]) {
          const inputs = randomInputs(g, 3, 2);
          interp.run(inputs, { training });
          let outputs = 0;
          let fresh: Record<string, Tensor> = {};
          const floats = allocatedFloats(() => {
            fresh = interp.run(inputs, { training }).outputs;
            outputs = Object.values(fresh).reduce((sum, t) => sum + t.data.length, 0);
          });
          expect({ name, training, floats }).toEqual({ name, training, floats: outputs });
          // Given the last outputs (`into`): the same values, in the same arrays.
          let previous = interp.run(inputs, { training }).outputs;
          const arrays = Object.values(previous).map((t) => t.data);
          expect({ name, training, floats: allocatedFloats(() => (previous = interp.run(inputs, { training, into: previous }).outputs)) }).toEqual({ name, training, floats: 0 });
          expect(Object.values(previous).map((t) => t.data)).toEqual(arrays);
          for (const [key, t] of Object.entries(fresh)) {
            expect(Array.from(previous[key].data), `${name} ${key}`).toEqual(Array.from(t.data)); // fresh's arrays are the counting class's
            expect(previous[key].shape).toEqual(t.shape);
          }
        }
      }
    }
  });

  it('writes into a given array only where it fits: another batch, a missing name, an array given for two outputs and a non-float array get copies', () => {
    const graph = compileText('model M {\n  input x: [3]\n  h = x -> dense(4)\n  output a = h -> relu\n  output b = h -> sigmoid\n}\n');
    const interp = new Interpreter(graph, initWeights(graph, { seed: 1 }));
    const x = (batch: number) => ({ x: { shape: [batch, 3], data: Float32Array.from({ length: 3 * batch }, (_, i) => i / 7 - 0.5) } });
    const expected = interp.run(x(2)).outputs;
    const shared = new Float32Array(8).fill(NaN);
    const given = { a: { shape: [2, 4], data: shared }, b: { shape: [2, 4], data: shared } };
    const out = interp.run(x(2), { into: given }).outputs;
    expect(out.a.data).toBe(shared);
    expect(out.b.data).not.toBe(shared);
    expect(out.a.data).toEqual(expected.a.data);
    expect(out.b.data).toEqual(expected.b.data);
    // Batch 3 does not fit the batch-2 arrays; `b` missing; an Int32Array is not an output's array.
    const small = new Float32Array(8).fill(NaN);
    const other = interp.run(x(3), { into: { a: { shape: [2, 4], data: small } } }).outputs;
    expect(other.a.data).not.toBe(small);
    expect(other.a.shape).toEqual([3, 4]);
    expect(small.every(Number.isNaN)).toBe(true);
    const ints = new Int32Array(8);
    const third = interp.run(x(2), { into: { a: { shape: [2, 4], data: ints as unknown as Float32Array } } }).outputs;
    expect(third.a.data).toBeInstanceOf(Float32Array);
    expect(third.a.data).toEqual(expected.a.data);
    expect([...ints]).toEqual(new Array(8).fill(0));
  });

  it('reuses one arena per batch size: repeated runs do not grow the heap', () => {
    const graph = optimize(compileFile('examples/mnist_convnet.dl').graphs[0]).graph;
    const interp = new Interpreter(graph, initWeights(graph, { seed: 1 }));
    const inputs = randomInputs(graph, 16, 1);
    interp.run(inputs);
    const arena = interp.arena(16);
    const views = [...arena.views.values()];
    const g = gemmKernel();
    const wasmBytes = () => (typeof g === 'string' ? 0 : g.memory.buffer.byteLength);
    const wasmBefore = wasmBytes();
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 30; i++) interp.run(inputs);
    gc();
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(interp.arena(16)).toBe(arena);
    expect([...interp.arena(16).views.values()]).toEqual(views);
    expect(wasmBytes()).toBe(wasmBefore);
    // 30 runs' worth of activations would be 30 x several MB; allow noise of 1 MB.
    expect(grown).toBeLessThan(1 << 20);
  });
});

describe('a training step', () => {
  it('allocates nothing but its results after the first step (predictions, one gradient per weight, new moving statistics), and nothing at all when it writes into the last ones', () => {
    for (const file of ['mnist_train.dl', 'mnist_mlp_train.dl', 'lstm_sentiment.dl', 'transformer.dl', 'residual.dl', 'batchnorm.dl']) {
      const written = concrete(compileFile(`examples/${file}`).graphs[0]);
      const graph = optimize(written, { training: true }).graph;
      const weights = initWeights(written, { seed: 1 });
      const inputs = randomInputs(graph, 4, 3);
      const [output] = graph.outputs;
      const targets = { shape: [4, ...(output.node.type.shape.slice(1) as number[])], data: new Float32Array(4 * sizeOfShape(output.node.type.shape)).fill(0.5) };
      const step = () => lossAndGradients(graph, weights, inputs, targets, 'mse');
      const first = step();
      const results = first.predictions.data.length + [...first.grads.values(), ...first.state.values()].reduce((n, t) => n + t.data.length, 0);
      expect({ file, floats: allocatedFloats(step) }).toEqual({ file, floats: results });
      // Given the previous result to write into (as dlc train does), nothing at all, and the same values.
      let previous = step();
      const fresh = step();
      expect({ file, floats: allocatedFloats(() => (previous = lossAndGradients(graph, weights, inputs, targets, 'mse', { into: previous }))) }).toEqual({ file, floats: 0 });
      expect(previous.predictions.data).toEqual(fresh.predictions.data);
      for (const [name, g] of fresh.grads) expect(previous.grads.get(name)!.data, name).toEqual(g.data);
      for (const [name, t] of fresh.state) expect(previous.state.get(name)!.data, name).toEqual(t.data);
    }
  });

  it('returns results that outlive the step', () => {
    const written = compileFile('examples/mnist_train.dl').graphs[0];
    const graph = optimize(written, { training: true }).graph;
    const weights = initWeights(written, { seed: 1 });
    const inputs = randomInputs(graph, 4, 3);
    const targets = { shape: [4, 10], data: new Float32Array(40).fill(0.1) };
    const a = lossAndGradients(graph, weights, inputs, targets, 'categorical_crossentropy', { seed: 1 });
    const copy = new Map([...a.grads].map(([k, t]) => [k, t.data.slice()]));
    lossAndGradients(graph, weights, randomInputs(graph, 4, 9), targets, 'categorical_crossentropy', { seed: 2 });
    for (const [k, t] of a.grads) expect(t.data).toEqual(copy.get(k));
  });
});

const sizeOfShape = (shape: Dim[]) => shape.slice(1).reduce((n: number, d) => n * ((d as number | null) ?? 1), 1);
