// The interpreter against TensorFlow.js's CPU backend and its WebAssembly
// backend, in one process, on the same weights and inputs: a 512x512 matmul,
// the MNIST convnet at batch 64 (forward, and one training step), an
// LSTM(128) over 50 steps at batch 32, a Transformer encoder block (T 128,
// d 128, 4 heads x 32, FFN 512) at batch 8, and ResNet-50 and MobileNetV2
// (examples/resnet50.dl and mobilenet_v2.dl, 224x224) at batch 1 and 8, whose
// tfjs side is keras.applications' ResNet50 and MobileNetV2 in tf.layers
// (bench/keras_zoo.js), and BERT-base and GPT-2 small (examples/bert_base.dl
// and gpt2.dl, T = 128) at batch 1, whose tfjs side is the same network in tf
// ops (bench/language_models.js).
//
// The interpreter runs three ways: the WebAssembly kernels on every core
// (setThreads(cores)), on one thread (setThreads(1)), and the TS reference
// kernels (setKernelBackend('js')). It runs the optimized graph, as `dlc run`
// does, with its weights packed once (the Interpreter's `prepack`, as
// `dlc eval` and a server run it, and as ONNX Runtime packs a session's),
// each run writing its outputs into the previous run's arrays (the run option
// `into`; ONNX Runtime likewise into pre-allocated outputs), as a server
// reuses them: a fresh output buffer costs its page faults, which on this
// kind of VM made GPT-2's logits copy 70-90 ms. FLOPs are dlc's own count (`summarize`) times the batch, 2 n^3 for
// the matmul, and 3x the forward's for a training step (forward, and the two
// products of each layer's backward); every backend is credited with the same
// FLOPs. The last column checks that the backends computed the same numbers.
// ResNet-50, MobileNetV2, BERT-base and GPT-2 skip the TS kernels and
// tfjs-cpu (seconds to tens of seconds a run) and time fewer runs.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm'; // registers the 'wasm' backend
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { lossAndGradients } from '../dist/src/backends/interp/autodiff.js';
import { Interpreter, initWeights } from '../dist/src/backends/interp/index.js';
import { weightSlots } from '../dist/src/backends/interp/weights.js';
import { matmulInto } from '../dist/src/backends/interp/kernels/index.js';
import { createRng } from '../dist/src/runtime/random.js';
import { kernelBackend, setFastMath, setKernelBackend, setThreads, warmUpThreads } from '../dist/src/backends/interp/wasm/index.js';
import { compileSource, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { specialize } from '../dist/src/ir/infer.js';
import { summarize } from '../dist/src/summary.js';
import { createOptimizer } from '../dist/src/train/optimizers.js';
import { OrtSession } from '../dist/src/backends/onnx/ort.js';
import { mobilenetV2, resnet50, setWeightsFrom } from './keras_zoo.js';
import { bert, gpt2 } from './language_models.js';
import { measurePeak } from './peak.js';
import { fixed, machine, medianMs, table } from './util.js';

const ENCODER = `model EncoderBlock {
  input x: [128, 128]
  attended = x -> attention(heads = 4, key_dim = 32)
  h = add(x, attended) -> layernorm
  ffn = h -> dense(512) -> relu -> dense(128)
  output y = add(h, ffn) -> layernorm
}
`;
const LSTM = `model Lstm128 {
  input x: [50, 128]
  output h = x -> lstm(128)
}
`;
const example = (name) => readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
const CORES = os.availableParallelism();
/** The training step's optimizer: examples/mnist_train.dl's. */
const SGD = { kind: 'sgd', lr: 0.05, momentum: 0.9 };

/** Uniform values in [lo, hi) as float32. */
function random(n, seed, lo = -1, hi = 1) {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

/**
 * A compiled model with seeded weights, one random input batch, and its
 * interpreter on the optimized graph. `noise` adds uniform noise in [-0.5, 0.5)
 * to the weights that start as constants (biases, batchnorm's gamma, beta and
 * moving statistics), as test/backends/interp/models.test.ts does: through
 * MobileNetV2's linear bottlenecks a fresh model's activations shrink to 1e-11,
 * its softmax to exactly 1/1000, and the outputs' comparison would say nothing.
 */
function model(text, batch, seed, lo, hi, noise = false) {
  const graph = selectModel(compileSource({ path: 'bench.dl', text }));
  const weights = initWeights(graph, { seed });
  if (noise) {
    const rng = createRng(seed + 1000);
    for (const { name, spec } of weightSlots(graph)) {
      if (spec.init !== 'zeros' && spec.init !== 'ones') continue;
      const data = weights.get(name).data;
      for (let i = 0; i < data.length; i++) data[i] += rng.uniform() - 0.5;
    }
  }
  const [input] = graph.inputs;
  const shape = [batch, ...input.type.shape.slice(1)];
  const data = random(shape.reduce((a, b) => a * b, 1), seed + 1, lo, hi);
  const optimized = optimize(graph).graph;
  const interpreter = new Interpreter(optimized, weights, { prepack: true });
  const output = graph.outputs[0].name;
  const inputs = { [input.name]: { shape, data } };
  let previous; // each run's outputs, written into by the next (`into`), as a server reuses them
  return {
    graph,
    flops: summarize(graph).flops * batch,
    weights,
    shape,
    data,
    interp: () => (previous = interpreter.run(inputs, { into: previous }).outputs)[output].data,
    ort: { graph: optimized, weights, inputs, output },
  };
}

/** Our weights as tfjs tensors on the current backend, by name. */
const tfWeights = (weights) => Object.fromEntries([...weights].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));

/** The MNIST convnet as tf.layers with our weights; `dropout` adds examples/mnist_train.dl's dropout(0.5). */
function mnistLayers(weights, dropout) {
  const input = tf.input({ shape: [28, 28, 1] });
  const c0 = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' });
  const c1 = tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' });
  const dense = tf.layers.dense({ units: 10, activation: 'softmax' });
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
  const layers = [c0, pool(), c1, pool(), tf.layers.flatten(), ...(dropout ? [tf.layers.dropout({ rate: 0.5 })] : []), dense];
  const net = tf.model({ inputs: input, outputs: layers.reduce((h, l) => l.apply(h), input) });
  const w = tfWeights(weights);
  c0.setWeights([w['conv2d.kernel'], w['conv2d.bias']]);
  c1.setWeights([w['conv2d_1.kernel'], w['conv2d_1.bias']]);
  dense.setWeights([w['dense.kernel'], w['dense.bias']]);
  tf.dispose(Object.values(w));
  return net;
}

const CASES = [
  {
    name: 'matmul 512x512',
    prepare() {
      const n = 512;
      const a = random(n * n, 1);
      const b = random(n * n, 2);
      const out = new Float32Array(n * n);
      return {
        flops: 2 * n ** 3,
        interp: () => (matmulInto(out, a, b, n, n, n), out),
        tfjs() {
          const [ta, tb] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
          return { run: () => tf.matMul(ta, tb), dispose: () => tf.dispose([ta, tb]) };
        },
      };
    },
  },
  {
    name: 'MNIST convnet forward, batch 64',
    fastMath: true,
    prepare() {
      const m = model(example('mnist_convnet.dl'), 64, 3, 0, 1);
      return {
        ...m,
        tfjs() {
          const net = mnistLayers(m.weights, false);
          const x = tf.tensor(m.data, m.shape);
          return { run: () => net.predict(x), dispose: () => (net.dispose(), x.dispose()) };
        },
      };
    },
  },
  {
    name: 'MNIST convnet training step, batch 64',
    training: true,
    // The steady state of a training run: 20 warm-up steps (the first ten or so run 20-300% slower while V8 tiers the code up), then up to 60.
    timing: { warmup: 20, min: 15, max: 60 },
    prepare() {
      const m = model(example('mnist_train.dl'), 64, 3, 0, 1);
      const labels = Float32Array.from({ length: 64 * 10 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0));
      const graph = optimize(m.graph, { training: true }).graph;
      const input = graph.inputs[0].name;
      const targets = { shape: [64, 10], data: labels };
      // Fresh weights and optimizer state per measured series: the steps do train.
      const weights = initWeights(m.graph, { seed: 3 });
      const sgd = createOptimizer(SGD);
      let seed = 0;
      let previous;
      return {
        flops: 3 * m.flops,
        interp() {
          // As `dlc train` runs its steps: each writes its gradients into the previous step's arrays.
          const step = lossAndGradients(graph, weights, { [input]: { shape: m.shape, data: m.data } }, targets, 'categorical_crossentropy', { seed: seed++, into: previous });
          sgd.step(weights, step.grads);
          previous = step;
          return Float32Array.of(step.loss);
        },
        tfjs() {
          if (!tf.getKernel('Conv2DBackpropFilter', tf.getBackend())) return null; // tfjs-wasm cannot train convolutions
          const net = mnistLayers(m.weights, true);
          const optimizer = tf.train.momentum(SGD.lr, SGD.momentum);
          const [x, y] = [tf.tensor(m.data, m.shape), tf.tensor(labels, [64, 10])];
          const loss = () => tf.metrics.categoricalCrossentropy(y, net.apply(x, { training: true })).mean();
          return {
            run() {
              const { value, grads } = tf.variableGrads(loss);
              optimizer.applyGradients(grads);
              tf.dispose(Object.values(grads));
              return value;
            },
            dispose: () => (net.dispose(), optimizer.dispose(), tf.dispose([x, y])),
            // tens of seconds a step on the CPU backend: one timed step after the warm-up
            timing: { warmup: 0, min: 1, max: 1 },
          };
        },
      };
    },
  },
  {
    name: 'LSTM(128), 50 steps, batch 32',
    prepare() {
      const m = model(LSTM, 32, 4);
      return {
        ...m,
        tfjs() {
          const input = tf.input({ shape: [50, 128] });
          // Keras's sigmoid gates (tfjs defaults to hard_sigmoid); the initialisers are overwritten.
          const lstm = tf.layers.lstm({ units: 128, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' });
          const net = tf.model({ inputs: input, outputs: lstm.apply(input) });
          const w = tfWeights(m.weights);
          lstm.setWeights([w['lstm.kernel'], w['lstm.recurrent_kernel'], w['lstm.bias']]);
          tf.dispose(Object.values(w));
          const x = tf.tensor(m.data, m.shape);
          return { run: () => net.predict(x), dispose: () => (net.dispose(), x.dispose()) };
        },
      };
    },
  },
  {
    name: 'Transformer encoder block (T 128, d 128, 4x32 heads, FFN 512), batch 8',
    prepare() {
      const m = model(ENCODER, 8, 5);
      return {
        ...m,
        tfjs() {
          const w = tfWeights(m.weights);
          const x = tf.tensor(m.data, m.shape);
          return { run: () => encoder(w, x), dispose: () => tf.dispose([x, ...Object.values(w)]) };
        },
      };
    },
  },
  // The ImageNet models, each at batch 1 and 8: the file's graph after the optimizer
  // (batchnorm folded into the convolution before it, the activation after it fused),
  // against the same network in tf.layers on the same weights.
  ...[
    ['ResNet-50', 'resnet50.dl', resnet50, 6],
    ['MobileNetV2', 'mobilenet_v2.dl', mobilenetV2, 7],
  ].flatMap(([title, file, build, seed]) => [1, 8].map((batch) => ({
    name: `${title} forward (224x224), batch ${batch}`,
    skip: ['js', 'cpu'],
    // ResNet-50's 3x3 convolutions at stride 1 take Winograd F(4x4, 3x3) with fast math (at batch 1, the first two stages')
    fastMath: title === 'ResNet-50' && batch === 1,
    timing: { warmup: 1, min: 3, max: 5 },
    prepare() {
      // Inputs in [0, 1), noise on the constant weights (see `model`).
      const m = model(example(file), batch, seed, 0, 1, true);
      return {
        ...m,
        tfjs() {
          const net = build();
          setWeightsFrom(net, (name) => tf.tensor(m.weights.get(name).data, m.weights.get(name).shape));
          const x = tf.tensor(m.data, m.shape);
          return { run: () => net.predict(x), dispose: () => (net.dispose(), x.dispose()), timing: { warmup: 1, min: 3, max: 5 } };
        },
      };
    },
  }))),
  // The language models at batch 1, T = 128 (the files' T): the optimized graph (dropout gone) against
  // the network in tf ops on the same weights. Token ids are seeded draws below each vocabulary.
  ...[
    ['BERT-base forward (T 128, with pooler), batch 1', 'bert_base.dl', 8, 'sequence', (w, x) => bert(w, x.tokens, x.segments)],
    ['GPT-2 small forward (T 128, with the tied LM head), batch 1', 'gpt2.dl', 9, 'logits', (w, x, transposed) => gpt2(w, x.tokens, transposed)],
  ].map(([name, file, seed, output, network]) => ({
    name,
    skip: ['js', 'cpu'],
    timing: { warmup: 1, min: 3, max: 5 },
    prepare: () => languageModel(file, seed, output, network),
  })),
];

/**
 * A language model example with seeded weights (noise on the constant ones,
 * as `model` adds it), one batch of token ids, and its forward pass on both
 * sides; the compared output is `output`.
 */
function languageModel(file, seed, output, network) {
  // The files' sequences have a symbolic length T: FLOPs are counted at T = 128.
  const graph = specialize(selectModel(compileSource({ path: file, text: example(file) })), new Map([['T', 128]]));
  const weights = initWeights(graph, { seed });
  const noise = createRng(seed + 1000);
  for (const { name, spec } of weightSlots(graph)) {
    if (spec.init !== 'zeros' && spec.init !== 'ones') continue;
    const data = weights.get(name).data;
    for (let i = 0; i < data.length; i++) data[i] += noise.uniform() - 0.5;
  }
  const rng = createRng(seed + 1);
  const inputs = Object.fromEntries(graph.inputs.map((input) => {
    const vocab = Math.min(...graph.nodes.filter((n) => n.op === 'embedding' && n.inputs.includes(input)).map((n) => n.resolved.vocab));
    const shape = [1, ...input.type.shape.slice(1)];
    return [input.name, { shape, data: Float32Array.from({ length: shape[1] }, () => Math.floor(rng.uniform() * vocab)) }];
  }));
  const optimized = optimize(graph).graph;
  const interpreter = new Interpreter(optimized, weights, { prepack: true });
  let previous;
  return {
    flops: summarize(graph).flops,
    interp: () => (previous = interpreter.run(inputs, { into: previous }).outputs)[output].data,
    ort: { graph: optimized, weights, inputs, output },
    tfjs() {
      const w = tfWeights(weights);
      const x = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, tf.tensor2d(t.data, t.shape, 'int32')]));
      // A weight transposed once, on the warm-up run, and kept: as the generated module's transposeTables.
      const kept = new Map();
      const transposed = (name) => kept.get(name) ?? kept.set(name, tf.keep(tf.transpose(w[name]))).get(name);
      const run = () => {
        const outputs = network((name) => w[name], x, transposed);
        const y = outputs[output];
        tf.dispose(Object.values(outputs).filter((t) => t !== y));
        return y;
      };
      return { run, dispose: () => tf.dispose([...Object.values(w), ...Object.values(x), ...kept.values()]), timing: { warmup: 1, min: 3, max: 5 } };
    },
  };
}

