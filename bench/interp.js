// The interpreter against TensorFlow.js's CPU backend and its WebAssembly
// backend, in one process, on the same weights and inputs: a 512x512 matmul,
// the MNIST convnet at batch 64, an LSTM(128) over 50 steps at batch 32 and a
// Transformer encoder block (T 128, d 128, 4 heads x 32, FFN 512) at batch 8.
// The interpreter runs the optimized graph, as `dlc run` does. FLOPs are dlc's
// own count (`summarize`) times the batch, and 2 n^3 for the matmul; every
// backend is credited with the same FLOPs. The last column checks that the
// three computed the same numbers.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm'; // registers the 'wasm' backend
import { readFileSync } from 'node:fs';
import { Interpreter, initWeights } from '../dist/src/backends/interp/index.js';
import { matmulInto } from '../dist/src/backends/interp/kernels/index.js';
import { createRng } from '../dist/src/backends/interp/random.js';
import { compileSource, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { summarize } from '../dist/src/summary.js';
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

/** Uniform values in [lo, hi) as float32. */
function random(n, seed, lo = -1, hi = 1) {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

/** A compiled model with seeded weights, one random input batch, and its interpreter on the optimized graph. */
function model(text, batch, seed, lo, hi) {
  const graph = selectModel(compileSource({ path: 'bench.dl', text }));
  const weights = initWeights(graph, { seed });
  const [input] = graph.inputs;
  const shape = [batch, ...input.type.shape.slice(1)];
  const data = random(shape.reduce((a, b) => a * b, 1), seed + 1, lo, hi);
  const interpreter = new Interpreter(optimize(graph).graph, weights);
  const output = graph.outputs[0].name;
  return {
    flops: summarize(graph).flops * batch,
    weights,
    shape,
    data,
    interp: () => interpreter.run({ [input.name]: { shape, data } }).outputs[output].data,
  };
}

/** Our weights as tfjs tensors on the current backend, by name. */
const tfWeights = (weights) => Object.fromEntries([...weights].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));

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
    name: 'MNIST convnet, batch 64',
    prepare() {
      const m = model(readFileSync(new URL('../examples/mnist_convnet.dl', import.meta.url), 'utf8'), 64, 3, 0, 1);
      return {
        ...m,
        tfjs() {
          const input = tf.input({ shape: [28, 28, 1] });
          const c0 = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' });
          const c1 = tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' });
          const dense = tf.layers.dense({ units: 10, activation: 'softmax' });
          const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
          const out = [c0, pool(), c1, pool(), tf.layers.flatten(), dense].reduce((h, l) => l.apply(h), input);
          const net = tf.model({ inputs: input, outputs: out });
          const w = tfWeights(m.weights);
          c0.setWeights([w['conv2d.kernel'], w['conv2d.bias']]);
          c1.setWeights([w['conv2d_1.kernel'], w['conv2d_1.bias']]);
          dense.setWeights([w['dense.kernel'], w['dense.bias']]);
          tf.dispose(Object.values(w));
          const x = tf.tensor(m.data, m.shape);
          return { run: () => net.predict(x), dispose: () => (net.dispose(), x.dispose()) };
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
];

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

/** Median ms of one tfjs forward pass (including reading the result back) on `backend`, and its output. */
async function timeTfjs(backend, c) {
  await tf.setBackend(backend);
  await tf.ready();
  const { run, dispose } = c.tfjs();
  const once = () => {
    const y = run();
    const data = y.dataSync();
    y.dispose();
    return data;
  };
  const output = once();
  const { ms, runs } = await medianMs(once, { warmup: 1, min: 5 });
  dispose();
  return { ms, runs, output };
}

function maxAbsDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return a.length === b.length ? worst : NaN;
}

export async function run() {
  const rows = [];
  for (const spec of CASES) {
    const c = spec.prepare();
    const ours = c.interp().slice();
    const interp = await medianMs(c.interp, { warmup: 1, min: 5 });
    const cpu = await timeTfjs('cpu', c);
    const wasm = await timeTfjs('wasm', c);
    const gflops = (ms) => fixed(c.flops / (ms * 1e6), 2);
    rows.push([
      spec.name,
      fixed(c.flops / 1e9, 3),
      `${fixed(interp.ms)} (${interp.runs})`,
      `${fixed(cpu.ms)} (${cpu.runs})`,
      `${fixed(wasm.ms)} (${wasm.runs})`,
      gflops(interp.ms),
      gflops(cpu.ms),
      gflops(wasm.ms),
      `${fixed(cpu.ms / interp.ms, 2)}x`,
      `${fixed(wasm.ms / interp.ms, 2)}x`,
      `${maxAbsDiff(ours, cpu.output).toExponential(1)} / ${maxAbsDiff(ours, wasm.output).toExponential(1)}`,
    ]);
  }
  await tf.setBackend('cpu');
  return [
    '## Interpreter vs TensorFlow.js (CPU and WebAssembly backends)',
    '',
    `Machine: ${machine()}. tfjs ${tf.version.tfjs}; WebAssembly backend: SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, ${getThreadsCount()} thread(s). The interpreter is single-threaded JavaScript.`,
    '',
    'Median ms per forward pass after a warm-up (runs in parentheses); GFLOP/s from dlc\'s FLOPs count x batch (2n^3 for the matmul).',
    'Speed-up = backend ms / interpreter ms: above 1x the interpreter is faster. Max \\|diff\\| compares the outputs with the interpreter\'s.',
    '',
    table(
      ['workload', 'GFLOP', 'interp ms', 'tfjs-cpu ms', 'tfjs-wasm ms', 'interp GFLOP/s', 'cpu GFLOP/s', 'wasm GFLOP/s', 'speed-up vs cpu', 'speed-up vs wasm', 'max \\|diff\\| cpu / wasm'],
      rows,
    ),
  ].join('\n');
}
