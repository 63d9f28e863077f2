/**
 * The matmul kernels side by side: the TS reference, the WebAssembly SIMD
 * kernel on one and two threads, and TensorFlow.js's WebAssembly backend
 * (XNNPACK) in the same process; then the MNIST convnet's forward pass at
 * batch 64 on each of ours. Run with
 *
 *   npx vitest bench --run test/backends/interp/wasm
 *
 * At 512: GFLOP/s = 2 * 512^3 * hz / 1e9 = 0.268 * hz. Compare within one
 * run only: a shared machine is noisy, threads most of all.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, bench, describe } from 'vitest';
import { Interpreter } from '../../../../src/backends/interp/execute.js';
import { matmulInto } from '../../../../src/backends/interp/kernels/matmul.js';
import { createRng } from '../../../../src/runtime/random.js';
import { initWeights } from '../../../../src/backends/interp/weights.js';
import { setKernelBackend, setThreads, warmUpThreads } from '../../../../src/backends/interp/wasm/index.js';
import { compileFile, selectModel } from '../../../../src/compile.js';
import { randTensor } from '../helpers.js';

beforeAll(async () => {
  await warmUpThreads(2);
  await tf.setBackend('wasm');
  await tf.ready();
});

/** Run the next calls on this kernel and thread count. */
function use(kernel: 'js' | 'auto', threads = 1): void {
  setKernelBackend(kernel);
  setThreads(threads);
}

describe('matmul 512x512 x 512x512', () => {
  const n = 512;
  const rng = createRng(n);
  const a = randTensor([n, n], rng);
  const b = randTensor([n, n], rng);
  const out = new Float32Array(n * n);
  let ta: tf.Tensor;
  let tb: tf.Tensor;
  const tfSetup = () => {
    ta ??= tf.tensor(a.data, [n, n]);
    tb ??= tf.tensor(b.data, [n, n]);
  };
  const opts = { time: 2000 };
  bench('TS kernel', () => (use('js'), matmulInto(out, a.data, b.data, n, n, n)), opts);
  bench('wasm, 1 thread', () => (use('auto'), matmulInto(out, a.data, b.data, n, n, n)), opts);
  bench('wasm, 2 threads', () => (use('auto', 2), matmulInto(out, a.data, b.data, n, n, n)), opts);
  bench('tfjs wasm backend', () => {
    tfSetup();
    const c = tf.matMul(ta, tb);
    c.dataSync();
    c.dispose();
  }, opts);
});

describe('MNIST convnet forward, batch 64', () => {
  const graph = selectModel(compileFile('examples/mnist_convnet.dl'));
  const interpreter = new Interpreter(graph, initWeights(graph, { seed: 0 }));
  const image = randTensor([64, 28, 28, 1], createRng(1));
  const opts = { time: 3000 };
  const forward = () => void interpreter.run({ image });
  bench('TS kernel', () => (use('js'), forward()), opts);
  bench('wasm, 1 thread', () => (use('auto'), forward()), opts);
  bench('wasm, 2 threads', () => (use('auto', 2), forward()), opts);
});