/** The encoder block in tf ops, heads as a batch dimension: [B, T, d] -> [B, T, d]. */
function encoder(w, x) {
  return tf.tidy(() => {
    const [B, T, d] = x.shape;
    const [H, K] = [4, 32];
    const rows = x.reshape([B * T, d]);
    const dense = (a, name, activation) => tf.fused.matMul({ a, b: w[`${name}.kernel`], bias: w[`${name}.bias`], activation });
    const heads = (role) => dense(rows, `attention.${role}`).reshape([B, T, H, K]).transpose([0, 2, 1, 3]); // [B, H, T, K]
    const scores = tf.matMul(heads('query').mul(1 / Math.sqrt(K)), heads('key'), false, true); // [B, H, T, T]
    const context = tf.matMul(tf.softmax(scores), heads('value')).transpose([0, 2, 1, 3]).reshape([B * T, H * K]);
    const norm = (z, name) => {
      const { mean, variance } = tf.moments(z, -1, true);
      return z.sub(mean).mul(tf.rsqrt(variance.add(1e-3))).mul(w[`${name}.gamma`]).add(w[`${name}.beta`]);
    };
    const h = norm(rows.add(dense(context, 'attention.output')), 'layernorm');
    const ffn = dense(dense(h, 'dense', 'relu'), 'dense_1');
    return norm(h.add(ffn), 'layernorm_1').reshape([B, T, d]);
  });
}

