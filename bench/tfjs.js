// The TensorFlow.js code dlc generates against the same networks written by
// hand with tf.layers, both on tfjs's CPU backend, in one process, on the same
// weights and inputs: the MNIST convnet (examples/mnist_convnet.dl) at batch 64
// and a Transformer encoder block (bench/encoder_block.dl: T 128, d 128, 4
// heads x 32, FFN 512) at batch 8. Forward pass at inference, reading the
// output back, median ms. The generated modules come from the graph as written
// (opt 0: dense and conv with a separate activation) and as the optimizer
// leaves it (opt 1: activations fused into tf.fused ops, dropout gone); the
// ratio is opt 1 over tf.layers. The last column checks both compute the same.
// Requires `npm run build`; generated modules go to node_modules/.cache/.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { emitTfjs } from '../dist/src/backends/tfjs/index.js';
import { compileSource, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { fixed, machine, table } from './util.js';

const CACHE = new URL('../node_modules/.cache/dlc-bench-tfjs/', import.meta.url);

/** The generated module of `file`'s model (optimized or not), transpiled to JavaScript and imported. */
async function generated(file, level) {
  const path = new URL(file, import.meta.url);
  const graph = selectModel(compileSource({ path: file, text: readFileSync(path, 'utf8') }));
  const code = await emitTfjs(level === 0 ? graph : optimize(graph).graph, { sourcePath: file.replace(/^\.\.\//, '') });
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  mkdirSync(CACHE, { recursive: true });
  const out = new URL(`${graph.name}.opt${level}.js`, CACHE);
  writeFileSync(out, js);
  return import(`${out.href}?${Date.now()}`);
}

/** The MNIST convnet with tf.layers, as a Keras user writes it. */
function mnistLayers(w) {
  const c0 = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] });
  const c1 = tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' });
  const dense = tf.layers.dense({ units: 10, activation: 'softmax' });
  const net = tf.sequential({
    layers: [c0, tf.layers.maxPooling2d({ poolSize: 2 }), c1, tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dropout({ rate: 0.5 }), dense],
  });
  c0.setWeights([w['conv2d.kernel'], w['conv2d.bias']]);
  c1.setWeights([w['conv2d_1.kernel'], w['conv2d_1.bias']]);
  dense.setWeights([w['dense.kernel'], w['dense.bias']]);
  return net;
}

/**
 * Scaled dot-product attention over projected [B, T, H*K] queries, keys and
 * values: tf.layers has no multi-head attention, so its core is a small custom
 * layer between tf.layers.dense projections, as tfjs users write it.
 */
class ScaledDotProductAttention extends tf.layers.Layer {
  static className = 'ScaledDotProductAttention';
  constructor(heads, keyDim) {
    super({});
    this.heads = heads;
    this.keyDim = keyDim;
  }
  computeOutputShape(shapes) {
    return shapes[2];
  }
  call([q, k, v]) {
    return tf.tidy(() => {
      const [B, T] = q.shape;
      const split = (x) => x.reshape([B, T, this.heads, this.keyDim]).transpose([0, 2, 1, 3]);
      const scores = tf.matMul(split(q).mul(1 / Math.sqrt(this.keyDim)), split(k), false, true);
      return tf.matMul(tf.softmax(scores), split(v)).transpose([0, 2, 1, 3]).reshape([B, T, this.heads * this.keyDim]);
    });
  }
}

/** The encoder block with tf.layers' functional API. */
function encoderLayers(w) {
  const x = tf.input({ shape: [128, 128] });
  const dense = (name, units, activation) => {
    const layer = tf.layers.dense({ units, activation });
    return (h) => {
      const y = layer.apply(h);
      layer.setWeights([w[`${name}.kernel`], w[`${name}.bias`]]);
      return y;
    };
  };
  const norm = (name) => {
    const layer = tf.layers.layerNormalization({ epsilon: 1e-3 });
    return (h) => {
      const y = layer.apply(h);
      layer.setWeights([w[`${name}.gamma`], w[`${name}.beta`]]);
      return y;
    };
  };
  const [q, k, v] = ['query', 'key', 'value'].map((role) => dense(`attention.${role}`, 128)(x));
  const attended = dense('attention.output', 128)(new ScaledDotProductAttention(4, 32).apply([q, k, v]));
  const h = norm('layernorm')(tf.layers.add().apply([x, attended]));
  const ffn = dense('dense_1', 128)(dense('dense', 512, 'relu')(h));
  const y = norm('layernorm_1')(tf.layers.add().apply([h, ffn]));
  return tf.model({ inputs: x, outputs: y });
}

const CASES = [
  { name: 'MNIST convnet, batch 64', file: '../examples/mnist_convnet.dl', shape: [64, 28, 28, 1], layers: mnistLayers },
  { name: 'Transformer encoder block (T 128, d 128, 4x32 heads, FFN 512), batch 8', file: 'encoder_block.dl', shape: [8, 128, 128], layers: encoderLayers },
];

/**
 * Median ms of each forward pass (output read back and freed), run in
 * interleaved rounds so that a change in machine load hits every variant
 * alike; and each one's output.
 */
function timeInterleaved(forwards, rounds = 7) {
  const once = (forward) => {
    const t0 = performance.now();
    const y = forward();
    const data = y.dataSync();
    y.dispose();
    return { ms: performance.now() - t0, data };
  };
  const outputs = forwards.map((f) => once(f).data); // warm-up
  const times = forwards.map(() => []);
  for (let r = 0; r < rounds; r++) forwards.forEach((f, i) => times[i].push(once(f).ms));
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return forwards.map((_, i) => ({ ms: median(times[i]), runs: rounds, output: outputs[i] }));
}

function maxAbsDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return a.length === b.length ? worst : NaN;
}

export async function run() {
  await tf.setBackend('cpu');
  await tf.ready();
  const rows = [];
  for (const c of CASES) {
    const [plain, fused] = [await generated(c.file, 0), await generated(c.file, 1)];
    const weights = fused.createWeights(1);
    const x = tf.randomUniform(c.shape, 0, 1, 'float32', 2);
    const [input] = Object.keys(fused.inputShapes);
    const [output] = Object.keys(fused.outputShapes);
    const net = c.layers(weights);
    const [opt0, opt1, layers] = timeInterleaved([
      () => plain.predict(weights, { [input]: x })[output],
      () => fused.predict(weights, { [input]: x })[output],
      () => net.predict(x),
    ]);
    rows.push([
      c.name,
      `${fixed(opt0.ms)} (${opt0.runs})`,
      `${fixed(opt1.ms)} (${opt1.runs})`,
      `${fixed(layers.ms)} (${layers.runs})`,
      fixed(opt1.ms / layers.ms, 2),
      Math.max(maxAbsDiff(opt0.output, layers.output), maxAbsDiff(opt1.output, layers.output)).toExponential(1),
    ]);
    net.dispose();
    tf.dispose([x, weights]);
  }
  return [
    '## Generated TensorFlow.js code vs hand-written tf.layers',
    '',
    `Machine: ${machine()}; tfjs ${tf.version.tfjs}, CPU backend. Median ms of a forward pass, the three interleaved (runs in parentheses).`,
    '',
    table(['model', 'dlc opt 0', 'dlc opt 1', 'tf.layers', 'opt 1 / tf.layers', 'max abs diff'], rows),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await run());
