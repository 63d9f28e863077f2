/**
 * The WebAssembly kernels besides the matmul (gemm.wat) against the TS
 * kernels they stand in for (themselves checked against tfjs elsewhere):
 * conv2d packing its im2col rows straight from the input, or for K <= 128
 * reading them in place through a tap table (every padding, stride and
 * dilation, channel counts that are and are not multiples of 4; with the
 * 2x2 max pool after it in one pass, bit for bit), 3x3
 * convolutions and their input and kernel gradients as Winograd F(2x2, 3x3) (within a
 * bound on rounding that a wrong transform exceeds by orders of magnitude) and,
 * with fast math, their forward pass as F(4x4, 3x3) (within a looser bound),
 * 2-D max pooling, the activations and softmax (float32 exp and tanh, within
 * a few ulp, over the whole float range), the LSTM cell, and the backward
 * kernels (col2im, max pooling's and relu's gradients, bias sums), and dropout's mask. Also that the
 * heap's arena and scratch views are recognised, so kernels use them in place.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Activation } from '../../../../src/backends/interp/kernels/activation.js';
import { activationGrad } from '../../../../src/backends/interp/grad/activation.js';
import { conv2dBackward } from '../../../../src/backends/interp/grad/conv.js';
import { recurrentForward } from '../../../../src/backends/interp/grad/recurrent.js';
import { maxPool2dBackward } from '../../../../src/backends/interp/grad/pool.js';
import { buffer, columnSums, duringStep, keep } from '../../../../src/backends/interp/grad/util.js';
import { activate, add, conv2d, depthwiseConv2d, dropout, globalAvgPool, globalMaxPool, gru, layerNorm, lstm, maxPool2d } from '../../../../src/backends/interp/kernels/index.js';
import { conv2dPooled, convShape } from '../../../../src/backends/interp/kernels/conv.js';
import { dropoutBackward } from '../../../../src/backends/interp/grad/elementwise.js';
import { gather, scatter } from '../../../../src/backends/interp/kernels/attention.js';
import type { Padding } from '../../../../src/backends/interp/kernels/window.js';
import { createRng } from '../../../../src/runtime/random.js';
import type { Tensor } from '../../../../src/backends/interp/tensor.js';
import { MAX_PINNED_BYTES, withScratch } from '../../../../src/backends/interp/wasm/heap.js';
import { gemm, loadGemm, winogradFits, winogradGradFits, winogradTile } from '../../../../src/backends/interp/wasm/gemm.js';
import { addWasm, blockSumsWasm, convKernelGradWasm, dropoutMaskWasm, heap, kernelBackend, scaleWasm, setFastMath, setKernelBackend, setThreads } from '../../../../src/backends/interp/wasm/index.js';
import { expectClose, randTensor } from '../helpers.js';

const rng = createRng(2718);

/** `run` with the TS kernels, then with the WebAssembly ones: [wasm, reference]. */
function both(run: () => Tensor): [Tensor, Tensor] {
  const { choice } = kernelBackend();
  setKernelBackend('js');
  let reference: Tensor;
  try {
    reference = run();
  } finally {
    setKernelBackend(choice);
  }
  setKernelBackend('auto');
  try {
    return [run(), reference];
  } finally {
    setKernelBackend(choice);
  }
}

/** `run` on the WebAssembly kernels on 1 thread, then on 2. */
function onOneAndTwoThreads<T>(run: () => T): [T, T] {
  const { choice, threads } = kernelBackend();
  setKernelBackend('auto');
  try {
    setThreads(1);
    const one = run();
    setThreads(2);
    return [one, run()];
  } finally {
    setKernelBackend(choice);
    setThreads(threads);
  }
}

describe('conv2d packing im2col rows from the input', () => {
  const cases: [number[], number[], [number, number], [number, number], Padding][] = [
    // [B, H, W, C], [kh, kw, F], stride, dilation, padding
    [[2, 9, 8, 1], [3, 3, 5], [1, 1], [1, 1], 'valid'],
    [[3, 7, 7, 3], [3, 2, 8], [2, 1], [1, 1], 'same'],
    [[1, 10, 9, 4], [3, 3, 9], [1, 2], [2, 1], 'same'],
    [[2, 6, 6, 8], [2, 2, 12], [2, 2], [1, 1], 'valid'],
    [[1, 5, 11, 6], [1, 3, 7], [1, 1], [1, 3], 'same'],
    [[4, 13, 13, 32], [3, 3, 64], [1, 1], [1, 1], 'valid'],
    [[1, 4, 4, 5], [4, 4, 3], [3, 3], [1, 1], 'same'],
    // A first layer's taps over 32 filters and more, and over a last panel of 8
    [[2, 12, 11, 3], [3, 3, 40], [1, 1], [1, 1], 'same'],
    [[3, 16, 16, 1], [3, 3, 64], [2, 2], [1, 1], 'valid'],
  ];
  it.each(cases)('x %j, kernel %j, stride %j, dilation %j, %s', (xShape, [kh, kw, F], stride, dilation, padding) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([kh, kw, xShape[3], F], rng);
    const bias = randTensor([F], rng);
    for (const activation of ['linear', 'relu'] as Activation[]) {
      expectClose(...both(() => conv2d(x, kernel, bias, { stride, dilation, padding, activation })), 1e-5);
    }
  });
});

/** Elementwise |t|. */
const magnitude = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });

/**
 * Each element of `actual` within `relative` of `magnitudes` (the same
 * computation on |operands|: what rounding error scales with) from the TS
 * kernels' `reference`. Reports the first element past it.
 */
function expectWithinRounding(actual: Tensor, reference: Tensor, magnitudes: Tensor, relative: number): void {
  expect(actual.shape).toEqual(reference.shape);
  const at = reference.data.findIndex((e, i) => !(Math.abs(actual.data[i] - e) <= relative * magnitudes.data[i]));
  expect(at < 0 ? 'within' : `element ${at}: ${actual.data[at]} vs ${reference.data[at]}, magnitude ${magnitudes.data[at]}`).toBe('within');
}

/** A 3x3 convolution's input gradient on random x, kernel and dz, and the same on their magnitudes (what its rounding scales with). */
function inputGradCase(xShape: number[], F: number, padding: Padding): { inputGrad: () => Tensor; magnitudes: Tensor } {
  const x = randTensor(xShape, rng);
  const kernel = randTensor([3, 3, xShape[3], F], rng);
  const dz = randTensor(conv2d(x, kernel, null, { padding }).shape, rng);
  const geometry = { stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], padding };
  const want = { input: true, kernel: false, bias: false };
  return {
    inputGrad: () => conv2dBackward(x, kernel, dz, geometry, want).dx!,
    magnitudes: conv2dBackward(x, magnitude(kernel), magnitude(dz), geometry, want).dx!,
  };
}