/** Median ms of one tfjs run (including reading the result back) on `backend`, and its output; null if it cannot run there. */
async function timeTfjs(backend, c) {
  await tf.setBackend(backend);
  await tf.ready();
  const prepared = c.tfjs();
  if (!prepared) return null;
  const { run, dispose, timing = { warmup: 1, min: 5 } } = prepared;
  const once = () => {
    const y = run();
    const data = y.dataSync();
    y.dispose();
    return data;
  };
  const output = once(); // and a warm-up
  const { ms, runs } = await medianMs(once, timing);
  dispose();
  return { ms, runs, output };
}

/**
 * How long the interpreter runs a workload untimed before it is timed, and
 * each pair with ONNX Runtime: its first forward passes run slower while V8
 * optimizes the JavaScript around the kernels (MobileNetV2 at batch 1 on two
 * threads, measured: a median of 16.5 ms over the first 20 runs, 12 over the
 * next 40, 10.1 from about the 60th, some 0.8 s in; with V8's optimizing
 * compiler off, 11 ms from the first run on). The timings are of the steady
 * state, as a server runs; a single `dlc run` pays the warm-up.
 */
const WARMUP_MS = 1500;

/** Median ms of the interpreter with the given kernels and threads. */
async function timeInterp(c, kernels, threads, timing = { warmup: 1, min: 5 }) {
  setKernelBackend(kernels);
  setThreads(threads);
  try {
    return await medianMs(c.interp, { warmupMs: WARMUP_MS, ...timing });
  } finally {
    setKernelBackend('auto');
    setThreads(CORES);
  }
}

