/**
 * Grouped, depthwise and separable convolution against TensorFlow.js:
 *
 *   depthwise_conv2d   tf.layers.depthwiseConv2d (Keras DepthwiseConv2D) with our weights
 *   separable_conv2d   tf.layers.separableConv2d (Keras SeparableConv2D)
 *   groups             tfjs has no groups: a written-out reference, each group
 *                      a tf.conv2d of its own channels and kernel columns, concatenated
 *
 * over both paddings, strides, dilations, depth multipliers and channel counts
 * that exercise the WebAssembly kernel's blocks of 16 and 4 channels and its
 * single channels, on both kernel choices; gradients through harness.ts's
 * checkGradients (tf.grads of the references, and central differences);
 * parameter counts against tf.layers' countParams; activation fusion; and the
 * emitted TensorFlow.js for the shapes that need support.ts's helpers.
 * tfjs rejects stride > 1 with dilation > 1, and has no depthwise gradient
 * for dilation > 1, so the references spread the kernel out instead;
 * tfjs-layers' DepthwiseConv2D ignores its dilation rate, so dilated
 * forwards are checked against tf.depthwiseConv2d.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Activation, Padding } from '../../../src/backends/interp/kernels/index.js';
import { conv1d, conv2d, depthwiseConv2d, separableConv2d } from '../../../src/backends/interp/kernels/index.js';
import { kernelBackend, setKernelBackend } from '../../../src/backends/interp/wasm/index.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { createRng } from '../../../src/runtime/random.js';
import { summarize } from '../../../src/summary.js';
import { emitModules, generatedDir, loadModule, removeGenerated } from '../tfjs/generated.js';
import { checkGradients, modelOf, weightsFor } from './grad/harness.js';
import { expectClose, fromTf, randTensor, toTf, useTfCpu } from './helpers.js';
import { kerasActivation } from './keras-activations.js';

beforeAll(useTfCpu);
const rng = createRng(11);

/** Runs `f` on each kernel choice, restoring the previous one. */
function onBothKernels(f: (kind: 'wasm' | 'js') => void): void {
  const before = kernelBackend().choice;
  try {
    for (const kind of ['wasm', 'js'] as const) {
      setKernelBackend(kind);
      f(kind);
    }
  } finally {
    setKernelBackend(before);
  }
}

/** A kernel [kh, kw, ...] with dilation written out as zeros between the taps: tfjs's stride-1 ops then need no dilation. */
function spread(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, C, F] = kernel.shape;
  return tf
    .pad(kernel.reshape([kh, 1, kw, 1, C, F]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]])
    .reshape([kh * dh, kw * dw, C, F])
    .slice([0, 0, 0, 0], [dh * (kh - 1) + 1, dw * (kw - 1) + 1, C, F]) as tf.Tensor4D;
}

/** tf.depthwiseConv2d with any stride and dilation (differentiable for dilation > 1 too). */
function tfDepthwise(x: tf.Tensor, kernel: tf.Tensor, stride: [number, number], padding: Padding, dilation: [number, number] = [1, 1]): tf.Tensor4D {
  return tf.depthwiseConv2d(x as tf.Tensor4D, spread(kernel as tf.Tensor4D, dilation), stride, padding) as tf.Tensor4D;
}

/** The written-out grouped convolution: group g convolves channels [g*C/G, (g+1)*C/G) with kernel columns [g*F/G, (g+1)*F/G). */
function tfGrouped(x: tf.Tensor, kernel: tf.Tensor, groups: number, stride: [number, number], padding: Padding, dilation: [number, number] = [1, 1]): tf.Tensor4D {
  const xs = tf.split<tf.Tensor4D>(x, groups, 3);
  const ks = tf.split<tf.Tensor4D>(kernel, groups, 3);
  return tf.concat(xs.map((xg, g) => tf.conv2d(xg, spread(ks[g], dilation), stride, padding)), 3);
}

