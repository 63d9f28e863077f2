/**
 * The WebAssembly SIMD matmul against the TS reference kernel (itself checked
 * against tfjs in ../matmul.test.ts), on one thread and on two, over shapes
 * that hit every packing edge: odd M/K/N, one row, fewer than 8 columns,
 * K past the kernel's 128-term float32 chunks, transposed operands,
 * accumulation, bias and each activation. Also the switches and the fallback.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../../../src/backends/interp/kernels/activation.js';
import type { MatmulOptions } from '../../../../src/backends/interp/kernels/matmul.js';
import { matmulInto } from '../../../../src/backends/interp/kernels/matmul.js';
import { createRng } from '../../../../src/runtime/random.js';
import type { Tensor } from '../../../../src/backends/interp/tensor.js';
import type { Gemm } from '../../../../src/backends/interp/wasm/gemm.js';
import { gemm, loadGemm } from '../../../../src/backends/interp/wasm/gemm.js';
import {
  chunksByThread,
  gemmKernel,
  heap,
  kernelBackend,
  prepackRight,
  scaleWasm,
  setFastMath,
  setKernelBackend,
  setThreads,
  warmUpThreads,
} from '../../../../src/backends/interp/wasm/index.js';
import { availableParallelism } from 'node:os';
import { withScratch } from '../../../../src/backends/interp/wasm/heap.js';
import { activate, add, conv2d, depthwiseConv2d, layerNorm, maxPool2d, multiHeadAttention } from '../../../../src/backends/interp/kernels/index.js';
import { maxPool2dBackward } from '../../../../src/backends/interp/grad/pool.js';
import { activationGrad } from '../../../../src/backends/interp/grad/activation.js';
import { conv2dBackward } from '../../../../src/backends/interp/grad/conv.js';
import { columnSums } from '../../../../src/backends/interp/grad/util.js';
import { expectClose, randTensor } from '../helpers.js';

const rng = createRng(5150);
let g: Gemm;

beforeAll(async () => {
  const loaded = gemmKernel();
  if (typeof loaded === 'string') throw new Error(`test: ${loaded}`);
  g = loaded;
  await warmUpThreads(2);
});

/** The TS kernel's answer. */
function reference(out: Float32Array, a: Float32Array, b: Float32Array, M: number, K: number, N: number, opts: MatmulOptions) {
  const { choice } = kernelBackend();
  setKernelBackend('js');
  try {
    matmulInto(out, a, b, M, K, N, opts);
  } finally {
    setKernelBackend(choice);
  }
}

/** Random operands for op(A)[M,K]·op(B)[K,N], run through both kernels; returns [wasm, reference]. */
function both(M: number, K: number, N: number, opts: MatmulOptions, threads: number): [Tensor, Tensor] {
  const a = randTensor(opts.transA ? [K, M] : [M, K], rng);
  const b = randTensor(opts.transB ? [N, K] : [K, N], rng);
  const start = randTensor([M, N], rng);
  const got = start.data.slice();
  const want = start.data.slice();
  expect(gemm(g, got, a.data, b.data, M, K, N, opts, threads)).toBe(true);
  reference(want, a.data, b.data, M, K, N, opts);
  return [{ shape: [M, N], data: got }, { shape: [M, N], data: want }];
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 37, 19],
  [2, 3, 8],
  [3, 5, 7],
  [4, 4, 8],
  [5, 129, 17],
  [17, 33, 9],
  [64, 64, 64],
  [67, 300, 41],
  [130, 1100, 3],
  [9, 513, 200],
];