/**
 * The interpreter on `threads` threads and ONNX Runtime (onnxruntime-node's
 * CPU library, on the model as `dlc compile --target onnx` exports it) with as
 * many intra-op threads, one run of each in turn, as bench/ab.js pairs two
 * builds: load from the machine's other tenants that comes and goes hits both
 * sides of a pair, so `ratio`, the median of the pairs' ONNX Runtime ms /
 * interpreter ms, holds where either side's median alone moves by a third.
 * Also each side's median ms and ONNX Runtime's output. Null for a workload
 * with no model (the bare matmul) or a training step.
 *
 * Neither side may time its run while the other's threads are still busy or
 * have gone to sleep. ONNX Runtime's pool threads spin for about 30 ms after
 * each run (its default, allow_spinning): measured here, a 3 ms MNIST run at
 * 2 threads took 6.2 ms right after an ONNX Runtime run, as its spinning
 * thread held the second core. And a pool idle for 20 ms or more starts its
 * next run slowly (the same run: 6.1 ms after a 20 ms sleep, 3.1 back to
 * back), for both runtimes. So at 2 threads or more each side's timed run
 * comes SETTLE_MS after the other's, behind an untimed run of its own where
 * a run is short enough (SHORT_PAIR_MS) for that to show: each is timed as in
 * a loop of its own runs, as a server runs them.
 */
