/**
 * conv2d_transpose and conv1d_transpose against independent references:
 *   - tf.layers.conv2dTranspose holding the same weights (valid and same,
 *     strides 1 to 3, kernels 2 to 4: every split of the padding), to 1e-5;
 *   - for what tfjs-layers lacks (output_padding, dilation, 1-D), a scatter
 *     written out here, whose output length and padding come from Keras's
 *     JAX backend (keras/src/backend/common/backend_utils.py,
 *     _convert_conv_tranpose_padding_args_from_keras_to_jax), not from
 *     Keras's deconv_output_length that the shape rule implements;
 *   - gradients against tf.grads of tf.conv2dTranspose, and central
 *     differences (harness.ts);
 *   - parameter counts against tf.layers's countParams.
 * test/ops/contracts.test.ts checks the emitted tfjs module, the WebAssembly
 * kernels and the diagram; test/cases holds the sizes and errors as Keras states them.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { paramsOf } from '../../../src/ir/infer.js';
import { checkGradients, modelOf, weightsFor } from './grad/harness.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';
import { createRng } from '../../../src/runtime/random.js';

beforeAll(useTfCpu);

/** A one-layer model `x -> call` on random inputs (batch 2) and seeded weights. */
function run(shape: number[], call: string) {
  const graph = modelOf(`input x: [${shape.join(', ')}]\noutput y = x -> ${call}`);
  const weights = weightsFor(graph, 5);
  const x = randTensor([2, ...shape], createRng(7));
  const y = new Interpreter(graph, weights).run({ x }).outputs.y;
  const layer = graph.nodes.find((n) => n.op.endsWith('_transpose'))!.name;
  return { x, y, kernel: weights.get(`${layer}.kernel`)!, bias: weights.get(`${layer}.bias`) };
}

/** Keras's JAX backend: the padding of the stride-dilated input, (left, right), per axis. */
function jaxPadding(k: number, stride: number, dilation: number, padding: 'valid' | 'same', outputPadding?: number): [number, number] {
  const e = (k - 1) * dilation + 1;
  if (padding === 'valid') {
    const op = outputPadding ?? Math.max(e, stride) - e;
    return [e - 1, e - 1 + op];
  }
  const padLen = outputPadding === undefined ? stride + e - 2 : e + (e % 2) - 2 + outputPadding;
  const left = Math.min(Math.floor(padLen / 2) + (padLen % 2), e - 1);
  return [left, padLen - left];
}

interface Axis {
  k: number;
  stride: number;
  dilation: number;
  padding: 'valid' | 'same';
  outputPadding?: number;
}

/**
 * The transposed convolution as a scatter, x [B,H,W,C], kernel [kh,kw,F,C]:
 * input cell i with tap t lands on i*s + t*d - (e - 1 - left) (the JAX
 * backend's conv of the stride-dilated, padded input with the flipped
 * kernel, rewritten as a scatter); the output has (L - 1)*s + 1 + left + right - e + 1 cells.
 */
function scatter(x: Tensor, kernel: Tensor, bias: Tensor | undefined, [ah, aw]: [Axis, Axis]): { shape: number[]; data: Float64Array } {
  const [B, H, W, C] = x.shape;
  const F = kernel.shape[2];
  const geometry = (a: Axis, L: number) => {
    const e = (a.k - 1) * a.dilation + 1;
    const [left, right] = jaxPadding(a.k, a.stride, a.dilation, a.padding, a.outputPadding);
    return { out: (L - 1) * a.stride + 1 + left + right - e + 1, shift: e - 1 - left };
  };
  const gh = geometry(ah, H), gw = geometry(aw, W);
  const y = new Float64Array(B * gh.out * gw.out * F);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let ty = 0; ty < ah.k; ty++)
          for (let tx = 0; tx < aw.k; tx++) {
            const oy = i * ah.stride + ty * ah.dilation - gh.shift;
            const ox = j * aw.stride + tx * aw.dilation - gw.shift;
            if (oy < 0 || oy >= gh.out || ox < 0 || ox >= gw.out) continue;
            for (let f = 0; f < F; f++)
              for (let c = 0; c < C; c++)
                y[((b * gh.out + oy) * gw.out + ox) * F + f] += x.data[((b * H + i) * W + j) * C + c] * kernel.data[((ty * aw.k + tx) * F + f) * C + c];
          }
  if (bias) for (let p = 0; p < y.length; p++) y[p] += bias.data[p % F];
  return { shape: [B, gh.out, gw.out, F], data: y };
}