describe('3x3 convolutions as Winograd F(2x2, 3x3)', () => {
  // Winograd's transforms add and subtract up to 16 values before and after the products:
  // its rounding error is a small multiple of the direct sum's, both far below 1e-6 of the magnitudes.
  const ROUNDING = 1e-6;
  const cases: [number[], number, Padding][] = [
    // [B, H, W, C], F, padding
    [[2, 13, 13, 32], 64, 'valid'], // odd output (11x11): tiles with a row and a column past it
    [[1, 16, 16, 16], 16, 'same'], // even output, padding 1 on each side
    [[3, 9, 10, 20], 36, 'same'], // C and F multiples of 4, not 8: a half-empty last panel
    [[1, 14, 14, 160], 24, 'same'], // C past the GEMM's 128-term float32 chunks
    [[5, 31, 31, 16], 16, 'valid'], // several blocks of tiles per image, and a block across images
  ];
  it.each(cases)('x %j, %i filters, %s, against the im2col product', (xShape, F, padding) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([3, 3, xShape[3], F], rng);
    const bias = randTensor([F], rng);
    expect(winogradFits(convShape(x, kernel, { padding }, 'test'))).toBe(true);
    const magnitudes = conv2d(magnitude(x), magnitude(kernel), magnitude(bias), { padding });
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid'] as Activation[]) {
      const [wasm, reference] = both(() => conv2d(x, kernel, activation === 'relu6' ? null : bias, { padding, activation }));
      expectWithinRounding(wasm, reference, magnitudes, ROUNDING);
    }
  });

  it.each(cases)('the input gradient of x %j, %i filters, %s, against col2im', (xShape, F, padding) => {
    const { inputGrad, magnitudes } = inputGradCase(xShape, F, padding);
    const [wasm, reference] = both(inputGrad);
    expectWithinRounding(wasm, reference, magnitudes, ROUNDING);
  });

  // The kernel gradient takes Winograd's form from two blocks of 128 tiles (gemm.ts winogradGradFits).
  const gradCases: [number[], number, Padding][] = [
    // [B, H, W, C], F, padding
    [[8, 13, 13, 32], 64, 'valid'], // odd output (11x11): a tile's dz row and column past it read as zero; 288 tiles, a partial last block
    [[3, 17, 19, 20], 36, 'same'], // C and F multiples of 4, not 8: a half-empty last panel of Z
    [[8, 12, 12, 160], 24, 'same'], // C past the GEMM's 128-term float32 chunks
    [[130, 16, 16, 16], 16, 'same'], // 65 blocks: five slices of 13 blocks, added in order
  ];
  it.each(gradCases)('the kernel gradient of x %j, %i filters, %s, against the im2col product', (xShape, F, padding) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([3, 3, xShape[3], F], rng);
    const dz = randTensor(conv2d(x, kernel, null, { padding }).shape, rng);
    expect(winogradGradFits(convShape(x, kernel, { padding }, 'test'))).toBe(true);
    const geometry = { stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], padding };
    const want = { input: false, kernel: true, bias: false };
    const magnitudes = conv2dBackward(magnitude(x), kernel, magnitude(dz), geometry, want).dKernel!;
    const [wasm, reference] = both(() => conv2dBackward(x, kernel, dz, geometry, want).dKernel!);
    expectWithinRounding(wasm, reference, magnitudes, ROUNDING);
  });

  it('takes the kernel gradient\'s form from 256 tiles, where two threads share its blocks', () => {
    const fits = (x: number[], F: number) =>
      winogradGradFits(convShape({ shape: x, data: new Float32Array(0) }, { shape: [3, 3, x[3], F], data: new Float32Array(0) }, { padding: 'same' }, 'test'));
    expect(fits([4, 16, 16, 16], 16)).toBe(true); // 256 tiles
    expect(fits([3, 16, 16, 16], 16)).toBe(false); // 192
    expect(fits([8, 7, 7, 512], 512)).toBe(false); // 128 tiles: winogradFits, one block
    expect(fits([4, 16, 16, 8], 16)).toBe(false); // not winogradFits: too few channels
  });

  it('is taken only for a 3x3 kernel at stride 1 without dilation, over channels and filters in vectors of 4, with enough tiles', () => {
    const fits = (x: number[], k: number[], opts: { stride?: [number, number]; dilation?: [number, number]; padding?: Padding }) =>
      winogradFits(convShape({ shape: x, data: new Float32Array(0) }, { shape: k, data: new Float32Array(0) }, opts, 'test'));
    expect(fits([1, 16, 16, 16], [3, 3, 16, 16], { padding: 'same' })).toBe(true); // 64 tiles
    expect(fits([1, 16, 16, 16], [3, 3, 16, 16], { padding: 'same', stride: [2, 2] })).toBe(false);
    expect(fits([1, 16, 16, 16], [3, 3, 16, 16], { padding: 'same', dilation: [2, 2] })).toBe(false);
    expect(fits([1, 16, 16, 16], [5, 5, 16, 16], { padding: 'same' })).toBe(false);
    expect(fits([1, 16, 16, 18], [3, 3, 18, 16], { padding: 'same' })).toBe(false); // C not a multiple of 4
    expect(fits([1, 16, 16, 16], [3, 3, 16, 18], { padding: 'same' })).toBe(false); // nor F
    expect(fits([1, 16, 16, 8], [3, 3, 8, 16], { padding: 'same' })).toBe(false); // too few channels for the products
    expect(fits([1, 7, 7, 512], [3, 3, 512, 512], { padding: 'same' })).toBe(false); // 16 tiles: ResNet-50's last stage at batch 1
    expect(fits([2, 7, 7, 512], [3, 3, 512, 512], { padding: 'same' })).toBe(true); // 32 tiles
  });
});