const SETTLE_MS = 50;
const SHORT_PAIR_MS = 200;
async function pairWithOrt(c, threads, { warmup = 1, min = 5, max = 15, budgetMs = 2000 } = {}) {
  if (!c.ort) return null;
  const session = await OrtSession.create(c.ort.graph, c.ort.weights, { sourcePath: 'bench', threads });
  let previous; // ONNX Runtime writes into the previous run's outputs (pre-allocated outputs), as the interpreter does (`into`)
  const ortOnce = async () => (previous = await session.run(c.ort.inputs, { into: previous }))[c.ort.output].data;
  const timed = async (fn) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  setThreads(threads);
  try {
    const output = (await ortOnce()).slice();
    let pairMs = 0;
    const start = performance.now();
    for (let i = 0; i < warmup || performance.now() - start < WARMUP_MS; i++) pairMs = (await timed(c.interp)) + (await timed(ortOnce));
    const runs = Math.max(min, Math.min(max, Math.round(budgetMs / Math.max(pairMs, 1e-3))));
    const settled = async (fn) => {
      if (threads > 1) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        if (pairMs < SHORT_PAIR_MS) await fn();
      }
      return timed(fn);
    };
    const [ours, theirs, ratios] = [[], [], []];
    for (let i = 0; i < runs; i++) {
      ours.push(await settled(c.interp));
      theirs.push(await settled(ortOnce));
      ratios.push(theirs[i] / ours[i]);
    }
    return { interp: { ms: median(ours), runs }, ort: { ms: median(theirs), runs, output }, ratio: median(ratios) };
  } finally {
    setThreads(CORES);
    await session.release();
  }
}