interface DepthwiseCase {
  x: [number, number, number, number];
  k: [number, number];
  dm: number;
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
  activation: Activation;
  bias: boolean;
}

// 21 channels: one block of 16, one of 4 and a single one in the WebAssembly kernel.
const depthwiseCases: DepthwiseCase[] = [
  { x: [2, 7, 9, 21], k: [3, 3], dm: 1, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'linear', bias: true },
  { x: [2, 8, 7, 21], k: [3, 3], dm: 1, stride: [2, 2], dilation: [1, 1], padding: 'same', activation: 'relu6', bias: true },
  { x: [1, 9, 8, 5], k: [3, 2], dm: 1, stride: [2, 1], dilation: [1, 1], padding: 'valid', activation: 'relu', bias: false },
  { x: [2, 11, 10, 16], k: [3, 3], dm: 1, stride: [1, 1], dilation: [2, 2], padding: 'same', activation: 'linear', bias: true },
  { x: [1, 12, 11, 3], k: [5, 5], dm: 1, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'linear', bias: true },
  { x: [2, 7, 6, 4], k: [3, 3], dm: 3, stride: [1, 1], dilation: [1, 1], padding: 'same', activation: 'linear', bias: true },
  { x: [1, 9, 9, 2], k: [2, 3], dm: 2, stride: [2, 2], dilation: [1, 1], padding: 'valid', activation: 'relu', bias: true },
];

describe('depthwise_conv2d against tf.layers.depthwiseConv2d', () => {
  it.each(depthwiseCases)('x $x kernel $k dm $dm stride $stride dilation $dilation $padding $activation bias $bias', (c) => {
    const C = c.x[3];
    const x = randTensor(c.x, rng);
    const kernel = randTensor([...c.k, C, c.dm], rng);
    const bias = c.bias ? randTensor([C * c.dm], rng) : null;
    const layer = tf.layers.depthwiseConv2d({
      kernelSize: c.k, depthMultiplier: c.dm, strides: c.stride, dilationRate: c.dilation, padding: c.padding, useBias: c.bias,
    });
    const tx = toTf(x);
    layer.apply(tx);
    layer.setWeights([toTf(kernel), ...(bias ? [toTf(bias)] : [])]);
    // tfjs-layers' DepthwiseConv2D drops its dilation rate when it convolves (it passes null): dilated cases take tf.depthwiseConv2d.
    const dilated = c.dilation.some((d) => d > 1);
    const expected = tf.tidy(() => {
      const z = dilated
        ? tf.add(tf.depthwiseConv2d(tx as tf.Tensor4D, toTf(kernel) as tf.Tensor4D, c.stride, c.padding, 'NHWC', c.dilation), bias ? toTf(bias) : 0)
        : (layer.apply(tx) as tf.Tensor);
      return kerasActivation(c.activation)(z);
    });
    onBothKernels(() => {
      const y = depthwiseConv2d(x, kernel, bias, { stride: c.stride, dilation: c.dilation, padding: c.padding, activation: c.activation });
      expectClose(y, expected.clone());
    });
    tf.dispose([tx, expected]);
  });

  it('writes into a planned output buffer, every element', () => {
    const x = randTensor([1, 5, 5, 6], rng);
    const kernel = randTensor([3, 3, 6, 1], rng);
    const fresh = depthwiseConv2d(x, kernel, null, { padding: 'same' });
    const out = new Float32Array(fresh.data.length).fill(Number.NaN);
    depthwiseConv2d(x, kernel, null, { padding: 'same' }, out);
    expect(Array.from(out)).toEqual(Array.from(fresh.data));
  });
});