const asTensor = (r: { shape: number[]; data: Float64Array }): Tensor => ({ shape: r.shape, data: Float32Array.from(r.data) });

describe('conv2d_transpose forward, as tf.layers.conv2dTranspose', () => {
  const cases = (['valid', 'same'] as const).flatMap((padding) => [1, 2, 3].flatMap((stride) => [2, 3, 4].map((k) => ({ padding, stride, k }))));
  it.each(cases)('$padding, stride $stride, kernel $k', ({ padding, stride, k }) => {
    const { x, y, kernel, bias } = run([5, 4, 3], `conv2d_transpose(2, ${k}, stride = ${stride}, padding = ${padding})`);
    const layer = tf.layers.conv2dTranspose({ filters: 2, kernelSize: k, strides: stride, padding });
    const xt = toTf(x);
    layer.apply(xt);
    layer.setWeights([toTf(kernel), toTf(bias!)]);
    const expected = layer.apply(xt) as tf.Tensor;
    expect(y.shape).toEqual(expected.shape);
    expectClose(y, expected);
  });

  it('unequal kernel and strides per axis, without bias, with relu', () => {
    const { x, y, kernel } = run([4, 5, 2], 'conv2d_transpose(3, [2, 3], stride = [3, 2], padding = same, bias = false, activation = relu)');
    const layer = tf.layers.conv2dTranspose({ filters: 3, kernelSize: [2, 3], strides: [3, 2], padding: 'same', useBias: false, activation: 'relu' });
    const xt = toTf(x);
    layer.apply(xt);
    layer.setWeights([toTf(kernel)]);
    expectClose(y, layer.apply(xt) as tf.Tensor);
  });
});

describe('conv2d_transpose forward, as the written-out scatter', () => {
  const cases: { call: string; axes: [Axis, Axis] }[] = [
    // output_padding: Keras's sizes (L - 1) * s + e - 2 * pad + output_padding.
    { call: 'conv2d_transpose(2, 3, stride = 2, padding = same, output_padding = 1)', axes: [{ k: 3, stride: 2, dilation: 1, padding: 'same', outputPadding: 1 }, { k: 3, stride: 2, dilation: 1, padding: 'same', outputPadding: 1 }] },
    { call: 'conv2d_transpose(2, 4, stride = 3, padding = same, output_padding = [0, 2])', axes: [{ k: 4, stride: 3, dilation: 1, padding: 'same', outputPadding: 0 }, { k: 4, stride: 3, dilation: 1, padding: 'same', outputPadding: 2 }] },
    { call: 'conv2d_transpose(2, 2, stride = 3, output_padding = 1)', axes: [{ k: 2, stride: 3, dilation: 1, padding: 'valid', outputPadding: 1 }, { k: 2, stride: 3, dilation: 1, padding: 'valid', outputPadding: 1 }] },
    // An even kernel, same, output_padding 0: one cell fewer than the stride's multiple (TensorFlow itself refuses this shape).
    { call: 'conv2d_transpose(2, 4, stride = 2, padding = same, output_padding = 0)', axes: [{ k: 4, stride: 2, dilation: 1, padding: 'same', outputPadding: 0 }, { k: 4, stride: 2, dilation: 1, padding: 'same', outputPadding: 0 }] },
    // Dilation, with and without stride.
    { call: 'conv2d_transpose(2, 3, dilation = 2, padding = same)', axes: [{ k: 3, stride: 1, dilation: 2, padding: 'same' }, { k: 3, stride: 1, dilation: 2, padding: 'same' }] },
    { call: 'conv2d_transpose(2, [3, 2], stride = 2, dilation = [2, 3])', axes: [{ k: 3, stride: 2, dilation: 2, padding: 'valid' }, { k: 2, stride: 2, dilation: 3, padding: 'valid' }] },
    { call: 'conv2d_transpose(2, 2, stride = 2, dilation = 2, padding = same, output_padding = 1)', axes: [{ k: 2, stride: 2, dilation: 2, padding: 'same', outputPadding: 1 }, { k: 2, stride: 2, dilation: 2, padding: 'same', outputPadding: 1 }] },
  ];
  it.each(cases)('$call', ({ call, axes }) => {
    const { x, y, kernel, bias } = run([4, 5, 3], call);
    const expected = scatter(x, kernel, bias, axes);
    expect(y.shape).toEqual(expected.shape);
    expectClose(y, asTensor(expected));
  });
});