describe('3x3 convolutions as Winograd F(4x4, 3x3), with fast math', () => {
  // F(4x4, 3x3)'s transforms reach 8 and their products sum larger values before they cancel:
  // over 30 draws of these shapes its error reached 1.05e-6 of the magnitudes, F(2x2, 3x3)'s 1.4e-7.
  const FAST_ROUNDING = 4e-6;
  const cases: [number[], number, Padding][] = [
    // [B, H, W, C], F, padding: each with 32 4x4 tiles or more
    [[4, 13, 13, 32], 64, 'valid'], // MNIST's second layer: 11x11, the last tiles three quarters empty
    [[2, 16, 16, 16], 16, 'same'], // padding 1 on each side
    [[4, 9, 10, 20], 36, 'same'], // C and F multiples of 4, not 8: a half-empty last panel
    [[2, 14, 14, 160], 24, 'same'], // C past the GEMM's 128-term float32 chunks
    [[5, 31, 31, 16], 16, 'valid'], // several blocks of tiles, a block across images
  ];
  const withFastMath = <T>(run: () => T): T => {
    setFastMath(true);
    try {
      return run();
    } finally {
      setFastMath(false);
    }
  };

  it.each(cases)('x %j, %i filters, %s, against the im2col product', (xShape, F, padding) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([3, 3, xShape[3], F], rng);
    const bias = randTensor([F], rng);
    const s = convShape(x, kernel, { padding }, 'test');
    expect([winogradTile(s, true), winogradTile(s, false)]).toEqual([4, 2]);
    const magnitudes = conv2d(magnitude(x), magnitude(kernel), magnitude(bias), { padding });
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid'] as Activation[]) {
      const [wasm, reference] = withFastMath(() => both(() => conv2d(x, kernel, activation === 'relu6' ? null : bias, { padding, activation })));
      expectWithinRounding(wasm, reference, magnitudes, FAST_ROUNDING);
    }
  });

  it('gives the same bits on 1 and 2 threads, and with the 2x2 max pool in the same pass as after it', () => {
    const x = randTensor([4, 13, 13, 32], rng);
    const kernel = randTensor([3, 3, 32, 64], rng);
    const bias = randTensor([64], rng);
    withFastMath(() => {
      for (const [padding, activation] of [['valid', 'relu'], ['same', 'relu6'], ['valid', 'linear']] as [Padding, Activation][]) {
        const opts = { padding, activation };
        const [one, two] = onOneAndTwoThreads(() => conv2d(x, kernel, bias, opts));
        expect(two.data.findIndex((v, i) => !Object.is(v, one.data[i])), `${padding}, ${activation}`).toBe(-1);
        const fused = onOneAndTwoThreads(() => conv2dPooled(x, kernel, bias, opts))[1];
        const apart = maxPool2d(one, { size: [2, 2] });
        expect(fused?.shape).toEqual(apart.shape);
        expect(fused!.data.findIndex((v, i) => !Object.is(v, apart.data[i])), `pooled, ${padding}, ${activation}`).toBe(-1);
      }
    });
  });

  it.each(cases)('the input gradient of x %j, %i filters, %s, against col2im', (xShape, F, padding) => {
    const { inputGrad, magnitudes } = inputGradCase(xShape, F, padding);
    const [wasm, reference] = withFastMath(() => both(inputGrad));
    expectWithinRounding(wasm, reference, magnitudes, FAST_ROUNDING);
    // F(4x4, 3x3) ran: F(2x2, 3x3) rounds otherwise
    expect(inputGrad().data).not.toEqual(wasm.data);
  });

  it('is off by default, and leaves the kernel gradient to F(2x2, 3x3)', () => {
    expect(kernelBackend().fastMath).toBe(false);
    const x = randTensor([8, 16, 16, 32], rng);
    const kernel = randTensor([3, 3, 32, 64], rng);
    const dz = randTensor([8, 16, 16, 64], rng);
    const geometry = { stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], padding: 'same' as Padding };
    const want = { input: false, kernel: true, bias: false };
    expect(winogradGradFits(convShape(x, kernel, { padding: 'same' }, 'test'))).toBe(true);
    const plain = conv2dBackward(x, kernel, dz, geometry, want).dKernel!;
    expect(withFastMath(() => conv2dBackward(x, kernel, dz, geometry, want)).dKernel!.data).toEqual(plain.data);
  });
});

describe('2-D max pooling', () => {
  it.each([
    [[2, 8, 8, 4], [2, 2], [2, 2], 'valid'],
    [[3, 7, 9, 5], [3, 2], [2, 3], 'same'],
    [[1, 6, 6, 7], [3, 3], [1, 1], 'same'],
    [[2, 26, 26, 32], [2, 2], [2, 2], 'valid'],
    // 2x2 at stride 2 has its own loop: odd sizes leave a row and a column out, 6 channels end in a lane of their own.
    [[2, 11, 11, 6], [2, 2], [2, 2], 'valid'],
    // ... unless a window is clipped by the padding.
    [[1, 5, 7, 3], [2, 2], [2, 2], 'same'],
  ] as [number[], [number, number], [number, number], Padding][])('x %j, size %j, stride %j, %s', (shape, size, stride, padding) => {
    const x = randTensor(shape, rng);
    const [wasm, reference] = both(() => maxPool2d(x, { size, stride, padding }));
    expect(wasm).toEqual(reference); // a max is exact
  });

  it('NaN never wins and -Infinity is a value, as in the TS kernel', () => {
    const x = randTensor([1, 4, 4, 6], rng);
    [0, 7, 13, 30, 31, 50].forEach((i) => (x.data[i] = NaN));
    [1, 2, 60].forEach((i) => (x.data[i] = -Infinity));
    const [wasm, reference] = both(() => maxPool2d(x, { size: [2, 2], padding: 'same' }));
    expect(Array.from(wasm.data)).toEqual(Array.from(reference.data));
  });
});

describe('global pooling', () => {
  it.each([
    [[3, 5, 7, 22]], // 22 channels: a line of 16, a four and two alone
    [[2, 7, 7, 1280]], // MobileNetV2's last
    [[4, 49, 3]], // a sequence, three channels: all alone
  ])('x %j: the mean and the max are the TS kernel\'s bits, on 1 and 2 threads', (shape) => {
    const x = randTensor(shape, rng, 10);
    [0, 13, 30].forEach((i) => (x.data[i] = NaN));
    [1, 14, 60].forEach((i) => (x.data[i] = -Infinity));
    [2, 15].forEach((i) => (x.data[i] = -0));
    // Ties: in image 0, channels 1, 9 and 17 (a line's, a four's or one alone) are 0 in cell 0, -0 in cell 1, -1 after;
    // the max keeps the first, 0.
    const [cells, C] = [shape.slice(1, -1).reduce((a, b) => a * b), shape.at(-1)!];
    for (const k of [1, 9, 17].filter((k) => k < C)) for (let cell = 0; cell < cells; cell++) x.data[cell * C + k] = cell === 0 ? 0 : cell === 1 ? -0 : -1;
    for (const pool of [globalAvgPool, globalMaxPool]) {
      const [wasm, reference] = both(() => pool(x));
      expect(wasm.shape).toEqual([shape[0], shape.at(-1)]);
      expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
      const [one, two] = onOneAndTwoThreads(() => pool(x).data);
      expect(two).toEqual(one);
    }
    // NaN never wins a max: channel 0 of image 0 holds NaN and -Infinity among finite values.
    expect(globalMaxPool(x).data[0]).not.toBeNaN();
    if (C > 9) expect(Object.is(globalMaxPool(x).data[9], 0)).toBe(true);
    expect(globalAvgPool(x).data[0]).toBeNaN();
  });
});