describe('separable_conv2d against tf.layers.separableConv2d', () => {
  it.each([
    { x: [2, 8, 7, 3], filters: 5, k: [3, 3], dm: 1, stride: [1, 1], padding: 'same', bias: true, activation: 'linear' },
    { x: [1, 9, 9, 4], filters: 6, k: [3, 3], dm: 2, stride: [2, 2], padding: 'valid', bias: false, activation: 'relu' },
    { x: [2, 10, 9, 17], filters: 8, k: [3, 2], dm: 1, stride: [2, 1], padding: 'same', bias: true, activation: 'relu6' },
  ] as const)('x $x filters $filters kernel $k dm $dm stride $stride $padding bias $bias $activation', (c) => {
    const C = c.x[3];
    const x = randTensor([...c.x], rng);
    const dk = randTensor([...c.k, C, c.dm], rng);
    const pk = randTensor([1, 1, C * c.dm, c.filters], rng);
    const bias = c.bias ? randTensor([c.filters], rng) : null;
    const layer = tf.layers.separableConv2d({
      filters: c.filters, kernelSize: [...c.k], depthMultiplier: c.dm, strides: [...c.stride], padding: c.padding, useBias: c.bias,
    });
    const tx = toTf(x);
    layer.apply(tx);
    layer.setWeights([toTf(dk), toTf(pk), ...(bias ? [toTf(bias)] : [])]);
    const expected = tf.tidy(() => kerasActivation(c.activation)(layer.apply(tx) as tf.Tensor));
    onBothKernels(() => {
      const y = separableConv2d(x, dk, pk, bias, { stride: [...c.stride], padding: c.padding, activation: c.activation });
      expectClose(y, expected.clone());
    });
    tf.dispose([tx, expected]);
  });
});

describe('groups against a written-out per-group convolution', () => {
  it.each([
    // x, kernel, filters, groups, stride, dilation, padding
    { x: [2, 7, 8, 6], k: [3, 3], f: 4, groups: 2, stride: [1, 1], dilation: [1, 1], padding: 'same' },
    { x: [1, 9, 9, 12], k: [3, 3], f: 9, groups: 3, stride: [2, 2], dilation: [1, 1], padding: 'valid' },
    { x: [2, 9, 8, 8], k: [3, 2], f: 8, groups: 4, stride: [1, 1], dilation: [2, 1], padding: 'same' },
    // One channel per group: the depthwise kernel, with F/G = 1 and F/G = 2 filters per group.
    { x: [2, 7, 7, 5], k: [3, 3], f: 5, groups: 5, stride: [1, 1], dilation: [1, 1], padding: 'same' },
    { x: [1, 8, 6, 3], k: [3, 3], f: 6, groups: 3, stride: [2, 2], dilation: [1, 1], padding: 'same' },
  ] as const)('x $x kernel $k filters $f groups $groups stride $stride dilation $dilation $padding', (c) => {
    const x = randTensor([...c.x], rng);
    const kernel = randTensor([...c.k, c.x[3] / c.groups, c.f], rng);
    const bias = randTensor([c.f], rng);
    const expected = tf.tidy(() => tf.relu(tf.add(tfGrouped(toTf(x), toTf(kernel), c.groups, [...c.stride], c.padding, [...c.dilation]), toTf(bias))));
    onBothKernels(() => {
      const y = conv2d(x, kernel, bias, { stride: [...c.stride], dilation: [...c.dilation], padding: c.padding, groups: c.groups, activation: 'relu' });
      expectClose(y, expected.clone());
    });
    expected.dispose();
  });

  it('conv1d: groups over the steps of a sequence', () => {
    const x = randTensor([2, 9, 6], rng);
    const kernel = randTensor([3, 2, 6], rng);
    const expected = tf.tidy(() => tfGrouped(toTf(x).reshape([2, 1, 9, 6]), toTf(kernel).reshape([1, 3, 2, 6]), 3, [1, 2], 'same').reshape([2, 5, 6]));
    onBothKernels(() => expectClose(conv1d(x, kernel, null, { stride: 2, padding: 'same', groups: 3 }), expected.clone()));
    expected.dispose();
  });
});

