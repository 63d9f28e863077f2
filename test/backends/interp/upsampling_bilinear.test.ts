/**
 * upsampling(interpolation = bilinear) against TensorFlow 2's convention,
 * which Keras's UpSampling2D(interpolation='bilinear') uses through
 * tf.image.resize: resize_bilinear with half_pixel_centers=True (TensorFlow's
 * image_ops_impl.resize_images_v2). tf.layers.upSampling2d is not a reference:
 * it calls resizeBilinear with TF1's defaults (no half-pixel centres), and
 * tfjs's resizeBilinear gradient ignores halfPixelCenters. So:
 *   - a worked example ([[1, 2], [3, 4]] doubled, as TF2 and PyTorch's
 *     align_corners=False print it);
 *   - the forward of tf.image.resizeBilinear(x, size, false, true), to 1e-5;
 *   - gradients against tf.grads of the same resize written as two matrix
 *     products, each axis's matrix read off resizeBilinear applied to one-hot
 *     images (so tfjs's forward defines the weights), and central differences.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { createRng } from '../../../src/runtime/random.js';
import { compileText } from '../../helpers.js';
import { checkGradients } from './grad/harness.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

const upsample = (x: { shape: number[]; data: Float32Array }, call: string) => {
  const graph = compileText(`model M {\n  input x: [${x.shape.slice(1).join(', ')}]\n  output y = x -> ${call}\n}\n`);
  return new Interpreter(graph, new Map()).run({ x }).outputs.y;
};

/** [n * size, n]: column i is resizeBilinear (half-pixel) of the one-hot image at i, along one axis. */
function axisMatrix(n: number, size: number): tf.Tensor2D {
  const oneHot = tf.eye(n).reshape([n, n, 1, 1]) as tf.Tensor4D;
  return tf.image.resizeBilinear(oneHot, [n * size, 1], false, true).reshape([n, n * size]).transpose() as tf.Tensor2D;
}

/** x [B,H,W,C] resized as Mh x Mw^T per example and channel, in differentiable tf ops. */
function viaMatrices(x: tf.Tensor, size: [number, number]): tf.Tensor {
  const [B, H, W, C] = x.shape;
  const [OH, OW] = [H * size[0], W * size[1]];
  const rows = tf.matMul(axisMatrix(H, size[0]), x.transpose([1, 0, 2, 3]).reshape([H, B * W * C]));
  const tall = rows.reshape([OH, B, W, C]).transpose([2, 1, 0, 3]).reshape([W, B * OH * C]);
  return tf.matMul(axisMatrix(W, size[1]), tall).reshape([OW, B, OH, C]).transpose([1, 2, 0, 3]);
}

describe('upsampling, bilinear', () => {
  it('[[1, 2], [3, 4]] doubled is the half-pixel interpolation TensorFlow 2 and PyTorch print', () => {
    const y = upsample({ shape: [1, 2, 2, 1], data: Float32Array.from([1, 2, 3, 4]) }, 'upsampling(2, interpolation = bilinear)');
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(y.data)).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });

  it.each([
    [[3, 4, 2], [2, 2]],
    [[5, 3, 3], [2, 3]],
    [[4, 1, 2], [3, 1]],
    [[1, 5, 1], [1, 4]],
    [[2, 2, 4], [5, 2]],
  ])('%j by %j, as tf.image.resizeBilinear with half-pixel centres', (shape, size) => {
    const x = randTensor([2, ...shape], createRng(11));
    const y = upsample(x, `upsampling(${JSON.stringify(size)}, interpolation = bilinear)`);
    const expected = tf.image.resizeBilinear(toTf(x) as tf.Tensor4D, [shape[0] * size[0], shape[1] * size[1]], false, true);
    expect(y.shape).toEqual(expected.shape);
    expectClose(y, expected);
    expectClose(y, viaMatrices(toTf(x), size as [number, number]));
  });

  it.each([
    ['[3, 4, 2]', [2, 2]],
    ['[4, 3, 3]', [3, 2]],
    ['[2, 5, 1]', [1, 3]],
  ])('%s by %j: gradient against tf.grads of the matrix form, and central differences', (shape, size) => {
    checkGradients({ body: `input x: ${shape}\noutput y = x -> upsampling(${JSON.stringify(size)}, interpolation = bilinear)`, reference: (i) => viaMatrices(i.x, size as [number, number]) });
  });

  it('nearest stays the default, as in Keras', () => {
    const x = randTensor([2, 3, 2, 2], createRng(2));
    expectClose(upsample(x, 'upsampling(2)'), upsample(x, 'upsampling(2, interpolation = nearest)'));
    expectClose(upsample(x, 'upsampling(2)'), tf.layers.upSampling2d({ size: [2, 2] }).apply(toTf(x)) as tf.Tensor);
  });
});
