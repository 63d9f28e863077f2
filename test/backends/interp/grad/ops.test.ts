/**
 * Every op's backward (autodiff.ts's BACKWARD) on a one- or two-layer model,
 * w.r.t. every float input and every weight, against TensorFlow.js's
 * gradients of the same computation and against central differences (see
 * harness.ts). Recurrent layers and attention have their own files.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backprop } from '../../../../src/backends/interp/autodiff.js';
import { dropout, sinusoidalTable } from '../../../../src/backends/interp/kernels/index.js';
import { kernelBackend, setKernelBackend } from '../../../../src/backends/interp/wasm/index.js';
import { createRng } from '../../../../src/runtime/random.js';
import { expectClose, toTf, useTfCpu } from '../helpers.js';
import { checkGradients, modelOf, randomIds, tfConv1d, tfConv2d, tfDense } from './harness.js';
import { tfAvgPool } from './references.js';

beforeAll(useTfCpu);

type Act = 'relu' | 'sigmoid' | 'tanh';
const tfAct = (act: Act | 'softmax', x: tf.Tensor) => ({ relu: tf.relu, sigmoid: tf.sigmoid, tanh: tf.tanh, softmax: tf.softmax })[act](x);

describe('dense', () => {
  it('x W + b on [features]', () => {
    checkGradients({ body: 'input x: [5]\noutput y = x -> dense(4)', batch: 3, reference: (i, w) => tfDense(i.x, w['dense.kernel'], w['dense.bias']) });
  });
  it('on [steps, features] (leading dims), without bias', () => {
    checkGradients({ body: 'input x: [3, 5]\noutput y = x -> dense(4, bias = false)', reference: (i, w) => tfDense(i.x, w['dense.kernel']) });
  });
  it.each(['relu', 'sigmoid', 'tanh'] as const)('fused_dense with %s: the activation, then the layer', (act) => {
    checkGradients({
      body: `input x: [6]\nh = x -> dense(5)\noutput y = h -> dense(4) -> ${act}`,
      optimized: ['fused_dense'],
      batch: 3,
      reference: (i, w) => tfAct(act, tfDense(tfDense(i.x, w['dense.kernel'], w['dense.bias']), w['dense_1.kernel'], w['dense_1.bias'])),
    });
  });
});

type Pair = [number, number];
const conv2dCases: { x: number[]; f: number; k: number | Pair; stride?: number | Pair; padding: 'valid' | 'same'; dilation?: number }[] = [
  { x: [7, 7, 2], f: 3, k: 3, padding: 'valid' },
  { x: [7, 6, 2], f: 2, k: [3, 2], stride: 2, padding: 'same' },
  { x: [8, 7, 3], f: 2, k: 3, stride: [2, 1], padding: 'same' },
  { x: [6, 5, 2], f: 2, k: 4, stride: 3, padding: 'same' },
  { x: [9, 9, 2], f: 2, k: 3, dilation: 2, padding: 'same' },
  { x: [9, 8, 1], f: 3, k: 2, dilation: 2, padding: 'valid' },
  { x: [5, 5, 3], f: 4, k: 1, padding: 'valid' },
  { x: [5, 6, 3], f: 2, k: 1, stride: 2, padding: 'same' },
  { x: [9, 9, 2], f: 2, k: 3, stride: 2, dilation: 2, padding: 'same' },
  // Big enough for Winograd's form (forward and input gradient): 16 channels, 72 tiles of 2x2 outputs.
  { x: [12, 12, 16], f: 16, k: 3, padding: 'same' },
  { x: [13, 11, 16], f: 20, k: 3, padding: 'valid' },
  // And for the kernel gradient's (288 tiles at batch 2).
  { x: [24, 24, 16], f: 16, k: 3, padding: 'same' },
];
const list = (v: number | Pair) => (typeof v === 'number' ? `${v}` : `[${v.join(', ')}]`);

describe('conv2d', () => {
  it.each(conv2dCases)('$x, $f filters, kernel $k, stride $stride, $padding, dilation $dilation', (c) => {
    const stride = c.stride ?? 1;
    const dilation = c.dilation ?? 1;
    checkGradients({
      body: `input x: [${c.x.join(', ')}]\noutput y = x -> conv2d(${c.f}, kernel = ${list(c.k)}, stride = ${list(stride)}, padding = ${c.padding}, dilation = ${dilation})`,
      reference: (i, w) => tf.add(tfConv2d(i.x, w['conv2d.kernel'], stride, c.padding, dilation), w['conv2d.bias']),
      // The Interpreter reads a kernel size list ([3, 2]) as fixed weights and fails; autodiff does not.
      numeric: typeof c.k === 'number',
    });
  });

  it('fused_conv2d with relu', () => {
    checkGradients({
      body: 'input x: [6, 6, 2]\noutput y = x -> conv2d(3, kernel = 3, padding = same) -> relu',
      optimized: ['fused_conv2d'],
      reference: (i, w) => tf.relu(tf.add(tf.conv2d(i.x as tf.Tensor4D, w['conv2d.kernel'] as tf.Tensor4D, 1, 'same'), w['conv2d.bias'])),
    });
  });

  const fixed = [[1, -2, 0.5], [0, 3, -1], [2, 1, -0.5]];
  const preamble = `const k = [${fixed.map((r) => `[${r.join(', ')}]`).join(', ')}]`;
  const fixedKernel = () => tf.tensor4d(fixed.flat(), [3, 3, 1, 1]);
  it('a fixed kernel from the source: input gradient only, no weight', () => {
    const { grads, inputGrads } = checkGradients({
      preamble,
      body: 'input x: [6, 5, 1]\noutput y = x -> conv2d(kernel = k, padding = same)',
      reference: (i) => tf.conv2d(i.x as tf.Tensor4D, fixedKernel(), 1, 'same'),
    });
    expect(grads.size).toBe(0);
    expect(inputGrads.x.shape).toEqual([2, 6, 5, 1]);
  });
  it('a fixed kernel with a learned bias, after a trainable layer', () => {
    const { grads } = checkGradients({
      preamble,
      body: 'input x: [6, 5, 2]\noutput y = x -> conv2d(1, kernel = 1) -> conv2d(kernel = k, stride = 2, bias = true)',
      reference: (i, w) => {
        const h = tf.add(tf.conv2d(i.x as tf.Tensor4D, w['conv2d.kernel'] as tf.Tensor4D, 1, 'valid'), w['conv2d.bias']);
        return tf.add(tf.conv2d(h as tf.Tensor4D, fixedKernel(), 2, 'valid'), w['conv2d_1.bias']);
      },
    });
    expect([...grads.keys()].sort()).toEqual(['conv2d.bias', 'conv2d.kernel', 'conv2d_1.bias']);
  });
});

describe('conv1d', () => {
  it.each([
    { x: [9, 2], f: 3, k: 3, stride: 1, padding: 'valid' as const, dilation: 1 },
    { x: [10, 3], f: 2, k: 3, stride: 2, padding: 'same' as const, dilation: 1 },
    { x: [11, 2], f: 2, k: 3, stride: 1, padding: 'same' as const, dilation: 2 },
    { x: [7, 2], f: 2, k: 4, stride: 3, padding: 'same' as const, dilation: 1 },
    { x: [8, 2], f: 3, k: 2, stride: 1, padding: 'valid' as const, dilation: 3 },
  ])('$x, $f filters, kernel $k, stride $stride, $padding, dilation $dilation', (c) => {
    checkGradients({
      body: `input x: [${c.x.join(', ')}]\noutput y = x -> conv1d(${c.f}, kernel = ${c.k}, stride = ${c.stride}, padding = ${c.padding}, dilation = ${c.dilation})`,
      reference: (i, w) => tf.add(tfConv1d(i.x, w['conv1d.kernel'], c.stride, c.padding, c.dilation), w['conv1d.bias']),
    });
  });

  it('fused_conv1d with tanh', () => {
    checkGradients({
      body: 'input x: [7, 2]\noutput y = x -> conv1d(3, kernel = 3, stride = 2, padding = same) -> tanh',
      optimized: ['fused_conv1d'],
      reference: (i, w) => tf.tanh(tf.add(tf.conv1d(i.x as tf.Tensor3D, w['conv1d.kernel'] as tf.Tensor3D, 2, 'same'), w['conv1d.bias'])),
    });
  });
});

describe('pools', () => {
  const cases2d = [
    { x: [6, 6, 3], size: 2, stride: 2, padding: 'valid' as const },
    { x: [7, 5, 2], size: 2, stride: 2, padding: 'same' as const },
    { x: [7, 9, 2], size: 3, stride: 2, padding: 'same' as const },
    { x: [7, 6, 2], size: 3, stride: 1, padding: 'same' as const },
    { x: [9, 8, 2], size: 3, stride: 2, padding: 'valid' as const },
    { x: [5, 5, 1], size: 4, stride: 3, padding: 'same' as const },
  ];
  for (const kind of ['max', 'avg'] as const) {
    const tfPool = kind === 'max' ? tf.maxPool : tfAvgPool;
    it.each(cases2d)(`${kind}pool 2-D: $x, size $size, stride $stride, $padding`, (c) => {
      checkGradients({
        body: `input x: [${c.x.join(', ')}]\noutput y = x -> ${kind}pool(${c.size}, stride = ${c.stride}, padding = ${c.padding})`,
        reference: (i) => tfPool(i.x as tf.Tensor4D, c.size, c.stride, c.padding),
        distinct: true,
      });
    });
    it.each([
      { x: [8, 3], size: 2, stride: 2, padding: 'valid' as const },
      { x: [9, 2], size: 3, stride: 2, padding: 'same' as const },
      { x: [10, 2], size: 3, stride: 1, padding: 'same' as const },
    ])(`${kind}pool 1-D: $x, size $size, stride $stride, $padding`, (c) => {
      checkGradients({
        body: `input x: [${c.x.join(', ')}]\noutput y = x -> ${kind}pool(${c.size}, stride = ${c.stride}, padding = ${c.padding})`,
        distinct: true,
        reference: (i) => {
          const [B, L, C] = i.x.shape;
          const y = tfPool(i.x.reshape([B, 1, L, C]) as tf.Tensor4D, [1, c.size], [1, c.stride], c.padding);
          return y.reshape([B, y.shape[2], C]);
        },
      });
    });
  }

  it('maxpool ties go to the first max in the window, as in tfjs', () => {
    // Whole numbers in {0, 1, 2}: most windows hold a tie for the max.
    const rng = createRng(5);
    const x = { shape: [2, 5, 7, 2], data: Float32Array.from({ length: 140 }, () => Math.floor(rng.uniform() * 3)) };
    for (const [size, stride, padding] of [[2, 2, 'valid'], [3, 1, 'same'], [3, 2, 'same']] as const) {
      const graph = modelOf(`input x: [5, 7, 2]\noutput y = x -> maxpool(${size}, stride = ${stride}, padding = ${padding})`);
      const dy = { shape: [2, ...(graph.outputs[0].node.type.shape.slice(1) as number[])], data: new Float32Array(0) };
      dy.data = Float32Array.from({ length: dy.shape.reduce((a, b) => a * b, 1) }, () => rng.uniform());
      const ours = backprop(graph, new Map(), { x }, { outputGrads: { y: dy }, inputGrads: true }).inputGrads.x;
      const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, padding), toTf(dy))))(toTf(x));
      // Exact but for float32 rounding where overlapping windows add up in a different order.
      expectClose(ours, theirs, 1e-6);
    }
  });

  // The pool applies the relu's backward itself (autodiff.ts's reluPools): a window whose cells relu made 0
  // passes nothing on. Half of x is negative, so many windows hold only zeros, on both kernel backends.
  it.each(['js', 'auto'] as const)('a max pool after a relu (its only reader) applies the relu\'s backward: %s kernels', (backend) => {
    const { choice } = kernelBackend();
    setKernelBackend(backend);
    try {
      const rng = createRng(7);
      for (const [size, stride, padding] of [[2, 2, 'valid'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
        const graph = modelOf(`input x: [6, 8, 5]\noutput y = x -> relu -> maxpool(${size}, stride = ${stride}, padding = ${padding})`);
        const x = { shape: [3, 6, 8, 5], data: Float32Array.from({ length: 720 }, () => 2 * rng.uniform() - 1) };
        const dy = { shape: [3, ...(graph.outputs[0].node.type.shape.slice(1) as number[])], data: new Float32Array(0) };
        dy.data = Float32Array.from({ length: dy.shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.uniform() - 1);
        const ours = backprop(graph, new Map(), { x }, { outputGrads: { y: dy }, inputGrads: true }).inputGrads.x;
        const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.relu(t) as tf.Tensor4D, size, stride, padding), toTf(dy))))(toTf(x));
        // Each cell gets 0 or a sum of dy: exact where windows do not overlap.
        expectClose(ours, theirs, stride === size ? 0 : 1e-6);
      }
      // A conv layer's relu (fused by the training pipeline), 2-D and 1-D.
      checkGradients({
        body: 'input x: [6, 6, 3]\noutput y = x -> conv2d(4, kernel = 3, padding = same) -> relu -> maxpool(2)',
        optimized: ['fused_conv2d'],
        reference: (i, w) => tf.maxPool(tf.relu(tf.add(tfConv2d(i.x, w['conv2d.kernel'], 1, 'same'), w['conv2d.bias'])) as tf.Tensor4D, 2, 2, 'valid'),
      });
      checkGradients({
        body: 'input x: [9, 3]\noutput y = x -> conv1d(4, kernel = 3) -> relu -> maxpool(2)',
        optimized: ['fused_conv1d'],
        reference: (i, w) => {
          const z = tf.relu(tf.add(tfConv1d(i.x, w['conv1d.kernel'], 1, 'valid'), w['conv1d.bias']));
          const [B, L, C] = z.shape;
          const y = tf.maxPool(z.reshape([B, 1, L, C]) as tf.Tensor4D, [1, 2], [1, 2], 'valid');
          return y.reshape([B, y.shape[2], C]);
        },
      });
      // A relu also read by another node keeps its own backward.
      checkGradients({
        body: 'input x: [6, 6, 2]\nr = x -> relu\np = r -> maxpool(2, stride = 1, padding = same)\noutput y = add(p, r)',
        distinct: true,
        reference: (i) => {
          const r = tf.relu(i.x);
          return tf.add(tf.maxPool(r as tf.Tensor4D, 2, 1, 'same'), r);
        },
      });
    } finally {
      setKernelBackend(choice);
    }
  });

  it('global max and average pools, 1-D and 2-D', () => {
    checkGradients({ body: 'input x: [5, 4, 3]\noutput y = x -> global_maxpool', distinct: true, reference: (i) => tf.max(i.x, [1, 2]) });
    checkGradients({ body: 'input x: [5, 4, 3]\noutput y = x -> global_avgpool', reference: (i) => tf.mean(i.x, [1, 2]) });
    checkGradients({ body: 'input x: [6, 3]\noutput y = x -> global_maxpool', distinct: true, reference: (i) => tf.max(i.x, 1) });
    checkGradients({ body: 'input x: [6, 3]\noutput y = x -> global_avgpool', reference: (i) => tf.mean(i.x, 1) });
  });
});

describe('activations', () => {
  it.each(['relu', 'sigmoid', 'tanh', 'softmax'] as const)('%s', (act) => {
    // Behind a dense layer, so the weight gradient passes through the activation too.
    checkGradients({
      body: `input x: [3, 6]\noutput y = x -> dense(5) -> ${act}`,
      reference: (i, w) => tfAct(act, tfDense(i.x, w['dense.kernel'], w['dense.bias'])),
      // relu's kink: a smaller step is less likely to cross it.
      eps: act === 'relu' ? 1e-4 : undefined,
    });
  });
});

describe('dropout, flatten, reshape', () => {
  it('dropout: the forward mask again, from the same seeded stream', () => {
    const seed = 4;
    // The mask the kernel draws for node "dropout": dropout of ones.
    const mask = dropout({ shape: [3, 4, 5], data: new Float32Array(60).fill(1) }, 0.4, createRng(seed).child('dropout'));
    expect(mask.data.some((m) => m === 0) && mask.data.some((m) => m !== 0)).toBe(true);
    checkGradients({
      body: 'input x: [4, 6]\noutput y = x -> dense(5) -> dropout(0.4)',
      seed,
      batch: 3,
      reference: (i, w) => tf.mul(tfDense(i.x, w['dense.kernel'], w['dense.bias']), toTf(mask)),
    });
  });

  it('flatten and reshape keep the numbers', () => {
    checkGradients({
      body: 'input x: [2, 3, 2]\noutput y = x -> flatten -> dense(3)',
      reference: (i, w) => tfDense(i.x.reshape([-1, 12]), w['dense.kernel'], w['dense.bias']),
    });
    checkGradients({
      body: 'input x: [12]\noutput y = x -> reshape([3, 4]) -> dense(2)',
      reference: (i, w) => tfDense(i.x.reshape([-1, 3, 4]), w['dense.kernel'], w['dense.bias']),
    });
  });
});

describe('add and concat', () => {
  it('add: every input gets dy; a value read twice sums its two gradients', () => {
    checkGradients({
      body: 'input a: [4]\ninput b: [4]\noutput y = add(a, b, a -> dense(4)) -> tanh',
      reference: (i, w) => tf.tanh(tf.addN([i.a, i.b, tfDense(i.a, w['dense.kernel'], w['dense.bias'])])),
    });
  });

  it('add with a constant repeated over the batch (sinusoidal positions, folded): the constant takes no gradient', () => {
    const table = toTf(sinusoidalTable(5, 4));
    const { graph } = checkGradients({
      body: 'input x: [5, 3]\noutput y = x -> dense(4) -> positional(kind = sinusoidal)',
      optimized: ['add', 'constant'],
      batch: 3,
      reference: (i, w) => tf.add(tfDense(i.x, w['dense.kernel'], w['dense.bias']), table),
    });
    expect(graph.nodes.map((n) => n.op)).not.toContain('positional');
  });

  it('concat on the last axis and on the steps axis', () => {
    checkGradients({
      body: 'input a: [3, 2]\ninput b: [3, 4]\noutput y = concat(a, b, a)',
      reference: (i) => tf.concat([i.a, i.b, i.a], -1),
    });
    checkGradients({
      body: 'input a: [3, 2]\ninput b: [2, 2]\noutput y = concat(a, b, axis = 1)',
      reference: (i) => tf.concat([i.a, i.b], 1),
    });
  });
});

describe('embedding, positional, layernorm', () => {
  it('embedding: repeated ids add into the same table row; the ids get no gradient', () => {
    const ids = { shape: [3, 5], data: Float32Array.from([0, 2, 2, 6, 1, 3, 3, 3, 0, 4, 6, 5, 2, 2, 1]) };
    const { grads } = checkGradients({
      body: 'input t: [5] int\noutput y = t -> embedding(vocab = 7, dim = 3) -> dense(2)',
      inputs: { t: ids },
      batch: 3,
      reference: (i, w) => tfDense(tf.gather(w['embedding.embeddings'], i.t), w['dense.kernel'], w['dense.bias']),
    });
    expect(grads.get('embedding.embeddings')!.shape).toEqual([7, 3]);
  });

  it('embedding of random ids', () => {
    checkGradients({
      body: 'input t: [6] int\noutput y = t -> embedding(vocab = 11, dim = 4)',
      inputs: { t: randomIds([4, 6], 11, createRng(3)) },
      batch: 4,
      reference: (i, w) => tf.gather(w['embedding.embeddings'], i.t),
    });
  });

  it('learned positions: the table gradient is the batch sum', () => {
    checkGradients({
      body: 'input x: [4, 3]\noutput y = x -> positional(kind = learned)',
      batch: 3,
      reference: (i, w) => tf.add(i.x, w['positional.embeddings']),
    });
  });

  it('sinusoidal positions, unfolded: a pass-through', () => {
    checkGradients({
      body: 'input x: [6, 4]\noutput y = x -> positional(kind = sinusoidal)',
      reference: (i) => tf.add(i.x, toTf(sinusoidalTable(6, 4))),
    });
  });

  it.each([{ d: 5, eps: 1e-3 }, { d: 8, eps: 1e-5 }])('layernorm over $d with epsilon $eps: gamma, beta and input', ({ d, eps }) => {
    checkGradients({
      body: `input x: [3, ${d}]\noutput y = x -> layernorm(epsilon = ${eps})`,
      reference: (i, w) => {
        const { mean, variance } = tf.moments(i.x, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(i.x, mean), tf.sqrt(tf.add(variance, eps))), w['layernorm.gamma']), w['layernorm.beta']);
      },
    });
  });

  it('layernorm matches tf.layers.layerNormalization', () => {
    checkGradients({
      body: 'input x: [2, 6]\noutput y = x -> layernorm',
      reference: (i, w) => {
        const layer = tf.layers.layerNormalization({ epsilon: 1e-3, gammaInitializer: 'ones', betaInitializer: 'zeros' });
        layer.build(i.x.shape);
        // Through tf ops on our gamma and beta, so tf.grads reaches them; the layer checks the formula.
        const y = layer.apply(i.x) as tf.Tensor;
        return tf.add(tf.mul(y, w['layernorm.gamma']), w['layernorm.beta']);
      },
    });
  });
});