describe('depthwise convolution', () => {
  // 3x3 with channels in fours takes four pixels of a row at a time: at stride 1 along the rows, in
  // groups from the row's first pixel, a padded edge's too (its window one column short), the last group
  // moved back to end at the row's end when two or three pixels are left; at stride 2, where the four
  // windows lie inside x. Other pixels (a last one alone, rows narrower than 4, other shapes) one at a time.
  const ROUNDING = 1e-6;
  it.each([
    [[2, 9, 14, 24], [3, 3], [1, 1], 'same', 'relu6', true], // 0-3 (left edge) | 4-7 | 8-11 | 10-13 (right edge)
    [[1, 8, 11, 12], [3, 3], [1, 1], 'valid', 'linear', false], // 9 outputs: 0-3 | 4-7 | 8
    [[1, 6, 10, 4], [3, 3], [1, 1], 'same', 'relu', true], // 0-3 | 4-7 | 6-9
    [[1, 7, 7, 8], [3, 3], [1, 1], 'same', 'relu6', true], // MobileNetV2's last maps: 0-3 | 3-6
    [[1, 5, 4, 8], [3, 3], [1, 1], 'same', 'linear', true], // both edges in one group: one pixel at a time
    [[1, 6, 5, 4], [3, 3], [1, 1], 'valid', 'linear', true], // 3 outputs a row: one at a time
    [[1, 11, 7, 8], [3, 3], [2, 1], 'same', 'relu6', true], // rows two apart, each 0-3 | 3-6
    [[1, 7, 9, 6], [3, 3], [1, 1], 'same', 'linear', true], // channels not in fours: one pixel at a time
    [[1, 9, 12, 8], [3, 3], [2, 2], 'same', 'relu6', true],
    [[1, 11, 12, 8], [3, 3], [2, 1], 'same', 'relu6', true], // four pixels at a time along rows two apart
    [[2, 13, 19, 12], [3, 3], [1, 2], 'valid', 'linear', true], // four pixels two apart along a row: 0-3 | 4-7 | 8
    [[1, 12, 18, 16], [3, 3], [2, 2], 'same', 'relu', false], // 'same' at stride 2: no pad before, one after
  ] as [number[], [number, number], [number, number], Padding, Activation, boolean][])('x %j, kernel %j, stride %j, %s, %s, bias %s', (shape, [kh, kw], stride, padding, activation, hasBias) => {
    const x = randTensor(shape, rng);
    const kernel = randTensor([kh, kw, shape[3], 1], rng);
    const bias = hasBias ? randTensor([shape[3]], rng) : null;
    const opts = { stride, padding, activation };
    const [wasm, reference] = both(() => depthwiseConv2d(x, kernel, bias, opts));
    // relu and relu6 only clamp: |x| and |kernel| bound the sums' rounding either way
    const magnitudes = depthwiseConv2d(magnitude(x), magnitude(kernel), bias && magnitude(bias), { stride, padding });
    expectWithinRounding(wasm, reference, magnitudes, ROUNDING);
  });

  it.each([1, 2])('gives the same bits on 1 and 2 threads, where the threads\' slices move pixels between the two paths (stride %i)', (stride) => {
    // 9x9 outputs: one thread runs each row as 0-3 | 4-7 | 8 at stride 1 (groups, then a pixel alone); with
    // two (192 channels: enough work for two), a slice starts and ends mid-row, so its groups start elsewhere
    // and its last pixels go one at a time: other groups, the same bits.
    const side = stride === 1 ? 9 : 17;
    const x = randTensor([1, side, side, 192], rng);
    const kernel = randTensor([3, 3, 192, 1], rng);
    const bias = randTensor([192], rng);
    const [one, two] = onOneAndTwoThreads(() => depthwiseConv2d(x, kernel, bias, { stride: [stride, stride], padding: 'same', activation: 'relu6' }));
    expect(one.shape).toEqual([1, 9, 9, 192]);
    expect(two.data.findIndex((v, i) => !Object.is(v, one.data[i]))).toBe(-1);
  });
});

describe('a first layer and the 2x2 max pool after it, in one pass', () => {
  // conv2dPooled against conv2d then maxPool2d, both in WebAssembly: the same operations, so the same bits.
  it.each([
    [[4, 28, 28, 1], [3, 3, 32], [1, 1], [1, 1], 'valid', 'relu'], // MNIST's first layer: 26x26 pooled to 13x13
    [[3, 11, 12, 3], [3, 3, 16], [1, 1], [1, 2], 'valid', 'relu6'], // 9x8 drops a row; dilation
    [[2, 15, 13, 2], [3, 2, 8], [2, 1], [1, 1], 'valid', 'linear'], // stride 2 down, 1 across
    // Winograd's 2x2 tiles as the windows: MNIST's second layer (11x11, the last tiles half empty), and padded
    [[4, 13, 13, 32], [3, 3, 64], [1, 1], [1, 1], 'valid', 'relu'],
    [[2, 10, 9, 16], [3, 3, 20], [1, 1], [1, 1], 'same', 'relu6'],
  ] as [number[], number[], [number, number], [number, number], Padding, Activation][])('x %j, kernel %j, stride %j, dilation %j, %s, %s', (xShape, [kh, kw, F], stride, dilation, padding, activation) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([kh, kw, xShape[3], F], rng);
    const bias = randTensor([F], rng);
    // Half the outputs below 0: relu's zeros and the window's max meet.
    const opts = { stride, dilation, padding, activation };
    const { choice, threads } = kernelBackend();
    setKernelBackend('auto');
    try {
      for (const n of [1, 2]) {
        setThreads(n);
        const fused = conv2dPooled(x, kernel, bias, opts);
        const apart = maxPool2d(conv2d(x, kernel, bias, opts), { size: [2, 2] });
        expect(fused?.shape).toEqual(apart.shape);
        expect(fused!.data.findIndex((v, i) => !Object.is(v, apart.data[i])), `${n} thread(s)`).toBe(-1);
      }
    } finally {
      setKernelBackend(choice);
      setThreads(threads);
    }
  });

  it('declines what it does not run so: padding, filters past a panel of 8, K past the tap table and no Winograd, the TS kernels', () => {
    const x = randTensor([2, 8, 8, 1], rng);
    const k = (C: number, F: number) => randTensor([3, 3, C, F], rng);
    expect(conv2dPooled(x, k(1, 8), null, { padding: 'same' })).toBeNull();
    expect(conv2dPooled(x, k(1, 12), null, {})).toBeNull();
    expect(conv2dPooled(randTensor([2, 8, 8, 16], rng), k(16, 8), null, {})).toBeNull(); // K 144, and too few tiles and filters for Winograd
    expect(conv2dPooled(x, k(1, 8), null, { activation: 'tanh' })).toBeNull();
    const { choice } = kernelBackend();
    setKernelBackend('js');
    try {
      expect(conv2dPooled(x, k(1, 8), null, {})).toBeNull();
    } finally {
      setKernelBackend(choice);
    }
  });
});