describe('conv1d_transpose', () => {
  it.each([
    ['conv1d_transpose(3, 5, stride = 3)', { k: 5, stride: 3, dilation: 1, padding: 'valid' }],
    ['conv1d_transpose(3, 2, stride = 3)', { k: 2, stride: 3, dilation: 1, padding: 'valid' }],
    ['conv1d_transpose(3, 4, stride = 2, padding = same)', { k: 4, stride: 2, dilation: 1, padding: 'same' }],
    ['conv1d_transpose(3, 3, stride = 2, padding = same, output_padding = 1, dilation = 2)', { k: 3, stride: 2, dilation: 2, padding: 'same', outputPadding: 1 }],
  ] as [string, Axis][])('%s, as the scatter over a height-1 image', (call, axis) => {
    const { x, y, kernel, bias } = run([6, 2], call);
    const [B, L, C] = x.shape;
    const expected = scatter({ shape: [B, 1, L, C], data: x.data }, { shape: [1, ...kernel.shape], data: kernel.data }, bias, [{ k: 1, stride: 1, dilation: 1, padding: 'valid' }, axis]);
    expect(y.shape).toEqual([B, expected.shape[2], expected.shape[3]]);
    expectClose(y, asTensor({ shape: y.shape, data: expected.data }));
  });
});

describe('gradients', () => {
  /** tf.conv2dTranspose with tfjs's own padding, which matches Keras's whenever output_padding is not given. */
  const reference = (padding: 'valid' | 'same', stride: number, filters: number, name = 'conv2d_transpose') => (i: Record<string, tf.Tensor>, w: Record<string, tf.Tensor>) => {
    const [B, H, W] = i.x.shape;
    const k = w[`${name}.kernel`].shape[0];
    const out = (L: number) => (padding === 'valid' ? L * stride + Math.max(k - stride, 0) : L * stride);
    const y = tf.conv2dTranspose(i.x as tf.Tensor4D, w[`${name}.kernel`] as tf.Tensor4D, [B, out(H), out(W), filters], stride, padding);
    return tf.add(y, w[`${name}.bias`]);
  };
  it.each([
    ['valid', 2, 3],
    ['same', 2, 4],
    ['same', 3, 2],
    ['valid', 1, 3],
  ] as const)('%s, stride %i, kernel %i: against tf.grads of tf.conv2dTranspose', (padding, stride, k) => {
    checkGradients({ body: `input x: [4, 3, 2]\noutput y = x -> conv2d_transpose(3, ${k}, stride = ${stride}, padding = ${padding})`, reference: reference(padding, stride, 3) });
  });

  it.each([
    'conv2d_transpose(2, 3, stride = 2, padding = same, output_padding = 1, dilation = 2, activation = tanh)',
    'conv2d_transpose(2, 4, stride = 2, padding = same, output_padding = 0)',
    'conv1d_transpose(3, 3, stride = 2, dilation = 2, activation = sigmoid)',
  ])('%s: central differences', (call) => {
    checkGradients({ body: `input x: [${call.startsWith('conv1d') ? '5, 2' : '4, 3, 2'}]\noutput y = x -> ${call}` });
  });
});

it('parameters: Keras counts, as tf.layers.conv2dTranspose counts them', () => {
  const ours = (shape: number[], call: string) => {
    const graph = modelOf(`input x: [${shape.join(', ')}]\noutput y = x -> ${call}`);
    return graph.nodes.flatMap((n) => paramsOf(n)).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  };
  const theirs = (shape: number[], config: Parameters<typeof tf.layers.conv2dTranspose>[0]) => {
    const layer = tf.layers.conv2dTranspose(config);
    layer.apply(tf.input({ shape }));
    return layer.countParams();
  };
  // A U-Net up-step: Conv2DTranspose(64, 2, strides=2) on 128 channels.
  expect(ours([16, 16, 128], 'conv2d_transpose(64, 2, stride = 2)')).toBe(32_832);
  expect(theirs([16, 16, 128], { filters: 64, kernelSize: 2, strides: 2 })).toBe(32_832);
  expect(ours([9, 9, 7], 'conv2d_transpose(5, [3, 2], bias = false)')).toBe(theirs([9, 9, 7], { filters: 5, kernelSize: [3, 2], useBias: false }));
});