function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Convolutions timed alone for the share of the WebAssembly peak: ResNet-50's 3x3 and 1x1 shapes at batch 1, the MNIST convnet's second layer at batch 64. */
const CONVOLUTIONS = [
  { name: 'conv 3x3, 56x56x64 -> 64, same, batch 1 (ResNet-50)', text: 'model C {\n  input x: [56, 56, 64]\n  output y = x -> conv2d(64, 3, padding = same)\n}\n', batch: 1 },
  { name: 'conv 1x1, 56x56x256 -> 64, batch 1 (ResNet-50)', text: 'model C {\n  input x: [56, 56, 256]\n  output y = x -> conv2d(64, 1)\n}\n', batch: 1 },
  { name: 'conv 3x3, 13x13x32 -> 64, valid, batch 64 (MNIST)', text: 'model C {\n  input x: [13, 13, 32]\n  output y = x -> conv2d(64, 3)\n}\n', batch: 64 },
];

/**
 * The GEMM and the convolutions on one thread as a share of the machine's
 * WebAssembly SIMD peak (bench/peak.js), against issue 19's targets (70% and 60%).
 */
async function peakShares() {
  setThreads(1);
  try {
    const { fused } = kernelBackend();
    const peak = await measurePeak(fused);
    const rows = [];
    const share = (gflops) => `${fixed((100 * gflops) / peak.peak, 0)}%`;
    const n = 512;
    const [a, b, out] = [random(n * n, 1), random(n * n, 2), new Float32Array(n * n)];
    const gemm = await medianMs(() => matmulInto(out, a, b, n, n, n), { warmup: 3, min: 15 });
    const gemmRate = (2 * n ** 3) / (gemm.ms * 1e6);
    rows.push(['matmul 512x512', fixed(gemm.ms, 2), fixed(gemmRate), share(gemmRate), '70%']);
    for (const conv of CONVOLUTIONS) {
      const m = model(conv.text, conv.batch, 5);
      const t = await medianMs(m.interp, { warmup: 3, min: 15 });
      const rate = m.flops / (t.ms * 1e6);
      rows.push([conv.name, fixed(t.ms, 2), fixed(rate), share(rate), '60%']);
    }
    return [
      '## The WebAssembly kernels against the machine\'s WebAssembly SIMD peak (1 thread)',
      '',
      `Peak: ${fixed(peak.peak)} GFLOP/s on one core, the faster of two loops of f32x4 multiply-adds written as the kernels in use write them (${fused ? 'one fused f32x4.relaxed_madd each: gemm-fma.wasm, relaxed SIMD' : 'an f32x4.mul and an f32x4.add each: gemm.wasm'}): 12 independent accumulators ${fixed(peak.chains)} GFLOP/s, and gemm.wat's 4x8 register block with its loads ${fixed(peak.block)} GFLOP/s (bench/peak.js).`,
      'GFLOP/s count a convolution\'s direct multiply-adds. The 3x3 rows run as Winograd F(2x2, 3x3), which does up to 2.25x fewer (MNIST\'s 11x11 outputs: 1.9x, its last tiles half empty): past 100% of the peak, they are faster than any direct convolution could be.',
      '',
      table(['kernel', 'ms (1 thr)', 'GFLOP/s', 'share of peak', "issue 19's target"], rows),
    ].join('\n');
  } finally {
    setThreads(CORES);
  }
}

function maxAbsDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return a.length === b.length ? worst : NaN;
}