describe('layer normalisation', () => {
  it.each([
    [[2, 5, 128], 1e-3],
    [[3, 7], 1e-5],
    [[4, 1], 1e-3],
    [[1, 3, 769], 1e-12],
  ] as [number[], number][])('x %j, epsilon %s: within 2 float32 ulp of the TS kernel', (shape, epsilon) => {
    const d = shape.at(-1)!;
    const x = randTensor(shape, rng, 3);
    x.data.forEach((v, i) => (x.data[i] = v + 5)); // a mean far from 0
    const gamma = randTensor([d], rng, 2);
    const beta = randTensor([d], rng, 1);
    const [wasm, reference] = both(() => layerNorm(x, gamma, beta, epsilon));
    expect(wasm.shape).toEqual(reference.shape);
    // The statistics' float64 sums are added in another order; everything after them is the same arithmetic.
    for (let i = 0; i < x.data.length; i++) expect(Math.abs(wasm.data[i] - reference.data[i])).toBeLessThanOrEqual(2 * 2 ** -23 * Math.abs(reference.data[i]) + 1e-30);
  });
});

describe('activations in float32', () => {
  /** Values across the range: tiny, around the polynomial switch points, large, and past exp's range. */
  const spread = (n: number) => {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sign(rng.uniform() - 0.5) * Math.exp(30 * rng.uniform() - 20);
    data.set([0, -0, 0.625, -0.625, 88.3, -87.3, 100, -100, 1e-30, -1e-30, 20, -20]);
    return { shape: [n / 8, 8], data };
  };

  it.each(['relu', 'sigmoid', 'tanh'] as Activation[])('%s is within 3 ulp of the float64 kernel', (act) => {
    const x = spread(4000);
    const [wasm, reference] = both(() => activate(x, act));
    for (let i = 0; i < x.data.length; i++) {
      const [a, e] = [wasm.data[i], reference.data[i]];
      expect(Math.abs(a - e)).toBeLessThanOrEqual(3 * 2 ** -23 * Math.abs(e) + 1e-38);
    }
  });

  it('relu6 is the TS kernel\'s bits: NaN kept, -0 made 0, clamped at 0 and 6', () => {
    const x = spread(4000);
    x.data.set([NaN, -0, 0, -3, -3.5, 3, 6, 6.5, Infinity, -Infinity, -1e-45, 1e-45], 12);
    const [wasm, reference] = both(() => activate(x, 'relu6'));
    expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
    expect(Array.from(wasm.data.subarray(12, 24))).toEqual([NaN, 0, 0, 0, 0, 3, 6, 6, 6, 0, 0, 1e-45].map(Math.fround));
  });

  it.each([false, true])('gelu (approximate = %s) is within 4 ulp of x of the float64 kernel', (approximate) => {
    // Its output reaches 0 for negative x: the error is measured against x's size, the scale of every term.
    const x = spread(4000);
    for (let i = 12; i < 1012; i++) x.data[i] = 20 * rng.uniform() - 10; // where GELU bends
    x.data[1012] = NaN;
    const [wasm, reference] = both(() => activate(x, 'gelu', undefined, { approximate }));
    for (let i = 0; i < x.data.length; i++) {
      const [a, e] = [wasm.data[i], reference.data[i]];
      if (Number.isNaN(e)) expect(a).toBeNaN();
      else expect(Math.abs(a - e)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(x.data[i]) + 1e-38);
    }
  });

  it('softmax rows (odd widths, masked -Infinity entries) agree to 1e-6', () => {
    for (const width of [1, 3, 8, 37, 128]) {
      const x = randTensor([9, width], rng, 20);
      for (let i = 1; i < x.data.length; i += 5) x.data[i] = -Infinity;
      for (let r = 0; r < 9; r++) x.data[r * width] = 0; // each row keeps one finite entry
      const [wasm, reference] = both(() => activate(x, 'softmax'));
      expectClose(wasm, reference, 1e-6);
      wasm.data.forEach((p, i) => x.data[i] === -Infinity && expect(p).toBe(0));
    }
  });
});

describe('the LSTM cell', () => {
  it.each([
    [3, 5, 7, 8, false],
    [2, 4, 6, 12, true],
    [4, 9, 3, 16, true],
  ])('B %i, T %i, in %i, %i units, sequences %s', (B, T, I, u, sequences) => {
    const x = randTensor([B, T, I], rng);
    const [W, U, b] = [randTensor([I, 4 * u], rng, 0.5), randTensor([u, 4 * u], rng, 0.5), randTensor([4 * u], rng)];
    for (const reverse of [false, true]) expectClose(...both(() => lstm(x, W, U, b, { sequences, reverse })), 2e-6);
  });

  it.each(['lstm', 'gru'] as const)("a whole %s layer in one call per thread (recurrent_rows) gives exactly the step-by-step loop's values, on 1 and 2 threads, forward and reversed, from given states", (cell) => {
    const [B, T, I, u] = [14, 60, 8, 32]; // 14 rows: three blocks of 4 and one of 2; big enough for two threads
    const G = cell === 'lstm' ? 4 : 3;
    const x = randTensor([B, T, I], rng);
    const [W, U] = [randTensor([I, G * u], rng, 0.5), randTensor([u, G * u], rng, 0.5)];
    const b = cell === 'lstm' ? randTensor([4 * u], rng) : randTensor([2, 3 * u], rng); // the GRU's input and recurrent biases (reset_after)
    const start = [randTensor([B, u], rng).data, randTensor([B, u], rng).data].slice(0, cell === 'lstm' ? 2 : 1);
    const { choice, threads } = kernelBackend();
    setKernelBackend('auto');
    try {
      for (const sequences of [false, true])
        for (const reverse of [false, true]) {
          const run = (n: number, stepByStep: boolean) => {
            setThreads(n);
            const final = start.map(() => new Float32Array(B * u));
            // A mask of ones changes nothing but takes the step-by-step loop.
            const mask = stepByStep ? new Float32Array(B * T).fill(1) : undefined;
            const opts = { sequences, reverse, initial: start, final, mask };
            const y = cell === 'lstm' ? lstm(x, W, U, b, opts) : gru(x, W, U, b, opts);
            return [y.data, ...final];
          };
          const reference = run(1, true);
          for (const got of [run(1, false), run(2, false), run(2, true)])
            got.forEach((values, k) => expect(values.findIndex((v, i) => !Object.is(v, reference[k]![i])), `output ${k}, sequences ${sequences}, reverse ${reverse}`).toBe(-1));
        }
    } finally {
      setKernelBackend(choice);
      setThreads(threads);
    }
  });
});