describe('gradients', () => {
  it('depthwise_conv2d: depth multiplier 2, stride 2, same padding', () => {
    checkGradients({
      body: 'input x: [7, 6, 3]\noutput y = x -> depthwise_conv2d(3, stride = 2, padding = same, depth_multiplier = 2)',
      reference: (i, w) => tf.add(tfDepthwise(i.x, w['depthwise_conv2d.depthwise_kernel'], [2, 2], 'same'), w['depthwise_conv2d.bias']),
    });
  });

  it('depthwise_conv2d: dilation 2, valid padding, no bias', () => {
    checkGradients({
      body: 'input x: [9, 8, 5]\noutput y = x -> depthwise_conv2d([3, 2], dilation = 2, bias = false)',
      reference: (i, w) => tfDepthwise(i.x, w['depthwise_conv2d.depthwise_kernel'], [1, 1], 'valid', [2, 2]),
    });
  });

  it('separable_conv2d: stride 2, depth multiplier 2', () => {
    checkGradients({
      body: 'input x: [7, 7, 3]\noutput y = x -> separable_conv2d(4, 3, stride = 2, depth_multiplier = 2)',
      reference: (i, w) => {
        const p = (n: string) => w[`separable_conv2d.${n}`];
        return tf.add(tf.separableConv2d(i.x as tf.Tensor4D, p('depthwise_kernel') as tf.Tensor4D, p('pointwise_kernel') as tf.Tensor4D, 2, 'valid'), p('bias'));
      },
    });
  });

  it('conv2d with groups: two channels per group, and one (depthwise)', () => {
    checkGradients({
      body: 'input x: [6, 7, 6]\noutput y = x -> conv2d(4, 3, padding = same, groups = 2)',
      reference: (i, w) => tf.add(tfGrouped(i.x, w['conv2d.kernel'], 2, [1, 1], 'same'), w['conv2d.bias']),
    });
    checkGradients({
      body: 'input x: [6, 7, 3]\noutput y = x -> conv2d(6, 3, stride = 2, groups = 3)',
      reference: (i, w) => tf.add(tfGrouped(i.x, w['conv2d.kernel'], 3, [2, 2], 'valid'), w['conv2d.bias']),
    });
  });

  it('conv1d with groups', () => {
    checkGradients({
      body: 'input x: [8, 4]\noutput y = x -> conv1d(6, 3, groups = 2)',
      reference: (i, w) => {
        const [B, L, C] = i.x.shape;
        const k = w['conv1d.kernel'];
        const y = tfGrouped(i.x.reshape([B, 1, L, C]), k.reshape([1, ...k.shape]), 2, [1, 1], 'valid');
        return tf.add(y.reshape([B, y.shape[2], y.shape[3]]), w['conv1d.bias']);
      },
    });
  });

  it('depthwise_conv2d with relu6 fused by the optimizer', () => {
    checkGradients({
      body: 'input x: [6, 6, 4]\noutput y = x -> depthwise_conv2d(3, padding = same) -> relu6',
      optimized: ['fused_depthwise_conv2d'],
      reference: (i, w) => tf.relu6(tf.add(tfDepthwise(i.x, w['depthwise_conv2d.depthwise_kernel'], [1, 1], 'same'), w['depthwise_conv2d.bias'])),
    });
  });

  it('separable_conv2d with tanh fused by the optimizer', () => {
    checkGradients({
      body: 'input x: [6, 5, 4]\noutput y = x -> separable_conv2d(3, [2, 3], padding = same, bias = false) -> tanh',
      optimized: ['fused_separable_conv2d'],
      reference: (i, w) => {
        const p = (n: string) => w[`separable_conv2d.${n}`] as tf.Tensor4D;
        return tf.tanh(tf.separableConv2d(i.x as tf.Tensor4D, p('depthwise_kernel'), p('pointwise_kernel'), 1, 'same'));
      },
    });
  });
});

