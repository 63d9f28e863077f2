/**
 * Throughput of the interpreter's matmul against tfjs's CPU backend, on
 * square products. Run with `npx vitest bench --run test/backends/interp`;
 * GFLOP/s = 2 n^3 x (ops/sec) / 1e9 (at n = 512: 0.268 x ops/sec).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, bench, describe } from 'vitest';
import { matmulInto } from '../../../src/backends/interp/kernels/index.js';
import { createRng } from '../../../src/runtime/random.js';
import { randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

for (const n of [128, 512]) {
  describe(`matmul ${n}x${n}`, () => {
    const rng = createRng(n);
    const a = randTensor([n, n], rng);
    const b = randTensor([n, n], rng);
    const out = new Float32Array(n * n);
    const ta = toTf(a);
    const tb = toTf(b);
    bench('interp matmulInto', () => matmulInto(out, a.data, b.data, n, n, n));
    bench('tf.matMul (cpu)', () => {
      const c = tf.matMul(ta, tb);
      c.dataSync();
      c.dispose();
    });
  });
}