describe.each([1, 2])('WebAssembly matmul on %i thread(s)', (threads) => {
  it.each(shapes)('M=%i K=%i N=%i matches the TS kernel', (M, K, N) => {
    expectClose(...both(M, K, N, {}, threads));
  });

  it.each([
    [false, true],
    [true, false],
    [true, true],
  ])('transA=%s transB=%s', (transA, transB) => {
    for (const [M, K, N] of [[1, 7, 3], [13, 21, 6], [36, 45, 50]]) expectClose(...both(M, K, N, { transA, transB }, threads));
  });

  it('accumulate adds to the existing output', () => {
    for (const [M, K, N] of [[2, 700, 9], [7, 700, 9], [40, 130, 24]]) expectClose(...both(M, K, N, { accumulate: true }, threads));
  });

  const activations: Activation[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax'];
  it.each(activations)('bias and %s, accumulating and transposed too', (activation) => {
    for (const [M, K, N] of [[6, 10, 7], [33, 20, 16]]) {
      const bias = randTensor([N], rng).data;
      expectClose(...both(M, K, N, { bias, activation }, threads));
      expectClose(...both(M, K, N, { bias, activation, accumulate: true, transA: true, transB: true }, threads));
    }
  });
});

describe('A read in place', () => {
  // gemm.wat reads a plain A's full strips where they lie when a chunk has at most 24 panels (N <= 192),
  // and packs them otherwise. Each 4x8 block sums its k steps in the same order either way, so a narrow
  // product's columns are, bit for bit, the same columns of a product too wide for that (N = 200, one thread).
  it.each([
    [67, 300, 192], // K past the 128-step float32 chunks, a last strip of 3 rows (packed)
    [13, 50, 24],
    [8, 16, 3],
  ])('M=%i K=%i N=%i: the first N columns of the packed product, on one thread and two, with bias and relu6, accumulating', (M, K, N) => {
    const WIDE = 200;
    const a = randTensor([M, K], rng).data;
    const bWide = randTensor([K, WIDE], rng).data;
    const biasWide = randTensor([WIDE], rng).data;
    const start = randTensor([M, WIDE], rng).data;
    const b = new Float32Array(K * N);
    for (let k = 0; k < K; k++) b.set(bWide.subarray(k * WIDE, k * WIDE + N), k * N);
    const narrowStart = new Float32Array(M * N);
    for (let i = 0; i < M; i++) narrowStart.set(start.subarray(i * WIDE, i * WIDE + N), i * N);
    for (const opts of [{}, { bias: biasWide, activation: 'relu6' as const }, { accumulate: true }]) {
      const wide = start.slice();
      expect(gemm(g, wide, a, bWide, M, K, WIDE, opts, 1)).toBe(true);
      const want = new Float32Array(M * N);
      for (let i = 0; i < M; i++) want.set(wide.subarray(i * WIDE, i * WIDE + N), i * N);
      for (const threads of [1, 2]) {
        const got = narrowStart.slice();
        const narrowOpts = opts.bias ? { ...opts, bias: biasWide.subarray(0, N) } : opts;
        expect(gemm(g, got, a, b, M, K, N, narrowOpts, threads)).toBe(true);
        expect(got.findIndex((v, i) => !Object.is(v, want[i]))).toBe(-1);
      }
    }
  });
});

describe('a short last strip (M % 4 rows)', () => {
  // gemm.wat runs the rows of a last strip that M leaves short against four panels at a time
  // (micro_row), and a last one to three panels as a zero-padded 4x8 block. Either way a row's
  // sums are the 4x8 block's, in the same order: the M rows are, bit for bit, the first M rows
  // of the product with more rows below them, which fill the last strip.
  it.each([
    [49, 160, 960], // a 7x7 map at batch 1 (MobileNetV2's expand layers): one row, 30 groups of four panels
    [2, 300, 37], // K past the 128-step float32 chunks; four panels, then one of 5 columns
    [7, 128, 64], // three rows, K one chunk exactly
    [5, 9, 100], // 13 panels: three groups of four and one panel alone
    [51, 33, 24], // three panels only: the 4x8 block alone
  ])('M=%i K=%i N=%i: the rows of the product with the strip filled, on one thread and two, with bias and relu6, accumulating', (M, K, N) => {
    const FULL = (M | 3) + 1;
    const aFull = randTensor([FULL, K], rng).data;
    const b = randTensor([K, N], rng).data;
    const bias = randTensor([N], rng).data;
    const start = randTensor([FULL, N], rng).data;
    for (const opts of [{}, { bias, activation: 'relu6' as const }, { accumulate: true }]) {
      const full = start.slice();
      expect(gemm(g, full, aFull, b, FULL, K, N, opts, 1)).toBe(true);
      for (const threads of [1, 2]) {
        const got = start.slice(0, M * N);
        expect(gemm(g, got, aFull.subarray(0, M * K), b, M, K, N, opts, threads)).toBe(true);
        expect(got.findIndex((v, i) => !Object.is(v, full[i]))).toBe(-1);
      }
    }
  });
});

describe('fused multiply-adds', () => {
  // c = (-1)(1) + (1 + 2^-23)(1 - 2^-23): rounded once, the second product leaves -2^-46; rounded
  // after the multiply, 1 - 2^-46 is 1 in float32, and the sum 0. Through the 4x8 block (M = 4, N = 8)
  // and through a row's product (M = 1, N = 1: row_product's last columns). On an x86 processor without
  // FMA3, V8 computes relaxed_madd as a multiply and an add, and the fused case fails: the kernels are not fused there.
  const e = 2 ** -23;
  it.each([[true, -(2 ** -46)], [false, 0]] as const)('gemm-fma.wasm when fused is %s: the sum is %d', (fused, expected) => {
    const kernel = loadGemm({ fused });
    if (typeof kernel === 'string') throw new Error(kernel);
    expect(kernel.fused).toBe(fused);
    for (const [M, N] of [[4, 8], [1, 1]]) {
      const a = new Float32Array(M * 2).map((_, i) => (i % 2 === 0 ? -1 : 1 + e));
      const b = new Float32Array(2 * N).map((_, i) => (i < N ? 1 : 1 - e));
      const c = new Float32Array(M * N).fill(7);
      expect(gemm(kernel, c, a, b, M, 2, N, {}, 1)).toBe(true);
      expect([...c]).toEqual(new Array(M * N).fill(expected));
    }
  });

  it('the kernel in use is the fused one', () => {
    expect(g.fused).toBe(true);
    expect(kernelBackend().fused).toBe(true);
  });
});

describe('a product of one row (a batch of one)', () => {
  it.each([1, 2])('reads B in place and gives the bits of the same row in a packed product, on %i thread(s)', (threads) => {
    // Past KCH's 128 rows, past one group of 32 columns with a ragged rest; each epilogue.
    for (const [K, N] of [[7, 5], [129, 33], [300, 100], [1280, 1000]]) {
      const cases: MatmulOptions[] = [{}, { bias: randTensor([N], rng).data, activation: 'relu6' }, { accumulate: true, activation: 'relu' }, { activation: 'sigmoid' }];
      for (const opts of cases) {
        const a = randTensor([2, K], rng).data;
        const b = randTensor([K, N], rng).data;
        const start = randTensor([2, N], rng).data;
        const packed = start.slice();
        expect(gemm(g, packed, a, b, 2, K, N, opts, threads)).toBe(true);
        const row = start.slice(0, N);
        expect(gemm(g, row, a.subarray(0, K), b, 1, K, N, opts, threads)).toBe(true);
        expect(row.findIndex((v, i) => !Object.is(v, packed[i]))).toBe(-1);
        const want = start.slice(0, N);
        reference(want, a.subarray(0, K), b, 1, K, N, opts);
        expectClose({ shape: [1, N], data: row }, { shape: [1, N], data: want });
      }
    }
  });
});

describe('relu6 in the store', () => {
  it.each([1, 2])('clamps to [0, 6] as the TS kernel does, NaN kept, in whole and ragged tiles, on %i thread(s)', (threads) => {
    const [M, K, N] = [9, 5, 11]; // a ragged row block and a ragged panel
    // Biases that push sums below 0, above 6 and onto NaN.
    const bias = Float32Array.from({ length: N }, (_, j) => [-20, 20, 3, NaN, -0, 6, 100, -3, 1, 9, -9][j]);
    const [got, want] = both(M, K, N, { bias, activation: 'relu6' }, threads);
    const far = (v: number, w: number) => (Number.isNaN(w) ? !Number.isNaN(v) : !(Math.abs(v - w) <= 1e-5 * Math.max(1, Math.abs(w))));
    expect(got.data.findIndex((v, i) => far(v, want.data[i]))).toBe(-1);
    // The clamped values are the same bits: +0, 6 and NaN.
    const clamped = (v: number) => Object.is(v, 0) || v === 6 || Number.isNaN(v);
    expect(got.data.findIndex((v, i) => clamped(want.data[i]) && !Object.is(v, want.data[i]))).toBe(-1);
    expect(Math.max(...want.data.filter((v) => !Number.isNaN(v)))).toBe(6);
    expect(want.data.filter((v) => v === 0).length).toBeGreaterThan(M);
  });
});

describe('a right operand packed once (a recurrent layer\'s U)', () => {
  it('gives exactly the products of packing it each time, and is ignored for another shape', () => {
    const [M, K, N] = [32, 128, 512];
    const a = randTensor([M, K], rng).data;
    const b = randTensor([K, N], rng).data;
    const plain = new Float32Array(M * N);
    matmulInto(plain, a, b, M, K, N);
    withScratch(heap(), (take) => {
      const packedB = prepackRight(b, M, K, N, take);
      expect(packedB).not.toBeNull();
      const packed = new Float32Array(M * N);
      for (let step = 0; step < 3; step++) {
        matmulInto(packed, a, b, M, K, N, { packedB });
        expect(packed).toEqual(plain);
      }
      // Packed for [128, 512]: a [64, 512] product packs its own B.
      const shorter = new Float32Array(M * N);
      matmulInto(shorter, a, b, M, 64, N, { packedB });
      const expected = new Float32Array(M * N);
      matmulInto(expected, a, b, M, 64, N);
      expect(shorter).toEqual(expected);
    });
  });
});

describe('threads', () => {
  it('workers compute chunks of a large product', () => {
    const before = chunksByThread().slice(1).reduce((x, y) => x + y, 0);
    // The main thread takes chunks too, and may take all of them on a busy machine: retry a few times.
    for (let i = 0; i < 50 && chunksByThread().slice(1).reduce((x, y) => x + y, 0) === before; i++) {
      expectClose(...both(256, 256, 256, {}, 2));
    }
    expect(chunksByThread().slice(1).reduce((x, y) => x + y, 0)).toBeGreaterThan(before);
  });

  it('a product with fewer rows than the threads\' chunks want, cut by column panels too, gives exactly the one-thread result', () => {
    // MobileNetV2's last 1x1 convolution at batch 1, and a row count below one micro-kernel strip per chunk.
    for (const [M, K, N] of [[49, 320, 1280], [9, 513, 200]]) {
      const a = randTensor([M, K], rng).data;
      const b = randTensor([K, N], rng).data;
      const [one, two] = [1, 2].map((threads) => {
        const out = new Float32Array(M * N);
        expect(gemm(g, out, a, b, M, K, N, {}, threads)).toBe(true);
        return out;
      });
      expect(two.findIndex((v, i) => !Object.is(v, one[i]))).toBe(-1);
      const want = new Float32Array(M * N);
      reference(want, a, b, M, K, N, {});
      expectClose({ shape: [M, N], data: one }, { shape: [M, N], data: want });
    }
  });

  it('max pooling, its backward, activations, a depthwise convolution, relu\'s backward, a convolution\'s input gradient (col2im), a first layer\'s kernel gradient, bias gradients, a 3x3 convolution and its input and kernel gradients in Winograd\'s form, attention\'s heads (each thread with its own scratch), layer normalisation, softmax, a sum and a scaling, cut into slices of images, values, rows, tiles or (example, head) pairs, give exactly the one-thread result, and workers take slices', () => {
    // Its own stream: the test before draws a number of products that depends on how soon a worker takes a chunk.
    const own = createRng(6170);
    const x = randTensor([32, 26, 26, 32], own);
    x.data[5] = x.data[5 + 32]; // a tie
    const pool = { size: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: 'valid' as const };
    const dy = randTensor([32, 13, 13, 32], own);
    const kernel = randTensor([2, 2, 32, 16], own);
    const dz = randTensor([32, 25, 25, 16], own);
    const kernel3 = randTensor([3, 3, 32, 16], own);
    const dz3 = randTensor([32, 24, 24, 16], own);
    const dwKernel = randTensor([3, 3, 32, 1], own);
    // A first layer: its K of 9 reads x through a tap table, and its kernel gradient is summed over slices of the images.
    const image = randTensor([32, 28, 28, 1], own);
    const firstKernel = randTensor([3, 3, 1, 32], own);
    const firstDz = randTensor([32, 26, 26, 32], own);
    const sequence = randTensor([8, 96, 32], own);
    // Projections scaled to 1/sqrt(fan-in), as attention.test.ts's: with [-1, 1] weights the scores put softmax where
    // float32 rounding moves results by more than 1e-5 (the TS kernels and these differed by 1.3e-5 on some draws).
    const w = 1 / Math.sqrt(32);
    const [gamma, beta, addend] = [randTensor([32], own), randTensor([32], own), randTensor(x.shape, own)];
    const attentionWeights = {
      queryKernel: randTensor([32, 64], own, w), queryBias: null, keyKernel: randTensor([32, 64], own, w), keyBias: null,
      valueKernel: randTensor([32, 32], own, w), valueBias: null, outputKernel: randTensor([32, 32], own, w), outputBias: null,
    };
    const run = () => {
      const y = maxPool2d(x, pool);
      const dx = maxPool2dBackward(x, dy, pool);
      const dr = { shape: dx.shape, data: activationGrad(x.data, dx.data, 'relu', 32) }; // as if y = x: dx passes where x > 0
      // col2im adds each output position's rows into its image of dx: whole images on the threads, a partial one at an end here.
      const dconv = conv2dBackward(x, kernel, dz, { stride: [1, 1], dilation: [1, 1], padding: 'valid' }, { input: true, kernel: false, bias: false }).dx!;
      const depthwise = depthwiseConv2d(x, dwKernel, null, { padding: 'same', activation: 'relu6' });
      const first = conv2d(image, firstKernel, null, { activation: 'relu' });
      const firstGrad = conv2dBackward(image, firstKernel, firstDz, { stride: [1, 1], dilation: [1, 1], padding: 'valid' }, { input: false, kernel: true, bias: false }).dKernel!;
      const biasGrad = { shape: [32], data: columnSums(firstDz.data, 32 * 26 * 26, 32) }; // in blocks of rows
      const winograd = conv2d(x, kernel3, null, { padding: 'same', activation: 'relu' });
      const winogradDx = conv2dBackward(x, kernel3, dz3, { stride: [1, 1], dilation: [1, 1], padding: 'valid' }, { input: true, kernel: false, bias: false }).dx!;
      // 4,608 tiles: 36 blocks in 4 slices of 9, one slice per item
      const winogradDk = conv2dBackward(x, kernel3, dz3, { stride: [1, 1], dilation: [1, 1], padding: 'valid' }, { input: false, kernel: true, bias: false }).dKernel!;
      // 32 (example, head) pairs, causal
      const heads = multiHeadAttention(sequence, sequence, sequence, attentionWeights, { heads: 4, keyDim: 16, valueDim: 8, causal: true });
      // Rows of 32 (layer normalisation, softmax) and values (a sum, a scaled copy): slices of them
      const normed = layerNorm(x, gamma, beta, 1e-3);
      const sum = add([x, addend]);
      const scaled = Float32Array.from(x.data);
      if (!scaleWasm(scaled, 1 / Math.sqrt(32))) scaled.forEach((v, i) => (scaled[i] = v / Math.sqrt(32))); // the TS kernels'
      return [y, dx, dr, dconv, activate(x, 'gelu'), activate(x, 'relu'), depthwise, first, firstGrad, biasGrad, winograd, winogradDx, winogradDk, heads,
        normed, activate(x, 'softmax'), sum, { shape: x.shape, data: scaled }];
    };
    const workerChunks = () => chunksByThread().slice(1).reduce((a, b) => a + b, 0);
    setThreads(1);
    const one = run();
    // ... and the TS kernels' result: col2im's ranges at chunk and image boundaries line up with dcols' rows.
    const { choice } = kernelBackend();
    setKernelBackend('js');
    const reference = run();
    setKernelBackend(choice);
    expectClose(one[3], reference[3], 1e-5);
    expectClose(one[6], reference[6], 1e-5);
    expectClose(one[7], reference[7], 1e-5);
    expectClose(one[8], reference[8], 1e-4); // each entry a sum of 21,632 products, float32 over 128 of them at a time
    expect(one[9]).toEqual(reference[9]);
    expectClose(one[13], reference[13], 1e-5);
    expectClose(one[14], reference[14], 1e-5);
    expectClose(one[15], reference[15], 1e-6);
    expectClose(one[16], reference[16], 0); // one rounding either way (toEqual on 692,224 values takes minutes)
    expectClose(one[17], { shape: x.shape, data: x.data.map((v) => v / Math.sqrt(32)) }, 1e-7);
    setThreads(2);
    const before = workerChunks();
    try {
      // The main thread takes slices too, and may take all of them on a busy machine: retry a few times.
      for (let i = 0; i < 50; i++) {
        const two = run();
        // The first differing value, not a diff of a million: vitest takes minutes to print that.
        two.forEach((t, k) => {
          expect(t.shape, `result ${k}`).toEqual(one[k].shape);
          const at = t.data.findIndex((v, i) => !Object.is(v, one[k].data[i]));
          expect(at < 0 ? 'equal' : `differs at ${at}: ${t.data[at]} vs ${one[k].data[at]}`, `result ${k}`).toBe('equal');
        });
        if (workerChunks() > before) break;
      }
      expect(workerChunks()).toBeGreaterThan(before);
    } finally {
      setThreads(availableParallelism());
    }
  });

  it('many jobs in a row stay apart', () => {
    for (let i = 0; i < 300; i++) {
      const [M, K, N] = [1 + Math.floor(rng.uniform() * 70), 1 + Math.floor(rng.uniform() * 90), 1 + Math.floor(rng.uniform() * 70)];
      expectClose(...both(M, K, N, { transB: i % 2 === 1, accumulate: i % 3 === 0 }, 2));
    }
  });
});

describe('kernel selection', () => {
  it('matmulInto takes the WebAssembly kernel unless told not to', () => {
    const { choice } = kernelBackend();
    setKernelBackend('wasm');
    expect(kernelBackend()).toMatchObject({ choice: 'wasm', kernel: 'wasm', fastMath: false });
    setFastMath(true);
    expect(kernelBackend()).toMatchObject({ choice: 'wasm', kernel: 'wasm', fastMath: true });
    // fast math is the WebAssembly kernels': the TS kernels are the reference
    setKernelBackend('js');
    expect(kernelBackend()).toEqual({ choice: 'js', kernel: 'js', threads: 1, fastMath: false, fused: false });
    setFastMath(false);
    setKernelBackend(choice);
  });

  it('a missing gemm.wasm is reported, not thrown', () => {
    expect(loadGemm({ dir: new URL('./no-such/', import.meta.url) })).toMatch(/gemm\.wasm not found/);
  });
});