describe('a recurrent layer\'s training forward', () => {
  it.each(['lstm', 'gru'] as const)("%s: one call per thread keeps exactly the step-by-step loop's trace (states before and after each step, gates), on 1 and 2 threads", (cell) => {
    const [B, T, I, u] = [10, 60, 8, 32];
    const G = cell === 'lstm' ? 4 : 3;
    const x = randTensor([B, T, I], rng);
    const [W, U] = [randTensor([I, G * u], rng, 0.5), randTensor([u, G * u], rng, 0.5)];
    const b = cell === 'lstm' ? randTensor([4 * u], rng) : randTensor([2, 3 * u], rng);
    const { choice, threads } = kernelBackend();
    setKernelBackend('auto');
    try {
      for (const reverse of [false, true]) {
        const run = (n: number, stepByStep: boolean) => {
          setThreads(n);
          const mask = stepByStep ? new Float32Array(B * T).fill(1) : undefined; // changes nothing, takes the step-by-step loop
          const { output, trace, states } = recurrentForward(x, W, U, b, { cell, sequences: true, reverse, mask });
          return [output.data, trace.h, trace.hPrev, trace.gates!, ...(trace.c ? [trace.c, trace.cPrev!] : []), ...states.map((t) => t.data)];
        };
        const reference = run(1, true);
        for (const got of [run(1, false), run(2, false)])
          got.forEach((values, k) => expect(values.findIndex((v, i) => !Object.is(v, reference[k]![i])), `array ${k}, reverse ${reverse}`).toBe(-1));
      }
    } finally {
      setKernelBackend(choice);
      setThreads(threads);
    }
  });
});