describe('parameters as Keras counts them (tf.layers countParams)', () => {
  it.each([
    // MobileNet's conv_dw_1: DepthwiseConv2D(3x3) on 32 channels, no bias: 288.
    ['depthwise_conv2d(3, bias = false)', [112, 112, 32], tf.layers.depthwiseConv2d({ kernelSize: 3, useBias: false }), 288],
    ['depthwise_conv2d([3, 5], depth_multiplier = 3)', [9, 9, 4], tf.layers.depthwiseConv2d({ kernelSize: [3, 5], depthMultiplier: 3 }), 192],
    ['separable_conv2d(128, 3, bias = false)', [19, 19, 64], tf.layers.separableConv2d({ filters: 128, kernelSize: 3, useBias: false }), 8768],
    ['separable_conv2d(16, 3, depth_multiplier = 2)', [10, 10, 8], tf.layers.separableConv2d({ filters: 16, kernelSize: 3, depthMultiplier: 2 }), 416],
  ] as const)('%s on %j', (call, shape, layer, keras) => {
    const graph = modelOf(`input x: [${shape.join(', ')}]\noutput y = x -> ${call}`);
    layer.apply(tf.input({ shape: [...shape] }));
    expect(layer.countParams()).toBe(keras);
    expect(summarize(graph).totalParams).toBe(keras);
  });

  it('groups divide the kernel: 3 * 3 * (32 / 4) * 64 + 64', () => {
    const graph = modelOf('input x: [16, 16, 32]\noutput y = x -> conv2d(64, 3, groups = 4)');
    expect(summarize(graph).totalParams).toBe(3 * 3 * (32 / 4) * 64 + 64);
  });
});

describe('optimizer', () => {
  it('fuses depthwise and separable convolutions with a following relu6, computing the same', () => {
    const graph = modelOf('input x: [8, 8, 16]\nh = x -> depthwise_conv2d(3, padding = same) -> relu6\noutput y = h -> separable_conv2d(8, 3) -> relu');
    const fused = optimize(graph).graph;
    expect(fused.nodes.map((n) => n.op)).toEqual(['input', 'fused_depthwise_conv2d', 'fused_separable_conv2d']);
    const weights = weightsFor(graph, 5);
    const x = randTensor([2, 8, 8, 16], rng);
    const plain = new Interpreter(graph, weights).run({ x }).outputs.y;
    expectClose(new Interpreter(fused, weights).run({ x }).outputs.y, plain);
  });
});

describe('TensorFlow.js modules', () => {
  // One directory per module: they are all model M, and imports are cached by path.
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeGenerated));

  // Groups (split/concat), depthwise with stride and dilation both above 1 (support.ts's helper), fused activations.
  const bodies = [
    'input x: [9, 8, 6]\noutput y = x -> conv2d(4, 3, stride = 2, dilation = 2, padding = same, groups = 2) -> relu',
    'input x: [9, 8, 6]\noutput y = x -> conv2d(12, 3, groups = 6, bias = false)',
    'input x: [10, 6]\noutput y = x -> conv1d(4, 3, stride = 2, groups = 2)',
    'input x: [11, 10, 5]\noutput y = x -> depthwise_conv2d(3, stride = 2, dilation = 2, padding = same, depth_multiplier = 2) -> relu6',
    'input x: [11, 10, 5]\noutput y = x -> separable_conv2d(3, 3, stride = [2, 1], padding = same) -> relu',
  ];
  it.each(bodies)('%s', async (body) => {
    const graph = optimize(modelOf(body)).graph;
    const dir = generatedDir();
    dirs.push(dir);
    const [file] = await emitModules(dir, [{ graph, sourcePath: 'depthwise.dl' }]);
    const mod = await loadModule(file);
    const weights = weightsFor(graph, 9);
    const shape = [2, ...(graph.inputs[0].type.shape.slice(1) as number[])];
    const x: Tensor = randTensor(shape, rng);
    const expected = new Interpreter(graph, weights).run({ x }).outputs.y;
    const w = Object.fromEntries([...weights].map(([name, t]) => [name, toTf(t)]));
    const inputs = { x: toTf(x) };
    const outputs = mod.predict(w, inputs);
    expectClose(fromTf(outputs.y), expected);
    tf.dispose([w, inputs, outputs]);
  });
});