export async function run() {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  // BENCH_CASES=peak runs only the share-of-peak table.
  if (process.env.BENCH_CASES === 'peak') return peakShares();
  await warmUpThreads(CORES);
  // The WebAssembly peak of one core, for the ONNX Runtime table's last two columns.
  const { peak } = await measurePeak(kernelBackend().fused);
  const rows = [];
  const ortRows = [];
  // BENCH_CASES=ResNet runs only the workloads whose name contains it.
  const only = process.env.BENCH_CASES;
  for (const spec of CASES.filter((s) => !only || s.name.includes(only))) {
    const c = spec.prepare();
    // The forward outputs are compared; a training step changes the weights, so only its timing is.
    const ours = c.interp().slice();
    const skip = new Set(spec.skip ?? []);
    const multi = await timeInterp(c, 'auto', CORES, spec.timing);
    const single = CORES > 1 ? await timeInterp(c, 'auto', 1, spec.timing) : multi;
    const js = skip.has('js') ? null : await timeInterp(c, 'js', CORES, spec.timing);
    const cpu = skip.has('cpu') ? null : await timeTfjs('cpu', c);
    const wasm = await timeTfjs('wasm', c);
    const paired = spec.training ? null : await pairWithOrt(c, CORES, spec.timing);
    const paired1 = spec.training || CORES === 1 ? paired : await pairWithOrt(c, 1, spec.timing);
    const ort = paired?.ort;
    const gflops = (t) => (t ? fixed(c.flops / (t.ms * 1e6), 1) : '-');
    const ms = (t, skipped = false) => (t ? `${fixed(t.ms)} (${t.runs})` : skipped ? 'skipped' : 'cannot');
    const ratio = (theirs, mine) => (theirs ? `${fixed(theirs.ms / mine.ms, 2)}x` : '-');
    const diff = (t) => (!t ? '-' : spec.training ? 'n/a' : maxAbsDiff(ours, t.output).toExponential(1));
    rows.push([
      spec.name,
      fixed(c.flops / 1e9, 3),
      ms(multi),
      ms(single),
      ms(js, skip.has('js')),
      ms(cpu, skip.has('cpu')),
      ms(wasm),
      `${gflops(multi)} / ${gflops(single)} / ${gflops(js)} / ${gflops(cpu)} / ${gflops(wasm)}`,
      `${ratio(wasm, multi)} / ${ratio(wasm, single)}`,
      `${ratio(cpu, multi)} / ${ratio(cpu, single)}`,
      `${diff(cpu)} / ${diff(wasm)}`,
    ]);
    // On one thread: the interpreter's share of the WebAssembly peak, and the share that 3x ONNX Runtime's time would take.
    const ofPeak = (t, times = 1) => (t ? `${fixed((100 * c.flops * times) / (t.ms * 1e6 * peak), 0)}%` : '-');
    // Three decimals: issue 19's line, within 3x, is 0.333x, and rows land on it.
    const ortRow = (name, p, p1, out) => [
      name, ms(p.ort), ms(p1.ort), ms(p.interp), ms(p1.interp), `${fixed(p.ratio, 3)}x / ${fixed(p1.ratio, 3)}x`,
      ofPeak(p1.interp), ofPeak(p1.ort, 1 / 3), maxAbsDiff(out, p.ort.output).toExponential(1),
    ];
    ortRows.push(paired ? ortRow(spec.name, paired, paired1, ours) : [spec.name, '-', '-', ms(multi), ms(single), '- / -', ofPeak(single), '-', '-']);
    if (spec.fastMath && paired) {
      // The same, paired again, with fast math (dlc run --fast-math)
      setFastMath(true);
      try {
        const fastOut = c.interp().slice();
        ortRows.push(ortRow(`${spec.name}, fast math`, await pairWithOrt(c, CORES, spec.timing), await pairWithOrt(c, 1, spec.timing), fastOut));
      } finally {
        setFastMath(false);
      }
    }
  }
  await tf.setBackend('cpu');
  return [
    '## Interpreter vs TensorFlow.js (CPU and WebAssembly backends)',
    '',
    `Machine: ${machine()}, load average ${load} at the start. tfjs ${tf.version.tfjs}; its WebAssembly backend: SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, ${getThreadsCount()} thread(s).`,
    `The interpreter: the WebAssembly kernels on ${CORES} thread(s) ("${CORES} thr") and on 1 ("1 thr"), and its TS reference kernels ("TS").`,
    '',
    'Median ms per run after a warm-up (runs in parentheses): a forward pass, or a training step (forward with dropout, loss, backward, SGD with momentum).',
    'The tfjs CPU training step takes tens of seconds: it is timed once, after one warm-up step. tfjs-wasm has no convolution gradients (Conv2DBackpropFilter): "cannot".',
    'ResNet-50 and MobileNetV2 are not run on the TS kernels and tfjs-cpu ("skipped": seconds to tens of seconds a forward pass); their tfjs-wasm side is Keras\'s ResNet50 and MobileNetV2 in tf.layers with our weights.',
    'BERT-base and GPT-2 small (T 128) are not run there either; their tfjs-wasm side is the same network in tf ops (bench/language_models.js) with our weights, compared on BERT\'s last [128, 768] states and GPT-2\'s [128, 50257] logits. GPT-2\'s tied head multiplies by the [768, 50257] table transposed once and kept, as dlc\'s generated module does (tf.matMul with transposeB would transpose it on every call, several times the cost of the product).',
    'GFLOP/s from dlc\'s FLOPs count x batch (2n^3 for the matmul, 3x the forward for a training step). Speed-up = their ms / ours: above 1x the interpreter is faster.',
    '',
    table(
      [
        'workload', 'GFLOP', `interp ${CORES} thr ms`, 'interp 1 thr ms', 'interp TS ms', 'tfjs-cpu ms', 'tfjs-wasm ms',
        `GFLOP/s (${CORES} thr / 1 thr / TS / cpu / wasm)`, `vs tfjs-wasm (${CORES} thr / 1 thr)`, `vs tfjs-cpu (${CORES} thr / 1 thr)`, 'max \\|diff\\| cpu / wasm',
      ],
      rows,
    ),
    '',
    `## Interpreter vs ONNX Runtime (native CPU library, onnxruntime-node ${ortVersion()})`,
    '',
    'The same workloads, weights and inputs; ONNX Runtime runs the model as `dlc compile --target onnx` exports it (graph optimizations on), with as many intra-op threads as the interpreter. Ratio = ONNX Runtime ms / interpreter ms: below 1x the native runtime is faster. The bare matmul and the training step have no ONNX model ("-").',
    `Each side is timed in alternation with the other, one run of each in turn, at each thread count: the ratio is the median of the pairs\' ratios (load from the machine\'s other tenants that comes and goes hits both sides of a pair), and the ms are each side\'s median over the same pairs (not the runs of the table above). At 2 threads each side\'s timed run starts ${SETTLE_MS} ms after the other\'s ended (ONNX Runtime\'s pool threads spin for about 30 ms after a run, holding the other core), behind an untimed run of its own where a pair takes under ${SHORT_PAIR_MS} ms (a pool idle for 20 ms starts slowly): each side as in a loop of its own runs.`,
    'Rows marked "fast math" run the interpreter as `dlc run --fast-math` does (3x3 convolutions as Winograd F(4x4, 3x3): fewer multiply-adds, about 10x the rounding error), paired with ONNX Runtime again.',
    `On one thread, against this run's WebAssembly peak (${fixed(peak)} GFLOP/s, the last table): the interpreter's GFLOP/s as a share of it, and the share that running within 3x of ONNX Runtime's time would take. Above 100%, no WebAssembly code in Node ${process.version} can be within 3x on one core. FLOPs count the direct multiply-adds (Winograd's 3x3 convolutions do fewer).`,
    '',
    table(['workload', `ort ${CORES} thr ms`, 'ort 1 thr ms', `interp ${CORES} thr ms`, 'interp 1 thr ms', `ratio (${CORES} thr / 1 thr)`, 'interp 1 thr, of peak', '3x ort 1 thr needs', 'max \\|diff\\| ort'], ortRows),
    '',
    await peakShares(),
  ].join('\n');
}

function ortVersion() {
  return JSON.parse(readFileSync(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')).version;
}