describe('backward kernels', () => {
  const want = { input: true, kernel: true, bias: true };
  it.each([
    [[2, 9, 8, 4], [3, 3, 5], [1, 1], [1, 1], 'same'],
    [[3, 7, 7, 3], [3, 2, 8], [2, 1], [1, 1], 'valid'],
    [[1, 10, 9, 8], [3, 3, 6], [1, 2], [2, 1], 'same'],
    // kernels of at most 32 rows: their gradient in slices of the images
    [[8, 12, 12, 1], [3, 3, 10], [1, 1], [1, 1], 'valid'],
    [[6, 9, 7, 3], [3, 3, 4], [2, 1], [1, 1], 'same'],
    // ... read in place (gemm.wat's grad_taps): windows inside the image, whole panels of 8 filters; a
    // strip of 3 rows past M = 27; strides and dilation; output rows longer than KCH; 'same' that pads nothing
    [[8, 12, 12, 1], [3, 3, 16], [1, 1], [1, 1], 'valid'],
    [[4, 11, 10, 3], [3, 3, 8], [2, 1], [1, 2], 'valid'],
    [[2, 4, 140, 1], [3, 3, 8], [1, 1], [1, 1], 'valid'],
    [[4, 8, 8, 2], [2, 2, 8], [2, 2], [1, 1], 'same'],
  ] as [number[], number[], [number, number], [number, number], Padding][])('conv2d backward (col2im) x %j, kernel %j, stride %j, dilation %j, %s', (xShape, [kh, kw, F], stride, dilation, padding) => {
    const x = randTensor(xShape, rng);
    const kernel = randTensor([kh, kw, xShape[3], F], rng);
    const y = conv2d(x, kernel, null, { stride, dilation, padding });
    const dz = randTensor(y.shape, rng);
    const grads = (pick: 'dx' | 'dKernel') => both(() => conv2dBackward(x, kernel, dz, { stride, dilation, padding }, want)[pick]!);
    expectClose(...grads('dx'), 1e-5);
    expectClose(...grads('dKernel'), 1e-5);
  });

  it.each([
    [[2, 8, 8, 4], [2, 2], [2, 2], 'valid'],
    [[3, 7, 9, 5], [3, 2], [2, 1], 'same'],
    [[2, 26, 26, 32], [2, 2], [2, 2], 'valid'],
    [[2, 11, 11, 6], [2, 2], [2, 2], 'valid'],
    [[1, 5, 7, 3], [2, 2], [2, 2], 'same'],
  ] as [number[], [number, number], [number, number], Padding][])('max pooling backward x %j, size %j, stride %j, %s: exactly the TS kernel', (shape, size, stride, padding) => {
    const x = randTensor(shape, rng);
    x.data[3] = x.data[3 + shape[3]]; // a tie: the first cell wins
    const dy = randTensor(maxPool2d(x, { size, stride, padding }).shape, rng);
    const [wasm, reference] = both(() => maxPool2dBackward(x, dy, { size, stride, padding }));
    expect(wasm).toEqual(reference);
    // In a training step dx is step memory that held other values (here NaN): the kernel writes all of it.
    const dirtied = () => duringStep(() => void buffer(4 * x.data.length).fill(NaN));
    const [inStep] = both(() => (dirtied(), duringStep(() => ({ ...reference, data: keep(maxPool2dBackward(x, dy, { size, stride, padding }).data) }))));
    expect(inStep).toEqual(reference);
  });

  it('max pooling backward routes to the first maximal cell; NaN never wins, a window of -Infinity and NaN routes nothing', () => {
    for (const shape of [[1, 4, 4, 6], [1, 5, 5, 5]]) {
      const x = randTensor(shape, rng);
      const C = shape[3];
      [0, 7, 13, 30, 31, 50].forEach((i) => (x.data[i] = NaN));
      [1, 2, 60].forEach((i) => (x.data[i] = -Infinity));
      // One window of channel 3 all -Infinity or NaN, one of channel 4 with a tie, one of channel 5 with -0 before +0.
      [0, 1, shape[2], shape[2] + 1].forEach((cell, k) => (x.data[cell * C + 3] = k === 2 ? NaN : -Infinity));
      [0, 1].forEach((cell) => (x.data[cell * C + 4] = 7));
      [0, 1, shape[2], shape[2] + 1].forEach((cell, k) => (x.data[cell * C + 5] = k === 0 ? -0 : k === 1 ? 0 : -1));
      const dy = randTensor(maxPool2d(x, { size: [2, 2] }).shape, rng);
      dy.data[4] = -0; // reaches dx as 0 + dy: +0
      const [wasm, reference] = both(() => maxPool2dBackward(x, dy, { size: [2, 2] }));
      expect(Array.from(wasm.data)).toEqual(Array.from(reference.data));
      expect(reference.data[3]).toBe(0); // the -Infinity window routed nothing
      expect(Object.is(reference.data[4], 0)).toBe(true); // the first of the tie, dy's -0 added to 0
    }
  });

  it('bias gradients (column sums in float64) are exactly the TS sums', () => {
    for (const [rows, n] of [[1, 1], [37, 3], [100, 8], [513, 13], [2500, 13], [4097, 32]]) {
      const dz = randTensor([rows, n], rng, 100);
      const [wasm, reference] = both(() => ({ shape: [n], data: columnSums(dz.data, rows, n) }));
      expect(wasm).toEqual(reference);
    }
  });

  it("dropout's mask (forward and backward) is exactly the TS loop's, at rates whose scale is not a float32", () => {
    for (const [n, rate] of [[4099, 0.5], [1001, 0.3], [37, 0.1], [3, 0.7]] as const) {
      const x = randTensor([n], rng);
      [0, 1, 2].forEach((i, k) => (x.data[i] = [NaN, -0, Infinity][k]));
      const [wasm, reference] = both(() => dropout(x, rate, createRng(n)));
      const drops = reference.data.filter((v, i) => Object.is(v, 0) && x.data[i] !== 0).length;
      if (n > 100) {
        expect(drops / n).toBeGreaterThan(rate - 0.1); // the stream really dropped units
        expect(drops / n).toBeLessThan(rate + 0.1);
      }
      expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
      // The values the forward keeps are the stream's, and the backward's mask from them is the forward's (dy = x: dx = y).
      const values = new Uint32Array(n);
      const kept = dropout(x, rate, createRng(n), undefined, values);
      expect(kept.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
      const [dWasm, dReference] = both(() => dropoutBackward(x, rate, values));
      expect(dWasm.data.findIndex((v, i) => !Object.is(v, dReference.data[i]))).toBe(-1);
      expect(dReference.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
    }
  });

  it("dropout's mask keeps a unit whose value is at rate * 2^32 or above, as the TS loop", () => {
    for (const rate of [0.5, 0.3]) {
      const edge = rate * 2 ** 32; // 2^31, and 1288490188.8
      const values = [Math.floor(edge) - 1, Math.floor(edge), Math.ceil(edge), Math.ceil(edge) + 1, 0, 2 ** 32 - 1];
      // A stream that draws these values over and over.
      const stream = { seed: 0, uniform: () => 0, normal: () => 0, child: () => stream, fill: (out: Uint32Array) => out.forEach((_, i) => (out[i] = values[i % values.length])) };
      const x = randTensor([values.length * 3], rng);
      const [wasm, reference] = both(() => dropout(x, rate, stream));
      expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
      expect(Array.from(reference.data.slice(0, values.length), (v) => v !== 0)).toEqual(values.map((v) => v >= edge));
    }
  });

  it('relu backward is exact', () => {
    const y = activate(randTensor([7, 13], rng), 'relu');
    y.data[5] = NaN;
    const dy = randTensor([7, 13], rng);
    const [wasm, reference] = both(() => ({ shape: y.shape, data: activationGrad(y.data, dy.data, 'relu', 13) }));
    expect(wasm).toEqual(reference);
  });
});

describe('moving and adding values in the kernel memory', () => {
  it('a sum of two tensors (a residual connection) is exactly the TS loop, where its operands live in the kernel memory', () => {
    const [a, b] = [randTensor([3, 37, 5], rng), randTensor([3, 37, 5], rng)]; // 555 floats: quads and a tail
    a.data[7] = NaN;
    b.data[8] = -Infinity;
    [a.data[9], b.data[9]] = [-0, -0];
    const [wasm, reference] = both(() =>
      withScratch(heap(), (take) => {
        const [x, y, out] = [take(a.data.length), take(b.data.length), take(a.data.length)];
        x.set(a.data);
        y.set(b.data);
        return { shape: a.shape, data: add([{ shape: a.shape, data: x }, { shape: b.shape, data: y }], out).data.slice() };
      }),
    );
    expect(Array.from(wasm.data)).toEqual(Array.from(reference.data));
  });

  it("a sum with an operand outside the kernel memory (the model's input in a residual connection) is copied in from 4,096 floats up, and is exactly the TS loop", () => {
    const [a, b] = [randTensor([2, 2051], rng), randTensor([2, 2051], rng)]; // 4,102 floats
    [a.data[7], b.data[8], a.data[4101]] = [NaN, -Infinity, -0];
    b.data[4101] = -0;
    const [wasm, reference] = both(() =>
      withScratch(heap(), (take) => {
        const y = take(b.data.length);
        y.set(b.data);
        return { shape: a.shape, data: add([a, { shape: b.shape, data: y }]).data.slice() };
      }),
    );
    expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
    expect(addWasm(new Float32Array(4102), a.data, b.data)).toBe(true);
    expect(addWasm(new Float32Array(555), a.data.subarray(0, 555), b.data.subarray(0, 555))).toBe(false); // the TS loop's
  });

  it("a sum with the relu after it (a residual block's end) is the sum, then the relu, bit for bit: on either kernels, in the kernel memory or copied in", () => {
    const differ = (x: Float32Array, y: Float32Array) => x.findIndex((v, i) => !Object.is(v, y[i]));
    for (const n of [555, 4102]) { // quads and a tail; from 4,096 floats an operand outside the memory is copied in
      const [a, b] = [randTensor([n], rng), randTensor([n], rng)];
      [a.data[7], b.data[8], a.data[9], b.data[9], a.data[10], b.data[10]] = [NaN, -Infinity, -0, -0, -1, 0.5];
      // [fused, apart] in one tensor: the sum with { relu }, and relu(sum) by the activation kernel
      const fusedAndApart = (x: Tensor, y: Tensor, out?: Float32Array): Tensor => {
        const fused = add([x, y], out, { relu: true }).data.slice();
        const apart = activate(add([x, y]), 'relu').data;
        return { shape: [2, n], data: Float32Array.from([...fused, ...apart]) };
      };
      const inMemory = () =>
        withScratch(heap(), (take) => {
          const [x, y] = [take(n), take(n)];
          x.set(a.data);
          y.set(b.data);
          return fusedAndApart({ shape: [n], data: x }, { shape: [n], data: y }, take(n));
        });
      for (const run of [inMemory, () => fusedAndApart(a, b)]) {
        const [wasm, reference] = both(run);
        expect(differ(wasm.data.subarray(0, n), wasm.data.subarray(n))).toBe(-1);
        expect(differ(reference.data.subarray(0, n), reference.data.subarray(n))).toBe(-1);
        expect(differ(wasm.data, reference.data)).toBe(-1);
        expect([wasm.data[7], wasm.data[8], wasm.data[9], wasm.data[10]]).toEqual([NaN, 0, -0, 0]); // NaN and -0 kept, as relu keeps them
      }
    }
    // More than two inputs, or one repeated over the batch: summed in TS, then the relu.
    const [x, y, z] = [randTensor([3, 5], rng), randTensor([1, 5], rng), randTensor([3, 5], rng)];
    expect(add([x, y, z], undefined, { relu: true }).data).toEqual(activate(add([x, y, z]), 'relu').data);
  });

  it("attention's query scaled by 1/sqrt(key size) is exactly the TS loop's float64 product, rounded once", () => {
    const x = randTensor([555], rng, 10); // quads and a tail
    [x.data[0], x.data[1], x.data[2], x.data[3], x.data[553]] = [NaN, -0, Infinity, 3e38, 1e-45];
    for (const s of [1 / Math.sqrt(32), 1 / Math.sqrt(64), 1.5]) {
      const [wasm, reference] = both(() => {
        const data = x.data.slice();
        if (!scaleWasm(data, s)) for (let i = 0; i < data.length; i++) data[i] *= s; // the TS kernels' loop
        return { shape: x.shape, data };
      });
      expect(wasm.data.findIndex((v, i) => !Object.is(v, reference.data[i]))).toBe(-1);
      expect(reference.data[3]).toBe(s === 1.5 ? Infinity : Math.fround(3e38 * s));
    }
  });

  it("attention's heads gathered from and scattered into their projections are the same values", () => {
    const [B, T, H, K] = [2, 9, 3, 6]; // rows of 6 floats: a quad and a tail
    const projected = randTensor([B * T, H * K], rng);
    const [wasm, reference] = both(() =>
      withScratch(heap(), (take) => {
        const [src, head, back] = [take(projected.data.length), take(T * K), take(projected.data.length).fill(0)];
        src.set(projected.data);
        gather(head, src, T, T, H * K, 2 * K, K); // image 1, head 2
        scatter(back, head, T, T, H * K, 2 * K, K);
        return { shape: projected.shape, data: back.slice() };
      }),
    );
    expect(wasm).toEqual(reference);
    expect(reference.data[(T + 4) * H * K + 2 * K + 5]).toBe(projected.data[(T + 4) * H * K + 2 * K + 5]);
    expect(reference.data[(T + 4) * H * K + K]).toBe(0); // head 1 was not copied
  });
});

describe('the heap', () => {
  it('knows its own views, also across growth, and not others', () => {
    const h = heap();
    withScratch(h, (take) => {
      const small = take(16);
      const big = take(4 << 20); // grows the memory
      expect(h.offsetOf(small)).toBe(small.byteOffset);
      expect(h.offsetOf(big)).toBe(big.byteOffset);
      expect(h.offsetOf(new Float32Array(16))).toBe(-1);
      // Views made before the memory grew still see the same bytes.
      const later = new Float32Array(big.buffer, small.byteOffset, 16);
      small[3] = 42;
      expect(later[3]).toBe(42);
    });
  });

  it('when it has no room for scratch (past 2 GiB it hands out ordinary buffers), the kernels that take scratch decline, having written and drawn nothing', () => {
    const h = heap();
    withScratch(h, (take) => {
      const src = take(3000 * 8);
      src.set(randTensor([3000, 8], rng).data);
      const to = take(3000 * 8).fill(7);
      const x = { shape: [2, 6, 6, 1], data: take(72) };
      x.data.set(randTensor(x.shape, rng).data);
      const dz = take(2 * 4 * 4 * 5);
      dz.set(randTensor([2 * 4 * 4 * 5], rng).data);
      const shape = convShape(x, { shape: [3, 3, 1, 5], data: new Float32Array(45) }, {}, 'test');
      const stream = createRng(11);
      const full = vi.spyOn(h, 'take').mockImplementation((floats) => new Float32Array(floats));
      try {
        const sums = new Float64Array(3 * 8);
        expect(blockSumsWasm(sums, src, 3000, 8, 1024)).toBe(false);
        expect(sums.every((v) => v === 0)).toBe(true);
        const values = new Uint32Array(to.length);
        stream.fill(values);
        expect(dropoutMaskWasm(src, to, 0.5, values)).toBe(false);
        expect(to.every((v) => v === 7)).toBe(true);
        const dK = new Float32Array(45).fill(7);
        expect(convKernelGradWasm(dK, x.data, shape, dz)).toBe(false); // a first layer's gradient in slices
        expect(dK.every((v) => v === 7)).toBe(true);
        // And the bias gradient falls back to the TS sums.
        const [wasm, reference] = both(() => ({ shape: [8], data: columnSums(src, 3000, 8) }));
        expect(wasm).toEqual(reference);
      } finally {
        full.mockRestore();
      }
    });
  });

  it('pins weights below the arena for the rest of the process, only before an arena or scratch is taken, and products read them where they are', () => {
    const g = loadGemm(); // a memory of its own: pinning is for a process's first model
    if (typeof g === 'string') throw new Error(g);
    const h = g.heap;
    const w = h.pin(3 * 5)!;
    const v = h.pin(1000)!;
    expect(h.offsetOf(w)).toBe(64); // byte 0 is never given: it means "none" to the kernels
    expect(h.offsetOf(v)).toBeGreaterThanOrEqual(64 + 15 * 4);
    w.set(randTensor([3, 5], rng).data);
    v.fill(9);
    const arena = h.arena(400)!;
    expect(arena.base).toBeGreaterThanOrEqual(h.offsetOf(v) + 4000); // the arena lies above both
    new Float32Array(arena.buffer, arena.base, 100).fill(-1); // a run writing all of its arena
    expect(v.every((x) => x === 9)).toBe(true);
    expect(h.pin(8)).toBeNull(); // an arena exists: the pinned region cannot grow under it
    // A product whose right operand is pinned: the same values as one that copies it in.
    const a = randTensor([4, 3], rng).data;
    const [pinned, copied] = [new Float32Array(20), new Float32Array(20)];
    expect(gemm(g, pinned, a, w, 4, 3, 5, {}, 1)).toBe(true);
    expect(gemm(g, copied, a, Float32Array.from(w), 4, 3, 5, {}, 1)).toBe(true);
    expect(pinned).toEqual(copied);
    expect(v.every((x) => x === 9)).toBe(true);
    // The arena grows above the pinned weights.
    const larger = h.arena(1 << 20)!;
    expect(larger.base).toBe(arena.base);
    expect(w).toEqual(new Float32Array(larger.buffer, 64, 15));
  });

  it('pins at most half of the 2 GiB memory, so that an arena and operands still fit above', () => {
    const g = loadGemm();
    if (typeof g === 'string') throw new Error(g);
    const first = g.heap.pin(MAX_PINNED_BYTES / 4 - 4096 - 16)!; // reserved, never written: no resident pages
    expect(g.heap.offsetOf(first)).toBe(64);
    expect(g.heap.pin(4096 + 16)).toBeNull(); // 64 bytes past the bound
    expect(g.heap.pin(4096)).not.toBeNull(); // what is left under it is still given
  });

  it('gives back scratch on release, also after a throw', () => {
    const h = heap();
    const mark = h.mark();
    expect(() => withScratch(h, (take) => (take(100), take(200), (() => { throw new Error('boom'); })()))).toThrow('boom');
    expect(h.mark()).toBe(mark);
  });
});
